"""The engine's wings import downwards only, and no import circle exists in engine/ or gui/.

Every import counts, also those inside functions (a lazy import still ties two modules
together). The map of the wings is engine/__init__.py's docstring; the README's contributor
section repeats it, and a test below keeps the two in step with the tree.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom. A module may import its own wing and any wing below it, never one above.
LAYERS = (
    ("cli",),  # python -m engine: one module per command group
    ("bench",),  # the benchmark (its command registers into the cli)
    ("sweep",),  # the hyperparameter sweep: trials are training runs
    ("serve",),  # the local prediction server (FastAPI): predicts through use/
    ("demo",),  # the offline demo model and dataset: for the app, the tests and the bench
    ("training",),  # the loop and what it needs: phases, inputs, learner, run record
    ("review",),  # what is wrong with a dataset: label mistakes, near-duplicates, decisions
    ("use",),  # what a trained run is for: predict, evaluate, export, report images
    ("model",),  # the classifier, LoRA, the hub, checkpoints, frozen-block cache, safety
    ("data",),  # layouts, validation, image reading, the index, decode cache, augmentation
    ("arguments", "config", "events", "errors", "hardware", "i18n", "libraries", "runs",
     "safe_read"),  # the ground
)
ENTRY_POINTS = {"engine.__main__"}  # `python -m engine` calls the cli: nothing imports it


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_files(root: Path, package: str) -> dict[str, Path]:
    return {_module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the modules of `packages` it imports (anywhere in its body)."""
    files: dict[str, Path] = {}
    for package in packages:
        files.update(module_files(root, package))

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                deps.update(filter(None, (known(a.name) for a in node.names)))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:  # `from engine.model import checkpoint`: a module
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in files else known(node.module))
        deps.discard(None)
        deps.discard(name)
        graph[name] = deps
    return graph


def wing(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(module: str) -> int:
    for i, wings in enumerate(LAYERS):
        if wing(module) in wings:
            return i
    raise AssertionError(f"{module} belongs to no layer: add its wing to LAYERS and to the map "
                         "in engine/__init__.py")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, deps in sorted(graph.items()):
        if module in ENTRY_POINTS or module == "engine":
            continue
        for dep in sorted(deps):
            if dep == "engine":
                continue
            if layer_of(dep) < layer_of(module):
                bad.append(f"{module} imports {dep} (the {wing(dep)} wing is above "
                           f"the {wing(module)} wing)")
    return bad


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def test_engine_wings_import_downwards_only():
    assert upward_imports(import_graph(ROOT, ("engine",))) == []


def test_no_import_circle_in_engine_or_gui():
    assert import_circles(import_graph(ROOT, ("engine", "gui"))) == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    # The rules above must be able to fail: an upward import and a circle are both found.
    pkg = tmp_path / "engine"
    for wing_name in ("data", "training"):
        (pkg / wing_name).mkdir(parents=True)
        (pkg / wing_name / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "data" / "index.py").write_text(
        "def f():\n    from engine.training.loop import train\n", encoding="utf-8")
    (pkg / "training" / "loop.py").write_text("from engine.data import index\n", encoding="utf-8")
    graph = import_graph(tmp_path, ("engine",))
    assert upward_imports(graph) == [
        "engine.data.index imports engine.training.loop (the training wing is above the data wing)"]
    assert import_circles(graph) == [["engine.data.index", "engine.training.loop"]]


def _documented_wings(text: str) -> set[str]:
    return set(re.findall(r"^\s*(\w+)/\s", text, flags=re.M))


def test_the_wing_map_matches_the_tree():
    wings = {p.name for p in (ROOT / "engine").iterdir()
             if p.is_dir() and (p / "__init__.py").is_file()}
    assert wings == {w for layer in LAYERS for w in layer if (ROOT / "engine" / w).is_dir()}
    docstring = ast.get_docstring(ast.parse((ROOT / "engine" / "__init__.py").read_text()))
    assert docstring and _documented_wings(docstring) == wings
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Project layout (for contributors)", 1)[1].split("\n## ", 1)[0]
    assert _documented_wings(section.split("```")[1]) >= wings | {"engine", "gui", "tests"}
    for ground in LAYERS[-1]:
        assert (ROOT / "engine" / f"{ground}.py").is_file()
        assert ground in docstring, f"engine/__init__.py does not mention {ground}"
