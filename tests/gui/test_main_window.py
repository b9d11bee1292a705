"""Main window: numbered tabs with state marks, menus and shortcuts, the status bar,
explanations of missing steps, settings persistence, and closing during a run."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QRect
from PySide6.QtGui import QKeySequence

from gui.main_window import STATE_MARKS, TAB_TITLES, MainWindow


def _fake_index(root):
    return SimpleNamespace(root=str(root), val_fraction=0.15, test_fraction=0.15, seed=42,
                           errors=[], class_names=["a", "b"], samples=[], classes=[])


def _ready_for_training(window, tmp_path, fake_train, **fake):
    """Give the window a dataset and a valid config, with a fake engine behind it."""
    window.dataset_tab.dataset_ready.emit(_fake_index(tmp_path))
    window.training_tab.train_fn = fake_train(**fake)


def test_tabs_are_numbered_steps_showing_their_state(qtbot, main_window, tmp_path, fake_train):
    titles = [main_window.tabs.tabText(i) for i in range(main_window.tabs.count())]
    assert [t.split(" ")[0] for t in titles] == ["1", "2", "3", "4"]
    assert [t[: len(base)] for t, base in zip(titles, TAB_TITLES)] == list(TAB_TITLES)
    _ready_for_training(main_window, tmp_path, fake_train, steps=400, delay=0.005)
    assert main_window.tabs.tabText(1) == "2 Config" + STATE_MARKS["done"]
    main_window.start_action.trigger()
    assert main_window.tabs.currentWidget() is main_window.training_tab
    assert main_window.tabs.tabText(2) == "3 Training" + STATE_MARKS["running"]
    with qtbot.waitSignal(main_window.training_tab.run_finished, timeout=20_000):
        main_window.training_tab.stop()
    assert main_window.tabs.tabText(2) == "3 Training" + STATE_MARKS["done"]


def test_menus_and_shortcuts(main_window):
    actions = {a.text(): a for menu in main_window.menuBar().findChildren(type(main_window.recent_menu))
               for a in menu.actions()}
    for text in ("Open dataset…", "Open run…", "Load config…", "Save config…", "Create demo dataset",
                 "Quit", "Start training", "Pause", "Resume", "Stop…", "About LoRA Studio",
                 "Open README"):
        assert text in actions, text
    assert actions["Open dataset…"].shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert main_window.start_action.shortcut() == QKeySequence("Ctrl+R")
    assert main_window.stop_action.shortcut() == QKeySequence("Esc")
    menus = [m.title().replace("&", "") for m in main_window.menuBar().findChildren(
        type(main_window.recent_menu)) if m.title() in ("&File", "&Run", "&View", "&Help")]
    assert sorted(menus) == ["File", "Help", "Run", "View"]
    # Nothing to stop or pause while idle; Start waits for a dataset.
    assert not main_window.stop_action.isEnabled() and not main_window.pause_action.isEnabled()
    assert not main_window.start_action.isEnabled()


def test_missing_steps_are_explained_where_they_block(qtbot, main_window, tmp_path):
    training = main_window.training_tab
    assert training.banner.isVisibleTo(training) and "step 1" in training.banner.label.text()
    assert main_window.config_tab.banner.isVisibleTo(main_window.config_tab)
    training.banner.action.click()
    assert main_window.tabs.currentWidget() is main_window.dataset_tab
    main_window.dataset_tab.dataset_ready.emit(_fake_index(tmp_path))
    assert not training.banner.isVisibleTo(training) and training.start_button.isEnabled()
    for box in main_window.config_tab.editors["target_modules"].boxes.values():
        box.setChecked(False)
    assert training.banner.isVisibleTo(training) and "target_modules" in training.banner.label.text()
    assert training.banner.action.text() == "Go to Config"
    assert not main_window.start_action.isEnabled()


def test_status_bar_shows_hardware_run_and_progress(qtbot, main_window, tmp_path, fake_train):
    main_window.status.detect_hardware(warm_up=False)
    qtbot.waitUntil(lambda: "thread" in main_window.status.hardware.text(), timeout=60_000)
    assert main_window.status.hardware.text().split(" · ")[0] in ("CPU", "MPS") or \
        "·" in main_window.status.hardware.text()
    _ready_for_training(main_window, tmp_path, fake_train, steps=300, delay=0.01)
    main_window.start_training()
    qtbot.waitUntil(lambda: "epoch" in main_window.status.progress.text(), timeout=10_000)
    assert main_window.status.run.text() == "run: fake-run"
    assert main_window.status.hardware.text() == "CPU · fp32 · 2 threads"  # from RunStarted
    assert "left" in main_window.status.progress.text() and "%" in main_window.status.progress.text()


def test_escape_stops_only_after_confirming(qtbot, main_window, tmp_path, fake_train):
    _ready_for_training(main_window, tmp_path, fake_train, steps=2000, delay=0.005)
    main_window.start_training()
    assert main_window.stop_action.isEnabled()
    questions = []
    main_window.confirm = lambda title, text: questions.append(title) or False
    main_window.stop_action.trigger()
    assert questions == ["Stop training?"] and main_window.training_tab.phase() == "running"
    main_window.confirm = lambda title, text: True
    with qtbot.waitSignal(main_window.training_tab.run_finished, timeout=20_000) as finished:
        main_window.stop_action.trigger()
    assert finished.args[1] == "stopped"


def test_closing_during_a_run_asks_then_stops_cleanly_and_waits(qtbot, main_window, tmp_path,
                                                                 fake_train):
    _ready_for_training(main_window, tmp_path, fake_train, steps=2000, delay=0.005)
    main_window.start_training()
    main_window.confirm = lambda title, text: False  # "keep training"
    main_window.close()
    assert main_window.isVisible() and main_window.training_tab.phase() == "running"
    main_window.confirm = lambda title, text: True
    with qtbot.waitSignal(main_window.training_tab.run_finished, timeout=20_000) as finished:
        main_window.close()
        assert main_window.isVisible()  # not yet: the run saves first
    assert finished.args[1] == "stopped"
    qtbot.waitUntil(lambda: not main_window.isVisible(), timeout=10_000)
    assert not main_window.training_tab.is_running()


def test_geometry_and_recent_folders_persist(qtbot, settings, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.settings import Settings

    fresh = MainWindow(Settings(QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(fresh)
    default_size = fresh.size()
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.show()
    # Within the offscreen screen (restoreGeometry keeps windows on screen) and above the
    # window's minimum size.
    screen = first.screen().availableGeometry()
    width = max(first.minimumSizeHint().width(), min(screen.width() - 40, 760))
    first.setGeometry(QRect(screen.x() + 10, screen.y() + 20, width, 640))
    saved_size = first.size()
    assert saved_size != default_size
    first.dataset_tab.dataset_ready.emit(_fake_index(tmp_path))
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.size() == saved_size
    second.recent_menu.aboutToShow.emit()
    assert [a.text() for a in second.recent_menu.actions()] == [str(tmp_path)]
    second.close()


def test_opening_a_folder_that_is_not_a_run_is_explained(qtbot, main_window, tmp_path):
    main_window.open_run(str(tmp_path))
    assert main_window.last_notice is not None and main_window.last_notice.isVisible()
    assert "run.json" in main_window.last_notice.text()
    main_window.last_notice.accept()


def test_open_run_shows_its_curves_and_loads_it_for_prediction(qtbot, main_window, trained_run):
    with qtbot.waitSignal(main_window.prediction_tab.run_opened, timeout=180_000):
        main_window.open_run(str(trained_run))
        assert main_window.tabs.currentWidget() is main_window.training_tab
    training = main_window.training_tab
    assert training.plots.loss.point_count("train_raw") > 0
    assert training.summary.isVisible() and training.summary.run_dir == str(trained_run)
    assert main_window.prediction_tab.run_dir == str(trained_run)


def test_a_separate_lora_studio_home_keeps_its_own_settings(tmp_path, monkeypatch):
    from gui.settings import Settings

    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "home"))
    Settings().add_recent("datasets", str(tmp_path / "photos"))
    assert (tmp_path / "home" / "settings.ini").is_file()
    assert Settings().recent("datasets") == [str(tmp_path / "photos")]
    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "other"))
    assert Settings().recent("datasets") == []
