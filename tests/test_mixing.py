"""MixUp, CutMix and RandAugment: batched tensor operations that do exactly what they say."""
from __future__ import annotations

import pytest
import torch

from engine.data import randaugment as ra
from engine.data.augment import Augmenter
from engine.data.mixing import Mix, Mixer, apply_mix, mix_targets


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batch(b: int = 4, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(b, 3, size, size, generator=_gen(1)) * 255
    return x, torch.tensor([0, 1, 2, 1][:b])


def test_mixup_blends_pixels_and_labels_by_lam():
    x, y = _batch()
    mixer = Mixer(mixup=0.4)
    out, target, mix = mixer(x.clone(), y, 3, _gen(5))
    assert mix.kind == "mixup" and 0 < mix.lam < 1
    lam = mix.lam
    torch.testing.assert_close(out, lam * x + (1 - lam) * x.flip(0))
    one_hot = torch.nn.functional.one_hot(y, 3).float()
    torch.testing.assert_close(target, lam * one_hot + (1 - lam) * one_hot.flip(0))
    assert torch.allclose(target.sum(1), torch.ones(4))


def test_cutmix_pastes_the_partner_box_and_mixes_labels_by_its_area():
    x, y = _batch(size=16)
    found = None
    for seed in range(20):  # a draw whose box is neither empty nor the whole image
        out, target, mix = Mixer(cutmix=1.0)(x.clone(), y, 3, _gen(seed))
        y0, y1, x0, x1 = mix.box
        if mix.kind == "cutmix" and 0 < (y1 - y0) * (x1 - x0) < 256:
            found = out, target, mix
            break
    assert found is not None
    out, target, mix = found
    y0, y1, x0, x1 = mix.box
    inside = torch.zeros(16, 16, dtype=torch.bool)
    inside[y0:y1, x0:x1] = True
    assert torch.equal(out[..., inside], x.flip(0)[..., inside])  # the pasted box: source pixels
    assert torch.equal(out[..., ~inside], x[..., ~inside])  # the rest untouched
    lam = 1 - inside.sum().item() / 256
    assert mix.lam == pytest.approx(lam)
    one_hot = torch.nn.functional.one_hot(y, 3).float()
    torch.testing.assert_close(target, lam * one_hot + (1 - lam) * one_hot.flip(0))


def test_apply_mix_with_a_given_box_and_targets():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    out = apply_mix(x.clone(), torch.tensor([0, 1]), 2, Mix("cutmix", 0.75, (0, 2, 2, 4)))
    assert torch.equal(out[0, :, 0:2, 2:4], x[1, :, 0:2, 2:4])
    assert torch.equal(out[1, :, 0:2, 2:4], x[0, :, 0:2, 2:4])
    assert torch.equal(out[0, :, 2:, :], x[0, :, 2:, :])
    assert torch.equal(mix_targets(torch.tensor([0, 1]), 2, 0.75),
                       torch.tensor([[0.75, 0.25], [0.25, 0.75]]))


def test_mixing_is_deterministic_with_the_seed_and_respects_the_probability():
    x, y = _batch()
    mixer = Mixer(mixup=0.4, cutmix=1.0, prob=0.5)
    draws = [mixer.draw(8, 8, _gen(s)) for s in range(40)]
    assert draws == [mixer.draw(8, 8, _gen(s)) for s in range(40)]
    kinds = [d.kind for d in draws]
    assert {"", "mixup", "cutmix"} <= set(kinds)  # both used, some batches left alone
    assert 8 <= kinds.count("") <= 32
    assert Mixer(mixup=0.0, cutmix=0.0).draw(8, 8, _gen()) == Mix()
    assert Mixer(mixup=0.4, prob=0.0).draw(8, 8, _gen()) == Mix()


def _constant(value: float, b: int = 1, size: int = 4) -> torch.Tensor:
    return torch.full((b, 3, size, size), float(value))


def test_colour_operations_on_known_inputs():
    one = torch.tensor([1.5])
    assert torch.equal(ra.brightness(_constant(100), one), _constant(150))
    assert torch.equal(ra.brightness(_constant(200), one), _constant(255))  # clipped
    two_tone = torch.cat([_constant(50, size=2), _constant(150, size=2)], -1)  # mean gray 100
    torch.testing.assert_close(ra.contrast(two_tone, torch.tensor([2.0])),
                               torch.cat([_constant(0, size=2), _constant(200, size=2)], -1))
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 200  # gray = 0.299 * 200 = 59.8
    torch.testing.assert_close(ra.colour(red, torch.tensor([0.0])), _constant(59.8, size=2))
    assert torch.equal(ra.posterize(torch.tensor([[[[255.0, 130.0, 17.0]]]]).expand(1, 3, 1, 3),
                                    torch.tensor([2])),
                       torch.tensor([[[[192.0, 128.0, 0.0]]]]).expand(1, 3, 1, 3))
    assert torch.equal(ra.solarize(torch.tensor([[[[10.0, 200.0]]]]).expand(1, 3, 1, 2),
                                   torch.tensor([128.0])),
                       torch.tensor([[[[10.0, 55.0]]]]).expand(1, 3, 1, 2))
    ramp = torch.tensor([[[[50.0, 100.0, 150.0]]]]).expand(1, 3, 1, 3)
    torch.testing.assert_close(ra.autocontrast(ramp),
                               torch.tensor([[[[0.0, 127.5, 255.0]]]]).expand(1, 3, 1, 3))


def test_sharpness_keeps_the_border_and_sharpens_the_centre():
    x = _constant(100, size=5)
    x[..., 2, 2] = 200  # a bright dot: smoothed (8 * 100 + 5 * 200) / 13
    out = ra.sharpness(x, torch.tensor([1.5]))  # 1.5 * x - 0.5 * smoothed
    assert out[0, 0, 2, 2].item() == pytest.approx(1.5 * 200 - 0.5 * 1800 / 13, rel=1e-5)
    assert out[0, 0, 1, 1].item() == pytest.approx(1.5 * 100 - 0.5 * 1400 / 13, rel=1e-5)
    assert torch.equal(out[..., 0, :], x[..., 0, :])  # border untouched


def test_geometric_operations_move_pixels_as_specified():
    x = torch.arange(16.0).view(1, 1, 4, 4).expand(1, 3, 4, 4).contiguous()
    torch.testing.assert_close(ra.rotate(x, torch.tensor([90.0])), torch.rot90(x, 1, (-2, -1)),
                               atol=1e-3, rtol=0)
    shifted = ra.translate_x(x, torch.tensor([0.25]))  # one pixel right, gray fill
    assert torch.equal(shifted[..., 1:], x[..., :3]) and (shifted[..., 0] == ra.FILL).all()
    down = ra.translate_y(x, torch.tensor([0.5]))  # two pixels down
    assert torch.equal(down[..., 2:, :], x[..., :2, :]) and (down[..., :2, :] == ra.FILL).all()
    assert torch.equal(ra.shear_x(x, torch.tensor([0.0])), x)


def test_randaugment_is_per_image_vectorised_and_seeded():
    x = torch.rand(16, 3, 8, 8, generator=_gen(2)) * 255
    policy = ra.RandAugment(ops=2, magnitude=9)
    a, b = policy(x, _gen(7)), policy(x, _gen(7))
    assert torch.equal(a, b)  # the seed decides everything
    assert not torch.equal(a, policy(x, _gen(8)))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 255
    changed = [(a[i] != x[i]).any().item() for i in range(16)]
    assert 0 < sum(changed) <= 16  # per-image choices (identity may leave one as it was)
    assert torch.equal(ra.RandAugment(ops=0)(x, _gen()), x)


def test_augmenter_applies_randaugment_also_without_crops():
    images = (torch.rand(4, 3, 8, 8, generator=_gen(3)) * 255).to(torch.uint8)
    plain = Augmenter(8, (0.5,) * 3, (0.5,) * 3, augment=False)
    policy = Augmenter(8, (0.5,) * 3, (0.5,) * 3, augment=False, randaugment_ops=2,
                       randaugment_magnitude=20)
    assert torch.equal(plain.train_batch(images, _gen()), plain.eval_batch(images))
    out = policy.train_batch(images, _gen(4))
    assert not torch.equal(out, plain.eval_batch(images))
    assert torch.equal(out, policy.train_batch(images, _gen(4)))
