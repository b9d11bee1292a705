"""Per-user GUI settings: window geometry, recent folders, the language and the base model
last chosen, nothing else.

Everything that defines a result lives in a run's run.json; QSettings only remembers
where the window was, which folders the user opened lately and which base model to offer
first. With $LORA_STUDIO_HOME set
they live in $LORA_STUDIO_HOME/settings.ini; tests redirect QSettings to a temporary INI
file (tests/gui/conftest.py), so they never touch the real profile.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "LoRA Studio"
APPLICATION = "LoRA Studio"
MAX_RECENT = 8


def default_qsettings() -> QSettings:
    """The user's QSettings; with $LORA_STUDIO_HOME set, an INI file inside it, so a
    separate home (a demo, a script, the tests' app subprocesses) leaves the user's
    recent folders alone."""
    home = os.environ.get("LORA_STUDIO_HOME")
    if home:
        return QSettings(os.path.join(home, "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


class Settings:
    """A thin, typed wrapper over QSettings.

    Recent lists are keyed by kind: "datasets", "runs", "configs", "images".
    """

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings if qsettings is not None else default_qsettings()

    @property
    def qsettings(self) -> QSettings:
        return self._q

    # --- geometry ---------------------------------------------------------------------
    def save_geometry(self, name: str, geometry: QByteArray, state: QByteArray | None = None) -> None:
        self._q.setValue(f"geometry/{name}", geometry)
        if state is not None:
            self._q.setValue(f"state/{name}", state)
        self._q.sync()

    def geometry(self, name: str) -> QByteArray | None:
        value = self._q.value(f"geometry/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def state(self, name: str) -> QByteArray | None:
        value = self._q.value(f"state/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # --- language (View > Language; $LORA_STUDIO_LANG overrides it) ------------------------
    def language(self) -> str | None:
        value = self._q.value("language")
        return str(value) if value else None

    def set_language(self, language: str) -> None:
        self._q.setValue("language", language)
        self._q.sync()

    # --- the base model the user chose last (Config tab; the offline demo model too) -----
    def model(self) -> str | None:
        value = self._q.value("config/model")
        return str(value) if value else None

    def set_model(self, ref: str) -> None:
        if ref != self.model():
            self._q.setValue("config/model", ref)
            self._q.sync()

    # --- what computes predictions (Prediction tab; engine.use.backends) ----------------
    def backend(self) -> str:
        return str(self._q.value("prediction/backend") or "auto")

    def set_backend(self, backend: str) -> None:
        if backend != self.backend():
            self._q.setValue("prediction/backend", backend)
            self._q.sync()

    # --- recent folders ---------------------------------------------------------------
    def recent(self, kind: str) -> list[str]:
        value = self._q.value(f"recent/{kind}", [])
        if isinstance(value, str):  # QSettings returns a bare string for one-item lists
            value = [value]
        return [str(v) for v in (value or []) if str(v)]

    def add_recent(self, kind: str, path: str) -> list[str]:
        """Put `path` first in the `kind` list (no duplicates, at most MAX_RECENT)."""
        items = [path] + [p for p in self.recent(kind) if p != path]
        items = items[:MAX_RECENT]
        self._q.setValue(f"recent/{kind}", items)
        self._q.sync()
        return items

    def clear_recent(self, kind: str) -> None:
        self._q.remove(f"recent/{kind}")
        self._q.sync()

    def last_folder(self, kind: str, fallback: str = "") -> str:
        """The most recent folder of `kind`, for file dialogs to start in."""
        items = self.recent(kind)
        return items[0] if items else fallback
