"""Run > Sweep…: a real 3-trial sweep fills the sortable table live, the best row is marked and
"Use this config" puts its settings into the Config tab; closing a running sweep asks first
and leaves no thread running."""
from __future__ import annotations

from PySide6.QtCore import Qt

SWEEP = 240_000


def _menu_action(window, text):
    from PySide6.QtWidgets import QMenu

    for menu in window.menuBar().findChildren(QMenu):
        for action in menu.actions():
            if action.text() == text:
                return action
    raise AssertionError(f"no menu item {text!r}")


def _ready(qtbot, w, data_dir, model_dir, out):
    """Step 1 opens the dataset; step 2 gets the tiny model and quick settings."""
    with qtbot.waitSignal(w.dataset_tab.dataset_ready, timeout=60_000):
        w.dataset_tab.open_folder(str(data_dir))
    config = w.config_tab
    config.model_picker.combo.lineEdit().clear()
    qtbot.keyClicks(config.model_picker.combo.lineEdit(), str(model_dir))
    config.editors["epochs"].widget.setValue(2)
    config.editors["batch_size"].widget.setValue(8)
    config.editors["lr"].widget.setValue(1e-2)
    config.editors["output_dir"].set_value(str(out))
    config.editors["precision"].set_value("fp32")
    config.editors["num_threads"].widget.setValue(1)
    qtbot.waitUntil(lambda: not config.problems(), timeout=30_000)


def test_a_sweep_fills_the_table_and_its_best_config_loads(qtbot, main_window, tmp_path,
                                                           learnable_split_dir, tiny_clip_dir):
    w = main_window
    _ready(qtbot, w, learnable_split_dir, tiny_clip_dir, tmp_path / "runs")
    _menu_action(w, "Sweep…").trigger()
    dialog = w.sweep_dialog
    assert dialog.isVisible() and not dialog.use_button.isEnabled()
    dialog.trials.setValue(3)
    dialog.budget.setValue(0)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.is_running() and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.table.model().rowCount() >= 1, timeout=SWEEP)  # live rows
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=SWEEP)
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10_000)
    table = dialog.table
    assert table.model().rowCount() == 3 and dialog.progress.value() == 3
    assert "All trials done" in dialog.status.text()
    rows = table.source.rows
    best = max((r for r in rows if r.state == "complete"), key=lambda r: r.value)
    texts = [[table.model().index(i, c).data() for c in range(10)] for i in range(3)]
    marked = [t for t in texts if t[0].endswith("★")]
    assert len(marked) == 1 and marked[0][0] == f"{best.number} ★"
    assert marked[0][2] == f"{best.value:.1%}"
    # a trial's time is in seconds under a minute ("0.0" minutes said nothing)
    by_number = {r.number: r for r in rows}
    for text in texts:
        row = by_number[int(text[0].split()[0])]
        seconds = row.minutes * 60
        want = ("< 1 s" if seconds < 0.5 else f"{seconds:.0f} s" if row.minutes < 1
                else f"{row.minutes:.1f} min")
        assert text[9] == want

    # sorting by validation accuracy: click its header (numbers, not texts, decide)
    header = table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.viewport().rect().topLeft() + _section_center(header, 2))
    shown = [table.model().index(i, 2).data(Qt.ItemDataRole.UserRole + 1) for i in range(3)]
    assert shown == sorted(shown) or shown == sorted(shown, reverse=True)

    # nothing selected: "Use this config" loads the best trial into step 2
    assert dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    chosen = w.config_tab.config()
    assert chosen.method == "lora" and chosen.augment is False  # what the trials trained
    for key in ("lora_r", "lora_last_n_blocks"):
        assert getattr(chosen, key) == best.changes[key]
    for key in ("lr", "lora_alpha", "lora_dropout"):
        assert abs(getattr(chosen, key) - best.changes[key]) <= 1e-6 * max(1.0, best.changes[key])
    assert chosen.epochs == 2  # the user's own
    assert f"Trial {best.number}" in dialog.status.text()

    # a selected trial is the one loaded
    other = next(r for r in rows if r is not best and r.state == "complete") if any(
        r is not best and r.state == "complete" for r in rows) else None
    if other is not None:
        for i in range(3):
            if table.model().index(i, 0).data().split()[0] == str(other.number):
                table.selectRow(i)
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
        assert w.config_tab.config().lora_r == other.changes["lora_r"]
    dialog.close()
    assert not dialog.isVisible()


def _section_center(header, section):
    from PySide6.QtCore import QPoint

    return QPoint(header.sectionViewportPosition(section) + header.sectionSize(section) // 2,
                  header.height() // 2)


def test_closing_a_running_sweep_asks_and_stops_it(qtbot, main_window, tmp_path,
                                                   learnable_split_dir, tiny_clip_dir,
                                                   fake_train):
    w = main_window
    _ready(qtbot, w, learnable_split_dir, tiny_clip_dir, tmp_path / "runs")
    w.open_sweep()
    dialog = w.sweep_dialog
    dialog.train_fn = fake_train(steps=400, steps_per_epoch=100, delay=0.01)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.model().rowCount() == 1, timeout=30_000)
    asked = []
    dialog.confirm = lambda title, text: asked.append(title) or False  # "No": keep going
    dialog.close()
    assert asked == ["Stop the sweep?"] and dialog.isVisible() and dialog.is_running()
    dialog.confirm = lambda title, text: asked.append(title) or True
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc asks the same
    assert len(asked) == 2
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
    assert not dialog.is_running() and dialog.worker.thread_.isFinished()
    assert dialog.table.source.rows[0].state == "interrupted"
