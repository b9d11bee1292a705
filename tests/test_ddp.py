"""The same loop under torchrun: two CPU processes (gloo DDP) agree, and one writes the run."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent

# Runs in each torchrun process: trains, and writes what this process ended with.
WORKER = r'''
import json, os, sys
from pathlib import Path
from safetensors.torch import save_file
import engine.training.distributed as D
import engine.training.loop as T
from engine.config import TrainConfig

data_dir, model_dir, out_dir, report_dir = sys.argv[1:5]
rank = int(os.environ["RANK"])
captured = {}
make_accelerator = D.make_accelerator

def spying_accelerator(device_type):
    """Keep a reference to the model each process trains (not copied, not saved)."""
    acc = make_accelerator(device_type)
    prepare_model = acc.prepare_model
    def prepare(model, *args, **kwargs):
        captured["model"] = model
        return prepare_model(model, *args, **kwargs)
    acc.prepare_model = prepare
    return acc

D.make_accelerator = spying_accelerator
config = TrainConfig(data_dir=data_dir, model=model_dir, output_dir=out_dir, epochs=1,
                     batch_size=8, lr=1e-2, head_lr=1e-2, lora_dropout=0.0, precision="fp32",
                     num_threads=1, early_stop_patience=0, seed=0)
events = []
for event in T.train(config):
    events.append(event)
    if event.kind == "run_started":
        total = event.total_steps
    if event.kind == "step" and event.step == total:  # weights right after the last update
        weights = {name: p.detach().clone().contiguous()
                   for name, p in captured["model"].named_parameters() if p.requires_grad}
        save_file(weights, str(Path(report_dir) / f"rank{rank}.safetensors"))
started = [e.to_dict() for e in events if e.kind == "run_started"]
Path(report_dir, f"rank{rank}.json").write_text(json.dumps({
    "finished": events[-1].to_dict(), "started": started[0] if started else None}))
'''


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_cpu_processes_agree_and_only_rank0_writes(tmp_path, learnable_dir, tiny_clip_dir):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    report = tmp_path / "report"
    report.mkdir()
    runs = tmp_path / "runs"
    env = dict(os.environ, PYTHONPATH=str(ROOT), LORA_STUDIO_HOME=str(tmp_path / "home"),
               LORA_STUDIO_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1",
               OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(worker), str(learnable_dir), str(tiny_clip_dir), str(runs), str(report)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=840)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    results = [json.loads((report / f"rank{r}.json").read_text()) for r in (0, 1)]
    for result in results:
        assert result["finished"]["status"] == "completed", result["finished"]["error"]
    # one run folder, named by rank 0 and known to both
    assert [p.name for p in runs.iterdir()] == [Path(results[0]["finished"]["run_dir"]).name]
    assert results[0]["finished"]["run_dir"] == results[1]["finished"]["run_dir"]
    assert results[0]["finished"]["best_val_accuracy"] == results[1]["finished"]["best_val_accuracy"]
    # the data is sharded: each process does half the steps of a single process
    started = results[0]["started"]
    assert "x 2 processes" in started["device"]
    assert started["steps_per_epoch"] == math.ceil(started["num_train"] / (8 * 2))
    # both processes hold identical weights after the last update (DDP averaged the gradients)
    w0, w1 = (load_file(str(report / f"rank{r}.safetensors")) for r in (0, 1))
    assert w0.keys() == w1.keys() and any("lora_" in k for k in w0)
    for key in w0:
        torch.testing.assert_close(w0[key], w1[key], rtol=1e-5, atol=1e-6, msg=key)
    # ...and they are what rank 0 saved as the resume point
    run_dir = Path(results[0]["finished"]["run_dir"])
    head = load_file(str(run_dir / "checkpoints" / "last" / "head.safetensors"))
    torch.testing.assert_close(head["weight"], w0["head.weight"])
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert sum('"run_finished"' in line for line in lines) == 1  # rank 1 wrote nothing
