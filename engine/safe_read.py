"""Reading the files of a run folder: only JSON, safetensors and weights-only torch state, and
a damaged file becomes one plain message naming it.

A run folder may come from someone else, or be damaged: a file truncated by a full disk or
a crash, emptied, or replaced by something else. Every file of a run is read through the
helpers here (read_json, read_safetensors, read_torch_state), which never unpickle code and
turn whatever the parser raises into a DamagedRunError naming the file, saying what is wrong
with it and what to do next, instead of a traceback. They sit at the ground of the engine
(beside errors and runs) so the run listing can use them without the model wing;
engine.model.safety adds the checks that need to know what a model is.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.errors import DamagedRunError
from engine.i18n import N_, _

# Advice is stored in English and translated by damaged() (and by callers that show it).
RESTORE = N_("Train the run again, or restore the run folder from a backup.")
FIT_ADVICE = N_("Train the run again, or restore the run folder from a backup (or, if the base "
                "model was replaced, the base model the run was trained with).")
RESUME_ADVICE = N_("Its last checkpoint cannot be resumed: start a new run, or restore the run "
                   "folder from a backup.")


# --- one message for every kind of damage ----------------------------------------------
def short_detail(exc: BaseException) -> str:
    """The parser's own words, on one short line (torch's run over several paragraphs)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def damaged(path: str | os.PathLike, what: str, detail: str = "",
            advice: str = RESTORE) -> DamagedRunError:
    """'<path> <what> (<detail>): the run folder is damaged. <advice>'

    `what` ("is empty (0 bytes)") and `advice` are translated here too, so a caller may pass
    them marked with N_() or already translated with _() (a translation is not a msgid)."""
    detail = detail if len(detail) <= 240 else detail[:237] + "..."
    if detail:
        text = _("{path} {what} ({detail}): the run folder is damaged. {advice}")
    else:
        text = _("{path} {what}: the run folder is damaged. {advice}")
    return DamagedRunError(text.format(path=path, what=_(what), detail=detail, advice=_(advice)),
                           str(path))


def _read_bytes(path: Path, advice: str) -> bytes:
    """The file's bytes; FileNotFoundError is left to the caller (missing is not damaged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise damaged(path, _("is a folder instead of a file"), advice=advice) from None
    except PermissionError as exc:
        raise DamagedRunError(_("{path} cannot be read ({error}): check that you may read the "
                                "files of this run folder.").format(path=path, error=exc.strerror),
                              str(path)) from None
    except OSError as exc:
        raise damaged(path, _("cannot be read"), exc.strerror or short_detail(exc),
                      advice) from None
    if not data:
        raise damaged(path, _("is empty (0 bytes)"), advice=advice)
    return data


def read_json(path: str | os.PathLike, *, expect: type | None = dict,
              advice: str = RESTORE) -> Any:
    """JSON from `path` (an object unless `expect` says otherwise), or a DamagedRunError."""
    path = Path(path)
    raw = _read_bytes(path, advice)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise damaged(path, _("is truncated or not valid JSON"), short_detail(exc),
                      advice) from None
    if expect is not None and not isinstance(data, expect):
        raise damaged(path, _("has the wrong contents"),
                      _("it holds {kind} instead of a JSON object").format(kind=_json_kind(data)),
                      advice)
    return data


def _json_kind(value: Any) -> str:
    for kind, name in ((bool, N_("true/false")), (str, N_("a text")), (list, N_("a list")),
                       (dict, N_("an object")), ((int, float), N_("a number"))):
        if isinstance(value, kind):
            return _(name)
    return "null"


def read_safetensors(path: str | os.PathLike, *, advice: str = RESTORE) -> dict:
    """Every tensor of a safetensors file (on the CPU), or a DamagedRunError naming it."""
    from safetensors.torch import load

    path = Path(path)
    raw = _read_bytes(path, advice)
    try:
        return load(raw)
    except Exception as exc:  # SafetensorError and friends: the bytes are not safetensors
        raise damaged(path, _("is truncated or not a safetensors file"), short_detail(exc),
                      advice) from None


def read_torch_state(path: str | os.PathLike, *, map_location=None,
                     advice: str = RESUME_ADVICE) -> dict:
    """An optimizer/scheduler state saved with torch.save, read with weights_only=True (no
    code can run), or a DamagedRunError naming the file."""
    import warnings

    import torch

    path = Path(path)
    _read_bytes(path, advice)  # missing, empty or unreadable: said plainly first
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes about pickle protocols of foreign files
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, a pickle asking to run code...
        raise damaged(path, _("is truncated or not a state file saved by LoRA Studio"),
                      _torch_detail(exc), advice) from None
    if not isinstance(state, dict):
        raise damaged(path, _("has the wrong contents"),
                      _("it holds a {type}, not a saved state").format(type=type(state).__name__),
                      advice)
    return state


def _torch_detail(exc: BaseException) -> str:
    """torch.load's point, without its paragraphs of advice (to load unsafely: never here)."""
    text = " ".join(str(exc).split())
    if "WeightsUnpickler error:" in text:  # a pickle weights_only refuses to run
        reason = text.split("WeightsUnpickler error:", 1)[1].split(" Check the documentation")[0]
        return _("not plain tensors: {reason}").format(reason=reason.strip().rstrip("."))
    return short_detail(text.split(". ")[0] or exc)


def safetensors_problem(path: str | os.PathLike) -> str:
    """Why `path` is not a complete safetensors file ('' if it looks fine), from its header
    alone: cheap enough for a run listing, and needs neither torch nor safetensors."""
    path = Path(path)
    what, detail = _("is truncated or not a safetensors file"), ""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if size == 0:
                what = _("is empty (0 bytes)")
            elif size < 8 or not 2 <= n <= min(size - 8, 100_000_000):
                detail = _("invalid header length")
            else:
                header = json.loads(fh.read(n).decode("utf-8"))
                end = max((int(v["data_offsets"][1]) for k, v in header.items()
                           if k != "__metadata__"), default=0)
                if 8 + n + end == size:
                    return ""
                detail = _("{size} bytes, the header describes {described}").format(
                    size=size, described=8 + n + end)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        detail = detail or short_detail(exc)
    return str(damaged(path, what, detail))
