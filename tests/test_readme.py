"""The README stays true: its two commands exist, and it documents every config field."""
from __future__ import annotations

import re
from pathlib import Path

from engine.config import field_info

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands_and_they_exist():
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_config_field_is_documented():
    missing = [f.name for f in field_info() if f"`--{f.name.replace('_', '-')}`" not in README]
    assert not missing, f"README's configuration reference lacks: {missing}"


def test_screenshots_referenced_exist():
    for rel in re.findall(r"\]\((resources/[^)]+\.png)\)", README):
        assert (ROOT / rel).is_file(), rel


def test_presets_are_documented_with_their_values():
    from engine.config import PRESETS

    for name, values in PRESETS.items():
        line = next((ln for ln in README.splitlines() if ln.startswith(f"- *{name}*:")), None)
        assert line is not None, name
        for key, value in values.items():
            assert f"`{key}={value}`" in line, (name, key)
