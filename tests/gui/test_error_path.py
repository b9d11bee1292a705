"""gui.errors, the one error-reporting path: the net under every slot (sys.excepthook and
threading.excepthook), failures from worker threads, the messages' wording, a failure
while reporting, windows without an error line, and a scan of gui/ that fails when a new
button or menu connection bypasses the path."""
from __future__ import annotations

import ast
import threading
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from engine.config import default_data_dir
from engine.errors import UserError
from gui import errors

GUI = Path(__file__).resolve().parents[2] / "gui"

# Signals a user sets off (Qt's, and ours by name); a connection to one of them must go
# through on_action() or hand over to another signal, whose connections are checked in turn.
# `toggled` and the *_changed signals are left out: config editors emit them while a value
# is set in code, and the excepthook is their net.
USER_SIGNALS = {"clicked", "triggered", "activated", "doubleClicked", "itemDoubleClicked",
                "itemActivated", "linkActivated", "returnPressed", "sigMouseClicked", "chosen"}
USER_SUFFIXES = ("_requested", "_dropped", "_chosen", "_clicked", "_activated", "_toggled")


@contextmanager
def hooks_installed():
    """The app's hooks for one test (pytest-qt's own hook is put back at the end)."""
    errors.install()
    try:
        yield
    finally:
        errors.uninstall()


def log_text() -> str:
    return "".join(p.read_text(encoding="utf-8")
                   for p in sorted((default_data_dir() / "logs").glob("*.log")))


class Emitter(QObject):
    fired = Signal()


def test_an_unwrapped_slot_that_raises_reaches_the_window(qtbot, main_window, error_reports):
    button = QPushButton("Frobnicate", main_window)
    button.clicked.connect(lambda: 1 / 0)  # a slot nobody wrapped
    with hooks_installed():
        button.click()
    shown = main_window.error_banner.text()
    assert "Something went wrong" in shown and "ZeroDivisionError" in shown
    assert "Traceback" not in shown and str(default_data_dir() / "logs") in shown
    assert "ZeroDivisionError: division by zero" in log_text()
    assert error_reports() == [main_window.error_banner.message]


def test_a_slot_set_off_by_an_action_fails_in_that_actions_name(qtbot, main_window,
                                                                 error_reports):
    emitter = Emitter()
    emitter.fired.connect(lambda: {}["missing"])  # unwrapped, behind a signal
    button = QPushButton("Save everything", main_window)
    button.clicked.connect(errors.on_action(button, emitter.fired.emit))
    with hooks_installed():
        button.click()
    assert "“Save everything”" in main_window.error_banner.text()
    assert "KeyError" in main_window.error_banner.text()


def test_a_failure_in_a_worker_thread_is_shown_in_the_gui_thread(qtbot, main_window,
                                                                 error_reports):
    class Broken(QThread):
        def run(self):
            raise RuntimeError("worker exploded")

    shown_in: list = []

    def note(_text):
        shown_in.append(threading.current_thread())

    errors.reporter().shown.connect(note)
    with hooks_installed():
        worker = Broken()
        worker.start()
        qtbot.waitUntil(lambda: "worker exploded" in main_window.error_banner.text(),
                        timeout=5000)
        worker.wait()
        plain = threading.Thread(target=lambda: [][1], name="plain-thread")
        plain.start()
        plain.join()
        qtbot.waitUntil(lambda: "IndexError" in main_window.error_banner.text(), timeout=5000)
    errors.reporter().shown.disconnect(note)
    assert shown_in and all(t is threading.main_thread() for t in shown_in)
    assert "worker exploded" in log_text() and "IndexError" in log_text()


def test_messages_say_what_failed_in_plain_words(tmp_path):
    log = tmp_path / "gui.log"
    user = errors.failure_text(UserError("The folder has no images. Choose another."), "Rescan",
                               log)
    assert user == "⚠ “Rescan” did not work: The folder has no images. Choose another."
    disk = errors.failure_text(PermissionError(13, "Permission denied", "/data/x"), "Save", None)
    assert "“Save”" in disk and "Permission denied (/data/x)" in disk
    bug = errors.failure_text(ValueError("bad value"), "Export", None)
    assert bug.startswith("⚠ Something went wrong in “Export”: ValueError: bad value.")
    assert "could not be written to a log file" in bug
    assert str(log) in errors.failure_text(ValueError("x"), "", log)
    assert errors.action_name(QPushButton("&Save && close…")) == "Save & close"


def test_the_log_keeps_every_traceback_and_says_when_one_repeats(qtbot):
    def fail():
        raise RuntimeError("same problem")

    for _ in range(2):
        try:
            fail()
        except RuntimeError as exc:
            path = errors.write_log(exc, "Rescan")
    text = path.read_text(encoding="utf-8")
    assert path.parent == default_data_dir() / "logs"
    assert text.count("Traceback") == 1 and "the same error again (Rescan)" in text


def test_a_failure_while_reporting_goes_to_stderr_instead_of_looping(qtbot, main_window,
                                                                     error_reports, capfd):
    def broken_show(text):
        raise RuntimeError("the error line itself is broken")

    main_window.show_error = broken_show
    button = QPushButton("Rescan", main_window)
    button.clicked.connect(errors.on_action(button, lambda: 1 / 0))
    with hooks_installed():
        button.click()
    err = capfd.readouterr().err
    assert "the error line itself is broken" in err
    assert "ZeroDivisionError" in log_text()
    assert len(error_reports()) == 1  # reported once, no loop


def test_a_window_without_an_error_line_gets_a_message_box_that_blocks_nothing(
        qtbot, error_reports):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    button = QPushButton("Export", widget)
    button.clicked.connect(errors.on_action(button, lambda: open("/nonexistent/dir/x", "w")))
    button.click()
    box = errors.reporter().last_box
    assert box is not None and box.isVisible() and not box.isModal()
    assert "“Export”" in box.text() and "No such file or directory" in box.text()
    assert QApplication.activeModalWidget() is None
    box.close()


def test_worker_failures_name_the_log_instead_of_showing_a_traceback(qtbot):
    from gui.scan_worker import describe_error

    try:
        raise KeyError("layout")
    except KeyError as exc:
        text = describe_error(exc, "scanning pets")
    assert "Something went wrong while scanning pets: KeyError" in text
    assert "Traceback" not in text and str(default_data_dir() / "logs") in text
    assert "KeyError: 'layout'" in log_text()


def test_the_app_installs_the_net_at_start_up():
    tree = ast.parse((GUI / "app.py").read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    calls = {ast.unparse(n.func) for n in ast.walk(main) if isinstance(n, ast.Call)}
    assert "errors.install" in calls


# --- every action connection goes through the path ------------------------------------------------
def _signals(tree: ast.AST) -> set[str]:
    """Names of the Signal(...) class attributes defined in a module."""
    return {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Call) and ast.unparse(n.value.func) == "Signal"
            for t in n.targets if isinstance(t, ast.Name)}


def _connections(tree: ast.AST):
    """(signal name, slot node, line) of every x.<signal>.connect(slot), menu.addAction(text,
    slot) and QShortcut(key, parent, slot)."""
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call) or not n.args:
            continue
        func = n.func
        if (isinstance(func, ast.Attribute) and func.attr == "connect"
                and isinstance(func.value, ast.Attribute)):
            yield func.value.attr, n.args[0], n.lineno
        elif isinstance(func, ast.Attribute) and func.attr == "addAction" and len(n.args) >= 2:
            yield "triggered", n.args[1], n.lineno
        elif ast.unparse(func) == "QShortcut" and len(n.args) >= 3:
            yield "activated", n.args[2], n.lineno


def _hands_over_to(slot: ast.AST, signals: set[str]) -> str:
    """The signal `slot` re-emits (x.sig, or lambda: x.sig.emit(...)), else ''."""
    if isinstance(slot, ast.Lambda):
        slot = slot.body
        if not (isinstance(slot, ast.Call) and isinstance(slot.func, ast.Attribute)
                and slot.func.attr == "emit"):
            return ""
        slot = slot.func.value
    name = slot.attr if isinstance(slot, ast.Attribute) else getattr(slot, "id", "")
    return name if name in signals else ""


def bypasses(sources: dict[str, str]) -> list[str]:
    """Connections of user signals in `sources` (name -> code) that bypass gui.errors."""
    trees = {name: ast.parse(code) for name, code in sources.items()}
    signals = set().union(*(_signals(t) for t in trees.values()))
    found = [(name, *c) for name, tree in trees.items() for c in _connections(tree)]

    def user(signal: str) -> bool:
        return not signal.startswith("_") and (signal in USER_SIGNALS or signal in handed
                                               or signal.endswith(USER_SUFFIXES))

    handed: set[str] = set()
    while True:  # signals a user signal hands over to are user signals too
        more = {_hands_over_to(slot, signals) for _, signal, slot, _ in found if user(signal)}
        if more - {""} <= handed:
            break
        handed |= more - {""}
    bad = []
    for name, signal, slot, line in found:
        wrapped = isinstance(slot, ast.Call) and ast.unparse(slot.func).endswith("on_action")
        if user(signal) and not wrapped and not _hands_over_to(slot, signals):
            bad.append((name, line, f"{name}:{line}: .{signal} -> {ast.unparse(slot)}"))
    return [text for *_, text in sorted(bad)]


def test_every_button_and_menu_connection_in_gui_goes_through_the_error_path():
    sources = {str(p.relative_to(GUI.parent)): p.read_text(encoding="utf-8")
               for p in sorted(GUI.rglob("*.py"))}
    assert bypasses(sources) == [], ("connect these through gui.errors.on_action (or to a "
                                     "signal whose connections do)")


def test_the_scan_finds_a_bypass_directly_and_behind_a_signal():
    code = '''
class Page(QWidget):
    save_requested = Signal()
    def build(self):
        self.a.clicked.connect(self.save)
        self.b.clicked.connect(on_action(self.b, self.save))
        self.c.clicked.connect(self.save_requested)
        self.d.clicked.connect(lambda: self.save_requested.emit())
        self.page.save_requested.connect(self.write)
        self.page.save_requested.connect(on_action(self.c, self.write))
        self.menu.addAction("CSV", self.export)
        self.worker._load_requested.connect(self.load)
'''
    assert bypasses({"page.py": code}) == [
        "page.py:5: .clicked -> self.save",
        "page.py:9: .save_requested -> self.write",
        "page.py:11: .triggered -> self.export",
    ]


def test_the_error_line_goes_when_the_same_action_next_succeeds(qtbot, main_window,
                                                                  error_reports):
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(28, "No space left on device", "/data/x")

    button = QPushButton("Export everything", main_window)
    other = QPushButton("Something else", main_window)
    button.clicked.connect(errors.on_action(button, flaky))
    other.clicked.connect(errors.on_action(other, lambda: None))
    button.click()
    assert "Export everything" in main_window.error_banner.text()
    qtbot.wait(20)  # the user's next click comes in a later pass of the event loop
    other.click()  # another action's success says nothing about this failure
    assert "Export everything" in main_window.error_banner.text()
    button.click()  # the same action, now fine: the old failure is old news
    assert main_window.error_banner.text() == "" and main_window.error_banner.isHidden()
    assert len(error_reports()) == 1
