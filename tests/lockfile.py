"""requirements.lock against pyproject.toml and against the environment that runs the tests.

Used by tests/test_lock.py, and by `make check-latest` as a script:

    python tests/lockfile.py --compare requirements.lock

prints every package whose installed version differs from its pin (what a refreshed lock
would change), so a green check-latest says which upgrades it proved.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PROJECT = "lora-studio"


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: Version
    marker: Marker | None

    def applies(self, env: dict | None = None) -> bool:
        return self.marker is None or self.marker.evaluate(env)


def read_lock(path: Path = LOCK) -> list[Pin]:
    """`name==version ; marker` lines; comments and `# via` lines are skipped."""
    pins = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != "==":
            raise ValueError(f"{path.name}: '{line}' is not an exact pin")
        pins.append(Pin(canonicalize_name(req.name), Version(spec[0].version), req.marker))
    return pins


def project_requirements(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, list[Requirement]]:
    """The runtime requirements ("") and each extra's, as written in pyproject.toml."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    groups = {"": [Requirement(r) for r in project.get("dependencies", [])]}
    for extra, reqs in project.get("optional-dependencies", {}).items():
        groups[extra] = [Requirement(r) for r in reqs]
    return groups


def pin_for(pins: list[Pin], name: str, env: dict | None = None) -> Pin | None:
    name = canonicalize_name(name)
    found = [p for p in pins if p.name == name and p.applies(env)]
    return found[0] if found else None


def disagreements(pins: list[Pin], groups: dict[str, list[Requirement]],
                  env: dict | None = None) -> list[str]:
    """Every pyproject requirement that the lock leaves out or pins outside its range."""
    problems = []
    for extra, reqs in groups.items():
        where = f"[{extra}]" if extra else "dependencies"
        for req in reqs:
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            pin = pin_for(pins, req.name, env)
            if pin is None:
                problems.append(f"{req} ({where}) is not in {LOCK.name}")
            elif not req.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{req} ({where}) but {LOCK.name} pins {pin.name}=={pin.version}")
    return problems


def installed_closure(extras: tuple[str, ...] = ("dev",)) -> dict[str, Version]:
    """Installed distributions that the project (with `extras`) needs here, transitively."""
    found: dict[str, Version] = {}
    todo = [(PROJECT, extras)]
    while todo:
        name, wanted = todo.pop()
        dist = md.distribution(name)
        key = canonicalize_name(dist.metadata["Name"])
        if key != PROJECT:
            found[key] = Version(dist.version)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not any(
                    req.marker.evaluate({"extra": extra}) for extra in (wanted or ("",))):
                continue
            dep = canonicalize_name(req.name)
            if dep not in found and dep != PROJECT:
                found[dep] = Version("0")  # placeholder until visited
                todo.append((dep, tuple(req.extras)))
    return found


def drift(pins: list[Pin], installed: dict[str, Version]) -> list[str]:
    """Installed versions that are not the locked ones (a local tag like +cpu is ignored)."""
    lines = []
    for name, version in sorted(installed.items()):
        pin = pin_for(pins, name)
        if pin is None:
            lines.append(f"{name} {version} is installed but not in {LOCK.name}")
        elif Version(version.base_version) != pin.version:
            lines.append(f"{name}: installed {version}, locked {pin.version}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, default=LOCK, help="lock file to compare with")
    args = parser.parse_args(argv)
    pins = read_lock(args.compare)
    changed = drift(pins, installed_closure(("dev",)))
    print(f"{len(changed)} package(s) differ from {args.compare.name}:" if changed
          else f"every installed package matches {args.compare.name}")
    for line in changed:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
