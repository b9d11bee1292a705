"""OpenVINO's CPU plugin leaves its own alternate signal stack on the thread that first
creates it, and that memory goes when the plugin is unloaded: the next Python-handled signal
on the thread (a DataLoader worker's SIGCHLD, Ctrl-C) then killed the process with SIGSEGV
(the self-test at its worker stage; the suite at its Ctrl-C test). engine.use.signal_stack
gives the thread its previous stack back after each OpenVINO call.

The plugin sets the stack once per process, so each check runs in a fresh interpreter."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sigaltstack is Linux's"),
    pytest.mark.skipif(importlib.util.find_spec("openvino") is None,
                       reason="openvino is not installed"),
]

PROBE = r"""
import contextlib, json, os, signal, sys
from pathlib import Path
import torch
from engine.use import signal_stack
if sys.argv[2] == "unguarded":  # the control: what the plugin does to the thread
    signal_stack.kept = contextlib.nullcontext
from engine.use.onnx_sessions import openvino_session

model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))
path = Path(sys.argv[1]) / "tiny.onnx"
torch.onnx.export(model, (torch.randn(1, 3, 8, 8),), str(path), input_names=["pixel_values"],
                  output_names=["logits"], dynamo=False)
before = signal_stack.current()
session = openvino_session(path, threads=1)
after = signal_stack.current()
handled = []
signal.signal(signal.SIGUSR1, lambda *args: handled.append(True))
os.kill(os.getpid(), signal.SIGUSR1)
print(json.dumps({"before": before, "after": after, "handled": handled}))
"""


def _probe(mode: str, tmp_path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_thread_keeps_its_signal_stack_through_an_openvino_compile(tmp_path):
    found = _probe("guarded", tmp_path)
    assert found["after"] == found["before"]
    assert found["handled"] == [True]


def test_the_probe_sees_the_plugin_replace_the_signal_stack(tmp_path):
    """Without the guard the CPU plugin's stack is on the thread: the check above would
    notice a guard that stopped working (or an OpenVINO that stopped doing this)."""
    found = _probe("unguarded", tmp_path)
    if found["after"] == found["before"]:
        pytest.skip("this OpenVINO / CPU does not install a signal stack")
    assert found["after"][1] > 0 and not found["after"][2] & 2  # an enabled stack of its own
