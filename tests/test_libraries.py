"""engine.libraries: the libraries' first imports happen in one thread at a time, and every
engine entry point and GUI worker waits for them (issue #21, the start-up import race)."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from engine import libraries

ROOT = Path(__file__).resolve().parent.parent
# Packages whose first import is not safe in two threads at once, or that are lazy modules
# themselves (a name's first access is an import): every import of them must be covered.
GUARDED = ("transformers", "peft", "accelerate", "huggingface_hub", "tokenizers",
           "sentencepiece", "sklearn", "scipy", "cleanlab", "captum", "safetensors", "torch")


def _stage_modules() -> set[str]:
    return {m for _name, modules in libraries.STAGES for m in modules}


def _imports(folder: Path):
    """(file, line, module, names) of every import of a GUARDED package under `folder`."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] in GUARDED:
                    yield path, node.lineno, node.module, [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in GUARDED:
                        yield path, node.lineno, alias.name, []


def test_every_guarded_import_in_the_app_is_made_by_ready():
    modules = _stage_modules()
    missing = []
    for folder in ("engine", "gui"):
        for path, line, module, names in _imports(ROOT / folder):
            where = f"{path.relative_to(ROOT)}:{line}"
            covered = module in modules or module.split(".")[0] == "torch"
            if not covered:
                missing.append(f"{where}: module {module}")
            for name in names:
                if module in libraries.NAMES and name not in libraries.NAMES[module] and \
                        f"{module}.{name}" not in modules:
                    missing.append(f"{where}: {module}.{name}")
    assert not missing, "add these to engine/libraries.py's STAGES or NAMES:\n" + \
        "\n".join(missing)


def test_every_familys_classes_are_resolved_by_ready():
    from engine.model.backbones import FAMILIES

    names = set(libraries.NAMES["transformers"])
    for family in FAMILIES:
        for attr in ("vision_class", "full_class", "processor_class"):
            value = getattr(family, attr, "")
            assert not value or value in names, f"{family.name}.{attr} = {value}"


def test_a_caller_waits_for_the_import_in_progress_and_nothing_is_imported_twice(
        tmp_path, monkeypatch):
    # A stand-in library whose import blocks until the test lets it finish: the second
    # caller must not return (nor import it again) while the first is inside its import.
    (tmp_path / "slow_library.py").write_text(textwrap.dedent("""
        import threading
        entered = threading.Event()
        release = threading.Event()
        IMPORTS = []
        IMPORTS.append(1)
        entered.set()
        import builtins
        builtins._slow_library_gate.wait(10)
        done = True
    """), encoding="utf-8")
    gate = threading.Event()
    import builtins

    monkeypatch.setattr(builtins, "_slow_library_gate", gate, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(libraries, "STAGES", (("slow", ("slow_library",)),))
    monkeypatch.setattr(libraries, "_done", set())
    returned: list[str] = []

    def first() -> None:
        libraries.ready("slow")
        returned.append("first")

    def second() -> None:
        libraries.ready("slow")
        returned.append("second " + str(getattr(sys.modules.get("slow_library"), "done", False)))

    a = threading.Thread(target=first)
    a.start()
    deadline = time.monotonic() + 10
    while "slow_library" not in sys.modules and time.monotonic() < deadline:
        time.sleep(0.01)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.3)
    assert b.is_alive() and returned == []  # waiting on the import in progress
    gate.set()
    a.join(10)
    b.join(10)
    assert sorted(returned) == ["first", "second True"]
    assert sys.modules["slow_library"].IMPORTS == [1]
    sys.modules.pop("slow_library", None)


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage"):
        libraries.ready("everything")


def _fresh_python(script: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, timeout=timeout,
                          capture_output=True, text=True)


def test_scanning_a_folder_imports_neither_torch_nor_transformers(learnable_dir):
    # Why the Dataset tab's scans may skip the wait (gui/scan_worker.py, needs=None).
    done = _fresh_python(textwrap.dedent(f"""
        import sys
        from engine.data.index import scan_dataset
        from engine.demo.dataset import make_demo_dataset
        import tempfile
        make_demo_dataset(tempfile.mkdtemp(), num_classes=2, per_class=3)
        index = scan_dataset({str(learnable_dir)!r})
        assert len(index.samples) > 0
        print(sorted(m for m in ("torch", "transformers") if m in sys.modules))
    """))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


STRESS = textwrap.dedent("""
    import sys, threading, traceback
    clip, siglip, run_dir, out = sys.argv[1:5]
    # The engine's modules first (they import torch, never transformers at module level),
    # so that the threads below meet exactly at their first transformers imports.
    from engine.model.backbones import family_of
    from engine.model.classifier import build_classifier, load_base
    from engine.use.predict import Predictor
    from engine.demo.tiny_backbones import make_tiny_dinov2
    assert "transformers" not in sys.modules
    barrier = threading.Barrier(6)
    errors = []

    def at_once(name, call):
        def body():
            barrier.wait()
            try:
                call()
            except BaseException:
                errors.append(name + ": " + traceback.format_exc(limit=3))
        return threading.Thread(target=body, name=name)

    def family():
        assert family_of(clip).name == "clip"

    def base():
        assert load_base(siglip)[0].name == "siglip"

    def predictor():
        assert Predictor(run_dir).class_names

    def classifier():
        build_classifier(clip, ["a", "b"])

    def demo_model():
        make_tiny_dinov2(out)

    def warm_up():
        from engine import libraries
        libraries.ready()

    threads = [at_once(n, f) for n, f in (("family", family), ("base", base),
               ("predictor", predictor), ("classifier", classifier),
               ("demo_model", demo_model), ("warm_up", warm_up))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("ERRORS", len(errors))
    print("\\n".join(errors))
    assert "transformers" in sys.modules
""")


@pytest.mark.slow
@pytest.mark.parametrize("attempt", [1, 2])
def test_six_threads_making_their_first_engine_calls_at_once(attempt, tiny_clip_dir, run,
                                                             tmp_path):
    """Fresh interpreters (the engine's modules imported, no transformers yet), six threads
    released together: each makes a first engine call (family check, base model load, a run's Predictor, a classifier,
    a demo model, the warm-up). Before engine.libraries, 2 of 3 such starts failed."""
    from engine.demo.tiny_backbones import make_tiny_siglip

    siglip = make_tiny_siglip(tmp_path / "siglip")
    done = _fresh_python(STRESS.replace("sys.argv[1:5]", repr(
        [str(tiny_clip_dir), str(siglip), str(run), str(tmp_path / "dino")])))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ERRORS 0" in done.stdout, done.stdout[-3000:]
