"""The Prediction tab's "Serve this model…" dialog on loopback: the user opens a run, clicks
the button, starts the server, reads the address and the curl line, a program asks it for a
prediction, the dialog counts it, and Stop ends it. A taken port is a plain message."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.serve.client import Client
from gui.tabs.prediction_tab import PredictionTab

LOAD_TIMEOUT = 180_000  # first load imports torch/transformers/peft: slow on a busy 2-core box


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory, tiny_clip_dir, learnable_dir) -> Path:
    from run_factory import make_run

    root = tmp_path_factory.mktemp("runs")
    make_run(root / "shapes-run", tiny_clip_dir, learnable_dir)
    return root


@pytest.fixture
def dialog(qtbot, runs_root):
    tab = PredictionTab(None)
    tab.set_runs_root(str(runs_root))
    qtbot.addWidget(tab)
    tab.show()
    assert not tab.serve_button.isEnabled()  # nothing to serve before a run is loaded
    with qtbot.waitSignal(tab.run_opened, timeout=LOAD_TIMEOUT):
        tab.open_run(str(runs_root / "shapes-run"))
    assert tab.serve_button.isEnabled()
    qtbot.mouseClick(tab.serve_button, Qt.MouseButton.LeftButton)
    dialog = tab.serve_dialog
    assert dialog.isVisible() and "shapes-run" in dialog.findChild(type(dialog.status)).text()
    yield dialog
    dialog.close()
    tab.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_shows_the_address_serves_counts_and_stop_ends_it(qtbot, dialog,
                                                                learnable_dir, tmp_path):
    port = free_port()
    dialog.port.setValue(port)
    assert "127.0.0.1:{}".format(port) in dialog.status.text()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.start_button.isEnabled()  # starting: no second start
    qtbot.waitUntil(lambda: dialog.server is not None, timeout=LOAD_TIMEOUT)
    url = f"http://127.0.0.1:{port}"
    assert url in dialog.status.text() and "/docs" in dialog.status.text()
    assert "Only this computer" in dialog.status.text()
    assert dialog.curl.text() == f'curl -F files=@photo.jpg "{url}/v1/predict?top_k=3"'
    qtbot.mouseClick(dialog.copy_curl, Qt.MouseButton.LeftButton)
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == dialog.curl.text()
    dialog.grab().save(str(tmp_path / "serve_dialog.png"))

    photo = sorted(Path(learnable_dir).rglob("*.jpg"))[0]
    status, answer = Client(url).predict([(photo.name, photo.read_bytes())], top_k=3)
    assert status == 200 and answer["predictions"][0]["label"]
    assert Client(url).predict([("notes.txt", b"not a picture")])[0] == 415
    qtbot.waitUntil(lambda: "Requests served: 2" in dialog.counts.text(), timeout=10_000)
    assert "Last error:" in dialog.counts.text() and "notes.txt" in dialog.counts.text()

    server = dialog.server
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    assert dialog.server is None and dialog.start_button.isEnabled()
    assert "Not serving" in dialog.status.text() and dialog.curl.text() == ""
    server.thread.join(15)
    assert not server.thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_other_computers_need_a_key_and_a_taken_port_is_a_plain_message(qtbot, dialog):
    assert not dialog.key.isVisibleTo(dialog)
    dialog.network.click()
    assert dialog.key.isVisibleTo(dialog) and len(dialog.key.text()) >= 32
    assert "0.0.0.0" in dialog.status.text()
    dialog.local.click()
    assert not dialog.key.isVisibleTo(dialog)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        dialog.port.setValue(taken.getsockname()[1])
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "did not start" in dialog.status.text(), timeout=LOAD_TIMEOUT)
    assert "port" in dialog.status.text() and dialog.start_button.isEnabled()
    assert dialog.server is None
