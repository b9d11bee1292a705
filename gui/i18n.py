"""The GUI's languages: Qt translators, the language choice, and re-translating an open window.

Every user-visible text in gui/ is made with `translate("Context", "Source text")`, the
function pyside6-lupdate extracts into resources/i18n/lora_studio_<lang>.ts (edited with
Qt Linguist; `make translations` refreshes it). pyside6-lrelease compiles the .ts into
a .qm at build time (Makefile, build.spec); nothing binary is committed. Qt's own dialogs
(file dialogs, message box buttons) use Qt's shipped qtbase_<lang>.qm.

Switching language at run time without rebuilding the window: translate() returns a `Tr`,
a str that remembers how it was made, and the texts it produced are remembered (a bounded
table from text to "how to make it again"). After a switch, retranslate_all() walks every
widget and action, and each text property (text, tool tip, title, tab text, item texts,
placeholders, ...) whose value is a remembered text is made again in the new language.
Widgets whose texts are not properties (plot titles, item-model headers, texts built
from state) define a `retranslate()` method, which the walk calls too. Engine texts
(error messages, config help) are translated by engine.i18n; `dynamic(fn)` remembers them
the same way.

The language: $LORA_STUDIO_LANG, else the choice saved in settings (View > Language),
else the system locale.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from engine import i18n as engine_i18n

LANGUAGES = engine_i18n.LANGUAGES
APP_CATALOGUE = "lora_studio"
_MAX_REMEMBERED = 20000

_remembered: OrderedDict[str, Callable[[], str]] = OrderedDict()
_lock = threading.Lock()
_translators: list[QTranslator] = []
_current = "en"


class Tr(str):
    """A translated text that can make itself again (in whatever language is current)."""

    __slots__ = ("redo",)

    def format(self, *args, **kwargs) -> "Tr":  # type: ignore[override]
        redo = self.redo
        return _remember(str.format(self, *args, **kwargs),
                         lambda: str.format(redo(), *args, **kwargs))


def _remember(text: str, redo: Callable[[], str]) -> Tr:
    out = Tr(text)
    out.redo = redo
    if text and any(c.isalpha() for c in text):
        with _lock:  # worker threads make texts too (progress, problems)
            _remembered[text] = redo
            _remembered.move_to_end(text)
            while len(_remembered) > _MAX_REMEMBERED:
                _remembered.popitem(last=False)
    return out


def translate(context: str, source: str, disambiguation: str | None = None, n: int = -1) -> Tr:
    """`source` in the current language; lupdate extracts literal calls of this function."""
    def make() -> str:
        return QCoreApplication.translate(context, source, disambiguation, n)

    return _remember(make(), make)


def dynamic(make: Callable[[], str]) -> Tr:
    """A text made by `make()` (e.g. an engine message), made again after a switch."""
    return _remember(make(), make)


def engine_text(message: str) -> Tr:
    """An engine text marked with N_() (config help), translated by engine.i18n."""
    return dynamic(lambda: engine_i18n.gettext(message))


def again(text: str) -> str:
    """`text` made again in the current language: by its own recipe when it is a Tr, else by
    the remembered table; else as it is. The result is remembered for the next switch."""
    redo = getattr(text, "redo", None)
    if redo is None:
        with _lock:
            redo = _remembered.get(text)
    return text if redo is None else _remember(redo(), redo)


# --- catalogues ---------------------------------------------------------------------------
def resources_dir() -> Path:
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def qm_path(language: str) -> Path:
    return resources_dir() / "i18n" / f"{APP_CATALOGUE}_{language}.qm"


def _lrelease() -> str | None:
    found = shutil.which("pyside6-lrelease") or shutil.which("lrelease")
    if found:
        return found
    candidate = Path(sys.executable).parent / "pyside6-lrelease"
    return str(candidate) if candidate.is_file() else None


def ensure_compiled(language: str) -> Path | None:
    """The .qm of `language`; compiled from its .ts when missing or older (a source checkout
    that skipped `make`). None when there is neither."""
    qm = qm_path(language)
    ts = qm.with_suffix(".ts")
    stale = ts.is_file() and (not qm.is_file() or qm.stat().st_mtime < ts.stat().st_mtime)
    if stale and not getattr(sys, "frozen", False):
        tool = _lrelease()
        if tool:
            try:
                subprocess.run([tool, "-silent", str(ts), "-qm", str(qm)], check=True,
                               capture_output=True, timeout=120)
            except (OSError, subprocess.SubprocessError):
                pass
    return qm if qm.is_file() else None


# --- choosing and switching ---------------------------------------------------------------
def system_language() -> str:
    return engine_i18n.normalise(QLocale.system().name())


def chosen_language(saved: str | None = None, environ: dict[str, str] | None = None) -> str:
    """$LORA_STUDIO_LANG, else the saved choice, else the system locale."""
    env = os.environ if environ is None else environ
    if env.get("LORA_STUDIO_LANG"):
        return engine_i18n.normalise(env["LORA_STUDIO_LANG"])
    if saved in LANGUAGES:
        return saved
    return system_language()


def current_language() -> str:
    return _current


# Fonts with Simplified Chinese glyphs on Linux, Windows and macOS, best first. Qt falls back
# to them for characters the UI font lacks; naming them keeps it from picking a Japanese or
# Traditional-Chinese face (same code points, different glyph shapes).
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei UI", "Microsoft YaHei",
             "PingFang SC", "Hiragino Sans GB", "WenQuanYi Micro Hei", "Droid Sans Fallback"]


def _prefer_cjk_fonts() -> None:
    from PySide6.QtGui import QFont, QGuiApplication

    if QGuiApplication.instance() is None:
        return
    family = QGuiApplication.font().family()
    for name in {family, "Sans Serif", "Monospace"}:
        known = QFont.substitutes(name)
        QFont.insertSubstitutions(name, [f for f in CJK_FONTS if f not in known])


def install_language(language: str) -> bool:
    """Load `language`'s catalogues into the application (the app's and Qt's own) and
    tell the engine. False when the app's catalogue for it could not be found."""
    global _current
    app = QCoreApplication.instance()
    language = language if language in LANGUAGES else "en"
    for translator in _translators:
        if app is not None:
            app.removeTranslator(translator)
    _translators.clear()
    ok = True
    if language == "zh_CN":
        _prefer_cjk_fonts()
    if language != "en" and app is not None:
        qt = QTranslator(app)
        if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            _translators.append(qt)
        own = QTranslator(app)
        qm = ensure_compiled(language)
        if qm is not None and own.load(str(qm)):
            app.installTranslator(own)
            _translators.append(own)
        else:
            ok = False
    _current = language
    QLocale.setDefault(QLocale(language if language != "en" else "en_US"))
    engine_i18n.set_language(language)
    return ok


def switch_language(language: str) -> bool:
    """install_language, then re-translate every open window."""
    ok = install_language(language)
    retranslate_all()
    return ok


# --- re-translating open widgets ----------------------------------------------------------
def _redo_property(getter: Callable[[], str], setter: Callable[[str], object],
                   owner=None, key: str = "") -> None:
    """Make a property's text again. The text -> recipe table can be ambiguous (two English
    texts with one Chinese translation), so after the first switch each property keeps its
    own recipe on its owner and uses it while the text is still the one it made."""
    try:
        value = getter()
    except RuntimeError:  # a deleted C++ object
        return
    if not (isinstance(value, str) and value):
        return
    own = getattr(owner, "_i18n_recipes", None) if owner is not None else None
    recipe = own.get(key) if own else None
    redo = recipe[0] if recipe and recipe[1] == value else None
    if redo is None:
        with _lock:
            redo = _remembered.get(value)
    if redo is None:
        return
    new = _remember(redo(), redo)
    if owner is not None:
        try:
            if own is None:
                own = {}
                owner._i18n_recipes = own
            own[key] = (redo, str(new))
        except (AttributeError, TypeError):
            pass
    if new != value:
        setter(new)


def retranslate_object(obj) -> None:
    """Re-make the remembered texts of one widget or action."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import (QAbstractButton, QComboBox, QGroupBox, QLabel, QLineEdit,
                                   QListWidget, QMenu, QProgressBar, QTabWidget, QTableWidget,
                                   QTreeWidget, QWidget)

    if isinstance(obj, (QWidget, QAction)):
        _redo_property(obj.toolTip, obj.setToolTip, obj, "toolTip")
        _redo_property(obj.statusTip, obj.setStatusTip, obj, "statusTip")
    if isinstance(obj, QAction):
        _redo_property(obj.text, obj.setText, obj, "text")
        return
    _redo_property(obj.windowTitle, obj.setWindowTitle, obj, "windowTitle")
    _redo_property(obj.accessibleName, obj.setAccessibleName, obj, "accessibleName")
    if isinstance(obj, (QLabel, QAbstractButton)):
        _redo_property(obj.text, obj.setText, obj, "text")
    if isinstance(obj, QLineEdit):
        _redo_property(obj.placeholderText, obj.setPlaceholderText, obj, "placeholder")
    if isinstance(obj, (QGroupBox, QMenu)):
        _redo_property(obj.title, obj.setTitle, obj, "title")
    if isinstance(obj, QProgressBar):
        _redo_property(obj.format, obj.setFormat, obj, "format")
    if isinstance(obj, QTabWidget):
        for i in range(obj.count()):
            _redo_property(lambda i=i: obj.tabText(i), lambda t, i=i: obj.setTabText(i, t),
                           obj, f"tab{i}")
            _redo_property(lambda i=i: obj.tabToolTip(i), lambda t, i=i: obj.setTabToolTip(i, t),
                           obj, f"tabToolTip{i}")
    if isinstance(obj, QComboBox):
        for i in range(obj.count()):
            _redo_property(lambda i=i: obj.itemText(i), lambda t, i=i: obj.setItemText(i, t),
                           obj, f"item{i}")
    if isinstance(obj, QListWidget):
        for i in range(obj.count()):
            item = obj.item(i)
            _redo_property(item.text, item.setText, obj, f"item{i}")
            _redo_property(item.toolTip, item.setToolTip, obj, f"itemToolTip{i}")
    if isinstance(obj, QTableWidget):
        for c in range(obj.columnCount()):
            item = obj.horizontalHeaderItem(c)
            if item is not None:
                _redo_property(item.text, item.setText, obj, f"header{c}")
    if isinstance(obj, QTreeWidget):
        header = obj.headerItem()
        for c in range(obj.columnCount()):
            _redo_property(lambda c=c: header.text(c), lambda t, c=c: header.setText(c, t),
                           obj, f"header{c}")
    hook = getattr(obj, "retranslate", None)
    if callable(hook):
        hook()


def retranslate_all() -> None:
    """Re-make every remembered text of every widget and action of the application."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    seen: set = set()
    for widget in app.allWidgets():
        retranslate_object(widget)
        for action in widget.findChildren(QAction) + list(widget.actions()):
            if action not in seen:
                seen.add(action)
                retranslate_object(action)


# --- what a person sees (translation checks, screenshots) ---------------------------------
def shown_texts(root) -> list[tuple[str, str, str]]:
    """(widget class, what, text) of every text `root` shows now: visible widgets' texts and
    tool tips, tab titles, combo items, view headers, plot titles and axis labels, and the
    menus' actions (shown when opened)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import (QAbstractButton, QComboBox, QGroupBox, QLabel, QLineEdit,
                                   QMenu, QMenuBar, QTableView, QTabWidget, QTreeView, QWidget)

    out: list[tuple[str, str, str]] = []

    def add(obj, what: str, text) -> None:
        if isinstance(text, str) and text.strip():
            out.append((type(obj).__name__, what, text))

    widgets = [root] + root.findChildren(QWidget)
    for w in widgets:
        menu = isinstance(w, QMenu)
        if menu and not w.title() and isinstance(w.parent(), QMenuBar):
            continue  # the menu bar's overflow menu: copies of its menus, by window width
        if not menu and not w.isVisible():
            continue
        add(w, "toolTip", w.toolTip())
        if isinstance(w, (QLabel, QAbstractButton)):
            add(w, "text", w.text())
        if isinstance(w, QLineEdit):
            add(w, "placeholder", w.placeholderText())
        if isinstance(w, QGroupBox):
            add(w, "title", w.title())
        if isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(w, "tab", w.tabText(i))
                add(w, "tabToolTip", w.tabToolTip(i))
        if isinstance(w, QComboBox):
            for i in range(w.count()):
                add(w, "item", w.itemText(i))
        header = w.horizontalHeader() if isinstance(w, QTableView) else \
            w.header() if isinstance(w, QTreeView) else None
        if header is not None and w.model() is not None and not header.isHidden():
            for c in range(header.count()):
                add(w, "header", w.model().headerData(c, Qt.Orientation.Horizontal,
                                                      Qt.ItemDataRole.DisplayRole))
        if menu:
            add(w, "title", w.title())
            for action in w.actions():
                add(action, "text", action.text())
                add(action, "toolTip", action.toolTip() if action.toolTip() != action.text().replace("&", "") else "")
        plot_item = getattr(w, "plotItem", None)
        if plot_item is not None and w.isVisible():
            add(w, "plotTitle", getattr(plot_item.titleLabel, "text", ""))
            for side in ("left", "bottom", "right", "top"):
                axis = plot_item.getAxis(side)
                if axis.isVisible():
                    add(w, "axisLabel", axis.labelText)
    return out
