"""Translations of the engine's user-facing texts: errors, log lines, scan problems, help.

Why gettext catalogues and not Qt: engine/ never imports Qt (the CLI and `accelerate launch`
run without it), yet its messages reach users of both the CLI and the GUI. So the engine
keeps its own GNU gettext catalogue, engine/locale/<lang>/LC_MESSAGES/engine.po, a plain
text file that translators edit with any .po editor (Poedit, Qt Linguist, a text editor).
It is read at run time with polib, so nothing binary is committed and no build step is
needed for the CLI; the GUI's own texts live in Qt's .ts files (resources/i18n/).

How code uses it:
- `_("Skipped {path}: {reason}").format(path=..., reason=...)`: translated when the
  message is made, in the language chosen now. Placeholders are named, so a translation
  may reorder them (a test checks that every translation keeps the same placeholders).
- `N_("...")` marks a text that is stored untranslated (config help in dataclass metadata)
  and translated where it is shown, with `_()`.

The language comes from $LORA_STUDIO_LANG, else the POSIX locale variables ($LANGUAGE,
$LC_ALL, $LC_MESSAGES, $LANG, in gettext's order), so `LANG=zh_CN.UTF-8 python -m engine
...` speaks Chinese; the GUI calls set_language() when the user picks one.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

DOMAIN = "engine"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Language code -> its name, written in that language (what a language menu shows).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
DEFAULT = "en"

_lock = threading.Lock()
_catalogues: dict[str, dict[str, str]] = {}
_current = None  # type: str | None


def normalise(code: str | None) -> str:
    """A locale name ("zh_CN.UTF-8", "zh-Hans", "zh", "en_US") -> a supported language."""
    text = (code or "").strip().split(".")[0].split("@")[0].replace("-", "_")
    low = text.lower()
    if low.startswith("zh"):
        return "zh_CN"  # the one Chinese catalogue: Simplified
    return DEFAULT


def detect_language(environ: dict[str, str] | None = None) -> str:
    """$LORA_STUDIO_LANG, else the first POSIX locale variable that is set."""
    env = os.environ if environ is None else environ
    if env.get("LORA_STUDIO_LANG"):
        return normalise(env["LORA_STUDIO_LANG"])
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return normalise(value.split(":")[0])
    return DEFAULT


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(language: str) -> dict[str, str]:
    """msgid -> msgstr of one language (finished, non-fuzzy entries only)."""
    with _lock:
        if language not in _catalogues:
            table: dict[str, str] = {}
            path = catalogue_path(language)
            if language != DEFAULT and path.is_file():
                import polib  # only when a translation is used

                for entry in polib.pofile(str(path)):
                    if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags:
                        table[entry.msgid] = entry.msgstr
            _catalogues[language] = table
        return _catalogues[language]


def set_language(language: str | None) -> str:
    """Use `language` ("en", "zh_CN", a locale name; None = detect) from now on."""
    global _current
    _current = normalise(language) if language else detect_language()
    return _current


def language() -> str:
    if _current is None:
        return set_language(None)
    return _current


def gettext(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    if not message:
        return message
    lang = language()
    if lang == DEFAULT:
        return message
    return _load(lang).get(message, message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark `message` for the catalogue without translating it now."""
    return message


_ = gettext


def columns(text: str) -> int:
    """How many terminal columns `text` takes (a Chinese character takes two): CLI tables
    and help line up in every language."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (right-aligned if `right`)."""
    fill = " " * max(0, width - columns(text))
    return fill + text if right else text + fill
