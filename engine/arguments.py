"""Argument checks for the command line (python -m engine ...): every option is checked
when it is parsed.

Each function here is an argparse `type=`: it returns the checked value or raises
argparse.ArgumentTypeError with a plain sentence, which the parser prints on one line
after the option's name ("argument --top-k: must be at least 1, not -1") and exits 2.
So ranges, existing inputs and writable outputs are known good before any work starts.

Writability is tried, not guessed: os.access says yes to root on most folders, so a
folder is probed by creating (and at once removing) a hidden temporary entry in it.
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path
from typing import Callable

from engine.i18n import _

Check = Callable[[str], object]


def number(kind: type, low: float | None = None, high: float | None = None) -> Check:
    """An int or float option within [low, high] (either bound may be None)."""

    def check(text: str):
        try:
            value = kind(text)
        except ValueError:
            if kind is int:
                raise argparse.ArgumentTypeError(
                    _("expects a whole number, not '{value}'").format(value=text)) from None
            raise argparse.ArgumentTypeError(
                _("expects a number, not '{value}'").format(value=text)) from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                _("expects a finite number, not '{value}'").format(value=text))
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(
                _("must be at least {low}, not {value}").format(low=low, value=text))
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(
                _("must be at most {high}, not {value}").format(high=high, value=text))
        return value

    check.__name__ = kind.__name__  # argparse names the type in some of its own messages
    return check


def existing_path(text: str) -> str:
    """A file or folder that exists."""
    if not text.strip():
        raise argparse.ArgumentTypeError(_("needs a path, not an empty value"))
    if not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(_("{path} does not exist").format(path=text))
    return text


def existing_file(text: str) -> str:
    existing_path(text)
    if not Path(text).expanduser().is_file():
        raise argparse.ArgumentTypeError(_("{path} is a folder, not a file").format(path=text))
    return text


def existing_folder(text: str) -> str:
    existing_path(text)
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(_("{path} is a file, not a folder").format(path=text))
    return text


def dataset(text: str) -> str:
    """A dataset: a folder, or a CSV file of path,label."""
    existing_path(text)
    path = Path(text).expanduser()
    if path.is_file() and path.suffix.lower() != ".csv":
        raise argparse.ArgumentTypeError(
            _("{path} is a file but not a .csv list of path,label: give the dataset's folder "
              "or its CSV").format(path=text))
    return text


def run_folder(text: str) -> str:
    """A LoRA Studio run folder (it holds run.json)."""
    existing_folder(text)
    if not (Path(text).expanduser() / "run.json").is_file():
        raise argparse.ArgumentTypeError(
            _("{path} is not a LoRA Studio run folder (it has no run.json)").format(path=text))
    return text


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def folder_problem(path: Path) -> str:
    """Why files cannot be written in `path` (created if missing), or "" when they can."""
    path = Path(os.path.abspath(path.expanduser()))
    if path.exists() and not path.is_dir():
        return _("{path} is a file, not a folder").format(path=path)
    base = _nearest_existing(path)
    if not base.is_dir():
        return _("{path} cannot be created: {file} is a file, not a folder").format(
            path=path, file=base)
    try:  # create and remove a probe where the first new entry would go
        probe = tempfile.mkdtemp(prefix=".lora-studio-probe-", dir=base)
        os.rmdir(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if base == path:
            return _("the folder {path} cannot be written ({reason})").format(path=path,
                                                                            reason=reason)
        return _("the folder {path} cannot be created in {base} ({reason})").format(
            path=path, base=base, reason=reason)
    return ""


def writable_folder(text: str) -> str:
    """A folder that exists and can be written, or can be created."""
    if not text.strip():
        raise argparse.ArgumentTypeError(_("needs a folder, not an empty value"))
    problem = folder_problem(Path(text))
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def new_folder(text: str) -> str:
    """A folder to create: new, or existing and empty, and writable."""
    writable_folder(text)
    path = Path(text).expanduser()
    if path.is_dir() and any(path.iterdir()):
        raise argparse.ArgumentTypeError(
            _("{path} already exists and is not empty: choose a new folder").format(path=text))
    return text


def writable_file(suffixes: tuple[str, ...] = ()) -> Check:
    """A file to write (its folder writable), ending in one of `suffixes` when given."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(_("needs a file name, not an empty value"))
        path = Path(text).expanduser()
        if suffixes and path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                _("{name} must end in {suffixes}").format(
                    name=path.name or text, suffixes=_(" or ").join(suffixes)))
        if path.is_dir():
            raise argparse.ArgumentTypeError(
                _("{path} is a folder: give a file name").format(path=text))
        problem = folder_problem(path.parent if str(path.parent) else Path("."))
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return text

    check.__name__ = "file"
    return check


def config_number(name: str) -> Check:
    """The range check of a TrainConfig number field (its min/max metadata)."""
    import dataclasses

    from engine.config import TrainConfig

    f = next(f for f in dataclasses.fields(TrainConfig) if f.name == name)
    check = number(type(getattr(TrainConfig(), name)), f.metadata.get("min"),
                   f.metadata.get("max"))
    words = f.metadata.get("words", {})  # e.g. --batch-size auto (= 0)
    if not words:
        return check

    def check_or_word(text: str):
        return words.get(text.strip().lower()) if text.strip().lower() in words else check(text)

    check_or_word.__name__ = check.__name__
    return check_or_word
