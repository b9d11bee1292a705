"""What each bench mode measures (sizes, steps, models) and the shared context.

full  : the issue's figures (ViT-B/32-shaped model, 1,000 photos, growth to 20k); < 15 min
        on a quiet 2-core CPU.
quick : the same measurements, smaller (ViT-B/32 width but 2 blocks, 260 photos, growth to
        1k); < 3 min.
smoke : tiny model and 16 small images: proves the harness end to end (used by the tests).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.bench import fixtures


RUNS_DIR = "bench-runs"  # the bench's training runs (cleared at the start of each bench)


@dataclass(frozen=True)
class Plan:
    mode: str
    train_model: str  # fixtures.MODELS key for throughput, memory, prediction
    data: str  # fixtures.DATASETS key
    rounds: int  # interleaved rounds (A B C ...) per contender
    steps: int  # timed steps per window
    last_n: int  # lora_last_n_blocks for the fast mode
    acc_model: str  # model for the accuracy comparison of the fast modes
    acc_epochs: int
    probe_epochs: int
    acc_last_n: int
    growth_model: str
    growth_sizes: tuple[int, ...]
    single_images: int  # prediction latency samples
    gui_runs: int
    gui_train_epochs: int
    memory_steps: int
    child_timeout_s: float
    batch_size: int = 32
    folder_images: int = 160  # prediction: images in the folder both predict
    reference_memory: bool = True  # also measure the tutorial loop's peak memory
    throughput_val: int = 2  # val images per class in throughput runs (their zero-shot pass)
    # GPU section (section 8): models, batch sizes and the tutorial's job, on a GPU only,
    # except in smoke mode, where the same code runs on the CPU with the tiny model
    gpu_models: tuple[str, ...] = ("vit-b32", "vit-b16")
    gpu_batches: tuple[int, ...] = (32, 256)
    gpu_steps: int = 20  # timed steps per window (three windows, median)
    gpu_job_epochs: int = 10
    gpu_on_cpu: bool = False
    compile_variant: bool = False  # section 1b also times torch.compile (a minute to compile)
    variant_steps: int = 4  # section 1b: timed steps per window (short windows are noisy)
    job_epochs: int = 10  # section 1c: the tutorial's whole job on a slice of the photos
    job_train_per_class: int = 24
    job_val_per_class: int = 8
    map_points: int = 20000  # section 9: embeddings laid out on the dataset map
    sort_images: int = 1000  # section 9: images embedded by the training model (cold)
    # section 7 (engine.bench.sections_memory): a ViT-L/14-shaped LoRA step with and without
    # gradient checkpointing; 32 is the batch, 8 fits a small shared CPU machine
    checkpointing_batches: tuple[int, ...] = (8, 32)
    checkpointing_steps: int = 2  # timed steps after one warm-up step


PLANS = {
    "full": Plan("full", "vit-b32", "photos-1000", rounds=3, steps=2, last_n=4,
                 acc_model="small-64", acc_epochs=3, probe_epochs=10, acc_last_n=4,
                 growth_model="small-224", growth_sizes=(1000, 5000, 20000), single_images=12,
                 gui_runs=2, gui_train_epochs=2, memory_steps=2, child_timeout_s=600,
                 folder_images=48, reference_memory=False, compile_variant=True),
    "quick": Plan("quick", "vit-b32-2l", "photos-260", rounds=2, steps=2, last_n=1,
                  acc_model="small-64", acc_epochs=2, probe_epochs=10, acc_last_n=4,
                  growth_model="small-224", growth_sizes=(250, 1000), single_images=10,
                  gui_runs=1, gui_train_epochs=1, memory_steps=2, child_timeout_s=300,
                  folder_images=40, reference_memory=False, gpu_models=("vit-b32",),
                  gpu_steps=10, map_points=5000, sort_images=260, checkpointing_batches=(8,),
                  checkpointing_steps=1),
    "smoke": Plan("smoke", "tiny", "photos-16", rounds=2, steps=1, last_n=1,
                  acc_model="tiny", acc_epochs=1, probe_epochs=2, acc_last_n=1,
                  growth_model="tiny", growth_sizes=(16, 32), single_images=3,
                  gui_runs=1, gui_train_epochs=1, memory_steps=1, child_timeout_s=180,
                  batch_size=4, gpu_models=("tiny",), gpu_batches=(4, 8), gpu_steps=2,
                  gpu_job_epochs=2, gpu_on_cpu=True, variant_steps=1, job_epochs=2, job_train_per_class=4,
                  job_val_per_class=2, map_points=300,
                  sort_images=16, checkpointing_batches=(4,), checkpointing_steps=1),
}


@dataclass
class Context:
    """Shared by the sections: fixtures (made once), options, and figures sections reuse."""

    plan: Plan
    root: Path  # bench_out/: fixtures, caches, runs
    device: str = "auto"
    log: Callable[[str], None] = print
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. the engine's step rate

    def model(self, name: str) -> Path:
        return fixtures.ensure_model(self.root, name)

    def image_size(self, name: str | None = None) -> int:
        """Input size of a bench model (default: the training section's)."""
        return fixtures.MODELS[name or self.plan.train_model].image_size

    def blocks(self, name: str | None = None) -> int:
        """Encoder blocks of a bench model (default: the training section's)."""
        return fixtures.MODELS[name or self.plan.train_model].layers

    def dataset(self, name: str | None = None) -> Path:
        return fixtures.ensure_dataset(self.root, name or self.plan.data)

    def index(self, name: str | None = None):
        """The scanned DatasetIndex of a bench dataset (scanned once per bench)."""
        key = f"index:{name or self.plan.data}"
        if key not in self.shared:
            from engine.data.index import scan_dataset

            self.shared[key] = scan_dataset(self.dataset(name))
        return self.shared[key]

    def config(self, model: str | None = None, data: str | None = None, **changes):
        """A TrainConfig on bench fixtures: fixed epochs (no early stop), bench folders."""
        from engine.config import TrainConfig

        base = TrainConfig(data_dir=str(self.dataset(data)),
                           model=str(self.model(model or self.plan.train_model)),
                           output_dir=str(self.root / RUNS_DIR),
                           cache_dir=str(self.root / "cache"), batch_size=self.plan.batch_size,
                           epochs=10,
                           early_stop_patience=0, device=self.device, seed=0)
        return base.replace(**changes)

    def throughput_index(self):
        """The dataset with a token validation split: a throughput run's zero-shot pass is
        set-up time, not part of any measured window, so it is kept short."""
        key = "index:throughput"
        if key not in self.shared:
            self.shared[key] = trim_split(self.index(), "val", self.plan.throughput_val)
        return self.shared[key]

    def samples(self, split: str = "train", name: str | None = None) -> list[tuple[str, int]]:
        return [(s.path, s.label) for s in self.index(name).split(split)]


def trim_split(index, split: str, per_class: int):
    """A DatasetIndex keeping only the first `per_class` samples of `split` per class."""
    import dataclasses

    seen: dict[int, int] = {}
    kept = []
    for s in index.samples:
        if s.split == split:
            seen[s.label] = seen.get(s.label, 0) + 1
            if seen[s.label] > per_class:
                continue
        kept.append(s)
    return dataclasses.replace(index, samples=kept)


__all__ = ["Plan", "PLANS", "Context", "trim_split", "RUNS_DIR"]
