"""Section: the local prediction server (issue #25), side by side with in-process prediction.

The same run and the same photos: the Predictor called in-process (one image per call: its
latency; the folder at batch 32: its throughput), then `engine.serve` on loopback in this
process, one image per HTTP request, from 1 client and from 8 concurrent clients (p50/p95
latency of a request, requests per second). The server micro-batches concurrent requests,
so at 8 clients its throughput should approach the in-process batch throughput; the gap
is the cost of HTTP, multipart parsing and decoding per request. The contenders take turns
for `plan.rounds` rounds (the median round is kept), so a busy moment hits each alike.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from engine.bench.measure import median, percentile
from engine.bench.plan import Context

CLIENTS = (1, 8)


def _latency(values: list[float]) -> dict:
    return {"p50_ms": round(1000 * median(values), 1),
            "p95_ms": round(1000 * percentile(values, 95), 1), "samples": len(values)}


def _load(url: str, payloads: list[tuple[str, bytes]], clients: int, requests: int) -> dict:
    """`requests` one-image requests spread over `clients` threads; latency and rate."""
    from engine.serve.client import Client

    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def loop(n: int) -> None:
        client = Client(url, timeout=300)
        try:
            for i in range(n, requests, clients):
                t = time.perf_counter()
                status, answer = client.predict([payloads[i % len(payloads)]], top_k=1)
                spent = time.perf_counter() - t
                with lock:
                    times.append(spent)
                    if status != 200:
                        errors.append(str(answer)[:200])
        finally:
            client.close()

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} server requests failed, e.g. {errors[0]}")
    return {"clients": clients, "requests": requests, **_latency(times),
            "requests_per_s": round(requests / wall, 2)}


def _median_load(rounds: list[dict]) -> dict:
    """The round with the median throughput (its latencies with it)."""
    return sorted(rounds, key=lambda r: r["requests_per_s"])[len(rounds) // 2]


def serve(ctx: Context) -> dict:
    from engine.bench.sections_modes import _short_run
    from engine.serve.config import ServeConfig
    from engine.serve.server import start_in_thread
    from engine.use.predict import Predictor

    plan = ctx.plan
    run_dir = ctx.shared.get("trained_run") or _short_run(ctx)
    index = ctx.index()
    paths = [s.path for s in index.split("val") + index.split("test")][:plan.folder_images]
    predictor = Predictor(run_dir, device=ctx.device)
    payloads = [(Path(p).name, Path(p).read_bytes()) for p in paths]
    requests = max(len(paths), 16)

    predictor.predict(paths[:1], batch_size=1)  # warm-up: first-call allocations
    single: list[float] = []
    folder: list[float] = []
    loads: dict[str, list[dict]] = {f"clients_{n}": [] for n in CLIENTS}
    server = start_in_thread(predictor, ServeConfig(port=0))
    try:
        _load(server.url, payloads, 1, min(8, len(payloads)))  # warm-up: connections, threads
        for r in range(plan.rounds):  # interleaved, so a busy moment hits every contender
            ctx.log(f"serve: round {r + 1}: in-process, then {requests} one-image requests "
                    f"from 1 client and from 8")
            for path in paths[:max(plan.single_images, 4)]:
                t = time.perf_counter()
                predictor.predict([path], batch_size=1)
                single.append(time.perf_counter() - t)
            t0 = time.perf_counter()
            predictor.predict(paths, batch_size=32)
            folder.append(len(paths) / (time.perf_counter() - t0))
            for n in CLIENTS:
                loads[f"clients_{n}"].append(_load(server.url, payloads, n, requests))
        batcher = server.app.state.batcher
        batching = {"model_calls": batcher.batches, "images": batcher.images,
                    "largest_batch": batcher.largest}
    finally:
        server.stop()
    folder_rate = median(folder)
    loads = {key: _median_load(rounds) for key, rounds in loads.items()}
    best = loads[f"clients_{max(CLIENTS)}"]["requests_per_s"]
    return {"status": "ok", "model": plan.train_model, "images": len(paths),
            "rounds": plan.rounds,
            "in_process": {"single": _latency(single),
                           "folder_images_per_s": round(folder_rate, 2), "batch_size": 32},
            "server": loads, "batching": batching,
            "server_vs_in_process_batch": round(best / folder_rate, 2) if folder_rate else None}


def table(sec: dict) -> list[str]:
    i, s = sec["in_process"], sec["server"]
    rows = [f"**Serve** — {sec['model']}, one image per request on loopback, "
            f"{sec['images']} photos:", "",
            "| | p50 ms | p95 ms | images/s |", "|---|---:|---:|---:|",
            f"| in-process Predictor, 1 image per call | {i['single']['p50_ms']} | "
            f"{i['single']['p95_ms']} | {round(1000 / i['single']['p50_ms'], 1)} |",
            f"| in-process Predictor, folder at batch {i['batch_size']} | – | – | "
            f"{i['folder_images_per_s']} |"]
    for key in sorted(s, key=lambda k: s[k]["clients"]):
        r = s[key]
        rows.append(f"| server, {r['clients']} client{'s' if r['clients'] > 1 else ''} | "
                    f"{r['p50_ms']} | {r['p95_ms']} | {r['requests_per_s']} |")
    b = sec["batching"]
    rows += ["", f"The server made {b['model_calls']} model calls for {b['images']} images "
                 f"(largest batch {b['largest_batch']}); at 8 clients it gives "
                 f"{sec['server_vs_in_process_batch']}x the in-process batch throughput."]
    return rows


__all__ = ["serve", "table"]
