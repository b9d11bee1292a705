"""Tensor augmentation: correct geometry and normalisation, deterministic under a seed."""
from __future__ import annotations

import pytest
import torch

from engine.data.augment import Augmenter, pipeline_throughput

MEAN, STD = (0.48, 0.46, 0.41), (0.27, 0.26, 0.28)


def _images(n: int = 8, r: int = 36, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, r, r), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))


def _norm(x: torch.Tensor) -> torch.Tensor:
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    return (x.float() / 255 - mean) / std


def test_eval_is_a_deterministic_normalised_centre_crop():
    images = _images(4, 36)
    exact = Augmenter(32, MEAN, STD, eval_crop=32 / 36).eval_batch(images)
    assert exact.shape == (4, 3, 32, 32) and exact.dtype == torch.float32
    assert torch.allclose(exact, _norm(images[..., 2:34, 2:34]), atol=1e-5)
    whole = Augmenter(32, MEAN, STD)  # default: the whole cached square, resized
    assert torch.equal(whole.eval_batch(images), whole.eval_batch(images))
    assert whole.eval_batch(images).shape == (4, 3, 32, 32)
    same_size = Augmenter(36, MEAN, STD).eval_batch(images)
    assert torch.allclose(same_size, _norm(images), atol=1e-5)


def test_constant_image_normalises_to_mean_std_formula():
    images = torch.full((2, 3, 36, 36), 200, dtype=torch.uint8)
    for out in (Augmenter(32, MEAN, STD).eval_batch(images),
                Augmenter(32, MEAN, STD).train_batch(images, torch.Generator().manual_seed(0))):
        expected = (200 / 255 - torch.tensor(MEAN)) / torch.tensor(STD)
        assert torch.allclose(out.mean((0, 2, 3)), expected, atol=1e-4)
        assert torch.allclose(out.std((0, 2, 3)), torch.zeros(3), atol=1e-4)


def test_train_batch_is_deterministic_under_a_seed():
    images = _images()
    aug = Augmenter(32, MEAN, STD, color_jitter=0.3)
    a = aug.train_batch(images, torch.Generator().manual_seed(7))
    b = aug.train_batch(images, torch.Generator().manual_seed(7))
    c = aug.train_batch(images, torch.Generator().manual_seed(8))
    assert a.shape == (8, 3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.allclose(a, c)
    gen = torch.Generator().manual_seed(7)
    first, second = aug.train_batch(images, gen), aug.train_batch(images, gen)
    assert torch.equal(first, a) and not torch.allclose(first, second)  # the stream advances


def test_augment_off_means_eval_preprocessing():
    images = _images()
    aug = Augmenter(32, MEAN, STD, augment=False)
    assert torch.equal(aug.train_batch(images, torch.Generator().manual_seed(1)),
                       aug.eval_batch(images))


def test_full_crops_are_the_image_or_its_mirror():
    # scale 1 and ratio 1: every crop is the whole square, only the flip varies, and with
    # R == S the grid hits pixel centres exactly
    images = _images(64, 32)
    aug = Augmenter(32, MEAN, STD, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    out = aug.train_batch(images, torch.Generator().manual_seed(3))
    plain, mirrored = _norm(images), _norm(images.flip(-1))
    is_plain = (out - plain).abs().amax((1, 2, 3)) < 1e-4
    is_mirror = (out - mirrored).abs().amax((1, 2, 3)) < 1e-4
    assert bool((is_plain | is_mirror).all()) and 10 < int(is_mirror.sum()) < 54
    no_flip = Augmenter(32, MEAN, STD, scale=(1.0, 1.0), ratio=(1.0, 1.0), hflip=False)
    assert torch.allclose(no_flip.train_batch(images, torch.Generator().manual_seed(3)), plain,
                          atol=1e-4)


def test_crop_boxes_stay_inside_and_cover_the_requested_area():
    aug = Augmenter(32, MEAN, STD, scale=(0.3, 0.6), ratio=(0.8, 1.25))
    boxes = aug.crop_params(2000, torch.Generator().manual_seed(0))
    w, cx, h, cy = boxes.unbind(1)
    assert bool(((w.abs() + cx.abs()) <= 1 + 1e-6).all() and ((h + cy.abs()) <= 1 + 1e-6).all())
    area = w.abs() * h  # share of the square (half-widths in units of the half-side)
    assert 0.3 - 1e-5 <= float(area.min()) and float(area.max()) <= 0.6 + 1e-5
    assert 0.45 < float((w < 0).float().mean()) < 0.55  # half are flipped


def test_a_crop_shows_the_part_of_the_image_it_claims():
    # left half black, right half white: crops near the right edge must be bright
    images = torch.zeros(1, 3, 36, 36, dtype=torch.uint8)
    images[..., 18:] = 255
    aug = Augmenter(32, (0, 0, 0), (1 / 255, 1 / 255, 1 / 255), hflip=False)
    aug.crop_params = lambda b, g: torch.tensor([[0.3, 0.7, 0.3, 0.0]])  # x in [0.4, 1]: white
    assert float(aug.train_batch(images, torch.Generator()).min()) > 254.9
    aug.crop_params = lambda b, g: torch.tensor([[-0.3, -0.7, 0.3, 0.0]])  # mirrored, x < -0.4
    assert float(aug.train_batch(images, torch.Generator()).max()) < 0.1


def test_colour_jitter_stays_in_range_and_only_scales_gray_brightness():
    gray = torch.full((16, 3, 36, 36), 100, dtype=torch.uint8)
    aug = Augmenter(32, (0, 0, 0), (1 / 255, 1 / 255, 1 / 255), color_jitter=0.4)
    out = aug.train_batch(gray, torch.Generator().manual_seed(0))
    per_image = out.mean((1, 2, 3))
    assert bool((per_image >= 60 - 1e-3).all() and (per_image <= 140 + 1e-3).all())
    assert float(per_image.std()) > 1  # images got different brightness
    assert torch.allclose(out.std((1, 2, 3)), torch.zeros(16), atol=1e-3)  # still flat gray
    bright = torch.full((4, 3, 36, 36), 250, dtype=torch.uint8)
    clipped = Augmenter(32, MEAN, STD, color_jitter=0.9).train_batch(
        bright, torch.Generator().manual_seed(0))
    assert float(clipped.max()) <= float(((1 - torch.tensor(MEAN)) / torch.tensor(STD)).max()) + 1e-4


def test_for_model_uses_the_processor_statistics():
    class Info:
        image_size, mean, std = 48, (0.1, 0.2, 0.3), (0.5, 0.5, 0.5)

    aug = Augmenter.for_model(Info(), augment=False)
    out = aug.eval_batch(torch.zeros(1, 3, 54, 54, dtype=torch.uint8))
    assert out.shape == (1, 3, 48, 48)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([-0.2, -0.4, -0.6]))


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError):
        Augmenter(32, MEAN, STD, scale=(0.0, 1.0))
    with pytest.raises(ValueError):
        Augmenter(32, MEAN, STD, eval_crop=1.5)


def test_pipeline_throughput_reports_images_per_second(monkeypatch):
    # A clock that advances 0.1 s per reading: the rate must be the images augmented after
    # the warm-up batch divided by the clock time, whatever the machine's real speed.
    import itertools

    import engine.data.augment

    ticks = itertools.count()
    monkeypatch.setattr(engine.data.augment.time, "perf_counter", lambda: next(ticks) * 0.1)
    batches = []
    augmenter = Augmenter(32, MEAN, STD)
    real_batch = augmenter.train_batch
    monkeypatch.setattr(augmenter, "train_batch", lambda x, g: batches.append(len(x)) or real_batch(x, g))
    rate = pipeline_throughput(_images(40, 36), augmenter, batch_size=8, seconds=0.25)
    timed = len(batches) - 1  # the first batch is the warm-up
    assert batches == [8] * len(batches) and timed == 3  # readings at 0.1, 0.2, 0.3 s
    assert rate == pytest.approx(timed * 8 / 0.3)
