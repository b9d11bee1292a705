"""Every family's pixels are its own image processor's: the Predictor's exactly (within the
rounding stated below), training's evaluation batches closely, and the old CLIP framing,
which every family had before, visibly not.

The stand-in checkpoints are tiny random models whose preprocessor_config.json is the
published one: CLIP's in its old published form (bare numbers and "feature_extractor_type",
as openai/clip-vit-base-patch32 has it, written from memory: the settings are certain, the
form assumed), SigLIP's square 224 and 384 (so400m), DINOv2's shortest side 256 + centre
crop 224, with DINOv2's config image_size 518 as published.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

from run_factory import make_run

pytestmark = pytest.mark.usefixtures("isolated_home")

CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
PUBLISHED = {
    "clip": {"crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
             "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": CLIP_MEAN,
             "image_std": CLIP_STD, "resample": 3, "size": 224},
    **{f"siglip{side}": {"do_normalize": True, "do_rescale": True, "do_resize": True,
                         "image_mean": [0.5] * 3, "image_processor_type": "SiglipImageProcessor",
                         "image_std": [0.5] * 3, "processor_class": "SiglipProcessor",
                         "resample": 3, "rescale_factor": 1 / 255,
                         "size": {"height": side, "width": side}} for side in (224, 384)},
    "dinov2": {"crop_size": {"height": 224, "width": 224}, "do_center_crop": True,
               "do_convert_rgb": True, "do_normalize": True, "do_rescale": True,
               "do_resize": True, "image_mean": [0.485, 0.456, 0.406],
               "image_processor_type": "BitImageProcessor", "image_std": [0.229, 0.224, 0.225],
               "resample": 3, "rescale_factor": 1 / 255, "size": {"shortest_edge": 256}},
}
FAMILIES = list(PUBLISHED)
# name -> (width, height): landscape, portrait, a 4:1 panorama, one smaller than the input
SHAPES = {"landscape": (640, 480), "portrait": (480, 640), "panorama": (1600, 400),
          "small": (160, 120)}

# The Predictor decodes the processor's region straight to the input size with its filter.
# PIL then samples the same positions as the processor's resize-then-crop, but from float
# box coordinates, which tips a rounding by one grey level now and then. Measured: SigLIP
# identical; CLIP and DINOv2 one level on 0.011 % / 0.007 % of the values (mean 1.7e-6
# normalised units). Bound: one grey level, on at most 0.1 % of the values.
PREDICT_MAX_LEVELS, PREDICT_SHARE = 1, 0.001
# Training's evaluation batches are resampled twice (bicubic to the cache's square with a
# margin for random crops, then an antialiased bicubic to the input size): the second pass
# softens sharp edges. Measured on these photos (normalised units): mean 0.004-0.009, max
# 0.10-0.14 (the bilinear second pass runs before framings gave max 0.29, above the bound).
TRAIN_EVAL_MEAN, TRAIN_EVAL_MAX = 0.015, 0.2
# A big JPEG decodes shrunk by the DCT (draft) to no less than twice the output's pixels
# across the kept region, about 3x faster on a 12 MP photo; the processor decodes it
# whole. Measured on six 3000x2000 photos: mean 0.0016-0.0056, max 2-6 grey levels
# (0.024-0.075 normalised); two resamplings would give a mean of 0.018-0.03.
DRAFT_MEAN, DRAFT_MAX_LEVELS = 0.01, 8


def photo(width: int, height: int, seed: int) -> bytes:
    """A JPEG that looks like a photo to a resampler: gradients, texture at several scales,
    hard-edged shapes, a little blur and sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    c0, c1, c2 = rng.uniform(30, 225, (3, 3))
    u, v = (x / width)[..., None], (y / height)[..., None]
    base = (c0 * (1 - u) + c1 * u) * (1 - 0.5 * v) + c2 * 0.5 * v
    texture = sum(rng.uniform(5, 18) * np.sin(2 * np.pi * (x * np.cos(a) + y * np.sin(a)) / p)
                  for a, p in zip(rng.uniform(0, np.pi, 4), rng.uniform(3, 40, 4)))
    img = Image.fromarray(np.clip(base + texture[..., None], 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.04, 0.3)
        r *= min(width, height)
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([cx - r, cy - r, cx + r, cy + r],
                                                                  fill=fill)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(0.7)), dtype=np.float32)
    arr = np.clip(arr + rng.normal(0, 6, arr.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for seed, (name, (w, h)) in enumerate(SHAPES.items()):
        (folder / f"{name}.jpg").write_bytes(photo(w, h, seed))
        paths.append(str(folder / f"{name}.jpg"))
    return paths


def _stand_in(folder, family: str):
    """A tiny random checkpoint of `family` with the published processor settings."""
    from engine.demo.model import make_tiny_clip
    from engine.demo.tiny_backbones import make_tiny_dinov2, make_tiny_siglip

    if family == "clip":
        make_tiny_clip(folder, image_size=224, patch_size=32)
    elif family.startswith("siglip"):
        side = int(family[6:])
        make_tiny_siglip(folder, image_size=side, patch_size=16 if side == 224 else 14)
    else:  # DINOv2's config says 518; it interpolates its position grid to the 224 input
        make_tiny_dinov2(folder, image_size=518, patch_size=14)
    (folder / "processor_config.json").unlink(missing_ok=True)  # published: the file below
    (folder / "preprocessor_config.json").write_text(json.dumps(PUBLISHED[family]), "utf-8")
    return folder


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict:
    return {f: _stand_in(tmp_path_factory.mktemp(f), f) for f in FAMILIES}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, checkpoints, learnable_split_dir) -> dict:
    return {f: make_run(tmp_path_factory.mktemp(f"run-{f}") / "run", folder, learnable_split_dir,
                        fit_head=False) for f, folder in checkpoints.items()}


def _processor_pixels(folder, paths) -> torch.Tensor:
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(folder)
    return processor(images=[Image.open(p).convert("RGB") for p in paths],
                     return_tensors="pt").pixel_values


def _predictor_pixels(run_dir, paths) -> tuple[torch.Tensor, object]:
    """What the Predictor feeds the model when it predicts `paths`."""
    from engine.use.predict import Predictor

    predictor = Predictor(run_dir, device="cpu", precision="fp32")
    seen = []
    hook = predictor.model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone()))
    try:
        predictor.predict(paths)
    finally:
        hook.remove()
    return torch.cat(seen), predictor


def _info(run_dir):
    from engine.model.classifier import BaseModelInfo

    return BaseModelInfo.from_dict(json.loads((run_dir / "run.json").read_text())["base_model"])


def _levels(info) -> float:
    """One grey level in the model's normalised units (the largest over the channels)."""
    return 1 / (255 * min(info.std))


@pytest.mark.parametrize("family", FAMILIES)
def test_the_predictor_feeds_the_model_its_own_processors_pixels(family, checkpoints, runs,
                                                                 photos):
    ours, predictor = _predictor_pixels(runs[family], photos)
    theirs = _processor_pixels(checkpoints[family], photos)
    assert ours.shape == theirs.shape == (len(photos), 3, predictor.info.image_size,
                                          predictor.info.image_size)
    diff, level = (ours - theirs).abs(), _levels(predictor.info)
    assert diff.max() <= PREDICT_MAX_LEVELS * level * 1.001
    assert (diff > level / 2).float().mean() <= PREDICT_SHARE


@pytest.mark.parametrize("family", FAMILIES)
def test_a_big_jpeg_decodes_shrunk_yet_close_to_the_processor(family, checkpoints, runs,
                                                              tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(photo(3000, 2000, 7))
    ours, predictor = _predictor_pixels(runs[family], [str(big)])
    diff = (ours - _processor_pixels(checkpoints[family], [str(big)])).abs()
    assert diff.mean() <= DRAFT_MEAN
    assert diff.max() <= DRAFT_MAX_LEVELS * _levels(predictor.info)
    with Image.open(big) as img:  # the draft really shrinks it (else this tests nothing)
        img.draft("RGB", (predictor.framing.draft_side(predictor.resolution),) * 2)
        assert img.size[0] < 3000


@pytest.mark.parametrize("family", FAMILIES)
def test_training_evaluation_batches_match_the_processor(family, checkpoints, runs, photos):
    from engine.data.augment import Augmenter
    from engine.data.cache import DecodeCache, cache_resolution

    info = _info(runs[family])
    cached = DecodeCache(cache_resolution(info.image_size), framing=info.framing).load(photos)
    ours = Augmenter.for_model(info, augment=False).eval_batch(cached.images)
    diff = (ours - _processor_pixels(checkpoints[family], photos)).abs()
    assert diff.mean() <= TRAIN_EVAL_MEAN and diff.max() <= TRAIN_EVAL_MAX


@pytest.mark.parametrize("family", ["siglip224", "siglip384", "dinov2"])
def test_the_old_clip_framing_fails_for_the_other_families(family, checkpoints, runs, photos):
    """What every family got before: the centre square, bilinear to the input size."""
    from engine.data.augment import Augmenter
    from engine.data.cache import cache_resolution, decode_to_array

    info = _info(runs[family])
    old = torch.stack([torch.from_numpy(decode_to_array(p, cache_resolution(info.image_size)))
                       for p in photos])
    old = Augmenter(info.image_size, info.mean, info.std, augment=False).eval_batch(old)
    diff = (old - _processor_pixels(checkpoints[family], photos)).abs()
    assert diff.mean() > 5 * TRAIN_EVAL_MEAN  # measured 0.19-0.26: not a resampling detail


def _marked(width: int, height: int, border: int) -> Image.Image:
    """Grey picture, a red band `border` px wide down the left edge."""
    img = Image.new("RGB", (width, height), (128, 128, 128))
    ImageDraw.Draw(img).rectangle([0, 0, border - 1, height - 1], fill=(255, 0, 0))
    return img


def test_squash_keeps_the_edges_and_the_crops_cut_them(runs):
    from engine.use.predict import Predictor

    # 640x480: CLIP's centre square starts 80 px in; DINOv2's 224/256 crop 110 px in
    picture = _marked(640, 480, 60)
    left = {f: Predictor(runs[f], device="cpu", precision="fp32").decode(picture)[:, :, :4]
            for f in ("siglip224", "clip", "dinov2")}
    assert (left["siglip224"][0] > 240).all() and (left["siglip224"][1] < 15).all()
    for family in ("clip", "dinov2"):
        assert np.abs(left[family].astype(int) - 128).max() <= 2, family


def test_a_framing_applies_to_the_picture_as_exif_turns_it(tmp_path):
    from engine.data.cache import decode_to_array
    from engine.data.framing import SQUASH, Framing

    # 64x32, left red, right blue, tagged "rotate 90 degrees clockwise": upright it is
    # 32x64 with red on top; squashed whole, the top half stays red and the bottom blue
    sideways = Image.new("RGB", (64, 32), (255, 0, 0))
    sideways.paste((0, 0, 255), (32, 0, 64, 32))
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    arr = decode_to_array(str(tmp_path / "r.jpg"), 16, framing=Framing(SQUASH, 16, 16)).astype(int)
    assert arr[0, :6].min() > 200 and arr[2, :6].max() < 60
    assert arr[2, 10:].min() > 200 and arr[0, 10:].max() < 60


def test_framings_read_from_the_published_processors(checkpoints):
    from engine.data.framing import CROP, SQUASH, Framing
    from engine.model.classifier import load_base

    expected = {"clip": Framing(CROP, 224, 224), "siglip224": Framing(SQUASH, 224, 224),
                "siglip384": Framing(SQUASH, 384, 384), "dinov2": Framing(CROP, 256, 224)}
    for family, folder in checkpoints.items():
        backbone, _full, processor = load_base(str(folder))
        framing, mean, std = backbone.preprocessing(processor)
        assert framing == expected[family] and framing.resample == 3
        assert list(mean) == pytest.approx(PUBLISHED[family]["image_mean"])
        assert list(std) == pytest.approx(PUBLISHED[family]["image_std"])


@pytest.mark.parametrize("settings, words", [
    ({"size": {"shortest_edge": 224}, "do_center_crop": False}, "without a centre crop"),
    ({"size": {"height": 224, "width": 160}}, "not a shortest side or a square"),
    ({"size": {"shortest_edge": 224}, "crop_size": {"height": 256, "width": 256}},
     "not a square inside"),
    ({"do_resize": False}, "do_resize is false"),
])
def test_framings_that_cannot_be_reproduced_are_refused(settings, words):
    from transformers import CLIPImageProcessorPil

    from engine.model.backbones.base import read_preprocessing

    with pytest.raises(ValueError, match=words):
        read_preprocessing(CLIPImageProcessorPil(**settings))


@pytest.mark.parametrize("family", ["clip", "siglip224"])
def test_a_run_json_without_framing_predicts_exactly_as_before(family, runs, photos, tmp_path):
    """Runs made before framings: CLIP's centre square at the cache resolution (bicubic,
    JPEG draft, reducing_gap 3), then the bilinear antialiased resize, whatever the family."""
    import shutil

    from engine.model.classifier import BaseModelInfo

    old = shutil.copytree(runs[family], tmp_path / "old")
    meta = json.loads((old / "run.json").read_text())
    meta["base_model"].pop("framing")
    (old / "run.json").write_text(json.dumps(meta), "utf-8")
    assert BaseModelInfo.from_dict(meta["base_model"]).to_dict() == meta["base_model"]
    ours, predictor = _predictor_pixels(old, photos)
    assert predictor.info.framing is None and predictor.resolution == 256
    rows = []
    for path in photos:  # the old decode, written out
        img = Image.open(path)
        img.draft("RGB", (256, 256))
        img = img.convert("RGB")
        w, h = img.size
        s = min(w, h)
        img = img.resize((256, 256), Image.Resampling.BICUBIC, reducing_gap=3.0,
                         box=((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2))
        rows.append(torch.from_numpy(np.asarray(img).transpose(2, 0, 1).copy()))
    x = torch.nn.functional.interpolate(torch.stack(rows), size=(224, 224), mode="bilinear",
                                        antialias=True, align_corners=False).float()
    mean, std = torch.tensor(predictor.info.mean), torch.tensor(predictor.info.std)
    expected = (x / 255 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=0)


def test_two_framings_of_one_file_are_separate_cache_entries(photos, tmp_path):
    from engine.data.cache import DecodeCache
    from engine.data.framing import CROP, SQUASH, Framing

    caches = [DecodeCache(64, framing=f, disk_dir=tmp_path) for f in
              (Framing(CROP, 64, 64), Framing(SQUASH, 64, 64), None)]
    keys = {cache.entry_key(photos[0]) for cache in caches}
    assert len(keys) == 3
    first = [cache.load(photos[:1]) for cache in caches]
    assert [r.decoded for r in first] == [1, 1, 1]
    assert not torch.equal(first[0].images, first[1].images)
    again = DecodeCache(64, framing=Framing(SQUASH, 64, 64), disk_dir=tmp_path).load(photos[:1])
    assert again.decoded == 0 and torch.equal(again.images, first[1].images)


@pytest.mark.parametrize("framing, complaint", [
    ({"mode": "stretch", "resize": 224, "crop": 224, "resample": 3}, "base_model.framing"),
    ({"mode": "crop", "resize": 224, "crop": 256, "resample": 3}, "base_model.framing"),
    ({"mode": "crop", "resize": "224", "crop": 224, "resample": 3}, "base_model.framing"),
    ({"mode": "crop", "resize": 256, "crop": 224, "resample": 9}, "base_model.framing"),
    ([224, 224], "base_model.framing"),
    ({"mode": "crop", "resize": 256, "crop": 200, "resample": 3}, "base_model.image_size"),
])
def test_run_json_framings_are_checked(framing, complaint, runs, tmp_path):
    import shutil

    from engine.errors import DamagedRunError
    from engine.model.safety import check_run_folder

    bad = shutil.copytree(runs["dinov2"], tmp_path / "bad")
    meta = json.loads((bad / "run.json").read_text())
    assert check_run_folder(bad)["base_model"]["framing"] == {
        "mode": "crop", "resize": 256, "crop": 224, "resample": 3}
    meta["base_model"]["framing"] = framing
    (bad / "run.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(DamagedRunError, match=complaint):
        check_run_folder(bad)


@pytest.mark.parametrize("family", ["siglip384", "dinov2"])
def test_the_export_preprocesses_with_the_familys_own_processor(family, checkpoints, runs,
                                                                 photos, tmp_path):
    from transformers import AutoImageProcessor

    from engine.use.export import export_run

    folder = export_run(runs[family], tmp_path / "export").folder
    code = (folder / "README.txt").read_text("utf-8")
    assert "AutoImageProcessor.from_pretrained(folder)" in code and "CLIPImage" not in code
    exported = AutoImageProcessor.from_pretrained(folder)
    assert type(exported) is type(AutoImageProcessor.from_pretrained(checkpoints[family]))
    assert torch.equal(_processor_pixels(folder, photos),
                       _processor_pixels(checkpoints[family], photos))
