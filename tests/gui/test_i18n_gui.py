"""The window speaks Chinese: a finished Qt catalogue that matches the code, every text of
every tab translated, and a language switch that re-translates the open window."""
from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from engine import i18n as engine_i18n
from engine.demo.dataset import DEMO_CLASSES
from gui import i18n

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "i18n" / "lora_studio_zh_CN.ts"

# Words an ASCII-only text may hold in the Chinese window: names, units, formats, keys.
ALLOWED = {
    "lora", "studio", "clip", "siglip", "siglip2", "dinov2", "openclip", "vit", "onnx", "csv",
    "json", "yaml", "png", "jpg", "jpeg", "cpu", "gpu", "cuda", "mps", "bf16", "fp16", "fp32",
    "sdpa", "eager", "adamw", "ece", "grad", "cam", "english", "tensorboard", "hugging", "face",
    "pytorch", "openai", "laion", "px", "ms", "s", "min", "h", "mb", "gb", "kb", "k", "r", "x",
    "u", "ctrl", "shift", "alt", "del", "esc", "tab", "alpha", "top", "id", "ok", "n", "t",
    "qkv", "q_proj", "v_proj", "k_proj", "out_proj", "fc1", "fc2", "lr", "val", "img", "it",
    "epoch",  # pyqtgraph's own SI-prefix axis units are numbers; "epoch" is never shown alone
    "openvino", "runtime", "int8",  # the prediction backends' product names
} | {name for name, _colour, _shape in DEMO_CLASSES} | {  # the demo classes' words (data)
    word for name, _colour, _shape in DEMO_CLASSES for word in name.split("_")}
PATHLIKE = re.compile(r"(\S*[/\\]\S*|\S+\.(png|jpe?g|json|csv|yaml|safetensors|txt|md)\b|"
                      r"--[\w-]+|\b[\w.-]+-\d{8}-\d{6}\S*)", re.I)


def untranslated(texts) -> list[str]:
    """The ASCII-only texts that hold a word which is not a name, unit, number or path."""
    bad = []
    for cls, what, text in texts:
        if any(ord(c) > 127 and c.isalpha() for c in text):
            continue  # holds Chinese (or another script): translated
        rest = PATHLIKE.sub(" ", text)
        words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", rest)]
        unknown = [w for w in words if w not in ALLOWED and not re.fullmatch(r"[a-z]\d*", w)]
        if unknown:
            bad.append(f"{cls}.{what}: {text!r}")
    return sorted(set(bad))


def test_the_check_finds_english_and_passes_names_numbers_and_paths():
    texts = [("QLabel", "text", "Batch size"), ("QLabel", "text", "批大小"),
             ("QLabel", "text", "/data/dogs/train/img_001.jpg"), ("QLabel", "text", "12.5 %"),
             ("QLabel", "text", "openai/clip-vit-base-patch32"), ("QLabel", "text", "CPU · bf16"),
             ("QPushButton", "text", "Start training")]
    assert untranslated(texts) == ["QLabel.text: 'Batch size'", "QPushButton.text: 'Start training'"]


def ts_messages() -> list[tuple[str, ET.Element]]:
    root = ET.parse(TS).getroot()
    return [(ctx.findtext("name"), msg) for ctx in root.iter("context") for msg in ctx.iter("message")]


def fields(text: str) -> set[str]:
    return {n for _l, n, _s, _c in string.Formatter().parse(text) if n is not None}


def test_every_ts_entry_is_finished_and_keeps_placeholders():
    messages = ts_messages()
    assert len(messages) > 300
    problems = []
    for context, msg in messages:
        source, tr = msg.findtext("source"), msg.find("translation")
        kind = tr.get("type", "")
        if kind in ("unfinished", "vanished", "obsolete") or not (tr.text or "").strip():
            problems.append(f"{context}: {source!r} is {kind or 'empty'}")
        elif fields(tr.text) != fields(source):
            problems.append(f"{context}: {source!r} placeholders differ in {tr.text!r}")
        elif ("&" in source.replace("&&", "")) != ("&" in tr.text.replace("&&", "")):
            problems.append(f"{context}: {source!r} mnemonic differs in {tr.text!r}")
    assert not problems, "\n".join(problems)


def test_the_ts_file_holds_exactly_the_texts_of_the_code(tmp_path):
    """A fresh pyside6-lupdate of gui/ finds the same texts (none missing, none stale)."""
    fresh = tmp_path / "fresh.ts"
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run([str(lupdate), "-extensions", "py", "-silent", str(ROOT / "gui"), "-ts", str(fresh)],
                   check=True, capture_output=True, timeout=300)
    def keys(path):
        root = ET.parse(path).getroot()
        return {(c.findtext("name"), m.findtext("source")) for c in root.iter("context")
                for m in c.iter("message")
                if m.find("translation").get("type") not in ("vanished", "obsolete")}
    code, committed = keys(fresh), keys(TS)
    assert not code - committed, f"texts missing from the .ts (run `make translations`): {sorted(code - committed)[:20]}"
    assert not committed - code, f"stale .ts entries (run `make translations`): {sorted(committed - code)[:20]}"


def test_the_app_and_qt_catalogues_load_and_engine_follows(qapp):
    try:
        assert i18n.install_language("zh_CN")
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"  # Qt's own
        assert engine_i18n.language() == "zh_CN"
    finally:
        i18n.install_language("en")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
    assert engine_i18n.language() == "en"


def test_language_comes_from_env_then_settings_then_system():
    assert i18n.chosen_language("en", {"LORA_STUDIO_LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.chosen_language("zh_CN", {}) == "zh_CN"
    assert i18n.chosen_language("en", {}) == "en"
    assert i18n.chosen_language(None, {}) == i18n.system_language()


def _snapshot(window) -> list[tuple[str, str, str]]:
    return i18n.shown_texts(window)


def test_switching_language_retranslates_the_open_window_and_back(main_window, settings):
    window = main_window
    english = _snapshot(window)
    menu = window.language_menu
    try:
        menu.choose("zh_CN")
        chinese = _snapshot(window)
        assert settings.language() == "zh_CN"
        assert menu.language_actions["zh_CN"].isChecked()
        assert not untranslated(chinese), "\n".join(untranslated(chinese))
        assert any("数据集" in t for _c, _w, t in chinese)
        menu.choose("en")
        back = _snapshot(window)
        assert [t for t in back if t not in english] == [] and len(back) == len(english)
        assert settings.language() == "en"
    finally:
        i18n.install_language("en")


@pytest.mark.slow
def test_every_tab_and_the_evaluation_view_read_chinese(tmp_path):
    """The screenshot run in zh_CN (all tabs, evaluation, reliability, review, heat maps,
    sorting, map): no text a user sees is left in English."""
    out = tmp_path / "shots"
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LANGUAGE")}
    env.update(LORA_STUDIO_LANG="zh_CN", QT_QPA_PLATFORM="offscreen",
               LORA_STUDIO_HOME=str(tmp_path / "home"), LORA_STUDIO_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "gui", "--screenshots", str(out)], cwd=ROOT,
                          timeout=900, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    shots = json.loads((out / "texts.json").read_text(encoding="utf-8"))
    assert len(shots) == 14
    problems = [f"{shot}: {line}" for shot, texts in shots.items() for line in untranslated(texts)]
    assert not problems, "English left in the Chinese window:\n" + "\n".join(problems)


def test_the_status_bar_reads_a_runs_device_in_either_language(qapp):
    """RunStarted.device is made in the engine's language; the bar parses only its facts."""
    from gui.status_bar import hardware_from_run

    assert hardware_from_run("cpu (2 threads)", "bf16") == "CPU · bf16 · 2 threads"
    try:
        i18n.install_language("zh_CN")
        assert hardware_from_run("cpu（2 个线程）", "bf16") == "CPU · bf16 · 2 个线程"
    finally:
        i18n.install_language("en")


def test_a_font_with_chinese_glyphs_is_installed(qapp):
    """The Chinese window and its screenshots need one (Debian: fonts-noto-cjk, which
    .ci/run installs where none is present); the Language menu warns when there is none."""
    from gui.widgets.language_menu import has_font_for

    assert has_font_for("zh_CN"), "install a CJK font, e.g. sudo apt-get install fonts-noto-cjk"
