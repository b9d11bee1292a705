"""Live video and camera in the Prediction tab, in the real window: a generated clip of
solid demo colours (engine.demo.video) played through "Video file…", classified by a run
on tests/colour_encoder.py's tiny CLIP (its predictions follow colours), frames dropped
rather than queued behind a slow model, Snapshot and Add to dataset, the camera's
messages and its frames fed in through the slot the QVideoSink drives."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QImage

from colour_encoder import make_colour_clip
from dnd_events import drop_paths
from engine.demo.dataset import make_demo_dataset
from engine.demo.video import make_demo_video
from run_factory import make_run

PLAY = 30_000  # ms: a 3 s clip plays in about 3 s; slack for a loaded machine


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    clip = make_colour_clip(tmp_path_factory.mktemp("colour_clip"))
    data = make_demo_dataset(tmp_path_factory.mktemp("data") / "shapes", num_classes=3,
                             per_class=8, seed=5)
    run = make_run(tmp_path_factory.mktemp("runs") / "colours", clip, data, nudge=False)
    names = json.loads((run / "run.json").read_text())["class_names"]
    # in the clip's order (engine.demo.video: red, green, blue segments)
    return run, [next(n for n in names if n.startswith(c)) for c in ("red", "green", "blue")]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_demo_video(tmp_path_factory.mktemp("video") / "colours.mp4")  # 3 x 1 s


@pytest.fixture
def tab(qtbot, main_window, colour_run):
    tab = main_window.prediction_tab
    main_window.show_tab(tab)
    with qtbot.waitSignal(tab.run_opened, timeout=60_000):
        tab.open_run(str(colour_run[0]))
    return tab


def _play(qtbot, tab, video, monkeypatch):
    import gui.live_flow as live_flow

    monkeypatch.setattr(live_flow.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(video), "")))
    flow = tab.live
    tab.live.video_button.click()
    assert flow.page.isVisible() and not tab.results.isVisible()
    return flow


def _wait_end(qtbot, flow):
    qtbot.waitUntil(lambda: flow.page.start_button.text() == "Play again", timeout=PLAY)


def test_a_video_plays_and_its_predictions_follow_the_colour(qtbot, tab, video, colour_run,
                                                            monkeypatch):
    names = colour_run[1]
    shown: list[tuple[float, str]] = []
    ticks: list[float] = []
    probe = QTimer(interval=5)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    tab.live.result_shown.connect(lambda r: shown.append((r.frame.time, r.prediction.top[0][0])))
    probe.start()
    flow = _play(qtbot, tab, video, monkeypatch)
    qtbot.waitUntil(lambda: flow.page.frame_view.image is not None and flow.result is not None,
                    timeout=PLAY)
    qtbot.waitUntil(lambda: "frames/s classified" in flow.page.fps_label.text(), timeout=PLAY)
    threads = (flow.video, flow.classifier)
    _wait_end(qtbot, flow)
    probe.stop()
    # the bars showed each segment's colour while it played (edges may go either way)
    for start, name in zip((0.0, 1.0, 2.0), names):
        inside = [label for t, label in shown if start + 0.25 <= t <= start + 0.75]
        assert inside and all(label == name for label in inside), (name, shown)
    assert flow.page.bars.top[0][0] == names[2]  # the last segment's frames, still shown
    text = flow.page.fps_label.text()
    assert float(text.split(" frames/s")[0]) > 0, text
    assert "ended" in tab.message.text()
    # the GUI thread never waited on the model: its longest event-loop gap while playing
    gaps = sorted(b - a for a, b in zip(ticks, ticks[1:]))
    assert gaps[-1] < 0.1, f"longest event-loop gap {1000 * gaps[-1]:.0f} ms"
    assert not any(t.isRunning() for t in threads)
    # Play again starts from the beginning
    flow.page.start_button.click()
    qtbot.waitUntil(lambda: flow.running and flow.video.shown > 0, timeout=PLAY)
    assert flow.position < 1.0
    flow.page.back_button.click()  # Back: stopped, the results view again
    assert not flow.running and tab.results.isVisible() and not flow.page.isVisible()
    assert not any(t.isRunning() for t in threads)


def test_frames_that_come_during_a_slow_prediction_are_dropped_not_queued(
        qtbot, tab, video, monkeypatch):
    worker = tab.service._worker
    real = worker._predictor

    class Slow:  # the real predictor, 0.4 s per frame (a big model on a small CPU)
        backend = "torch"

        def predict(self, images, **kwargs):
            time.sleep(0.4)
            return real.predict(images, **kwargs)

    monkeypatch.setattr(worker, "_predictor", Slow())
    waiting = []
    flow = tab.live
    probe = QTimer(interval=2)
    probe.timeout.connect(lambda: waiting.append(flow.mailbox.waiting()))
    probe.start()
    _play(qtbot, tab, video, monkeypatch)
    video_thread, classifier, mailbox = flow.video, flow.classifier, flow.mailbox
    _wait_end(qtbot, flow)
    probe.stop()
    assert max(waiting) == 1  # frames waited, one at a time, never more
    assert video_thread.shown >= 15  # the clip played at its pace: 30 frames in 3 s
    assert classifier.count < video_thread.shown / 2
    assert mailbox.dropped >= video_thread.shown - classifier.count - 1
    assert f"{mailbox.dropped:,} frames dropped" in flow.page.fps_label.text()


def test_snapshot_and_add_to_dataset(qtbot, main_window, tab, video, colour_run, tmp_path,
                                     monkeypatch):
    import gui.live_flow as live_flow
    from gui.widgets.class_picker import ClassPicker

    names = colour_run[1]
    data = make_demo_dataset(tmp_path / "my data", num_classes=3, per_class=4, seed=2)
    with qtbot.waitSignal(main_window.dataset_tab.dataset_ready, timeout=60_000):
        main_window.dataset_tab.open_folder(str(data))
    main_window.show_tab(tab)
    flow = _play(qtbot, tab, video, monkeypatch)
    _wait_end(qtbot, flow)
    result = flow.result
    # Snapshot: the folder is asked once, then remembered
    snaps = tmp_path / "snaps"
    asked = []
    monkeypatch.setattr(live_flow.QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: asked.append(1) or str(snaps)))
    flow.page.snapshot_button.click()
    flow.page.snapshot_button.click()
    assert len(asked) == 1
    stem = f"colours-0m{result.frame.time:04.1f}s"
    pngs = [snaps / f"{stem}.png", snaps / f"{stem}-2.png"]  # never one over the other
    assert sorted(snaps.glob("*.png")) == sorted(pngs)
    info = json.loads(pngs[0].with_suffix(".json").read_text())
    assert info["prediction"]["label"] == result.prediction.top[0][0] == names[2]
    assert info["source"] == str(video) and QImage(str(pngs[0])).width() == 64
    assert "Saved" in tab.message.text()
    # Add to dataset: the user picks the class, sees the target, confirms; nothing replaced
    questions = []
    main_window.confirm = lambda title, text: questions.append(text) or True

    def pick(dialog):
        dialog.filter.setText("blue")
        return 1

    monkeypatch.setattr(ClassPicker, "exec", pick)
    folder = data / "blue_triangle"
    (folder / f"{stem}.png").write_bytes(b"mine")  # a file of that name is already there
    before = set(folder.iterdir())
    flow.page.add_button.click()
    added = set(folder.iterdir()) - before
    assert [p.name for p in added] == [f"{stem}-2.png"]
    assert str(folder / f"{stem}-2.png") in questions[0]
    assert (folder / f"{stem}.png").read_bytes() == b"mine"
    assert QImage(str(folder / f"{stem}-2.png")).pixelColor(10, 10).blue() > 150
    # a "no" copies nothing
    main_window.confirm = lambda title, text: False
    flow.page.add_button.click()
    assert set(folder.iterdir()) == before | added


def test_a_video_that_cannot_be_opened_is_a_plain_message(qtbot, tab, tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_text("not a video")
    assert drop_paths(tab, [bad])
    assert "holiday.mp4" in tab.message.text() and "not a video" in tab.message.text()
    assert not tab.live.page.isVisible() and not tab.live.running


def test_no_camera_is_a_plain_message(qtbot, tab):
    tab.live.camera_button.click()  # offscreen: Qt Multimedia lists no camera
    assert "No camera found" in tab.message.text()
    assert not tab.live.page.isVisible()


def test_camera_frames_are_classified_and_the_camera_stops_when_the_tab_is_left(
        qtbot, main_window, tab, colour_run, monkeypatch):
    import gui.live_camera as live_camera
    from PySide6.QtMultimedia import QCamera, QVideoFrame

    names = colour_run[1]
    started = []
    monkeypatch.setattr(live_camera, "cameras", lambda: [("Desk camera", b"desk")])
    monkeypatch.setattr(live_camera.CameraSource, "start",
                        lambda self, camera_id: started.append(camera_id) or "")
    flow = tab.live
    flow.camera_button.click()
    assert started == [b"desk"] and flow.running and flow.page.camera_combo.currentText() == \
        "Desk camera"
    for rgb, name in (((215, 40, 40), names[0]), ((40, 170, 60), names[1])):
        image = QImage(640, 480, QImage.Format.Format_RGB32)
        image.fill(QColor(*rgb))
        for _ in range(5):  # what the QVideoSink's videoFrameChanged delivers
            flow.camera.on_video_frame(QVideoFrame(image))
        qtbot.waitUntil(lambda: flow.result is not None and
                        flow.result.prediction.top[0][0] == name, timeout=PLAY)
        qtbot.waitUntil(lambda: flow.page.frame_view.image is not None, timeout=PLAY)  # 30 Hz paint
    classifier = flow.classifier
    main_window.show_tab(main_window.dataset_tab)  # leaving the tab stops the camera
    assert not flow.running and not classifier.isRunning()
    main_window.show_tab(tab)
    flow.page.start_button.click()
    assert flow.running
    flow.camera._on_error(QCamera.Error.CameraError, "Device or resource busy")
    assert not flow.running
    assert "Device or resource busy" in tab.message.text() and "in use" in tab.message.text()


def test_closing_the_window_while_a_video_plays_leaves_no_thread(qtbot, main_window, tab, video,
                                                                 monkeypatch):
    flow = _play(qtbot, tab, video, monkeypatch)
    qtbot.waitUntil(lambda: flow.result is not None, timeout=PLAY)
    threads = (flow.video, flow.classifier)
    main_window.close()
    assert not any(t.isRunning() for t in threads) and not flow.running


def test_live_needs_a_model(qtbot, main_window, video, monkeypatch):
    tab = main_window.prediction_tab
    main_window.show_tab(tab)
    flow = _play(qtbot, tab, video, monkeypatch)
    assert "no model" in tab.message.text() and not flow.running


def test_qt_multimedia_and_pyav_are_not_loaded_at_start_up():
    """Camera support loads when the user first chooses Camera: start-up does not pay it."""
    import subprocess
    import sys

    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from gui.main_window import MainWindow; w = MainWindow(); w.show(); "
            "app.processEvents(); print(sorted(m for m in ('PySide6.QtMultimedia', 'av') "
            "if m in sys.modules)); w.shutdown()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
