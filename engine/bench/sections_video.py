"""Bench section "video" (issue #25 item 3): frames decoded, and decoded and classified, a second.

A generated clip (engine.demo.video: a camera-sized picture with per-pixel noise, H.264,
the codec of most phone and camera files) is decoded by engine.use.video (PyAV), then
decoded and classified as engine.use.video_predict does for `python -m engine predict RUN
clip.mp4` (PIL frames into the predictor): with the CPU's fast backend (what "auto" picks
by the CPU's flags, engine.use.backends.choose_backend) and with the torch Predictor,
interleaved rounds, median. "auto" itself may keep torch for a run whose faster answers
differ (a random-weight bench run has many close calls): the section names what it gave.
Two ways of classifying: at batch 32 (the predict command) and one frame at a time (a live
source, which classifies the newest frame and drops those that arrive meanwhile). Goal:
>= 10 classified frames/s for ViT-B/32 on 2 CPU cores with the fast backend.
"""
from __future__ import annotations

import os
import time

from engine.bench.measure import BenchError, median
from engine.bench.plan import Context

GOAL_FPS = 10.0
# (seconds, width, height, fps) of the clip; frames classified per contender and round
CLIPS = {"full": (10.0, 640, 480, 30), "quick": (4.0, 640, 480, 30), "smoke": (1.0, 96, 64, 10)}
CLASSIFIED = {"full": 96, "quick": 64, "smoke": 8}


def _clip(ctx: Context):
    from engine.demo.dataset import DEMO_CLASSES
    from engine.demo.video import make_demo_video

    seconds, width, height, fps = CLIPS.get(ctx.plan.mode, CLIPS["quick"])
    path = ctx.root / "video" / f"clip-{ctx.plan.mode}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        part = seconds / 3
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")  # benches side by side
        make_demo_video(tmp, [(part, rgb) for _n, rgb, _s in DEMO_CLASSES[:3]], fps=fps,
                        size=(width, height), codec="libx264", noise=24)
        os.replace(tmp, path)
    return path, (seconds, width, height, fps)


def _decode_rate(path, rounds: int) -> tuple[float, int]:
    from engine.use.video import open_video

    times, count = [], 0
    for _round in range(max(1, rounds)):
        with open_video(path) as video:
            t = time.perf_counter()
            count = sum(1 for _frame in video.frames())
            times.append(time.perf_counter() - t)
    return count / median(times), count


def _classify(predictor, path, frames: int, batch_size: int) -> tuple[float, list]:
    """Seconds to decode and classify the clip's first `frames` frames, and the labels."""
    from engine.use.video import open_video

    labels = []
    with open_video(path) as video:
        t = time.perf_counter()
        batch = []
        for n, frame in enumerate(video.frames()):
            if n >= frames:
                break
            batch.append(frame.image)
            if len(batch) == batch_size:
                labels += [p.best_guess for p in predictor.predict(batch, batch_size=batch_size)]
                batch = []
        if batch:
            labels += [p.best_guess for p in predictor.predict(batch, batch_size=batch_size)]
        return time.perf_counter() - t, labels


def video(ctx: Context) -> dict:
    import torch

    from engine.bench.sections_modes import _short_run
    from engine.use.backends import choose_backend, open_predictor

    plan = ctx.plan
    path, (seconds, width, height, fps) = _clip(ctx)
    decode_fps, decoded = _decode_rate(path, plan.rounds)
    ctx.log(f"video: decoding {decoded} frames of {width}x{height}: {decode_fps:.0f} frames/s")
    run_dir = ctx.shared.get("trained_run") or _short_run(ctx)
    fast = choose_backend("cpu")
    saved = os.environ.get("LORA_STUDIO_CACHE_DIR")  # ONNX files: the bench's, not the user's
    os.environ["LORA_STUDIO_CACHE_DIR"] = str(ctx.root / "backends-cache" / "decode")
    try:
        opened = {"torch": open_predictor(run_dir, "torch", device="cpu")}
        if fast != "torch":
            opened[fast] = open_predictor(run_dir, fast, device="cpu")
        auto = open_predictor(run_dir, "auto", device="cpu").backend
    finally:
        if saved is None:
            os.environ.pop("LORA_STUDIO_CACHE_DIR", None)
        else:
            os.environ["LORA_STUDIO_CACHE_DIR"] = saved
    frames = min(CLASSIFIED.get(plan.mode, 64), decoded)
    rows: dict[str, dict] = {name: {"backend": p.backend} for name, p in opened.items()}
    labels: dict[str, list] = {}
    for batch_size, key in ((32, "batch32_frames_per_s"), (1, "live_frames_per_s")):
        times: dict[str, list[float]] = {name: [] for name in opened}
        for predictor in opened.values():
            predictor.predict([_first_frame(path)], batch_size=1)  # warm-up allocations
        for r in range(plan.rounds):
            for name in list(opened) if r % 2 == 0 else list(opened)[::-1]:
                elapsed, labels[name] = _classify(opened[name], path, frames, batch_size)
                times[name].append(elapsed)
        for name, values in times.items():
            rows[name][key] = round(frames / median(values), 2)
        ctx.log("video: " + ", ".join(f"{n} {rows[n][key]:.1f} frames/s" for n in rows)
                + f" at batch {batch_size}")
    if any(len(found) != frames for found in labels.values()):
        raise BenchError("video: not every frame was classified")
    agreement = sum(a == b for a, b in zip(labels[fast], labels["torch"])) / frames
    best = max(rows[fast]["batch32_frames_per_s"], rows[fast]["live_frames_per_s"])
    window = video_in_window(ctx, run_dir, path, fast)
    ctx.log(f"video in the window: {window}")
    return {"status": "ok", "model": plan.train_model, "run_dir": str(run_dir),
            "clip": {"seconds": seconds, "width": width, "height": height, "fps": fps,
                     "codec": "h264", "frames": decoded},
            "decode_frames_per_s": round(decode_fps, 1), "classified_frames": frames,
            "rounds": plan.rounds, "threads": torch.get_num_threads(), "fast": fast,
            "auto_for_this_run": auto, "rows": rows,
            "top1_agreement_fast_vs_torch": round(agreement, 4),
            "goal": f">= {GOAL_FPS:g} classified frames/s with the fast backend",
            "goal_met": best >= GOAL_FPS, "window": window,
            "window_goal": f"longest event-loop gap < {GAP_GOAL_MS:g} ms while the video plays",
            "window_goal_met": (window.get("max_gap_ms") or 1e9) < GAP_GOAL_MS}


GAP_GOAL_MS = 100.0


def video_in_window(ctx: Context, run_dir, path, backend: str) -> dict:
    """The clip playing in the Prediction tab of the real window (gui/bench_probes/video_gap.py,
    a child process): frames classified and shown per second, frames dropped, and the longest
    gap of the GUI's event loop while it plays."""
    import json
    import subprocess
    import sys

    from engine.bench.gui_probe import _env, _repo

    env = _env(ctx)
    env["LORA_STUDIO_CACHE_DIR"] = str(ctx.root / "backends-cache" / "decode")
    try:
        proc = subprocess.run([sys.executable, "-m", "gui.bench_probes.video_gap", str(run_dir),
                               str(path), backend, "120"], cwd=_repo(), env=env,
                              capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": "the window did not finish within 240 s"}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_VIDEO_GUI "):
            return json.loads(line[len("BENCH_VIDEO_GUI "):])
    return {"status": "failed", "error": (proc.stderr or proc.stdout)[-600:]}


def _first_frame(path):
    from engine.use.video import open_video

    with open_video(path) as video:
        return next(iter(video.frames())).image


def table(sec: dict) -> list[str]:
    """The section's lines for the bench's printed table."""
    clip = sec["clip"]
    out = [f"**Video** — {sec['model']}, a {clip['width']}x{clip['height']} "
           f"{clip['fps']} fps H.264 clip ({clip['frames']} frames), {sec['classified_frames']} "
           f"frames decoded and classified per round ({sec['rounds']} interleaved rounds), "
           f"{sec['threads']} threads", "",
           "| backend | batch 32 frames/s | one at a time (live) frames/s |", "|---|---|---|"]
    for name, row in sec["rows"].items():
        label = f"{name} (the fast backend here)" if name == sec["fast"] != "torch" else name
        out.append(f"| {label} | {row['batch32_frames_per_s']:.1f} | "
                   f"{row['live_frames_per_s']:.1f} |")
    out += ["", f"Decoding alone: {sec['decode_frames_per_s']:.0f} frames/s. Top-1 of "
                f"{sec['fast']} vs torch on the frames: {sec['top1_agreement_fast_vs_torch']:.1%}; "
                f"auto gives {sec['auto_for_this_run']} for this run. Goal "
                f"{sec['goal']}: {'met' if sec['goal_met'] else 'NOT met'}."]
    window = sec.get("window") or {}
    if window.get("status") == "completed":
        out += ["", f"In the window (Prediction tab, {window.get('backend')}): "
                    f"{window.get('classified_fps')} frames/s classified, "
                    f"{window.get('shown_fps')} shown, {window.get('frames_dropped')} dropped; "
                    f"longest event-loop gap {window.get('max_gap_ms')} ms (p99 "
                    f"{window.get('p99_gap_ms')} ms). Goal {sec['window_goal']}: "
                    f"{'met' if sec['window_goal_met'] else 'NOT met'}."]
    elif window:
        out += ["", f"In the window: {window.get('status')} ({window.get('error', '')[-200:]})"]
    return out


__all__ = ["video", "table"]
