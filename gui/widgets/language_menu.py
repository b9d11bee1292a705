"""View > Language: English / 简体中文, switched at run time and remembered in settings.

Each language is listed in its own script (a Chinese reader finds 简体中文 in an English
window and the other way round). $LORA_STUDIO_LANG wins over the saved choice at start-up;
the menu says so in its tool tip while it is set.
"""
from __future__ import annotations

import os

from PySide6.QtGui import QAction, QActionGroup, QFontDatabase
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from gui import i18n
from gui.errors import on_action
from gui.i18n import translate
from gui.settings import Settings


def has_font_for(language: str) -> bool:
    """Whether an installed font can show `language` (Qt falls back to it automatically)."""
    if language != "zh_CN":
        return True
    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


class LanguageMenu(QMenu):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(translate("LanguageMenu", "&Language"), parent)
        self.settings = settings
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self.language_actions: dict[str, QAction] = {}
        for code, name in i18n.LANGUAGES.items():
            action = QAction(name, self, checkable=True)
            action.setData(code)
            action.triggered.connect(on_action(action, lambda c=code: self.choose(c),
                                               translate("LanguageMenu", "Language")))
            self._group.addAction(action)
            self.addAction(action)
            self.language_actions[code] = action
        self.retranslate()

    def choose(self, language: str) -> None:
        """Switch the open window to `language` and remember it for the next start."""
        self.settings.set_language(language)
        if language == i18n.current_language():
            return
        try:
            ok = i18n.switch_language(language)
        finally:
            self.retranslate()  # the tick follows the language the window really has
        if not ok:
            QMessageBox.warning(self.parentWidget(), translate("LanguageMenu", "Language"), translate(
                "LanguageMenu", "The translation for {language} is missing from this "
                "installation, so the window stays in English. Run 'make qm' in a source "
                "checkout.").format(language=i18n.LANGUAGES[language]))
        elif not has_font_for(language):
            QMessageBox.information(self.parentWidget(), translate("LanguageMenu", "Language"), translate(
                "LanguageMenu", "No installed font has Chinese characters, so some texts may show "
                "as boxes. On Linux install a CJK font (Debian/Ubuntu: sudo apt install "
                "fonts-noto-cjk) and restart LoRA Studio."))

    def retranslate(self) -> None:
        current = i18n.current_language()
        for code, action in self.language_actions.items():
            action.setChecked(code == current)
        if os.environ.get("LORA_STUDIO_LANG"):
            self.setToolTip(translate(
                "LanguageMenu", "LORA_STUDIO_LANG is set: it chooses the language at start-up."))
        self.setToolTipsVisible(True)
