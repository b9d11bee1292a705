"""The `lora-studio` entry point: display detection, a clear message instead of a Qt
abort, a window that shows without importing torch, --demo (in-process, the real
engine on the demo model) and --screenshots (a real subprocess, offscreen)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from gui import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("env, platform, expected", [
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),  # xcb without a display aborts
    ({}, "win32", True),
    ({}, "darwin", True),
])
def test_has_display(env, platform, expected):
    assert app.has_display(env, platform) is expected


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(extra)
    return env


def test_without_a_display_it_explains_and_exits_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gui"], cwd=ROOT, env=_env(), timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 2
    for hint in ("xvfb-run", "python -m engine train", "--screenshots"):
        assert hint in done.stderr
    assert "Aborted" not in done.stderr and "qt.qpa" not in done.stderr


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--demo" in out and "--screenshots" in out


def test_the_window_shows_without_importing_torch(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        start = time.perf_counter()
        from PySide6.QtWidgets import QApplication
        qapp = QApplication([])
        from gui.main_window import MainWindow
        window = MainWindow()
        window.show()
        qapp.processEvents()
        print(round(time.perf_counter() - start, 2), "torch" in sys.modules,
              "transformers" in sys.modules)
        window.shutdown()
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=120, text=True,
                          capture_output=True,
                          env=_env(QT_QPA_PLATFORM="offscreen", LORA_STUDIO_HOME=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    seconds, torch_loaded, transformers_loaded = done.stdout.split()
    assert torch_loaded == "False" and transformers_loaded == "False"
    assert float(seconds) > 0  # how long it took is the bench's business (make bench), not a test's


def test_demo_flow_runs_the_whole_path_with_the_real_engine(qtbot, main_window):
    from gui.demo_flow import DEMO_SETTINGS, DemoFlow, demo_dataset_dir

    flow = DemoFlow(main_window, settings={**DEMO_SETTINGS, "epochs": 1}, predict_per_class=1)
    stages = []
    flow.stage_changed.connect(stages.append)
    with qtbot.waitSignal(flow.finished, timeout=300_000) as done:
        flow.start()
    assert stages == ["dataset", "model", "training", "prediction", "done"]
    assert Path(done.args[0]).parent == Path(main_window.config_tab.config().output_dir)
    assert Path(main_window.dataset_tab.index.root) == demo_dataset_dir()
    from engine.demo.model import is_demo_model

    assert is_demo_model(main_window.config_tab.config().model)
    predictions = main_window.prediction_tab.results.results_model.predictions()
    assert len(predictions) == 4 and all(not p.error for p in predictions)  # one per class
    assert main_window.tabs.currentWidget() is main_window.prediction_tab
    assert main_window.training_tab.plots.loss.point_count("train_raw") > 0


@pytest.mark.slow
def test_screenshots_mode_renders_one_png_per_tab_offscreen(tmp_path):
    out = tmp_path / "shots"
    done = subprocess.run([sys.executable, "-m", "gui", "--screenshots", str(out)], cwd=ROOT,
                          timeout=900, capture_output=True, text=True,
                          env=_env(LORA_STUDIO_HOME=str(tmp_path / "home"),
                                   LORA_STUDIO_CACHE_DIR=str(tmp_path / "cache")))
    assert done.returncode == 0, done.stderr[-3000:]
    names = sorted((p.name for p in out.glob("*.png")), key=lambda n: int(n.split("-")[0]))
    assert names == ["1-dataset.png", "2-config.png", "3-training.png", "4-prediction.png",
                     "5-evaluation.png", "6-reliability.png", "7-review.png", "8-heat-maps.png",
                     "9-many-classes.png", "10-sorting.png", "11-map.png", "12-live-video.png",
                     "13-lr-finder.png", "14-sweep.png"]
    for path in out.glob("*.png"):
        with Image.open(path) as image:
            assert image.size[0] >= 1000 and len(set(image.convert("L").get_flattened_data())) > 20


# --- `lora-studio PATH` opens PATH ---------------------------------------------------------------
def test_help_names_the_path_argument(capsys):
    with pytest.raises(SystemExit):
        app.main(["--help"])
    assert "PATH" in capsys.readouterr().out
    assert app.build_parser().parse_args(["photos"]).path == "photos"
    with pytest.raises(SystemExit) as exit_info:
        app.main(["photos", "--demo"])  # the demo brings its own dataset
    assert exit_info.value.code == 2


def test_a_dataset_folder_on_the_command_line_opens_in_a_real_start(tmp_path, learnable_dir):
    """`lora-studio DIR` in a fresh interpreter, as a user starts it: the window shows and
    step 1 scans DIR (the event loop stops once the dataset is there)."""
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication
        from gui import app

        qapp = QApplication(["lora-studio"])

        def run_until_opened():
            window = next(w for w in qapp.topLevelWidgets() if type(w).__name__ == "MainWindow")
            loop = QEventLoop()
            window.dataset_tab.dataset_ready.connect(lambda index: loop.quit())
            QTimer.singleShot(120_000, loop.quit)
            loop.exec()
            index = window.dataset_tab.index
            print("OPENED", window.isVisible(), window.tabs.currentIndex(),
                  len(index.classes) if index else 0, index.root if index else None)
            window.shutdown()
            return 0

        qapp.exec = run_until_opened
        sys.exit(app.main(sys.argv[1:]))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(learnable_dir)], cwd=ROOT,
                          timeout=300, text=True, capture_output=True,
                          env=_env(QT_QPA_PLATFORM="offscreen", LORA_STUDIO_HOME=str(tmp_path)))
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("OPENED"))
    assert line.split(" ", 4) == ["OPENED", "True", "0", "4", str(learnable_dir)]


def test_a_csv_dataset_opens_in_step_1(qtbot, main_window, learnable_dir, tmp_path):
    csv = tmp_path / "labels.csv"
    rows = ["path,label"] + [f"{p},{p.parent.name}" for p in sorted(learnable_dir.rglob("*.jpg"))]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    main_window.show_tab(main_window.prediction_tab)
    with qtbot.waitSignal(main_window.dataset_tab.dataset_ready, timeout=60_000) as ready:
        assert app.open_path(main_window, str(csv)) == "dataset"
    assert ready.args[0] is not None and len(ready.args[0].classes) == 4
    assert main_window.tabs.currentWidget() is main_window.dataset_tab


def test_a_run_folder_opens_in_training_and_prediction(qtbot, main_window, run):
    assert app.open_path(main_window, str(run)) == "run"
    assert main_window.tabs.currentWidget() is main_window.training_tab
    qtbot.waitUntil(lambda: main_window.prediction_tab.run_dir == str(run), timeout=60_000)
    assert main_window.settings.recent("runs")[0] == str(run)


@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp / "no-such-folder", "does not exist"),
    (lambda tmp: (tmp / "notes.txt").write_text("hello") and tmp / "notes.txt",
     "is not a dataset folder, a CSV file of path,label or a run folder"),
])
def test_a_path_that_is_none_of_these_gets_a_plain_message(qtbot, main_window, tmp_path, make,
                                                          words):
    path = make(tmp_path)
    before = main_window.tabs.currentIndex()
    assert app.open_path(main_window, str(path)) == ""
    notice = main_window.last_notice
    assert notice is not None and notice.isVisible()
    assert str(path) in notice.text() and words in notice.text()
    assert "Traceback" not in notice.text()
    assert main_window.isVisible() and main_window.tabs.currentIndex() == before
    assert main_window.dataset_tab.index is None
    notice.close()


def test_a_relative_path_opens_as_an_absolute_one(qtbot, main_window, learnable_dir,
                                                 monkeypatch):
    monkeypatch.chdir(learnable_dir.parent)
    with qtbot.waitSignal(main_window.dataset_tab.dataset_ready, timeout=60_000) as ready:
        assert app.open_path(main_window, learnable_dir.name) == "dataset"
    assert ready.args[0].root == str(learnable_dir)
