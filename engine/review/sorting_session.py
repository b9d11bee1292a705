"""A sorting session on disk: the classes and every decision made so far on one unsorted
folder, so closing the app halfway through 5,000 photos loses nothing.

One JSON file per source folder in the app's data folder (sorting/<hash of the folder's
path>.json), written to a temporary file and renamed (a crash leaves the last whole
session). Reading validates every field: a damaged or foreign file is ignored (None), never
trusted. The embeddings themselves live in the embedding cache, so resuming loads no model.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT_VERSION = 1


@dataclass
class SortingSession:
    folder: str  # the unsorted folder (absolute), only ever read
    classes: list[str]
    model: str  # the base model that embeds and names the images
    examples: str = ""  # a folder-per-class set of examples, or ""
    confirmed: dict[str, str] = field(default_factory=dict)  # image path -> class name
    excluded: list[str] = field(default_factory=list)  # image paths left out of the dataset
    proposed: dict[str, str] = field(default_factory=dict)  # path -> proposal when decided
    dataset: str = ""  # the last CSV saved from this session ("" before the first save)
    run: str = ""  # the trained run that proposes now ("" for the base model)


def sessions_dir() -> Path:
    from engine.config import default_data_dir

    return default_data_dir() / "sorting"


def session_path(folder: str | os.PathLike) -> Path:
    key = hashlib.sha256(os.path.abspath(os.fspath(folder)).encode("utf-8")).hexdigest()[:24]
    return sessions_dir() / f"{key}.json"


def write_session(session: SortingSession, path: str | os.PathLike | None = None) -> Path:
    """Save `session` atomically (temp file in the same folder, then rename)."""
    target = Path(path) if path else session_path(session.folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT_VERSION, **asdict(session)}, fh, sort_keys=True,
                      ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _strings(value, kind=list) -> bool:
    if kind is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def read_session(folder: str | os.PathLike, path: str | os.PathLike | None = None
                 ) -> SortingSession | None:
    """The saved session of `folder`, or None when there is none or it is not a valid one
    (unreadable, not JSON, another format, another folder, decisions naming unknown
    classes)."""
    source = Path(path) if path else session_path(folder)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        return None
    texts = ("folder", "model", "examples", "dataset", "run")
    if not all(isinstance(data.get(k, ""), str) for k in texts):
        return None
    if not (_strings(data.get("classes")) and len(data["classes"]) >= 2
            and _strings(data.get("confirmed", {}), dict) and _strings(data.get("excluded", []))
            and _strings(data.get("proposed", {}), dict)):
        return None
    if os.path.abspath(data.get("folder", "")) != os.path.abspath(os.fspath(folder)):
        return None
    classes = set(data["classes"])
    if any(c not in classes for c in data.get("confirmed", {}).values()):
        return None
    return SortingSession(folder=data["folder"], classes=list(data["classes"]),
                          model=data.get("model", ""), examples=data.get("examples", ""),
                          confirmed=dict(data.get("confirmed", {})),
                          excluded=list(data.get("excluded", [])),
                          proposed=dict(data.get("proposed", {})),
                          dataset=data.get("dataset", ""), run=data.get("run", ""))


def newest_run_for(dataset: str, runs_root: str | os.PathLike) -> str:
    """The newest completed run under `runs_root` trained on the CSV `dataset` ("" when
    none): read from each run.json's config (data_dir), JSON only."""
    from engine.runs import list_runs

    if not dataset:
        return ""
    for summary in list_runs(runs_root):  # newest first
        if summary.status == "completed" and trained_on(summary.path, dataset):
            return summary.path
    return ""


def trained_on(run_dir: str | os.PathLike, dataset: str) -> bool:
    """Whether the run in `run_dir` was trained on the CSV `dataset` (its run.json's
    config data_dir; JSON only, and False for anything unreadable)."""
    from engine.safe_read import read_json

    if not dataset:
        return False
    try:
        meta = read_json(Path(run_dir) / "run.json")
    except (OSError, ValueError):
        return False
    config = meta.get("config") if isinstance(meta, dict) else None
    data_dir = config.get("data_dir", "") if isinstance(config, dict) else ""
    return isinstance(data_dir, str) and bool(data_dir) and \
        os.path.abspath(data_dir) == os.path.abspath(dataset)
