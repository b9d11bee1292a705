"""Prediction backends (engine.use.backends): torch, ONNX Runtime fp32 / int8, OpenVINO.

Every backend answers with the Predictor's Prediction objects, agrees with the run in
torch fp32, keeps its file in the cache (never in the run folder), reuses it on the next
open and builds it again when the run changes. Speed is measured by the bench, never here.
"""
from __future__ import annotations

import json
import sys

import pytest
import torch

from run_factory import copy_run, run_cli
from snapshots import folder_hash

pytestmark = pytest.mark.usefixtures("isolated_home")

_installed = __import__("importlib").util.find_spec
ONNX_BACKENDS = ["onnx", "onnx-int8"] + (["openvino"] if _installed("openvino") else []) + (
    ["openvino-int8"] if _installed("openvino") and _installed("nncf") else [])


@pytest.fixture
def own_run(run, tmp_path):
    """A private copy of the shared run (the backends record their agreement in run.json)."""
    return copy_run(run, tmp_path / "run")


def _test_images(learnable_split_dir) -> list[str]:
    return sorted(str(p) for p in (learnable_split_dir / "test").rglob("*.jpg"))


def _probabilities(predictions) -> torch.Tensor:
    """[N, classes] in class-name order (predictions made with top_k = every class)."""
    return torch.tensor([[p for _name, p in sorted(pred.top)] for pred in predictions])


@pytest.mark.parametrize("backend", ONNX_BACKENDS)
def test_each_backend_answers_like_the_torch_fp32_predictor(backend, own_run,
                                                            learnable_split_dir):
    from engine.use.backends import open_predictor
    from engine.use.predict import Prediction

    images = _test_images(learnable_split_dir)
    reference = open_predictor(own_run, "torch", device="cpu", precision="fp32",
                               not_sure_below=0.9)
    fast = open_predictor(own_run, backend, not_sure_below=0.9)
    assert fast.backend == backend and fast.class_names == reference.class_names
    expected = reference.predict(images, top_k=99)
    got = fast.predict(images + [str(learnable_split_dir)] + ["/no/such/file.jpg"], top_k=99)
    assert all(isinstance(p, Prediction) for p in got)
    assert [p.source for p in got[:len(images)]] == images
    assert got[-1].error and not got[-1].top  # a missing file: its own message, no crash
    got = [p for p in got if p.source in set(images)][:len(images)]
    agreement = (_probabilities(got).argmax(-1) == _probabilities(expected).argmax(-1))
    assert agreement.float().mean() >= 0.99
    max_dp = float((_probabilities(got) - _probabilities(expected)).abs().max())
    assert max_dp < (1e-4 if backend == "onnx" else 0.1), max_dp
    assert [p.not_sure for p in got] == [p.not_sure for p in expected] or backend != "onnx"
    assert fast.temperature == pytest.approx(reference.temperature)
    # what was recorded when the file was built: the same comparison on the run's test images
    recorded = json.loads((own_run / "run.json").read_text("utf-8"))["backends"][backend]
    assert recorded == fast.agreement
    assert recorded["images"] == len(images) and recorded["top1_agreement"] >= 0.99
    assert recorded["compared_with"] == "torch fp32"


def test_the_calibration_temperature_is_applied_as_the_predictor_applies_it(own_run,
                                                                           learnable_split_dir):
    from safetensors.torch import load_file, save_file

    from engine.use.backends import open_predictor

    head = load_file(str(own_run / "head.safetensors"))
    head["temperature"] = torch.tensor(3.0).reshape(head["temperature"].shape)
    save_file(head, str(own_run / "head.safetensors"))
    image = _test_images(learnable_split_dir)[:1]
    reference = open_predictor(own_run, "torch", device="cpu", precision="fp32")
    fast = open_predictor(own_run, "onnx")
    assert fast.temperature == reference.temperature == pytest.approx(3.0)
    assert fast.predict(image)[0].top[0][1] == pytest.approx(
        reference.predict(image)[0].top[0][1], abs=1e-5)


def test_the_file_is_cached_outside_the_run_and_reused(own_run, monkeypatch):
    from engine.use import export, onnx_cache
    from engine.use.backends import open_predictor

    meta_before = json.loads((own_run / "run.json").read_text("utf-8"))
    if meta_before.pop("backends", None) is not None:  # the shared run was used by auto before
        (own_run / "run.json").write_text(json.dumps(meta_before, indent=2, sort_keys=True)
                                          + "\n", encoding="utf-8")
    before = folder_hash(own_run)
    first = open_predictor(own_run, "onnx-int8")
    assert first.entry.folder.parent == onnx_cache.cache_root()
    assert not str(first.entry.folder).startswith(str(own_run))
    meta_after = json.loads((own_run / "run.json").read_text("utf-8"))
    assert set(meta_after) - set(meta_before) == {"backends"}
    assert {k: v for k, v in meta_after.items() if k != "backends"} == meta_before
    (own_run / "run.json").write_text(json.dumps(meta_before, indent=2, sort_keys=True) + "\n",
                                      encoding="utf-8")
    assert folder_hash(own_run) == before  # nothing else in the run folder was written

    def no_building(*args, **kwargs):
        raise AssertionError("the cached file should have been used")

    monkeypatch.setattr(export, "export_onnx", no_building)
    monkeypatch.setattr(onnx_cache, "_build", no_building)
    again = open_predictor(own_run, "onnx-int8")
    assert again.entry.folder == first.entry.folder
    assert again.agreement == first.agreement


def test_a_changed_run_gets_a_new_file_and_the_stale_one_goes(own_run, learnable_split_dir):
    from safetensors.torch import load_file, save_file

    from engine.use.backends import open_predictor

    image = _test_images(learnable_split_dir)[:1]
    old = open_predictor(own_run, "onnx")
    old_answer = old.predict(image, top_k=99)[0]
    head = load_file(str(own_run / "head.safetensors"))
    head["bias"] = head["bias"] + torch.arange(head["bias"].numel(), dtype=head["bias"].dtype)
    save_file(head, str(own_run / "head.safetensors"))  # e.g. the run was retrained in place
    built = []
    new = open_predictor(own_run, "onnx", log=built.append)
    assert built and new.entry.folder != old.entry.folder
    assert not old.entry.folder.exists()  # the stale entry is removed
    reference = open_predictor(own_run, "torch", device="cpu", precision="fp32")
    got, expected = new.predict(image, top_k=99)[0], reference.predict(image, top_k=99)[0]
    assert got.top != old_answer.top
    assert got.best_guess == expected.best_guess
    assert dict(got.top) == pytest.approx(dict(expected.top), abs=1e-4)


def test_an_upgraded_converter_gets_a_new_cache_key(own_run, monkeypatch):
    """OpenVINO or NNCF upgraded: the int8 file they made is not reused."""
    from importlib import metadata

    from engine.safe_read import read_json
    from engine.use import onnx_cache

    meta = read_json(own_run / "run.json")
    before = onnx_cache.cache_key(own_run, meta)
    assert onnx_cache.cache_key(own_run, meta) == before  # stable while nothing changes
    real = metadata.version
    for dist in ("openvino", "nncf"):
        monkeypatch.setattr(metadata, "version",
                            lambda name, d=dist: "99.0" if name == d else real(name))
        assert onnx_cache.cache_key(own_run, meta) != before, dist
    monkeypatch.setattr(metadata, "version", real)


@pytest.mark.parametrize("flags, machine, portable, reduce", [
    ({"avx2", "avx512_vnni"}, "x86_64", False, False),  # Zen 4 / Xeon: 8-bit weights
    ({"avx2", "fma"}, "x86_64", False, True),  # AVX2-only EPYC: 8-bit products saturate
    ({"avx2", "avx512_vnni"}, "x86_64", True, True),  # an export runs anywhere
    (set(), "aarch64", False, False),  # ARM's int8 dot products do not saturate
])
def test_int8_weights_keep_7_bits_where_8_would_saturate(flags, machine, portable, reduce,
                                                           monkeypatch, tmp_path):
    import onnxruntime.quantization as q

    from engine import hardware
    from engine.use.onnx_cache import quantize_int8

    seen = {}
    monkeypatch.setattr(hardware, "_cpu_flags", lambda: flags)
    monkeypatch.setattr(hardware.platform, "machine", lambda: machine)
    hardware.cpu_has_vnni.cache_clear()
    monkeypatch.setattr(q, "quantize_dynamic", lambda *a, **k: seen.update(k))
    try:
        quantize_int8(tmp_path / "a.onnx", tmp_path / "b.onnx", portable=portable)
    finally:
        hardware.cpu_has_vnni.cache_clear()
    assert seen["reduce_range"] is reduce


def _tiny_matmul_onnx(path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.rand(64, 8).astype("float32"), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_quantizing_drops_only_the_quantizers_advice_and_leaves_logging_as_it_was(
        tmp_path, caplog):
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from engine.use.onnx_cache import quantize_int8

    _tiny_matmul_onnx(tmp_path / "a.onnx")
    root = logging.getLogger()
    level, filters = root.level, list(root.filters)
    with caplog.at_level(logging.WARNING):
        quantize_dynamic(str(tmp_path / "a.onnx"), str(tmp_path / "raw.onnx"),
                         weight_type=QuantType.QInt8)  # the control: the advice is there
        assert any("pre-processing" in r.getMessage() for r in caplog.records)
        caplog.clear()
        quantize_int8(tmp_path / "a.onnx", tmp_path / "b.onnx")
        assert not any("pre-processing" in r.getMessage() for r in caplog.records)
        logging.warning("a warning of the app's own")  # still heard after the call
    assert [r.getMessage() for r in caplog.records] == ["a warning of the app's own"]
    assert (tmp_path / "b.onnx").stat().st_size > 0
    assert (root.level, root.filters) == (level, filters)


def test_a_damaged_cached_file_is_built_again(own_run, learnable_split_dir):
    from engine.use.backends import open_predictor

    image = _test_images(learnable_split_dir)[:1]
    first = open_predictor(own_run, "onnx")
    expected = first.predict(image)[0].top
    path = first.entry.path("onnx")
    path.write_bytes(path.read_bytes()[:1000])  # cut short (a full disk, a crash)
    built = []
    again = open_predictor(own_run, "onnx", log=built.append)
    assert built and again.entry.path("onnx").stat().st_size > 1000
    assert again.predict(image)[0].top == expected


def test_a_missing_onnxruntime_is_a_plain_message_and_auto_falls_back(own_run, monkeypatch):
    from engine.errors import UserError
    from engine.use.backends import choose_backend, open_predictor
    from engine.use.predict import Predictor

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    for backend in ("onnx", "onnx-int8"):
        with pytest.raises(UserError, match="pip install onnxruntime"):
            open_predictor(own_run, backend)
    assert choose_backend("cpu") == "torch"
    assert type(open_predictor(own_run, "auto", device="cpu")) is Predictor
    with pytest.raises(UserError, match="Unknown backend 'tpu'"):
        open_predictor(own_run, "tpu")


def test_auto_is_chosen_by_the_cpu_flags(monkeypatch):
    from engine import hardware
    from engine.use import backends

    monkeypatch.setattr(hardware, "cpu_has_fast_bf16", lambda: False)
    assert backends.choose_backend("cpu") == "onnx-int8"
    monkeypatch.setattr(hardware, "cpu_has_fast_bf16", lambda: True)
    has_openvino = backends.installed("openvino")
    assert backends.choose_backend("cpu") == (
        "torch" if not has_openvino else "openvino-int8" if backends.installed("nncf")
        else "openvino")
    monkeypatch.setattr(backends, "installed", lambda name: name != "openvino")
    assert backends.choose_backend("cpu") == "torch"


def test_auto_keeps_full_precision_for_a_run_whose_int8_answers_differ(own_run, monkeypatch):
    from engine import hardware
    from engine.use import backends, onnx_predictor

    monkeypatch.setattr(hardware, "cpu_has_fast_bf16", lambda: False)  # auto -> onnx-int8
    monkeypatch.setattr(onnx_predictor.OnnxPredictor, "agreement", property(
        lambda self: {"top1_agreement": 0.9 if self.backend == "onnx-int8" else 1.0}))
    assert backends.open_predictor(own_run, "auto", device="cpu").backend == (
        "openvino" if backends.installed("openvino") else "torch")
    monkeypatch.setattr(hardware, "cpu_has_fast_bf16", lambda: True)  # auto -> openvino/torch
    monkeypatch.setattr(onnx_predictor.OnnxPredictor, "agreement", property(
        lambda self: {"top1_agreement": 0.9}))
    assert backends.open_predictor(own_run, "auto", device="cpu").backend == "torch"


@pytest.mark.skipif("openvino-int8" not in ONNX_BACKENDS, reason="needs openvino and nncf")
def test_quantizing_mutes_only_nncfs_bars_not_other_threads(own_run, capsys):
    """NNCF's progress bars stay off standard output (where `predict` writes its answers)
    while lines printed meanwhile, by another thread or this one, still arrive."""
    import threading
    import time

    from engine.use import openvino_int8
    from engine.use.backends import open_predictor

    started = threading.Event()
    stop = threading.Event()

    def other_thread():
        started.wait(60)
        n = 0
        while not stop.is_set():
            print(f"other thread line {n}", flush=True)
            n += 1
            time.sleep(0.01)

    import nncf

    original = nncf.quantize

    def quantize(*args, **kwargs):
        started.set()
        time.sleep(0.05)  # the other thread prints while the quantization runs
        print("printed by the quantizing thread")
        return original(*args, **kwargs)

    writer = threading.Thread(target=other_thread)
    writer.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(nncf, "quantize", quantize)
            open_predictor(own_run, "openvino-int8")
    finally:
        stop.set()
        writer.join()
    out = capsys.readouterr().out
    assert "other thread line 0" in out
    assert "printed by the quantizing thread" in out
    assert "Statistics collection" not in out and "━" not in out
    from rich import get_console

    assert not get_console().quiet and openvino_int8._bars_users == 0  # put back


@pytest.mark.skipif("openvino-int8" not in ONNX_BACKENDS, reason="needs openvino and nncf")
def test_overlapping_quantizations_in_two_threads_draw_no_bar(capsys):
    """The Prediction tab's worker and a server may quantize at once: the first to finish
    must not turn the bars back on under the second (swapping sys.stdout per thread did)."""
    import threading

    from rich import get_console
    from rich.progress import track

    from engine.use import openvino_int8

    first_in, second_in, first_out = (threading.Event() for _ in range(3))

    def first():
        with openvino_int8._progress_bars_off():
            first_in.set()
            second_in.wait(30)
        first_out.set()

    def second():
        first_in.wait(30)
        with openvino_int8._progress_bars_off():
            second_in.set()
            first_out.wait(30)  # the first one is done: this one still draws no bar
            for _ in track(range(3), description="Statistics collection"):
                pass

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert "Statistics collection" not in capsys.readouterr().out
    assert not get_console().quiet
    for _ in track(range(3), description="Statistics collection"):  # the control: bars draw
        pass
    assert "Statistics collection" in capsys.readouterr().out


def test_the_command_line_predicts_with_a_backend(own_run, learnable_split_dir, tmp_path,
                                                  capsys):
    from engine.use.backends import open_predictor

    out, heat = tmp_path / "onnx.json", tmp_path / "heat"
    folder = str(learnable_split_dir / "test")
    assert run_cli(["predict", str(own_run), folder, "--backend", "onnx", "--output", str(out),
                    "--explain", str(heat), "--top-k", "2"]) == 0
    assert "Preparing the onnx model" in capsys.readouterr().err
    expected = open_predictor(own_run, "onnx").predict([folder], top_k=2)
    assert json.loads(out.read_text("utf-8")) == [p.to_dict() for p in expected]
    assert len(list(heat.glob("*.png"))) == len(expected)  # heat maps: torch, beside onnx
    assert run_cli(["evaluate", str(own_run), "--backend", "onnx-int8"]) == 0
    assert "accuracy" in capsys.readouterr().out.lower()
