"""`--self-test` and `--self-test-gui`: prove an installation (or the packaged executable) works.

--self-test      offscreen, offline, in a temp dir: demo dataset -> tiny demo model ->
                 train a few steps -> reload the saved run -> predict one image, plus a
                 DataLoader with "spawn" worker processes (what needs freeze_support in a
                 frozen app). One PASS/FAIL line per stage; exit 0 only if all pass.
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


# --- the stages of --self-test ---------------------------------------------------------
def _stage_imports(ctx: dict) -> str:
    import peft
    import safetensors  # noqa: F401
    import sklearn  # noqa: F401
    import tensorboardX  # noqa: F401
    import torch
    import transformers
    import yaml  # noqa: F401

    return f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}"


def _stage_dataset(ctx: dict) -> str:
    from engine.demo import make_demo_dataset

    ctx["data"] = make_demo_dataset(ctx["tmp"] / "data", num_classes=3, size=(48, 40), seed=0,
                                    splits={"train": 8, "val": 3, "test": 3})
    count = sum(1 for _ in ctx["data"].rglob("*.jpg"))
    return f"{count} images, 3 classes"


def _stage_model(ctx: dict) -> str:
    from engine.demo import make_tiny_clip

    ctx["model"] = make_tiny_clip(ctx["tmp"] / "model")
    return "tiny CLIP, random weights, 32 px"


def _stage_train(ctx: dict) -> str:
    from engine.config import TrainConfig
    from engine.events import RunFinished
    from engine.train import train

    config = TrainConfig(data_dir=str(ctx["data"]), model=str(ctx["model"]), epochs=1,
                         max_steps=4, batch_size=8, device="cpu", precision="fp32",
                         num_threads=1, output_dir=str(ctx["tmp"] / "runs"), run_name="self-test",
                         cache_dir=str(ctx["tmp"] / "cache"))
    problems = config.validate()
    if problems:
        raise RuntimeError(f"invalid self-test config: {problems}")
    finished = [e for e in train(config) if isinstance(e, RunFinished)]
    if len(finished) != 1:
        raise RuntimeError(f"expected one RunFinished event, got {len(finished)}")
    end = finished[0]
    if end.status != "completed":
        raise RuntimeError(f"training ended '{end.status}': {end.error}")
    run_dir = Path(end.run_dir)
    missing = [n for n in ("run.json", "head.safetensors", "adapter/adapter_model.safetensors")
               if not (run_dir / n).is_file()]
    if missing:
        raise RuntimeError(f"run folder {run_dir} lacks {', '.join(missing)}")
    ctx["run_dir"] = run_dir
    return f"run completed, saved to {run_dir.name}/"


def _stage_predict(ctx: dict) -> str:
    from engine.predict import Predictor

    predictor = Predictor(ctx["run_dir"], device="cpu")
    image = sorted((ctx["data"] / "test").rglob("*.jpg"))[0]
    prediction = predictor.predict([image], top_k=2)[0]
    if prediction.error:
        raise RuntimeError(prediction.error)
    label, confidence = prediction.top[0]
    if label not in predictor.class_names or not 0.0 <= confidence <= 1.0:
        raise RuntimeError(f"implausible prediction {prediction.top!r}")
    return f"{image.name} -> {label} ({confidence:.0%})"


class _Squares:
    """A picklable dataset: spawn workers must import this module to rebuild it."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        import torch

        return torch.tensor([float(i * i), float(os.getpid())])


def _stage_workers(ctx: dict) -> str:
    import torch
    from torch.utils.data import DataLoader

    # One worker is enough to prove a spawned child re-enters the app through freeze_support.
    loader = DataLoader(_Squares(), batch_size=4, num_workers=1, multiprocessing_context="spawn",
                        timeout=120)
    batches = list(loader)
    values = torch.cat([b[:, 0] for b in batches]).tolist()
    pids = {int(p) for b in batches for p in b[:, 1].tolist()}
    if sorted(values) != [float(i * i) for i in range(8)]:
        raise RuntimeError(f"workers returned {values}")
    if os.getpid() in pids:
        raise RuntimeError("items were produced in the main process, not in workers")
    return f"batches made by spawned worker process {', '.join(map(str, sorted(pids)))}"


SELF_TEST_STAGES: list[Stage] = [
    ("imports", _stage_imports),
    ("demo dataset", _stage_dataset),
    ("demo model", _stage_model),
    ("train", _stage_train),
    ("reload+predict", _stage_predict),
    ("worker processes", _stage_workers),
]


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
