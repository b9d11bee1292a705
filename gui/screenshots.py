"""`lora-studio --screenshots DIR`: one PNG per tab, in a realistic state, then exit.

It runs the demo (dataset, a short training run, predictions), opens the evaluation of
the run with a confusion cell selected, runs the data check of the demo dataset (the
review view, a few decisions made), turns the Prediction tab's heat maps on, sorts the
demo images as an unsorted folder and maps them (gui.screenshots_sorting), plays a clip of
the demo images in the live page (gui.screenshots_live), and grabs the window at each step.
Then the evaluation view alone at 1280x800 shows a synthetic 120-class report
(many_class_report), its worst confusion zoomed in; last, the Config tab's learning-rate
finder runs and its window is grabbed (gui.screenshots_lr_finder), and a small real sweep
fills the sweep dialog's table (gui.screenshots_sweep). Works offscreen (app.py selects
the offscreen platform when there is no display), so it is also how documentation images
and visual checks are made on a headless machine.
Beside the PNGs, texts.json lists every text each shot shows (gui.i18n.shown_texts), which
the translation tests read: run with LORA_STUDIO_LANG=zh_CN for the Chinese window.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.demo_flow import FAST_SETTINGS, DemoFlow

SHOT_SIZE = (1360, 860)
SETTLE_MS = 800  # lets thumbnails decoded in the background arrive before a grab
WATCHDOG_MS = 15 * 60 * 1000
NAMES = ("1-dataset", "2-config", "3-training", "4-prediction")
MANY_SIZE = (1280, 800)  # the 120-class evaluation shot


def many_class_report(folder: str | Path, classes: int = 120, per_class: int = 10,
                      seed: int = 7):
    """A synthetic evaluation Report of `classes` classes named like "Breed_Name_Number_007",
    `per_class` test images each, written into `folder` as small JPEGs in landscape, portrait
    and square shapes. Every ninth class has a look-alike it is often taken for; other
    mistakes are scattered. The evaluation view shows it exactly as it shows a real one."""
    import numpy as np
    from PIL import Image, ImageDraw

    from engine.use.evaluate import Report

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"Breed_Name_Number_{i:03d}" for i in range(classes)]
    lookalike = {t: (t + 1 + t % 5) % classes for t in range(0, classes, 9)}
    shapes = ((120, 80), (80, 120), (100, 100))  # landscape, portrait, square
    confusion = np.zeros((classes, classes), dtype=int)
    samples = []
    for t, name in enumerate(names):
        colour = tuple(int(c) for c in rng.integers(40, 220, 3))
        for k in range(per_class):
            if t in lookalike and k < 2 + (t // 9) % 4:  # 2 to 5 of its images
                p = lookalike[t]
            elif rng.random() < 0.1:
                p = int(rng.integers(classes))
            else:
                p = t
            w, h = shapes[k % 3]
            image = Image.new("RGB", (w, h), colour)
            ImageDraw.Draw(image).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4),
                                          fill=tuple(255 - c for c in colour))
            path = folder / f"{name}_{k:02d}.jpg"
            image.save(path, quality=85)
            low, high = (0.55, 0.99) if p == t else (0.3, 0.8)
            samples.append({"path": str(path), "true": name, "predicted": names[p],
                            "confidence": round(float(rng.uniform(low, high)), 3)})
            confusion[t, p] += 1
    right = np.diag(confusion).astype(float)
    precision = right / np.maximum(confusion.sum(axis=0), 1)
    recall = right / np.maximum(confusion.sum(axis=1), 1)
    f1 = np.divide(2 * precision * recall, precision + recall,
                   out=np.zeros_like(right), where=precision + recall > 0)
    per_class_rows = [{"name": n, "folder": n, "precision": float(precision[i]),
                       "recall": float(recall[i]), "f1": float(f1[i]),
                       "support": int(confusion[i].sum())} for i, n in enumerate(names)]
    errors = sorted((s for s in samples if s["true"] != s["predicted"]),
                    key=lambda s: -s["confidence"])
    return Report(accuracy=float(right.sum() / confusion.sum()), top5_accuracy=None,
                  per_class=per_class_rows, confusion=confusion.tolist(), class_names=names,
                  errors=errors, report_dir="", samples=samples, macro_f1=float(f1.mean()),
                  run_name=f"{classes} synthetic classes")


def worst_cell(confusion: list[list[int]]) -> tuple[int, int]:
    """The off-diagonal cell with the most images (the most telling mistake), else (0, 0)."""
    best, cell = 0, (0, 0)
    for t, row in enumerate(confusion):
        for p, count in enumerate(row):
            if t != p and count > best:
                best, cell = count, (t, p)
    return cell


class ScreenshotSession:
    def __init__(self, window, out_dir: str) -> None:
        self.window = window
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.app = QApplication.instance()
        self.saved: list[Path] = []
        self.texts: dict[str, list] = {}
        self.flow = DemoFlow(window, settings=FAST_SETTINGS)
        self.flow.finished.connect(lambda run_dir: QTimer.singleShot(SETTLE_MS, self._shoot_tabs))
        self.flow.failed.connect(self._fail)

    def grab(self, name: str, widget=None) -> None:
        """Save `widget` (the window unless given) as NAME.png and list the texts it shows."""
        widget = widget or self.window
        self.app.processEvents()
        path = self.out / f"{name}.png"
        if not widget.grab().save(str(path), "PNG"):
            self._fail(f"could not write {path}")
            return
        self.saved.append(path)
        from gui.i18n import shown_texts

        try:
            self.texts[name] = shown_texts(widget)
        except Exception as exc:  # noqa: BLE001 - a timer callback: fail loudly, never hang
            self._fail(f"could not list the texts of {name}: {exc!r}")
            return
        (self.out / "texts.json").write_text(json.dumps(self.texts, ensure_ascii=False, indent=1),
                                             encoding="utf-8")
        print(f"saved {path}", flush=True)

    def _shoot_tabs(self, remaining: list[int] | None = None) -> None:
        """Show each tab, let it request its thumbnails (a first paint), then grab it."""
        w = self.window
        remaining = list(range(len(NAMES))) if remaining is None else remaining
        if remaining:
            i = remaining.pop(0)
            w.show_tab(w.all_tabs[i])
            w.grab()  # the first paint asks the thumbnail loaders for what is visible
            QTimer.singleShot(SETTLE_MS, lambda: (self.grab(NAMES[i]), self._shoot_tabs(remaining)))
            return
        w.show_tab(w.training_tab)
        view = w.training_tab.evaluation
        view.evaluation_finished.connect(self._on_evaluation_finished)
        view.evaluation_failed.connect(lambda message: self._fail(f"evaluation failed: {message}"))
        w.training_tab.open_evaluation(self.flow.run_dir)

    def _on_evaluation_finished(self, report) -> None:
        self.window.training_tab.evaluation.show_cell(*worst_cell(report.confusion))
        QTimer.singleShot(SETTLE_MS, self._finish)

    def _finish(self) -> None:
        self.grab("5-evaluation")
        view = self.window.training_tab.evaluation
        view.side_tabs.setCurrentWidget(view.reliability)
        view.heat_maps.ready.connect(lambda _: QTimer.singleShot(SETTLE_MS, self._reliability))
        view.heat_box.setChecked(True)

    def _reliability(self) -> None:
        if any(p.name == "6-reliability.png" for p in self.saved):
            return
        self.grab("6-reliability")
        self._shoot_review()

    def _shoot_review(self) -> None:
        """The Dataset tab's data check of the demo dataset, with a few decisions made."""
        w = self.window
        tab = w.dataset_tab
        w.show_tab(tab)
        flow = tab.review_flow
        flow.report_ready.connect(lambda _: QTimer.singleShot(SETTLE_MS, self._decide))
        flow.message.connect(lambda text: text.startswith("⚠") and self._fail(text))
        flow.start(tab.index)

    def _decide(self) -> None:
        from engine.review.decisions import Decision

        page = self.window.dataset_tab.review_page
        model = page.labels
        for row, action in enumerate(("relabel", "keep")[:model.rowCount()]):
            path, suggested = model.subject(row), model.row(row)["suggested"]
            folder = next((f for f, n in model.names.items() if n == suggested), suggested)
            model.decide(row, Decision(path, action, folder if action == "relabel" else ""))
        page._update_counts()
        if model.rowCount() > 2:
            page.label_grid.setCurrentIndex(model.index(2))
        self.window.grab()  # the first paint asks for the thumbnails
        QTimer.singleShot(SETTLE_MS, self._shoot_heat_maps)

    def _shoot_heat_maps(self) -> None:
        self.grab("7-review")
        w = self.window
        w.show_tab(w.prediction_tab)
        w.prediction_tab.service.explained.connect(
            lambda _: QTimer.singleShot(SETTLE_MS, self._done_heat))
        w.prediction_tab.result_bar.heat.setChecked(True)

    def _done_heat(self) -> None:
        if self.window.prediction_tab.results.results_model.paths_without_heat() or \
                any(p.name == "8-heat-maps.png" for p in self.saved):
            return  # more chunks to come, or already taken
        self.grab("8-heat-maps")
        from gui.screenshots_sorting import SortingShots

        self.sorting = SortingShots(self.window, self.flow.run_dir, self.grab,
                                    self._shoot_live, self._fail)
        self.sorting.start()

    def _shoot_live(self) -> None:
        from gui.screenshots_live import LiveShots  # a clip of the demo images, playing

        self.live = LiveShots(self.window, self.grab, self._shoot_many_classes, self._fail)
        self.live.start()

    def _shoot_many_classes(self) -> None:
        """The evaluation view alone at 1280x800 with a synthetic 120-class report, the
        most confused pair clicked (its images listed, the matrix zoomed onto it)."""
        from gui.widgets.evaluation_view import EvaluationView

        self._images = tempfile.TemporaryDirectory(prefix="lora-studio-120-classes-")
        view = self.many_view = EvaluationView()
        view.setWindowTitle("LoRA Studio")
        view.resize(*MANY_SIZE)
        view.show()
        view.set_report(many_class_report(self._images.name))
        self.app.processEvents()  # the view box takes its size before the zoom
        view.pairs.setCurrentCell(0, 0)
        view.pairs.cellClicked.emit(0, 0)  # what a click on the first row does
        view.grab()  # the first paint asks for the thumbnails
        QTimer.singleShot(SETTLE_MS, self._done_many_classes)

    def _done_many_classes(self) -> None:
        self.grab("9-many-classes", self.many_view)
        self.many_view.shutdown()
        self.many_view.close()
        self._images.cleanup()
        self._shoot_lr_finder()

    def _shoot_lr_finder(self) -> None:
        from gui.screenshots_lr_finder import LRFinderShots  # the Config tab's LR finder

        self.lr_finder = LRFinderShots(self.window, self.grab, self._shoot_sweep, self._fail)
        self.lr_finder.start()

    def _shoot_sweep(self) -> None:
        from gui.screenshots_sweep import SweepShots  # a real 4-trial sweep of the demo

        self.sweep = SweepShots(self.window, self.grab, lambda: self.app.exit(0), self._fail)
        self.sweep.start()

    def _fail(self, message: str) -> None:
        print(f"screenshots failed: {message}", file=sys.stderr, flush=True)
        self.app.exit(1)


def take_screenshots(window, out_dir: str) -> int:
    """Run the session in `window`'s event loop; returns the exit code (0 = all PNGs saved)."""
    app = QApplication.instance()
    window.resize(*SHOT_SIZE)
    window.show()
    window.status.detect_hardware()
    session = ScreenshotSession(window, out_dir)
    watchdog = QTimer(window, singleShot=True, interval=WATCHDOG_MS)
    watchdog.timeout.connect(lambda: session._fail("gave up after 15 minutes"))
    watchdog.start()
    QTimer.singleShot(0, session.flow.start)
    code = app.exec()
    watchdog.stop()
    if window.training_tab.is_running():
        window.training_tab.stop()
    window.shutdown()
    return code
