"""The classifier: a backbone's image tower (+ LoRA via peft) and a linear head on
L2-normalised image embeddings, initialised from the text embeddings of the class names
(zero-shot) where the family has a text tower, else from the class prototypes.

What differs between families (CLIP, SigLIP, DINOv2) lives in engine.model.backbones; only
the image tower lives on during training: a text tower is used once for the zero-shot head
and then freed.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from torch import nn
from torch.nn import functional as F

from engine.data.framing import Framing
from engine.errors import ModelLoadError, UserError  # noqa: F401  (ModelLoadError lives here too)
from engine.i18n import _


@dataclass(frozen=True)
class BaseModelInfo:
    """What a run needs to know about its base model (stored in run.json).

    `framing` is how the base model's own processor frames a picture (engine.data.framing);
    None for runs made before the engine read it: they were framed like CLIP (the centre
    square) whatever their family, and keep predicting exactly as they were trained.
    """

    ref: str  # hub id or local folder, as the user gave it
    fingerprint: str  # hub commit hash, or a hash of a local folder's config + weight sizes
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    projection_dim: int  # the embedding's width
    logit_scale: float
    family: str = "clip"  # engine.model.backbones: runs made before families are CLIP runs
    framing: Framing | None = None

    def to_dict(self) -> dict:
        d = {"ref": self.ref, "fingerprint": self.fingerprint, "image_size": self.image_size,
             "mean": list(self.mean), "std": list(self.std),
             "projection_dim": self.projection_dim, "logit_scale": self.logit_scale,
             "family": self.family}
        if self.framing is not None:  # an old run's info writes back exactly what it read
            d["framing"] = self.framing.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "BaseModelInfo":
        framing = Framing.from_dict(d["framing"]) if d.get("framing") is not None else None
        return cls(ref=d["ref"], fingerprint=d.get("fingerprint", ""), image_size=int(d["image_size"]),
                   mean=tuple(d["mean"]), std=tuple(d["std"]),
                   projection_dim=int(d["projection_dim"]), logit_scale=float(d["logit_scale"]),
                   family=str(d.get("family") or "clip"), framing=framing)


@contextlib.contextmanager
def quiet_transformers():
    """Keep loading quiet on the user's console: no load reports (e.g. the text tower's
    'UNEXPECTED keys' table), no progress bars, no library deprecation notes."""
    import warnings

    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing",
                                    category=FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _fingerprint(ref: str, config) -> str:
    commit = getattr(config, "_commit_hash", None)
    folder = Path(ref)
    if not commit and not folder.expanduser().exists():  # a hub id: the commit its cache holds
        from engine.model.hub import cached_commit  # (transformers 5 no longer sets the above)

        commit = cached_commit(ref)
    if commit:
        return str(commit)
    h = hashlib.sha256()
    if folder.is_dir():
        cfg = folder / "config.json"
        if cfg.is_file():
            h.update(cfg.read_bytes())
        for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
            h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()[:16]


def _friendly_load_error(ref: str, exc: Exception) -> ModelLoadError:
    local = Path(ref).expanduser()
    if local.exists():
        return ModelLoadError(_(
            "The folder {folder} does not hold a usable checkpoint ({error}). Choose a folder "
            "with config.json, model.safetensors and the processor files of a CLIP, SigLIP or "
            "DINOv2 model (as written by transformers' save_pretrained).").format(folder=local,
                                                      error=f"{type(exc).__name__}: {exc}"))
    return ModelLoadError(_(
        "Could not load the base model '{ref}': it is not a local folder, and downloading it "
        "failed ({error}). Check the spelling and your internet connection, or choose a local "
        "folder holding a CLIP checkpoint (or the offline demo model).").format(
        ref=ref, error=type(exc).__name__))


def load_base(ref: str):
    """(family, full model, processor) of a hub id or local folder; the full model includes
    the text tower when the family has one. Raises ModelLoadError in plain words."""
    from engine.libraries import ready
    from engine.model.backbones import family_of

    ready()  # the first transformers import, in one thread at a time (engine/libraries.py)
    try:
        with quiet_transformers():
            family = family_of(ref)
            full, processor = family.load(ref)
    except ModelLoadError:
        raise
    except Exception as exc:  # network, missing files, wrong architecture
        raise _friendly_load_error(ref, exc) from exc
    return family, full, processor


def base_model_info(ref: str, family, full, processor) -> BaseModelInfo:
    try:
        framing, mean, std = family.preprocessing(processor)
    except ValueError as exc:  # settings no family we know uses: refuse rather than guess
        raise ModelLoadError(_("The image processor of '{ref}' prepares pictures in a way "
                               "LoRA Studio cannot reproduce ({detail}).").format(
            ref=ref, detail=exc)) from exc
    scale, _bias = family.logit_scale_bias(full)
    return BaseModelInfo(
        ref=ref, fingerprint=_fingerprint(ref, full.config), image_size=framing.input_size,
        mean=mean, std=std, projection_dim=family.embedding_dim(family.vision_config(full.config)),
        logit_scale=scale, family=family.name, framing=framing)


def add_lora(vision, *, r: int, alpha: float, dropout: float, targets: Sequence[str],
             last_n_blocks: int = 0):
    """Wrap the image tower with LoRA adapters (peft); only LoRA weights stay trainable."""
    from peft import LoraConfig, get_peft_model

    from engine.model.backbones import family_of_module

    family = family_of_module(vision)
    n_layers = family.num_blocks(vision.config)
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, bias="none",
                     target_modules=family.lora_target_regex(targets, n_layers, last_n_blocks))
    with quiet_transformers():
        return get_peft_model(vision, cfg)


def image_embeddings(vision, pixel_values: torch.Tensor) -> torch.Tensor:
    from engine.model.backbones import family_of_module

    return family_of_module(vision).embed(vision, pixel_values)


class LinearHead(nn.Module):
    """logits = (scale * normalize(embedding) @ weight.T + bias) / temperature.

    The temperature is 1 while training; afterwards temperature scaling fits it on the
    validation split (engine.use.calibration), so the probabilities say how often the
    model is right. It is saved with the head; heads saved without one read as 1.
    """

    def __init__(self, dim: int, num_classes: int, scale: float, temperature: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, dim))
        self.bias = nn.Parameter(torch.zeros(num_classes))
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.register_buffer("temperature", torch.tensor(float(temperature)))
        nn.init.normal_(self.weight, std=dim ** -0.5)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        emb = F.normalize(emb.float(), dim=-1)
        return (self.scale * emb @ self.weight.t() + self.bias) / self.temperature

    def state_for_saving(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight.detach().float().cpu().contiguous(),
                "bias": self.bias.detach().float().cpu().contiguous(),
                "scale": self.scale.detach().float().cpu().reshape(1).contiguous(),
                "temperature": self.temperature.detach().float().cpu().reshape(1).contiguous()}

    @classmethod
    def from_saved(cls, tensors: dict[str, torch.Tensor], source: str = "<head>", *,
                   num_classes: int | None = None, dim: int | None = None,
                   advice: str = "") -> "LinearHead":
        """The head saved by state_for_saving(); a file whose tensors are not a head (or not
        one of `num_classes` x `dim`, when given) raises DamagedRunError naming `source`."""
        from engine.model.safety import check_tensor_fit
        from engine.safe_read import RESTORE, damaged

        advice = advice or RESTORE
        weight = tensors.get("weight")
        if not isinstance(weight, torch.Tensor) or weight.ndim != 2 or 0 in weight.shape or \
                not all(t.is_floating_point() for t in tensors.values()):
            names = ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(tensors.items())[:2])
            if len(tensors) > 2:
                names = _("{names} and {n} more").format(names=names, n=len(tensors) - 2)
            raise damaged(source, _("does not hold a classifier head"),
                          _("it has {tensors}").format(tensors=names or _("no tensors")), advice)
        rows, cols = weight.shape
        expected = {"weight": (num_classes or rows, dim or cols), "bias": (num_classes or rows,),
                    "scale": (1,)}
        if "temperature" in tensors:  # heads saved before calibration existed have none
            expected["temperature"] = (1,)
        check_tensor_fit(source, tensors, expected, _("this run's classifier head"), advice)
        temperature = float(tensors["temperature"].reshape(-1)[0]) if "temperature" in tensors \
            else 1.0
        if not 0.0 < temperature < float("inf"):
            raise damaged(source, _("does not hold a usable classifier head"),
                          _("its temperature is {value}, not a positive number").format(
                              value=temperature), advice)
        head = cls(cols, rows, float(tensors["scale"].reshape(-1)[0]), temperature)
        with torch.no_grad():
            head.weight.copy_(weight)
            head.bias.copy_(tensors["bias"])
        return head


class ImageClassifier(nn.Module):
    """vision tower (optionally LoRA-wrapped) -> projection -> normalised -> linear head."""

    def __init__(self, vision: nn.Module, head: LinearHead):
        from engine.model.backbones import family_of_module

        super().__init__()
        self.vision = vision
        self.head = head
        self.family = family_of_module(vision)
        # why the head could not start from class-name text ("" when it could): set by
        # build_classifier, which is where the processor and its tokenizer are known
        self.no_zero_shot = ""

    def embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.family.embed(self.vision, pixel_values)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(pixel_values))


def class_prototypes(embeddings: torch.Tensor, labels: torch.Tensor,
                     num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(unit-length mean of each class's normalised embeddings [C, D], which classes had
    images [C] bool): the weights of a nearest-centroid (class-prototype) head."""
    emb = F.normalize(embeddings.float(), dim=-1)
    sums = torch.zeros(num_classes, emb.shape[1]).index_add_(0, labels, emb)
    counts = torch.bincount(labels, minlength=num_classes)
    return F.normalize(sums, dim=-1), counts > 0


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    total = sum(p.numel() for p in module.parameters())
    return trainable, total


def build_classifier(ref: str, class_names: Sequence[str], *, head_init: str = "zero-shot",
                     templates: Sequence[str] = ("a photo of a {}.",), method: str = "lora",
                     lora_r: int = 8, lora_alpha: float = 32.0, lora_dropout: float = 0.1,
                     target_modules: Sequence[str] = ("q_proj", "v_proj"),
                     lora_last_n_blocks: int = 0, seed: int = 0,
                     log: Callable[[str], None] | None = None):
    """Load the base model and build the classifier to train. Returns (classifier, BaseModelInfo).

    The text tower (if any) is used for the zero-shot head and dropped before returning. A
    family without one, or a checkpoint whose tokenizer cannot be loaded, starts from the
    class prototypes (the training phases set them); the classifier's `no_zero_shot` then
    says why in words ("" when the zero-shot head was made).
    """
    from engine.model.backbones.text import missing_text

    family, full, processor = load_base(ref)
    info = base_model_info(ref, family, full, processor)
    no_zero_shot = missing_text(processor) if family.has_text else _(
        "{family} has no text tower").format(family=_(family.title))
    weights = None
    if head_init in ("zero-shot", "prototype") and not no_zero_shot:  # prototypes compare with it
        weights = family.text_embeddings(full, processor, class_names, templates)
    scale, bias = family.logit_scale_bias(full)
    vision = family.vision_from_full(full)
    del full  # frees the text tower
    for p in vision.parameters():
        p.requires_grad_(False)
    torch.manual_seed(seed)
    head = LinearHead(info.projection_dim, len(class_names), scale)
    if weights is not None:
        with torch.no_grad():
            head.weight.copy_(weights)
            head.bias.fill_(bias)  # SigLIP's shared bias: its own logits, same softmax
    # (head_init "prototype": the training phases set the head from image embeddings, which
    # need the decoded training images; until then it holds the zero-shot weights)
    if method == "lora":
        vision = add_lora(vision, r=lora_r, alpha=lora_alpha, dropout=lora_dropout,
                          targets=target_modules, last_n_blocks=lora_last_n_blocks)
    if log:
        log(_("Loaded base model {ref} (image size {size}, embedding {dim}).").format(
            ref=ref, size=info.image_size, dim=info.projection_dim))
    classifier = ImageClassifier(vision, head)
    classifier.no_zero_shot = no_zero_shot
    return classifier, info


def load_run_classifier(run_dir: str | Path, *, merge: bool = True):
    """Rebuild the trained classifier of a run folder from JSON + safetensors only.

    Returns (classifier in eval mode on CPU, run.json dict). Raises ModelLoadError with a
    clear message when the base model or the saved files do not match.
    """
    from engine.libraries import ready
    from engine.model.backbones import by_name

    from engine.model.safety import check_run_folder
    from engine.safe_read import damaged, read_safetensors

    ready()  # the first transformers / peft imports, in one thread at a time
    run_dir = Path(run_dir)
    meta = check_run_folder(run_dir)  # refuses pickles, odd adapter configs, a broken run.json
    info = BaseModelInfo.from_dict(meta["base_model"])
    head_path = run_dir / "head.safetensors"
    if not head_path.is_file():
        raise ModelLoadError(_("{path} has no trained head (head.safetensors is missing): the "
                               "run may have failed before its first save.").format(path=run_dir))
    head = LinearHead.from_saved(read_safetensors(head_path), str(head_path), dim=info.projection_dim)
    classes = meta["class_names"]
    if head.weight.shape[0] != len(classes):
        raise damaged(head_path, _("does not fit run.json"),
                      _("the head has {outputs} outputs but run.json lists {n} classes").format(
                          outputs=head.weight.shape[0], n=len(classes)))
    adapter = run_dir / "adapter"
    has_adapter = (adapter / "adapter_config.json").is_file()
    saved = read_safetensors(adapter / "adapter_model.safetensors") if has_adapter else None
    try:
        with quiet_transformers():
            family = by_name(info.family)
            vision = family.load_vision(info.ref)
    except Exception as exc:
        raise _friendly_load_error(info.ref, exc) from exc
    width = family.embedding_dim(vision.config)
    if width != head.weight.shape[1]:
        raise ModelLoadError(_(
            "The base model '{ref}' gives {dim}-dim embeddings but this run was trained on "
            "{trained}-dim ones: it needs the base model it was trained with.").format(
            ref=info.ref, dim=width, trained=head.weight.shape[1]))
    if saved is not None:
        vision = _load_adapter(vision, adapter, saved, info.ref)
        if merge:
            vision = vision.merge_and_unload()
    classifier = ImageClassifier(vision, head).eval()
    return classifier, meta


def _load_adapter(vision, adapter: Path, saved: dict, ref: str):
    """peft's own loading of adapter/, but an adapter that does not fit the base model (other
    tensor names or shapes) is refused with a message instead of a traceback or, worse, a
    silently partial load."""
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict

    from engine.model.safety import check_tensor_fit
    from engine.safe_read import damaged, read_json, short_detail

    weights = adapter / "adapter_model.safetensors"
    fits = _("the base model '{ref}'").format(ref=ref)
    cfg_path = adapter / "adapter_config.json"
    check_tensor_fit(weights, saved, adapter_shapes(vision.config, read_json(cfg_path),
                                                    cfg_path), fits)
    try:
        with quiet_transformers():
            model = PeftModel.from_pretrained(vision, str(adapter))
    except Exception as exc:  # anything check_tensor_fit could not foresee
        raise damaged(weights, _("does not fit {fits}").format(fits=fits),
                      short_detail(exc)) from exc
    check_tensor_fit(weights, saved, {k: tuple(v.shape) for k, v in
                                      get_peft_model_state_dict(model).items()}, fits)
    return model


def adapter_shapes(vision_config, adapter_config: dict, source: Path) -> dict[str, tuple]:
    """name -> shape of the LoRA tensors `adapter_config` adds to a vision tower of
    `vision_config`, as peft saves them; computed on the meta device (no memory, no weights)."""
    from peft import LoraConfig, get_peft_model
    from peft.utils import get_peft_model_state_dict

    from engine.model.backbones import family_of_config
    from engine.safe_read import FIT_ADVICE, damaged, short_detail

    fields = {k: v for k, v in adapter_config.items() if k in LoraConfig.__dataclass_fields__}
    try:
        with torch.device("meta"), quiet_transformers():
            shell = family_of_config(vision_config).vision_from_config(copy.deepcopy(vision_config))
            model = get_peft_model(shell, LoraConfig(**fields))
    except Exception as exc:  # e.g. target modules this base model does not have
        raise damaged(source, _("does not fit the base model"), short_detail(exc),
                      FIT_ADVICE) from exc
    return {k: tuple(v.shape) for k, v in get_peft_model_state_dict(model).items()}
