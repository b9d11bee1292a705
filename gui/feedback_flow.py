"""Feedback from predictions, in the Prediction tab: a result can be marked right, or wrong
with the right class (right-click, or R / W on the selected result). The verdict shows on
the result as a small mark, the image becomes a new label of the run (engine/use/feedback.py:
a CSV beside the run; the image is never moved), and a line offers to train on with them:
a new run from this run's model on its own images plus the new labels, started in the
Training tab.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.errors import UserError
from gui.errors import on_action
from gui.i18n import translate
from gui.widgets.prediction_results import ERROR_ROLE, PREDICTION_ROLE

RIGHT_COLOUR, WRONG_COLOUR = QColor("#2e7d32"), QColor("#c62828")  # readable light and dark


class FeedbackFlow(QObject):
    """Attached to a PredictionTab: its results' menu entries, marks, keys and count line."""

    def __init__(self, tab) -> None:
        super().__init__(tab)
        self.tab = tab
        self.results = tab.results
        self.verdicts: dict[str, str] = {}  # image path -> class (display name) given
        self.picker = None  # the open "Wrong, it is…" dialog
        self._trainer = self._show_training = self._machine = self._confirm = None
        self.results.menu_providers.append(self.menu_entries)
        self.results.itemDelegate().mark_painters.append(self.paint_mark)
        self.bar = self._build_bar()
        layout = tab.layout()
        layout.insertWidget(layout.indexOf(self.results), self.bar)
        # R / W on the selected result (before the list's own type-to-find sees the letter)
        self._keys = {
            Qt.Key.Key_R: on_action(self.results, self.mark_current_right,
                                    translate("FeedbackFlow", "Mark right")),
            Qt.Key.Key_W: on_action(self.results, self.ask_current_wrong,
                                    translate("FeedbackFlow", "Wrong, it is…"))}
        self.results.installEventFilter(self)
        tab.run_opened.connect(self._on_run_opened)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.KeyPress and event.key() in self._keys and \
                not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self._keys[event.key()]()
            return True
        return super().eventFilter(watched, event)

    def set_trainer(self, training_tab, show_training, machine_config, confirm) -> None:
        """Where "Train with them" starts its run (main window wiring): the Training tab,
        how to show it, the Config tab's config (this machine's settings) and a yes/no."""
        self._trainer, self._show_training = training_tab, show_training
        self._machine, self._confirm = machine_config, confirm

    # -- the results' menu and keys -----------------------------------------------------
    def _image(self, row: int) -> tuple[str, str]:
        """(image path, predicted class) of result `row`, or ("", "") when it cannot be a
        label: not predicted, pasted (no file of the user's), or no model loaded."""
        index = self.results.results_model.index(row)
        prediction = index.data(PREDICTION_ROLE) if index.isValid() else None
        if not self.tab.run_dir or prediction is None or index.data(ERROR_ROLE):
            return "", ""
        source = str(prediction.source)
        top = list(getattr(prediction, "top", []) or [])
        if not top or source.startswith("<") or \
                Path(self.tab._paste_dir) in Path(source).parents:
            return "", ""
        return os.path.abspath(source), str(top[0][0])

    def menu_entries(self, row: int) -> list:
        image, predicted = self._image(row)
        if not image:
            return []
        # "\tR": the menu shows the key beside the entry, as for a shortcut
        entries = [(translate("FeedbackFlow", "Right: {label}").format(label=predicted) + "\tR",
                    lambda: self.mark(image, predicted)),
                   (translate("FeedbackFlow", "Wrong, it is…") + "\tW",
                    lambda: self.ask_wrong(row))]
        if image in self.verdicts:
            entries.append((translate("FeedbackFlow", "Remove the new label"),
                            lambda: self.unmark(image)))
        return entries

    def mark_current_right(self) -> None:
        image, predicted = self._image(self.results.currentIndex().row())
        if image:
            self.mark(image, predicted)

    def ask_current_wrong(self) -> None:
        self.ask_wrong(self.results.currentIndex().row())

    def ask_wrong(self, row: int) -> None:
        """The run's classes, filterable; the one chosen becomes the image's label."""
        from gui.widgets.class_picker import ClassPicker

        image, predicted = self._image(row)
        if not image:
            return
        from engine.use.feedback import run_classes

        classes = [name for _key, name in run_classes(self.tab.run_dir) if name != predicted]
        picker = ClassPicker(classes, translate(
            "FeedbackFlow", "The model said {label}. What is in {name}?").format(
            label=predicted, name=Path(image).name), self.verdicts.get(image, ""), self.tab)
        self.picker = picker
        picker.accepted.connect(on_action(picker, lambda: self.mark(image, picker.chosen()),
                                          translate("FeedbackFlow", "Wrong, it is…")))
        picker.open()

    # -- the new labels -----------------------------------------------------------------
    def mark(self, image: str, label: str) -> None:
        from engine.use.feedback import mark

        try:
            mark(self.tab.run_dir, image, label)
        except UserError as exc:  # a held-out image, a file gone: said on the line, plainly
            self._say(str(exc))
            return
        self.refresh()

    def unmark(self, image: str) -> None:
        from engine.use.feedback import unmark

        unmark(self.tab.run_dir, image)
        self.refresh()

    def refresh(self, message: str = "") -> None:
        """Re-read the run's new labels; the count line and the marks follow."""
        from engine.use.feedback import read_new_labels

        run = self.tab.run_dir
        self.verdicts = {p: n.display_name for p, n in read_new_labels(run).items()} if run \
            else {}
        count = len(self.verdicts)
        self.count_label.setText(message or translate(
            "FeedbackFlow", "{count} new label(s) for this run · kept in {file}").format(
            count=count, file=Path(run).name + "-new-labels.csv"))
        self.train_button.setVisible(count > 0)
        self.bar.setVisible(bool(count or message))
        self.results.viewport().update()

    def _say(self, text: str) -> None:
        """A plain message on the count line (an engine text: made again after a language
        switch); the next mark or refresh replaces it."""
        from gui.engine_texts import engine_dynamic

        self.refresh(engine_dynamic(text))

    def _on_run_opened(self, _run_dir: str) -> None:
        self.refresh()

    # -- train on -----------------------------------------------------------------------
    def train_with_new_labels(self) -> None:
        """A new run from the loaded run's model on its images plus the new labels, started
        in the Training tab (after a yes)."""
        from engine.training.resume import MACHINE
        from engine.use.feedback import next_run_config, write_next_dataset

        run = self.tab.run_dir
        if self._trainer is None or not run:
            return
        if self._trainer.is_running():
            self.refresh(translate("FeedbackFlow", "A training run is going on: train with the "
                                   "new labels when it has ended."))
            return
        question = translate(
            "FeedbackFlow", "Start a new run from the model of {run}, on its own images (same "
            "validation and test images) and the {count} new label(s)? {run} stays as it is."
        ).format(run=Path(run).name, count=len(self.verdicts))
        if not self._confirm(translate("FeedbackFlow", "Train with the new labels"), question):
            return
        try:
            made = write_next_dataset(run)
        except UserError as exc:
            self._say(str(exc))
            return
        here = self._machine()
        config = next_run_config(run, made.path, **{n: getattr(here, n) for n in MACHINE})
        if self._trainer.start(config):
            self._show_training()

    def _build_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("newLabelsBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.count_label = QLabel()
        self.count_label.setWordWrap(True)
        self.train_button = QPushButton(translate("FeedbackFlow", "Train with them…"))
        self.train_button.setObjectName("trainWithNewLabels")
        self.train_button.clicked.connect(on_action(self.train_button,
                                                    self.train_with_new_labels))
        row.addWidget(self.count_label, 1)
        row.addWidget(self.train_button)
        bar.setVisible(False)
        return bar

    # -- the mark on a result -----------------------------------------------------------
    def paint_mark(self, painter, option, index, thumb: QRect) -> None:
        prediction = index.data(PREDICTION_ROLE)
        given = self.verdicts.get(os.path.abspath(str(getattr(prediction, "source", ""))))
        if given is None:
            return
        top = list(getattr(prediction, "top", []) or [])
        right = bool(top) and top[0][0] == given
        text = "✓" if right else "✗ " + given
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        metrics = QFontMetrics(font)
        width = min(thumb.width(), metrics.horizontalAdvance(text) + 8)
        badge = QRect(thumb.left(), thumb.bottom() - metrics.height() - 2, width,
                      metrics.height() + 2)
        painter.save()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(RIGHT_COLOUR if right else WRONG_COLOUR)
        painter.drawRoundedRect(badge, 4, 4)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter,
                         metrics.elidedText(text, Qt.TextElideMode.ElideRight, width - 6))
        painter.restore()
