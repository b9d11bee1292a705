"""A JSON or YAML config file's settings, for `train --config` and `sweep --config`."""
from __future__ import annotations

import json
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _


def read_mapping(path: Path) -> dict:
    """The settings of a JSON/YAML config file (only the keys it sets)."""
    if not path.is_file():
        raise UserError(_("The config file {path} does not exist.").format(path=path))
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
    except Exception as exc:  # syntax errors, unreadable file
        raise UserError(_("Cannot read the config file {path}: {error}").format(
            path=path, error=exc)) from None
    if not isinstance(data, dict):
        raise UserError(_("The config file {path} must hold a mapping of settings.").format(
            path=path))
    return data
