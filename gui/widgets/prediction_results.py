"""The prediction results list: thumbnail, top-k labels with confidence bars, and a clear
mark on low-confidence results and on files that could not be predicted.

A model + delegate (not one widget per result) so a folder of thousands of images stays
light; thumbnails come lazily from a ThumbnailLoader. Everything is painted with palette
colours, so it reads the same in light and dark mode.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QAbstractListModel, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QListView, QMenu, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QWidget)

from gui.engine_texts import engine_again
from gui.i18n import Tr, translate
from gui.widgets.thumbnails import ThumbnailLoader

PREDICTION_ROLE = Qt.ItemDataRole.UserRole + 1  # the engine's Prediction object
LOW_ROLE = Qt.ItemDataRole.UserRole + 2  # True when top-1 is below the threshold
ERROR_ROLE = Qt.ItemDataRole.UserRole + 3  # per-file message, "" when predicted


def percent(p: float) -> str:
    return f"{p * 100:.0f} %" if p >= 0.01 or p == 0 else "<1 %"


@dataclass
class ResultRow:
    prediction: object  # engine.use.predict.Prediction(source, top, error)
    title: str  # what the user calls it: file name, or "Pasted image 2"

    @property
    def error(self) -> str:
        """Why the file was not predicted (an engine text), in the window's language now."""
        return engine_again(getattr(self.prediction, "error", "") or "")

    @property
    def top(self) -> list[tuple[str, float]]:
        return list(getattr(self.prediction, "top", []) or [])


class PredictionModel(QAbstractListModel):
    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []
        self._row_of: dict[str, list[int]] = {}
        self.threshold = 0.5
        self.shown_k = 3
        self.not_sure = False  # below the threshold, say "not sure" instead of a class
        self.show_heat = False  # show the heat map (why this class) instead of the photo
        self._heat: dict[str, QPixmap] = {}
        self._loader = loader
        loader.ready.connect(self._on_thumbnail)

    def add(self, predictions: list, titles: dict[str, str] | None = None) -> None:
        if not predictions:
            return
        titles = titles or {}
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(predictions) - 1)
        for offset, pred in enumerate(predictions):
            if hasattr(pred, "threshold"):
                pred.threshold = self.threshold
            source = str(pred.source)
            title = titles.get(source, os.path.basename(source) or source)
            self._rows.append(ResultRow(pred, title))
            self._row_of.setdefault(source, []).append(first + offset)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._row_of = [], {}
        self.endResetModel()

    def predictions(self) -> list:
        return [r.prediction for r in self._rows]

    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold
        for row in self._rows:
            if hasattr(row.prediction, "threshold"):
                row.prediction.threshold = threshold  # exports then flag what the user sees
        self._refresh_all()

    def set_not_sure(self, on: bool) -> None:
        self.not_sure = bool(on)
        self._refresh_all()

    def set_show_heat(self, on: bool) -> None:
        self.show_heat = bool(on)
        self._refresh_all()

    def add_heat_maps(self, images: dict) -> None:
        """path -> QImage of its heat map."""
        for path, image in images.items():
            self._heat[path] = QPixmap.fromImage(image)
            self._on_thumbnail(path)

    def paths_without_heat(self) -> list[str]:
        return [str(r.prediction.source) for r in self._rows
                if not r.error and str(r.prediction.source) not in self._heat
                and not str(r.prediction.source).startswith("<")]

    def is_not_sure(self, row: ResultRow) -> bool:
        return self.not_sure and self.is_low(row)

    def set_shown_k(self, k: int) -> None:
        self.shown_k = max(1, k)
        self.layoutChanged.emit()  # row heights depend on k

    def is_low(self, row: ResultRow) -> bool:
        return not row.error and bool(row.top) and row.top[0][1] < self.threshold

    def counts(self) -> tuple[int, int, int]:
        """(predicted, low confidence, failed)."""
        failed = sum(1 for r in self._rows if r.error)
        low = sum(1 for r in self._rows if self.is_low(r))
        return len(self._rows) - failed, low, failed

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return describe(row, self.is_low(row), self.shown_k, self.is_not_sure(row))
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.prediction.source}\n{describe(row, self.is_low(row), len(row.top))}"
        if role == Qt.ItemDataRole.DecorationRole:
            if row.error:
                return None
            source = str(row.prediction.source)
            if self.show_heat and source in self._heat:
                return self._heat[source]
            return self._loader.get(source)
        if role == PREDICTION_ROLE:
            return row.prediction
        if role == LOW_ROLE:
            return self.is_low(row)
        if role == ERROR_ROLE:
            return row.error
        return None

    def title(self, index: QModelIndex) -> str:
        title = self._rows[index.row()].title
        return title.redo() if isinstance(title, Tr) else title  # "Pasted image 2", translated

    def retranslate(self) -> None:
        """Rows describe themselves at paint time: repaint them in the current language."""
        self._refresh_all()

    def _refresh_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))

    def _on_thumbnail(self, path: str) -> None:
        for row in self._row_of.get(path, []):
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def describe(row: ResultRow, low: bool, k: int, not_sure: bool = False) -> str:
    """One line of plain text for a result (also what screen readers and copy get)."""
    title = row.title.redo() if isinstance(row.title, Tr) else row.title
    if row.error:
        return translate("prediction_results", "{title}: not predicted: {error}. Check the file, "
                         "or save it as JPEG or PNG and add it again.").format(
            title=title, error=row.error)
    labels = " · ".join(f"{label} {percent(p)}" for label, p in row.top[:k])
    if not_sure:
        return translate("prediction_results", "{title}: not sure (none of the classes fits "
                         "well): {labels}").format(title=title, labels=labels)
    if low:
        return translate("prediction_results", "{title}: {labels} (low confidence)").format(
            title=title, labels=labels)
    return f"{title}: {labels}"


class PredictionDelegate(QStyledItemDelegate):
    THUMB = 80
    LINE = 22
    PAD = 8

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # Each painter draws a small mark on a result: (painter, option, index, thumbnail
        # rect). Features add theirs (the feedback verdict) without knowing each other.
        self.mark_painters: list = []

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        k = index.model().shown_k
        height = max(self.THUMB, self.LINE * (k + 1)) + 2 * self.PAD
        return QSize(480, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        model: PredictionModel = index.model()
        palette: QPalette = option.palette
        style = option.widget.style() if option.widget else None
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.Highlight))
        elif index.row() % 2:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.AlternateBase))
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        r = option.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        thumb = QRect(r.left(), r.top(), self.THUMB, self.THUMB)
        error = index.data(ERROR_ROLE)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if error and style:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            icon.paint(painter, thumb.adjusted(20, 20, -20, -20))
        elif pixmap is not None:
            scaled = pixmap.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(thumb.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.fillRect(thumb, palette.color(QPalette.ColorRole.AlternateBase))
        left = thumb.right() + 2 * self.PAD
        text_rect = QRect(left, r.top(), r.right() - left, self.LINE)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.color(text_role))
        title = model.title(index)
        low = bool(index.data(LOW_ROLE))
        if low and model.not_sure:
            title = translate("PredictionDelegate", "{title}  ? not sure: none of the classes "
                              "fits well (best guesses below)").format(title=title)
        elif low:
            title = translate("PredictionDelegate", "{title}  ⚠ low confidence: check this one"
                              ).format(title=title)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideMiddle,
                                                       text_rect.width()))
        painter.setFont(option.font)
        body = QRect(left, r.top() + self.LINE, r.right() - left, r.height() - self.LINE)
        if error:
            painter.drawText(body, Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                             translate("PredictionDelegate", "Not predicted: {error}. Check the "
                                       "file, or save it as JPEG or PNG and add it again."
                                       ).format(error=error))
        else:
            top = index.data(PREDICTION_ROLE).top[:model.shown_k]
            for i, (label, p) in enumerate(top):
                line = QRect(left, body.top() + i * self.LINE, body.width(), self.LINE)
                self._paint_bar(painter, option, line, label, p, selected, emphasise=i == 0)
        for paint_mark in self.mark_painters:
            paint_mark(painter, option, index, thumb)
        painter.restore()

    def _paint_bar(self, painter: QPainter, option, rect: QRect, label: str, p: float,
                   selected: bool, emphasise: bool) -> None:
        palette = option.palette
        metrics = QFontMetrics(option.font)
        label_w = min(220, rect.width() // 3)
        pct_w = metrics.horizontalAdvance("100 %") + self.PAD
        # Bars longer than ~400 px make small differences hard to compare: cap them.
        bar_w = max(10, min(400, rect.width() - label_w - pct_w - 2 * self.PAD))
        bar = QRect(rect.left() + label_w + self.PAD, rect.top() + 5, bar_w, rect.height() - 10)
        pen = palette.color(QPalette.ColorRole.HighlightedText if selected
                            else QPalette.ColorRole.Text)
        painter.setPen(pen)
        font = QFont(option.font)
        font.setBold(emphasise)
        painter.setFont(font)
        painter.drawText(QRect(rect.left(), rect.top(), label_w, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight, label_w))
        painter.setFont(option.font)
        painter.fillRect(bar, palette.color(QPalette.ColorRole.Midlight if not selected
                                            else QPalette.ColorRole.Dark))
        filled = QRect(bar.left(), bar.top(), max(1, round(bar.width() * p)), bar.height())
        colour = palette.color(QPalette.ColorRole.HighlightedText if selected
                               else QPalette.ColorRole.Highlight)
        painter.fillRect(filled, colour)
        painter.setPen(pen)
        painter.drawText(QRect(bar.right() + self.PAD, rect.top(), pct_w - self.PAD, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, percent(p))


class PredictionList(QListView):
    """The results view; `results_model` holds the rows. Empty, it says what will appear."""

    EMPTY_TEXT = QT_TRANSLATE_NOOP(
        "PredictionList", "Results appear here: each image with its most likely labels and how "
        "sure the model is. Results below the “Mark below” confidence are flagged.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = ThumbnailLoader(size=PredictionDelegate.THUMB, parent=self)
        self.results_model = PredictionModel(self.loader, self)
        self.setModel(self.results_model)
        self.setItemDelegate(PredictionDelegate(self))
        self.setUniformItemSizes(True)
        self.setAcceptDrops(False)  # drops belong to the tab's drop handling
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Each provider gives a result row's menu entries: (text, slot) pairs, [] for none.
        # Features add theirs (why by example, feedback) without knowing each other.
        self.menu_providers: list = []

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt API)
        from gui.errors import on_action

        index = self.indexAt(event.pos())
        if not index.isValid():
            return
        self.setCurrentIndex(index)
        menu = QMenu(self)
        for provide in self.menu_providers:
            entries = provide(index.row())
            if entries and not menu.isEmpty():
                menu.addSeparator()
            for text, slot in entries:
                action = menu.addAction(text)
                action.triggered.connect(on_action(self, slot, text))
        if not menu.isEmpty():
            menu.exec(event.globalPos())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)
        if self.results_model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorGroup.Disabled,
                                                QPalette.ColorRole.Text))
            rect = self.viewport().rect().adjusted(32, 32, -32, -32)
            painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                             | Qt.TextFlag.TextWordWrap,
                             translate("PredictionList", self.EMPTY_TEXT))
            painter.end()

    def retranslate(self) -> None:
        self.results_model.retranslate()
        self.viewport().update()

    def reveal(self, row: int) -> None:
        """Scroll to result `row` and select it (new results are shown where they are)."""
        index = self.results_model.index(row)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
