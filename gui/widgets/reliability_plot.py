"""The reliability diagram of an evaluation: how often the model was right (bars) at each
confidence (x), before (outlined) and after (filled) temperature scaling, or once for a run
left uncalibrated; a calibrated model's bars follow the diagonal."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.i18n import translate


class ReliabilityPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(None)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setMouseEnabled(False, False)
        self.plot.addLegend(offset=(10, 10))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.bins_after: list[dict] = []
        self._calibration: dict = {}
        self._set_titles()

    def _set_titles(self) -> None:
        self.plot.setTitle(translate("ReliabilityPlot", "Confidence vs accuracy"))
        self.plot.setLabel("bottom", translate("ReliabilityPlot", "confidence"))
        self.plot.setLabel("left", translate("ReliabilityPlot", "accuracy"))

    def retranslate(self) -> None:
        """Titles, axis labels and legend names in the current language."""
        self._set_titles()
        self.set_calibration(self._calibration)

    def set_calibration(self, calibration: dict) -> None:
        """engine.use.evaluate's Report.calibration ({} for reports without one)."""
        self.plot.clear()
        self._calibration = calibration or {}
        self.bins_after = list(self._calibration.get("reliability") or [])
        if not self.bins_after:
            return
        self.plot.plot([0, 1], [0, 1], pen=pg.mkPen((200, 60, 60), width=2,
                                                      style=pg.QtCore.Qt.PenStyle.DashLine),
                       name=translate("ReliabilityPlot", "perfectly calibrated"))
        calibrated = calibration.get("temperature", 1.0) != 1.0
        after = (translate("ReliabilityPlot", "calibrated (ECE {ece:.1%})") if calibrated else
                 translate("ReliabilityPlot", "uncalibrated (ECE {ece:.1%})"))
        for rows, brush, pen, name, shrink in (
                (self.bins_after, pg.mkBrush(33, 113, 181, 200), None,
                 after.format(ece=calibration["ece"]), 0.0),
                # left uncalibrated, "before" is the same bars: drawn once
                (calibration.get("reliability_before") or [] if calibrated else [], None,
                 pg.mkPen((150, 150, 150), width=2),
                 translate("ReliabilityPlot", "before (ECE {ece:.1%})").format(
                     ece=calibration["ece_before"]), 0.2)):
            shown = [r for r in rows if r["count"]]
            if not shown:
                continue
            width = (shown[0]["upper"] - shown[0]["lower"]) * (1 - shrink)
            bars = pg.BarGraphItem(x=[(r["lower"] + r["upper"]) / 2 for r in shown],
                                   height=[r["accuracy"] for r in shown], width=width,
                                   brush=brush, pen=pen or pg.mkPen(None), name=name)
            self.plot.addItem(bars)  # named items join the legend by themselves
