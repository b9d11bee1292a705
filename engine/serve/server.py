"""Running the prediction server: the loopback rule, the API key, binding the port, and
uvicorn in the foreground (the command line) or in a thread (the app's dialog, the tests,
the bench).

The rule: 127.0.0.1 (and ::1, localhost) is reachable from this computer only, so the
server binds there by default and needs no key. Any other address makes the model
reachable by other computers: the server refuses to start on one without an API key, and
says at start who can reach it.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _
from engine.serve.config import ServeConfig

MIN_KEY_LENGTH = 16
# import name -> the package to install; optional: only the server needs them
PACKAGES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "multipart": "python-multipart",
            "swagger_ui_bundle": "swagger-ui-bundle"}


def require_packages() -> None:
    """A plain error naming what to install when a package the server needs is missing."""
    import importlib.util

    missing = [package for module, package in PACKAGES.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        raise UserError(_("The prediction server needs {packages}: pip install {packages}")
                        .format(packages=" ".join(missing)))


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_api_key(path: str | os.PathLike) -> str:
    """The key in `path` (its first line, spaces trimmed); a plain error when unusable."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(_("Cannot read the API key file {path}: {error}").format(
            path=path, error=getattr(exc, "strerror", None) or exc)) from None
    key = (text.strip().splitlines() or [""])[0].strip()
    if len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
        raise UserError(_("The API key in {path} is too short or holds spaces: use at least "
                          "{n} characters without spaces, e.g. the output of `python -c \"import "
                          "secrets; print(secrets.token_urlsafe(32))\"`.").format(
            path=path, n=MIN_KEY_LENGTH))
    return key


def check_binding(host: str, api_key: str | None) -> None:
    if not is_loopback(host) and api_key is None:
        raise UserError(_(
            "Serving on {host} makes the model reachable from other computers, so the server "
            "needs an API key: write a long random key into a file and pass --api-key-file "
            "FILE (or keep the default --host 127.0.0.1).").format(host=host))


def reach_note(host: str, port: int, api_key: str | None) -> str:
    """What the server says at start about who can reach it."""
    if is_loopback(host):
        note = _("Reachable from this computer only.")
    else:
        note = _("Reachable from other computers that can reach {host}:{port}; every "
                 "prediction request needs the API key (header 'Authorization: Bearer "
                 "<key>').").format(host=host, port=port)
    if api_key is not None and is_loopback(host):
        note += " " + _("Requests need the API key (header 'Authorization: Bearer <key>').")
    return note


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); a plain error when taken."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(_("Cannot serve on '{host}': not an address of this computer "
                          "({error}).").format(host=host, error=exc.strerror)) from None
    family, _type, _proto, _name, address = infos[0]
    # proto IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections whose socket says TCP; with it on, every answer's body waited for the
    # client's delayed ACK of its headers (measured: 44 ms of a one-image request's 212 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UserError(_("Cannot serve on {host}:{port}: {error}. Choose another port with "
                          "--port (or stop the program using it).").format(
            host=host, port=port, error=exc.strerror or exc)) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def load_predictor(run_dir, backend: str = "torch", **kwargs):
    """The run's predictor through engine.use.backends (the one door to every backend)."""
    from engine.libraries import ready
    from engine.use.backends import open_predictor

    ready()
    return open_predictor(run_dir, backend=backend, **kwargs)


class ServerThread:
    """uvicorn serving `app` on an already bound socket, in a daemon thread."""

    def __init__(self, app, sock: socket.socket, host: str):
        import uvicorn

        self.app, self.sock, self.host = app, sock, host
        self.port = sock.getsockname()[1]
        self.url = url_of(host, self.port)
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=5, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="serve-http", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # SystemExit from uvicorn included: kept for stop()
            self.error = exc

    def start(self, timeout: float = 30.0) -> "ServerThread":
        self.thread.start()
        deadline = threading.Event()
        while not self.server.started and self.thread.is_alive():
            if deadline.wait(0.02) or timeout <= 0:
                break
            timeout -= 0.02
        if not self.server.started:
            self.stop()
            raise UserError(_("The server did not start: {error}").format(
                error=self.error or _("no answer within the time allowed")))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
        self.sock.close()

    @property
    def stats(self):
        return self.app.state.stats


def start_in_thread(predictor, config: ServeConfig | None = None, *, api_key: str | None = None,
                    backend: str = "torch") -> ServerThread:
    """Serve `predictor` in a background thread; .url, .stats, .stop()."""
    from engine.serve.app import create_app

    config = config or ServeConfig()
    require_packages()
    check_binding(config.host, api_key)
    sock = bind(config.host, config.port)
    return ServerThread(create_app(predictor, config, api_key=api_key, backend=backend), sock,
                        config.host).start()


__all__ = ["MIN_KEY_LENGTH", "PACKAGES", "ServerThread", "bind", "check_binding", "is_loopback",
           "load_predictor", "reach_note", "read_api_key", "require_packages",
           "start_in_thread", "url_of"]
