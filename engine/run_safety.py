"""Reading a run folder safely: only JSON and safetensors, only a plain LoRA adapter, and a
damaged file becomes one plain message.

A run folder may come from someone else. Loading it must never execute code: weights are
read from safetensors only (a pickled .bin/.pt is never loaded, whatever its name), and
the adapter config must describe a plain LoRA adapter. Every loader goes through
check_run_folder() before peft sees the folder.

A run folder may also be damaged: a file truncated by a full disk or a crash, emptied,
replaced by something else, or holding tensors of another run. Every file of a run is
read through the helpers here (read_json, read_safetensors, read_torch_state,
check_tensor_fit), which turn whatever the parser raises into a DamagedRunError naming the
file, saying what is wrong with it and what to do next, instead of a traceback.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.errors import DamagedRunError, ModelLoadError

RESTORE = "Train the run again, or restore the run folder from a backup."
FIT_ADVICE = ("Train the run again, or restore the run folder from a backup (or, if the base "
              "model was replaced, the base model the run was trained with).")
RESUME_ADVICE = ("Its last checkpoint cannot be resumed: start a new run, or restore the run "
                 "folder from a backup.")


# --- one message for every kind of damage ----------------------------------------------
def short_detail(exc: BaseException) -> str:
    """The parser's own words, on one short line (torch's run over several paragraphs)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def damaged(path: str | os.PathLike, what: str, detail: str = "",
            advice: str = RESTORE) -> DamagedRunError:
    """'<path> <what> (<detail>): the run folder is damaged. <advice>'"""
    detail = detail if len(detail) <= 240 else detail[:237] + "..."
    extra = f" ({detail})" if detail else ""
    return DamagedRunError(f"{path} {what}{extra}: the run folder is damaged. {advice}", str(path))


def _read_bytes(path: Path, advice: str) -> bytes:
    """The file's bytes; FileNotFoundError is left to the caller (missing is not damaged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise damaged(path, "is a folder instead of a file", advice=advice) from None
    except PermissionError as exc:
        raise DamagedRunError(f"{path} cannot be read ({exc.strerror}): check that you may "
                              "read the files of this run folder.", str(path)) from None
    except OSError as exc:
        raise damaged(path, "cannot be read", exc.strerror or short_detail(exc), advice) from None
    if not data:
        raise damaged(path, "is empty (0 bytes)", advice=advice)
    return data


def read_json(path: str | os.PathLike, *, expect: type | None = dict,
              advice: str = RESTORE) -> Any:
    """JSON from `path` (an object unless `expect` says otherwise), or a DamagedRunError."""
    path = Path(path)
    raw = _read_bytes(path, advice)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise damaged(path, "is truncated or not valid JSON", short_detail(exc), advice) from None
    if expect is not None and not isinstance(data, expect):
        raise damaged(path, "has the wrong contents",
                      f"it holds {_json_kind(data)} instead of a JSON object", advice)
    return data


def _json_kind(value: Any) -> str:
    for kind, name in ((bool, "true/false"), (str, "a text"), (list, "a list"), (dict, "an object"),
                       ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return "null"


def read_safetensors(path: str | os.PathLike, *, advice: str = RESTORE) -> dict:
    """Every tensor of a safetensors file (on the CPU), or a DamagedRunError naming it."""
    from safetensors.torch import load

    path = Path(path)
    raw = _read_bytes(path, advice)
    try:
        return load(raw)
    except Exception as exc:  # SafetensorError and friends: the bytes are not safetensors
        raise damaged(path, "is truncated or not a safetensors file", short_detail(exc),
                      advice) from None


def read_torch_state(path: str | os.PathLike, *, map_location=None,
                     advice: str = RESUME_ADVICE) -> dict:
    """An optimizer/scheduler state saved with torch.save, read with weights_only=True (no
    code can run), or a DamagedRunError naming the file."""
    import warnings

    import torch

    path = Path(path)
    _read_bytes(path, advice)  # missing, empty or unreadable: said plainly first
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes about pickle protocols of foreign files
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, a pickle asking to run code...
        raise damaged(path, "is truncated or not a state file saved by LoRA Studio",
                      _torch_detail(exc), advice) from None
    if not isinstance(state, dict):
        raise damaged(path, "has the wrong contents", f"it holds a {type(state).__name__}, "
                      "not a saved state", advice)
    return state


def _torch_detail(exc: BaseException) -> str:
    """torch.load's point, without its paragraphs of advice (to load unsafely: never here)."""
    text = " ".join(str(exc).split())
    if "WeightsUnpickler error:" in text:  # a pickle weights_only refuses to run
        reason = text.split("WeightsUnpickler error:", 1)[1].split(" Check the documentation")[0]
        return f"not plain tensors: {reason.strip().rstrip('.')}"
    return short_detail(text.split(". ")[0] or exc)


def check_tensor_fit(path: str | os.PathLike, saved: dict, expected: dict, fits: str,
                     advice: str = FIT_ADVICE) -> None:
    """Refuse tensors (`saved`: name -> tensor or shape) that are not exactly the ones the
    model needs (`expected`: name -> shape): a silent partial load is worse than a message."""
    shape = lambda v: tuple(getattr(v, "shape", v))  # noqa: E731
    missing = sorted(set(expected) - set(saved))
    unknown = sorted(set(saved) - set(expected))
    if missing or unknown:
        parts = [f"{len(missing)} tensor(s) the model needs are missing, e.g. {missing[0]}"] \
            if missing else []
        parts += [f"{len(unknown)} tensor(s) are not part of the model, e.g. {unknown[0]}"] \
            if unknown else []
        raise damaged(path, f"does not fit {fits}", "; ".join(parts), advice)
    for name in sorted(expected):
        if shape(saved[name]) != tuple(expected[name]):
            raise damaged(path, f"does not fit {fits}", f"{name} has shape "
                          f"{list(shape(saved[name]))}, the model needs {list(expected[name])}",
                          advice)


def safetensors_problem(path: str | os.PathLike) -> str:
    """Why `path` is not a complete safetensors file ('' if it looks fine), from its header
    alone: cheap enough for a run listing, and needs neither torch nor safetensors."""
    path = Path(path)
    what, detail = "is truncated or not a safetensors file", ""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if size == 0:
                what = "is empty (0 bytes)"
            elif size < 8 or not 2 <= n <= min(size - 8, 100_000_000):
                detail = "invalid header length"
            else:
                header = json.loads(fh.read(n).decode("utf-8"))
                end = max((int(v["data_offsets"][1]) for k, v in header.items()
                           if k != "__metadata__"), default=0)
                if 8 + n + end == size:
                    return ""
                detail = f"{size} bytes, the header describes {8 + n + end}"
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        detail = detail or short_detail(exc)
    return str(damaged(path, what, detail))


# --- run.json and adapter_config.json ------------------------------------------------------
def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _triple(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 3 and all(_number(v) for v in value)


_BASE_FIELDS = (("ref", lambda v: isinstance(v, str) and v, "a model id or folder"),
                ("image_size", lambda v: _whole(v) and v > 0, "a whole number"),
                ("projection_dim", lambda v: _whole(v) and v > 0, "a whole number"),
                ("mean", _triple, "a list of 3 numbers"), ("std", _triple, "a list of 3 numbers"),
                ("logit_scale", _number, "a number"))


def _wrong(path: Path, field: str, value: Any, should: str) -> DamagedRunError:
    shown = json.dumps(value)[:40]
    return damaged(path, "has the wrong contents", f"{field} should be {should}, not {shown}")


def check_model_fields(meta: dict, path: Path) -> None:
    """The run.json fields loading a model relies on, with the types it relies on."""
    base = meta.get("base_model")
    names = meta.get("class_names")
    if base is None or names is None:
        raise ModelLoadError(f"{path} does not describe a trained classifier (base_model or "
                             "class_names missing).")
    if not isinstance(base, dict):
        raise _wrong(path, "base_model", base, "an object")
    for key, valid, should in _BASE_FIELDS:
        if not valid(base.get(key)):
            raise _wrong(path, f"base_model.{key}", base.get(key), should)
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise _wrong(path, "class_names", names, "a list of class names")
    classes = meta.get("classes")
    if classes is not None and not (isinstance(classes, list) and all(
            isinstance(c, dict) and isinstance(c.get("folder"), str) and
            isinstance(c.get("display_name"), str) for c in classes)):
        raise _wrong(path, "classes", classes, "a list of {folder, display_name}")
    for key in ("config", "best"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise _wrong(path, key, meta[key], "an object")


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
        raise ModelLoadError(f"{run_dir} is not a LoRA Studio run folder (run.json is "
                             "missing).") from None
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
_ADAPTER_FIELDS = (("r", lambda v: _whole(v) and v > 0, "a whole number"),
                   ("lora_alpha", _number, "a number"),
                   ("target_modules", lambda v: isinstance(v, str) or (
                       isinstance(v, list) and v and all(isinstance(t, str) for t in v)),
                    "a module name pattern or a list of module names"))


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
        raise ModelLoadError(f"{adapter} is missing or has no adapter_config.json: the LoRA "
                             "weights of this run were never saved.") from None
    if cfg.get("peft_type") != "LORA":
        raise ModelLoadError(f"{adapter} does not hold a LoRA adapter (peft_type "
                             f"{cfg.get('peft_type')!r}).")
    odd = _odd_adapter_fields(cfg)
    if odd:
        raise ModelLoadError(f"{path} asks for {', '.join(odd)}, which a LoRA Studio adapter "
                             "never uses; the run folder is refused.")
    for key, valid, should in _ADAPTER_FIELDS:
        if not valid(cfg.get(key)):
            shown = json.dumps(cfg.get(key))[:40]
            raise damaged(path, "has the wrong contents", f"{key} should be {should}, not "
                          f"{shown}", advice)
    if not (adapter / "adapter_model.safetensors").is_file():
        others = sorted(p.name for p in adapter.iterdir() if p.suffix in (".bin", ".pt", ".pth"))
        hint = f" ({', '.join(others)} is a pickle file and is never loaded)" if others else ""
        raise ModelLoadError(f"{adapter} has no adapter_model.safetensors{hint}. LoRA Studio only "
                             "loads weights saved as safetensors.")
    return cfg
