"""The command line's argument checks: engine.arguments' (ranges, paths) plus the base
model reference, which needs the hub's idea of a repository id."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.arguments import (config_number, dataset, existing_file, existing_folder,  # noqa: F401
                              existing_path, folder_problem, new_folder, number, run_folder,
                              writable_file, writable_folder)
from engine.errors import UserError
from engine.i18n import _


def model_ref(text: str) -> str:
    """A base model: an existing local folder or a Hugging Face id (owner/name)."""
    from engine.model.hub import is_hub_id

    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(
                _("{path} is a file: give a model folder or a Hugging Face id").format(path=text))
        return text
    if not is_hub_id(text):
        raise argparse.ArgumentTypeError(
            _("{ref} is neither a folder here nor a Hugging Face id such as "
              "openai/clip-vit-base-patch32").format(ref=text))
    return text


def require_writable(folder: str | Path, advice: str) -> None:
    """Before any work: a default output folder (one no option named) can be written;
    otherwise UserError: why not, then `advice` (what to do instead)."""
    problem = folder_problem(Path(folder))
    if problem:  # a sentence of its own here: it starts with a capital
        raise UserError(_("{problem}. {advice}").format(problem=problem[:1].upper() + problem[1:],
                                                         advice=advice))
