"""Downloading base models (engine.model.hub) against the stand-in Hub (tests/hub_server.py):
what is fetched, progress, resumed and failed downloads, offline use, plain messages."""
from __future__ import annotations

import hashlib
import os

import pytest

from engine.errors import ModelLoadError
from engine.model import hub as model_hub
from hub_server import closed_port_endpoint, forbid_outside_network, go_offline, point_client_at

B32 = "openai/clip-vit-base-patch32"


def _progress():
    reports: list[tuple[int, int]] = []
    return reports, lambda done, total: reports.append((done, total))


# --- which files ----------------------------------------------------------------------------
def test_one_weights_format_and_only_what_the_processors_read():
    openai = [".gitattributes", "README.md", "config.json", "flax_model.msgpack", "merges.txt",
              "model.safetensors", "preprocessor_config.json", "pytorch_model.bin",
              "special_tokens_map.json", "tf_model.h5", "tokenizer.json",
              "tokenizer_config.json", "vocab.json", "onnx/model.onnx", "onnx/config.json"]
    assert model_hub.choose_files(openai) == [
        "config.json", "preprocessor_config.json", "tokenizer_config.json",
        "special_tokens_map.json", "tokenizer.json", "vocab.json", "merges.txt",
        "model.safetensors"]
    laion_sharded = ["config.json", "open_clip_config.json", "open_clip_model.safetensors",
                     "open_clip_pytorch_model.bin", "model-00002-of-00002.safetensors",
                     "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                     "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin",
                     "pytorch_model.bin.index.json"]
    assert model_hub.choose_files(laion_sharded) == [
        "config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors"]
    siglip = ["config.json", "model.safetensors", "preprocessor_config.json",
              "special_tokens_map.json", "spiece.model", "tokenizer_config.json"]
    assert set(model_hub.choose_files(siglip)) == set(siglip)
    gemma = ["config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
             "model.safetensors"]
    assert set(model_hub.choose_files(gemma)) == set(gemma)
    assert model_hub.choose_files(["config.json", "pytorch_model.bin", "tf_model.h5"]) == \
        ["config.json", "pytorch_model.bin"]
    assert model_hub.choose_files(["config.json", "flax_model.msgpack", "tf_model.h5"]) == \
        ["config.json"]  # no PyTorch weights: download_model refuses (see below)


def test_hub_ids_and_local_folders(tmp_path, monkeypatch):
    assert model_hub.is_hub_id(B32) and model_hub.is_hub_id("gpt2")
    for ref in (str(tmp_path), str(tmp_path / "missing"), "./model", "~/models/clip", "",
                "a/b/c", "org--x/y", "C:\\models\\clip"):
        assert not model_hub.is_hub_id(ref), ref
    point_client_at(monkeypatch, closed_port_endpoint(), tmp_path / "hf")  # online
    assert not model_hub.is_offline()
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # set after the client's import
        with monkeypatch.context() as env:
            env.setenv(name, "1")
            assert model_hub.is_offline()
    assert model_hub.fetch_model(str(tmp_path)) is None  # a local folder: nothing to do


# --- the stand-in really serves the client ---------------------------------------------------
def test_the_client_talks_to_the_stand_in(hub):
    from huggingface_hub import constants, file_exists, hf_hub_download, hf_hub_url

    # The env var alone does not move an imported client: the constants were patched.
    assert os.environ["HF_ENDPOINT"] == hub.endpoint == constants.ENDPOINT
    assert hf_hub_url(B32, "config.json").startswith(hub.endpoint + "/")
    repo = hub.repos[B32]
    path = hf_hub_download(B32, "config.json")
    assert open(path, "rb").read() == repo.files["config.json"]
    weights = hf_hub_download(B32, "model.safetensors")
    assert open(weights, "rb").read() == repo.files["model.safetensors"]
    # the cache names the weights blob by the X-Linked-Etag (sha256) of the redirect
    sha256 = hashlib.sha256(repo.files["model.safetensors"]).hexdigest()
    assert os.path.realpath(weights).endswith(f"blobs/{sha256}")
    assert path.startswith(str(constants.HF_HUB_CACHE)) and f"snapshots/{repo.sha}" in path
    log = [(r.server, r.method, r.file, r.status) for r in hub.log]
    assert log == [("hub", "HEAD", "config.json", 200), ("hub", "GET", "config.json", 200),
                   ("hub", "HEAD", "model.safetensors", 302),
                   ("cdn", "GET", "model.safetensors", 200)]
    # huggingface_hub's module-level functions (peft asks file_exists) come here too
    assert file_exists(B32, "config.json") and not file_exists(B32, "adapter_config.json")
    assert [(r.method, r.file, r.status) for r in hub.log[4:]] == [
        ("HEAD", "config.json", 200), ("HEAD", "adapter_config.json", 404)]


def test_the_hub_fixture_lets_nothing_reach_outside_the_loopback(monkeypatch):
    import socket

    outside = forbid_outside_network(monkeypatch)  # what the `hub` fixture installs
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("huggingface.co", 443)
    assert socket.getaddrinfo("127.0.0.1", 80) and outside == ["huggingface.co"]


# --- downloading -----------------------------------------------------------------------------
def test_download_fetches_one_weights_format_with_byte_progress(hub):
    reports, progress = _progress()
    folder = model_hub.download_model(B32, progress)
    files = hub.repos[B32].files
    wanted = model_hub.choose_files(list(files))
    assert sorted(hub.fetched(B32)) == sorted(wanted)  # each once, nothing else
    assert not hub.asked(B32) & {"pytorch_model.bin", "flax_model.msgpack", "tf_model.h5",
                                 "README.md", ".gitattributes"}
    total = sum(len(files[n]) for n in wanted)
    assert reports[0] == (0, total) and reports[-1] == (total, total)
    assert all(b[0] >= a[0] for a, b in zip(reports, reports[1:]))  # never backwards
    assert sorted(os.listdir(folder)) == sorted(wanted)
    hub.reset()  # a second call finds every file in the cache: API calls only
    assert model_hub.download_model(B32, progress) == folder and hub.fetched() == []


def test_the_downloaded_commit_is_known(hub):
    assert model_hub.cached_commit(B32) is None
    model_hub.fetch_model(B32)
    assert model_hub.cached_commit(B32) == hub.repos[B32].sha


def test_a_run_records_the_commit_of_its_base_model(hub):
    # transformers 5 no longer sets config._commit_hash: the commit comes from the cache
    from engine.model.classifier import base_model_info, load_base

    model_hub.fetch_model(B32)
    family, full, processor = load_base(B32)
    assert base_model_info(B32, family, full, processor).fingerprint == hub.repos[B32].sha


def test_progress_also_counts_xet_downloads():
    """Most Hub files now come through Xet storage (hf_xet), whose reporter drives the same
    tqdm_class differently: bytes written via update(), network bytes via update_transfer()."""
    from types import SimpleNamespace

    from huggingface_hub.utils._xet_progress_reporting import XetDownloadProgressReporter

    seen = []
    with XetDownloadProgressReporter(reconstruction_desc="model.safetensors", total=300,
                                     log_level=20, tqdm_class=model_hub._file_bytes(seen.append)
                                     ) as reporter:
        for written, received in ((100, 80), (300, 200)):
            reporter.update_progress(SimpleNamespace(
                total_bytes_completed=written, total_transfer_bytes_completed=received,
                total_bytes=300, total_bytes_completion_rate=None,
                total_transfer_bytes_completion_rate=None))
    assert seen == [100, 300]


def test_a_misspelt_id_says_so(hub):
    with pytest.raises(ModelLoadError, match="'openai/clip-vit-base-patch23' was not found on "
                                             "the Hugging Face Hub. Check the spelling"):
        model_hub.fetch_model("openai/clip-vit-base-patch23")
    assert [r.status for r in hub.log] == [404]


def test_a_repository_without_pytorch_weights_is_refused(hub):
    hub.add("someone/flax-only", {"config.json": b"{}", "flax_model.msgpack": b"x" * 10})
    try:
        with pytest.raises(ModelLoadError, match="'someone/flax-only' has no PyTorch weights"):
            model_hub.fetch_model("someone/flax-only")
        assert hub.fetched() == []
    finally:
        del hub.repos["someone/flax-only"]


def test_a_dropped_connection_is_resumed_with_a_range_request(hub, monkeypatch):
    from huggingface_hub import constants

    # huggingface_hub writes (and resumes from) whole chunks of DOWNLOAD_CHUNK_SIZE (10 MB);
    # the tiny weights need tiny chunks to resume from the middle.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    monkeypatch.setattr("huggingface_hub.file_download.time", _NoWaiting())
    hub.cut(B32, "model.safetensors", at=100_000)
    folder = model_hub.download_model(B32, lambda done, total: None)
    data = hub.repos[B32].files["model.safetensors"]
    weights = [r for r in hub.log if r.file == "model.safetensors" and r.method == "GET"]
    assert [(r.range, r.status, r.body_bytes) for r in weights] == [
        (None, 200, 100_000), ("bytes=65536-", 206, len(data) - 65_536)]
    assert open(os.path.join(folder, "model.safetensors"), "rb").read() == data


def test_a_download_cut_off_for_good_says_so_and_the_next_try_completes(hub, monkeypatch):
    from engine.model.classifier import load_base

    monkeypatch.setattr("huggingface_hub.file_download.time", _NoWaiting())
    hub.cut(B32, "model.safetensors", at=100_000, times=10)  # outlasts the client's 5 retries
    reports, progress = _progress()
    with pytest.raises(ModelLoadError, match=f"The download of '{B32}' stopped before it was "
                                             "complete") as failed:
        model_hub.download_model(B32, progress)
    assert "try again" in str(failed.value).lower()
    assert reports[-1][0] < reports[-1][1]
    small = [n for n in hub.fetched(B32) if n != "model.safetensors"]
    assert small and "model.safetensors" in hub.fetched(B32)

    with monkeypatch.context() as offline:  # meanwhile the cache holds no usable model
        go_offline(offline)
        with pytest.raises(ModelLoadError, match="only partly downloaded"):
            model_hub.fetch_model(B32)

    hub.reset()  # the network is back: the next try completes, without the finished files
    reports, progress = _progress()
    model_hub.fetch_model(B32, progress)
    assert hub.fetched(B32) == ["model.safetensors"]
    assert reports[-1][0] == reports[-1][1]
    family, full, processor = load_base(B32)
    assert family.name == "clip" and full.config.vision_config.patch_size == 32


def test_offline_with_the_files_cached_needs_no_network(hub, monkeypatch, tmp_path):
    from engine.model.classifier import load_base

    folder = model_hub.fetch_model(B32)
    point_client_at(monkeypatch, closed_port_endpoint(), tmp_path / "hf")  # no network either
    go_offline(monkeypatch)
    hub.reset()
    assert model_hub.fetch_model(B32) == folder
    family, full, processor = load_base(B32)
    assert family.name == "clip" and processor.tokenizer("a dog")["input_ids"]
    assert hub.log == []


def test_offline_without_the_files_says_how_to_get_them(hub, monkeypatch):
    go_offline(monkeypatch)
    with pytest.raises(ModelLoadError, match=f"'{B32}' has not been downloaded on this "
                                             "computer, and downloads are switched off"):
        model_hub.fetch_model(B32)
    assert hub.log == []


def test_no_server_reachable_says_so(tmp_path, monkeypatch):
    point_client_at(monkeypatch, closed_port_endpoint(), tmp_path / "hf")
    with pytest.raises(ModelLoadError, match=f"Could not download '{B32}': the Hugging Face "
                                             "Hub cannot be reached"):
        model_hub.fetch_model(B32)


def test_no_server_reachable_but_downloaded_before_loads_from_the_cache(hub, monkeypatch,
                                                                        tmp_path):
    import time

    from engine.model.classifier import load_base

    folder = model_hub.fetch_model(B32)
    endpoint = hub.endpoint
    point_client_at(monkeypatch, closed_port_endpoint(), tmp_path / "hf")  # the same cache
    assert model_hub.fetch_model(B32) == folder
    started = time.monotonic()
    assert load_base(B32)[0].name == "clip"
    # online, transformers would retry the unreachable Hub for over a minute
    assert time.monotonic() - started < 20
    from huggingface_hub import constants

    assert constants.HF_HUB_OFFLINE and not model_hub.is_offline()  # switched by the app
    _move_endpoint(monkeypatch, endpoint)  # the network is back: the next fetch goes online
    hub.reset()
    model_hub.fetch_model("openai/clip-vit-base-patch16")
    assert "model.safetensors" in hub.fetched("openai/clip-vit-base-patch16")
    assert not constants.HF_HUB_OFFLINE


def test_a_full_disk_says_so(hub, monkeypatch):
    import errno

    import huggingface_hub

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", full)
    with pytest.raises(ModelLoadError, match=f"not enough free disk space to download '{B32}'"):
        model_hub.fetch_model(B32)


def test_zero_shot_command_shows_the_download(hub, tmp_path, monkeypatch, capsys):
    import sys

    from engine.demo.dataset import make_demo_dataset
    from run_factory import run_cli

    data = make_demo_dataset(tmp_path / "data", num_classes=2, per_class=3)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the counter shows on terminals
    assert run_cli(["zero-shot", "--model", B32, "--data", str(data), "--split", "all",
                    "--device", "cpu", "--precision", "fp32"]) == 0
    err = capsys.readouterr().err
    total = sum(len(hub.repos[B32].files[n]) for n in set(hub.fetched(B32)))
    assert f"downloading the model {total / 1e6:.1f} of {total / 1e6:.1f} MB" in err


def _move_endpoint(monkeypatch, endpoint: str) -> None:
    """Only the client's endpoint changes (as point_client_at sets it), nothing else."""
    from huggingface_hub import constants
    import transformers.utils.hub as transformers_hub

    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(transformers_hub, "_hf_api", None)


def test_the_train_command_prints_the_download_in_mb():
    from engine.cli.train import EventPrinter
    from engine.events import Progress

    line = EventPrinter().format(Progress(stage="download", done=1_500_000, total=3_000_000,
                                          message=f"Downloading {B32}"))
    assert line == f"Downloading {B32}: 1.5 of 3.0 MB"


class _NoWaiting:
    """huggingface_hub.file_download's `time` without the 1 s pause between retries."""

    def __getattr__(self, name):
        import time

        return getattr(time, name)

    @staticmethod
    def sleep(seconds):
        pass
