"""The issue's whole path in the real main window: an unsorted folder and a list of names →
proposals confirmed from the keyboard → saved as a dataset → trained in the Training tab →
the trained run re-proposes the rest by itself (the active-learning loop) → back to the
sorting, where the run's proposals stand → a trained classifier, and the folder untouched."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from colour_encoder import make_colour_clip
from engine.demo.dataset import make_demo_dataset
from snapshots import folder_hash

RUN = 180_000  # ms


@pytest.fixture
def unsorted(tmp_path):
    labelled = make_demo_dataset(tmp_path / "labelled", num_classes=3, per_class=8, seed=11)
    folder = tmp_path / "camera card"
    folder.mkdir()
    classes = sorted(p.name for p in labelled.iterdir())
    truth = {}
    for n, src in enumerate(sorted(labelled.glob("*/*.jpg"))):
        target = folder / f"DSC{(n * 53) % 997:04d}.jpg"
        shutil.copy(src, target)
        truth[str(target)] = src.parent.name
    return folder, truth, classes


def test_unsorted_folder_to_trained_classifier_and_back(qtbot, main_window, unsorted, tmp_path,
                                                        monkeypatch):
    import gui.sorting_view as view
    from gui.sorting_start import SortingStartDialog

    folder, truth, classes = unsorted
    before = folder_hash(folder)
    w, tab = main_window, main_window.dataset_tab
    colour = make_colour_clip(tmp_path / "colour_clip")
    config = w.config_tab
    config.model_picker.combo.lineEdit().clear()
    qtbot.keyClicks(config.model_picker.combo.lineEdit(), str(colour))
    config.editors["output_dir"].set_value(str(tmp_path / "runs"))
    config.editors["cache_dir"].set_value(str(tmp_path / "cache"))
    monkeypatch.setattr(view.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder)))

    def type_classes(dialog):
        dialog.names.setPlainText("\n".join(classes))
        dialog.ok_button.click()
        return dialog.result()

    monkeypatch.setattr(SortingStartDialog, "exec", type_classes)
    # --- the folder, the names, the proposals -----------------------------------------
    w.show_tab(tab)
    with qtbot.waitSignal(tab.sorting.flow.ready, timeout=RUN):
        qtbot.mouseClick(tab.drop_zone.unsorted_button, Qt.MouseButton.LeftButton)
    page = tab.sorting.page
    assert tab.pages.currentWidget() is page and len(page.paths) == len(truth)
    # --- confirm from the keyboard: the right class's number, 3 per class --------------
    for k, name in enumerate(classes):
        for path in [p for p, c in sorted(truth.items()) if c == name][:3]:
            row = next(i for i in range(page.model.rowCount()) if page.model.subject(i) == path)
            page.grid.setCurrentIndex(page.model.index(row))
            qtbot.keyClick(page.grid, getattr(Qt.Key, f"Key_{k + 1}"))
    assert page.confirmed() == {p: c for p, c in truth.items()
                                if p in page.confirmed()} and len(page.confirmed()) == 9
    # --- save: the dataset opens, ready to train ---------------------------------------
    with qtbot.waitSignal(tab.dataset_ready, timeout=RUN) as ready:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert ready.args[0] is not None and len(ready.args[0].samples) == 9
    dataset = tab.sorting.session.dataset
    assert config.config().data_dir == dataset
    for field, value in (("epochs", 2), ("batch_size", 8), ("val_fraction", 0.0),
                         ("test_fraction", 0.0)):
        config.editors[field].widget.setValue(value)
    # --- train in the Training tab; when it completes, the run re-proposes the rest ----
    with qtbot.waitSignal(tab.sorting.flow.ready, timeout=RUN):
        with qtbot.waitSignal(w.training_tab.run_finished, timeout=RUN) as finished:
            w.start_action.trigger()
    run_dir, status = finished.args
    assert status == "completed" and (Path(run_dir) / "head.safetensors").is_file()
    assert tab.sorting.session.run == run_dir and page.result.run == run_dir
    assert tab.pages.currentWidget() is not page  # it did not take the user away
    assert "now proposes the 15 images still unsorted" in tab.banner.text()
    # --- back to the sorting: the run's proposals, the decisions kept ------------------
    qtbot.mouseClick(tab.unsorted_button, Qt.MouseButton.LeftButton)
    assert tab.pages.currentWidget() is page and len(page.confirmed()) == 9
    best = page.result.best
    rest = [i for i, p in enumerate(page.paths) if p not in page.confirmed()]
    right = sum(classes[best[i]] == truth[page.paths[i]] for i in rest)
    assert right >= 0.9 * len(rest), (right, len(rest))
    assert folder_hash(folder) == before  # the user's folder, untouched throughout
