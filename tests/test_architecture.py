"""Project rules enforced by tests rather than habits."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_ENGINE = ("PySide6", "PySide2", "PyQt5", "PyQt6", "pyqtgraph", "qtpy", "superqt", "gui")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_qt_or_gui():
    offenders = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        bad = _imported_modules(path) & set(FORBIDDEN_IN_ENGINE)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, f"engine/ must stay free of Qt and gui: {offenders}"


def test_forbidden_import_is_detected(tmp_path):
    # The rule above must be able to fail: a module importing Qt is caught.
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom PySide6.QtWidgets import QWidget\n", encoding="utf-8")
    assert "PySide6" in _imported_modules(sample)


def test_modules_stay_small():
    too_big = {}
    for folder in ("engine", "gui", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            lines = path.read_text(encoding="utf-8").count("\n")
            if lines > 500:
                too_big[str(path.relative_to(ROOT))] = lines
    assert not too_big, f"modules over 500 lines (split them): {too_big}"
