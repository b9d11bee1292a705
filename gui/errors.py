"""The window's one way to report a failure, so that no action fails silently.

Every action a button, menu item, shortcut or drop starts is connected through
`on_action(source, slot)`: an exception the slot raises is caught and handed to the
reporter, which names the action (by the text the user clicked, unless told otherwise),
says what went wrong in plain words, writes the full traceback to a log file in the app's
data folder (default_data_dir()/logs) and shows the message in the window: the main
window's error banner, or a non-modal message box where there is none. A traceback is
never shown, only where it was written.

`install()` (called by gui.app at start-up) is the net under that: sys.excepthook (Qt
hands it every exception that escapes a slot) and threading.excepthook send anything
else to the same reporter. A failure in a worker thread is shown in the GUI thread
(a queued signal), and a failure while reporting goes to stderr instead of looping.
"""
from __future__ import annotations

import datetime as _dt
import inspect
import os
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from gui.i18n import again, translate

_log_lock = threading.Lock()
_log_path: Path | None = None  # this session's log file, made at the first failure
_last_logged = ""
_running: list[str] = []  # names of the wrapped actions now running (GUI thread only)
_reporter: "ErrorReporter | None" = None
_previous_hooks: tuple | None = None


# --- the log file ----------------------------------------------------------------------------
def log_folder() -> Path:
    """Where failures' details go: <the app's data folder>/logs (as the command line's)."""
    from engine.config import default_data_dir

    return default_data_dir() / "logs"


def write_log(exc: BaseException, action: str = "") -> Path | None:
    """Append `exc`'s traceback to this session's log file; its path, or None if nothing
    could be written (the message then says so). Safe to call from any thread."""
    global _log_path, _last_logged
    details = "".join(traceback.format_exception(exc)).rstrip()
    now = _dt.datetime.now()
    with _log_lock:
        folders = (log_folder(), Path(tempfile.gettempdir()) / "lora-studio-logs")
        # this session's file while the data folder stays the same; else a new one there,
        # else in the temp folder
        ours = _log_path is not None and _log_path.parent in folders
        candidates = ([_log_path] if ours else []) + [
            folder / f"gui-{now:%Y%m%d-%H%M%S}-{os.getpid()}.log" for folder in folders]
        if ours and details == _last_logged:
            entry = f"{now:%H:%M:%S}  the same error again ({action or 'no action'})\n"
        else:
            entry = f"\n{now.isoformat(timespec='seconds')}  {action or '(no action)'}\n{details}\n"
        for path in candidates:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():  # a new session file: old ones beyond the last 50 go
                    from engine.cli.details import KEEP_LOGS, prune_logs

                    prune_logs(path.parent, KEEP_LOGS - 1)
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(entry)
            except OSError:
                continue
            _log_path, _last_logged = path, details
            return path
    return None


def details_text(log: Path | None) -> str:
    if log is None:
        return translate("errors", "The details could not be written to a log file.")
    return translate("errors", "The details are in {path}.").format(path=str(log))


# --- the message -------------------------------------------------------------------------------
def action_name(source: Any) -> str:
    """What the user clicked, as it reads: a button's or menu item's text without its
    '&' marks and trailing '…', first line only."""
    text = ""
    for getter in ("text", "title"):
        try:
            text = str(getattr(source, getter)())
        except (AttributeError, RuntimeError, TypeError):
            continue
        if text:
            break
    text = text.split("\n", 1)[0].replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.strip().rstrip("…").rstrip(".").strip()


def failure_text(exc: BaseException, action: str, log: Path | None) -> str:
    """The plain message for `exc` raised by `action` ('' = not known)."""
    from engine.errors import UserError

    if isinstance(exc, UserError):  # it already says what happened and what to do
        if not action:
            return f"⚠ {exc}"
        return translate("errors", "⚠ “{action}” did not work: {message}").format(
            action=action, message=str(exc))
    if isinstance(exc, OSError):  # disk full, no permission, folder gone: not a bug
        error = exc.strerror or str(exc)
        if exc.filename:
            error = f"{error} ({exc.filename})"
        if not action:
            return translate("errors", "⚠ The system refused ({error}). Check that the folder "
                             "exists, that you may write to it and that the disk has space, "
                             "then try again.").format(error=error)
        return translate("errors", "⚠ “{action}” did not work: the system refused ({error}). "
                         "Check that the folder exists, that you may write to it and that the "
                         "disk has space, then try again.").format(action=action, error=error)
    kind = type(exc).__name__
    if action:
        text = translate("errors", "⚠ Something went wrong in “{action}”: {kind}: {error}. This "
                         "is probably a bug in LoRA Studio; please report it.").format(
            action=action, kind=kind, error=exc)
    else:
        text = translate("errors", "⚠ Something went wrong: {kind}: {error}. This is probably a "
                         "bug in LoRA Studio; please report it.").format(kind=kind, error=exc)
    return f"{text} {details_text(log)}"


# --- the reporter ------------------------------------------------------------------------------
def _in_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() == app.thread()


class ErrorReporter(QObject):
    """Logs and shows failures. Signal `shown(text)` after a message reached the window."""

    shown = Signal(str)
    _deliver = Signal(str, object)  # text, the widget the action came from (or None)

    def __init__(self) -> None:
        super().__init__()
        self.history: list[str] = []  # every message shown (tests read it)
        self.last_box: QMessageBox | None = None
        self.failed_action = ""  # the action whose failure the window shows now
        self.reports = 0  # failures reported so far (an action that reported none succeeded)
        self.settled = False  # the event loop came round since the last failure
        self._presenting = False
        self._deliver.connect(self._present, Qt.ConnectionType.AutoConnection)

    def report(self, exc: BaseException, action: str = "", where: Any = None) -> None:
        """Log `exc` and show its message; from any thread (shown in the GUI thread)."""
        try:
            log = write_log(exc, action)
            self.failed_action = action
            self.reports += 1
            self._deliver.emit(failure_text(exc, action, log), where)
        except BaseException:  # noqa: BLE001 - reporting must never raise or loop
            _to_stderr(exc)

    def _settle(self) -> None:
        self.settled = True

    def _present(self, text: str, where: Any) -> None:
        if self._presenting:  # a failure while showing a failure: stderr, never a loop
            sys.stderr.write(f"LoRA Studio: {text}\n")
            return
        self._presenting = True
        try:
            self.history.append(text)
            self.settled = False  # other slots of the same click are not a later success
            QTimer.singleShot(0, self._settle)
            window = _window_for(where)
            if window is not None and hasattr(window, "show_error"):
                window.show_error(text)
            else:
                self.last_box = _message_box(text, window)
            self.shown.emit(text)
        except BaseException:  # noqa: BLE001
            sys.stderr.write(f"LoRA Studio: {text}\n")
            traceback.print_exc()
        finally:
            self._presenting = False


    def succeeded(self, action: str, where: Any = None) -> None:
        """`action` ran without failing: a failure of the same action still shown is old
        news, so the window's error line goes (the next result replaces the last)."""
        if not action or action != self.failed_action or not self.settled:
            return
        self.failed_action = ""
        window = _window_for(where)
        if window is not None and hasattr(window, "clear_error"):
            window.clear_error()


def reporter() -> ErrorReporter:
    """The one reporter (made in, or moved to, the GUI thread)."""
    global _reporter
    if _reporter is None:
        _reporter = ErrorReporter()
        app = QCoreApplication.instance()
        if app is not None and not _in_gui_thread():
            _reporter.moveToThread(app.thread())
    return _reporter


def shown_messages() -> list[str]:
    """Every message shown so far (the live list; empty before the first failure)."""
    return _reporter.history if _reporter is not None else []


def _window_for(where: Any) -> QWidget | None:
    """The window that shows the message: the first object up from `where` that can
    (`show_error`), else the visible main window, else `where`'s window."""
    obj, fallback = where, None
    try:
        while obj is not None:
            if isinstance(obj, QWidget) and hasattr(obj, "show_error"):
                return obj
            if fallback is None and isinstance(obj, QWidget):
                fallback = obj.window()
            obj = obj.parent() if isinstance(obj, QObject) else None
    except RuntimeError:  # `where` was deleted meanwhile (a worker's late report)
        fallback = None
    app = QApplication.instance()
    if isinstance(app, QApplication):
        for widget in app.topLevelWidgets():
            if hasattr(widget, "show_error") and widget.isVisible():
                return widget
    return fallback


def _message_box(text: str, parent: QWidget | None) -> QMessageBox:
    """A message box that blocks nothing (not modal, no exec())."""
    box = QMessageBox(QMessageBox.Icon.Warning, "LoRA Studio", text,
                      QMessageBox.StandardButton.Ok, parent)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box


def _to_stderr(exc: BaseException) -> None:
    try:
        traceback.print_exception(exc, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - nothing left to tell
        pass


# --- actions -----------------------------------------------------------------------------------
def _required_args(slot: Callable) -> int | None:
    """How many signal arguments `slot` takes (its required positional parameters), or None
    to pass them all (it takes *args, or its signature cannot be read)."""
    try:
        params = inspect.signature(slot).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.default is p.empty
               and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def on_action(source: Any, slot: Callable, action: str | None = None) -> Callable[..., None]:
    """`slot`, for connecting to a user action's signal: any exception it raises is
    reported, naming the action (`action`, else `source`'s text, read when it fails).

    `source` is the button, menu item or widget the action starts from; the message goes to
    its window. Signal arguments go to the slot's required parameters, like Qt does. When
    one action sets off another (a button whose signal a tab handles), the message names
    the first: what the user did."""
    wanted = _required_args(slot)

    def run(*args) -> None:
        name = _running[0] if _running and _in_gui_thread() else (
            again(action) if action else action_name(source))
        _running.append(name)
        reported = reporter().reports
        try:
            slot(*(args if wanted is None else args[:wanted]))
        except Exception as exc:  # noqa: BLE001 - reported to the user, never lost
            reporter().report(exc, name, source)
        else:  # the user's own action (not one it set off), and nothing inside it failed
            if len(_running) == 1 and reporter().reports == reported:
                reporter().succeeded(name, source)
        finally:
            _running.pop()

    run.reports_errors = True  # type: ignore[attr-defined]
    return run


def running_action() -> str:
    """The wrapped action now running in the GUI thread ('' if none): a slot it set off
    through another signal fails in its name."""
    return _running[-1] if _running and _in_gui_thread() else ""


# --- the net -----------------------------------------------------------------------------------
def _excepthook(kind, exc, tb) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    if exc is None:
        exc = kind()
    if exc.__traceback__ is None and tb is not None:
        exc = exc.with_traceback(tb)
    _to_stderr(exc)  # developers running from a terminal still see it
    reporter().report(exc, running_action())


def _threading_hook(args) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    _excepthook(args.exc_type, args.exc_value, args.exc_traceback)


def install() -> ErrorReporter:
    """Route every exception that escapes a slot or a thread to the reporter (idempotent)."""
    global _previous_hooks
    found = reporter()
    if _previous_hooks is None:
        _previous_hooks = (sys.excepthook, threading.excepthook)
    sys.excepthook = _excepthook
    threading.excepthook = _threading_hook
    return found


def uninstall() -> None:
    """Put back the hooks install() replaced (tests)."""
    global _previous_hooks
    if _previous_hooks is not None:
        sys.excepthook, threading.excepthook = _previous_hooks
        _previous_hooks = None
