"""One process or several (torchrun / accelerate launch): the Accelerator and agreeing to stop."""
from __future__ import annotations

import os

import torch


def launched_distributed() -> bool:
    """True under torchrun / accelerate launch with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def make_accelerator(device_type: str):
    """An Accelerator for this process: plain single-device, or DDP when launched so.

    Mixed precision is done by our own autocast (Precision.autocast), so accelerate runs
    with mixed_precision='no'. Outside a distributed launch the shared accelerate state
    is reset first, so one process (the GUI) can train on cpu, then cuda, and so on.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    if not launched_distributed():
        try:
            AcceleratorState._reset_state(True)
        except AttributeError:  # older/newer accelerate without the reset hook
            pass
    return Accelerator(cpu=device_type == "cpu", mixed_precision="no")


def stop_requested(control, accelerator, world: int) -> bool:
    """Whether to stop now; with several processes they all agree (any one asked)."""
    if world == 1:
        return control.stop_requested
    flag = torch.tensor([1.0 if control.stop_requested else 0.0], device=accelerator.device)
    return bool(accelerator.reduce(flag, reduction="sum").item() > 0)
