"""The Dataset tab's map page: the map (gui.widgets.dataset_map) with its legend, and the
selected images in a grid below, where they can be relabelled or excluded together.

For a labelled dataset the decisions are saved like the review view's (a reviewed CSV
dataset in the app's data folder; the user's folder is never touched). An unsorted folder
(show_points, from the sorting view) gets the same map; its decisions go out by `decided`.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QVBoxLayout, QWidget)

from engine.review.decisions import Decision
from gui.errors import on_action
from gui.i18n import translate
from gui.widgets.dataset_map import DUPLICATE, MISTAKE, NO_CLASS, OUT, DatasetMap
from gui.widgets.image_grid import ImageGrid

HINT = QT_TRANSLATE_NOOP("MapPage", "Drag to select a rectangle · hold Shift (or turn on Lasso) "
                         "to draw around dots · click a dot to pick one image · wheel zooms · "
                         "right-drag pans")


def _swatch(colour, ring: str = "") -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if ring:
        painter.setPen(QPen(colour, 2))
        (painter.drawEllipse if ring == MISTAKE else painter.drawRect)(2, 2, 10, 10)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(2, 2, 10, 10)
    painter.end()
    return QIcon(pixmap)


class MapPage(QWidget):
    """Signals: back(), save_requested(decisions dict), decided(list of Decision) after
    each relabel or exclude, layout_requested(paths, vectors) when show_points needs a
    layout computed, image_selected(path) for "more like this"."""

    back = Signal()
    save_requested = Signal(dict)
    decided = Signal(list)
    layout_requested = Signal(list, object)
    image_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        bar.addWidget(self.title, 1)
        self.lasso_button = QPushButton(translate("MapPage", "Lasso"))
        self.lasso_button.setCheckable(True)
        self.lasso_button.setToolTip(translate("MapPage", "Drag draws a freehand outline "
                                               "instead of a rectangle (or hold Shift)"))
        self.lasso_button.toggled.connect(on_action(
            self.lasso_button, lambda on: setattr(self.map.view, "lasso", on)))
        self.fit_button = QPushButton(translate("MapPage", "Fit"))
        self.fit_button.setToolTip(translate("MapPage", "Show the whole map"))
        self.fit_button.clicked.connect(on_action(self.fit_button, lambda: self.map.fit()))
        self.back_button = QPushButton(translate("MapPage", "Back to the dataset"))
        self.back_button.clicked.connect(on_action(self.back_button, self.back.emit))
        for button in (self.lasso_button, self.fit_button, self.back_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.hint = QLabel(translate("MapPage", HINT))
        self.hint.setEnabled(False)  # a quiet hint in the palette's disabled colour
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        split = QSplitter(Qt.Orientation.Vertical)
        top = QSplitter(Qt.Orientation.Horizontal)
        self.map = DatasetMap()
        self.legend = QListWidget()
        self.legend.setToolTip(translate("MapPage", "Click a class to select its images"))
        self.legend.itemClicked.connect(on_action(
            self.legend, self._on_legend_clicked, translate("MapPage", "Select a class")))
        top.addWidget(self.map)
        top.addWidget(self.legend)
        top.setStretchFactor(0, 4)
        top.setStretchFactor(1, 1)
        top.setSizes([800, 220])
        split.addWidget(top)
        split.addWidget(self._build_selection())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self.map.selection_changed.connect(self._on_selection)
        self.map.image_selected.connect(self.image_selected)
        self.grid.image_activated.connect(self.image_selected)
        self.source = ""
        self.class_keys: list[str] = []  # what a relabel writes (class folders, or names)
        self.base_codes = np.zeros(0, dtype=np.int64)
        self.decisions: dict[str, Decision] = {}
        self.history: list[dict[str, Decision | None]] = []
        self.saveable = False
        self.vectors = None  # the embeddings of map.paths ("more like this" searches them)
        self.class_names: list[str] = []
        self._update_title()

    def _build_selection(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.selection_label = QLabel()
        row.addWidget(self.selection_label, 1)
        self.class_box = QComboBox()
        self.relabel_button = QPushButton(translate("MapPage", "Relabel as"))
        self.relabel_button.setToolTip(translate("MapPage", "Give every selected image the "
                                                 "class chosen beside"))
        self.relabel_button.clicked.connect(on_action(self.relabel_button, self.relabel))
        self.exclude_button = QPushButton(translate("MapPage", "Exclude"))
        self.exclude_button.setToolTip(translate("MapPage", "Leave every selected image out "
                                                 "of the dataset"))
        self.exclude_button.clicked.connect(on_action(self.exclude_button, self.exclude))
        self.undo_button = QPushButton(translate("MapPage", "Undo"))
        self.undo_button.clicked.connect(on_action(self.undo_button, self.undo))
        self.save_button = QPushButton(translate("MapPage", "Save reviewed dataset"))
        self.save_button.setToolTip(translate("MapPage", "Write the dataset with these "
                                              "decisions as a CSV dataset in LoRA Studio's data "
                                              "folder and open it: your folder stays as it is"))
        self.save_button.clicked.connect(on_action(
            self.save_button, lambda: self.save_requested.emit(dict(self.decisions))))
        for widget in (self.relabel_button, self.class_box, self.exclude_button,
                       self.undo_button, self.save_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.grid = ImageGrid()
        self.grid.setMinimumHeight(150)  # one whole row of thumbnails with their captions
        layout.addWidget(self.grid, 1)
        self.selection_layout = layout  # "more like this" puts its panel under the grid
        return box

    # -- what is shown -------------------------------------------------------------------
    def set_dataset(self, points, index, marks=None, pairs=None) -> None:
        """A labelled dataset's map: `points` (engine MapPoints; labels are class folders),
        `index` the DatasetIndex on screen (its display names), marks {path: kind}."""
        folders = [c.folder for c in index.classes]
        code = {f: i for i, f in enumerate(folders)}
        codes = [code.get(label, NO_CLASS) for label in points.labels]
        self._show(points.paths, codes, [c.display_name for c in index.classes], folders,
                   points.source, marks, pairs, saveable=True)
        self.vectors = points.vectors

    def show_points(self, paths, vectors, labels, class_names, marks=None) -> None:
        """Map images whose embeddings are already computed (an unsorted folder's, labels
        = the proposed class name or "" for none); the layout is computed in the background
        (layout_requested) and arrives by set_layout."""
        code = {name: i for i, name in enumerate(class_names)}
        codes = [code.get(label, NO_CLASS) for label in labels]
        self._show(list(paths), codes, list(class_names), list(class_names), "", marks, None,
                   saveable=False)
        self.vectors = vectors
        self.layout_requested.emit(list(paths), vectors)

    def _show(self, paths, codes, names, keys, source, marks, pairs, *, saveable) -> None:
        self.class_keys, self.source, self.saveable = keys, source, saveable
        self.class_names = list(names)
        self.base_codes = np.asarray(codes, dtype=np.int64)
        self.decisions, self.history = {}, []
        self.map.set_points(paths, self.base_codes, names, marks=marks, pairs=pairs)
        self.class_box.clear()
        self.class_box.addItems(names)
        self.save_button.setVisible(saveable)
        self._on_selection([])
        self._refresh()

    def set_layout(self, xy) -> None:
        self.map.set_layout(xy)

    # -- decisions -----------------------------------------------------------------------
    def relabel(self) -> None:
        k = self.class_box.currentIndex()
        if k >= 0:
            self._decide([Decision(p, "relabel", self.class_keys[k])
                          for p in self.map.selected_paths()])

    def exclude(self) -> None:
        self._decide([Decision(p, "exclude") for p in self.map.selected_paths()])

    def undo(self) -> None:
        if not self.history:
            return
        for path, before in self.history.pop().items():
            if before is None:
                self.decisions.pop(path, None)
            else:
                self.decisions[path] = before
        self._refresh()

    def _decide(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        self.history.append({d.path: self.decisions.get(d.path) for d in decisions})
        self.decisions.update({d.path: d for d in decisions})
        self._refresh()
        self.decided.emit(decisions)

    def _refresh(self) -> None:
        codes = self.base_codes.copy()
        row = {p: i for i, p in enumerate(self.map.paths)}
        index = {k: i for i, k in enumerate(self.class_keys)}
        for path, d in self.decisions.items():
            codes[row[path]] = OUT if d.action == "exclude" else index.get(d.label, NO_CLASS)
        self.map.set_codes(codes)
        self.undo_button.setEnabled(bool(self.history))
        self.save_button.setEnabled(bool(self.decisions))
        self._fill_legend()
        self._update_title()

    # -- legend, title, selection --------------------------------------------------------
    def _fill_legend(self) -> None:
        self.legend.clear()
        codes, names = self.map.codes, self.map.class_names
        counts = np.bincount(codes[codes >= 0], minlength=len(names)) if len(codes) else []
        rows = [(self.map.colour(i), name, int(counts[i]), i) for i, name in enumerate(names)]
        for code, text in ((NO_CLASS, translate("MapPage", "no label")),
                           (OUT, translate("MapPage", "excluded"))):
            if (codes == code).any():
                rows.append((self.map.colour(code), text, int((codes == code).sum()), code))
        for colour, name, count, code in rows:
            item = QListWidgetItem(_swatch(colour), f"{name}  ({count:,})")
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.legend.addItem(item)
        marks = list(self.map.marks.values())
        for kind, colour, text in (
                (MISTAKE, "#e65100", translate("MapPage", "likely label mistake")),
                (DUPLICATE, "#c2185b", translate("MapPage", "near-duplicate"))):
            if kind in marks:
                item = QListWidgetItem(_swatch(QColor(colour), kind),
                                       f"{text}  ({marks.count(kind):,})")
                item.setData(Qt.ItemDataRole.UserRole, kind)
                self.legend.addItem(item)

    def _on_legend_clicked(self, item: QListWidgetItem) -> None:
        code = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(code, str):  # a mark: its images
            self.map.set_selection(np.array([self.map.marks.get(p) == code
                                             for p in self.map.paths], dtype=bool))
        else:
            self.map.set_selection(self.map.codes == code)

    def _update_title(self) -> None:
        count = len(self.map.paths)
        text = translate("MapPage", "<b>Map</b> of {count} images").format(count=f"{count:,}")
        if self.source:
            text += f" · {self.source}"
        if self.decisions:
            text += " · " + translate("MapPage", "{count} decisions").format(
                count=f"{len(self.decisions):,}")
            if self.saveable:
                text += " " + translate("MapPage", "(not saved yet)")
        self.title.setText(text)

    def _on_selection(self, paths: list) -> None:
        self.grid.set_paths(paths)
        self.selection_label.setText(translate("MapPage", "{count} selected").format(
            count=f"{len(paths):,}") if paths else translate(
            "MapPage", "Select dots on the map to see their images here"))
        for button in (self.relabel_button, self.exclude_button):
            button.setEnabled(bool(paths))
        self.class_box.setEnabled(bool(paths))

    # -- what "more like this" reads ----------------------------------------------------
    def labels(self) -> dict[str, str]:
        """Each image's class name as the map shows it ("" for none)."""
        names = self.class_names
        return {p: names[c] if 0 <= c < len(names) else ""
                for p, c in zip(self.map.paths, self.base_codes.tolist())}

    def current_path(self) -> str:
        from gui.widgets.image_grid import PATH_ROLE

        index = self.grid.currentIndex()
        return index.data(PATH_ROLE) or "" if index.isValid() else ""

    def go_to(self, path: str) -> None:
        """Select the dot of `path` (a neighbour chosen in the "more like this" panel)."""
        self.map.set_selection(np.array([p == path for p in self.map.paths], dtype=bool))
        self.grid.setCurrentIndex(self.grid.model().index(0))

    def shutdown(self) -> None:
        self.map.shutdown()
        self.grid.loader.shutdown()
