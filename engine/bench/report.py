"""The bench's table (Markdown, ready for the README) and the machine description."""
from __future__ import annotations

import os
import platform
import sys

from engine.bench.measure import last_blocks


def machine_info() -> dict:
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ram_gb = None
    try:
        import psutil

        ram_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    from engine.hardware import cpu_has_fast_bf16

    return {"cpu": cpu, "cores": cores, "ram_gb": ram_gb, "os": platform.platform(terse=True),
            "python": sys.version.split()[0], "torch": torch.__version__,
            "transformers": transformers.__version__, "torch_threads": torch.get_num_threads(),
            "cpu_fast_bf16": cpu_has_fast_bf16()}


def _table(headers: list[str], rows: list[list]) -> list[str]:
    def cell(v) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def _mb(v) -> str:
    return "not measured" if v is None else f"{v:,.0f} MB"


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _x(v) -> str:
    return "–" if v is None else f"{v:.2f}x"


def _skipped(name: str, sec: dict) -> list[str] | None:
    if sec.get("status") == "ok":
        return None
    why = sec.get("reason") or sec.get("error") or ""
    return [f"{name}: {sec.get('status')} {('(' + why + ')') if why else ''}".rstrip()]


def _training(sec: dict) -> list[str]:
    lines = [f"**1. Training throughput** — {sec['model']}, {sec['train_images']} photos "
             f"500x375, batch {sec['batch_size']}, {sec['rounds']} interleaved rounds x "
             f"{sec['steps_per_window']} steps per contender, median per-round ratios", ""]
    rows, by = [], {r["contender"]: r for r in sec["ablation"]}
    for name, c in sec["contenders"].items():
        a = by.get(name, {})
        rows.append([name, c["median_images_per_s"], _x(c.get("vs_reference")),
                     _x(a.get("gain_vs_previous")), a.get("gain_from", c["description"])])
    lines += _table(["contender", "images/s", "vs tutorial", "step gain", "what it adds"], rows)
    r = sec["ratio_engine_vs_reference"]
    verdict = _met(r["goal_met"])
    lines += ["", f"Engine vs tutorial: **{r['median']:.3f}x** (rounds: "
              f"{', '.join(_x(v) for v in r['per_round'])}); goal {r['goal']}x on a 2-core CPU: "
              f"{verdict}."]
    if sec["bf16"].get("note"):
        lines.append(f"bf16: {sec['bf16']['note']}.")
    if sec.get("limit_note"):
        lines += ["", sec["limit_note"]]
    return lines


def _variants(sec: dict) -> list[str]:
    flags = ", ".join(f for f, on in sec.get("cpu_flags", {}).items() if on) or "none listed"
    lines = [f"**1b. The training step's numerics** — {sec['model']}, batch {sec['batch_size']}, "
             f"{sec['image_size']} px, {sec['device']}, {sec['rounds']} interleaved rounds x "
             f"{sec['steps_per_window']} steps; CPU flags: {flags}", ""]
    rows = [[r["variant"], r["images_per_s"], _x(r["vs_tutorial"]),
             f"{r['compile_s']} s" if r.get("compile_s") is not None else ""]
            for r in sec["rows"]]
    lines += _table(["variant", "images/s", "vs tutorial", "compile"], rows)
    goal = sec.get("goal")
    lines += ["", f"Engine step vs the tutorial's numerics: **{sec['engine_vs_tutorial']:.2f}x**"
              + (f" (goal {goal}x on a bf16 CPU: {_met(sec['engine_vs_tutorial'] >= goal)})."
                 if goal else ".")]
    return lines


def _job(sec: dict) -> list[str]:
    e, t = sec["engine"], sec["tutorial"]
    recipe = sec.get("recipe", "Tutorial recipe")
    rows = [[f"engine, *{recipe}* preset (the same recipe), precision auto", e["wall_s"],
             e.get("best_val_accuracy")],
            ["tutorial's loop (fp32)", t["wall_s"], max(t["val_accuracy"], default=None)]]
    how = f", interleaved {sec['interleaved']}" if sec.get("interleaved") else ""
    lines = [f"**1c. The tutorial's whole job** — {sec['model']}, {sec['epochs']} epochs over "
             f"{sec['train_images']} images, {sec['val_images']} validated after each epoch, "
             f"the tutorial's recipe on both sides{how}", ""]
    lines += _table(["contender", "seconds", "best val accuracy"], rows)
    goal = sec.get("goal")
    lines += ["", f"Engine vs tutorial, whole job: **{sec['ratio']:.2f}x**"
              + (f" (goal {goal}x on a bf16 CPU: {_met(sec['ratio'] >= goal)})." if goal else ".")]
    if sec.get("per_round"):
        lines[-1] += (f" Per epoch (the first includes each side's set-up): median "
                      f"{_x(sec['per_round_median'])} (rounds: "
                      f"{', '.join(_x(v) for v in sec['per_round'])}).")
    return lines


def _pipeline(sec: dict) -> list[str]:
    rows = [["decode cold (JPEG -> uint8 cache)", sec["cold_decode_images_per_s"]],
            ["load from the disk cache", sec["disk_cache_images_per_s"]],
            ["cache delivers (gather + augment)", sec["cache_delivers_images_per_s"]],
            ["tutorial DataLoader delivers (4 workers)", sec["reference_dataloader_images_per_s"]],
            ["a training step consumes", sec["step_consumes_images_per_s"]]]
    lines = [f"**2. Input pipeline** — {sec['images']} images at {sec['resolution']} px", ""]
    lines += _table(["stage", "images/s"], rows)
    lines.append("")
    lines.append(f"Decode cache: {sec['cache_mb_per_1000_images']} MB per 1,000 images in memory "
                 f"(+{sec['disk_entries_mb']} MB on disk for {sec['images']}).")
    if sec.get("first_epoch_s") is not None:
        lines.append(f"First epoch {sec['first_epoch_s']} s (cold decode + steps), later epochs "
                     f"{sec['later_epoch_s']} s; the cache has {sec['headroom']}x headroom over "
                     "the step.")
    return lines


def _fast_modes(sec: dict) -> list[str]:
    t = sec["timing"]
    p = t["linear_probe"]
    cached = ""
    if t.get("last_n_cached_epoch_s"):
        cached = (f", the same without augmentation (frozen blocks cached) "
                  f"{t['last_n_cached_epoch_s']} s after a {t['frozen_pass_s']} s pass over "
                  f"{t['frozen_pass_images']} images")
    lines = [f"**3. Fast modes** — time per epoch on {t['model']} ({sec['train_images']} images):"
             f" LoRA {t['lora_epoch_s']} s, LoRA on {last_blocks(t['last_n_blocks'])} "
             f"{t['last_n_epoch_s']} s{cached}; linear probe {p['epoch_s']} s after a "
             f"{p.get('embed_s')} s embedding pass ({p['epochs']} epochs in "
             f"{t['linear_probe_total_s']} s total, run start included).", "",
             f"Accuracy on the learnable photos ({sec['accuracy_model']}, complete runs):", ""]
    rows = [[name, r["epochs"], r["epoch_s"], _x(r.get("epoch_speedup_vs_lora")),
             r.get("frozen_s", r.get("embed_s", "–")), r["best_val_accuracy"],
             r["test_accuracy"], r["wall_s"]]
            for name, r in sec["accuracy"].items()]
    lines += _table(["mode", "epochs", "s/epoch", "speed vs LoRA", "one-off pass s",
                     "best val acc", "test acc", "run s"], rows)
    lines += ["", sec["frozen_block_note"] + "."]
    return lines


def _prediction(sec: dict) -> list[str]:
    e, r = sec["engine"], sec["reference"]
    rows = [["engine Predictor", e["load_s"], e["single"]["p50_ms"], e["single"]["p95_ms"],
             e["folder_images_per_s"]],
            ["tutorial predict()", r["load_s"], r["single"]["p50_ms"], r["single"]["p95_ms"],
             r["folder_images_per_s"]]]
    lines = [f"**4. Prediction** — {sec['model']}, folder of {e['folder_images']} images", ""]
    lines += _table(["", "load s", "single p50 ms", "single p95 ms", "folder images/s"], rows)
    rounds = (f" (median of {sec['folder_rounds']} interleaved rounds)"
              if sec.get("folder_rounds") else "")
    lines += ["", f"Folder throughput: {_x(sec['folder_speedup'])} the tutorial's{rounds}."]
    return lines


def _gui(sec: dict) -> list[str]:
    ev = sec["event_loop"]
    parts = ", ".join(f"{k[:-2].replace('_', ' ')} {v:.2f}"
                      for k, v in sec.get("startup_breakdown_s", {}).items())
    return [f"**5. GUI** — window shown {sec['startup_median_s']} s after process start "
            f"(goal < {sec['startup_goal_s']} s: {_met(sec['startup_goal_met'])}; "
            f"s: {parts}; torch imported first: {sec.get('torch_imported_before_shown')}); "
            f"longest event-loop gap while a run streams {ev['steps']} steps: "
            f"{ev['max_gap_ms']} ms "
            f"(p99 {ev['p99_gap_ms']} ms; goal < {ev['goal_ms']:.0f} ms: "
            f"{_met(ev['goal_met'])}; over the whole run, start and test report included: "
            f"{ev.get('whole_run_max_gap_ms')} ms)."]


def _memory(sec: dict) -> list[str]:
    e = sec["engine"]
    whole = e.get("peak_rss_before_report_mb") is not None
    what = (f"a whole {sec['model']} run at batch {sec['batch_size']} (training, calibration, "
            f"test pass and report on {e.get('test_images')} test images)" if whole else
            f"a {sec['model']} training run at batch {sec['batch_size']}")
    return [f"**6. Memory** — peak RSS of {what}: **{sec['engine_peak_rss_mb']:,.0f} MB** "
            f"(goal < {sec['goal_mb']:,} MB: {_met(sec['goal_met'])}; anonymous "
            f"{e['peak']['anon_mb']:,.0f} MB; {_mb(e.get('peak_rss_before_training_mb'))} "
            "before the first step"
            + (f", {_mb(e['peak_rss_before_report_mb'])} before the test report" if whole else "")
            + ")"
            + (f"; tutorial loop incl. workers (PSS): {_mb(sec['reference_peak_tree_pss_mb'])}"
               if sec.get("reference_peak_tree_pss_mb") else "")
            + ". Decode cache: "
            f"{sec['decode_cache_mb_per_1000_images']} MB per 1,000 images at "
            f"{sec['decode_cache_resolution']} px."] + _checkpointing(sec.get("checkpointing"))


def _checkpointing(sec: dict | None) -> list[str]:
    """engine.bench.sections_memory: a ViT-L/14-shaped LoRA step with/without checkpointing."""
    if not sec:
        return []
    if sec.get("status") != "ok":
        return [f"Gradient checkpointing: {sec.get('status')} ({sec.get('error', '')})"]

    def cell(v: dict) -> str:
        if "step_peak_mb" not in v:
            return v.get("reason", v.get("status", "–"))
        return f"{v['step_peak_mb']:,.0f} MB, {v['step_s']} s/step ({v['precision']})"

    rows = [[r["batch_size"], cell(r["off"]), cell(r["on"]),
             f"{r['saving']:.0%}" if "saving" in r else "–",
             f"{r['step_time_ratio']}x" if "step_time_ratio" in r else "–",
             _met(r["goal_met"]) if "goal_met" in r else "–"] for r in sec["rows"]]
    return ["", f"Gradient checkpointing ({sec['shape']} LoRA step on {sec['device']}; memory "
            f"the step adds; goal >= {sec['goal_saving']:.0%} less):", ""] + _table(
        ["batch", "off", "on", "saving", "time on/off", "goal"], rows)


def _growth(sec: dict) -> list[str]:
    rows = []
    for r in sec["sizes"]:
        est = r.get("train_model_epoch_s_estimate")
        rows.append([r["size"], r["scan_s"], r["decode_s"], r["epoch_s"], r.get("epoch_s_per_1000"),
                     "disk (mmap)" if r["on_disk"] else "memory", r["peak_rss_mb"],
                     r["peak"]["anon_mb"], est])
    lines = [f"**7. Growth** — {sec['model']}, one epoch per size, cold cache", ""]
    lines += _table(["images", "scan s", "decode s", "epoch s", "epoch s/1k", "cache",
                     "peak RSS MB", "peak anon MB", f"{sec['train_model']} epoch s (est.)"],
                    rows)
    lines += ["", sec["note"]]
    return lines


def _gpu(sec: dict) -> list[str]:
    if not sec.get("throughput"):
        return []
    lines = [f"**8. GPU** — {sec['name']}", ""]
    rows = [[r["model"], r["batch_size"], r["precision"], f"{r['images_per_s']:,.0f}",
             r["peak_gpu_mb"] if r["peak_gpu_mb"] is not None else "–"]
            for r in sec["throughput"]]
    lines += _table(["model", "batch", "precision", "images/s", "peak GPU MB"], rows)
    v, p, job = sec["versus_tutorial"], sec["pipeline"], sec["tutorial_job"]
    met = "met" if sec["goal_images_per_s_met"] else "NOT met"
    lines += ["",
              f"LoRA training goal {sec['goal_images_per_s']:,} images/s ({v['model']}): {met}. "
              f"Side by side at batch {v['batch_size']}: engine {v['engine_images_per_s']:,.0f} "
              f"vs the tutorial's loop {v['reference_images_per_s']:,.0f} images/s "
              f"({_x(v['ratio'])}).",
              f"Input pipeline: {p['images_per_s']:,.0f} images/s delivered ({p['where']}, "
              f"{p['cache_mb']} MB).",
              f"The tutorial's job ({job['epochs']} epochs with evaluation, {v['model']}): "
              f"**{job['wall_s']} s** wall (goal < {sec['goal_job_s']:.0f} s: "
              f"{'met' if sec['goal_job_met'] else 'NOT met'}; {job['epoch_s']} s per epoch; "
              f"{job['note']})."]
    return lines


def _map(sec: dict) -> list[str]:
    return [f"**9. Map** — {sec['points']:,} embeddings ({sec['dims']} numbers, "
            f"{sec['clusters']} clusters): PCA layout {sec['quick_s']} s, t-SNE layout "
            f"{sec['refined_s']} s, **{sec['total_s']} s** in all (goal < {sec['goal_s']:.0f} s: "
            f"{_met(sec['goal_met'])}); a point's 10 nearest map neighbours in its own cluster: "
            f"{sec['agreement_refined']:.0%} (PCA alone {sec['agreement_quick']:.0%}).",
            *_sorting(sec)]


def _sorting(sec: dict) -> list[str]:
    p, e = sec.get("proposals"), sec.get("embedding")
    if not (p and e):
        return []
    return [f"Proposals for the same {sec['points']:,}: zero-shot head {p['zero_shot_s']} s; "
            f"with {p['confirmed']} confirmed images ({p['method']}) {p['with_confirmed_s']} s, "
            f"{p['agreement']:.0%} of the rest right; \"Ask me\" order {p['ask_order_s']} s.",
            f"Embedding for sorting: {e['model']} {e['model_images_per_s']} images/s cold, "
            f"model load included "
            f"({e['model_images']:,} images in {e['model_cold_s']} s; "
            f"{e['folder_images']:,} would take about {e['model_projected_s']} s); "
            f"{e['folder_images']:,} images with {e['folder_model']} "
            f"(reading and decoding bound) {e['folder_cold_s']} s cold "
            f"({e['folder_images_per_s']} images/s), **{e['reopen_s']} s reopened** "
            f"(every embedding from the cache).", *_map_window(sec.get("window") or {})]


def _map_window(w: dict) -> list[str]:
    if "max_gap_ms" not in w:
        return [f"The map in the window: {w.get('status', 'not measured')} {w.get('error', '')}"]
    return [f"The map of {w['points']:,} in the window: first layout shown after "
            f"{w['first_layout_s']} s, final after **{w['final_layout_s']} s** "
            f"({w['layouts_shown']} layouts shown on the way); longest event-loop gap "
            f"**{w['max_gap_ms']} ms** (99th percentile {w['p99_gap_ms']} ms; goal < 100 ms)."]


RENDERERS = {"training": _training, "variants": _variants, "job": _job, "pipeline": _pipeline,
             "fast_modes": _fast_modes, "prediction": _prediction, "gui": _gui,
             "memory": _memory, "growth": _growth, "gpu": _gpu, "map": _map,
             "backends": lambda sec: _backends_table(sec),
             "serve": lambda sec: _serve_table(sec),
             "video": lambda sec: _video_table(sec)}


def _serve_table(sec: dict) -> list[str]:
    from engine.bench.sections_serve import table

    return table(sec)


def _video_table(sec: dict) -> list[str]:
    from engine.bench.sections_video import table

    return table(sec)


def _backends_table(sec: dict) -> list[str]:
    from engine.bench.sections_backends import table

    return table(sec)


def format_table(result: dict) -> str:
    m = result["meta"]
    load = m.get("load_average_start"), m.get("load_average_end")
    lines = [f"### Bench ({m['mode']}) — {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, "
             f"{m['os']}, Python {m['python']}, torch {m['torch']}", "",
             f"Ran {m.get('started')} in {m.get('wall_s')} s wall / {m.get('cpu_s')} s CPU; "
             f"load average {load[0]} -> {load[1]} (1/5/15 min).",
             result["gpu"].get("message", "GPU: –"), ""]
    for name, render in RENDERERS.items():
        sec = result.get(name, {})
        body = _skipped(name, sec) or render(sec)
        lines += body + [""]
    return "\n".join(lines).rstrip()


__all__ = ["machine_info", "format_table"]
