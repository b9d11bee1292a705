"""Getting a base model from the Hugging Face Hub: only the files the app loads, with
byte progress, and a plain message naming the model when that cannot be done.

transformers downloads silently (or to a console bar the GUI cannot see), so before a hub
id is loaded, fetch_model() puts its files into huggingface_hub's cache itself; loading by
the same id then finds every file there. The files are those the family's loader reads:
config, processor and tokenizer files (vocab.json + merges.txt, tokenizer.json,
sentencepiece's spiece.model / tokenizer.model, ...) and exactly one weights format. Hub
repositories often hold the same weights three to five times (PyTorch, Flax, TensorFlow,
OpenCLIP's own files): those are never fetched.

What huggingface_hub does for us: resolving "main" to a commit (recorded in the cache, so
an offline start later finds the files), keeping finished files, and resuming a file whose
connection dropped with an HTTP range request from its last whole 10 MB chunk. In
huggingface_hub 2.x that resumption happens within one call (up to 5 retries while bytes
keep coming); a file that still fails is deleted, so the next try starts that file again,
while the files that finished are kept.
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Callable

from engine.errors import ModelLoadError
from engine.i18n import _
from engine.libraries import ready  # huggingface_hub's first import: one thread at a time

Progress = Callable[[int, int], None]  # (bytes done, bytes in total)

# What the processors of CLIP, SigLIP (2) and DINOv2 read, besides the weights.
PROCESSOR_FILES = ("config.json", "preprocessor_config.json", "processor_config.json",
                   "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "tokenizer.json", "vocab.json", "merges.txt", "vocab.txt", "spiece.model",
                   "tokenizer.model", "sentencepiece.bpe.model")
_SAFETENSORS_SHARD = re.compile(r"model-\d+-of-\d+\.safetensors")
_BIN_SHARD = re.compile(r"pytorch_model-\d+-of-\d+\.bin")
_TRUE = ("1", "ON", "YES", "TRUE")
# A repository id: "name" or "owner/name" (huggingface_hub's validate_repo_id).
_REPO_ID = re.compile(r"[\w.\-]{1,96}(/[\w.\-]{1,96})?")


def is_hub_id(ref: str) -> bool:
    """True when `ref` names a hub repository rather than a local folder."""
    ref = ref.strip()
    if not ref or Path(ref).expanduser().exists() or "--" in ref or ".." in ref:
        return False
    return bool(_REPO_ID.fullmatch(ref)) and not ref.startswith((".", "~", "/"))


# True while huggingface_hub reads only its cache because fetch_model() found the Hub
# unreachable and the model cached (see _work_offline); the user's own HF_HUB_OFFLINE is not
# this.
_offline_by_us = False


def is_offline() -> bool:
    """The user's HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: read the cache only, never the network."""
    from huggingface_hub import constants

    return (constants.is_offline_mode() and not _offline_by_us) or any(
        os.environ.get(name, "").upper() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _work_offline(on: bool) -> None:
    """Switch huggingface_hub, and transformers which asks it, to its cache only (or back).

    When the Hub cannot be reached but the model is cached, loading it by its id still asks
    the Hub for optional files (transformers lists a repository's chat templates for every
    tokenizer and processor) and huggingface_hub retries each request for ~25 s: over a
    minute per load. Offline, the same load reads the cache at once. The next fetch_model()
    tries the network again.
    """
    from huggingface_hub import constants

    global _offline_by_us
    constants.HF_HUB_OFFLINE = on
    _offline_by_us = on


def choose_files(repo_files: list[str]) -> list[str]:
    """The files to download of a repository listing: processor files + one weights format
    (model.safetensors, else sharded safetensors + index, else pytorch_model*.bin). Files in
    sub-folders (onnx/, other variants) are never taken."""
    top = [f for f in repo_files if "/" not in f]
    return [f for f in PROCESSOR_FILES if f in top] + _weights(top)


def _weights(top: list[str]) -> list[str]:
    if "model.safetensors" in top:
        return ["model.safetensors"]
    shards = sorted(f for f in top if _SAFETENSORS_SHARD.fullmatch(f))
    if shards and "model.safetensors.index.json" in top:
        return ["model.safetensors.index.json"] + shards
    if "pytorch_model.bin" in top:
        return ["pytorch_model.bin"]
    shards = sorted(f for f in top if _BIN_SHARD.fullmatch(f))
    if shards and "pytorch_model.bin.index.json" in top:
        return ["pytorch_model.bin.index.json"] + shards
    return []


def describe_download(done: int, total: int) -> str:
    """"12.5 of 340.2 MB": a download's progress for people."""
    return _("{done:.1f} of {total:.1f} MB").format(done=done / 1e6, total=total / 1e6)


def fetch_model(ref: str, progress: Progress | None = None) -> str | None:
    """Make hub id `ref` loadable: download what is missing (online) or check the cache
    (offline). Returns the cached snapshot folder, or None for a local folder. Raises
    ModelLoadError with a message for the user."""
    if not is_hub_id(ref):
        return None
    ready()
    if is_offline():
        return cached_model(ref)
    if _offline_by_us:
        _work_offline(False)  # the network may be back
    return download_model(ref, progress or (lambda done, total: None))


def download_model(ref: str, progress: Progress) -> str:
    """Download the files of hub id `ref` that the app needs into huggingface_hub's cache,
    reporting (bytes done, bytes total); returns the snapshot folder."""
    ready()
    from huggingface_hub import HfApi, hf_hub_download

    arrived = [False]  # bytes came in this call: tells "interrupted" from "unreachable"
    try:
        api = HfApi()
        commit = api.resolve_revision(ref).resolved  # "main" -> commit, recorded in the cache
        siblings = api.model_info(ref, revision=commit, files_metadata=True).siblings or []
        sizes = {s.rfilename: int(s.size or 0) for s in siblings}
        names = choose_files(list(sizes))
        if not _weights(names):
            raise ModelLoadError(_("'{ref}' has no PyTorch weights (model.safetensors or "
                                   "pytorch_model.bin) that LoRA Studio can load.").format(ref=ref))
        total, finished = sum(sizes[n] for n in names), 0
        progress(0, total)
        path = ""
        for name in names:
            def on_bytes(n: int, before: int = finished) -> None:
                arrived[0] = True
                progress(min(before + n, total), total)

            path = hf_hub_download(ref, name, revision=commit, tqdm_class=_file_bytes(on_bytes))
            finished += sizes[name]
            progress(finished, total)
        return str(Path(path).parent)
    except ModelLoadError:
        raise
    except Exception as exc:  # only the failures explained below; anything else is a bug
        plain = _plain_error(ref, exc, interrupted=arrived[0])
        if plain is None:
            raise
        if _is_network(exc):  # no connection, but an earlier download may be complete
            try:
                folder = cached_model(ref)
            except ModelLoadError:
                pass
            else:
                _work_offline(True)
                return folder
        raise plain from exc


def cached_model(ref: str) -> str:
    """The snapshot folder of `ref` in huggingface_hub's cache when its config and weights
    are there (no network); else ModelLoadError."""
    ready()
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(ref, "config.json")
    if not isinstance(config, str):
        raise _not_downloaded(ref)
    folder = Path(config).parent
    if not _weights_complete(folder):
        raise ModelLoadError(_(
            "'{ref}' was only partly downloaded (its weights are missing), and it cannot be "
            "downloaded now. Connect to the internet (and unset HF_HUB_OFFLINE if it is set) "
            "to finish the download.").format(ref=ref))
    return str(folder)


def _not_downloaded(ref: str) -> ModelLoadError:
    return ModelLoadError(_(
        "'{ref}' has not been downloaded on this computer, and downloads are switched off "
        "(HF_HUB_OFFLINE is set). Connect to the internet and unset HF_HUB_OFFLINE to "
        "download it once, or choose a local folder holding the model.").format(ref=ref))


def cached_commit(ref: str) -> str | None:
    """The commit whose files the cache serves for hub id `ref` ("main" as last resolved):
    what run.json should record (transformers 5 no longer sets config._commit_hash)."""
    ready()
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(ref, "config.json")
    return Path(config).parent.name if isinstance(config, str) else None


def _weights_complete(folder: Path) -> bool:
    """One weights format is wholly in `folder` (every shard an index lists)."""
    import json

    for single, index in (("model.safetensors", "model.safetensors.index.json"),
                          ("pytorch_model.bin", "pytorch_model.bin.index.json")):
        if (folder / single).is_file():
            return True
        if (folder / index).is_file():
            try:
                shards = set(json.loads((folder / index).read_text("utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, AttributeError):
                continue
            if shards and all((folder / s).is_file() for s in shards):
                return True
    return False


def _file_bytes(report: Callable[[int], None]):
    """A tqdm_class for hf_hub_download: huggingface_hub's downloaders (plain HTTP and Xet)
    call update(n) with the bytes of the file written so far (negative when a resumed file
    has to start again); report() gets the running count. Nothing is drawn."""

    class FileBytes:
        def __init__(self, *args, initial: int = 0, total: int | None = None, **kwargs):
            self.n, self.total = int(initial or 0), total
            if self.n:
                report(self.n)

        def update(self, n: int | float | None = 1) -> None:
            self.n += int(n or 0)
            report(self.n)

        def update_transfer(self, n=1) -> None:
            pass  # network bytes (compressed, deduplicated): not the file's progress

        def set_postfix_str(self, *args, **kwargs) -> None:
            pass

        set_transfer_postfix_str = set_description = set_description_str = set_postfix_str

        def refresh(self, *args, **kwargs) -> None:
            pass

        def close(self) -> None:
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.close()

    return FileBytes


def _is_network(exc: BaseException) -> bool:
    """The connection failed, timed out, dropped mid-file, or the Hub is down for now."""
    import httpx2
    from huggingface_hub.errors import (HfHubHTTPError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RevisionResolutionError)

    if isinstance(exc, OfflineModeIsEnabled):  # the user's choice, not a failure
        return False
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status >= 500 or status in (408, 429)
    return isinstance(exc, (httpx2.TransportError, LocalEntryNotFoundError,
                            RevisionResolutionError, ConnectionError)) or \
        (isinstance(exc, OSError) and "Consistency check failed" in str(exc))


def _plain_error(ref: str, exc: BaseException, interrupted: bool) -> ModelLoadError | None:
    """The user's words for a failed download, or None for an error that is a bug."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0] if lines else ''}"  # for whoever helps the user
    if isinstance(exc, GatedRepoError):
        return ModelLoadError(_(
            "'{ref}' is a gated model: open its page on huggingface.co, accept its conditions, "
            "log in on this computer with `hf auth login`, then try again.").format(ref=ref))
    if isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError)):
        return ModelLoadError(_(
            "'{ref}' was not found on the Hugging Face Hub. Check the spelling: a model id looks "
            "like organisation/name, for example openai/clip-vit-base-patch32. If it is a "
            "private model, log in first with `hf auth login`.").format(ref=ref))
    if isinstance(exc, OfflineModeIsEnabled):
        return _not_downloaded(ref)
    if isinstance(exc, HfHubHTTPError) and not _is_network(exc):
        return ModelLoadError(_(
            "The Hugging Face Hub refused to send '{ref}' ({detail}). Check the model id, and "
            "log in with `hf auth login` if the model needs an account.").format(
            ref=ref, detail=detail))
    if _is_network(exc):
        if interrupted:
            return ModelLoadError(_(
                "The download of '{ref}' stopped before it was complete: the connection to the "
                "Hugging Face Hub was lost. Try again: the files that finished downloading are "
                "kept. ({detail})").format(ref=ref, detail=detail))
        return ModelLoadError(_(
            "Could not download '{ref}': the Hugging Face Hub cannot be reached. Check your "
            "internet connection (and proxy settings), then try again. Without internet, "
            "choose a local folder holding the model, or the offline demo model. "
            "({detail})").format(ref=ref, detail=detail))
    disk_full = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))  # EDQUOT: not on Windows
    if isinstance(exc, OSError) and exc.errno in disk_full:
        return ModelLoadError(_(
            "There is not enough free disk space to download '{ref}' into {folder}. Free some "
            "space, or set HF_HOME to a folder on a larger disk, and try again.").format(
            ref=ref, folder=constants.HF_HUB_CACHE))
    if isinstance(exc, OSError) and exc.errno is not None:
        return ModelLoadError(_(
            "Could not save the download of '{ref}' in {folder} ({detail}). Check that you may "
            "write there, or set HF_HOME to another folder.").format(
            ref=ref, folder=constants.HF_HUB_CACHE, detail=detail))
    return None
