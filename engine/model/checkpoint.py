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
from safetensors.torch import save_file

from engine.i18n import _
from engine.model.classifier import ImageClassifier, LinearHead
from engine.model.safety import check_tensor_fit
from engine.safe_read import RESTORE, RESUME_ADVICE, damaged, read_json, read_safetensors, read_torch_state, short_detail

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


def _read(reader, path: Path, advice: str, **kwargs):
    """reader(path), where a missing file of a saved folder is damage too."""
    try:
        return reader(path, advice=advice, **kwargs)
    except FileNotFoundError:
        raise damaged(path, _("is missing"), advice=advice) from None


def load_weights(folder: str | Path, model: ImageClassifier, *, advice: str = RESTORE) -> None:
    """Load adapter + head saved by write_weights into an existing classifier, in place.

    Every tensor is checked against the model first (names and shapes): a file that does
    not fit raises DamagedRunError naming it, and nothing of the model has changed.
    """
    folder = Path(folder)
    head_path = folder / "head.safetensors"
    rows, cols = model.head.weight.shape
    saved = LinearHead.from_saved(_read(read_safetensors, head_path, advice), str(head_path),
                                  num_classes=rows, dim=cols, advice=advice)
    peft_model = _peft_model(model)
    if peft_model is not None:
        from peft import set_peft_model_state_dict
        from peft.utils import get_peft_model_state_dict

        adapter = folder / "adapter" / "adapter_model.safetensors"
        tensors = _read(read_safetensors, adapter, advice)
        expected = {k: tuple(v.shape) for k, v in get_peft_model_state_dict(peft_model).items()}
        check_tensor_fit(adapter, tensors, expected, _("the model of this run"), advice)
        set_peft_model_state_dict(peft_model, tensors)
    with torch.no_grad():
        model.head.weight.copy_(saved.weight)
        model.head.bias.copy_(saved.bias)
        model.head.temperature.copy_(saved.temperature)


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


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _ints(v) -> bool:
    return isinstance(v, list) and all(_is_int(x) for x in v)


# What state.json must hold for a resume (Tracker fields, RNG details): (field, check, optional)
_STATE_FIELDS = (
    ("state.step", _is_int, False), ("state.epoch", _is_int, False),
    ("state.bad_epochs", _is_int, True), ("state.best_accuracy", _is_num, True),
    ("state.best_epoch", _is_int, True), ("state.best_step", _is_int, True),
    ("state.zero_shot", _is_num, True), ("state.elapsed_before", _is_num, True),
    ("state.steps_per_epoch", _is_int, True), ("rng.numpy.kind", lambda v: isinstance(v, str), False),
    ("rng.numpy.pos", _is_int, False), ("rng.numpy.has_gauss", _is_int, False),
    ("rng.numpy.cached_gaussian", _is_num, False), ("rng.python.version", _is_int, False),
    ("rng.python.state", _ints, False), ("rng.python.gauss_next", _is_num, True),
    ("scaler", lambda v: isinstance(v, dict), True))


def _field(doc: dict, dotted: str):
    for part in dotted.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def read_state(folder: str | Path) -> dict[str, Any]:
    """state.json of a checkpoint, checked field by field (DamagedRunError when it is off)."""
    path = Path(folder) / "state.json"
    doc = _read(read_json, path, RESUME_ADVICE)
    for dotted, valid, optional in _STATE_FIELDS:
        value = _field(doc, dotted)
        if not (valid(value) or (optional and value is None)):
            raise damaged(path, _("has the wrong contents"),
                          _("{field} is {value}").format(field=dotted,
                                                         value=json.dumps(value)[:40]),
                          RESUME_ADVICE)
    return doc


def read_rng(folder: str | Path) -> dict[str, torch.Tensor]:
    """rng.safetensors of a checkpoint: torch's CPU state, numpy's keys, CUDA states."""
    path = Path(folder) / "rng.safetensors"
    tensors = _read(read_safetensors, path, RESUME_ADVICE)
    cpu, keys = tensors.get("torch_cpu"), tensors.get("numpy_keys")
    odd = [k for k in tensors if k not in ("torch_cpu", "numpy_keys") and not k.startswith("cuda_")]
    if cpu is None or keys is None or odd or cpu.dtype != torch.uint8 or \
            cpu.shape != torch.get_rng_state().shape or tuple(keys.shape) != (624,):
        names = ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(tensors.items())[:3])
        raise damaged(path, _("does not hold random generator states"),
                      _("it has {tensors}").format(tensors=names), RESUME_ADVICE)
    return tensors


def read_optimizer(folder: Path, map_location=None, expected: list | None = None):
    """(optimizer state, scheduler state) of a checkpoint, checked for their structure and,
    given `expected` (the shapes of the trained parameters), for the shapes of Adam's moments."""
    opt_path, sched_path = folder / "optimizer.pt", folder / "scheduler.pt"
    opt = _read(read_torch_state, opt_path, RESUME_ADVICE, map_location=map_location)
    sched = _read(read_torch_state, sched_path, RESUME_ADVICE)
    groups = opt.get("param_groups")
    if not isinstance(opt.get("state"), dict) or not isinstance(groups, list) or not groups or \
            not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups):
        raise damaged(opt_path, _("does not hold an optimizer state"), advice=RESUME_ADVICE)
    if not _is_int(sched.get("last_epoch")) or not isinstance(sched.get("base_lrs"), list) or \
            len(sched["base_lrs"]) != len(groups):
        raise damaged(sched_path, _("does not hold this run's learning-rate schedule"),
                      advice=RESUME_ADVICE)
    if expected is not None:
        count = sum(len(g["params"]) for g in groups)
        shapes = sorted(tuple(v.shape) for st in opt["state"].values() if isinstance(st, dict)
                        for k, v in st.items() if isinstance(v, torch.Tensor) and v.ndim)
        allowed = set(map(tuple, expected))
        odd = [sh for sh in shapes if sh not in allowed]
        if count != len(expected) or odd:
            detail = (_("a saved state has shape {shape}").format(shape=list(odd[0])) if odd else
                      _("it trains {count} tensors, the run {expected}").format(
                          count=count, expected=len(expected)))
            raise damaged(opt_path, _("does not fit this run"), detail, RESUME_ADVICE)
    return opt, sched


def _apply(path: Path, load) -> None:
    """load(), where a saved state that the live object rejects names the file."""
    try:
        load()
    except Exception as exc:  # KeyError, ValueError, RuntimeError...: the state is not this run's
        raise damaged(path, _("does not fit this run"), short_detail(exc),
                      RESUME_ADVICE) from None


def _check_optimizer(path: Path, optimizer) -> None:
    """Per-parameter state (Adam's moments) must have its parameter's shape; torch does not
    check that, and the first step after resuming would fail."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            for key, value in optimizer.state.get(param, {}).items():
                if isinstance(value, torch.Tensor) and value.ndim and value.shape != param.shape:
                    raise damaged(path, _("does not fit this run"),
                                  _("a saved {key} has shape {shape}, its parameter {expected}")
                                  .format(key=key, shape=list(value.shape),
                                          expected=list(param.shape)), RESUME_ADVICE)


def load_checkpoint(folder: str | Path, model: ImageClassifier, optimizer, scheduler,
                    scaler=None, *, restore_rng: bool = True) -> dict[str, Any]:
    """Restore everything save_checkpoint wrote; returns the saved `state` dict.

    Every file is read and checked before anything is applied; a damaged one raises
    DamagedRunError naming it (the model, optimizer and RNGs are then left as they were,
    except for a state that only the live object can reject).
    """
    folder = Path(folder)
    doc = read_state(folder)
    device = next(iter(model.head.parameters())).device
    opt_path, sched_path = folder / "optimizer.pt", folder / "scheduler.pt"
    opt_state, sched_state = read_optimizer(folder, device)
    if len(opt_state["param_groups"]) != len(optimizer.param_groups):
        raise damaged(opt_path, _("does not fit this run"),
                      _("{saved} parameter groups, the run has {groups}").format(
                          saved=len(opt_state["param_groups"]), groups=len(optimizer.param_groups)),
                      RESUME_ADVICE)
    rng = read_rng(folder) if restore_rng else None
    load_weights(folder, model, advice=RESUME_ADVICE)
    _apply(opt_path, lambda: optimizer.load_state_dict(opt_state))
    _check_optimizer(opt_path, optimizer)
    _apply(sched_path, lambda: scheduler.load_state_dict(sched_state))
    if scaler is not None and doc.get("scaler"):
        _apply(folder / "state.json", lambda: scaler.load_state_dict(doc["scaler"]))
    if rng is not None:
        _apply(folder / "state.json", lambda: set_rng_state(rng, doc["rng"]))
    return doc["state"]


def check_resume(run_dir: str | Path) -> None:
    """Before a resume spends time loading the base model: every file it will read is
    readable and fits run.json (and the base model's config, when it can be read).

    Raises DamagedRunError naming the first damaged file. A folder that is not a run or has
    no checkpoint is left to train(), which explains those.
    """
    from engine.config import TrainConfig
    from engine.model.backbones import by_name
    from engine.model.classifier import adapter_shapes
    from engine.model.safety import check_model_fields
    from engine.runs import read_run

    run_dir = Path(run_dir)
    last = resolve_dir(run_dir / "checkpoints" / "last")
    if not (run_dir / "run.json").is_file() or last is None:
        return
    meta = read_run(run_dir)  # also checks that its config reads back
    check_model_fields(meta, run_dir / "run.json")
    config = TrainConfig.from_dict(meta.get("config") or {})
    read_state(last)
    read_rng(last)
    expected = None
    if config.method == "lora":
        family = by_name(meta["base_model"].get("family"))
        vision_config = _vision_config(meta["base_model"]["ref"], family)
        if vision_config is not None:
            lora = dict(r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=(
                family.lora_target_regex(config.target_modules, family.num_blocks(vision_config),
                                         config.lora_last_n_blocks)))  # as build_classifier has it
            expected = adapter_shapes(vision_config, lora, run_dir / "run.json")
    n, dim = len(meta["class_names"]), int(meta["base_model"]["projection_dim"])
    trained = None if config.method == "lora" and expected is None else \
        list((expected or {}).values()) + [(n, dim), (n,)]
    read_optimizer(last, "cpu", trained)
    for folder in (last, run_dir / "checkpoints" / "best"):
        if folder == last or (folder / "head.safetensors").is_file():
            _check_saved_weights(folder, meta, config.method == "lora", expected)


def _vision_config(ref: str, family):
    """The base model's image tower config (config.json only), or None when it cannot be
    read here: training will then say why the base model does not load."""
    from transformers import AutoConfig

    from engine.model.classifier import quiet_transformers

    try:
        with quiet_transformers():
            return family.vision_config(AutoConfig.from_pretrained(ref))
    except Exception:  # offline, moved folder...: not this check's business
        return None


def _check_saved_weights(folder: Path, meta: dict, lora: bool, expected: dict | None) -> None:
    head = folder / "head.safetensors"
    LinearHead.from_saved(_read(read_safetensors, head, RESUME_ADVICE), str(head),
                          num_classes=len(meta["class_names"]),
                          dim=int(meta["base_model"]["projection_dim"]), advice=RESUME_ADVICE)
    if lora:
        adapter = folder / "adapter" / "adapter_model.safetensors"
        tensors = _read(read_safetensors, adapter, RESUME_ADVICE)
        if expected is not None:
            check_tensor_fit(adapter, tensors, expected, _("the model of this run"), RESUME_ADVICE)
