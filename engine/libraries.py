"""The third-party libraries the engine loads lazily: first imported in one place, one thread
at a time, before any engine work.

Why: a first import of transformers (or torch) is not safe against a second thread doing a
first import at the same moment. transformers 5 installs a lazy module while its package
is still initialising, and its packages import each other in circles, so a thread that
asks for `from transformers import AutoConfig` while another is halfway through `import
transformers` gets "cannot import name 'AutoConfig'" or "partially initialized module
'transformers.utils'" (measured here: 2 of 3 fresh interpreters with four threads). The
app met this on every start after the first: the warm-up imported transformers in the
background while the training worker imported from it.

The rule: every thread that does engine work calls `ready()` first. The first caller
imports everything in `STAGES` (and resolves the transformers / peft names the engine
uses, which are themselves lazy) under one lock; any other caller waits on that lock until
the imports are complete; later calls cost one set lookup. It is a wait on the finished
import, never a retry or a sleep. The app's warm-up calls it right after the window shows,
every GUI worker calls it before its job, and the engine's own model-loading entry points
call it too, so a script that starts threads of its own is safe as well.
tests/test_libraries.py checks that every transformers and peft name imported anywhere in
engine/ or gui/ is resolved here.
"""
from __future__ import annotations

import contextlib
import importlib
import threading
import time

# Stage name -> modules imported in it, in the order a first run would import them.
# "torch" is what hardware detection needs; "all" is everything a model needs.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("torch", ("numpy", "PIL.Image", "torch", "torch.nn.functional")),
    ("all", (
        "safetensors.torch",
        "tqdm.auto",
        "huggingface_hub",
        "huggingface_hub.constants",
        "huggingface_hub.errors",
        "tokenizers",
        "sentencepiece",  # SigLIP's published tokenizer (spiece.model)
        "google.protobuf",  # sentencepiece models converted to fast tokenizers
        "transformers",
        "transformers.utils",
        "transformers.utils.logging",
        "transformers.models.clip.modeling_clip",
        "transformers.models.siglip.modeling_siglip",
        "transformers.models.dinov2.modeling_dinov2",
        "peft",
        "peft.utils",
        "peft.tuners.tuners_utils",  # merging LoRA after rounding the base weights
        "accelerate",
        "accelerate.utils",
        "accelerate.state",
        "tensorboardX",
        "sklearn.metrics",
        "sklearn.linear_model",
        "sklearn.model_selection",
        "sklearn.cluster",  # sorting's "Ask me" order
        "sklearn.decomposition",  # the map's quick layout, sorting's clusters
        "sklearn.neighbors",  # the map bench's neighbour check
        "openTSNE",  # the map's refined layout (its compiled parts: a second of import)
        "scipy.optimize",
        "cleanlab.filter",  # the data check
        "cleanlab.rank",
        "captum.attr",  # heat maps
        "onnxruntime",  # the onnx / onnx-int8 prediction backends (optional: skipped if absent)
    )),
)

# Names the engine takes from the lazy top-level modules (transformers resolves each name
# on first access by importing its submodule: that access is a first import too).
NAMES: dict[str, tuple[str, ...]] = {
    "transformers": (
        "AutoConfig", "AutoImageProcessor", "AutoModel", "AutoProcessor", "AutoTokenizer",
        "CLIPConfig", "CLIPImageProcessor", "CLIPModel", "CLIPProcessor", "CLIPTokenizer",
        "CLIPTokenizerFast", "CLIPVisionConfig", "CLIPVisionModel",
        "CLIPVisionModelWithProjection",
        "SiglipConfig", "SiglipImageProcessor", "SiglipModel", "SiglipProcessor",
        "SiglipTokenizer", "SiglipVisionModel", "GemmaTokenizer", "GemmaTokenizerFast",
        "Dinov2Config", "Dinov2Model", "Dinov2WithRegistersModel", "BitImageProcessor",
        "CLIPImageProcessorPil", "SiglipImageProcessorPil", "BitImageProcessorPil",
        "PreTrainedTokenizerFast",
    ),
    "peft": ("LoraConfig", "PeftModel", "get_peft_model", "get_peft_model_state_dict",
             "set_peft_model_state_dict"),
    "peft.utils": ("get_peft_model_state_dict", "set_peft_model_state_dict"),
    "huggingface_hub": ("HfApi", "snapshot_download", "hf_hub_download", "try_to_load_from_cache"),
}

_lock = threading.RLock()  # re-entrant: an engine entry point may call ready() inside a worker
_done: set[str] = set()
spent: dict[str, float] = {}  # seconds per module, for the start-up benchmark


def _import_stage(modules: tuple[str, ...]) -> None:
    for name in modules:
        start = time.perf_counter()
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # an optional part that is not installed: its user says so in words
        with _quiet(name):
            for attr in NAMES.get(name, ()):
                try:
                    getattr(module, attr)
                except (AttributeError, ImportError):
                    pass  # not in this version: the code that needs it reports it plainly
        spent[name] = time.perf_counter() - start


@contextlib.contextmanager
def _quiet(module: str):
    """Resolving e.g. CLIPImageProcessor without torchvision logs a fallback notice: it says
    nothing to a user, so transformers stays at error level while the names resolve."""
    if module != "transformers":
        yield
        return
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def ready(stage: str = "all") -> None:
    """Return once every library of `stage` (and of the stages before it) is imported.

    Safe from any thread and at any time; only the first call of a stage does work, and
    callers that arrive while it does wait for it to finish.
    """
    if stage in _done:
        return
    names = [name for name, _ in STAGES]
    if stage not in names:
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(names)}")
    with _lock:
        for name, modules in STAGES[:names.index(stage) + 1]:
            if name not in _done:
                _import_stage(modules)
                _done.add(name)


def is_ready(stage: str = "all") -> bool:
    return stage in _done


__all__ = ["NAMES", "STAGES", "is_ready", "ready", "spent"]
