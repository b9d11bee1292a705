"""Shared fixtures: a tiny CLIP checkpoint and learnable generated image folders.

Nothing here touches a model hub: the tiny CLIP is built from a CLIPConfig with random
weights, written with save_pretrained and loaded back with from_pretrained, the same
path a downloaded checkpoint takes.
"""
from __future__ import annotations

import os

# Before anything imports Qt or transformers.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests read English texts whatever the machine's locale; the i18n tests switch explicitly.
os.environ["LORA_STUDIO_LANG"] = "en"
# No test may write into the user's home: caches and generated files go to a temp folder.
import tempfile  # noqa: E402

_SESSION_HOME = tempfile.mkdtemp(prefix="lora-studio-tests-")
os.environ["LORA_STUDIO_HOME"] = _SESSION_HOME
os.environ["LORA_STUDIO_CACHE_DIR"] = os.path.join(_SESSION_HOME, "decode-cache")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from engine.demo.dataset import make_demo_dataset
from engine.demo.model import make_tiny_clip


@pytest.fixture(autouse=True)
def _no_sigchld_handler_left_behind():
    """A DataLoader with worker processes installs a Python SIGCHLD handler and leaves it;
    with it installed, a later child's exit (a subprocess a test waits for) killed the suite's
    process with SIGSEGV. The cause was OpenVINO's dangling signal stack (fixed in
    engine.use.signal_stack); each test still leaves SIGCHLD as it found it."""
    import signal

    before = signal.getsignal(signal.SIGCHLD)
    yield
    if signal.getsignal(signal.SIGCHLD) is not before and before is not None:
        signal.signal(signal.SIGCHLD, before)


def pytest_runtest_setup(item):
    """Native libraries loaded by earlier tests (OpenVINO, FFmpeg, Qt Multimedia) may replace
    the crash handler: re-arm it before each test, so a crash names its test and stack in
    CI's log instead of a bare "Segmentation fault"."""
    import faulthandler
    import sys

    faulthandler.enable(file=sys.__stderr__, all_threads=True)


def pytest_runtest_logreport(report):
    """Print a failure's details the moment it happens: a later crash of the whole process
    would otherwise take the end-of-run summary, and with it every failure's reason."""
    if report.failed:
        import sys

        sys.__stderr__.write(f"\nFAILED {report.nodeid} ({report.when})\n"
                             f"{report.longreprtext}\n")
        sys.__stderr__.flush()


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A tiny CLIP checkpoint folder (random weights, 32 px images, projection 16)."""
    return make_tiny_clip(tmp_path_factory.mktemp("tiny_clip"))


@pytest.fixture(scope="session")
def tiny_clip(tiny_clip_dir):
    """(CLIPModel, CLIPProcessor) loaded back with from_pretrained from `tiny_clip_dir`."""
    from transformers import CLIPModel, CLIPProcessor

    return CLIPModel.from_pretrained(tiny_clip_dir), CLIPProcessor.from_pretrained(tiny_clip_dir)


@pytest.fixture(scope="session")
def learnable_dir(tmp_path_factory) -> Path:
    """`root/<class>/*.jpg`: 4 learnable classes (colour + shape + noise), 30 images each."""
    return make_demo_dataset(tmp_path_factory.mktemp("learnable"), num_classes=4, per_class=30)


@pytest.fixture(scope="session")
def learnable_split_dir(tmp_path_factory) -> Path:
    """`root/{train,val,test}/<class>/*.jpg`: 3 learnable classes, 24/8/8 images each."""
    return make_demo_dataset(tmp_path_factory.mktemp("learnable_split"), num_classes=3,
                             splits={"train": 24, "val": 8, "test": 8}, seed=1)


@pytest.fixture
def copy_of(tmp_path):
    """Copy a session-scoped folder into this test's tmp dir, for tests that add files to it."""
    import shutil

    def _copy(src: Path, name: str = "data") -> Path:
        dst = tmp_path / name
        shutil.copytree(src, dst, symlinks=True)
        return dst

    return _copy


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """LORA_STUDIO_HOME and the decode cache inside this test's tmp dir; torch's thread count
    (which training runs set) restored afterwards. Returns tmp_path."""
    import torch

    monkeypatch.setenv("LORA_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LORA_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_clip_dir, learnable_split_dir):
    """A complete run folder made by run_factory (no training loop), one per test module."""
    from run_factory import shared_run

    return shared_run(tmp_path_factory, tiny_clip_dir, learnable_split_dir)


@pytest.fixture(scope="module")
def predictor(run):
    """engine.use.predict.Predictor on `run` (CPU, fp32)."""
    from engine.use.predict import Predictor

    return Predictor(run, device="cpu", precision="fp32")


# --- A stand-in for the Hugging Face Hub (tests/hub_server.py, tests/hub_repos.py) ---------
@pytest.fixture(scope="session")
def hub_server():
    """The stand-in Hub on 127.0.0.1, holding a tiny repository laid out as published for
    every checkpoint in hub_repos.SPECS (built once per session); shut down at the end."""
    from hub_repos import SPECS, build_files
    from hub_server import HubStandIn

    with HubStandIn() as server:
        for spec in SPECS.values():
            server.add(spec.repo_id, build_files(spec))
        yield server


@pytest.fixture
def hub(hub_server, tmp_path, monkeypatch):
    """huggingface_hub and transformers pointed at the stand-in, online, with an empty
    download cache in tmp_path/hf (the session's HF_HUB_OFFLINE=1 lifted for this test
    only); the request log starts empty."""
    from hub_server import forbid_outside_network, point_client_at

    outside = forbid_outside_network(monkeypatch)
    point_client_at(monkeypatch, hub_server.endpoint, tmp_path / "hf")
    hub_server.reset()
    yield hub_server
    hub_server.reset()
    assert not outside, f"tried to reach {sorted(set(outside))} instead of the stand-in"
