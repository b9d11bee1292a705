"""The GPU path, checked on the CPU: where the inputs live, and the bench's GPU section."""
from __future__ import annotations

import torch

from engine.training.inputs import GPU_SHARE, SplitRows, TrainData, fits_on_device, place_inputs


def _data(n=4) -> TrainData:
    rows = SplitRows(torch.arange(n), torch.zeros(n, dtype=torch.long), [f"{i}.jpg" for i in range(n)])
    return TrainData(torch.zeros(n, 3, 8, 8, dtype=torch.uint8), {"train": rows}, [], "")


def test_inputs_go_to_the_gpu_only_when_they_fit_a_share_of_its_free_memory():
    free = 8 * 2**30
    assert fits_on_device(int(free * GPU_SHARE), free)
    assert not fits_on_device(int(free * GPU_SHARE) + 1, free)


def test_on_the_cpu_the_inputs_stay_where_they_are():
    data = _data()
    placed, note = place_inputs(data, torch.device("cpu"))
    assert placed is data and note == ""


def test_a_gpu_too_small_keeps_the_inputs_on_the_host(monkeypatch):
    data = _data()
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (100, 1000))
    placed, note = place_inputs(data, torch.device("cuda"))
    assert placed is data and "stay in host memory" in note
