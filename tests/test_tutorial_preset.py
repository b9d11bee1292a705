"""The "Tutorial recipe" preset is exactly the tutorial's recipe, as the bench's faithful
re-implementation of its loop (engine/bench/tutorial_reference.py) runs it: one AdamW over
LoRA and the head at 5e-4 with weight decay 0.01 on every parameter, cosine from 5e-4 to 0
over all steps without warm-up, no clipping, no augmentation, a random head, every epoch."""
from __future__ import annotations

import math
import warnings

import pytest
import torch

from engine.config import PRESETS, TrainConfig, apply_preset

pytestmark = pytest.mark.usefixtures("isolated_home")


def test_the_preset_names_every_point_of_the_recipe():
    preset = PRESETS["Tutorial recipe"]
    assert preset == {**preset, "method": "lora", "lora_r": 8, "lora_alpha": 32.0,
                      "lora_dropout": 0.1, "target_modules": ["q_proj", "v_proj"],
                      "lora_last_n_blocks": 0, "lr": 5e-4, "head_lr": 5e-4,
                      "weight_decay": 0.01, "decay_bias": True, "warmup_ratio": 0.0,
                      "grad_clip": 0.0, "augment": False, "batch_size": 32, "epochs": 10,
                      "head_init": "random", "early_stop_patience": 0}


def _tutorial_lrs(trainer, steps: int) -> list[float]:
    """The LR of each of the tutorial's optimizer steps (its CosineAnnealingLR, replayed on
    a stand-in optimizer so the trainer itself is not stepped)."""
    group = trainer.optimizer.param_groups[0]
    stand_in = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=group["lr"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(stand_in, T_max=trainer.scheduler.T_max)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
        for _ in range(steps):
            lrs.append(stand_in.param_groups[0]["lr"])
            schedule.step()
    return lrs


def test_the_preset_trains_as_the_tutorials_loop(tmp_path, tiny_clip_dir, learnable_split_dir,
                                                 monkeypatch):
    import engine.training.loop as loop
    from engine.bench.tutorial_reference import TutorialTrainer
    from engine.training.learner import Learner

    learners, seen, clipped = [], [], []

    class Watched(Learner):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            learners.append(self)
            self.optimizer.register_step_pre_hook(lambda opt, *_: seen.append(
                [(g["lr"], g["weight_decay"], len(g["params"])) for g in opt.param_groups]))

    monkeypatch.setattr(loop, "Learner", Watched)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_",
                        lambda *a, **k: clipped.append(1) or torch.tensor(0.0))
    config = apply_preset(TrainConfig(data_dir=str(learnable_split_dir), model=str(tiny_clip_dir),
                                      output_dir=str(tmp_path / "runs"), num_threads=1,
                                      precision="fp32"), "Tutorial recipe")
    events = list(loop.train(config))
    assert events[-1].status == "completed", events[-1].error
    learner = learners[0]
    total = learner.plan.total_steps
    assert total == 10 * math.ceil(72 / 32) and learner.plan.warmup_steps == 0  # every epoch
    assert max(e.epoch for e in events if e.kind == "evaluation") == 10  # no early stop
    assert not learner.augmenter.augment and learner.augmenter.color_jitter == 0
    assert clipped == []
    # every trainable parameter (LoRA, head weight, head bias) at 5e-4 with weight decay 0.01
    trainable = {id(p) for p in learner.params}  # (the report merged the model afterwards)
    in_groups = {id(p) for g in learner.optimizer.param_groups for p in g["params"]}
    assert in_groups == trainable and id(learner.model.head.bias) in in_groups
    assert len(seen) == total
    first = seen[0]
    assert all(lr == pytest.approx(5e-4) and wd == 0.01 for lr, wd, _ in first)
    # one schedule for all: cosine from 5e-4 to 0 over every step, no warm-up, as the tutorial's
    samples = [(str(p), i) for i, c in enumerate(sorted((learnable_split_dir / "train").iterdir()))
               for p in sorted(c.glob("*.jpg"))]
    trainer = TutorialTrainer(str(tiny_clip_dir), samples, 3, num_workers=0)
    assert len(trainer.optimizer.param_groups) == 1
    assert trainer.optimizer.defaults["lr"] == 5e-4
    assert trainer.optimizer.defaults["weight_decay"] == 0.01
    assert trainer.scheduler.T_max == total and trainer.scheduler.eta_min == 0
    for step, (ours, theirs) in enumerate(zip(seen, _tutorial_lrs(trainer, total))):
        assert all(lr == pytest.approx(theirs, rel=1e-9, abs=1e-12) for lr, _, _ in ours), step
    assert seen[0][0][0] == pytest.approx(5e-4) and seen[-1][0][0] < 5e-4 * 0.01
    assert learner.scheduler.get_last_lr()[0] == pytest.approx(0.0, abs=1e-12)
