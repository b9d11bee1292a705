"""The compute format: frozen weights in bf16, the attention kernel per device, optional
compilation. Speed is the bench's business; these tests prove
the numerics stay what they were (within what bf16 allows) and the choices are reported."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.config import TrainConfig
from engine.model import compute_format as cf

pytestmark = pytest.mark.usefixtures("isolated_home")


def _classifier(tiny_clip_dir, dropout: float = 0.0):
    from engine.model.classifier import build_classifier

    model, info = build_classifier(str(tiny_clip_dir), ["a", "b", "c"], lora_dropout=dropout,
                                   seed=0)
    with torch.no_grad():  # LoRA B starts at 0: give the adapter a visible effect
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.05)
    return model, info


def test_frozen_layers_go_to_bf16_and_trainable_ones_stay_fp32(tiny_clip_dir):
    model, _ = _classifier(tiny_clip_dir)
    total_frozen = sum(p.numel() for m in cf.frozen_layers(model) for p in m.parameters())
    saved = cf.hold_frozen_weights_in(model.vision, torch.bfloat16)
    assert saved == total_frozen * 2  # 4 bytes -> 2 bytes each
    assert cf.hold_frozen_weights_in(model.vision, torch.bfloat16) == 0  # once is enough
    assert cf.hold_frozen_weights_in(model.vision, None) == 0  # fp32 runs: untouched
    dtypes = {name: p.dtype for name, p in model.named_parameters()}
    assert all(dtypes[n] == torch.float32 for n, p in model.named_parameters() if p.requires_grad)
    assert any("lora_A" in n for n in dtypes) and any("head" in n for n in dtypes)
    base = [n for n in dtypes if "base_layer.weight" in n or "patch_embedding" in n
            or "visual_projection" in n]
    assert base and all(dtypes[n] == torch.bfloat16 for n in base)
    norms = [n for n in dtypes if "layer_norm" in n or "layrnorm" in n]
    assert norms and all(dtypes[n] == torch.float32 for n in norms)


def test_bf16_weights_give_the_same_logits_as_fp32_weights_under_autocast(tiny_clip_dir):
    model, info = _classifier(tiny_clip_dir)
    model.eval()
    x = torch.randn(6, 3, info.image_size, info.image_size)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        before = model(x).float()
        cf.hold_frozen_weights_in(model.vision, torch.bfloat16)
        after = model(x).float()
    # autocast rounded the same weights to bf16 per call; now they are stored rounded
    torch.testing.assert_close(after, before, atol=2e-2 * before.abs().max().item(), rtol=0)


def test_attention_rule_and_switch(tiny_clip_dir):
    assert cf.choose_attention("auto", "cpu", "bf16")[0] == "eager"
    assert cf.choose_attention("auto", "cpu", "fp32")[0] == "sdpa"
    assert cf.choose_attention("auto", "cuda", "bf16")[0] == "sdpa"
    assert cf.choose_attention("sdpa", "cpu", "bf16") == ("sdpa", "as configured")
    model, info = _classifier(tiny_clip_dir)
    model.eval()
    x = torch.randn(3, 3, info.image_size, info.image_size)
    with torch.no_grad():
        cf.set_attention(model.vision, "sdpa")
        sdpa = model(x)
        cf.set_attention(model.vision, "eager")
        assert model.vision.base_model.model.config._attn_implementation == "eager"
        torch.testing.assert_close(model(x), sdpa, atol=1e-4, rtol=1e-4)


def _train(config: TrainConfig):
    from engine.training.loop import train

    events = list(train(config))
    assert events[-1].status == "completed", events[-1].error
    return events


def _config(tmp_path, tiny_clip_dir, learnable_split_dir, **kw) -> TrainConfig:
    return TrainConfig(data_dir=str(learnable_split_dir), model=str(tiny_clip_dir),
                       output_dir=str(tmp_path / "runs"), epochs=1, max_steps=3, batch_size=16,
                       device="cpu", num_threads=1, lora_dropout=0.0, early_stop_patience=0,
                       **kw)


def _weights(run_dir) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    tensors = load_file(f"{run_dir}/adapter/adapter_model.safetensors")
    tensors.update({f"head.{k}": v for k, v in load_file(f"{run_dir}/head.safetensors").items()})
    return tensors


def test_bf16_training_matches_fp32_weights_within_bf16_tolerance(tmp_path, tiny_clip_dir,
                                                                  learnable_split_dir,
                                                                  monkeypatch):
    """The same bf16 run with frozen weights held in bf16, and with them in fp32 (autocast
    rounding them each step): the trained adapter and head agree as far as bf16 allows."""
    fast = _train(_config(tmp_path / "a", tiny_clip_dir, learnable_split_dir, precision="bf16"))
    logs = " ".join(e.message for e in fast if e.kind == "log")
    assert "Frozen weights held in bf16" in logs and "Attention: eager" in logs
    monkeypatch.setattr(cf, "hold_frozen_weights_in", lambda model, dtype: 0)
    slow = _train(_config(tmp_path / "b", tiny_clip_dir, learnable_split_dir, precision="bf16"))
    assert "Frozen weights held" not in " ".join(e.message for e in slow if e.kind == "log")
    a, b = _weights(fast[-1].run_dir), _weights(slow[-1].run_dir)
    assert a.keys() == b.keys()
    for name in a:
        scale = b[name].abs().max().item() or 1.0
        torch.testing.assert_close(a[name], b[name], atol=3e-2 * scale, rtol=0, msg=name)
    steps = [{e.step: e.loss for e in events if e.kind == "step"} for events in (fast, slow)]
    assert steps[0].keys() == steps[1].keys() and steps[0]
    for step, loss in steps[0].items():
        assert loss == pytest.approx(steps[1][step], rel=0.02), step


def test_fp32_runs_keep_fp32_weights_and_sdpa(tmp_path, tiny_clip_dir, learnable_split_dir):
    events = _train(_config(tmp_path, tiny_clip_dir, learnable_split_dir, precision="fp32",
                            attention="auto"))
    logs = " ".join(e.message for e in events if e.kind == "log")
    assert "Attention: sdpa" in logs and "Frozen weights held" not in logs


def test_predictor_uses_bf16_merged_weights(run, learnable_split_dir):
    from engine.use.predict import Predictor

    images = sorted(str(p) for p in (learnable_split_dir / "test").rglob("*.jpg"))[:8]
    exact = Predictor(run, device="cpu", precision="fp32")
    fast = Predictor(run, device="cpu", precision="bf16")
    assert exact.attention == "sdpa" and fast.attention == "eager"
    linear = next(m for m in fast.model.vision.modules() if isinstance(m, nn.Linear))
    assert linear.weight.dtype == torch.bfloat16 and fast.model.head.weight.dtype == torch.float32
    p_exact = [dict(p.top) for p in exact.predict(images, top_k=3)]
    p_fast = [dict(p.top) for p in fast.predict(images, top_k=3)]
    for a, b in zip(p_exact, p_fast):
        for label in set(a) & set(b):
            assert a[label] == pytest.approx(b[label], abs=0.03)


@pytest.mark.slow
def test_compile_is_a_progress_phase_and_changes_nothing(tmp_path, tiny_clip_dir,
                                                         learnable_split_dir):
    plain = _train(_config(tmp_path / "a", tiny_clip_dir, learnable_split_dir, precision="fp32"))
    compiled = _train(_config(tmp_path / "b", tiny_clip_dir, learnable_split_dir,
                              precision="fp32", compile=True))
    stages = [e.stage for e in compiled if e.kind == "progress"]
    assert "compile" in stages
    started = next(i for i, e in enumerate(compiled) if e.kind == "run_started")
    assert max(i for i, e in enumerate(compiled) if getattr(e, "stage", "") == "compile") < started
    assert any(e.kind == "log" and e.message.startswith("Compiled the model") for e in compiled)
    a, b = _weights(compiled[-1].run_dir), _weights(plain[-1].run_dir)
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-4, rtol=1e-3, msg=name)


def test_a_failed_compile_only_costs_the_speed_up(tmp_path, tiny_clip_dir, learnable_split_dir,
                                                  monkeypatch):
    def no_compiler(module, *args, **kwargs):
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

    monkeypatch.setattr(torch, "compile", no_compiler)
    events = _train(_config(tmp_path, tiny_clip_dir, learnable_split_dir, precision="fp32",
                            compile=True))
    warnings = [e.message for e in events if e.kind == "log" and e.level == "warning"]
    assert any("could not be compiled" in w and "C++ compiler" in w for w in warnings)
