"""Dataset tab against the real engine.data.index scan: layouts, counts, names, problems,
thumbnails and the promise that nothing long runs on the GUI thread."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication

from dnd_events import drag_enter, drop, url_mime
from gui.tabs.dataset_tab import DatasetTab
from gui.widgets.dataset_parts import FOLDER_COL, NAME_COL
from gui.widgets.thumbnails import ThumbnailLoader


@pytest.fixture
def ds_tab(qtbot):
    tab = DatasetTab(None)
    tab.resize(1100, 720)
    qtbot.addWidget(tab)
    tab.show()
    yield tab
    tab.shutdown()


def open_and_wait(qtbot, tab: DatasetTab, path) -> object:
    with qtbot.waitSignal(tab.dataset_ready, timeout=20_000) as blocker:
        tab.open_folder(str(path))
    return blocker.args[0]


def table_rows(tab: DatasetTab) -> dict[str, list[str]]:
    """{folder: [display name, train, val, test, total]} as the user reads it."""
    rows = {}
    for r in range(tab.table.rowCount()):
        cells = [tab.table.item(r, c).text() for c in range(tab.table.columnCount())]
        rows[cells[FOLDER_COL]] = [cells[NAME_COL]] + cells[2:]
    return rows


def test_class_folders_show_layout_counts_and_split_settings(qtbot, ds_tab, learnable_dir):
    index = open_and_wait(qtbot, ds_tab, learnable_dir)
    assert index is not None and index.layout == "class-folders"
    assert "one sub-folder per class" in ds_tab.layout_label.text()
    rows = table_rows(ds_tab)
    assert set(rows) == {"red_circle", "green_square", "blue_triangle", "yellow_stripes"}
    assert rows["red_circle"][0] == "red circle"
    for cells in rows.values():
        train, val, test, total = map(int, cells[1:])
        assert total == 30 and train + val + test == 30 and val > 0 and test > 0
    assert ds_tab.split_box.isVisibleTo(ds_tab)  # automatic split: fractions and seed editable
    assert ds_tab.table.item(0, 2).textAlignment() & Qt.AlignmentFlag.AlignRight
    assert ds_tab.pages.currentIndex() == 1
    assert "4 classes · 120 images" in ds_tab.totals_label.text()
    assert "120 images" in ds_tab.status_text()


def test_split_folders_show_fixed_counts(qtbot, ds_tab, learnable_split_dir):
    index = open_and_wait(qtbot, ds_tab, learnable_split_dir)
    assert index.layout == "split-folders"
    assert "train/val/test folders" in ds_tab.layout_label.text()
    assert all(cells[1:] == ["24", "8", "8", "40"] for cells in table_rows(ds_tab).values())
    assert not ds_tab.split_box.isVisibleTo(ds_tab)  # the folders define the split


def test_changing_split_fraction_rescans(qtbot, ds_tab, learnable_dir):
    open_and_wait(qtbot, ds_tab, learnable_dir)
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=20_000) as blocker:
        ds_tab.split_box.test.setValue(30)
    counts = blocker.args[0].counts()["red_circle"]
    assert counts["test"] == 9 and blocker.args[0].test_fraction == pytest.approx(0.3)


def test_edited_display_name_travels_with_dataset_ready(qtbot, ds_tab, learnable_dir):
    open_and_wait(qtbot, ds_tab, learnable_dir)
    row = next(r for r in range(ds_tab.table.rowCount())
               if ds_tab.table.item(r, FOLDER_COL).text() == "red_circle")
    ds_tab.table.setCurrentCell(row, NAME_COL)
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=2000) as blocker:
        ds_tab.table.item(row, NAME_COL).setText("  scarlet   disc ")
    index = blocker.args[0]
    assert "scarlet disc" in index.class_names
    assert ds_tab.index.classes[row].display_name == "scarlet disc"
    assert ds_tab.table.item(row, NAME_COL).text() == "scarlet disc"  # tidied as stored
    assert ds_tab.class_title.text().startswith("scarlet disc")  # the gallery title follows
    # A duplicate name is refused with a plain notice and the old name kept.
    other = (row + 1) % ds_tab.table.rowCount()
    with qtbot.assertNotEmitted(ds_tab.dataset_ready, wait=100):
        ds_tab.table.item(other, NAME_COL).setText("scarlet disc")
    assert ds_tab.table.item(other, NAME_COL).text() != "scarlet disc"
    assert "unique" in ds_tab.notice.text()


def test_imbalance_warning_and_copyable_problem_list(qtbot, ds_tab, learnable_dir, copy_of):
    root = copy_of(learnable_dir)
    for path in sorted((root / "yellow_stripes").glob("*.jpg"))[5:]:
        path.unlink()
    broken = root / "red_circle" / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    open_and_wait(qtbot, ds_tab, root)
    assert ds_tab.notice.isVisibleTo(ds_tab)
    assert "yellow stripes" in ds_tab.notice.text() and "fewer" in ds_tab.notice.text()
    rows = {r.path: r for r in ds_tab.problems.rows()}
    assert str(broken) in rows and "not a picture file" in rows[str(broken)].reason
    table_paths = [ds_tab.problems.table.item(r, 0).text()
                   for r in range(ds_tab.problems.table.rowCount())]
    assert str(broken) in table_paths
    QApplication.clipboard().clear()
    ds_tab.problems.copy_button.click()
    copied = QApplication.clipboard().text()
    assert f"warning\t{broken}\t{rows[str(broken)].reason}" in copied.splitlines()


def test_thumbnails_arrive_asynchronously_for_selected_class(qtbot, ds_tab, learnable_split_dir):
    open_and_wait(qtbot, ds_tab, learnable_split_dir)
    model = ds_tab.grid.grid_model
    assert model.rowCount() == 40  # first class selected, all splits
    ds_tab.split_filter.setCurrentIndex(ds_tab.split_filter.findData("val"))
    assert model.rowCount() == 8 and "val 8" in ds_tab.class_title.text()
    first = model.index(0)
    qtbot.waitUntil(lambda: isinstance(first.data(Qt.ItemDataRole.DecorationRole), QPixmap)
                    and ds_tab.loader.get(model.paths()[0]) is not None, timeout=10_000)
    assert ds_tab.loader.get(model.paths()[0]).width() <= 96
    ds_tab.table.setCurrentCell(2, NAME_COL)  # another class: its images replace the grid
    assert model.paths()[0].startswith(str(Path(learnable_split_dir) / "val"))
    assert ds_tab.index.classes[2].folder in model.paths()[0]


def test_thumbnail_loader_reports_broken_files_and_bounds_its_cache(qtbot, learnable_dir, tmp_path,
                                                                    monkeypatch):
    import gui.widgets.thumbnails as thumbnails

    decode_threads = set()
    real_decode = thumbnails.decode_thumbnail

    def recording_decode(path, size):
        decode_threads.add(threading.current_thread())
        return real_decode(path, size)

    monkeypatch.setattr(thumbnails, "decode_thumbnail", recording_decode)
    loader = ThumbnailLoader(size=32, cache_entries=3)
    try:
        broken = tmp_path / "broken.png"
        broken.write_bytes(b"\x89PNG but not really")
        images = sorted(str(p) for p in (Path(learnable_dir) / "red_circle").glob("*.jpg"))[:5]
        for path in images + [str(broken)]:
            assert loader.get(path) is None  # queued, never decoded on this thread
        qtbot.waitUntil(lambda: loader.failure(str(broken)) is not None
                        and loader.decoded_count == 5, timeout=10_000)
        assert "not a picture file" in loader.failure(str(broken))
        assert decode_threads and threading.main_thread() not in decode_threads
        cached = [p for p in images if loader._cache.get((p, 32)) is not None]
        assert len(cached) == 3  # least recently used thumbnails were dropped
        loader.cancel_pending()
        assert loader.pending_count() == 0
    finally:
        loader.shutdown()


def test_scan_runs_in_a_worker_and_gui_stays_responsive(qtbot, ds_tab, learnable_dir, monkeypatch):
    import engine.data.index

    real_scan = engine.data.index.scan_dataset
    scan_threads = []
    release = threading.Event()  # a big folder: the scan goes on until the test lets it end

    def slow_scan(*args, **kwargs):
        scan_threads.append(threading.current_thread())
        release.wait(timeout=60)
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(engine.data.index, "scan_dataset", slow_scan)
    ticks = []
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    received = []
    ds_tab.dataset_ready.connect(received.append)
    try:
        ds_tab.open_folder(str(learnable_dir))
        # open_folder returned while the scan is still held: it did not wait for the scan.
        assert not received and not release.is_set()
        assert ds_tab.busy.isVisibleTo(ds_tab) and ds_tab.scanner.busy  # progress shown at once
        # The event loop keeps running while the scan is still going on.
        qtbot.waitUntil(lambda: len(ticks) >= 5 and bool(scan_threads), timeout=20_000)
        assert not received
    finally:
        release.set()
    qtbot.waitUntil(lambda: bool(received), timeout=20_000)
    timer.stop()
    assert scan_threads[0] is not threading.main_thread()
    assert not ds_tab.busy.isVisibleTo(ds_tab)


def test_cancelled_scan_reports_nothing(qtbot, ds_tab, learnable_dir, monkeypatch):
    import engine.data.index

    def endless_scan(source, progress=None, **kwargs):
        for i in range(10_000):
            progress(i, 10_000)
            time.sleep(0.01)

    monkeypatch.setattr(engine.data.index, "scan_dataset", endless_scan)
    with qtbot.assertNotEmitted(ds_tab.dataset_ready, wait=0):
        ds_tab.open_folder(str(learnable_dir))
        qtbot.waitUntil(lambda: ds_tab.busy.bar.maximum() == 10_000, timeout=5000)
        with qtbot.waitSignal(ds_tab.scanner.cancelled, timeout=5000):
            ds_tab.busy.cancel_button.click()
    assert not ds_tab.busy.isVisibleTo(ds_tab) and ds_tab.index is None


def test_missing_folder_gives_plain_error(qtbot, ds_tab, tmp_path):
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=5000) as blocker:
        ds_tab.open_folder(str(tmp_path / "nope"))
    assert blocker.args[0] is None
    assert ds_tab.banner.isVisibleTo(ds_tab) and "nope" in ds_tab.banner.text()
    assert "bug" not in ds_tab.banner.text().lower()  # a user mistake, not a crash report
    assert ds_tab.pages.currentIndex() == 0  # back to the empty state with its buttons


def test_dropping_a_folder_on_the_tab_opens_it(qtbot, ds_tab, learnable_split_dir, tmp_path):
    mime = url_mime(learnable_split_dir)
    enter = drag_enter(ds_tab, mime, (50, 50))
    assert enter.isAccepted() and ds_tab.drop_zone.highlighted
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=20_000) as blocker:
        drop(ds_tab, mime, (50, 50))
    assert blocker.args[0].layout == "split-folders"
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a dataset")
    refused = drag_enter(ds_tab, url_mime(text_file), (50, 50))
    assert not refused.isAccepted()


def test_create_demo_dataset(qtbot, ds_tab, tmp_path, monkeypatch):
    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "home"))  # where the demo goes
    states = []
    ds_tab.state_changed.connect(states.append)
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=30_000) as blocker:
        ds_tab.demo_button.click()
    index = blocker.args[0]
    assert Path(index.root) == tmp_path / "home" / "demo-dataset"
    assert len(index.classes) == 4 and len(index.samples) == 120 and not index.errors
    assert states[0] == "running" and states[-1] == "done"
    # A second click reuses the folder instead of writing it again.
    before = {p: p.stat().st_mtime_ns for p in Path(index.root).rglob("*.jpg")}
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=30_000):
        ds_tab.create_demo_dataset()
    assert {p: p.stat().st_mtime_ns for p in Path(index.root).rglob("*.jpg")} == before


def test_recent_folders_are_remembered(qtbot, learnable_split_dir, settings):
    # `settings`: gui.settings.Settings on a temporary INI file (tests/gui/conftest.py)
    tab = DatasetTab(settings)
    qtbot.addWidget(tab)
    try:
        open_and_wait(qtbot, tab, learnable_split_dir)
        assert settings.recent("datasets")[0] == str(learnable_split_dir)
        fresh = DatasetTab(settings)
        qtbot.addWidget(fresh)
        recent = [b for b in fresh.drop_zone.findChildren(type(fresh.demo_button))
                  if str(learnable_split_dir) in b.text()]
        assert len(recent) == 1
        with qtbot.waitSignal(fresh.dataset_ready, timeout=20_000) as blocker:
            recent[0].click()  # one click on a recent folder opens it again
        assert blocker.args[0].root == str(learnable_split_dir)
        fresh.shutdown()
    finally:
        tab.shutdown()


def test_grid_of_20000_images_only_decodes_what_is_visible(qtbot, tmp_path):
    from gui.widgets.image_grid import ImageGrid

    grid = ImageGrid()
    grid.resize(700, 500)
    qtbot.addWidget(grid)
    grid.show()
    paths = [str(tmp_path / f"img_{i:05d}.jpg") for i in range(20_000)]  # files need not exist
    try:
        grid.set_paths(paths)  # returns without decoding: the counts below prove it
        qtbot.waitUntil(lambda: len(grid.loader._failed) > 0, timeout=5000)
        qtbot.wait(300)
        first_screen = set(grid.loader._failed)
        assert 0 < len(first_screen) < 200 and paths[0] in first_screen  # not 20,000
        grid.scrollToBottom()
        qtbot.waitUntil(lambda: paths[-1] in grid.loader._failed, timeout=5000)
        assert len(grid.loader._failed) < 400
        assert "file not found" in grid.loader.failure(paths[-1])
    finally:
        grid.loader.shutdown()


def test_demo_in_an_unwritable_place_explains_itself(qtbot, ds_tab, tmp_path):
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("a file where the demo folder should go")
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=20_000) as blocker:
        ds_tab.create_demo_dataset(str(blocker_file / "demo"))
    assert blocker.args[0] is None and ds_tab.pages.currentIndex() == 0
    text = ds_tab.banner.text()
    assert "not-a-folder" in text and "try again" in text and "bug" not in text


def test_failed_open_keeps_the_dataset_on_screen(qtbot, ds_tab, learnable_split_dir, tmp_path):
    open_and_wait(qtbot, ds_tab, learnable_split_dir)
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=5000) as blocker:
        ds_tab.open_folder(str(tmp_path / "gone"))
    assert blocker.args[0].root == str(learnable_split_dir)  # still usable for training
    assert "gone" in ds_tab.banner.text() and "Still showing" in ds_tab.banner.text()
    with qtbot.waitSignal(ds_tab.dataset_ready, timeout=20_000) as blocker:
        ds_tab.rescan_button.click()
    assert blocker.args[0].root == str(learnable_split_dir) and not ds_tab.banner.isVisibleTo(ds_tab)
