"""The sorting view's Map button: the folder's images on the map (coloured by the
confirmed, else the proposed class) without embedding them again; decisions taken on the
map (relabel or exclude a lasso selection) become the sorting's decisions, one undo step
each, taken back by the map's Undo too."""
from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from gui.errors import on_action
from gui.i18n import translate


def attach_sorting_map(view) -> QPushButton:
    """The sorting page's Map button; returns it."""
    tab, page, mp = view.tab, view.page, view.tab.map_page
    button = QPushButton(translate("SortingMap", "Map"))
    button.setToolTip(translate("SortingMap", "Every image of the folder as a dot, similar "
                                "images close together, coloured by class: select a group "
                                "with the lasso to confirm or exclude it at once"))
    page.bar.insertWidget(page.bar.indexOf(page.repropose_button) + 1, button)
    active = {"on": False}  # the map shows the sorting's images (not the dataset's)

    def open_map() -> None:
        if page.result is None:
            return
        active["on"] = True
        tab.map_return = page
        mp.back_button.setText(translate("SortingMap", "Back to sorting"))
        mp.show_points(page.paths, page.vectors, page.labels, page.classes)
        tab.pages.setCurrentWidget(mp)

    def on_decided(decisions) -> None:
        if active["on"]:
            page.apply_decisions(decisions)

    def on_undo() -> None:
        if active["on"]:
            page.undo()

    def on_page_changed(_n: int) -> None:
        if tab.pages.currentWidget() not in (mp, page):
            active["on"] = False
        if tab.pages.currentWidget() is not mp and not active["on"]:
            tab.map_return = None
            mp.back_button.setText(translate("MapPage", "Back to the dataset"))

    button.clicked.connect(on_action(button, open_map))
    mp.decided.connect(on_decided)
    mp.undo_button.clicked.connect(on_action(mp.undo_button, on_undo))
    tab.pages.currentChanged.connect(on_page_changed)
    return button
