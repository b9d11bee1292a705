"""Engine messages made again in the window's current language.

The engine formats a message when it makes it (`_("...").format(...)`, engine.i18n), in the
language chosen then, and the window keeps the finished string: a scan's problems, the
dataset's layout and notes, a file's prediction error. After a language switch,
`engine_again(text)` finds the catalogue entry `text` was made from (in any language), takes
the placeholder values back out and formats the current language's entry with them; values
that are engine texts themselves (a nested `_(kind)`) are made again too. A text that no
entry explains comes back as it is.
"""
from __future__ import annotations

import re
import string
import threading
from dataclasses import dataclass
from functools import lru_cache

from engine import i18n as engine_i18n
from gui.i18n import Tr, dynamic

# A template with fewer fixed letters than this ("{field}: {problem}") would explain almost
# any text: it is used only for texts that are exactly it.
MIN_FIXED_LETTERS = 4
NESTING = 2  # how deep values are made again (a kind inside a note)

_lock = threading.Lock()
_templates: dict[str, list["_Template"]] = {}  # language -> its entries as patterns


@dataclass(frozen=True)
class _Template:
    msgid: str
    pattern: re.Pattern
    groups: dict[str, str]  # regex group -> placeholder name
    anchor: str  # the longest fixed part: a cheap `in` test before the regex
    weight: int  # how many fixed characters: the most specific explanation wins


def _pieces(template: str) -> list[tuple[str, str | None]]:
    """(fixed text, placeholder name or None) pairs; None when `template` is no format."""
    try:
        return [(literal, name) for literal, name, _spec, _conv
                in string.Formatter().parse(template)]
    except ValueError:
        return []


def _compile(msgid: str, template: str) -> _Template | None:
    pieces = _pieces(template)
    if not pieces:
        return None
    regex, groups, seen = [], {}, {}
    for literal, name in pieces:
        regex.append(re.escape(literal))
        if name is None:
            continue
        if name in seen:
            regex.append(f"(?P={seen[name]})")
            continue
        group = f"g{len(groups)}"
        seen[name], groups[group] = group, name
        regex.append(f"(?P<{group}>.+?)")
    fixed = [literal for literal, _name in pieces if literal]
    letters = sum(c.isalpha() for c in "".join(fixed))
    if groups and letters < MIN_FIXED_LETTERS:
        return None
    return _Template(msgid, re.compile("".join(regex), re.DOTALL), groups,
                     max(fixed, key=len, default=""), len("".join(fixed)))


def _catalogue(language: str) -> dict[str, str]:
    """msgid -> this language's text, for every entry some catalogue translates."""
    msgids = set()
    for other in engine_i18n.LANGUAGES:
        if other != engine_i18n.DEFAULT:
            msgids.update(engine_i18n._load(other))  # noqa: SLF001 - the engine's own table
    if language == engine_i18n.DEFAULT:
        return {m: m for m in msgids}
    table = engine_i18n._load(language)  # noqa: SLF001
    return {m: table[m] for m in msgids if m in table}


def _templates_of(language: str) -> list[_Template]:
    with _lock:
        if language not in _templates:
            compiled = (_compile(m, text) for m, text in _catalogue(language).items())
            _templates[language] = [t for t in compiled if t is not None]
        return _templates[language]


def _explain(text: str) -> tuple[_Template, dict[str, str]] | None:
    """The entry `text` was made from and its placeholder values, or None."""
    best = None
    for language in engine_i18n.LANGUAGES:
        for template in _templates_of(language):
            if best is not None and template.weight <= best[0].weight:
                continue
            if template.anchor not in text:
                continue
            found = template.pattern.fullmatch(text)
            if found:
                values = {template.groups[g]: v for g, v in found.groupdict().items()}
                best = (template, values)
    return best


def _format(template: str, values: dict[str, str], depth: int) -> str | None:
    out = []
    for literal, name in _pieces(template):
        out.append(literal)
        if name is not None:
            if name not in values:
                return None
            out.append(_again(values[name], depth - 1))
    return "".join(out)


def _again(text: str, depth: int) -> str:
    if depth <= 0 or not text or not any(c.isalpha() for c in text):
        return text
    explained = _explain(text)
    if explained is None:
        return text
    template, values = explained
    target = engine_i18n.gettext(template.msgid)
    made = _format(target, values, depth)
    return text if made is None else made


@lru_cache(maxsize=8192)
def _cached(text: str, language: str) -> str:
    return _again(text, NESTING + 1)


def engine_again(text: str) -> str:
    """`text`, an engine message made in any language, in the engine's current language (a
    window text that knows how it was made, a gui.i18n.Tr, is made by its own recipe)."""
    redo = getattr(text, "redo", None) if isinstance(text, Tr) else None
    if redo is not None:
        return redo()
    if not isinstance(text, str) or not text:
        return text
    return _cached(text, engine_i18n.language())


def engine_dynamic(text: str) -> Tr:
    """An engine message that a language switch makes again (see gui.i18n.dynamic)."""
    return dynamic(lambda: engine_again(text))
