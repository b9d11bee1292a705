"""Timing and memory primitives of the benchmark.

Rules they implement: every training figure is a rate over a window of consecutive
steps (no first step, no evaluation, no checkpoint inside it); contenders run in
interleaved windows (A B A B ...) in one process, so machine noise hits them alike;
ratios are taken per round and the median is reported.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence


class BenchError(RuntimeError):
    """A measurement could not be made (the message says which and why)."""


def quiet_warnings() -> None:
    """Hide known, harmless warnings that would bury the bench's own output."""
    import warnings

    warnings.filterwarnings("ignore", message="This DataLoader will create")  # 4 workers, 2 cores
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing")


def median(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def significant(seconds: float, digits: int = 3) -> float:
    """A duration to `digits` significant digits: fixed decimals turn a fast CPU's
    4 ms into 0.0 s (it happened: a clean-clone test run on an AMD EPYC Zen 4)."""
    return float(f"{seconds:.{digits}g}")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100)."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def rate(images: int, seconds: float) -> float:
    return images / max(seconds, 1e-9)


@dataclass
class Contender:
    """One way of training, advanced a window at a time: window(steps) -> step seconds."""

    name: str
    description: str
    window: Callable[[int], list[float]]
    batch_size: int
    rates: list[float] = field(default_factory=list)  # images/s per window

    def run_window(self, steps: int) -> float:
        times = self.window(steps)
        if not times:
            raise BenchError(f"{self.name}: no step could be timed")
        value = rate(self.batch_size * len(times), sum(times))
        self.rates.append(value)
        return value


def interleave(contenders: Sequence[Contender], rounds: int, steps: int,
               log: Callable[[str], None] = print) -> None:
    """Round r runs every contender's window r in turn, in alternating order (A B C,
    C B A, ...), so a slow drift of the machine does not favour whoever runs first."""
    for r in range(rounds):
        for c in (contenders if r % 2 == 0 else list(reversed(contenders))):
            value = c.run_window(steps)
            log(f"  round {r + 1}/{rounds}  {c.name:<24} {value:7.2f} images/s")


def ratios(a: Contender, b: Contender) -> list[float]:
    """Per-round a/b throughput ratios (rounds are aligned by index)."""
    return [x / y for x, y in zip(a.rates, b.rates) if y > 0]


class EngineRun:
    """engine.training.loop.train driven window by window (the generator waits between windows).

    A step's time is the time the generator takes to go from one Step event to the next,
    counted only when the previous event was also a Step: the first step, evaluations and
    checkpoints never land in a window. The suspended generator does no work.
    """

    def __init__(self, config, dataset=None, batch_size: int | None = None):
        from engine.training.control import TrainControl
        from engine.training.loop import train

        self.control = TrainControl()
        self.config = config
        self.batch_size = batch_size or config.batch_size
        self.events: list = []
        self._gen: Iterator = train(config, self.control, dataset=dataset)
        self._prev = None
        self.finished = None
        self.run_dir = ""
        self.setup_s = 0.0
        self.stage_s: dict[str, float] = {}  # seconds spent per progress stage (decode, ...)

    def _next(self):
        start = time.perf_counter()
        try:
            event = next(self._gen)
        except StopIteration:
            raise BenchError("the training run ended before the benchmark was done") from None
        took = time.perf_counter() - start
        self.events.append(event)
        if event.kind == "progress":
            self.stage_s[event.stage] = self.stage_s.get(event.stage, 0.0) + took
        if event.kind == "run_started":
            self.run_dir = event.run_dir
        if event.kind == "run_finished":
            self.finished = event
            if event.status == "failed":
                raise BenchError(f"the engine's training run failed: {event.error}")
        return event, took

    def start(self) -> "EngineRun":
        """Advance to the end of the first training step (model load, cache, zero-shot eval)."""
        t0 = time.perf_counter()
        while True:
            event, _ = self._next()
            if event.kind == "step":
                self._prev = event
                break
            if self.finished is not None:
                raise BenchError("the training run finished before its first step")
        self.setup_s = time.perf_counter() - t0
        return self

    def window(self, steps: int) -> list[float]:
        times: list[float] = []
        while len(times) < steps:
            event, took = self._next()
            prev, self._prev = self._prev, event
            if event.kind == "step" and prev is not None and prev.kind == "step":
                n = max(1, event.step - prev.step)
                times.extend([took / n] * n)
            if self.finished is not None:
                break
        return times[:steps] if len(times) >= steps else times

    def stop(self):
        """Ask the run to stop (it saves its adapter) and drain it to RunFinished."""
        self.control.stop()
        while self.finished is None:
            self._next()
        return self.finished


# --- memory -----------------------------------------------------------------------------
def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class MemorySampler:
    """Peak memory of this process (+ its children) sampled every `interval` seconds.

    rss: resident set of this process; anon: its anonymous (non-file) resident memory,
    i.e. memory a memory-mapped cache does not count in; tree_pss: proportional set
    size summed over this process and its children (DataLoader workers share pages).
    """

    def __init__(self, interval: float = 0.1, children: bool = False):
        self.interval = interval
        self.children = children
        self.peak = {"rss_mb": 0.0, "anon_mb": 0.0, "tree_pss_mb": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-memory")

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        pid = os.getpid()
        self._peak("rss_mb", _status_kb(pid, "VmRSS") / 1024)
        self._peak("anon_mb", _status_kb(pid, "RssAnon") / 1024)
        if self.children:
            self._peak("tree_pss_mb", _tree_pss_mb())

    def _peak(self, key: str, value: float) -> None:
        self.peak[key] = max(self.peak[key], round(value, 1))


def _tree_pss_mb() -> float:
    try:
        import psutil
    except ImportError:
        return 0.0
    me = psutil.Process()
    total = 0.0
    for proc in [me] + me.children(recursive=True):
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.Error, OSError):
            continue
    return total / 2**20


def current_rss_mb() -> float:
    return round(_status_kb(os.getpid(), "VmRSS") / 1024, 1)


def peak_rss_self_mb() -> float:
    """This process's peak resident memory.

    Linux: VmHWM, the high-water mark of this program's own address space. (ru_maxrss is
    wrong for a child: Linux carries the parent's peak over fork + exec, so a child of
    the bench would report at least the bench's own size.)
    """
    hwm = _status_kb(os.getpid(), "VmHWM")
    if hwm:
        return round(hwm / 1024, 1)
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024 if sys.platform != "darwin" else kb / 2**20, 1)


# --- child processes ----------------------------------------------------------------------
RESULT_PREFIX = "BENCH_RESULT "


def run_child(task: str, args: dict, *, timeout: float, env: dict | None = None,
              log: Callable[[str], None] = print) -> dict:
    """Run `python -m engine.bench.child task` in a fresh process; returns its result dict
    plus wall_s. Peak memory is the child's own report (see peak_rss_self_mb)."""
    cmd = [sys.executable, "-m", "engine.bench.child", task, json.dumps(args)]
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=full_env, cwd=str(Path(__file__).resolve().parents[2]))
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        output = proc.stdout.read() if proc.stdout else ""
        proc.wait()
    finally:
        timer.cancel()
    wall = time.perf_counter() - start
    result = None
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
    if result is None:
        tail = "\n".join(output.splitlines()[-15:])
        raise BenchError(f"child task '{task}' gave no result (exit {proc.returncode}):\n{tail}")
    result["wall_s"] = round(wall, 2)
    return result


def emit_result(result: dict) -> None:
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def last_blocks(n) -> str:
    """'the last 4 blocks', 'the last block'."""
    return "the last block" if n == 1 else f"the last {n} blocks"


__all__ = ["BenchError", "quiet_warnings", "median", "percentile", "rate", "Contender",
           "interleave", "ratios", "EngineRun", "MemorySampler", "current_rss_mb",
           "peak_rss_self_mb", "run_child", "emit_result", "last_blocks"]
