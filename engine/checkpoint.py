"""Checkpoints: the trained weights and everything needed to resume exactly.

A checkpoint folder holds
  adapter/               peft save_pretrained (absent for linear-probe)
  head.safetensors       LinearHead.state_for_saving()
  optimizer.pt           optimizer state (torch.save; read back with weights_only=True)
  scheduler.pt           LR scheduler state (same)
  rng.safetensors        torch / CUDA / numpy generator states as tensors
  state.json             step, epoch, best-so-far, python/numpy RNG details, scaler state
Nothing is pickled: a received run folder cannot execute code when loaded.

Every folder is written to a temp dir and renamed into place, so a crash or a full
disk mid-write leaves the previous checkpoint untouched.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from engine.model import ImageClassifier, LinearHead

STATE_VERSION = 1


# --- atomic folder replacement --------------------------------------------------------
def _tmp_sibling(final: Path, tag: str) -> Path:
    return final.with_name(f".{final.name}.{tag}-{os.getpid()}")


def replace_dir(tmp: Path, final: Path) -> None:
    """Move the finished `tmp` folder to `final`, replacing any previous `final`.

    POSIX cannot rename over a non-empty folder, so the old one is first moved aside;
    resolve_dir() falls back to it if we crash between the two renames.
    """
    old = _tmp_sibling(final, "old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def resolve_dir(final: str | Path) -> Path | None:
    """`final` if complete, else a moved-aside previous version, else None."""
    final = Path(final)
    if (final / "state.json").is_file() or (final / "head.safetensors").is_file():
        return final
    for old in sorted(final.parent.glob(f".{final.name}.old-*")):
        if (old / "head.safetensors").is_file():
            return old
    return None


def _write_folder(final: Path, write) -> Path:
    """Run write(tmp_folder), then rename it into place; clean up on any failure."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(final, "tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write(tmp)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# --- weights --------------------------------------------------------------------------
def _peft_model(model: ImageClassifier):
    from peft import PeftModel

    return model.vision if isinstance(model.vision, PeftModel) else None


def write_weights(folder: Path, model: ImageClassifier) -> None:
    """adapter/ (peft format, when LoRA is used) + head.safetensors into `folder`."""
    peft_model = _peft_model(model)
    if peft_model is not None:
        peft_model.save_pretrained(str(folder / "adapter"), safe_serialization=True)
    save_file(model.head.state_for_saving(), str(folder / "head.safetensors"))


def load_weights(folder: str | Path, model: ImageClassifier) -> None:
    """Load adapter + head saved by write_weights into an existing classifier, in place."""
    folder = Path(folder)
    peft_model = _peft_model(model)
    adapter = folder / "adapter" / "adapter_model.safetensors"
    if peft_model is not None:
        from peft import set_peft_model_state_dict

        result = set_peft_model_state_dict(peft_model, load_file(str(adapter)))
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise ValueError(f"the saved adapter does not match this model ({unexpected[:2]})")
    saved = LinearHead.from_saved(load_file(str(folder / "head.safetensors")))
    with torch.no_grad():
        model.head.weight.copy_(saved.weight)
        model.head.bias.copy_(saved.bias)


def save_weights(final: str | Path, model: ImageClassifier) -> Path:
    """Atomically write a weights-only folder (checkpoints/best)."""
    return _write_folder(Path(final), lambda tmp: write_weights(tmp, model))


def publish_weights(src: str | Path, run_dir: str | Path) -> None:
    """Copy a weights folder's adapter/ + head.safetensors to the top of the run folder.

    Each piece is replaced atomically, so the run always holds a loadable model.
    """
    src, run_dir = Path(src), Path(run_dir)
    if (src / "adapter").is_dir():
        tmp = _tmp_sibling(run_dir / "adapter", "tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            shutil.copytree(src / "adapter", tmp)
            replace_dir(tmp, run_dir / "adapter")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    head_tmp = run_dir / f".head.safetensors.{os.getpid()}.tmp"
    try:
        shutil.copyfile(src / "head.safetensors", head_tmp)
        os.replace(head_tmp, run_dir / "head.safetensors")
    finally:
        if head_tmp.exists():
            head_tmp.unlink()


# --- random number generators ---------------------------------------------------------
def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, json) describing torch, CUDA, numpy and python RNG states."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda_{i}"] = s
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["numpy_keys"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    version, internal, gauss_next = random.getstate()
    info = {"numpy": {"kind": kind, "pos": int(pos), "has_gauss": int(has_gauss),
                      "cached_gaussian": float(gauss)},
            "python": {"version": version, "state": list(internal), "gauss_next": gauss_next}}
    return tensors, info


def set_rng_state(tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("cuda_"))]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    n = info["numpy"]
    np.random.set_state((n["kind"], tensors["numpy_keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    p = info["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))


# --- full resume checkpoints ----------------------------------------------------------
def save_checkpoint(final: str | Path, model: ImageClassifier, optimizer, scheduler,
                    state: dict[str, Any], scaler=None) -> Path:
    """Atomically write checkpoints/last: weights + optimizer + scheduler + RNG + `state`."""

    def write(tmp: Path) -> None:
        write_weights(tmp, model)
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        tensors, rng_info = rng_state()
        save_file(tensors, str(tmp / "rng.safetensors"))
        doc = {"version": STATE_VERSION, "state": state, "rng": rng_info,
               "scaler": scaler.state_dict() if scaler is not None else None}
        (tmp / "state.json").write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")

    return _write_folder(Path(final), write)


def load_checkpoint(folder: str | Path, model: ImageClassifier, optimizer, scheduler,
                    scaler=None, *, restore_rng: bool = True) -> dict[str, Any]:
    """Restore everything save_checkpoint wrote; returns the saved `state` dict."""
    folder = Path(folder)
    doc = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    load_weights(folder, model)
    device = next(iter(model.head.parameters())).device
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", map_location=device,
                                         weights_only=True))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", weights_only=True))
    if scaler is not None and doc.get("scaler"):
        scaler.load_state_dict(doc["scaler"])
    if restore_rng:
        set_rng_state(load_file(str(folder / "rng.safetensors")), doc["rng"])
    return doc["state"]
