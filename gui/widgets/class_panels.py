"""The Dataset tab's two panes: the classes (counts, names, split settings) and the gallery
of the chosen class's images, filtered by split."""
from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.errors import on_action
from gui.i18n import again, dynamic, translate
from gui.widgets.dataset_parts import SPLITS, ClassTable, SplitBox, split_counts_text
from gui.widgets.image_grid import ImageGrid


class ClassPanel(QWidget):
    """Totals, the class table (names editable), a notice line and the split settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        self.totals_label = QLabel()
        layout.addWidget(self.totals_label)
        self.table = ClassTable()
        layout.addWidget(self.table, 1)
        self.notice = QLabel()  # imbalance or naming notice
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        layout.addWidget(self.notice)
        hint = QLabel(translate("ClassPanel", "Double-click a class name to change how it is "
                                "shown and prompted."))
        hint.setEnabled(False)  # the palette's disabled text: a quiet hint in light and dark
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.split_box = SplitBox()
        layout.addWidget(self.split_box)

    def set_notice(self, text: str) -> None:
        # The notice is made again after a language switch (`text` is a translate() result).
        self.notice.setText(dynamic(lambda: "⚠ " + again(text)) if text else "")
        self.notice.setVisible(bool(text))


class ClassGallery(QWidget):
    """The images of one class as thumbnails, with its name, split counts and a split filter."""

    filter_changed = Signal()

    def __init__(self, loader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.setSpacing(8)
        bar = QHBoxLayout()
        self.title = QLabel()
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.split_filter = QComboBox()
        only = {"train": translate("ClassGallery", "Train only"),
                "val": translate("ClassGallery", "Val only"),
                "test": translate("ClassGallery", "Test only")}
        self.split_filter.addItem(translate("ClassGallery", "All splits"), "")
        for split in SPLITS:
            self.split_filter.addItem(only[split], split)
        self.split_filter.currentIndexChanged.connect(lambda *_: self.filter_changed.emit())
        bar.addWidget(self.title, 1)
        bar.addWidget(self.split_filter)
        layout.addLayout(bar)
        self.grid = ImageGrid(loader)
        self.grid.setToolTip(translate("ClassGallery", "Double-click an image to open it in your "
                                       "image viewer"))
        self.grid.image_activated.connect(on_action(
            self.grid, lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(path)),
            translate("ClassGallery", "Open an image")))
        layout.addWidget(self.grid, 1)

    def show_class(self, name: str, samples: list) -> None:
        """Show `samples` (one class's, every split) under `name`; '' clears the gallery."""
        if not name:
            self.grid.set_paths([])
            self.title.setText("")
            return
        split = self.split_filter.currentData()
        counts = {s: sum(x.split == s for x in samples) for s in SPLITS}
        self.title.setText(dynamic(lambda: f"{name}  ({split_counts_text(counts)})"))
        self.grid.set_paths([s.path for s in samples if not split or s.split == split])
