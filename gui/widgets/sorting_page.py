"""The sorting view: an unsorted folder's images grouped by proposed class, confirmed from
the keyboard exactly like the review view (K or Enter accept · 1–9 class N · X exclude ·
U undo · arrows), with counts, the proposer in use, "Ask me" and "Accept all above N %".

The grid keeps its rows while proposals are made again in the background: captions and
counts change in place, so the selection never jumps and no keypress is lost. Choosing a
group again regroups. Signals: image_selected(path), decisions_changed(), back(),
save_requested(), copy_requested(), repropose_requested().
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QHBoxLayout, QLabel, QListWidget,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from engine.review.decisions import Decision
from gui.errors import on_action
from gui.i18n import dynamic, translate
from gui.widgets.accept_preview import AcceptPreview
from gui.widgets.review_model import ReviewModel
from gui.widgets.review_page import THUMB, ReviewGrid
from gui.widgets.thumbnails import ThumbnailLoader

MARK = 0.5  # below this confidence an image waits under "?" instead of under its class
KEYS_HELP = QT_TRANSLATE_NOOP("SortingPage", "K or Enter accept · 1–9 class N · X exclude · "
                              "U undo · arrows move")
METHODS = {"zero-shot": QT_TRANSLATE_NOOP("SortingPage", "zero-shot head"),
           "prototypes": QT_TRANSLATE_NOOP("SortingPage", "your examples (class prototypes)"),
           "probe": QT_TRANSLATE_NOOP("SortingPage", "your examples (linear probe)")}


def _proposer_text(r) -> str:
    """Which proposer is in use, with its held-out accuracy once known."""
    if r.method == "none":
        return translate("SortingPage", "No proposals yet: {source} cannot name the classes, so "
                         "label one image of each class first (number keys; “Ask me” lists "
                         "images spread over the folder). Proposals start then.").format(
            source=r.source)
    method = translate("SortingPage", METHODS.get(r.method, r.method))
    if r.method == "zero-shot" and r.run:
        method = translate("SortingPage", "the trained run's head")
    text = translate("SortingPage", "Proposals from: {method} · embedded with {source}").format(
        method=method, source=r.source)
    if r.score is not None:
        text += " · " + translate("SortingPage", "right on {score} of your confirmed images it "
                                  "did not see").format(score=f"{r.score:.0%}")
    return text


class SortingPage(QWidget):
    image_selected = Signal(str)
    decisions_changed = Signal()
    back = Signal()
    save_requested = Signal()
    copy_requested = Signal()
    repropose_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = ThumbnailLoader(size=THUMB, parent=self)
        self.model = ReviewModel(self.loader, "proposals", self)
        self.grid = ReviewGrid(self.model)
        self.classes: list[str] = []
        self.result = None
        self._at: dict[str, int] = {}
        self.proposed_at: dict[str, str] = {}  # path -> the proposal shown when decided
        self.history: list[list[tuple[str, Decision | None, str | None]]] = []
        self.group = ("ask",)
        self._build()
        self.grid.decided.connect(self._on_decided)
        self.grid.undo_requested.connect(on_action(self.grid, self.undo, translate(
            "SortingPage", "Undo the last decision")))
        self.grid.selectionModel().currentChanged.connect(self._on_current)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title, self.source_label, self.counts_label = QLabel(), QLabel(), QLabel()
        for label in (self.title, self.source_label, self.counts_label):
            label.setWordWrap(True)
        # the title beside what ends the sorting (save, copy, back); the proposals' tools in
        # a row of their own, so the page fits the window's 1024 px in every language
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        layout.addLayout(top)
        layout.addWidget(self.source_label)
        layout.addWidget(self.counts_label)
        bar = QHBoxLayout()
        self.threshold = QSpinBox()
        self.threshold.setRange(50, 100)
        self.threshold.setValue(90)
        self.threshold.setSuffix(" %")
        self.accept_button = QPushButton(translate("SortingPage", "Accept above…"))
        self.accept_button.setToolTip(translate("SortingPage", "Confirm every image of this "
                                                "class proposed at or above the confidence, "
                                                "after a preview"))
        self.accept_button.clicked.connect(on_action(self.accept_button, self.accept_above))
        self.repropose_button = QPushButton(translate("SortingPage", "Re-propose with a trained "
                                                      "run…"))
        self.save_button = QPushButton(translate("SortingPage", "Save as dataset"))
        self.copy_button = QPushButton(translate("SortingPage", "Copy into class folders…"))
        self.move_box = QCheckBox(translate("SortingPage", "move instead"))
        self.back_button = QPushButton(translate("SortingPage", "Back"))
        for button, signal in ((self.repropose_button, self.repropose_requested),
                               (self.save_button, self.save_requested),
                               (self.copy_button, self.copy_requested),
                               (self.back_button, self.back)):
            button.clicked.connect(on_action(button, signal.emit))
        for w in (QLabel(translate("SortingPage", "Confidence:")), self.threshold,
                  self.accept_button, self.repropose_button):
            bar.addWidget(w)
        bar.addStretch(1)
        self.bar = bar  # the lead's Map button joins it
        for w in (self.save_button, self.copy_button, self.move_box, self.back_button):
            top.addWidget(w)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.groups = QListWidget()
        self.groups.currentRowChanged.connect(self._on_group)
        split.addWidget(self.groups)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        self.keys = QLabel()
        self.keys.setEnabled(False)
        self.keys.setWordWrap(True)
        column.addWidget(self.keys)
        column.addWidget(self.grid, 1)
        self.grid_column = column  # "more like this" puts its panel under the grid
        split.addWidget(right)
        split.setSizes([220, 800])
        layout.addWidget(split, 1)

    # -- what the lead's map and "more like this" read -----------------------------------
    @property
    def paths(self) -> list[str]:
        return list(self.result.paths) if self.result else []

    @property
    def vectors(self):
        return self.result.vectors if self.result else None

    @property
    def labels(self) -> list[str]:
        """Per path: the confirmed class, else the proposed one ("" when excluded)."""
        out = []
        for i, path in enumerate(self.paths):
            d = self.model.decisions.get(path)
            out.append(("" if d.action == "exclude" else d.label) if d else
                       "" if self.result.method == "none" else
                       self.classes[int(self.result.best[i])])
        return out

    def confirmed(self) -> dict[str, str]:
        return {p: d.label for p, d in self.model.decisions.items() if d.action == "relabel"}

    def excluded(self) -> list[str]:
        return sorted(p for p, d in self.model.decisions.items() if d.action == "exclude")

    # -- showing -------------------------------------------------------------------------
    def start(self, folder: str, classes: list[str], result, confirmed: dict[str, str],
              excluded: list[str], proposed: dict[str, str]) -> None:
        """A new sorting (or a resumed one): `result` is a gui.sorting_flow.SortResult."""
        self.folder, self.classes = folder, list(classes)
        self.history = []
        self.model.decisions = {p: Decision(p, "relabel", c) for p, c in confirmed.items()}
        self.model.decisions.update({p: Decision(p, "exclude") for p in excluded})
        self.proposed_at = dict(proposed)
        self.grid.class_folders = list(classes)
        numbered = " · ".join(f"{i + 1} {c}" for i, c in enumerate(classes[:9]))
        self.keys.setText(dynamic(lambda: translate("SortingPage", KEYS_HELP) + "\n" + translate(
            "SortingPage", "Classes: {classes}").format(classes=numbered)))
        self.title.setText(translate("SortingPage", "<b>Unsorted:</b> {folder} ({count} images) "
                                     "· classes: {classes}").format(
            folder=folder, count=f"{len(result.paths):,}", classes=", ".join(classes)))
        self.groups.blockSignals(True)
        self.groups.clear()
        self.groups.addItems([""] * (len(classes) + 3))
        self.groups.blockSignals(False)
        self.update_proposals(result)
        self.groups.setCurrentRow(len(classes) + 1)  # "Ask me" first

    def update_proposals(self, result) -> None:
        """New proposals for the same images: captions, counts, the proposer; rows stay."""
        self.result = result
        self._at = {p: i for i, p in enumerate(result.paths)}
        for i in range(self.model.rowCount()):
            self._fill_row(self.model.row(i))
        self.model.refresh_texts()
        self._update_counts()

    def _fill_row(self, row: dict) -> dict:
        r, i = self.result, self._at[row["path"]]
        row.update(unproposed=r.method == "none",
                   proposed=self.classes[int(r.best[i])], confidence=float(r.confidence[i]),
                   second=self.classes[int(r.second[i])],
                   second_confidence=float(r.second_confidence[i]))
        return row

    def _group_rows(self, group: tuple) -> list[int]:
        r, decided = self.result, self.model.decisions
        open_ = [i for i, p in enumerate(r.paths) if p not in decided]
        proposing = r.method != "none"  # else every open image waits under "?"
        if group[0] == "class":
            sure = sorted((i for i in open_ if proposing and r.best[i] == group[1]
                           and r.confidence[i] >= MARK), key=lambda i: -r.confidence[i])
            name = self.classes[group[1]]
            return sure + [i for i, p in enumerate(r.paths) if
                           decided.get(p) is not None and decided[p].label == name]
        if group[0] == "unsure":
            return sorted((i for i in open_ if r.confidence[i] < MARK or not proposing),
                          key=lambda i: r.confidence[i])
        if group[0] == "ask":
            return [i for i in r.ask if r.paths[i] not in decided]
        return [i for i, p in enumerate(r.paths) if p in decided
                and decided[p].action == "exclude"]

    def _on_group(self, n: int) -> None:
        if self.result is None or n < 0:
            return
        c = len(self.classes)
        self.group = ("class", n) if n < c else [("unsure",), ("ask",), ("excluded",)][n - c]
        rows = [self._fill_row({"path": self.result.paths[i]}) for i in self._group_rows(
            self.group)]
        self.model.set_rows(rows, {c: c for c in self.classes})
        self.accept_button.setEnabled(self.group[0] == "class")
        if rows:
            self.grid.setCurrentIndex(self.model.index(0))
        self.grid.setFocus()

    def _update_counts(self) -> None:
        r, decided = self.result, self.model.decisions
        confirmed = self.confirmed()
        for k, name in enumerate(self.classes):
            mine = sum(1 for c in confirmed.values() if c == name)
            proposed = len(self._group_rows(("class", k))) - mine
            self.groups.item(k).setText(translate(
                "SortingPage", "{name}   ✓ {confirmed} · {proposed} proposed").format(
                name=name, confirmed=mine, proposed=proposed))
        c = len(self.classes)
        self.groups.item(c).setText(translate("SortingPage", "?   {count} unsure").format(
            count=len(self._group_rows(("unsure",)))))
        self.groups.item(c + 1).setText(translate("SortingPage", "Ask me   {count} open").format(
            count=sum(1 for p in r.paths if p not in decided)))
        self.groups.item(c + 2).setText(translate("SortingPage", "Excluded   {count}").format(
            count=len(self.excluded())))
        changed = sum(1 for p, name in confirmed.items() if self.proposed_at.get(p, name) != name)
        share = f"{changed / len(confirmed):.0%}" if confirmed else "–"
        self.counts_label.setText(translate(
            "SortingPage", "Confirmed {confirmed} of {total} · excluded {excluded} · you changed "
            "{share} of the proposals you decided").format(
            confirmed=len(confirmed), total=len(r.paths), excluded=len(self.excluded()),
            share=share))
        self.source_label.setText(dynamic(lambda: _proposer_text(r)))
        self.save_button.setEnabled(bool(confirmed))
        self.copy_button.setEnabled(bool(confirmed))

    # -- decisions -----------------------------------------------------------------------
    def _on_decided(self, row: int, before) -> None:
        path = self.model.subject(row)
        self.history.append([(path, before, self.proposed_at.get(path))])
        self.proposed_at[path] = self.model.row(row)["proposed"]
        self._changed()

    def _changed(self) -> None:
        self._update_counts()
        self.decisions_changed.emit()

    def undo(self) -> None:
        """Take back the last step (one key, or a whole "Accept above") and select it."""
        if not self.history:
            return
        step = self.history.pop()
        for path, before, proposed in reversed(step):
            self._set(path, before)
            if proposed is None:
                self.proposed_at.pop(path, None)
            else:
                self.proposed_at[path] = proposed
        rows = [i for i in range(self.model.rowCount()) if self.model.subject(i) == step[0][0]]
        if rows:
            self.grid.setCurrentIndex(self.model.index(rows[0]))
        self.grid.setFocus()
        self._changed()

    def _set(self, path: str, decision: Decision | None) -> None:
        rows = [i for i in range(self.model.rowCount()) if self.model.subject(i) == path]
        for i in rows:
            self.model.decide(i, decision)
        if not rows:
            if decision is None:
                self.model.decisions.pop(path, None)
            else:
                self.model.decisions[path] = decision

    def apply_decisions(self, decisions: list[Decision]) -> None:
        """Decisions taken elsewhere (a selection on the map), as one undo step. A relabel
        names the class (the map's class keys are the class names here)."""
        step = []
        for d in decisions:
            if d.action == "relabel" and d.label not in self.classes:
                continue
            step.append((d.path, self.model.decisions.get(d.path),
                         self.proposed_at.get(d.path)))
            self._set(d.path, d)
            if d.action == "relabel":
                self.proposed_at[d.path] = d.label
        if step:
            self.history.append(step)
            self._on_group(self.groups.currentRow())  # the rows now decided move groups
            self._changed()

    def accept_above(self) -> int:
        """Confirm this class's open images at or above the threshold, after the preview."""
        if self.group[0] != "class":
            return 0
        limit = self.threshold.value() / 100
        name = self.classes[self.group[1]]
        rows = [dict(self.model.row(i)) for i in range(self.model.rowCount())
                if self.model.subject(i) not in self.model.decisions
                and self.model.row(i)["proposed"] == name
                and not self.model.row(i).get("unproposed")
                and self.model.row(i)["confidence"] >= limit]
        if not rows:
            self.counts_label.setText(translate("SortingPage", "No open image of {name} is "
                                                "proposed at {threshold} or above.").format(
                name=name, threshold=f"{limit:.0%}"))
            return 0
        if AcceptPreview(self.loader, rows, name, limit, self).exec() != \
                QDialog.DialogCode.Accepted:
            return 0
        step = []
        for row in rows:
            path = row["path"]
            step.append((path, None, self.proposed_at.get(path)))
            self._set(path, Decision(path, "relabel", name))
            self.proposed_at[path] = name
        self.history.append(step)
        self._changed()
        return len(rows)

    def current_path(self) -> str:
        index = self.grid.currentIndex()
        return self.model.subject(index.row()) if index.isValid() else ""

    def show_path(self, path: str) -> None:
        """Open the group that holds `path` and select it there (a neighbour chosen in the
        "more like this" panel, a point of the map)."""
        if self.result is None or path not in self._at:
            return
        d, i = self.model.decisions.get(path), self._at[path]
        if d is not None:
            n = (self.classes.index(d.label) if d.action == "relabel"
                 else len(self.classes) + 2)
        else:
            n = int(self.result.best[i]) if self.result.confidence[i] >= MARK and \
                self.result.method != "none" \
                else len(self.classes)
        self.groups.setCurrentRow(n)
        rows = [self.model.subject(r) for r in range(self.model.rowCount())]
        if path in rows:
            self.grid.setCurrentIndex(self.model.index(rows.index(path)))
            self.grid.scrollTo(self.model.index(rows.index(path)))
        self.grid.setFocus()

    def _on_current(self, current, _previous) -> None:
        if current.isValid():
            self.image_selected.emit(self.model.subject(current.row()))

    def shutdown(self) -> None:
        self.loader.shutdown()
