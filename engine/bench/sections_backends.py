"""Section 10: the prediction backends side by side (issue #25 item 2).

Every installed backend (engine.use.backends) predicts the same folder of images with the
same trained run: the first open (building its file into a fresh cache), a reopen (from the
cache), single-image latency (the backends alternated image by image) and folder
throughput at batch 32 (whole folder, interleaved rounds A B C, C B A, ...). torch fp32 is
the reference every other backend's top-1 agreement and max |Δp| are measured against, on
the same folder; "auto" names what the default is on this machine and how it compares with
the torch Predictor (which computes in bf16 where the CPU does so natively).
"""
from __future__ import annotations

import os
import time

from engine.bench.measure import BenchError, median
from engine.bench.plan import Context

SPEEDUP_GOAL = 1.5  # the default vs the torch Predictor's folder throughput, on a bf16 CPU


def _candidates() -> list[tuple[str, str, dict]]:
    """(label, backend, predictor options): what is measured (uninstalled ones left out)."""
    from engine.use.backends import installed

    rows = [("torch fp32", "torch", {"precision": "fp32"}),
            ("torch (Predictor)", "torch", {})]
    if installed("onnxruntime"):
        rows += [("onnx (ORT fp32)", "onnx", {}), ("onnx-int8 (ORT int8)", "onnx-int8", {})]
    if installed("openvino") and installed("onnxruntime"):
        # the backend (THROUGHPUT hint, the batch split across its streams) and the
        # LATENCY hint it replaced, side by side
        rows += [("openvino", "openvino", {}),
                 ("openvino (LATENCY hint)", "openvino", {"hint": "LATENCY"})]
        if installed("nncf"):
            rows += [("openvino-int8 (NNCF)", "openvino-int8", {})]
    return rows


def _open(run_dir, backend: str, options: dict):
    from engine.use.backends import open_predictor
    from engine.use.onnx_sessions import openvino_session

    options = dict(options)
    hint = options.pop("hint", None)
    predictor = open_predictor(run_dir, backend, device="cpu", **options)
    if hint:
        predictor.session = openvino_session(predictor.entry.path(backend), hint=hint)
    return predictor


def _trained_agreement(ctx: Context, rows: dict) -> dict:
    """Each backend's agreement with torch fp32 on the test images of a run trained to the
    end (the accuracy model of the fast-modes section), as open_predictor measures and
    records it when it builds the file: the bench run's model has random weights and 2
    steps of training, so its answers are near ties that say little about a real run."""
    from engine.bench.sections_modes import run_to_end

    plan = ctx.plan
    ctx.log(f"backends: training {plan.acc_model} for {plan.acc_epochs} epochs (agreement)")
    trained = run_to_end(ctx.config(model=plan.acc_model, epochs=plan.acc_epochs),
                         dataset=ctx.index())
    for label, row in rows.items():
        if row["backend"] != "torch":
            row["trained_run"] = dict(_open(trained["run_dir"], row["backend"], {}).agreement)
    auto = _open(trained["run_dir"], "auto", {}).backend  # after the agreement guard
    return {"model": plan.acc_model, "epochs": plan.acc_epochs,
            "test_accuracy": trained.get("test_accuracy"), "auto_opens": auto}


def backends(ctx: Context) -> dict:
    import torch

    from engine.bench.fixtures import fresh_dir
    from engine.bench.sections_modes import _short_run
    from engine.use.backends import choose_backend

    plan = ctx.plan
    run_dir = ctx.shared.get("trained_run") or _short_run(ctx)
    index = ctx.index()
    paths = [s.path for s in index.split("val") + index.split("test")][:plan.folder_images]
    saved = os.environ.get("LORA_STUDIO_CACHE_DIR")
    os.environ["LORA_STUDIO_CACHE_DIR"] = str(fresh_dir(ctx.root / "backends-cache" / "decode"))
    try:
        rows, opened = {}, {}
        for label, backend, options in _candidates():
            t0 = time.perf_counter()
            _open(run_dir, backend, options)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            opened[label] = _open(run_dir, backend, options)
            rows[label] = {"backend": backend, "first_open_s": round(first, 2),
                           "reopen_s": round(time.perf_counter() - t0, 2)}
            ctx.log(f"backends: {label} opened in {first:.1f} s, reopened in "
                    f"{rows[label]['reopen_s']:.1f} s")
        trained = _trained_agreement(ctx, rows)
    finally:
        if saved is None:
            os.environ.pop("LORA_STUDIO_CACHE_DIR", None)
        else:
            os.environ["LORA_STUDIO_CACHE_DIR"] = saved
    _time_single(opened, rows, paths[1:1 + plan.single_images])
    results = _time_folder(opened, rows, paths, plan.rounds)
    reference = torch.tensor([[p for _n, p in sorted(r.top)] for r in results["torch fp32"]])
    for label, preds in results.items():
        probs = torch.tensor([[p for _n, p in sorted(r.top)] for r in preds])
        rows[label]["top1_agreement"] = round(float(
            (probs.argmax(-1) == reference.argmax(-1)).float().mean()), 4)
        rows[label]["max_abs_dp"] = round(float((probs - reference).abs().max()), 6)
        rows[label]["recorded_on_test_images"] = opened[label].agreement or None
    auto = choose_backend("cpu")
    auto_label = next(label for label, backend, options in _candidates()
                      if backend == auto and not options)
    torch_rate = rows["torch (Predictor)"]["folder_images_per_s"]
    speedup = rows[auto_label]["folder_images_per_s"] / torch_rate
    from engine.hardware import cpu_has_fast_bf16

    bf16 = cpu_has_fast_bf16()
    return {"status": "ok", "model": plan.train_model, "run_dir": str(run_dir),
            "folder_images": len(paths), "batch_size": 32, "rounds": plan.rounds,
            "bf16_cpu": bf16, "threads": torch.get_num_threads(), "rows": rows,
            "auto": auto, "auto_vs_torch_predictor": round(speedup, 2), "trained_run": trained,
            "goal": f">= {SPEEDUP_GOAL}x the torch Predictor on a bf16 CPU, >= 1x elsewhere",
            "goal_met": speedup >= (SPEEDUP_GOAL if bf16 else 1.0)}


def _time_single(opened: dict, rows: dict, paths: list[str]) -> None:
    """One image at a time, the backends alternated image by image (noise hits all alike)."""
    times: dict[str, list[float]] = {label: [] for label in opened}
    for predictor in opened.values():
        predictor.predict(paths[:1], batch_size=1)  # warm-up: first-call allocations
    for path in paths:
        for label, predictor in opened.items():
            t = time.perf_counter()
            predictor.predict([path], batch_size=1)
            times[label].append(time.perf_counter() - t)
    for label, values in times.items():
        rows[label]["single_ms"] = round(1000 * median(values), 1)


def _time_folder(opened: dict, rows: dict, paths: list[str], rounds: int) -> dict:
    """Whole folder at batch 32, rounds interleaved A B C, C B A, ...; the last predictions."""
    times: dict[str, list[float]] = {label: [] for label in opened}
    results: dict = {}
    order = list(opened)
    for r in range(rounds):
        for label in order if r % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            results[label] = opened[label].predict(paths, batch_size=32, top_k=10 ** 6)
            times[label].append(time.perf_counter() - t)
            if any(p.error for p in results[label]):
                raise BenchError(f"{label}: prediction failed")
    for label, values in times.items():
        rows[label]["folder_images_per_s"] = round(len(paths) / median(values), 2)
    return results


def _table(headers: list[str], rows: list[list]) -> list[str]:
    def cell(v) -> str:
        return "–" if v is None else f"{v:.3g}" if isinstance(v, float) and 0 < v < 0.1 else \
            f"{v:,.2f}" if isinstance(v, float) and v < 100 else \
            f"{v:,.0f}" if isinstance(v, float) else str(v)

    return ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"] + \
        ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def table(sec: dict) -> list[str]:
    """The section's lines for the bench's printed table."""
    out = [f"**10. Prediction backends** — {sec['model']}, folder of {sec['folder_images']} "
           f"images at batch 32 ({sec['rounds']} interleaved rounds), {sec['threads']} threads, "
           f"{'bf16' if sec['bf16_cpu'] else 'fp32-only'} CPU", ""]
    torch_rate = sec["rows"]["torch (Predictor)"]["folder_images_per_s"]
    rows = [[label, r["first_open_s"], r["reopen_s"], r["single_ms"], r["folder_images_per_s"],
             round(r["folder_images_per_s"] / torch_rate, 2), r["top1_agreement"],
             r["max_abs_dp"], (r.get("trained_run") or {}).get("top1_agreement"),
             (r.get("trained_run") or {}).get("max_abs_dp")]
            for label, r in sec["rows"].items()]
    out += _table(["backend", "first open s", "reopen s", "single ms", "folder images/s",
                   "x torch Predictor", "top-1 vs torch fp32", "max |Δp|",
                   "trained run: top-1", "trained run: max |Δp|"], rows)
    t = sec.get("trained_run") or {}
    if t:
        out += ["", f"\"trained run\": {t['model']} trained for {t['epochs']} epochs (test "
                    f"accuracy {t.get('test_accuracy')}), each file's agreement with torch fp32 on "
                    f"its test images, as measured and recorded in run.json when it was built; "
                    f"the other agreement columns are on the folder above, with the bench run's "
                    f"random-weights model (near ties). On the trained run auto opens "
                    f"{t.get('auto_opens')} (after its agreement guard)."]
    out += ["", f"auto = {sec['auto']}: {sec['auto_vs_torch_predictor']:.2f}x the torch "
                f"Predictor's folder throughput (goal {sec['goal']}: "
                f"{'met' if sec['goal_met'] else 'NOT met'})."]
    return out


__all__ = ["backends", "table"]
