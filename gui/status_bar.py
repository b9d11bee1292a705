"""The status bar: where compute happens | what run is active | how far it is.

`CPU · bf16 · 2 threads  |  run: dogs-2026-11-29-1412  |  epoch 3/10 · 61 % · 4:12 left`

The hardware is detected off the GUI thread after the window shows (it imports torch,
which takes a second or two), so startup stays fast.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStatusBar, QWidget

from gui.i18n import dynamic, translate
from gui.scan_worker import FunctionThread


def describe_hardware(device: str = "auto", precision: str = "auto", threads: int = 0) -> str:
    """'CPU · bf16 · 2 threads' for what 'auto' resolves to on this machine."""
    return hardware_text(*hardware_facts(device, precision, threads))


def hardware_text(where: str, chosen: str, n: int) -> str:
    """'CPU · bf16 · 2 threads', in the current language."""
    if n == 1:
        return translate("status_bar", "{where} · {precision} · {n} thread").format(
            where=where, precision=chosen, n=n)
    return translate("status_bar", "{where} · {precision} · {n} threads").format(
        where=where, precision=chosen, n=n)


def hardware_facts(device: str = "auto", precision: str = "auto",
                   threads: int = 0) -> tuple[str, str, int]:
    """(device name, number format, threads) of what 'auto' resolves to on this machine."""
    import torch

    from engine.hardware import resolve_device_type, resolve_precision

    device_type = resolve_device_type(device)
    chosen = resolve_precision(precision, device_type).name
    if device_type == "cuda":
        where = torch.cuda.get_device_name(0)
    else:
        where = device_type.upper()
    n = threads or torch.get_num_threads()
    return where, chosen, n


def hardware_from_run(device: str, precision: str) -> str:
    """The RunStarted event's device ('cpu (2 threads)', in the engine's language) and number
    format in the status bar's style ('CPU · bf16 · 2 threads', in the window's language)."""
    found = re.match(r"(cpu|mps)\b\D*(\d+)?", device)
    if found and found.group(2):
        return dynamic(lambda: hardware_text(found.group(1).upper(), precision,
                                             int(found.group(2))))
    where = found.group(1).upper() if found else device
    return " · ".join(p for p in (where, precision) if p)


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hardware = QLabel(translate("StatusBar", "detecting hardware…"))
        self.run = QLabel(translate("StatusBar", "no run"))
        self.note = ElidingLabel()  # passing remarks (the demo's stage, a stop in progress)
        self.note_owner = ""  # who set the note: only they take it away (clear_note)
        self.progress = QLabel("")
        self.hardware.setToolTip(translate("StatusBar", "Where training runs, in which number "
                                           "format, on how many threads."))
        # One permanent strip: QStatusBar.showMessage() would hide normal widgets, and the
        # hardware and run must always stay visible.
        strip = QWidget()
        row = QHBoxLayout(strip)
        row.setContentsMargins(4, 0, 4, 0)
        row.setSpacing(12)
        for widget in (self.hardware, _separator(), self.run, _separator(), self.note):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.progress)
        self.addPermanentWidget(strip, 1)
        self._threads: list[FunctionThread] = []
        self._shutting_down = False

    def detect_hardware(self, warm_up: bool = True) -> None:
        """Fill in the hardware label in the background (imports torch off the GUI thread),
        then, with `warm_up`, import the rest of the engine there too (gui.warmup)."""
        thread = FunctionThread(lambda progress: hardware_facts(),
                                translate("StatusBar", "detecting the hardware"), needs="torch")
        thread.succeeded.connect(self._on_hardware_detected)
        thread.failed.connect(
            lambda message: self.hardware.setText(translate("StatusBar", "hardware: unknown")))
        if warm_up:
            thread.finished.connect(self._start_warm_up)
        self._threads.append(thread)
        thread.start()

    def _start_warm_up(self) -> None:
        if self._shutting_down:  # queued after wait(): starting a thread now would outlive the app
            return
        from gui.warmup import warm_up

        thread = FunctionThread(lambda progress: warm_up(),
                                translate("StatusBar", "preparing the engine"))
        self._threads.append(thread)
        thread.start()

    def _on_hardware_detected(self, facts: tuple[str, str, int]) -> None:
        self.hardware.setText(dynamic(lambda: hardware_text(*facts)))

    def set_run(self, name: str) -> None:
        self.run.setText(translate("StatusBar", "run: {name}").format(name=name) if name
                         else translate("StatusBar", "no run"))

    def set_progress(self, text: str) -> None:
        self.progress.setText(text)

    def set_note(self, text: str, owner: str = "") -> None:
        self.note.setText(text)
        self.note.setToolTip(text)
        self.note_owner = owner

    def clear_note(self, owner: str) -> None:
        """Take the note away if `owner` set it (a later note of someone else stays)."""
        if self.note_owner == owner:
            self.set_note("")

    def wait(self, ms: int = 60_000) -> None:
        self._shutting_down = True
        for thread in list(self._threads):  # the list may grow while the first one ends
            thread.wait(ms)


class ElidingLabel(QLabel):
    """A one-line label that gives way to the rest of the bar: a long remark ends in "…"
    (its tool tip keeps it whole) instead of widening the window."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())
        painter.drawText(self.contentsRect(), int(self.alignment()), text)


def _separator() -> QLabel:
    label = QLabel("|")
    label.setEnabled(False)  # drawn in the palette's disabled text colour
    return label
