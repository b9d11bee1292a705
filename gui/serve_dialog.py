"""The Prediction tab's "Serve this model…": the run behind the local prediction server
(engine.serve), started and stopped from a small dialog.

The dialog shows the address, a ready curl line with Copy, the docs link, requests served
and the last error. Serving beyond this computer needs an API key: choosing it makes one
(shown with Copy) and says who can reach the model. The model loads and the server runs in
background threads (engine.serve.server.ServerThread); the dialog only reads their state on
a timer, so the window never waits for them. Closing the dialog stops the server.
"""
from __future__ import annotations

import secrets
import threading
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QApplication, QButtonGroup, QDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.serve.config import DEFAULT_PORT, help_text
from gui.errors import on_action
from gui.i18n import translate

POLL_MS = 200
ANY_ADDRESS = "0.0.0.0"
LOOPBACK = "127.0.0.1"


def curl_line(url: str, api_key: str | None = None) -> str:
    key = f'-H "Authorization: Bearer {api_key}" ' if api_key else ""
    return f'curl {key}-F files=@photo.jpg "{url}/v1/predict?top_k=3"'


class ServeDialog(QDialog):
    def __init__(self, run_dir: str, backend: str = "auto", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("serveDialog")
        self.run_dir, self.backend = run_dir, backend
        self.server = None  # engine.serve.server.ServerThread while serving
        self.api_key: str | None = None
        self._job: dict = {}  # what the background thread reports: server or error
        self.setWindowTitle(translate("ServeDialog", "Serve this model"))
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._show_state("stopped")

    # -- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        intro = QLabel(translate("ServeDialog", "Serve <b>{run}</b> over HTTP, so other "
                                 "programs can ask it for predictions.").format(
            run=Path(self.run_dir).name))
        intro.setWordWrap(True)
        root.addWidget(intro)
        form = QFormLayout()
        self.local = QRadioButton(translate("ServeDialog", "This computer only"))
        self.network = QRadioButton(translate("ServeDialog", "Other computers too (needs an "
                                              "API key)"))
        self.local.setChecked(True)
        group = QButtonGroup(self)
        reach = QHBoxLayout()
        for button in (self.local, self.network):
            group.addButton(button)
            reach.addWidget(button)
            button.toggled.connect(on_action(button, self._on_reach))
        form.addRow(translate("ServeDialog", "Reachable from:"), reach)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.port.setToolTip(help_text("port"))
        self.port.valueChanged.connect(lambda _value: self._refresh_idle())
        form.addRow(translate("ServeDialog", "Port:"), self.port)
        self.key = QLineEdit()
        self.key.setReadOnly(True)
        self.copy_key = QPushButton(translate("ServeDialog", "Copy key"))
        self.copy_key.clicked.connect(on_action(self.copy_key, lambda: self._copy(self.key)))
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.copy_key)
        self.key_label = QLabel(translate("ServeDialog", "API key:"))
        form.addRow(self.key_label, key_row)
        root.addLayout(form)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(translate("ServeDialog", "Start"))
        self.start_button.clicked.connect(on_action(self.start_button, self.start))
        self.stop_button = QPushButton(translate("ServeDialog", "Stop"))
        self.stop_button.clicked.connect(on_action(self.stop_button, self.stop))
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        root.addLayout(buttons)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setOpenExternalLinks(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        root.addWidget(self.status)
        self.curl = QLineEdit()
        self.curl.setReadOnly(True)
        self.copy_curl = QPushButton(translate("ServeDialog", "Copy"))
        self.copy_curl.clicked.connect(on_action(self.copy_curl, lambda: self._copy(self.curl)))
        curl_row = QHBoxLayout()
        curl_row.addWidget(self.curl, 1)
        curl_row.addWidget(self.copy_curl)
        root.addLayout(curl_row)
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        root.addWidget(self.counts)
        note = QLabel(translate("ServeDialog", "Closing this window stops the server."))
        note.setEnabled(False)
        root.addWidget(note)
        self._on_reach()

    # -- actions --------------------------------------------------------------------
    def start(self) -> None:
        """Load the model and start the server, in a background thread."""
        if self.server is not None or self._job.get("running"):
            return
        host = ANY_ADDRESS if self.network.isChecked() else LOOPBACK
        self.api_key = self.key.text() if self.network.isChecked() else None
        self._job = {"running": True}
        job, run_dir, backend, port, key = self._job, self.run_dir, self.backend, \
            self.port.value(), self.api_key

        def work() -> None:
            from engine.serve.config import ServeConfig
            from engine.serve.server import load_predictor, start_in_thread

            try:
                predictor = load_predictor(run_dir, backend)
                server = start_in_thread(predictor, ServeConfig(host=host, port=port),
                                         api_key=key, backend=backend)
                if job.get("abandoned"):  # the dialog closed while it started
                    server.stop()
                else:
                    job["server"] = server
            except Exception as exc:  # shown in the dialog, in words
                job["error"] = " ".join(str(exc).split()) or type(exc).__name__
            finally:
                job["running"] = False

        threading.Thread(target=work, name="serve-start", daemon=True).start()
        self._show_state("starting")
        self._timer.start()

    def stop(self) -> None:
        self._job["abandoned"] = True  # a start still under way stops itself when done
        server, self.server = self.server, None
        if server is not None:  # joins the server thread: not in the window's thread
            threading.Thread(target=server.stop, name="serve-stop", daemon=True).start()
        self._show_state("stopped")

    def done(self, result: int) -> None:  # closing (Esc, the title bar's X) stops serving
        self.stop()
        self._timer.stop()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.stop()
        self._timer.stop()
        super().closeEvent(event)

    # -- state ----------------------------------------------------------------------
    def _on_reach(self) -> None:
        network = self.network.isChecked()
        if network and not self.key.text():
            self.key.setText(secrets.token_urlsafe(32))
        for widget in (self.key, self.copy_key, self.key_label):
            widget.setVisible(network)
        self._refresh_idle()

    def _refresh_idle(self) -> None:
        """The "Not serving" line follows the address and port chosen."""
        if self.server is None and not self._job.get("running"):
            self._show_state("stopped")

    def _copy(self, field: QLineEdit) -> None:
        QApplication.clipboard().setText(field.text())

    def _poll(self) -> None:
        job = self._job
        if self.server is None and "server" in job:
            self.server = job.pop("server")
            self._show_state("serving")
        elif "error" in job:
            self._show_state("failed", job.pop("error"))
        if self.server is not None:
            stats = self.server.stats
            text = translate("ServeDialog", "Requests served: {n} · images: {images}").format(
                n=stats.requests, images=stats.images)
            if stats.last_error:
                text += "\n" + translate("ServeDialog", "Last error: {error}").format(
                    error=stats.last_error)
            self.counts.setText(text)
        elif not job.get("running"):
            self._timer.stop()

    def _show_state(self, state: str, error: str = "") -> None:
        serving = state == "serving"
        busy = state in ("starting", "serving")
        self.start_button.setEnabled(not busy)
        self.stop_button.setEnabled(serving)
        for widget in (self.local, self.network, self.port):
            widget.setEnabled(not busy)
        self.curl.setText(curl_line(self.server.url, self.api_key) if serving else "")
        self.copy_curl.setEnabled(serving)
        if state == "starting":
            text = translate("ServeDialog", "Loading the model and starting the server…")
        elif serving:
            url = self.server.url
            if self.api_key is None:
                who = translate("ServeDialog", "Only this computer can reach it.")
            else:
                who = translate("ServeDialog", "Any computer that can reach this one on port "
                                "{port} can use it with the API key.").format(
                    port=self.server.port)
            text = translate("ServeDialog", "Serving at <b>{url}</b> · <a href=\"{url}/docs\">"
                             "API docs</a>. {who}").format(url=url, who=who)
        elif state == "failed":
            text = translate("ServeDialog", "The server did not start: {error}").format(
                error=error)
        else:
            text = translate("ServeDialog", "Not serving. Start makes the model answer at "
                             "http://{host}:{port}.").format(
                host=ANY_ADDRESS if self.network.isChecked() else LOOPBACK,
                port=self.port.value())
        self.status.setText(text)
        if not serving:
            self.counts.setText("")


def serve_button(tab) -> QPushButton:
    """The Prediction tab's "Serve this model…" button: enabled once a run is loaded."""
    button = QPushButton(translate("ServeDialog", "Serve this model…"))
    button.setObjectName("serveButton")
    button.setEnabled(bool(tab.run_dir))
    tab.run_opened.connect(lambda _run: button.setEnabled(True))

    def open_dialog() -> None:
        bar = getattr(tab, "result_bar", None)
        backend = bar.backend.currentData() if bar is not None else "auto"
        tab.serve_dialog = ServeDialog(tab.run_dir, backend or "auto", tab)
        tab.serve_dialog.show()

    button.clicked.connect(on_action(button, open_dialog))
    return button


__all__ = ["ServeDialog", "curl_line", "serve_button"]
