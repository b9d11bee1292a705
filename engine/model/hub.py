"""Downloading a base model from the Hugging Face Hub with visible progress.

transformers downloads silently (or to a console progress bar the GUI cannot see), so
before loading a hub id we fetch the files ourselves with a progress callback. Any
failure here is ignored: engine.model.classifier.load_clip then either finds the files in the cache
or raises its plain-language ModelLoadError (offline, misspelt id, ...).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

# Files load_clip needs; one weights format is enough.
_SMALL_FILES = ["*.json", "*.txt"]  # configs, tokenizer vocab + merges


def needs_download(ref: str) -> bool:
    """True when `ref` is a hub id and downloads are allowed (not a local folder, not offline)."""
    offline = os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "TRUE", "yes") or \
        os.environ.get("TRANSFORMERS_OFFLINE", "") in ("1", "true", "TRUE", "yes")
    return bool(ref.strip()) and not Path(ref).expanduser().exists() and not offline


def choose_files(repo_files: list[str]) -> list[str]:
    """Allow-patterns for snapshot_download: configs + tokenizer + one weights format."""
    top = [f for f in repo_files if "/" not in f]
    if "model.safetensors" in top:
        weights = ["model.safetensors"]
    elif any(f.endswith(".safetensors") for f in top):
        weights = ["*.safetensors"]
    else:
        weights = ["pytorch_model.bin", "pytorch_model-*.bin", "pytorch_model.bin.index.json"]
    return _SMALL_FILES + weights


def _tqdm_reporting_to(report: Callable[[int, int], None]):
    from tqdm.auto import tqdm

    class ReportingTqdm(tqdm):
        """A silent tqdm that forwards byte counts to `report`."""

        def __init__(self, *args, **kwargs):
            kwargs["disable"] = False
            kwargs["file"] = open(os.devnull, "w")  # noqa: SIM115 - closed in close()
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            result = super().update(n)
            if self.unit == "B" and self.total:
                report(int(self.n), int(self.total))
            return result

        def close(self):
            f = self.fp
            super().close()
            if f is not None and not f.closed:
                f.close()

    return ReportingTqdm


def download_model(ref: str, progress: Callable[[int, int], None]) -> str | None:
    """Fetch a hub model into the local cache; returns its folder, or None when that failed."""
    try:
        from huggingface_hub import HfApi, snapshot_download

        files = [s.rfilename for s in (HfApi().model_info(ref).siblings or [])]
        return snapshot_download(ref, allow_patterns=choose_files(files),
                                 tqdm_class=_tqdm_reporting_to(progress))
    except Exception:  # load_clip reports the problem in plain words
        return None
