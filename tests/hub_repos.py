"""Tiny stand-ins of the checkpoints the model picker recommends, laid out as published.

Each repository has the real file names (shared/hub-layouts.md), the real config
`model_type`, image size and patch size, the processor settings and tokenizer classes of
the published repository, and random weights of a tiny width (hidden size 32, 2 layers) so
a whole train / predict / export cycle takes seconds. The tokenizer model files are built
here (sentencepiece trains a tiny model in milliseconds); nothing is downloaded.

Files that the app must never download (Flax, TensorFlow, OpenCLIP weights, the second
PyTorch format) are present as junk bytes: loading one by mistake would fail loudly, and the
stand-in's request log shows whether one was asked for.

Where a detail of a published layout was not certain, the shape is kept and the
assumption is written next to it.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
JUNK = b"junk bytes standing in for weights the app must never download\n" * 64


@dataclass(frozen=True)
class Spec:
    repo_id: str
    kind: str  # "openai-clip" | "laion-clip" | "siglip" | "siglip2" | "dinov2"
    image_size: int  # the vision config's image_size, as published
    patch_size: int
    input_size: int = 224  # what the processor feeds the model (DINOv2: crop 224 of 518)
    sharded: bool = False  # weights in model-0000N-of-0000M.safetensors + index
    never: tuple[str, ...] = field(default=())  # files present that must not be downloaded


_OPENAI_EXTRA = ("flax_model.msgpack", "tf_model.h5", "pytorch_model.bin", "README.md")
_LAION_EXTRA = ("open_clip_config.json", "open_clip_model.safetensors",
                "open_clip_pytorch_model.bin", "README.md")
SPECS = {s.repo_id: s for s in (
    Spec("openai/clip-vit-base-patch32", "openai-clip", 224, 32, never=_OPENAI_EXTRA),
    Spec("openai/clip-vit-base-patch16", "openai-clip", 224, 16, never=_OPENAI_EXTRA),
    Spec("openai/clip-vit-large-patch14", "openai-clip", 224, 14, never=_OPENAI_EXTRA),
    Spec("laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "laion-clip", 224, 32,
         never=_LAION_EXTRA + ("pytorch_model.bin",)),
    # Assumed sharded in both formats (shared/hub-layouts.md leaves that to check): this
    # repository covers sharded safetensors + index.json.
    Spec("laion/CLIP-ViT-H-14-laion2B-s32B-b79K", "laion-clip", 224, 14, sharded=True,
         never=_LAION_EXTRA + ("pytorch_model-00001-of-00002.bin",
                               "pytorch_model-00002-of-00002.bin", "pytorch_model.bin.index.json")),
    Spec("google/siglip2-base-patch16-224", "siglip2", 224, 16, never=("README.md",)),
    Spec("google/siglip-base-patch16-224", "siglip", 224, 16, never=("README.md",)),
    Spec("google/siglip-so400m-patch14-384", "siglip", 384, 14, input_size=384,
         never=("README.md",)),
    Spec("facebook/dinov2-small", "dinov2", 518, 14, never=("pytorch_model.bin", "README.md")),
    Spec("facebook/dinov2-base", "dinov2", 518, 14, never=("pytorch_model.bin", "README.md")),
    Spec("facebook/dinov2-large", "dinov2", 518, 14, never=("pytorch_model.bin", "README.md")),
)}

def _dump(data) -> bytes:
    return json.dumps(data, indent=2).encode()


def _seed(spec: Spec) -> None:
    """Each repository its own random weights (distinct files, as on the Hub)."""
    import zlib

    import torch

    torch.manual_seed(zlib.crc32(spec.repo_id.encode()))


def _saved(model, **options) -> dict[str, bytes]:
    """config.json and the safetensors weights as save_pretrained writes them."""
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, **options)
        return {p.name: p.read_bytes() for p in Path(tmp).iterdir()
                if p.name == "config.json" or p.name.startswith("model")}


# --- CLIP (OpenAI and LAION's OpenCLIP in transformers format) ----------------------------
def _clip_tokenizer_files() -> dict[str, bytes]:
    from transformers import CLIPTokenizer

    from engine.demo.model import _char_bpe_vocab

    vocab = _char_bpe_vocab()  # byte-level characters: every text tokenizes, no merges needed
    with tempfile.TemporaryDirectory() as tmp:
        CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(tmp)
        fast = (Path(tmp) / "tokenizer.json").read_bytes()
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
               "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}
    return {"vocab.json": _dump(vocab), "merges.txt": b"#version: 0.2\n", "tokenizer.json": fast,
            "special_tokens_map.json": _dump(special),
            "tokenizer_config.json": _dump({**special, "add_prefix_space": False,
                                            "do_lower_case": True, "errors": "replace",
                                            "model_max_length": 77,
                                            "tokenizer_class": "CLIPTokenizer"})}


def _clip(spec: Spec) -> dict[str, bytes]:
    import torch
    from transformers import CLIPConfig, CLIPModel

    tokenizer = _clip_tokenizer_files()
    vocab_size = len(json.loads(tokenizer["vocab.json"]))
    projection = 16  # published: 512 (B) / 768 (L) / 1024 (H); tiny here, set in both towers
    config = CLIPConfig(
        text_config=dict(TINY, vocab_size=vocab_size, max_position_embeddings=77,
                         projection_dim=projection, bos_token_id=vocab_size - 2,
                         eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1),
        vision_config=dict(TINY, image_size=spec.image_size, patch_size=spec.patch_size,
                           projection_dim=projection),
        projection_dim=projection)
    _seed(spec)
    model = CLIPModel(config)
    files = {**tokenizer}
    if spec.sharded:
        files.update(_saved(model, max_shard_size="300KB"))
    else:
        files.update(_saved(model))
    if spec.kind == "openai-clip":
        # OpenAI's repositories still carry the feature-extractor era file: integer sizes
        # and "feature_extractor_type" (transformers maps it to CLIPImageProcessor).
        files["preprocessor_config.json"] = _dump({
            "crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
            "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": CLIP_MEAN,
            "image_std": CLIP_STD, "resample": 3, "size": 224})
    else:
        files["preprocessor_config.json"] = _dump({
            "crop_size": {"height": 224, "width": 224}, "do_center_crop": True,
            "do_convert_rgb": True, "do_normalize": True, "do_rescale": True,
            "do_resize": True, "image_mean": CLIP_MEAN,
            "image_processor_type": "CLIPImageProcessor",
            "image_std": CLIP_STD, "resample": 3, "rescale_factor": 1 / 255,
            "size": {"shortest_edge": 224}})
        files["open_clip_config.json"] = _dump({"model_cfg": {"embed_dim": projection},
                                                "preprocess_cfg": {"mean": CLIP_MEAN,
                                                                   "std": CLIP_STD}})
    return files


# --- SigLIP and SigLIP 2 ------------------------------------------------------------------
def _siglip_tokenizer_files() -> dict[str, bytes]:
    # the same files the app's tiny SigLIP and its packaged self-test carry
    from engine.demo.tokenizers import siglip_tokenizer_files

    return siglip_tokenizer_files()


def _gemma_tokenizer_files() -> dict[str, bytes]:
    """tokenizer.model (sentencepiece BPE with Gemma's special pieces) and the tokenizer.json
    transformers converts it to, as Google publishes both."""
    from transformers import AutoTokenizer

    from engine.demo.tokenizers import sentencepiece_model

    model = sentencepiece_model("bpe", vocab_size=320,  # 256 byte pieces + a few merges
                                pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                                pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>",
                                unk_piece="<unk>", byte_fallback=True,
                                user_defined_symbols=["<mask>"])
    special = {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>",
               "unk_token": "<unk>", "mask_token": "<mask>"}
    config = {**special, "add_bos_token": True, "add_eos_token": False,
              "model_max_length": 64, "processor_class": "SiglipProcessor",
              "tokenizer_class": "GemmaTokenizer"}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tokenizer.model").write_bytes(model)
        (Path(tmp) / "tokenizer_config.json").write_bytes(_dump(config))
        AutoTokenizer.from_pretrained(tmp).save_pretrained(Path(tmp) / "out")
        fast = (Path(tmp) / "out" / "tokenizer.json").read_bytes()
    return {"tokenizer.model": model, "tokenizer.json": fast,
            "special_tokens_map.json": _dump(special), "tokenizer_config.json": _dump(config)}


def _siglip(spec: Spec) -> dict[str, bytes]:
    import torch
    from transformers import SiglipConfig, SiglipModel

    from engine.demo.tokenizers import vocab_size as pieces

    if spec.kind == "siglip2":  # fixed-resolution SigLIP 2: the SigLIP architecture
        tokenizer = _gemma_tokenizer_files()
        spm = tokenizer["tokenizer.model"]
    else:
        tokenizer = _siglip_tokenizer_files()
        spm = tokenizer["spiece.model"]
    config = SiglipConfig(
        text_config=dict(TINY, vocab_size=pieces(spm), max_position_embeddings=64,
                         projection_size=TINY["hidden_size"]),
        vision_config=dict(TINY, image_size=spec.image_size, patch_size=spec.patch_size))
    _seed(spec)
    model = SiglipModel(config)
    with torch.no_grad():  # near the published checkpoints' learnt values
        model.logit_scale.fill_(4.7)
        model.logit_bias.fill_(-12.9)
    return {**tokenizer, **_saved(model), "preprocessor_config.json": _dump({
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": [0.5] * 3,
        "image_processor_type": "SiglipImageProcessor", "image_std": [0.5] * 3,
        "processor_class": "SiglipProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"height": spec.input_size, "width": spec.input_size}})}


# --- DINOv2 -------------------------------------------------------------------------------
def _dinov2(spec: Spec) -> dict[str, bytes]:
    import torch
    from transformers import Dinov2Config, Dinov2Model

    _seed(spec)
    model = Dinov2Model(Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     mlp_ratio=4, image_size=spec.image_size,
                                     patch_size=spec.patch_size))
    return {**_saved(model), "preprocessor_config.json": _dump({
        "crop_size": {"height": 224, "width": 224}, "do_center_crop": True,
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": IMAGENET_MEAN, "image_processor_type": "BitImageProcessor",
        "image_std": IMAGENET_STD, "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": 256}})}


_BUILDERS = {"openai-clip": _clip, "laion-clip": _clip, "siglip": _siglip, "siglip2": _siglip,
             "dinov2": _dinov2}


def build_files(spec: Spec) -> dict[str, bytes]:
    """Every file of the repository (but .gitattributes, which the stand-in adds)."""
    from engine.libraries import ready
    from engine.model.classifier import quiet_transformers

    ready()  # transformers is imported in one thread at a time (engine/libraries.py)
    with quiet_transformers():
        files = _BUILDERS[spec.kind](spec)
    for name in spec.never:
        files.setdefault(name, b"# model card\n" if name == "README.md" else JUNK)
    return files


def published_weights(files: dict[str, bytes]) -> set[str]:
    """The transformers safetensors weights of a built repository (what must be fetched)."""
    return {n for n in files if n.startswith("model") and
            (n.endswith(".safetensors") or n == "model.safetensors.index.json")}


def write_folder(folder: Path, files: dict[str, bytes], drop=()) -> Path:
    """A repository's files as a local checkpoint folder (what a user copies or downloads by
    hand), without the names in `drop`."""
    folder.mkdir(parents=True)
    for name, data in files.items():
        if name not in drop:
            (folder / name).write_bytes(data)
    return folder
