"""The live page of the Prediction tab: the current frame (camera or video), its top
classes as bars, the frames-per-second readout, the controls and Snapshot / Add to
dataset. Only widgets: gui.live_flow drives it."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QVBoxLayout, QWidget)

from gui.i18n import translate
from gui.widgets.prediction_results import PredictionDelegate, percent


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class FrameView(QWidget):
    """The newest frame, scaled to fit (painted: no pixmap per frame kept)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Shadow))
        if self.image is not None and not self.image.isNull():
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self.image)
        painter.end()


class LiveBars(QWidget):
    """Top classes with confidence bars, drawn like the result list's bars."""

    LINE = PredictionDelegate.LINE + 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.top: list[tuple[str, float]] = []
        self.k = 5
        self.setMinimumWidth(300)

    def set_top(self, top: list[tuple[str, float]]) -> None:
        self.top = list(top)[:self.k]
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(340, self.LINE * self.k + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(300, self.LINE * self.k + 8)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        palette = self.palette()
        metrics = self.fontMetrics()
        pct_w = metrics.horizontalAdvance("100 %") + 8
        label_w = min(150, self.width() // 2 - 8)
        for i, (label, p) in enumerate(self.top):
            row = QRect(0, 4 + i * self.LINE, self.width(), self.LINE)
            font = QFont(self.font())
            font.setBold(i == 0)
            painter.setFont(font)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(QRect(row.left(), row.top(), label_w, row.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight,
                                                           label_w))
            bar = QRect(label_w + 8, row.top() + 6, max(10, self.width() - label_w - pct_w - 16),
                        row.height() - 12)
            painter.fillRect(bar, palette.color(QPalette.ColorRole.Midlight))
            painter.fillRect(QRect(bar.left(), bar.top(), max(1, round(bar.width() * p)),
                                   bar.height()), palette.color(QPalette.ColorRole.Highlight))
            painter.setFont(self.font())
            painter.drawText(QRect(bar.right() + 8, row.top(), pct_w - 8, row.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             percent(p))
        painter.end()


class LivePage(QWidget):
    """Controls: camera_combo (camera only), start_button, pause_button (video only),
    stop_button, back_button; position slider + time_label (video only); frame view,
    bars, fps_label, snapshot_button, folder_button, add_button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("livePage")
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(8)
        bar = QHBoxLayout()
        self.source_label = QLabel()
        bar.addWidget(self.source_label)
        self.camera_combo = QComboBox()
        self.camera_combo.setMinimumWidth(220)
        bar.addWidget(self.camera_combo)
        bar.addStretch(1)
        self.start_button = QPushButton(translate("LivePage", "Start"))
        self.pause_button = QPushButton(translate("LivePage", "Pause"))
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton(translate("LivePage", "Stop"))
        self.back_button = QPushButton(translate("LivePage", "Back to results"))
        for button in (self.start_button, self.pause_button, self.stop_button, self.back_button):
            bar.addWidget(button)
        root.addLayout(bar)
        position = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(translate("LivePage", "Drag to another moment of the video"))
        self.time_label = QLabel("0:00 / 0:00")
        position.addWidget(self.slider, 1)
        position.addWidget(self.time_label)
        self.position_row = QWidget()
        self.position_row.setLayout(position)
        position.setContentsMargins(0, 0, 0, 0)
        root.addWidget(self.position_row)
        body = QHBoxLayout()
        self.frame_view = FrameView()
        body.addWidget(self.frame_view, 1)
        side = QVBoxLayout()
        self.bars = LiveBars()
        side.addWidget(self.bars)
        self.fps_label = QLabel(translate("LivePage", "Waiting for the first frame…"))
        self.fps_label.setWordWrap(True)
        side.addWidget(self.fps_label)
        side.addStretch(1)
        snap = QHBoxLayout()
        self.snapshot_button = QPushButton(translate("LivePage", "Snapshot"))
        self.snapshot_button.setToolTip(translate(
            "LivePage", "Save this frame as PNG with its prediction (JSON beside it)"))
        self.folder_button = QPushButton(translate("LivePage", "Folder…"))
        self.folder_button.setToolTip(translate("LivePage", "Where snapshots are saved"))
        snap.addWidget(self.snapshot_button, 1)
        snap.addWidget(self.folder_button)
        side.addLayout(snap)
        self.add_button = QPushButton(translate("LivePage", "Add to dataset…"))
        self.add_button.setToolTip(translate(
            "LivePage", "Copy this frame into a class folder of the dataset open in step 1"))
        side.addWidget(self.add_button)
        body.addLayout(side)
        root.addLayout(body, 1)

    def set_source(self, camera: bool, title: str) -> None:
        self.source_label.setText(title)
        self.camera_combo.setVisible(camera)
        self.pause_button.setVisible(not camera)
        self.position_row.setVisible(not camera)

    def show_position(self, seconds: float, duration: float) -> None:
        if not self.slider.isSliderDown():
            self.slider.setRange(0, max(1, int(duration * 10)))
            self.slider.setValue(int(seconds * 10))
        self.time_label.setText(f"{clock(seconds)} / {clock(duration)}")

    def set_playing(self, playing: bool, ended: bool = False) -> None:
        self.start_button.setText(translate("LivePage", "Play again") if ended
                                  else translate("LivePage", "Start"))
        self.start_button.setEnabled(not playing)
        self.stop_button.setEnabled(playing)
        self.pause_button.setEnabled(playing)
        if not playing:
            self.pause_button.setChecked(False)
