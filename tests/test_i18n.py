"""The engine speaks the user's language: complete catalogues, no text that bypasses them,
and the CLI following the locale. (The GUI's catalogue: tests/gui/test_i18n_gui.py.)"""
from __future__ import annotations

import ast
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from engine import i18n
from engine.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
KEYWORDS = {"_": None, "N_": None, "_f": (2,)}  # as `make translations` extracts them
NOT_USER_FACING = ("bench",)  # the benchmark is a developer tool, printed in English


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def extracted_messages() -> dict[str, str]:
    """msgid -> "file:line" of every text the engine marks for translation (Babel)."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ENGINE), method_map=[("**.py", "python")], keywords=KEYWORDS):
        if isinstance(message, tuple):
            message = message[0]
        if message and not filename.startswith(NOT_USER_FACING):
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def catalogue(language: str = "zh_CN") -> polib.POFile:
    return polib.pofile(str(i18n.catalogue_path(language)))


def literal_text(text: str) -> str:
    return " ".join(lit for lit, _n, _s, _c in string.Formatter().parse(text))


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_every_engine_text_has_a_finished_chinese_translation():
    po = catalogue()
    entries = {e.msgid: e for e in po if not e.obsolete}
    messages = extracted_messages()
    assert len(messages) > 150, "the extraction found suspiciously few texts"
    missing = [f"{where}: {msg!r}" for msg, where in messages.items() if msg not in entries]
    unfinished = [f"{messages.get(e.msgid, '?')}: {e.msgid!r}" for e in entries.values()
                  if not e.msgstr or "fuzzy" in e.flags]
    stale = [e.msgid for e in entries.values() if e.msgid not in messages]
    assert not missing, "texts missing from engine.po (run `make translations`):\n" + "\n".join(missing)
    assert not unfinished, "untranslated or fuzzy entries in engine.po:\n" + "\n".join(unfinished)
    assert not stale, "entries no code uses any more (run `make translations`):\n" + "\n".join(stale)


def test_translations_keep_every_placeholder_and_read_as_chinese():
    for entry in catalogue():
        if entry.obsolete:
            continue
        assert fields(entry.msgstr) == fields(entry.msgid), (entry.msgid, entry.msgstr)
        words = re.findall(r"[A-Za-z]{2,}", literal_text(entry.msgid))
        if len(words) > 1:
            assert _has_cjk(entry.msgstr), f"not translated into Chinese: {entry.msgid!r}"


def _message_bypasses(node: ast.AST) -> bool:
    """A literal or f-string handed straight to a user (not through _())."""
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
        and any(c.isalpha() for c in node.value))


def test_no_user_error_or_log_line_bypasses_the_catalogue():
    """UserError (and its subclasses) and Log(message=...) never take a bare English text."""
    user_errors = {"UserError", "ModelLoadError", "DamagedRunError"}
    bad = []
    for path in sorted(ENGINE.rglob("*.py")):
        rel = path.relative_to(ENGINE)
        if rel.parts[0] in NOT_USER_FACING:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = []
            if name in user_errors and node.args:
                args.append(node.args[0])
            if name == "Log":
                args += [k.value for k in node.keywords if k.arg == "message"]
            for arg in args:
                if _message_bypasses(arg):
                    bad.append(f"{rel}:{node.lineno}: {name}({ast.unparse(arg)[:70]})")
    assert not bad, "messages that bypass engine.i18n._():\n" + "\n".join(bad)


def test_locale_names_map_to_the_languages_we_have():
    assert i18n.normalise("zh_CN.UTF-8") == "zh_CN"
    assert i18n.normalise("zh-Hans") == "zh_CN"
    assert i18n.normalise("en_US.UTF-8") == "en"
    assert i18n.normalise("de_DE") == "en"
    assert i18n.detect_language({"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.detect_language({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert i18n.detect_language({"LANG": "zh_CN.UTF-8", "LORA_STUDIO_LANG": "en"}) == "en"
    assert i18n.detect_language({"LANGUAGE": "zh_CN:en", "LANG": "en_US"}) == "zh_CN"
    assert i18n.detect_language({}) == "en"


def test_config_help_and_validation_speak_chinese(chinese):
    from engine.config import TrainConfig, field_info

    help_texts = [i18n.gettext(f.metadata["help"]) for f in field_info()]
    assert all(_has_cjk(text) for text in help_texts)
    problems = TrainConfig(epochs=0).validate()
    assert problems and all(_has_cjk(text) for text in problems.values()), problems


def test_a_user_error_is_raised_in_the_chosen_language(chinese, tmp_path):
    from engine.data.index import scan_dataset

    with pytest.raises(UserError) as caught:
        scan_dataset(tmp_path / "no-such-folder")
    assert _has_cjk(str(caught.value)), str(caught.value)
    i18n.set_language("en")
    with pytest.raises(UserError) as caught:
        scan_dataset(tmp_path / "no-such-folder")
    assert not _has_cjk(str(caught.value))


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("LORA_STUDIO_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True,
                          text=True, encoding="utf-8", env=environ, cwd=ROOT, timeout=300)


def test_the_cli_follows_the_locale(tmp_path):
    zh = _cli(["train", "--help"], LANG="zh_CN.UTF-8")
    en = _cli(["train", "--help"], LANG="en_US.UTF-8")
    assert zh.returncode == 0 and en.returncode == 0, zh.stderr + en.stderr
    assert _has_cjk(zh.stdout) and "--lr" in zh.stdout
    assert not _has_cjk(en.stdout)
    missing = tmp_path / "nowhere"
    failed = _cli(["zero-shot", "--model", str(tmp_path), "--data", str(missing)],
                  LORA_STUDIO_LANG="zh_CN")
    assert failed.returncode != 0
    assert _has_cjk(failed.stderr) and str(missing) in failed.stderr, failed.stderr
