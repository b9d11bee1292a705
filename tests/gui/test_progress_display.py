"""Progress with words and counts: every stage says what it does and how far it got, the bar
counts when the total is known and moves only when it is not, it never runs backwards (not
after Stop), the bar and the line show the same per cent, and a continued run shows its whole
history: the curves before the resume point and the step-0 value on the run card."""
from __future__ import annotations

import json
import re
import shutil
import threading

import pytest
from PySide6.QtCore import Qt

from engine.config import TrainConfig
from engine.events import Evaluation, Log, Progress, RunFinished, RunStarted, Step
from engine.runs import read_metrics, read_run
from gui import format as fmt
from gui.tabs.training_tab import TrainingTab

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def tab(training_tab, tmp_path):
    return training_tab(lambda: TrainConfig(data_dir=str(tmp_path),
                                            output_dir=str(tmp_path / "runs"),
                                            num_threads=1, precision="fp32"))


def bar(t: TrainingTab) -> tuple[int, int, str]:
    p = t.progress
    return p.value(), p.maximum(), p.text()


def test_each_stage_shows_its_words_and_counts(qtbot, tab, fake_train):
    gate = threading.Semaphore(0)
    tab.train_fn = fake_train(steps=20, gate=gate, prelude=[
        Progress(stage="decode", done=1200, total=20520, message="Decoding images"),
        Log(level="info", message="20520 images cached"),  # the decode is over
        Progress(stage="embed", done=0, total=20520, message="Computing image embeddings"),
        Progress(stage="something-new", done=3, total=7, message="Counting sheep"),
    ], postlude=[Progress(stage="evaluate", done=120, total=2000,
                          message="Writing the test report")])
    qtbot.mouseClick(tab.start_button, LEFT)
    qtbot.waitUntil(lambda: tab.stats.text() == "Decoding 1,200 / 20,520 images",
                    timeout=60_000)  # the first run waits for the start-up imports
    assert bar(tab) == (1200, 20520, "5 %")  # a counting bar, not a moving one
    gate.release()
    # between stages nothing is counted: the bar moves, and the line still has words
    qtbot.waitUntil(lambda: tab.progress.maximum() == 0, timeout=5000)
    assert tab.stats.text() == "Preparing…"
    gate.release()
    qtbot.waitUntil(lambda: tab.stats.text() == "Embedding 0 / 20,520 images", timeout=5000)
    assert bar(tab) == (0, 20520, "0 %")
    gate.release()
    qtbot.waitUntil(lambda: tab.stats.text() == "Counting sheep: 3 / 7", timeout=5000)
    assert bar(tab) == (3, 7, "42 %")
    gate.release()
    # after the last step: the report's words and count, the bar stays at the run's 100 %
    qtbot.waitUntil(lambda: tab.stats.text().startswith(
        "Writing the test report: 120 / 2,000 images · epoch 2/2 · step 20/20 · 100 %"),
        timeout=5000)
    assert bar(tab) == (20, 20, "100 %")
    with qtbot.waitSignal(tab.run_finished, timeout=10_000):
        gate.release()
    assert bar(tab) == (1, 1, "100 %") and tab.stats.text() == "Completed."


def test_stop_keeps_the_bar_where_the_run_got_to(qtbot, tab, fake_train):
    tab.train_fn = fake_train(steps=2000, delay=0.005)
    qtbot.mouseClick(tab.start_button, LEFT)
    qtbot.waitUntil(lambda: tab.plots.loss.point_count("train_raw") >= 30, timeout=10_000)
    with qtbot.waitSignal(tab.run_finished, timeout=10_000) as finished:
        qtbot.mouseClick(tab.stop_button, LEFT)
    assert finished.args[1] == "stopped"
    tab.plots.flush()
    reached = int(tab.plots.loss.series("train_raw").xs[-1])
    share = fmt.share_text(reached, 2000)
    assert reached >= 30 and bar(tab) == (reached, 2000, share)  # not back to 0 %
    assert tab.stats.text() == f"Stopped. At step {reached} of 2000 ({share})."
    qtbot.wait(300)  # nothing resets it afterwards either
    assert bar(tab) == (reached, 2000, share)


def test_paused_the_bar_and_the_text_show_the_same_number(qtbot, tab, fake_train):
    gate = threading.Semaphore(0)
    # step 18 of 310 is 5.8 %: one rounding says 5, another 6; both must say the same
    tab.train_fn = fake_train(steps=310, steps_per_epoch=31, gate=gate, hold_at=18)
    qtbot.mouseClick(tab.start_button, LEFT)
    qtbot.waitUntil(lambda: "step 18/310" in tab.stats.text(), timeout=10_000)
    qtbot.mouseClick(tab.pause_button, LEFT)
    gate.release()
    qtbot.waitUntil(lambda: tab.stats.text().startswith("Paused"), timeout=5000)
    qtbot.wait(300)  # still paused at step 18
    text = tab.stats.text()
    assert "step 18/310" in text
    shown = re.search(r"· (\d+) % ·", text).group(1)
    assert bar(tab) == (18, 310, f"{shown} %") and shown == "5"
    assert tab.controls.share() == 5
    qtbot.mouseClick(tab.resume_button, LEFT)
    qtbot.waitUntil(lambda: tab._last_step is not None and tab._last_step.step > 18, timeout=5000)


def _write_metrics(run_dir, events) -> None:
    run_dir.mkdir(parents=True)
    with open(run_dir / "metrics.jsonl", "w", encoding="utf-8") as fh:
        for ev in events:
            fh.write(json.dumps(ev.to_dict()) + "\n")


def _started(start_step: int, total: int = 20) -> RunStarted:
    return RunStarted(run_dir="", run_name="r", classes=["a", "b"], total_steps=total,
                      steps_per_epoch=10, epochs=2, device="cpu", precision="fp32",
                      trainable_params=1, total_params=2, start_step=start_step)


def _step(i: int) -> Step:
    return Step(step=i, epoch=i / 10, loss=1.0 / i, lr=1e-3, accuracy=0.5, images_per_s=10.0,
                eta_s=1.0)


def test_a_run_continued_after_a_crash_draws_each_step_once(qtbot, tab, tmp_path):
    # trained to step 15, saved at step 10, killed; continued from step 10 to the end
    events = [_started(0), Evaluation(step=0, epoch=0, split="val", loss=1.0, accuracy=0.25,
                                      zero_shot=False),
              *[_step(i) for i in range(1, 16)],
              Evaluation(step=10, epoch=1, split="val", loss=0.5, accuracy=0.6, is_best=True),
              _started(10), *[_step(i) for i in range(11, 21)],
              Evaluation(step=20, epoch=2, split="val", loss=0.4, accuracy=0.7, is_best=True),
              RunFinished(status="completed", run_dir="", best_val_accuracy=0.7, best_epoch=2)]
    _write_metrics(tmp_path / "crashed", events)
    tab.show_run(str(tmp_path / "crashed"))
    xs = tab.plots.loss.series("train_raw").xs
    assert xs == [float(i) for i in range(1, 21)]  # 11..15 once, from the continued run
    assert tab.plots.accuracy.series("val").xs == [0.0, 10.0, 20.0]
    assert tab.plots.accuracy.zero_shot_point == (0.0, 25.0)  # the start, though no zero-shot
    assert tab.summary.values["zero_shot"].text() == "25.0 %"


@pytest.fixture
def finished_run(trained_run, tmp_path):
    target = tmp_path / "runs" / trained_run.name
    shutil.copytree(trained_run, target)
    return target


def test_continue_shows_the_curves_so_far_and_the_start_value(qtbot, tab, finished_run):
    before = read_metrics(finished_run)
    old_steps = [e.step for e in before if isinstance(e, Step)]
    old_val = [e for e in before if isinstance(e, Evaluation) and e.split == "val"]
    start = next(e for e in old_val if e.step == 0)
    tab.show_run(str(finished_run))
    qtbot.mouseClick(tab.summary.continue_button, LEFT)
    dialog = tab.continue_dialog
    dialog.fields["epochs"].setValue(read_run(finished_run)["config"]["epochs"] + 1)
    with qtbot.waitSignal(tab.run_started, timeout=60_000):
        dialog.buttons.accepted.emit()
    # at once: the curves up to the resume point, and the start value for the card
    tab.plots.flush()
    shown = tab.plots.loss.series("train_raw").xs  # (a quick machine may show a new step too)
    assert shown[:len(old_steps)] == [float(s) for s in old_steps]
    assert all(x > old_steps[-1] for x in shown[len(old_steps):])
    assert tab.plots.accuracy.zero_shot_point == (0.0, 100.0 * start.accuracy)
    with qtbot.waitSignal(tab.run_finished, timeout=120_000) as finished:
        pass
    assert finished.args[1] == "completed", tab.log.plain_text()
    xs = tab.plots.loss.series("train_raw").xs
    assert xs[:len(old_steps)] == [float(s) for s in old_steps] and len(xs) > len(old_steps)
    assert xs == sorted(set(xs))  # the new points follow, each step once
    val_steps = tab.plots.accuracy.series("val").xs
    assert val_steps[:len(old_val)] == [float(e.step) for e in old_val]
    assert len(val_steps) == len(old_val) + 1  # the one new epoch
    assert tab.summary.values["zero_shot"].text() == fmt.percent(start.accuracy)
    assert tab.summary.values["zero_shot"].text() != "–"


def test_check_labels_says_each_phase_with_its_count(qtbot, tmp_path, tiny_clip_dir):
    from gui.tabs.dataset_tab import DatasetTab
    from review_data import colour_folder

    data = colour_folder(tmp_path / "colours", per_class=12)
    images = len(list(data.rglob("*.jpg")))
    tab = DatasetTab(None)
    tab.resize(1200, 800)
    qtbot.addWidget(tab)
    tab.show()
    tab.model_for_checks = lambda: str(tiny_clip_dir)
    with qtbot.waitSignal(tab.dataset_ready, timeout=30_000):
        tab.open_folder(str(data))
    shown: list[tuple[str, int, int]] = []  # every text the row showed, with its bar then
    row, show = tab.busy, tab.busy.label.setText
    row.label.setText = lambda text: (shown.append((text, row.bar.maximum(), row.bar.value())),
                                      show(text))
    with qtbot.waitSignal(tab.review_flow.report_ready, timeout=120_000):
        qtbot.mouseClick(tab.check_button, LEFT)
    texts = [text for text, _max, _value in shown]
    assert all("{" not in t and not re.fullmatch(r"[\d,]+ of [\d,]+", t) for t in texts), texts
    expected = [f"Decoding {images} / {images} images", f"Embedding {images} / {images} images",
                "Ranking likely label mistakes…",
                f"Finding near-duplicates: {images} / {images} images compared",
                "Writing the report: 3 / 3 files"]
    folds = [t for t in texts if re.fullmatch(r"Cross-validating the probe: (\d) of \1 folds done",
                                              t)]
    assert folds, texts
    expected.insert(2, folds[0])
    positions = [texts.index(t) for t in expected]  # each phase shown, in the order it ran
    assert positions == sorted(positions), texts
    for text, maximum, value in shown:  # the bar counts what the text counts
        counts = re.search(r"([\d,]+) (?:/|of) ([\d,]+)", text)
        if counts:
            done, total = (int(c.replace(",", "")) for c in counts.groups())
            assert (value, maximum) == (done, total), (text, value, maximum)
    ranking = next(s for s in shown if s[0] == "Ranking likely label mistakes…")
    assert ranking[1] == 0  # no count known: the bar moves, and the text says what runs
    tab.shutdown()
