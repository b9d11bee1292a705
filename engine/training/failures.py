"""Turn whatever stopped a run into a message that says what happened and what to try."""
from __future__ import annotations

import errno

import torch

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _

_OOM_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory",
                "not enough memory", "failed to allocate")


def is_out_of_memory(exc: BaseException) -> bool:
    oom_type = getattr(torch, "OutOfMemoryError", None)
    if isinstance(exc, MemoryError) or (oom_type is not None and isinstance(exc, oom_type)):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _OOM_MARKERS)


def _oom_advice(config: TrainConfig, device: str) -> str:
    config = config.replace(batch_size=config.batch_size or 32)  # 0 (auto): the default
    half = max(1, config.batch_size // 2)
    tips = [_("a smaller batch size (e.g. {half}) with gradient accumulation {accum} to keep "
              "the same effective batch").format(
        half=half, accum=config.grad_accum * max(1, config.batch_size // half))]
    if config.method == "lora":
        if config.lora_last_n_blocks == 0 or config.lora_last_n_blocks > 4:
            tips.append(_("LoRA on the last 4 blocks only (lora_last_n_blocks 4)"))
        tips.append(_("the 'linear-probe' method, which needs far less memory"))
    if device.startswith("cuda"):
        tips.append(_("closing other programs that use the GPU"))
    return _("Training ran out of memory on {device} with batch size {batch_size}. "
             "Try {tips}.").format(device=device or _("this device"),
                                   batch_size=config.batch_size,
                                   tips=_("; ").join(tips))


def describe_failure(exc: BaseException, config: TrainConfig, device: str = "") -> str:
    """A plain message for RunFinished(status='failed').error."""
    if isinstance(exc, UserError):
        return str(exc)
    if is_out_of_memory(exc):
        return _oom_advice(config, device)
    if isinstance(exc, OSError):
        where = _(" ({file})").format(file=exc.filename) \
            if getattr(exc, "filename", None) else ""
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return _("The disk is full{where}. Free some space or choose another output "
                     "folder. Checkpoints already saved are intact, so the run can be resumed "
                     "from its last checkpoint.").format(where=where)
        if isinstance(exc, PermissionError):
            return _("LoRA Studio is not allowed to read or write a file{where}. Check the "
                     "folder's permissions or choose another output folder.").format(where=where)
        if isinstance(exc, FileNotFoundError):
            return _("A file disappeared while training{where}. Files must stay in place during "
                     "a run: restore it (or scan the dataset again) and start the run "
                     "again.").format(where=where)
        return _("A file could not be read or written{where}: {reason}. Check that the disk "
                 "or network folder is still available, then start the run again.").format(
            where=where, reason=exc.strerror or exc)
    return _("Training stopped because of an unexpected error ({type}: {error}). Try again; if "
             "it happens again, try the 'Quick (CPU)' preset or a smaller batch size, and "
             "report it together with the run folder's metrics.jsonl.").format(
        type=type(exc).__name__, error=exc)
