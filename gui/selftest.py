"""`--self-test` and `--self-test-gui`: prove an installation (or the packaged executable) works.

--self-test      offscreen, offline, in a temp dir: every code path the app runs, on a
                 demo dataset and a tiny demo model (gui/selftest_stages.py: imports,
                 LoRA training with TensorBoard, the fast CPU modes, reload + predict,
                 evaluation report, merged export, spawned DataLoader workers). One
                 PASS/FAIL line per stage; exit 0 only if all pass.
--self-test-gui  offscreen: build the main window, show it, let the event loop paint it,
                 close it the way a user would and check the app quits; prints how long
                 after launch the window was shown and whether torch was already imported.

Nothing here touches the network, the user's settings or the user's data folder: every
path the app would write to is redirected into the temp dir first.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from gui.selftest_stages import SELF_TEST_STAGES

Stage = tuple[str, Callable[[dict], str]]  # (name, fn(context) -> one-line detail)


@dataclass
class StageResult:
    name: str
    status: str  # "PASS" | "FAIL" | "SKIP"
    seconds: float = 0.0
    detail: str = ""


@contextlib.contextmanager
def isolated_environment(home: Path) -> Iterator[None]:
    """Offline, offscreen, and every writable location inside `home`; restored afterwards."""
    saved = dict(os.environ)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HOME"] = str(home / "hf")
    os.environ["LORA_STUDIO_HOME"] = str(home / "lora-studio")
    os.environ["LORA_STUDIO_CACHE_DIR"] = str(home / "cache")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a self-test never needs (or opens) a display
    # Keep the report readable: no download bars or library chatter between the lines.
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_stages(stages: list[Stage], context: dict, out: Callable[[str], None] = print) -> list[StageResult]:
    """Run stages in order; each later stage needs the earlier ones, so stop at the first failure."""
    results: list[StageResult] = []
    failed = False
    for name, fn in stages:
        if failed:
            results.append(StageResult(name, "SKIP", detail="an earlier stage failed"))
        else:
            start = time.perf_counter()
            try:
                result = StageResult(name, "PASS", detail=fn(context) or "")
            except Exception as exc:  # the report is the product: never a bare traceback
                failed = True
                tb = traceback.format_exc(limit=-3).strip().splitlines()
                result = StageResult(name, "FAIL", detail=f"{type(exc).__name__}: {exc}")
                context.setdefault("tracebacks", {})[name] = "\n".join(tb)
            result.seconds = time.perf_counter() - start
            results.append(result)
        r = results[-1]
        out(f"{r.status}  {r.name:<16} {r.seconds:6.1f} s  {r.detail}".rstrip())
    return results


def run_self_test(stages: list[Stage] | None = None, out: Callable[[str], None] = print) -> int:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lora-studio-selftest-") as tmp, \
            isolated_environment(Path(tmp)):
        context: dict = {"tmp": Path(tmp)}
        out(f"LoRA Studio self-test ({'packaged' if getattr(sys, 'frozen', False) else 'source'}, "
            f"Python {sys.version.split()[0]}, temp dir {tmp})")
        results = run_stages(SELF_TEST_STAGES if stages is None else stages, context, out)
    for name, tb in context.get("tracebacks", {}).items():
        out(f"--- {name} failed at:\n{tb}")
    failed = [r.name for r in results if r.status == "FAIL"]
    seconds = time.perf_counter() - start
    out(f"self-test {'FAILED at ' + failed[0] if failed else 'passed'} in {seconds:.1f} s")
    return 1 if failed else 0


# --- --self-test-gui --------------------------------------------------------------------
def seconds_since_launch() -> float:
    """Time since this process started (psutil ships with accelerate, a dependency)."""
    try:
        import psutil

        return time.time() - psutil.Process().create_time()
    except Exception:  # no psutil: fall back to the time since this module was imported
        return time.perf_counter() - _IMPORTED_AT


_IMPORTED_AT = time.perf_counter()


def _make_window(settings_file: Path):
    """Build the window the way gui.app.main does, with settings in a throw-away file."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.settings import APPLICATION, ORGANIZATION, Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")
    from gui.main_window import MainWindow

    settings = Settings(QSettings(str(settings_file), QSettings.Format.IniFormat))
    return app, MainWindow(settings)


def run_gui_self_test(timeout_s: float = 120.0, out: Callable[[str], None] = print) -> int:
    with tempfile.TemporaryDirectory(prefix="lora-studio-selftest-gui-") as tmp, \
            isolated_environment(Path(tmp)):
        from PySide6.QtCore import QTimer

        app, window = _make_window(Path(tmp) / "settings.ini")
        window.show()
        shown: dict = {}

        def _on_loop_running() -> None:
            # The loop has processed the show/expose events: the window is on screen.
            shown["after_s"] = seconds_since_launch()
            shown["visible"] = window.isVisible()
            shown["torch"] = "torch" in sys.modules
            # the camera's Qt Multimedia (and its FFmpeg plugin) must load in the bundle
            from gui.live_camera import cameras, multimedia

            problem = multimedia()
            shown["camera"] = problem if isinstance(problem, str) else len(cameras())

        # Zero-delay timers run in order once the loop spins: measure, then (as gui.app.main
        # does) start hardware detection, which imports torch in a background thread, then
        # close the window the way a user's click does; closing waits for that thread.
        QTimer.singleShot(0, _on_loop_running)
        detect = getattr(getattr(window, "status", None), "detect_hardware", None)
        if detect is not None:
            QTimer.singleShot(0, detect)
        QTimer.singleShot(0, window.close)
        QTimer.singleShot(int(timeout_s * 1000), lambda: app.exit(3))
        code = app.exec()
    if not shown:
        out("FAIL  the event loop never ran")
        return 2
    out(f"window shown {shown['after_s']:.2f} s after launch "
        f"(visible={shown['visible']}, torch imported before the window: {shown['torch']})")
    if isinstance(shown.get("camera"), str):
        out(f"FAIL  camera support: {shown['camera']}")
        return 5
    out(f"camera support: Qt Multimedia loaded, {shown.get('camera')} camera(s) found")
    if code == 3:
        out(f"FAIL  the app did not quit within {timeout_s:.0f} s after its window was closed")
        return 3
    if not shown["visible"] or code != 0:
        out(f"FAIL  visible={shown['visible']}, exit code {code}")
        return code or 4
    out(f"gui self-test passed: closed and quit {seconds_since_launch():.2f} s after launch")
    return 0


def report_output() -> Callable[[str], None]:
    """print, or a log file in the current folder where there is no console to print to
    (a windowed Windows build has sys.stdout = None unless its output is redirected)."""
    if sys.stdout is not None:
        return lambda line: print(line, flush=True)
    path = Path.cwd() / "lora-studio-self-test.log"

    def write(line: str) -> None:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(line + "\n")

    return write


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = report_output()
    if "--self-test-gui" in args:
        return run_gui_self_test(out=out)
    return run_self_test(out=out)
