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
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == ["1-dataset.png", "2-config.png", "3-training.png", "4-prediction.png",
                     "5-evaluation.png", "6-reliability.png", "7-review.png", "8-heat-maps.png"]
    for path in out.glob("*.png"):
        with Image.open(path) as image:
            assert image.size[0] >= 1000 and len(set(image.convert("L").getdata())) > 20
