"""Section 5: GUI start-up time and event-loop responsiveness during a training run.

The engine never imports Qt, so both probes (gui/bench_probes/) run as child processes
(offscreen, with a throw-away settings/home folder). The start-up probe runs the real
entry point, gui.app.main, and only hooks MainWindow.show to report the moment the
window has been shown (after the first event-loop turn) and quit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine.bench.measure import BenchError, median
from engine.bench.plan import Context

STARTUP_GOAL_S = 1.5
GAP_GOAL_MS = 100.0


def _env(ctx: Context) -> dict:
    home = ctx.root / "gui-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(home / "config"),
           "LORA_STUDIO_HOME": str(home), "LORA_STUDIO_CACHE_DIR": str(ctx.root / "cache"),
           "HF_HUB_OFFLINE": "1"}
    # a user's first launch writes .pyc files and later launches use them: measure that
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]


def startup_once(ctx: Context, timeout: float = 60.0) -> dict:
    """Seconds from spawning `python` to the main window shown, and where they went."""
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "gui.bench_probes.startup"], cwd=_repo(), env=_env(ctx),
                          capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_SHOWN "):
            m = json.loads(line[len("BENCH_SHOWN "):])
            return {"total_s": m["shown"] - start,
                    "python_start_s": m["interpreter"] - start,
                    "imports_s": m["imports"] - m["interpreter"],
                    "qapplication_s": m["qapplication"] - m["imports"],
                    "window_build_s": m["window_built"] - m["qapplication"],
                    "show_s": m["shown"] - m["window_built"],
                    "torch_imported_before_shown": m["torch_imported"]}
    raise BenchError(f"the GUI start-up probe did not show a window (exit {proc.returncode}): "
                     f"{(proc.stderr or proc.stdout)[-800:]}")


def gui(ctx: Context) -> dict:
    if not (_repo() / "gui" / "main_window.py").is_file():
        return {"status": "skipped", "reason": "gui/main_window.py is not there"}
    import importlib.util

    if importlib.util.find_spec("PySide6") is None:  # the engine itself never imports Qt
        return {"status": "skipped", "reason": "PySide6 is not installed"}
    plan = ctx.plan
    if plan.mode != "smoke":  # the first launch warms the disk cache: not counted
        startup_once(ctx)
    launches = [startup_once(ctx) for _ in range(plan.gui_runs)]
    times = [launch["total_s"] for launch in launches]
    breakdown = {key: round(median([launch[key] for launch in launches]), 3)
                 for key in launches[0] if key.endswith("_s") and key != "total_s"}
    ctx.log(f"gui: window shown after {median(times):.2f} s (median of {len(times)})")
    config = ctx.config(model=plan.acc_model, epochs=plan.gui_train_epochs)
    timeout = plan.child_timeout_s
    proc = subprocess.run([sys.executable, "-m", "gui.bench_probes.gap", json.dumps(config.to_dict()),
                           str(timeout)], cwd=_repo(), env=_env(ctx), capture_output=True,
                          text=True, timeout=timeout + 30)
    gaps = None
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_GAPS "):
            gaps = json.loads(line[len("BENCH_GAPS "):])
    if gaps is None or gaps.get("max_gap_ms") is None:
        raise BenchError(f"the event-loop probe gave no result (exit {proc.returncode}): "
                         f"{(proc.stderr or proc.stdout)[-800:]}")
    startup = median(times)
    return {
        "status": "ok", "startup_s": [round(t, 3) for t in times],
        "startup_median_s": round(startup, 3), "startup_goal_s": STARTUP_GOAL_S,
        "startup_goal_met": startup < STARTUP_GOAL_S, "startup_breakdown_s": breakdown,
        "torch_imported_before_shown": any(l["torch_imported_before_shown"] for l in launches),
        "startup_note": "process spawn to MainWindow shown (gui.app.main, offscreen, after one "
                        "untimed launch)",
        "event_loop": {**gaps, "model": plan.acc_model, "goal_ms": GAP_GOAL_MS,
                       "goal_met": gaps["max_gap_ms"] < GAP_GOAL_MS,
                       "note": "longest interval between ticks of a 5 ms QTimer between the "
                               "first and last Step event of a real run shown in the training "
                               "tab; whole_run_* also covers the start (engine imports, model "
                               "load, decoding) and the end (test report)"},
    }


__all__ = ["gui", "startup_once", "STARTUP_GOAL_S", "GAP_GOAL_MS"]
