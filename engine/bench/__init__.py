"""`python -m engine bench [--quick] [--output bench_out/bench.json] [--only NAME ...]`

Performance claims in this project are ratios measured side by side, in one run, on
one machine: this package measures them (engine versus a faithful re-implementation of
the tutorial's loop, interleaved A B A B) and writes every figure to a JSON file plus a
table. Fixtures (random-weight CLIP checkpoints, generated photos) are cached beside
the output file and reused by the next run.
"""
from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from pathlib import Path

SECTIONS = ("training", "variants", "job", "pipeline", "fast_modes", "prediction", "memory", "growth",
            "gui", "gpu", "map", "backends", "serve", "video")
DEFAULT_OUTPUT = "bench_out/bench.json"


def default_output(mode: str) -> str:
    """bench_out/bench.json for the full bench, bench_out/bench-<mode>.json otherwise (the
    fixtures in bench_out/ are shared by all modes)."""
    return DEFAULT_OUTPUT if mode == "full" else f"bench_out/bench-{mode}.json"


def _section_functions() -> dict:
    from engine.bench import sections_backends
    from engine.bench import sections_memory
    from engine.bench import sections_serve
    from engine.bench import sections_video
    from engine.bench import (gui_probe, sections_gpu, sections_map, sections_modes,
                              sections_system, sections_job, sections_training,
                              sections_variants)

    return {"gpu": sections_gpu.gpu, "training": sections_training.training,
            "variants": sections_variants.variants, "job": sections_job.job,
            "pipeline": sections_training.pipeline,
            "fast_modes": sections_modes.fast_modes,
            "prediction": sections_modes.prediction, "memory": sections_memory.memory,
            "growth": sections_system.growth, "gui": gui_probe.gui,
            "map": sections_map.dataset_map, "backends": sections_backends.backends,
            "serve": sections_serve.serve, "video": sections_video.video}


def run_bench(mode: str = "full", output: str | Path = DEFAULT_OUTPUT,
              only: list[str] | None = None, device: str = "auto", log=print) -> dict:
    """Run the chosen sections; returns the result dict (also written to `output`)."""
    from engine.bench.measure import quiet_warnings
    from engine.bench.plan import PLANS, Context
    from engine.bench.report import machine_info

    quiet_warnings()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # fixtures are local: never ask a hub
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # e.g. the text tower's "unexpected keys" report
    output = Path(output).resolve()
    root = output.parent
    root.mkdir(parents=True, exist_ok=True)
    from engine.bench.fixtures import fresh_dir
    from engine.bench.plan import RUNS_DIR

    fresh_dir(root / RUNS_DIR)  # run folders of earlier benches are not kept
    start, cpu0 = time.perf_counter(), _cpu_seconds()
    plain_log = log

    def log(message: str) -> None:  # every line says when it happened: where time goes
        plain_log(f"[{time.perf_counter() - start:6.1f} s] {message}")

    ctx = Context(PLANS[mode], root, device=device, log=log)
    wanted = list(only) if only else list(SECTIONS)
    meta = {**machine_info(), "mode": mode, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average_start": _loadavg()}
    result: dict = {"meta": meta}
    functions = _section_functions()
    for name in SECTIONS:
        if name not in wanted:
            result[name] = {"status": "skipped", "reason": "not selected (--only)"}
            continue
        t0 = time.perf_counter()
        try:
            result[name] = functions[name](ctx)
        except Exception as exc:  # one broken section must not cost the others' figures
            log(f"{name}: FAILED: {exc}")
            result[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                            "traceback": traceback.format_exc()[-3000:]}
        result[name]["section_s"] = round(time.perf_counter() - t0, 1)
        log(f"{name}: {result[name]['status']} in {result[name]['section_s']:.0f} s")
    from engine.bench.sections_training import explain_ratio

    note = explain_ratio(result)
    if note:
        result["training"]["limit_note"] = note
    result["meta"].update(wall_s=round(time.perf_counter() - start, 1),
                          cpu_s=round(_cpu_seconds() - cpu0, 1), load_average_end=_loadavg())
    output.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n", "utf-8")
    return result


def _cpu_seconds() -> float:
    t = os.times()  # this process and its waited-for children (the child measurements)
    return t.user + t.system + t.children_user + t.children_system


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _cmd_bench(args: argparse.Namespace) -> int:
    from engine.bench.report import format_table

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    args.output = args.output or default_output(mode)
    result = run_bench(mode, args.output, args.only, args.device)
    table = format_table(result)
    print(table)
    Path(args.output).with_suffix(".md").write_text(table + "\n", "utf-8")
    print(f"\nWrote {args.output} and {Path(args.output).with_suffix('.md')}")
    failed = [n for n in SECTIONS if result[n].get("status") == "failed"]
    return 1 if failed else 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="Measure training/prediction speed against the tutorial's "
                                     "loop; print a table and write a JSON file.")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="smaller model and data (ViT-B/32 width, 2 blocks; 260 photos): "
                           "a few minutes")
    size.add_argument("--smoke", action="store_true",
                      help="tiny model and 16 training images: checks the harness only (tests)")
    from engine.arguments import writable_file

    p.add_argument("--output", default=None, type=writable_file((".json",)),
                   help=f"JSON file to write (default {DEFAULT_OUTPUT}, or bench-quick.json "
                        "beside it with --quick); fixtures are cached in its folder and reused")
    p.add_argument("--only", nargs="+", metavar="NAME", choices=SECTIONS,
                   help=f"run only these sections: {', '.join(SECTIONS)}")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="device for the training and prediction sections (default auto)")
    p.set_defaults(func=_cmd_bench)


__all__ = ["register_cli", "run_bench", "default_output", "SECTIONS", "DEFAULT_OUTPUT"]
