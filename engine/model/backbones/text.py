"""The text side of a checkpoint with a text tower: its processor with the tokenizer, or, when
the tokenizer cannot be loaded, its image processor alone and the reason in words.

A tokenizer is only needed for the zero-shot head (class names read as text). A CLIP or
SigLIP folder whose tokenizer files are missing (someone copied config.json and the
weights only), or whose tokenizer needs a package that is not installed, still has a
perfectly good image tower: training starts from the class prototypes instead and says
why, and only the zero-shot command, which needs the text, refuses.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine.i18n import _

# The files a transformers tokenizer is read from (any one of them makes a tokenizer).
TOKENIZER_FILES = ("tokenizer.json", "spiece.model", "tokenizer.model", "vocab.json",
                   "sentencepiece.bpe.model")


@dataclass
class ImageOnlyProcessor:
    """Stands for a processor whose tokenizer could not be loaded: the family's code reads
    `image_processor` as usual and finds `tokenizer` None; `missing_text` says why."""

    image_processor: Any
    missing_text: str
    tokenizer: None = None


def missing_text(processor) -> str:
    """Why the zero-shot head cannot be made with `processor` ("" when it can)."""
    if getattr(processor, "tokenizer", None) is None:
        return getattr(processor, "missing_text", "") or _("it has no tokenizer")
    return ""


def _reason(ref: str, exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if "sentencepiece" in text.lower():
        return _("its tokenizer (a SentencePiece model) needs the sentencepiece package, which "
                 "is not installed: pip install sentencepiece")
    folder = Path(ref).expanduser()
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        return _("the folder has no tokenizer files ({names})").format(
            names=", ".join(TOKENIZER_FILES[:3]))
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _("its tokenizer could not be loaded ({error})").format(error=first_line[:200])


def processor_with_text(ref: str, load_processor: Callable[[str], Any]):
    """`load_processor(ref)` (processor + tokenizer), or an ImageOnlyProcessor when only the
    tokenizer failed. An image processor that fails too raises its own error."""
    try:
        return load_processor(ref)
    except Exception as exc:  # noqa: BLE001 - any tokenizer failure; the image side decides
        from transformers import AutoImageProcessor

        image_processor = AutoImageProcessor.from_pretrained(ref)
        return ImageOnlyProcessor(image_processor, _reason(ref, exc))


__all__ = ["ImageOnlyProcessor", "TOKENIZER_FILES", "missing_text", "processor_with_text"]
