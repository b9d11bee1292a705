"""The rows of the review view: suspicious images (or near-duplicate pairs) with the
user's decision on each, as a Qt list model the review grid shows with thumbnails."""
from __future__ import annotations

import os

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap

from engine.review.decisions import Decision
from gui.i18n import translate
from gui.widgets.dataset_parts import split_name

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def decision_text(decision: Decision | None, names: dict[str, str], kind: str = "labels") -> str:
    if decision is None:
        return translate("ReviewModel", "undecided")
    if decision.action == "relabel" and kind == "proposals":  # sorting: the class confirmed
        return translate("ReviewModel", "✓ {name}").format(
            name=names.get(decision.label, decision.label))
    if decision.action == "relabel":
        return translate("ReviewModel", "→ relabel as {name}").format(
            name=names.get(decision.label, decision.label))
    return {"keep": translate("ReviewModel", "✓ keep"),
            "exclude": translate("ReviewModel", "✗ exclude")}[decision.action]


class ReviewModel(QAbstractListModel):
    """Rows: engine.review label issues (kind 'labels'), duplicate pairs ('duplicates') or
    an unsorted folder's images with their proposed class ('proposals': path, proposed,
    confidence, second, second_confidence; a decision confirms a class or excludes).

    A duplicate pair's decision is about its second image (the copy found later)."""

    def __init__(self, loader, kind: str, parent=None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._loader = loader
        self._rows: list[dict] = []
        self._row_of: dict[str, list[int]] = {}
        self.decisions: dict[str, Decision] = {}
        self.names: dict[str, str] = {}  # class folder -> display name
        loader.ready.connect(self._on_ready)

    # -- rows ------------------------------------------------------------------------
    def set_rows(self, rows: list[dict], names: dict[str, str]) -> None:
        self.beginResetModel()
        self._rows, self.names = list(rows), dict(names)
        self._row_of = {}
        for i, row in enumerate(self._rows):
            for path in self.images(i):
                self._row_of.setdefault(path, []).append(i)
        self.endResetModel()

    def row(self, i: int) -> dict:
        return self._rows[i]

    def images(self, i: int) -> list[str]:
        row = self._rows[i]
        return [row["path"]] if self.kind != "duplicates" else [row["first"], row["second"]]

    def subject(self, i: int) -> str:
        """The image a decision on row i is about."""
        row = self._rows[i]
        return row["path"] if self.kind != "duplicates" else row["second"]

    def decide(self, i: int, decision: Decision | None) -> None:
        path = self.subject(i)
        if decision is None:
            self.decisions.pop(path, None)
        else:
            self.decisions[path] = decision
        index = self.index(i)
        self.dataChanged.emit(index, index)

    def decided(self) -> int:
        return sum(self.subject(i) in self.decisions for i in range(len(self._rows)))

    def refresh_texts(self) -> None:
        """Ask the views to read every caption again (after a language switch)."""
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))

    # -- Qt model --------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        i, row = index.row(), self._rows[index.row()]
        decision = self.decisions.get(self.subject(i))
        if role == Qt.ItemDataRole.DisplayRole:
            return self._caption(row) + "\n" + decision_text(decision, self.names, self.kind)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._picture(i)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(self.images(i))
        if role == Qt.ItemDataRole.ForegroundRole and decision is not None:
            return QColor(120, 120, 120)
        if role == PATH_ROLE:
            return self.subject(i)
        return None

    def _caption(self, row: dict) -> str:
        if self.kind == "proposals" and row.get("unproposed"):
            return translate("ReviewModel", "not sorted yet")
        if self.kind == "proposals":
            return translate("ReviewModel", "{proposed}? {confidence}\n({second} "
                             "{second_confidence})").format(
                proposed=row["proposed"], confidence=f"{row['confidence']:.0%}",
                second=row["second"], second_confidence=f"{row['second_confidence']:.0%}")
        if self.kind == "labels":
            return translate("ReviewModel", "{given} → {suggested}?\nlabel quality {score} · "
                             "{split}").format(given=row["given"], suggested=row["suggested"],
                                               score=f"{row['score']:.2f}",
                                               split=split_name(row["split"]))
        where = (f"{split_name(row['first_split'])} ↔ {split_name(row['second_split'])}"
                 if row["across_splits"] else split_name(row["first_split"]))
        # both images of the pair, in the order of the picture (the decision is the second's)
        return translate("ReviewModel", "{first} ↔ {second}\nsimilarity {similarity} · "
                         "{where}").format(first=os.path.basename(row["first"]),
                                           second=os.path.basename(row["second"]),
                                           similarity=f"{row['similarity']:.3f}", where=where)

    def _picture(self, i: int) -> QPixmap | None:
        pixmaps = [self._loader.get(p) for p in self.images(i)]
        if any(p is None for p in pixmaps):
            return None
        if len(pixmaps) == 1:
            return pixmaps[0]
        size = self._loader.size  # a pair: both images, side by side
        joined = QPixmap(2 * size + 4, size)
        joined.fill(QColor(0, 0, 0, 0))
        painter = QPainter(joined)
        for k, pixmap in enumerate(pixmaps):
            painter.drawPixmap(k * (size + 4) + (size - pixmap.width()) // 2,
                               (size - pixmap.height()) // 2, pixmap)
        painter.end()
        return joined

    def _on_ready(self, path: str) -> None:
        for i in self._row_of.get(path, ()):
            index = self.index(i)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
