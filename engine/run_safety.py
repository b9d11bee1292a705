"""Reading a run folder safely: only JSON and safetensors, only a plain LoRA adapter.

A run folder may come from someone else. Loading it must never execute code: weights are
read from safetensors only (a pickled .bin/.pt is never loaded, whatever its name), and
the adapter config must describe a plain LoRA adapter. Every loader goes through
check_run_folder() before peft sees the folder.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


# peft acts on adapter_config.json: its "*_config" fields (megatron, loftq, eva, corda...)
# make it import modules or rewrite the base weights while loading, and AutoPeftModel
# imports auto_mapping's library. A plain LoRA adapter saved by LoRA Studio uses none
# of that beyond transformers' own auto_mapping, so anything else is refused.
_PLAIN_LORA_INITS = (True, False, "gaussian")


def _odd_adapter_fields(cfg: dict) -> list[str]:
    odd = [k for k, v in cfg.items() if k.endswith("_config") and v]
    if cfg.get("init_lora_weights", True) not in _PLAIN_LORA_INITS:
        odd.append("init_lora_weights")
    mapping = cfg.get("auto_mapping")
    if mapping and not (isinstance(mapping, dict)
                        and str(mapping.get("parent_library", "")).startswith("transformers.")):
        odd.append("auto_mapping")
    return odd


def _model_error(message: str):
    from engine.model import ModelLoadError  # torch-heavy module: imported when needed

    return ModelLoadError(message)


def check_run_folder(run_dir: str | os.PathLike) -> dict:
    """Refuse a run folder that would make loading do more than read JSON + safetensors.

    Weights must be safetensors (a pickled .bin/.pt is never loaded, whatever its name),
    and the adapter config must describe a plain LoRA adapter. Returns run.json.
    """
    run_dir = Path(run_dir)
    try:
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _model_error(f"{run_dir} is not a LoRA Studio run folder (run.json is missing).") from None
    except (OSError, ValueError) as exc:
        raise _model_error(f"{run_dir}/run.json cannot be read ({exc}).") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("base_model"), dict) or \
            not all(isinstance(n, str) for n in meta.get("class_names") or [None]):
        raise _model_error(f"{run_dir}/run.json does not describe a trained classifier "
                           "(base_model or class_names missing).")
    adapter = run_dir / "adapter"
    if meta.get("method", "lora") == "lora" or adapter.exists():
        _check_adapter(adapter)
    return meta


def _check_adapter(adapter: Path) -> None:
    try:
        cfg = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _model_error(f"{adapter} is missing or has no adapter_config.json: the LoRA "
                           "weights of this run were never saved.") from None
    except (OSError, ValueError) as exc:
        raise _model_error(f"{adapter}/adapter_config.json cannot be read ({exc}).") from None
    cfg = cfg if isinstance(cfg, dict) else {}
    if cfg.get("peft_type") != "LORA":
        raise _model_error(f"{adapter} does not hold a LoRA adapter (peft_type "
                           f"{cfg.get('peft_type')!r}).")
    odd = _odd_adapter_fields(cfg)
    if odd:
        raise _model_error(f"{adapter}/adapter_config.json asks for {', '.join(odd)}, which a "
                           "LoRA Studio adapter never uses; the run folder is refused.")
    if not (adapter / "adapter_model.safetensors").is_file():
        others = sorted(p.name for p in adapter.iterdir() if p.suffix in (".bin", ".pt", ".pth"))
        hint = f" ({', '.join(others)} is a pickle file and is never loaded)" if others else ""
        raise _model_error(f"{adapter} has no adapter_model.safetensors{hint}. LoRA Studio only "
                           "loads weights saved as safetensors.")
