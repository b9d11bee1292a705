"""The learning-rate finder (engine.training.lr_finder / lr_curve, `train --find-lr`):
on generated learnable data its curve falls then rises, its suggestion lies before the
loss turns worse than at the start, training at it beats the default LR, it works for
LoRA, the linear probe and cached last-N blocks, writes no run folder, and the rule holds
on synthetic curves (including one that diverges early)."""
from __future__ import annotations

import json
import math

import pytest

from engine.cli.main import main as cli_main
from engine.config import TrainConfig
from engine.errors import UserError
from engine.events import Progress
from engine.training.control import TrainControl
from engine.training.lr_curve import (Smoother, first_rise, lr_at, scan_steps, suggest,
                                      valley_index)
from engine.training.lr_finder import find_lr, run_to_end
from engine.training.loop import train


def _config(data, model, out, **changes) -> TrainConfig:
    base = TrainConfig(data_dir=str(data), model=str(model), output_dir=str(out / "runs"),
                       cache_dir=str(out / "cache"), batch_size=16, lora_dropout=0.0,
                       num_threads=1, precision="fp32", epochs=3, early_stop_patience=0)
    return base.replace(**changes)


def _find(config, control=None):
    events = []
    result = run_to_end(find_lr(config, control), events.append)
    return result, events


def _rise_lr(result) -> float | None:
    """Independently of lr_curve: the first LR after the lowest smoothed loss at which the
    smoothed loss is above its value after the first tenth of the scan."""
    skip = result.steps // 10
    s = result.smoothed
    low = min(range(skip, len(s)), key=lambda i: s[i] if math.isfinite(s[i]) else math.inf)
    return next((result.lrs[i] for i in range(low + 1, len(s))
                 if not math.isfinite(s[i]) or s[i] > s[skip]), None)


MODES = {
    "lora": {},
    "linear-probe": {"method": "linear-probe"},
    "last-n-cached": {"lora_last_n_blocks": 1, "augment": False},
}


@pytest.fixture(scope="module", params=list(MODES))
def found(request, learnable_split_dir, tiny_clip_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"lr-{request.param}")
    config = _config(learnable_split_dir, tiny_clip_dir, out, **MODES[request.param])
    result, events = _find(config)
    return request.param, config, result, events, out


def test_the_curve_falls_then_rises_and_the_suggestion_is_before_the_rise(found):
    mode, config, result, events, _out = found
    assert result.field == ("head_lr" if mode == "linear-probe" else "lr")
    assert result.status in ("completed", "diverged") and len(result.lrs) >= 30
    assert result.lrs == sorted(result.lrs) and result.lrs[0] == pytest.approx(1e-7)
    s = result.smoothed
    low = min(range(len(s)), key=lambda i: s[i])
    assert s[low] < s[result.steps // 10] - 0.02  # it falls ...
    assert max(s[low:]) > s[low] + 0.05  # ... and rises again at large LRs
    assert result.lrs[0] < result.suggested_lr < result.lrs[-1]
    rise = _rise_lr(result)
    # the test that must fail for a diverging suggestion: before the loss turns worse
    assert rise is None or result.suggested_lr < rise
    assert result.suggested_lr <= result.lrs[low]
    progress = [e for e in events if isinstance(e, Progress) and e.stage == "lr_find"]
    assert progress[-1].done == len(result.lrs) and progress[-1].total == result.steps


def test_no_run_folder_is_written(found):
    _mode, _config_, _result, _events, out = found
    assert not (out / "runs").exists()


def test_training_at_the_suggestion_beats_the_default(found):
    mode, config, result, _events, _out = found
    default = config  # TrainConfig's own lr / head_lr
    ratio = config.head_lr / config.lr
    chosen = config.replace(**({"head_lr": result.suggested_lr} if result.field == "head_lr"
                               else {"lr": result.suggested_lr,
                                     "head_lr": min(1.0, result.suggested_lr * ratio)}))
    scores = {}
    for name, c in (("default", default), ("suggested", chosen)):
        events = list(train(c.replace(output_dir=str(_out / name))))
        val = [e for e in events if e.kind == "evaluation" and e.split == "val"]
        assert events[-1].status == "completed"
        scores[name] = (val[-1].loss, val[-1].accuracy, val[0].loss)
    (d_loss, d_acc, start), (s_loss, s_acc, _) = scores["default"], scores["suggested"]
    assert s_loss <= d_loss and s_acc >= d_acc, scores
    assert s_loss < start  # the suggested LR trains: it does not diverge


# --- the rule on synthetic curves -----------------------------------------------------------
def _curve(shape, steps=100):
    lrs = [lr_at(i, steps) for i in range(steps)]
    return lrs, [shape(math.log10(lr)) for lr in lrs]


def test_valley_on_a_classic_curve_lands_on_the_falling_slope():
    # flat at 2.0, falls between 1e-4 and 1e-2, blows up past 1e-1
    lrs, losses = _curve(lambda x: 2.0 - 1.5 / (1 + math.exp(-3 * (x + 3))) +
                         (0 if x < -1 else 5 * (x + 1) ** 2))
    found = suggest(lrs, losses, 100)
    assert found.rule == "valley" and 1e-4 < found.lr < 1e-2


def test_a_curve_that_diverges_early_gets_a_suggestion_before_the_rise():
    # barely falls, then rises from 1e-5 on: the valley is tiny and early
    lrs, losses = _curve(lambda x: 1.0 - 0.02 * (x + 7) if x < -5.5 else 0.97 + (x + 5.5) ** 2)
    found = suggest(lrs, losses, 100)
    rise = first_rise(losses, 10)
    assert found.lr is not None and found.lr < lrs[rise] <= 1e-5


def test_a_valley_that_runs_into_the_rise_falls_back_to_minimum_over_ten():
    # falls a little, jumps above its start (not 4x: the test goes on), then falls slowly
    # from that height: the longest falling stretch lies where the loss is worse than at
    # the start, and its middle must not be suggested
    steps = 100
    lrs = [lr_at(i, steps) for i in range(steps)]
    losses = [1.0 - 0.001 * i for i in range(30)] + [3.5 - 0.03 * i for i in range(70)]
    rise = first_rise(losses, 10)
    assert rise == 30
    found = suggest(lrs, losses, steps)
    assert found.rule == "minimum/10" and found.lr < lrs[rise]
    assert found.lr == pytest.approx(lrs[29] / 10, rel=0.2)


def test_a_curve_that_never_falls_has_no_suggestion():
    lrs, losses = _curve(lambda x: 1.0 + 0.1 * (x + 7))
    assert suggest(lrs, losses, 100).lr is None
    assert valley_index([3.0, 4.0, 5.0]) is None


def test_smoothing_is_debiased_and_divergence_is_four_times_the_best():
    s = Smoother(0.98)
    assert s.add(2.0) == pytest.approx(2.0)  # debiased: the first value, not 0.04
    assert not s.diverged(s.add(2.0))
    assert s.diverged(8.1) and not s.diverged(7.9) and s.diverged(float("nan"))
    assert scan_steps(1) == 40 and scan_steps(100) == 100


# --- bad input, cancel -----------------------------------------------------------------------
def test_too_few_images_is_a_plain_error(tmp_path, tiny_clip_dir):
    from engine.demo.dataset import make_demo_dataset

    data = make_demo_dataset(tmp_path / "tiny", num_classes=2, per_class=3)
    with pytest.raises(UserError, match="at least"):
        _find(_config(data, tiny_clip_dir, tmp_path))
    assert not (tmp_path / "runs").exists()


def test_a_stop_ends_the_test_without_a_suggestion(learnable_split_dir, tiny_clip_dir, tmp_path):
    control = TrainControl()
    control.stop()
    result, _ = _find(_config(learnable_split_dir, tiny_clip_dir, tmp_path,
                              method="linear-probe"), control)
    assert result.status == "stopped" and result.suggested_lr is None


# --- the command line -----------------------------------------------------------------------
def test_cli_prints_the_suggestion_and_writes_the_report_next_to_the_config(
        tmp_path, capsys, learnable_split_dir, tiny_clip_dir):
    config = tmp_path / "base.yaml"
    config.write_text(f"model: {tiny_clip_dir}\nmethod: linear-probe\nprecision: fp32\n"
                      f"batch_size: 16\nnum_threads: 1\ncache_dir: {tmp_path / 'cache'}\n")
    argv = ["train", "--config", str(config), "--data-dir", str(learnable_split_dir),
            "--output-dir", str(tmp_path / "runs"), "--find-lr"]
    assert cli_main(argv) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("suggested learning rate: "))
    value = float(line.split(": ")[1])
    assert 1e-7 < value < 10 and "--head-lr" in out
    report = json.loads((tmp_path / "base.lr-finder.json").read_text())
    assert report["field"] == "head_lr" and report["suggested_lr"] == pytest.approx(value, rel=0.01)
    assert (tmp_path / "base.lr-finder.png").stat().st_size > 1000
    assert not (tmp_path / "runs").exists()

    assert cli_main(argv + ["--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # stdout holds one JSON object, progress went to stderr
    assert set(data["points"][0]) == {"lr", "loss", "smoothed"}
    assert data["suggested_lr"] == pytest.approx(value, rel=0.01)
    assert "Finding a learning rate" in captured.err


def test_cli_without_config_writes_into_the_output_folder_and_bad_data_exits_2(
        tmp_path, capsys, learnable_split_dir, tiny_clip_dir):
    from engine.demo.dataset import make_demo_dataset

    base = ["train", "--model", str(tiny_clip_dir), "--precision", "fp32", "--num-threads", "1",
            "--method", "linear-probe", "--output-dir", str(tmp_path / "runs"), "--find-lr"]
    assert cli_main(base + ["--data-dir", str(learnable_split_dir)]) == 0
    assert sorted(p.suffix for p in (tmp_path / "runs").iterdir()) == [".json", ".png"]
    tiny = make_demo_dataset(tmp_path / "tiny", num_classes=2, per_class=3)
    capsys.readouterr()
    assert cli_main(base + ["--data-dir", str(tiny)]) == 2
    assert "at least" in capsys.readouterr().err
