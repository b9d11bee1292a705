"""Packaging: the self-test (from source) and the PyInstaller executable (marked `exe`).

The `exe` tests build dist/LoRAStudio once per test session (a session fixture shared by
both tests) and reuse an earlier build when nothing that goes into it changed: the cache
key hashes build.spec, engine/, gui/, resources/, the Python version and every installed
distribution's version. Builds live in build/exe-cache/ (git-ignored). Size and start-up
time go to bench_out/exe.json so regressions show up in the benchmark output.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

from gui.selftest_stages import SELF_TEST_STAGES

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "exe-cache"
BENCH = ROOT / "bench_out" / "exe.json"
EXE_NAME = "LoRAStudio.exe" if sys.platform == "win32" else "LoRAStudio"
MAX_FOLDER_BYTES = 1.3e9  # goal: at most 1.3 GB with a CPU torch
MAX_WINDOW_S = 5.0  # goal: window visible within 5 s of launch (2-core machine)
STAGES = tuple(name for name, _ in SELF_TEST_STAGES)
# What the app does, each of which the packaged build must prove it can still do.
REQUIRED_STAGES = {"imports", "train", "fast modes", "reload+predict", "evaluate+report",
                   "data check+heat map", "export", "worker processes", "backbone families",
                   "translations"}


def _clean_env() -> dict[str, str]:
    """The environment a user's shell would give the app: no venv, no test settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LORA_STUDIO_HOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


# --- the self-test itself ----------------------------------------------------------------
def test_self_test_covers_every_code_path_of_the_app():
    assert REQUIRED_STAGES <= set(STAGES), REQUIRED_STAGES - set(STAGES)


def test_failed_stage_stops_the_self_test_with_its_message():
    from gui.selftest import run_self_test

    lines: list[str] = []
    ran: list[str] = []

    def ok(ctx):
        ran.append("ok")
        return "fine"

    def broken(ctx):
        raise ValueError("broken on purpose")

    code = run_self_test([("first", ok), ("second", broken), ("third", ok)], out=lines.append)
    assert code == 1
    assert ran == ["ok"]  # the stage after the failure did not run
    report = "\n".join(lines)
    assert re.search(r"^PASS  first", report, re.M)
    assert re.search(r"^FAIL  second .*ValueError: broken on purpose", report, re.M)
    assert re.search(r"^SKIP  third", report, re.M)
    assert "self-test FAILED at second" in report


@pytest.mark.slow
def test_self_test_passes_from_source():
    proc = subprocess.run([sys.executable, "-m", "gui.frozen_main", "--self-test"], cwd=ROOT,
                          env=_clean_env(), capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    for stage in STAGES:
        assert re.search(rf"^PASS  {re.escape(stage)}\b", proc.stdout, re.M), output
    assert "self-test passed" in proc.stdout


@pytest.mark.slow
def test_gui_self_test_passes_from_source():
    proc = subprocess.run([sys.executable, "-m", "gui.frozen_main", "--self-test-gui"], cwd=ROOT,
                          env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gui self-test passed" in proc.stdout
    # The window must not wait for torch: it is imported in the background after showing.
    assert "torch imported before the window: False" in proc.stdout


def test_spec_entry_and_icons_exist():
    from PIL import Image

    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    assert '"gui" / "frozen_main.py"' in spec and (ROOT / "gui" / "frozen_main.py").is_file()
    for name in re.findall(r'"(icon\.[a-z]+)"', spec):
        assert (ROOT / "resources" / name).is_file(), name
    with Image.open(ROOT / "resources" / "icon.png") as png:
        assert png.size[0] == png.size[1] >= 256
    with Image.open(ROOT / "resources" / "icon.ico") as ico:
        assert {(16, 16), (32, 32), (256, 256)} <= set(ico.info["sizes"])


# --- the executable ----------------------------------------------------------------------
def build_key() -> str:
    """Hash of everything that goes into the executable."""
    digest = hashlib.sha256()
    files = [ROOT / "build.spec"]
    for folder in ("engine", "gui", "resources"):
        files += [p for p in (ROOT / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join([sys.version, *dists]).encode())
    return digest.hexdigest()[:16]


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of a folder, counting each file once (like `du -s`)."""
    total = count = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total, count


def record_bench(key: str, **fields) -> dict:
    """Merge `fields` into bench_out/exe.json (reset when the build changed)."""
    data = {}
    if BENCH.is_file():
        data = json.loads(BENCH.read_text(encoding="utf-8"))
    if data.get("build_key") != key:
        data = {"build_key": key}
    data.update(fields)
    BENCH.parent.mkdir(parents=True, exist_ok=True)
    BENCH.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return data


@dataclass
class ExeBuild:
    key: str
    exe: Path
    folder: Path
    build_s: float
    reused: bool


def _pyinstaller() -> str | None:
    scripts = Path(sys.executable).parent
    for name in ("pyinstaller", "pyinstaller.exe"):
        if (scripts / name).is_file():
            return str(scripts / name)
    return shutil.which("pyinstaller")


@pytest.fixture(scope="session")
def exe_build() -> ExeBuild:
    pyinstaller = _pyinstaller()
    if pyinstaller is None:
        pytest.skip("PyInstaller is not installed (pip install -e '.[dev]')")
    key = build_key()
    target = CACHE / key
    folder = target / "dist" / "LoRAStudio"
    meta = target / "build.json"
    if meta.is_file() and (folder / EXE_NAME).is_file():
        info = json.loads(meta.read_text(encoding="utf-8"))
        return ExeBuild(key, folder / EXE_NAME, folder, info["build_s"], reused=True)
    # One build is 1+ GB: keep only the newest.
    for old in CACHE.glob("*") if CACHE.is_dir() else []:
        if old.is_dir() and old.name != "work":
            shutil.rmtree(old, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    log = target / "build.log"
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as stream:
        proc = subprocess.run([pyinstaller, "--noconfirm", "--log-level", "WARN",
                               "--distpath", str(target / "dist"), "--workpath", str(CACHE / "work"),
                               str(ROOT / "build.spec")], cwd=ROOT, stdout=stream,
                              stderr=subprocess.STDOUT, timeout=2400)
    build_s = time.perf_counter() - start
    if proc.returncode != 0 or not (folder / EXE_NAME).is_file():
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        pytest.fail(f"PyInstaller failed (exit {proc.returncode}); end of {log}:\n{tail}")
    meta.write_text(json.dumps({"build_s": round(build_s, 1), "key": key}), encoding="utf-8")
    return ExeBuild(key, folder / EXE_NAME, folder, build_s, reused=False)


@pytest.mark.exe
@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_exe_self_test_passes(exe_build):
    size, files = folder_size(exe_build.folder)
    record_bench(exe_build.key, build_s=round(exe_build.build_s, 1), reused_build=exe_build.reused,
                 size_bytes=size, size_gb=round(size / 1e9, 3), files=files,
                 platform=sys.platform, python=sys.version.split()[0],
                 torch=metadata.version("torch"))
    start = time.perf_counter()
    proc = subprocess.run([str(exe_build.exe), "--self-test"], cwd=exe_build.folder.parent,
                          env=_clean_env(), capture_output=True, text=True, timeout=900)
    record_bench(exe_build.key, self_test_s=round(time.perf_counter() - start, 1),
                 self_test_passed=proc.returncode == 0)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "(packaged," in proc.stdout, "the self-test did not run inside the frozen app"
    for stage in STAGES:
        assert re.search(rf"^PASS  {re.escape(stage)}\b", proc.stdout, re.M), output
    assert size <= MAX_FOLDER_BYTES, f"dist/LoRAStudio is {size / 1e9:.2f} GB (goal 1.3 GB)"


@pytest.mark.exe
@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_exe_gui_starts_offscreen_and_quits(exe_build):
    start = time.perf_counter()
    proc = subprocess.run([str(exe_build.exe), "--self-test-gui"], cwd=exe_build.folder.parent,
                          env=_clean_env(), capture_output=True, text=True, timeout=300)
    total_s = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    shown = re.search(r"window shown ([\d.]+) s after launch .*torch imported before the window: "
                      r"(True|False)", proc.stdout)
    if shown:
        record_bench(exe_build.key, window_shown_s=float(shown.group(1)),
                     gui_self_test_total_s=round(total_s, 2),
                     torch_imported_before_window=shown.group(2) == "True")
    assert proc.returncode == 0, output
    assert shown, output
    assert shown.group(2) == "False", "torch was imported before the window showed"
    assert float(shown.group(1)) <= MAX_WINDOW_S, \
        f"window took {shown.group(1)} s to appear (goal {MAX_WINDOW_S} s)\n{output}"


# --- what build.spec collects ------------------------------------------------------------
def _spec_collection() -> dict:
    """Run build.spec's collection part (everything before its file filters) as PyInstaller
    would, without building: the names it defines (RUNTIME, DATA_PACKAGES, datas, ...)."""
    source = (ROOT / "build.spec").read_text(encoding="utf-8")
    source = source[:source.index("# Files dropped after analysis")]
    namespace = {"SPECPATH": str(ROOT), "__file__": str(ROOT / "build.spec")}
    exec(compile(source, "build.spec", "exec"), namespace)
    return namespace


def test_spec_follows_the_dependencies_not_a_hand_list():
    import lockfile

    spec = _spec_collection()
    runtime = set(spec["RUNTIME"])
    locked = {p.name for p in lockfile.read_lock() if p.applies()}
    # every runtime requirement of pyproject.toml is in, and nothing outside the lock is
    assert {r.name.lower() for r in lockfile.project_requirements()[""]} <= runtime
    assert runtime - {"lora-studio"} <= locked
    bundled = {Path(src).name for src, _ in spec["datas"]}
    for dist in runtime:
        info = metadata.distribution(dist)
        assert Path(str(info._path)).name in bundled, f"{dist}'s metadata is not bundled"
    # a runtime package without a PyInstaller hook gets its data files collected
    if "kernels" in runtime:  # transformers >= 5.25
        assert "kernels" in spec["DATA_PACKAGES"]
        assert any(dest.startswith("kernels") and Path(src).suffix == ".json"
                   for src, dest in spec["datas"])
    assert "huggingface_hub" in spec["DATA_PACKAGES"]  # model-card templates (peft)
