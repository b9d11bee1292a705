"""Device, number format and thread count: what 'auto' means on this machine.

device 'auto'    = cuda > mps > cpu.
precision 'auto' = bf16 autocast where the hardware computes bf16 natively (CUDA GPUs
                   with bf16, CPUs with AVX-512 BF16 / AMX), fp16 + loss scaling on
                   older CUDA GPUs, fp32 everywhere else. On a CPU without native bf16,
                   bf16 matmuls are emulated and many times *slower* than fp32, so auto
                   must not pick it there.
"""
from __future__ import annotations

import contextlib
import functools
import os
import platform
import time
from dataclasses import dataclass

import torch

from engine.errors import UserError
from engine.i18n import _


@dataclass(frozen=True)
class Precision:
    name: str  # "bf16" | "fp16" | "fp32"
    device_type: str  # "cpu" | "cuda" | "mps"

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, or None for plain fp32."""
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.name)

    @property
    def needs_grad_scaler(self) -> bool:
        # fp16 gradients underflow without loss scaling; bf16 has fp32's exponent range.
        return self.name == "fp16" and self.device_type == "cuda"

    def autocast(self) -> contextlib.AbstractContextManager:
        """Context for forward passes: mixed precision where chosen, nothing otherwise."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)


def resolve_device_type(name: str) -> str:
    """'auto' | 'cpu' | 'cuda' | 'mps' -> an available device type, or a UserError."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if name == "cuda" and not cuda:
        raise UserError(_("Device 'cuda' was chosen but no CUDA GPU is usable here (or this "
                          "torch build has no CUDA support). Choose device 'auto' or 'cpu'."))
    if name == "mps" and not mps:
        raise UserError(_("Device 'mps' was chosen but Apple's Metal backend is not available "
                          "here. Choose device 'auto' or 'cpu'."))
    if name not in ("cpu", "cuda", "mps"):
        raise UserError(_("Unknown device '{name}': choose auto, cpu, cuda or mps.").format(
            name=name))
    return name


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _bf16_matmul_speedup(n: int = 256, reps: int = 5) -> float:
    """fp32 time / bf16 time of a small matmul (> 1 means bf16 is faster)."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)

    def timed(x, y) -> float:
        x @ y  # warm-up (oneDNN picks its kernel here)
        start = time.perf_counter()
        for _rep in range(reps):
            x @ y
        return time.perf_counter() - start

    fp32 = timed(a, b)
    bf16 = timed(a.bfloat16(), b.bfloat16())
    return fp32 / max(bf16, 1e-9)


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True when this CPU computes bf16 natively (AVX-512 BF16 or AMX) or measurably fast."""
    flags = _cpu_flags()
    if flags:  # Linux: the flags say it exactly
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    mkldnn_bf16 = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    if platform.machine().lower() in ("x86_64", "amd64") and mkldnn_bf16 is not None \
            and not mkldnn_bf16():
        return False
    try:  # other systems (macOS, Windows, ARM): measure instead of guessing
        return _bf16_matmul_speedup() > 1.2
    except RuntimeError:
        return False


@functools.lru_cache(maxsize=1)
def cpu_has_vnni() -> bool:
    """True when int8 matrix products cannot saturate here: x86 with VNNI (AVX-512 VNNI,
    AVX-VNNI or AMX), or an ARM CPU (its int8 dot products widen to 32 bits). Without VNNI,
    x86 multiplies u8 x s8 pairs into 16-bit sums (VPMADDUBSW), which overflow on large
    weights: ONNX Runtime's int8 then needs 7-bit weights (its `reduce_range`)."""
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return True
    return bool(_cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})


def resolve_precision(name: str, device_type: str) -> Precision:
    """'auto' | 'bf16' | 'fp16' | 'fp32' -> the Precision to train with on `device_type`."""
    if name == "auto":
        if device_type == "cuda":
            name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif device_type == "cpu":
            name = "bf16" if cpu_has_fast_bf16() else "fp32"
        else:  # mps: fp32 is the reliably supported training path
            name = "fp32"
    if name == "fp16" and device_type == "cpu":
        raise UserError(_("fp16 training is only supported on CUDA GPUs. Choose precision "
                          "'auto', 'bf16' or 'fp32' on a CPU."))
    if name not in ("bf16", "fp16", "fp32"):
        raise UserError(_("Unknown precision '{name}': choose auto, bf16, fp16 or fp32.").format(
            name=name))
    return Precision(name, device_type)


def set_threads(num_threads: int) -> int:
    """Use `num_threads` CPU threads for torch (0 = all cores); returns the number in use."""
    if num_threads > 0:
        torch.set_num_threads(num_threads)
    elif os.environ.get("OMP_NUM_THREADS") is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        torch.set_num_threads(max(1, cores or 1))
    return torch.get_num_threads()


def describe_device(device: torch.device) -> str:
    """Human words for the device, e.g. 'cuda:0 (NVIDIA H100)' or 'cpu (8 threads)'."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return _("cpu ({n} threads)").format(n=n) if n != 1 else _("cpu (1 thread)")
    return str(device)
