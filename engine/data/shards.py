"""One job shared by the processes of a torchrun / accelerate launch: which files each
process handles, and the results gathered back on the first process in input order.

Without such a launch (WORLD_SIZE unset or 1) `start()` returns None and callers work as
one process always did. Launched with N processes, the files go out in whole batches,
batch j to process j % N: each process sees exactly the batches one process would have
formed (so its numbers are bit-identical to one process's), and the work stays even
when the folder is sorted by anything that costs time.

The processes talk over gloo (CPU tensors, also on GPU machines: what travels is a few
numbers per image); each one computes on its own device (cuda:LOCAL_RANK where CUDA is
used). Results travel as JSON text or float tensors, never pickled objects.
"""
from __future__ import annotations

import atexit
import json
import os
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Shards:
    rank: int  # this process: 0 is the one that gathers, writes and prints
    world: int  # how many processes share the job

    @property
    def first(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """True under torchrun / accelerate launch with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start(device: str = "auto") -> Shards | None:
    """Join the launch's process group (once per process); None when not launched so.

    Where `device` may be CUDA, this process computes on cuda:LOCAL_RANK, so N processes
    on an N-GPU machine use one GPU each.
    """
    if not launched():
        return None
    import torch.distributed as dist

    if device in ("auto", "cuda") and torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local % torch.cuda.device_count())
    if not dist.is_initialized():
        dist.init_process_group("gloo")
        atexit.register(_finish)
    return Shards(dist.get_rank(), dist.get_world_size())


def wait_for_all(shards: Shards) -> None:
    """Each process waits here until every process got here."""
    import torch.distributed as dist

    dist.barrier()


def finish(shards: Shards | None) -> None:
    """The processes' last exchange: each waits until all got here (so none closes its
    connections while another still reads from it), then leaves the group. After this the
    first process may go on alone."""
    import torch.distributed as dist

    if shards is not None and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _finish() -> None:  # at exit, where an error ended the work before finish()
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def batches_of(count: int, batch_size: int, shards: Shards | None) -> list[int]:
    """The positions (of `count` items in order) this process handles: whole batches of
    `batch_size`, batch j going to process j % world. All of them without shards."""
    if shards is None:
        return list(range(count))
    size = max(1, batch_size)
    return [i for start in range(shards.rank * size, count, shards.world * size)
            for i in range(start, min(start + size, count))]


def _wire(tensor: torch.Tensor) -> torch.Tensor:
    """Where a tensor must be to travel: the group's backend decides (ours is gloo: CPU)."""
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return tensor.to(torch.device("cuda", torch.cuda.current_device()))
    return tensor.cpu()


def gather_tensors(tensor: torch.Tensor, shards: Shards) -> list[torch.Tensor] | None:
    """Every process's `tensor` (same dtype and number of dimensions, any first dimension),
    on the first process in rank order; None on the others. A process with no rows may
    hold any trailing shape: it gets the others' (so [0, 1] stands for "none" of [N, D])."""
    import torch.distributed as dist

    shape = _wire(torch.tensor(tensor.shape, dtype=torch.long))
    shapes = [torch.zeros_like(shape) for _ in range(shards.world)]
    dist.all_gather(shapes, shape)
    shapes = [s.cpu().tolist() for s in shapes]
    trailing = next((s[1:] for s in shapes if s[0] > 0), list(tensor.shape[1:]))
    most = max(1, max(s[0] for s in shapes))  # gloo wants no empty tensors
    padded = torch.zeros((most, *trailing), dtype=tensor.dtype)
    if tensor.shape[0]:
        padded[:tensor.shape[0]] = tensor
    padded = _wire(padded)
    received = [torch.zeros_like(padded) for _ in range(shards.world)] if shards.first else None
    dist.gather(padded, received, dst=0)
    if not shards.first:
        return None
    return [r[:s[0]].cpu() for r, s in zip(received, shapes)]


def gather_json(value: Any, shards: Shards) -> list[Any] | None:
    """Every process's JSON-able `value`, on the first process in rank order; None on the
    others."""
    parts = gather_tensors(_text(value), shards)
    return None if parts is None else [_value(p) for p in parts]


def _text(value: Any) -> torch.Tensor:
    return torch.frombuffer(bytearray(json.dumps(value).encode("utf-8")), dtype=torch.uint8)


def _value(text: torch.Tensor) -> Any:
    return json.loads(text.cpu().numpy().tobytes().decode("utf-8"))


def share_json(value: Any, shards: Shards) -> Any:
    """The first process's JSON-able `value`, on every process (`value` is ignored on the
    others)."""
    import torch.distributed as dist

    text = _text(value) if shards.first else torch.zeros(0, dtype=torch.uint8)
    size = _wire(torch.tensor([text.numel()], dtype=torch.long))
    dist.broadcast(size, src=0)
    wire = _wire(text if shards.first else torch.zeros(int(size.item()), dtype=torch.uint8))
    dist.broadcast(wire, src=0)
    return _value(wire)
