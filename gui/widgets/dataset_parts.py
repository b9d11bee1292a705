"""Small pieces of the dataset tab: split settings, the imbalance rule, recent folders."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QDoubleSpinBox, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QSpinBox, QStyle, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from gui.i18n import dynamic, translate
from gui.widgets.drop_zone import DropZone

DEFAULTS = {"val_fraction": 0.15, "test_fraction": 0.15, "seed": 42}
SPLITS = ("train", "val", "test")
COLUMNS = [QT_TRANSLATE_NOOP("ClassTable", "Class"), QT_TRANSLATE_NOOP("ClassTable", "Folder"),
           QT_TRANSLATE_NOOP("ClassTable", "Train"), QT_TRANSLATE_NOOP("ClassTable", "Val"),
           QT_TRANSLATE_NOOP("ClassTable", "Test"), QT_TRANSLATE_NOOP("ClassTable", "Total")]
SPLIT_NAMES = {"train": QT_TRANSLATE_NOOP("Splits", "train"),
               "val": QT_TRANSLATE_NOOP("Splits", "val"),
               "test": QT_TRANSLATE_NOOP("Splits", "test")}
NAME_COL, FOLDER_COL = 0, 1
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def split_name(split: str) -> str:
    """A split ("train", "val", "test") as the user reads it; other values as they are."""
    return translate("Splits", SPLIT_NAMES[split]) if split in SPLIT_NAMES else split


def split_counts_text(counts: dict[str, int]) -> str:
    """'train 100 · val 20 · test 20' (empty splits left out, numbers with separators)."""
    def make() -> str:
        parts = [translate("Splits", "{split} {count}").format(split=split_name(s),
                                                                count=f"{counts[s]:,}")
                 for s in SPLITS if counts.get(s, 0)]
        return " · ".join(parts) or translate("Splits", "no images")

    return dynamic(make)


def imbalance_warning(per_class: dict[str, int]) -> tuple[str, set[str]]:
    """(plain warning or "", names of the classes much smaller than the largest).

    `per_class` counts training images; the ratio is the engine's, so this summary and
    the scan's per-class problems always agree on which classes are too small.
    """
    from engine.data.validation import IMBALANCE_RATIO

    if len(per_class) < 2:
        return "", set()
    biggest = max(per_class, key=per_class.get)
    top = per_class[biggest]
    small = {n for n, c in per_class.items() if c * IMBALANCE_RATIO <= top}
    if not small or top == 0:
        return "", set()
    ranked = sorted(small, key=lambda n: per_class[n])
    if len(ranked) == 1:
        name = ranked[0]
        ratio = top / max(per_class[name], 1)
        text = translate("DatasetParts",
                         "“{name}” has {count} training images, {ratio}× fewer than "
                         "“{biggest}” ({top}). The model may rarely predict the small classes. "
                         "Add images to them if you can, or remove some from the largest "
                         "ones.").format(
            name=name, count=f"{per_class[name]:,}", ratio=f"{ratio:.0f}", biggest=biggest,
            top=f"{top:,}")
        return text, small
    listed = ", ".join(f"{n} ({per_class[n]:,})" for n in ranked[:5])
    values = {"count": len(ranked), "ratio": f"{IMBALANCE_RATIO:.0f}", "biggest": biggest,
              "top": f"{top:,}", "listed": listed, "more": len(ranked) - 5}
    if len(ranked) > 5:
        text = translate("DatasetParts",
                         "{count} classes have at least {ratio}× fewer training images than "
                         "“{biggest}” ({top}): {listed} and {more} more. The model may rarely "
                         "predict the small classes. Add images to them if you can, or remove "
                         "some from the largest ones.").format(**values)
    else:
        text = translate("DatasetParts",
                         "{count} classes have at least {ratio}× fewer training images than "
                         "“{biggest}” ({top}): {listed}. The model may rarely predict the small "
                         "classes. Add images to them if you can, or remove some from the "
                         "largest ones.").format(**values)
    return text, small


def recent_folders(settings) -> list[str]:
    """Recent dataset folders from gui.settings.Settings (or any object offering them)."""
    if settings is None:
        return []
    if hasattr(settings, "recent"):
        return list(settings.recent("datasets"))
    if hasattr(settings, "recent_folders"):
        return list(settings.recent_folders())
    return []


def remember_folder(settings, path: str) -> None:
    if settings is None:
        return
    if hasattr(settings, "add_recent"):
        settings.add_recent("datasets", path)
    elif hasattr(settings, "add_recent_folder"):
        settings.add_recent_folder(path)


class SplitBox(QGroupBox):
    """Validation/test fractions and seed, shown only when the split is automatic."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(translate("SplitBox", "Automatic split (the folder has no train/val/test "
                                   "folders)"), parent)
        row = QHBoxLayout(self)  # one row: the class table above keeps its height
        row.setContentsMargins(8, 8, 8, 8)
        row.setSpacing(8)
        self.val = self._percent(translate("SplitBox", "Share of each class held out to choose "
                                           "the best epoch."))
        self.test = self._percent(translate("SplitBox", "Share of each class kept aside for the "
                                            "final, honest score."))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip(translate("SplitBox", "Same seed, same split: change it to draw a "
                                       "different split."))
        self.seed.valueChanged.connect(self.changed)
        # "share", not "Validation"/"Test": the class table's "Test" column holds counts, and
        # one English text may have only one translation (gui.i18n re-makes texts by text)
        for label, box in ((translate("SplitBox", "Validation share"), self.val),
                           (translate("SplitBox", "Test share"), self.test),
                           (translate("SplitBox", "Seed"), self.seed)):
            row.addWidget(QLabel(label))
            row.addWidget(box, 1)
        self.reset()

    def _percent(self, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 45.0)
        box.setDecimals(0)
        box.setSingleStep(5.0)
        box.setSuffix(" %")
        box.setToolTip(tip)
        box.valueChanged.connect(self.changed)
        return box

    def values(self) -> dict:
        return {"val_fraction": self.val.value() / 100.0,
                "test_fraction": self.test.value() / 100.0, "seed": self.seed.value()}

    def reset(self) -> None:
        """Back to the defaults, silently (a new folder is not a change of split)."""
        for box, value in ((self.val, DEFAULTS["val_fraction"] * 100),
                           (self.test, DEFAULTS["test_fraction"] * 100),
                           (self.seed, DEFAULTS["seed"])):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)


class EmptyState(DropZone):
    """The dataset tab before any folder: what to do, the two buttons that do it, recents.

    It is also the drop zone (the tab forwards drops from anywhere to it).
    Signal `recent_chosen(path)`.
    """

    recent_chosen = Signal(str)

    def __init__(self, accept_paths, parent: QWidget | None = None) -> None:
        super().__init__(translate("EmptyState", "…or drop a folder of images anywhere here"),
                         parent, accept_paths=accept_paths, accept_images=False)
        inner = self.content_layout()
        inner.setContentsMargins(48, 48, 48, 48)
        title = QLabel(translate("EmptyState", "Start with a folder of labelled images"))
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain = QLabel(translate(
            "EmptyState",
            "Put each class in its own subfolder (pets/beagle/*.jpg, pets/pug/*.jpg), "
            "or use train/val/test folders with class subfolders inside, or a CSV "
            "file of path,label. Photos not sorted yet? Unsorted folder… proposes a class "
            "for each and you confirm. No data yet? The demo dataset has four classes of "
            "coloured shapes and trains in a minute."))
        explain.setWordWrap(True)
        explain.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explain.setMaximumWidth(560)
        text_row = QHBoxLayout()  # stretches, not an alignment flag: keeps word-wrap height right
        text_row.addStretch(1)
        text_row.addWidget(explain, 100)
        text_row.addStretch(1)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.choose_button = QPushButton(translate("EmptyState", "Choose a folder of images…"))
        self.choose_button.setDefault(True)
        self.demo_button = QPushButton(translate("EmptyState", "Create demo dataset"))
        self.unsorted_button = QPushButton(translate("EmptyState", "Unsorted folder…"))
        buttons.addStretch(1)
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.unsorted_button)  # gui.sorting_view connects it
        buttons.addStretch(1)
        self._recent_box = QVBoxLayout()
        self._recent_box.setSpacing(0)
        # Centred column: stretch, title, text, buttons, the zone's own drop hint, recents.
        inner.insertStretch(0, 1)
        inner.insertWidget(1, title)
        inner.insertLayout(2, text_row)
        inner.insertSpacing(3, 8)
        inner.insertLayout(4, buttons)
        inner.addSpacing(16)
        inner.addLayout(self._recent_box)
        inner.addStretch(1)

    def set_recent(self, folders: list[str]) -> None:
        while self._recent_box.count():
            item = self._recent_box.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for folder in folders:
            button = QPushButton(translate("EmptyState", "Open recent: {folder}").format(
                folder=folder))
            button.setFlat(True)
            button.clicked.connect(lambda _=False, f=folder: self.recent_chosen.emit(f))
            self._recent_box.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)


class ClassTable(QTableWidget):
    """Classes with image counts per split; the name column is editable.

    Signal `name_edited(row, text)` when the user changes a display name (never while
    the table is being filled).
    """

    name_edited = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self._filling = False
        self.setHorizontalHeaderLabels([translate("ClassTable", c) for c in COLUMNS])
        self._set_header_tip()
        for col in range(2, len(COLUMNS)):
            self.horizontalHeaderItem(col).setTextAlignment(RIGHT)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        for col in range(FOLDER_COL, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.itemChanged.connect(self._on_item_changed)

    def fill(self, index, flagged: set[str]) -> None:
        """Show `index`'s classes; names in `flagged` get a warning icon."""
        counts = index.counts()
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self._filling = True
        self.setRowCount(len(index.classes))
        for row, info in enumerate(index.classes):
            name = QTableWidgetItem(info.display_name)
            name.setToolTip(self._name_tip(info.folder))
            if info.display_name in flagged:
                name.setIcon(warn)
            self.setItem(row, NAME_COL, name)
            c = counts.get(info.folder, {})
            cells = [info.folder] + [f"{n:,}" for n in [c.get(s, 0) for s in SPLITS]
                                     + [sum(c.values())]]
            for col, text in enumerate(cells, start=FOLDER_COL):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if col > FOLDER_COL:
                    item.setTextAlignment(RIGHT)  # numbers line up by their last digit
                self.setItem(row, col, item)
        self._filling = False

    def retranslate(self) -> None:
        """Header and item tool tips (the walk re-makes header texts, not these)."""
        self._set_header_tip()
        self._filling = True  # a changed tool tip is an itemChanged, not a rename
        for row in range(self.rowCount()):
            name, folder = self.item(row, NAME_COL), self.item(row, FOLDER_COL)
            if name is not None and folder is not None:
                name.setToolTip(self._name_tip(folder.text()))
        self._filling = False

    def _set_header_tip(self) -> None:
        self.horizontalHeaderItem(NAME_COL).setToolTip(translate(
            "ClassTable", "Display name, used in zero-shot prompts ('a photo of a …') and in "
            "results. Double-click to edit."))

    @staticmethod
    def _name_tip(folder: str) -> str:
        return translate("ClassTable", "Folder: {folder}\nDouble-click to rename").format(
            folder=folder)

    def set_name(self, row: int, text: str) -> None:
        """Change a shown name without reporting it as an edit."""
        self._filling = True
        self.item(row, NAME_COL).setText(text)
        self._filling = False

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == NAME_COL:
            self.name_edited.emit(item.row(), item.text())
