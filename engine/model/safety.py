"""What a run folder's model files must be: only a plain LoRA adapter, tensors that fit the
model exactly, run.json model fields of the right kinds.

A run folder may come from someone else. Loading it must never execute code: weights are
read from safetensors only (a pickled .bin/.pt is never loaded, whatever its name), and
the adapter config must describe a plain LoRA adapter. Every loader goes through
check_run_folder() before peft sees the folder. The files themselves are read with
engine.safe_read, so damage becomes one plain message naming the file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.errors import DamagedRunError, ModelLoadError
from engine.i18n import N_, _
from engine.safe_read import FIT_ADVICE, RESTORE, damaged, read_json


def check_tensor_fit(path: str | os.PathLike, saved: dict, expected: dict, fits: str,
                     advice: str = FIT_ADVICE) -> None:
    """Refuse tensors (`saved`: name -> tensor or shape) that are not exactly the ones the
    model needs (`expected`: name -> shape): a silent partial load is worse than a message.
    `fits` names what they must fit ("the model of this run"), translated or marked N_()."""
    shape = lambda v: tuple(getattr(v, "shape", v))  # noqa: E731
    what = _("does not fit {fits}").format(fits=_(fits))
    missing = sorted(set(expected) - set(saved))
    unknown = sorted(set(saved) - set(expected))
    if missing or unknown:
        parts = [_("{n} tensor(s) the model needs are missing, e.g. {name}").format(
            n=len(missing), name=missing[0])] if missing else []
        parts += [_("{n} tensor(s) are not part of the model, e.g. {name}").format(
            n=len(unknown), name=unknown[0])] if unknown else []
        raise damaged(path, what, "; ".join(parts), advice)
    for name in sorted(expected):
        if shape(saved[name]) != tuple(expected[name]):
            raise damaged(path, what, _("{name} has shape {shape}, the model needs {needed}")
                          .format(name=name, shape=list(shape(saved[name])),
                                  needed=list(expected[name])), advice)


# --- run.json and adapter_config.json ------------------------------------------------------
def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _triple(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 3 and all(_number(v) for v in value)


_BASE_FIELDS = (("ref", lambda v: isinstance(v, str) and v, N_("a model id or folder")),
                ("image_size", lambda v: _whole(v) and v > 0, N_("a whole number")),
                ("projection_dim", lambda v: _whole(v) and v > 0, N_("a whole number")),
                ("mean", _triple, N_("a list of 3 numbers")),
                ("std", _triple, N_("a list of 3 numbers")),
                ("logit_scale", _number, N_("a number")),
                # absent in runs made before backbone families: CLIP
                ("family", lambda v: v is None or v in _family_names(),
                 N_("a backbone family LoRA Studio knows (clip, siglip, dinov2)")),
                # absent in runs made before the engine read the processor: CLIP's framing
                ("framing", lambda v: v is None or _framing(v) is not None,
                 N_("a framing: mode \"crop\" or \"squash\", whole numbers resize and crop "
                    "(crop at most resize), resample a PIL filter number (0-5)")))


def _framing(value: Any):
    """The engine.data.framing.Framing run.json describes, or None when it is not one."""
    from engine.data.framing import Framing

    if not isinstance(value, dict):
        return None
    try:
        return Framing.from_dict(value)
    except (KeyError, TypeError, ValueError):
        return None


def _family_names() -> set[str]:
    from engine.model.backbones import FAMILIES

    return {f.name for f in FAMILIES}


def _should_be(field: str, should: str, value: Any) -> str:
    """'<field> should be <should>, not <value>' (`should` marked N_(), translated here)."""
    return _("{field} should be {should}, not {value}").format(
        field=field, should=_(should), value=json.dumps(value)[:40])


def _wrong(path: Path, field: str, value: Any, should: str) -> DamagedRunError:
    return damaged(path, _("has the wrong contents"), _should_be(field, should, value))


def check_model_fields(meta: dict, path: Path) -> None:
    """The run.json fields loading a model relies on, with the types it relies on."""
    base = meta.get("base_model")
    names = meta.get("class_names")
    if base is None or names is None:
        raise ModelLoadError(_("{path} does not describe a trained classifier (base_model or "
                               "class_names missing).").format(path=path))
    if not isinstance(base, dict):
        raise _wrong(path, "base_model", base, N_("an object"))
    for key, valid, should in _BASE_FIELDS:
        if not valid(base.get(key)):
            raise _wrong(path, f"base_model.{key}", base.get(key), should)
    framing = _framing(base.get("framing"))
    if framing is not None and framing.input_size != base["image_size"]:
        raise _wrong(path, "base_model.image_size", base["image_size"],
                     N_("the crop size of base_model.framing"))
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise _wrong(path, "class_names", names, N_("a list of class names"))
    classes = meta.get("classes")
    if classes is not None and not (isinstance(classes, list) and all(
            isinstance(c, dict) and isinstance(c.get("folder"), str) and
            isinstance(c.get("display_name"), str) for c in classes)):
        raise _wrong(path, "classes", classes, N_("a list of {folder, display_name}"))
    for key in ("config", "best"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise _wrong(path, key, meta[key], N_("an object"))


def check_run_folder(run_dir: str | os.PathLike) -> dict:
    """Refuse a run folder that would make loading do more than read JSON + safetensors,
    or whose run.json / adapter config is damaged.

    Weights must be safetensors (a pickled .bin/.pt is never loaded, whatever its name),
    and the adapter config must describe a plain LoRA adapter. Returns run.json.
    """
    run_dir = Path(run_dir)
    try:
        meta = read_json(run_dir / "run.json")
    except FileNotFoundError:
        raise ModelLoadError(_("{path} is not a LoRA Studio run folder (run.json is "
                               "missing).").format(path=run_dir)) from None
    check_model_fields(meta, run_dir / "run.json")
    adapter = run_dir / "adapter"
    if meta.get("method", "lora") == "lora" or adapter.exists():
        check_adapter_config(adapter)
    return meta


# peft acts on adapter_config.json: its "*_config" fields (megatron, loftq, eva, corda...)
# make it import modules or rewrite the base weights while loading, and AutoPeftModel
# imports auto_mapping's library. A plain LoRA adapter saved by LoRA Studio uses none
# of that beyond transformers' own auto_mapping, so anything else is refused.
_PLAIN_LORA_INITS = (True, False, "gaussian")
_ADAPTER_FIELDS = (("r", lambda v: _whole(v) and v > 0, N_("a whole number")),
                   ("lora_alpha", _number, N_("a number")),
                   ("target_modules", lambda v: isinstance(v, str) or (
                       isinstance(v, list) and v and all(isinstance(t, str) for t in v)),
                    N_("a module name pattern or a list of module names")))


def _odd_adapter_fields(cfg: dict) -> list[str]:
    odd = [k for k, v in cfg.items() if k.endswith("_config") and v]
    if cfg.get("init_lora_weights", True) not in _PLAIN_LORA_INITS:
        odd.append("init_lora_weights")
    mapping = cfg.get("auto_mapping")
    if mapping and not (isinstance(mapping, dict)
                        and str(mapping.get("parent_library", "")).startswith("transformers.")):
        odd.append("auto_mapping")
    return odd


def check_adapter_config(adapter: Path, advice: str = RESTORE) -> dict:
    """adapter/adapter_config.json of a plain LoRA adapter, next to its safetensors weights."""
    path = adapter / "adapter_config.json"
    try:
        cfg = read_json(path, advice=advice)
    except FileNotFoundError:
        raise ModelLoadError(_("{path} is missing or has no adapter_config.json: the LoRA "
                               "weights of this run were never saved.").format(
            path=adapter)) from None
    if cfg.get("peft_type") != "LORA":
        raise ModelLoadError(_("{path} does not hold a LoRA adapter (peft_type {type}).").format(
            path=adapter, type=repr(cfg.get("peft_type"))))
    odd = _odd_adapter_fields(cfg)
    if odd:
        raise ModelLoadError(_("{path} asks for {fields}, which a LoRA Studio adapter never "
                               "uses; the run folder is refused.").format(
            path=path, fields=", ".join(odd)))
    for key, valid, should in _ADAPTER_FIELDS:
        if not valid(cfg.get(key)):
            raise damaged(path, _("has the wrong contents"), _should_be(key, should, cfg.get(key)),
                          advice)
    if not (adapter / "adapter_model.safetensors").is_file():
        others = sorted(p.name for p in adapter.iterdir() if p.suffix in (".bin", ".pt", ".pth"))
        if others:
            text = _("{path} has no adapter_model.safetensors ({files} is a pickle file and is "
                     "never loaded). LoRA Studio only loads weights saved as safetensors.")
        else:
            text = _("{path} has no adapter_model.safetensors. LoRA Studio only loads weights "
                     "saved as safetensors.")
        raise ModelLoadError(text.format(path=adapter, files=", ".join(others)))
    return cfg
