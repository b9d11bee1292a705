"""The READMEs stay true: their two commands exist, and they document every config field.

README.zh-CN.md (for Chinese readers) is held to the same checks as README.md, so the two
stay in step: same commands, every config flag, every preset, every CLI command, and
screenshots of the Chinese window."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.config import field_info

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
BOTH = pytest.mark.parametrize("readme", [README, README_ZH], ids=["en", "zh-CN"])


@BOTH
def test_readme_opens_with_the_two_commands_and_they_exist(readme):
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@BOTH
def test_every_config_field_is_documented(readme):
    missing = [f.name for f in field_info() if f"`--{f.name.replace('_', '-')}`" not in readme]
    assert not missing, f"README's configuration reference lacks: {missing}"


@BOTH
def test_screenshots_referenced_exist(readme):
    for rel in re.findall(r"\]\((resources/[^)]+\.png)\)", readme):
        assert (ROOT / rel).is_file(), rel


def test_the_chinese_readme_shows_the_chinese_window_and_the_two_link_each_other():
    english = set(re.findall(r"\]\(resources/screenshots/([^/)]+\.png)\)", README))
    chinese = set(re.findall(r"\]\(resources/screenshots/zh_CN/([^/)]+\.png)\)", README_ZH))
    assert english and chinese == english
    assert "README.zh-CN.md" in README and "README.md" in README_ZH


def test_the_chinese_readme_covers_every_command_of_the_english_one():
    pattern = r"python -m engine ([a-z][a-z-]+)"
    assert set(re.findall(pattern, README)) <= set(re.findall(pattern, README_ZH))


@BOTH
def test_presets_are_documented_with_their_values(readme):
    from engine.config import PRESETS

    for name, values in PRESETS.items():
        line = next((ln for ln in readme.splitlines() if ln.startswith(f"- *{name}*")), None)
        assert line is not None, name
        for key, value in values.items():
            assert f"`{key}={value}`" in line, (name, key)


@BOTH
def test_the_model_table_lists_every_family_and_its_recommended_checkpoints(readme):
    from engine.model.backbones import FAMILIES

    for family in FAMILIES:
        for ref, _good_for in family.recommended:
            assert f"`{ref}`" in readme, (family.name, ref)
