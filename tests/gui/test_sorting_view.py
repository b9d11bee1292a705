"""The Dataset tab's sorting view, driven as a user drives it: "Unsorted folder…", the class
names typed into the dialog, proposals awaited, keys pressed. The folder is the demo dataset
flattened under neutral names; tests/colour_encoder.py's encoder embeds it, so proposals
are right. The unsorted folder's hash is checked after every action: it never changes."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from colour_encoder import make_colour_clip, unsorted_copy
from engine.demo.dataset import make_demo_dataset
from snapshots import folder_hash


@pytest.fixture(scope="module")
def colour_clip(tmp_path_factory) -> Path:
    return make_colour_clip(tmp_path_factory.mktemp("colour_clip"))


@pytest.fixture(scope="module")
def unsorted(tmp_path_factory):
    """(folder, {path: true class}, classes): 4 classes x 8 images under neutral names."""
    labelled = make_demo_dataset(tmp_path_factory.mktemp("labelled"), num_classes=4,
                                 per_class=8, seed=5)
    folder = tmp_path_factory.mktemp("unsorted") / "phone dump"
    truth, classes = unsorted_copy(labelled, folder)
    return folder, truth, classes


@pytest.fixture
def tab(qtbot, colour_clip):
    from gui.tabs.dataset_tab import DatasetTab

    made = []

    def make():
        t = DatasetTab(None)
        t.resize(1200, 800)
        qtbot.addWidget(t)
        t.show()
        t.model_for_checks = lambda: str(colour_clip)
        made.append(t)
        return t

    yield make
    for t in made:
        t.shutdown()


def _answer(monkeypatch, folder, names: str | None, seen: list | None = None):
    """The folder dialog returns `folder`; the class dialog gets `names` typed and OK."""
    import gui.sorting_view as view
    from gui.sorting_start import SortingStartDialog

    monkeypatch.setattr(view.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder)))

    def exec_(dialog):
        if seen is not None:
            seen.append(dialog.summary.text())
        if names is None:
            raise AssertionError("the class dialog was not expected")
        dialog.names.setPlainText(names)
        dialog.ok_button.click()
        return dialog.result()

    monkeypatch.setattr(SortingStartDialog, "exec", exec_)


def _confirm_truth(qtbot, page, truth, classes, per_class=2):
    """Select images of each class in the grid and press its number key."""
    for k, name in enumerate(classes):
        for path in [p for p, c in sorted(truth.items()) if c == name][:per_class]:
            row = next(i for i in range(page.model.rowCount()) if page.model.subject(i) == path)
            page.grid.setCurrentIndex(page.model.index(row))
            qtbot.keyClick(page.grid, getattr(Qt.Key, f"Key_{k + 1}"))


def _start(qtbot, t, button=None):
    with qtbot.waitSignal(t.sorting.flow.ready, timeout=120_000):
        qtbot.mouseClick(button or t.drop_zone.unsorted_button, Qt.MouseButton.LeftButton)
    return t.sorting.page


def test_sorting_from_the_keyboard_saves_exactly_the_decisions(qtbot, tab, unsorted,
                                                              monkeypatch):
    folder, truth, classes = unsorted
    before = folder_hash(folder)
    seen = []
    _answer(monkeypatch, folder, ", ".join(classes), seen)
    t = tab()
    page = _start(qtbot, t)
    assert "32 images" in seen[0] and "colour_clip" in seen[0]
    assert t.pages.currentWidget() is page and page.model.rowCount() == 32
    assert "Ask me" in page.groups.currentItem().text()
    assert "Proposals from: zero-shot head" in page.source_label.text()
    grid, model = page.grid, page.model
    a, b, c = (model.subject(i) for i in range(3))
    proposed_a = model.row(0)["proposed"]
    qtbot.keyClick(grid, Qt.Key.Key_K)  # accept the proposal, moves on
    assert grid.currentIndex().row() == 1
    qtbot.keyClick(grid, Qt.Key.Key_2)  # class 2
    qtbot.keyClick(grid, Qt.Key.Key_X)  # exclude
    assert page.confirmed() == {a: proposed_a, b: classes[1]} and page.excluded() == [c]
    qtbot.keyClick(grid, Qt.Key.Key_U)  # undo the exclusion, the image is selected again
    assert page.excluded() == [] and model.subject(grid.currentIndex().row()) == c
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert page.excluded() == [c]
    assert "Confirmed 2 of 32" in page.counts_label.text()
    changed = 0 if model.row(1)["proposed"] == classes[1] else 1
    assert f"you changed {changed * 50}%" in page.counts_label.text()
    assert folder_hash(folder) == before
    # proposals are made again in the background: the selection stays where it was
    row = grid.currentIndex().row()
    with qtbot.waitSignal(t.sorting.flow.proposals, timeout=60_000):
        pass
    assert grid.currentIndex().row() == row
    assert "✓ 1" in page.groups.item(classes.index(classes[1])).text() or \
        classes[1] == proposed_a
    for _ in range(3):  # undo every decision, last first
        qtbot.keyClick(grid, Qt.Key.Key_U)
    assert page.confirmed() == {} and page.excluded() == []
    _confirm_truth(qtbot, page, truth, classes)
    qtbot.waitUntil(lambda: page.result.method != "zero-shot", timeout=60_000)
    assert "your examples" in page.source_label.text()
    # accept above, per class, after a preview; undo takes the whole step back
    from gui.widgets.accept_preview import AcceptPreview

    previews = []

    def accept(dialog):
        previews.append((len(dialog.rows), dialog.model.rowCount(), dialog.text.text()))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AcceptPreview, "exec", accept)
    page.groups.setCurrentRow(0)  # the first class
    page.threshold.setValue(50)
    open_rows = [model.row(i) for i in range(model.rowCount())
                 if model.subject(i) not in model.decisions]
    qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    assert previews and previews[0][0] == previews[0][1] == len(open_rows) > 0
    assert classes[0] in previews[0][2]
    accepted = {r["path"] for r in open_rows}
    assert accepted <= set(page.confirmed())
    assert all(truth[p] == classes[0] for p in accepted)  # the encoder separates the classes
    qtbot.keyClick(grid, Qt.Key.Key_U)
    assert not accepted & set(page.confirmed())
    qtbot.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)
    decisions = page.confirmed()
    assert folder_hash(folder) == before
    # save as dataset: the CSV holds exactly the confirmed images, and the tab opens it
    with qtbot.waitSignal(t.dataset_ready, timeout=60_000) as opened:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    index = opened.args[0]
    assert index is not None and index.layout == "csv"
    with open(index.root, encoding="utf-8") as fh:
        rows = {r["path"]: r["display_name"] for r in csv.DictReader(fh)}
    assert rows == {str(Path(p).resolve()): name for p, name in decisions.items()}
    assert "unchanged" in t.banner.text()
    assert folder_hash(folder) == before
    # the map and "more like this" read these
    assert len(page.paths) == len(page.labels) == page.vectors.shape[0] == 32
    other = 1 if page.grid.currentIndex().row() == 0 else 0
    with qtbot.waitSignal(page.image_selected) as chosen:
        page.grid.setCurrentIndex(model.index(other))
    assert chosen.args[0] == model.subject(other)


def test_copy_into_class_folders_leaves_the_folder_alone(qtbot, tab, unsorted, monkeypatch,
                                                         tmp_path):
    folder, truth, classes = unsorted
    before = folder_hash(folder)
    _answer(monkeypatch, folder, "\n".join(classes))
    t = tab()
    page = _start(qtbot, t)
    for _ in range(4):
        qtbot.keyClick(page.grid, Qt.Key.Key_K)
    decided = page.confirmed()
    import gui.sorting_view as view

    asked = []
    monkeypatch.setattr(view.SortingView, "confirm_list",
                        lambda self, moves, move: asked.append((moves, move)) or True)
    # a target inside the unsorted folder is refused in plain words, nothing copied
    monkeypatch.setattr(view.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder / "sorted")))
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    assert "never changed" in t.banner.text() and not asked
    assert folder_hash(folder) == before
    target = tmp_path / "by class"
    monkeypatch.setattr(view.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(target)))
    with qtbot.waitSignal(t.sorting.flow.copied, timeout=30_000):
        qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    moves, move = asked[0]
    assert not move and len(moves) == len(decided)
    for path, name in decided.items():
        assert (target / name / Path(path).name).read_bytes() == Path(path).read_bytes()
    assert "Copied 4 images" in t.banner.text()
    assert folder_hash(folder) == before


def test_cancel_during_embedding(qtbot, tab, unsorted, monkeypatch):
    folder, _truth, classes = unsorted
    before = folder_hash(folder)
    _answer(monkeypatch, folder, ",".join(classes))
    t = tab()
    flow = t.sorting.flow
    flow.busy.connect(lambda _text: t.busy.cancel_button.click() if
                      t.busy.cancel_button.isEnabled() else None)
    with qtbot.waitSignal(flow.idle, timeout=120_000):
        qtbot.mouseClick(t.drop_zone.unsorted_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in t.banner.text()
    assert t.pages.currentWidget() is not t.sorting.page and t.sorting.page.result is None
    assert folder_hash(folder) == before


def test_reopening_resumes_the_session_without_loading_a_model(qtbot, tab, unsorted,
                                                               monkeypatch):
    folder, _truth, classes = unsorted
    _answer(monkeypatch, folder, ",".join(classes))
    first = tab()
    page = _start(qtbot, first)
    qtbot.keyClick(page.grid, Qt.Key.Key_3)
    qtbot.keyClick(page.grid, Qt.Key.Key_X)
    decided, excluded = page.confirmed(), page.excluded()
    first.shutdown()  # the window closes halfway: the session is saved
    first.close()
    import engine.review.sorting as sorting

    def no_model(*a, **k):
        raise AssertionError("a model was loaded although every embedding is cached")

    monkeypatch.setattr(sorting, "_Loaded", no_model)
    _answer(monkeypatch, folder, None)  # no class dialog: the session knows them
    second = tab()
    page = _start(qtbot, second, second.drop_zone.unsorted_button)
    assert page.confirmed() == decided and page.excluded() == excluded
    assert page.classes == classes


def test_repropose_with_a_run_trained_on_the_saved_dataset(qtbot, tab, unsorted, monkeypatch,
                                                          colour_clip, tmp_path, tiny_config):
    from engine.review.sorting_session import newest_run_for
    from engine.training.loop import train

    folder, truth, classes = unsorted
    _answer(monkeypatch, folder, ",".join(classes))
    t = tab()
    page = _start(qtbot, t)
    _confirm_truth(qtbot, page, truth, classes)  # two of each class
    with qtbot.waitSignal(t.dataset_ready, timeout=60_000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    dataset = t.sorting.session.dataset
    config = tiny_config(colour_clip, dataset, tmp_path / "runs", epochs=1, run_name="sorted",
                         val_fraction=0.0, test_fraction=0.0)
    finished = list(train(config))[-1]
    assert finished.status == "completed", finished
    assert newest_run_for(dataset, tmp_path / "runs") == finished.run_dir
    t.sorting.runs_root = lambda: str(tmp_path / "runs")
    t.pages.setCurrentWidget(page)
    monkeypatch.setattr("gui.sorting_view.QFileDialog.getExistingDirectory",
                        staticmethod(lambda parent, title, start: start))  # the suggestion
    with qtbot.waitSignal(t.sorting.flow.ready, timeout=120_000):
        qtbot.mouseClick(page.repropose_button, Qt.MouseButton.LeftButton)
    assert page.result.run == finished.run_dir
    assert "run sorted" in page.source_label.text()
    assert len(page.confirmed()) == 2 * len(classes)  # the decisions stay


def test_bad_input_gets_plain_messages_and_changes_nothing(qtbot, tab, tmp_path, monkeypatch,
                                                           unsorted, colour_clip):
    from gui.sorting_start import SortingStartDialog

    t = tab()
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("no pictures here")
    for where in (empty, notes):
        _answer(monkeypatch, where, None)
        qtbot.mouseClick(t.drop_zone.unsorted_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "holds no images" in t.banner.text(), timeout=60_000)
        t.banner.clear()
    dialog = SortingStartDialog(str(empty), 3, str(colour_clip))
    qtbot.addWidget(dialog)
    for text, says in (("rose", "at least 2"), ("rose, tulip\nRose", "named twice"),
                       ("", "at least 2")):
        dialog.names.setPlainText(text)
        dialog.ok_button.click()
        assert dialog.result() != QDialog.DialogCode.Accepted and says in dialog.error.text()
    dino = tmp_path / "dino"  # a model without a text tower: the dialog says how it goes
    dino.mkdir()
    (dino / "config.json").write_text('{"model_type": "dinov2"}', encoding="utf-8")
    dialog = SortingStartDialog(str(empty), 3, str(dino))
    qtbot.addWidget(dialog)
    assert "no text tower" in dialog.examples_note.text()
    assert "label one image of each class first" in dialog.examples_note.text()
    from engine.review.sorting_session import sessions_dir

    assert not sessions_dir().exists()  # nothing was started, nothing saved
    # unreadable images are listed; the rest is sorted
    folder, _truth, classes = unsorted
    broken = tmp_path / "with broken"
    shutil.copytree(folder, broken)
    (broken / "IMG_broken.jpg").write_bytes(b"not a jpeg at all")
    before = folder_hash(broken)
    _answer(monkeypatch, broken, ",".join(classes))
    page = _start(qtbot, t)
    assert "IMG_broken.jpg" in t.banner.text() and "could not be read" in t.banner.text()
    assert len(page.paths) == 32
    assert folder_hash(broken) == before


def test_an_examples_folder_teaches_the_proposals_from_the_start(qtbot, tab, unsorted,
                                                                monkeypatch, tmp_path):
    from gui.sorting_start import SortingStartDialog

    folder, truth, classes = unsorted
    examples = tmp_path / "examples"
    for name in classes:
        (examples / name).mkdir(parents=True)
        for path in [p for p, c in sorted(truth.items()) if c == name][-2:]:
            shutil.copy(path, examples / name / f"ex_{Path(path).name}")
    _answer(monkeypatch, folder, ",".join(classes))
    plain_exec = SortingStartDialog.exec

    def with_examples(dialog):
        dialog.examples_edit.setText(str(examples))
        return plain_exec(dialog)

    monkeypatch.setattr(SortingStartDialog, "exec", with_examples)
    t = tab()
    page = _start(qtbot, t)
    assert len(page.paths) == 32  # the examples teach; they are not sorted
    assert page.result.method in ("prototypes", "probe")
    right = sum(truth[p] == label for p, label in zip(page.paths, page.labels))
    assert right >= 0.9 * 32


def test_more_like_this_in_the_sorting_view(qtbot, tab, unsorted, monkeypatch):
    """M on an image shows the images most like it (its own class first, by the colour
    encoder); choosing one opens its group and selects it."""
    folder, truth, classes = unsorted
    _answer(monkeypatch, folder, ",".join(classes))
    t = tab()
    page = _start(qtbot, t)
    query = sorted(p for p, c in truth.items() if c == classes[2])[0]
    page.show_path(query)
    assert page.current_path() == query
    panel = t.sorting.neighbours.panel
    before = folder_hash(folder)
    qtbot.keyClick(page.grid, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: len(panel.paths()) > 0, timeout=60_000)
    same = sum(truth[p] == classes[2] for p in panel.paths()[:7])
    assert query not in panel.paths() and same == 7  # 8 per class: the other 7 come first
    chosen = panel.paths()[3]
    panel.image_chosen.emit(chosen)
    assert page.current_path() == chosen
    assert folder_hash(folder) == before


def test_the_map_of_an_unsorted_folder_decides_for_the_sorting(qtbot, tab, unsorted,
                                                               monkeypatch):
    """Map from the sorting view: the folder's own embeddings (no model), a selection
    relabelled on the map is confirmed in the sorting (Undo there takes it back), "more
    like this" works in the map's grid, and Back returns to the sorting."""
    import numpy as np

    folder, truth, classes = unsorted
    before = folder_hash(folder)
    _answer(monkeypatch, folder, ",".join(classes))
    t = tab()
    page = _start(qtbot, t)
    mp = t.map_page
    monkeypatch.setattr("engine.review.sorting._Loaded", None)  # no model may load now
    with qtbot.waitSignal(t.map_flow.layout_ready, timeout=120_000,
                          check_params_cb=lambda xy, final: final):
        qtbot.mouseClick(t.sorting.map_button, Qt.MouseButton.LeftButton)
    assert t.pages.currentWidget() is mp and sorted(mp.map.paths) == sorted(truth)
    assert mp.back_button.text() == "Back to sorting"
    reds = [p for p in mp.map.paths if truth[p] == classes[1]]
    mp.map.set_selection(np.array([p in reds for p in mp.map.paths]))
    assert sorted(mp.grid.paths()) == sorted(reds)
    mp.class_box.setCurrentIndex(1)
    qtbot.mouseClick(mp.relabel_button, Qt.MouseButton.LeftButton)
    assert page.confirmed() == {p: classes[1] for p in reds}
    qtbot.mouseClick(mp.undo_button, Qt.MouseButton.LeftButton)
    assert page.confirmed() == {} and mp.decisions == {}
    qtbot.mouseClick(mp.exclude_button, Qt.MouseButton.LeftButton)
    assert page.excluded() == sorted(reds)
    # more like this in the map's selection grid: its own class first
    mp.grid.setCurrentIndex(mp.grid.model().index(0))
    query = mp.current_path()
    qtbot.keyClick(mp.grid, Qt.Key.Key_M)
    panel = t.map_neighbours.panel
    qtbot.waitUntil(lambda: len(panel.paths()) > 0, timeout=60_000)
    assert query not in panel.paths() and all(truth[p] == classes[1]
                                               for p in panel.paths()[:7])
    panel.image_chosen.emit(panel.paths()[0])
    assert mp.map.selected_paths() == [panel.paths()[0]]
    qtbot.mouseClick(mp.back_button, Qt.MouseButton.LeftButton)
    assert t.pages.currentWidget() is page and page.excluded() == sorted(reds)
    assert folder_hash(folder) == before


def test_without_a_text_tower_you_label_one_of_each_first(qtbot, tab, unsorted, monkeypatch):
    """A model that cannot name classes from text (DINOv2; here the colour CLIP with its
    head taken away): no proposal is made up, every image waits under "?", K does nothing,
    and once one image of every class is labelled with the number keys, proposals start
    and are right on the rest."""
    import engine.review.sorting as sorting

    real = sorting.embed_images

    def without_head(*args, **kwargs):
        found = real(*args, **kwargs)
        found.head, found.no_head = None, "no text tower"
        return found

    monkeypatch.setattr(sorting, "embed_images", without_head)
    folder, truth, classes = unsorted
    _answer(monkeypatch, folder, ",".join(classes))
    t = tab()
    page = _start(qtbot, t)
    assert page.result.method == "none" and "No proposals yet" in page.source_label.text()
    assert page.labels == [""] * len(truth)
    page.groups.setCurrentRow(len(classes))  # "?": every image waits there
    assert page.model.rowCount() == len(truth)
    assert page.model.data(page.model.index(0)).startswith("not sorted yet")
    page.grid.setCurrentIndex(page.model.index(0))
    qtbot.keyClick(page.grid, Qt.Key.Key_K)
    assert page.confirmed() == {}  # nothing to accept
    with qtbot.waitSignal(t.sorting.flow.proposals, timeout=60_000,
                          check_params_cb=lambda r: r.method != "none"):
        _confirm_truth(qtbot, page, truth, classes, per_class=1)
    rest = [i for i, p in enumerate(page.paths) if p not in page.confirmed()]
    right = sum(classes[int(page.result.best[i])] == truth[page.paths[i]] for i in rest)
    assert page.result.method == "prototypes" and right >= 0.9 * len(rest)
