"""Training configuration: one dataclass, one source of truth.

Each field carries `help` (used for the CLI's --help and the GUI's tooltips), a
`group` (the config tab's sections) and, where it applies, `choices` / `min` / `max`
(used by validation, the CLI and the GUI's widgets).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UserError
from engine.i18n import N_, _

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")
DEFAULT_TEMPLATES = (
    "a photo of a {}.",
    "a close-up photo of a {}.",
    "a photo of the {}, a type of object.",
    "a low resolution photo of a {}.",
)


class ConfigValueError(UserError, ValueError):
    """A value of a config file or dict that does not fit its field; the message names the
    field ("epochs: 'abc' is not a whole number"). Also a ValueError, as type errors of
    from_dict always were."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _f(default: Any, help: str, group: str, **extra: Any) -> Any:
    """A config field; `help` is stored in English (extracted for the catalogue as the
    2nd argument of _f) and translated where it is shown: field_help(), add_arguments()."""
    meta = {"help": help, "group": group, **extra}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    # --- data -----------------------------------------------------------------------
    data_dir: str = _f("", "Folder of labelled images (class folders, train/val/test folders, "
                       "the Stanford Dogs 'Images' folder, or a CSV of path,label).", "data")
    val_fraction: float = _f(0.15, "Share of each class held out for validation when the folder "
                             "has no val split of its own.", "data", min=0.0, max=0.5)
    test_fraction: float = _f(0.15, "Share of each class held out for the final test when the "
                              "folder has no test split of its own.", "data", min=0.0, max=0.5)
    split_seed: int = _f(42, "Seed of the automatic train/val/test split (same seed, same split).",
                         "data", min=0)
    augment: bool = _f(True, "Random resized crops and horizontal flips while training.", "data")
    color_jitter: float = _f(0.0, "Strength of random brightness/contrast/saturation changes "
                             "(0 = off).", "data", min=0.0, max=0.5, advanced=True)
    mixup: float = _f(0.0, "MixUp: blend training images in pairs, and their labels, by a share "
                      "drawn from Beta(alpha, alpha); this is alpha (0 = off, 0.2-0.4 usual).",
                      "data", min=0.0, max=10.0, advanced=True)
    cutmix: float = _f(0.0, "CutMix: paste a box of one training image into another, labels mixed "
                       "by the box's area; alpha of its Beta draw (0 = off, 1.0 usual).", "data",
                       min=0.0, max=10.0, advanced=True)
    mix_prob: float = _f(1.0, "Share of training batches mixed when MixUp or CutMix is on (with "
                         "both on, each mixed batch uses one of them, 50/50).", "data", min=0.0,
                         max=1.0, advanced=True)
    randaugment_ops: int = _f(0, "RandAugment: random operations applied to each training image "
                              "(rotate, shear, shift, brightness, contrast, colour, sharpness, "
                              "posterize, solarize, autocontrast); 0 = off, 2 usual. Like MixUp "
                              "and CutMix, no effect on cached inputs (linear probe, cached "
                              "frozen blocks).", "data", min=0, max=10, advanced=True)
    randaugment_magnitude: int = _f(9, "Strength of the RandAugment operations, 0-30.", "data",
                                    min=0, max=30, advanced=True)
    cache_max_mb: int = _f(2048, "Memory for decoded images; larger datasets spill to a disk cache.",
                           "data", min=64, advanced=True)
    cache_dir: str = _f("", "Folder for the on-disk decode cache (empty = the user cache folder).",
                        "data", advanced=True)
    # --- model ----------------------------------------------------------------------
    model: str = _f(DEFAULT_MODEL, "Base model: a Hugging Face id or a local folder holding a "
                    "transformers checkpoint of a CLIP (OpenAI or OpenCLIP), SigLIP / SigLIP 2 "
                    "or DINOv2 model.", "model")
    method: str = _f("lora", "'lora' fine-tunes the image encoder with LoRA; 'linear-probe' trains "
                     "only the classifier head on cached image embeddings (much faster on CPU).",
                     "model", choices=["lora", "linear-probe"])
    head_init: str = _f("zero-shot", "'zero-shot' starts the classifier from the text embeddings "
                        "of the class names (step 0 = the model's zero-shot accuracy; CLIP and "
                        "SigLIP); 'prototype' from the mean image embedding of each class's "
                        "training images (step 0 = nearest-centroid accuracy; the log compares it "
                        "with zero-shot; what models without text, DINOv2, always use); 'random' "
                        "reproduces the tutorial's randomly initialised head.", "model",
                        choices=["zero-shot", "prototype", "random"])
    init_from: str = _f("", "Run folder whose saved model (LoRA weights and head) a new run "
                        "starts from, to train on with other settings; it needs the same base "
                        "model, LoRA layout and classes (empty = start from the base model).",
                        "model", advanced=True)
    prompt_templates: list = _f(list(DEFAULT_TEMPLATES), "Prompts for the zero-shot head; {} is "
                                "replaced by each class's display name.", "model", advanced=True)
    # --- LoRA -----------------------------------------------------------------------
    lora_r: int = _f(8, "LoRA rank: size of the low-rank update (higher = more capacity).",
                     "lora", min=1, max=256)
    lora_alpha: float = _f(32.0, "LoRA scaling numerator (the update is scaled by alpha / r).",
                           "lora", min=0.0)
    lora_dropout: float = _f(0.1, "Dropout on the LoRA input, against overfitting small datasets. "
                             "Its random masks cost time: 0 trained 20-30 % faster in bf16 on "
                             "a 2-core AMX CPU (make bench measures it on yours).",
                             "lora", min=0.0, max=0.9)
    target_modules: list = _f(["q_proj", "v_proj"], "Layers of each encoder block that get LoRA.",
                              "lora", choices=list(LORA_TARGETS))
    lora_last_n_blocks: int = _f(0, "Adapt only the last N encoder blocks (0 = all blocks). "
                                 "Fewer blocks train faster.", "lora", min=0)
    cache_frozen_blocks: bool = _f(True, "With LoRA on the last N blocks and augmentation off, "
                                   "compute the frozen blocks once per image and train only "
                                   "the last N: later epochs run several times faster, for "
                                   "the same weights.", "lora", advanced=True)
    # --- optimisation ---------------------------------------------------------------
    epochs: int = _f(10, "Passes over the training images.", "training", min=1, max=10000)
    max_steps: int = _f(0, "Stop after this many optimizer steps (0 = use epochs).", "training",
                        min=0)
    batch_size: int = _f(32, "Images per step (per process); 0 or 'auto' = the largest batch "
                         "that fits the GPU's memory (a short probe), or one chosen from the free "
                         "RAM on a CPU. Out of memory mid-run halves it, accumulating gradients "
                         "to keep the effective batch.", "training", min=0, max=4096,
                         words={"auto": 0})
    grad_accum: int = _f(1, "Steps whose gradients are summed before each update (effective batch "
                         "= batch size x this).", "training", min=1, max=1024, advanced=True)
    lr: float = _f(5e-4, "Peak learning rate of AdamW for the LoRA weights.", "training",
                   min=0.0, max=1.0)
    head_lr: float = _f(1e-3, "Learning rate of the classifier head.", "training", min=0.0,
                        max=1.0, advanced=True)
    weight_decay: float = _f(0.01, "AdamW weight decay.", "training", min=0.0, max=1.0,
                             advanced=True)
    decay_bias: bool = _f(False, "Apply the weight decay to the classifier head's bias too, as "
                          "the tutorial's single AdamW over every parameter does (off: biases "
                          "are not decayed, the usual practice).", "training", advanced=True)
    warmup_ratio: float = _f(0.05, "Share of the steps spent warming the learning rate up before "
                             "the cosine decay.", "training", min=0.0, max=0.5, advanced=True)
    grad_clip: float = _f(1.0, "Clip the gradient norm to this value (0 = no clipping).",
                          "training", min=0.0, advanced=True)
    early_stop_patience: int = _f(3, "Stop when validation accuracy has not improved for this many "
                                  "epochs (0 = never stop early).", "training", min=0)
    seed: int = _f(42, "Seed for initialisation, data order and augmentation.", "training", min=0)
    class_balance: str = _f("auto", "Help small classes: 'weighted-loss' weights each class's "
                            "loss by its inverse frequency; 'balanced-sampler' draws every class "
                            "equally often; 'auto' weights the loss when the largest class has "
                            "3x the training images of the smallest or more (the log says so).",
                            "training", choices=["auto", "none", "weighted-loss",
                                                 "balanced-sampler"])
    tta: str = _f("off", "Test-time augmentation of the final evaluation: average the "
                  "calibrated probabilities of the image and its mirror ('flip'), plus 5 crops "
                  "('flip+crops': 7 views, 7x the time).", "training",
                  choices=["off", "flip", "flip+crops"], advanced=True)
    # --- hardware -------------------------------------------------------------------
    device: str = _f("auto", "Where to train: auto picks cuda, then mps, then cpu.", "hardware",
                     choices=["auto", "cpu", "cuda", "mps"])
    precision: str = _f("auto", "Number format: auto uses bf16 where the CPU/GPU supports it, fp16 "
                        "with loss scaling on older GPUs, fp32 otherwise.", "hardware",
                        choices=["auto", "bf16", "fp16", "fp32"])
    num_threads: int = _f(0, "CPU threads for torch (0 = all cores).", "hardware", min=0,
                          advanced=True)
    attention: str = _f("auto", "Attention kernel: auto picks eager for bf16 on a CPU (faster for "
                        "ViT's short sequences) and SDPA elsewhere; the log says which runs.",
                        "hardware", choices=["auto", "eager", "sdpa"], advanced=True)
    gradient_checkpointing: str = _f("auto", "Recompute each encoder block's activations in the "
                                     "backward pass instead of keeping them: far less memory, "
                                     "slower steps. auto: on when LoRA trains a large tower "
                                     "(width >= 1024 or >= 24 blocks, e.g. ViT-L/14).", "hardware",
                                     choices=["auto", "on", "off"], advanced=True)
    compile: bool = _f(False, "Compile the model with torch.compile before training: faster "
                       "steps after a one-off compile of about a minute (needs a C++ compiler "
                       "on a CPU); worth it for long runs only. Falls back to normal if it fails.",
                       "hardware", advanced=True)
    # --- output ---------------------------------------------------------------------
    output_dir: str = _f("runs", "Folder where run folders are created.", "output")
    run_name: str = _f("", "Name of the run folder (empty = dataset name + date and time).",
                       "output")
    resume_from: str = _f("", "Run folder to resume from its last checkpoint.", "output",
                          advanced=True)

    # ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (configs from newer versions still load).
        A value that does not fit its field raises ConfigValueError naming the field."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in data.items():
            if key in names:
                kwargs[key] = _coerce(names[key], value)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def validate(self) -> dict[str, str]:
        """Return {field name: plain-language problem}; empty when the config is usable."""
        problems: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            choices = meta.get("choices")
            if choices is not None:
                values = value if isinstance(value, list) else [value]
                bad = [v for v in values if v not in choices]
                if bad:
                    problems[f.name] = _("{values} is not one of {choices}.").format(
                        values=", ".join(map(str, bad)), choices=", ".join(choices))
                if isinstance(value, list) and not value:
                    problems[f.name] = _("Choose at least one.")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if "min" in meta and value < meta["min"]:
                    problems[f.name] = _("Must be at least {min}.").format(min=meta["min"])
                if "max" in meta and value > meta["max"]:
                    problems[f.name] = _("Must be at most {max}.").format(max=meta["max"])
        if self.val_fraction + self.test_fraction >= 0.9 and "val_fraction" not in problems:
            problems["val_fraction"] = _("Validation and test together must leave most images "
                                         "for training.")
        if not self.model.strip():
            problems["model"] = _("Choose a base model (a Hugging Face id or a local folder).")
        if self.method == "lora" and not self.target_modules:
            problems["target_modules"] = _("LoRA needs at least one target layer.")
        if any("{}" not in t for t in self.prompt_templates) or not self.prompt_templates:
            problems["prompt_templates"] = _("Every prompt template must contain {} for the "
                                             "class name.")
        return problems

    # --- files ----------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        path = Path(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=True), encoding="utf-8")
        else:
            path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(_("{path} does not hold a configuration (expected a mapping of "
                               "fields).").format(path=path))
        return cls.from_dict(data)


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    """`value` (from JSON, YAML or a GUI editor) as the type of field `f`; ConfigValueError
    naming the field when it cannot be read as one."""
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    shown = repr(value) if isinstance(value, str) else json.dumps(value, default=str)

    def wrong(template: str) -> ConfigValueError:  # an already translated sentence
        return ConfigValueError(template.format(field=f.name, value=shown), f.name)

    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        raise wrong(_("{field}: {value} is not true or false."))
    words = f.metadata.get("words", {})  # e.g. batch_size: "auto" means 0
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    if isinstance(default, int):
        number = _number(value)
        if number is None or number != int(number):
            raise wrong(_("{field}: {value} is not a whole number."))
        return int(number)
    if isinstance(default, float):
        number = _number(value)
        if number is None:
            raise wrong(_("{field}: {value} is not a number."))
        return number
    if isinstance(default, list):
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float))
                                                    for v in value):
            return [str(v) for v in value]
        raise wrong(_("{field}: {value} is not a list of texts."))
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        raise wrong(_("{field}: {value} is not a text."))
    return str(value)


def _number(value: Any) -> float | None:
    """A finite number from a number or a numeric text (YAML reads 5e-4 as text); None for
    anything else (true/false included: they are not numbers)."""
    import math

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def field_info() -> list[dataclasses.Field]:
    """The config's fields in declaration order (GUI and CLI build their forms from this)."""
    return list(dataclasses.fields(TrainConfig))


def field_help(f: dataclasses.Field | str) -> str:
    """A field's help text (a Field or a field name), in the current language."""
    if isinstance(f, str):
        f = next(x for x in field_info() if x.name == f)
    return _(f.metadata.get("help", ""))


# --- presets --------------------------------------------------------------------------
# The names are keys (the CLI's --preset, the GUI's buttons); preset_title() is what to show.
PRESETS: dict[str, dict[str, Any]] = {
    N_("Quick (CPU)"): {  # no augmentation: the 8 frozen blocks run once per image, not per step
        "method": "lora", "epochs": 5, "lora_last_n_blocks": 4, "lora_dropout": 0.0,
        "batch_size": 32, "augment": False, "cache_frozen_blocks": True,
        "early_stop_patience": 2,
    },
    N_("Linear probe (fastest)"): {"method": "linear-probe", "epochs": 10, "augment": False,
                               "head_lr": 1e-3, "batch_size": 64},
    N_("Tutorial recipe"): {  # exactly the tutorial's (engine/bench/tutorial_reference.py):
        # one AdamW at 5e-4, weight decay 0.01 on every parameter, cosine to 0 over all steps
        # without warm-up, no clipping, no augmentation, a random head, no early stopping
        "method": "lora", "epochs": 10, "lora_r": 8, "lora_alpha": 32.0, "lora_dropout": 0.1,
        "target_modules": ["q_proj", "v_proj"], "lora_last_n_blocks": 0, "lr": 5e-4,
        "head_lr": 5e-4, "weight_decay": 0.01, "decay_bias": True, "warmup_ratio": 0.0,
        "grad_clip": 0.0, "augment": False, "color_jitter": 0.0, "batch_size": 32,
        "head_init": "random", "early_stop_patience": 0, "class_balance": "none",
    },
    N_("Best accuracy (GPU)"): {
        # SigLIP 2 B/16: the best published zero-shot start at CLIP B/16's size (not measured
        # here: no machine of this project holds real weights; see README, "Choosing a base model")
        "method": "lora", "model": "google/siglip2-base-patch16-224", "epochs": 15, "lora_r": 16,
        "lora_alpha": 32.0, "target_modules": ["q_proj", "k_proj", "v_proj", "out_proj"],
        # the largest batch the GPU holds (batch_size 0 = auto), and the mirror image averaged
        # in at evaluation and prediction (tta), with its own fitted temperature
        "lora_last_n_blocks": 0, "batch_size": 0, "augment": True, "color_jitter": 0.1,
        "early_stop_patience": 4, "tta": "flip",
    },
}


# What a preset decides: every field that shapes the training itself. A preset sets each of
# them (to its own value, or else to the default), so the result never depends on what was
# set before it. The dataset and its split, the seed, the prompts, hardware and output stay
# the user's; the base model changes only with a preset that names one (PRESET_MODELS).
PRESET_FIELDS = ("method", "head_init", "lora_r", "lora_alpha", "lora_dropout", "target_modules",
                 "lora_last_n_blocks", "cache_frozen_blocks", "epochs", "max_steps", "batch_size",
                 "grad_accum", "lr", "head_lr", "weight_decay", "decay_bias", "warmup_ratio",
                 "grad_clip", "early_stop_patience", "augment", "color_jitter", "mixup",
                 "cutmix", "mix_prob", "randaugment_ops", "randaugment_magnitude",
                 "class_balance", "tta")
PRESET_MODELS = frozenset(p["model"] for p in PRESETS.values() if "model" in p)


def preset_values(name: str) -> dict[str, Any]:
    """Every value preset `name` sets: its own, and the default of each other PRESET_FIELDS."""
    default = TrainConfig()
    return {**{key: getattr(default, key) for key in PRESET_FIELDS}, **PRESETS[name]}


def apply_preset(config: TrainConfig, name: str, own_model: str | None = None) -> TrainConfig:
    """`config` with preset `name` applied: the same result whatever preset came before.

    A preset that names no base model leaves the user's: `own_model` (the model the user
    chose, when the caller knows it), else config.model unless another preset picked it,
    in which case it goes back to the default model."""
    values = preset_values(name)
    if "model" not in values:
        if own_model is not None:
            values["model"] = own_model
        elif config.model in PRESET_MODELS:
            values["model"] = DEFAULT_MODEL
    return config.replace(**values)


def active_preset(config: TrainConfig) -> str:
    """The preset whose every value `config` holds ("" when none: a setting was changed)."""
    for name in PRESETS:
        if all(getattr(config, key) == value for key, value in preset_values(name).items()):
            return name
    return ""


def preset_title(name: str) -> str:
    """A preset's name as shown to the user (PRESETS keys stay English)."""
    return _(name)


# --- command line ---------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser,
                  types: dict[str, Any] | None = None) -> None:
    """Add one --option per config field, with the field's help text; `types` maps a field
    name to the argparse type that checks its value (default: the field's Python type)."""
    types = types or {}
    for f in field_info():
        default = getattr(TrainConfig(), f.name)
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        shown = " ".join(map(str, default)) if isinstance(default, list) else default
        help_text = _("{help} (default: {default})").format(
            help=_(meta["help"]), default=shown).replace("%", "%%")
        if isinstance(default, bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        elif isinstance(default, list):
            parser.add_argument(flag, dest=f.name, nargs="+", default=None, help=help_text,
                                choices=meta.get("choices"), metavar=f.name.upper())
        else:
            kind = types.get(f.name, type(default))
            parser.add_argument(flag, dest=f.name, type=kind, default=None, help=help_text,
                                choices=meta.get("choices"))


def from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """Config from parsed arguments: fields given on the command line override `base`."""
    config = base or TrainConfig()
    changes = {f.name: getattr(args, f.name) for f in field_info()
               if getattr(args, f.name, None) is not None}
    return config.replace(**changes)


def to_command_line(config: TrainConfig) -> str:
    """The `python -m engine train ...` command that reproduces `config` (non-default fields only)."""
    import shlex

    default = TrainConfig()
    parts = ["python", "-m", "engine", "train"]
    for f in field_info():
        value = getattr(config, f.name)
        if value == getattr(default, f.name):
            continue
        flag = "--" + f.name.replace("_", "-")
        # a number with a word of its own is written as the word (batch size 0: auto)
        value = next((w for w, v in f.metadata.get("words", {}).items() if v == value), value)
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + f.name.replace("_", "-"))
        elif isinstance(value, list):
            parts.append(flag)
            parts.extend(shlex.quote(str(v)) for v in value)
        else:
            parts.extend([flag, shlex.quote(str(value))])
    return " ".join(parts)


def default_data_dir() -> Path:
    """Per-user folder for LoRA Studio's generated files (demo model, caches)."""
    import os

    env = os.environ.get("LORA_STUDIO_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "lora-studio"
