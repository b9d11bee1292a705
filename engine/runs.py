"""Run folders: creating them, writing run.json / metrics.jsonl safely, reading them back.

runs/<name>/run.json is rewritten atomically (temp file + os.replace) so a crash never
leaves half a file; metrics.jsonl is appended and flushed line by line so a crash leaves
a valid prefix. Readers use JSON only.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UserError
from engine.events import Event, event_from_dict
from engine.i18n import _

FORMAT_VERSION = 1


# --- writing --------------------------------------------------------------------------
def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write sorted JSON to `path` via a temp file in the same folder + os.replace."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _slug(text: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return text[:40] or "run"


def dataset_name(data_dir: str) -> str:
    """A short name for a dataset: its folder name (or CSV file stem)."""
    p = Path(data_dir.rstrip("/\\")) if data_dir else Path("run")
    return _slug(p.stem if p.suffix.lower() == ".csv" else p.name)


def create_run_dir(output_dir: str | Path, data_dir: str, run_name: str = "",
                   now: _dt.datetime | None = None) -> Path:
    """Create a new, unique run folder: <dataset>-YYYY-MM-DD-HHMM[-n] (or <run_name>[-n])."""
    root = Path(output_dir)
    now = now or _dt.datetime.now()
    base = _slug(run_name) if run_name else f"{dataset_name(data_dir)}-{now:%Y-%m-%d-%H%M}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            candidate = root / (base if n == 1 else f"{base}-{n}")
            try:
                candidate.mkdir()  # atomic: two runs started at once never share a folder
                return candidate
            except FileExistsError:
                continue
    except OSError as exc:  # not "a file disappeared": say which folder cannot be written
        raise UserError(_("The output folder {folder} cannot be created or written ({reason}). "
                          "Choose another output folder.").format(
            folder=root, reason=exc.strerror or exc)) from exc
    raise RuntimeError(_("could not find a free run folder name under {folder}").format(
        folder=root))


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"python": sys.version.split()[0]}
    for key, dist in (("app", "lora-studio"), ("torch", "torch"),
                      ("transformers", "transformers"), ("peft", "peft")):
        try:
            versions[key] = md.version(dist)
        except md.PackageNotFoundError:
            versions[key] = "unknown"
    return versions


class RunWriter:
    """Owns one run folder's run.json and metrics.jsonl (and TensorBoard, when available)."""

    def __init__(self, run_dir: str | Path, meta: dict[str, Any], *, tensorboard: bool = True):
        self.run_dir = Path(run_dir)
        self.meta = dict(meta)
        self.meta.setdefault("format_version", FORMAT_VERSION)
        self._metrics = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        self._tb = None
        self.tb_error = ""
        if tensorboard:
            try:
                from tensorboardX import SummaryWriter

                self._tb = SummaryWriter(str(self.run_dir / "tb"))
            except Exception as exc:  # optional: never worth failing a run for
                self.tb_error = _("TensorBoard logging is off ({error}).").format(
                    error=f"{type(exc).__name__}: {exc}")

    def update(self, **changes: Any) -> None:
        """Merge `changes` into run.json and rewrite it atomically."""
        self.meta.update(changes)
        write_json_atomic(self.run_dir / "run.json", self.meta)

    def log_event(self, event: Event) -> None:
        self._metrics.write(json.dumps(event.to_dict(), sort_keys=True) + "\n")
        self._metrics.flush()
        if self._tb is not None:
            _tensorboard(self._tb, event)

    def close(self) -> None:
        if not self._metrics.closed:
            self._metrics.close()
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def _tensorboard(tb, event: Event) -> None:
    kind = event.kind
    if kind == "step":
        tb.add_scalar("train/loss", event.loss, event.step)
        tb.add_scalar("train/accuracy", event.accuracy, event.step)
        tb.add_scalar("train/lr", event.lr, event.step)
        tb.add_scalar("train/images_per_s", event.images_per_s, event.step)
    elif kind == "evaluation":
        tb.add_scalar(f"{event.split}/loss", event.loss, event.step)
        tb.add_scalar(f"{event.split}/accuracy", event.accuracy, event.step)


# --- reading --------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSummary:
    path: str
    name: str
    status: str  # run.json's (effective_status), or "damaged"
    best_val_accuracy: float | None
    test_accuracy: float | None
    created: str
    model_ref: str
    class_names: list[str]
    method: str
    problem: str = ""  # why the run is "damaged": a message naming the file


def _is(value: Any, kinds, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, kinds) and not isinstance(value, bool)


# The fields readers (listing, result cards, resume) use, with the types they rely on.
_FIELDS = (("name", str), ("status", str), ("created", str), ("method", str),
           ("test_accuracy", (int, float)), ("best", dict), ("base_model", dict),
           ("class_names", list), ("config", dict), ("process", dict))


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """run.json of a run folder as a dict.

    Raises FileNotFoundError when there is none, and DamagedRunError (a ValueError) naming
    the file when it is truncated, not JSON, not an object or has wrongly typed fields.
    """
    from engine.safe_read import damaged, read_json

    path = Path(run_dir) / "run.json"
    data = read_json(path)
    wrong = [k for k, kinds in _FIELDS if not _is(data.get(k), kinds)]
    best = data.get("best") or {}
    if not wrong and not _is(best.get("val_accuracy"), (int, float)):
        wrong = ["best.val_accuracy"]
    if not wrong and not all(isinstance(n, str) for n in data.get("class_names") or []):
        wrong = ["class_names"]
    if not wrong and not isinstance((data.get("base_model") or {}).get("ref", ""), str):
        wrong = ["base_model.ref"]
    if wrong:
        value = json.dumps(_field(data, wrong[0]))[:40]
        raise damaged(path, _("has the wrong contents"),
                      _("{field} is {value}").format(field=wrong[0], value=value))
    if data.get("config"):
        from engine.config import TrainConfig

        try:  # what a resume continues with
            TrainConfig.from_dict(data["config"])
        except (TypeError, ValueError, AttributeError) as exc:
            raise damaged(path, _("has the wrong contents"), f"config: {exc}") from None
    return data


def _field(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def read_metrics(run_dir: str | Path) -> list[Event]:
    """The events of metrics.jsonl; a torn line (crash mid-write) or any other damaged line
    is skipped, and an unreadable file reads as no events: curves are never worth a crash."""
    path = Path(run_dir) / "metrics.jsonl"
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:  # missing, a folder, no permission
        return []
    events = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict):
                events.append(event_from_dict(data))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            continue
    return events


def process_marker() -> dict[str, Any]:
    """Which process writes a run (run.json "process"), to tell a live run from a dead one."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def effective_status(meta: dict[str, Any]) -> str:
    """run.json's status, except that a "running" run whose process is gone (killed, power
    loss) on this machine reads "interrupted": it can be resumed from checkpoints/last."""
    status = str(meta.get("status", "unknown"))
    proc = meta.get("process")
    if status != "running" or not isinstance(proc, dict) or proc.get("host") != socket.gethostname():
        return status
    try:
        pid = int(proc.get("pid", 0))
    except (TypeError, ValueError):
        return status
    return status if pid > 0 and _alive(pid) else "interrupted"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # query limited info
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _summary(run_dir: Path, meta: dict[str, Any]) -> RunSummary:
    best = meta.get("best") or {}
    return RunSummary(
        path=str(run_dir), name=str(meta.get("name", run_dir.name)),
        status=effective_status(meta),
        best_val_accuracy=best.get("val_accuracy"), test_accuracy=meta.get("test_accuracy"),
        created=str(meta.get("created", "")),
        model_ref=str((meta.get("base_model") or {}).get("ref", "")),
        class_names=list(meta.get("class_names", [])), method=str(meta.get("method", "")))


def _damaged(run_dir: Path, problem: str, summary: RunSummary | None = None) -> RunSummary:
    if summary is not None:
        return dataclasses.replace(summary, status="damaged", problem=problem)
    try:
        created = _dt.datetime.fromtimestamp((run_dir / "run.json").stat().st_mtime)
    except OSError:
        created = _dt.datetime.fromtimestamp(0)
    return RunSummary(path=str(run_dir), name=run_dir.name, status="damaged",
                      best_val_accuracy=None, test_accuracy=None,
                      created=created.isoformat(timespec="seconds"), model_ref="",
                      class_names=[], method="", problem=problem)


def weights_problem(run_dir: str | Path) -> str:
    """Why the saved model of a run is damaged ('' when its files look whole): from the
    safetensors headers and adapter_config.json only, so cheap enough for a listing."""
    from engine.safe_read import read_json, safetensors_problem

    run_dir = Path(run_dir)
    for name in ("head.safetensors", "adapter/adapter_model.safetensors"):
        if (run_dir / name).exists():
            problem = safetensors_problem(run_dir / name)
            if problem:
                return problem
    if (run_dir / "adapter" / "adapter_config.json").exists():
        try:
            read_json(run_dir / "adapter" / "adapter_config.json")
        except (OSError, ValueError) as exc:  # DamagedRunError is a ValueError
            return str(exc)
    return ""


def list_runs(root: str | Path = "runs", *, damaged: bool = False) -> list[RunSummary]:
    """Every readable run folder under `root`, newest first; unreadable ones are skipped.

    With damaged=True they are listed too, with status "damaged" and `problem` saying which
    file is damaged and what to do, and so are runs whose saved weights are damaged (checked
    from the files' headers): what a front end shows, so the user learns why a run is unusable.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    summaries = []
    for child in root.iterdir():
        if not (child / "run.json").is_file():
            continue
        try:
            summary = _summary(child, read_run(child))
        except (OSError, ValueError) as exc:  # DamagedRunError is a ValueError
            if damaged:
                summaries.append(_damaged(child, str(exc)))
            continue
        problem = weights_problem(child) if damaged else ""
        summaries.append(_damaged(child, problem, summary) if problem else summary)
    return sorted(summaries, key=lambda s: (s.created, s.name), reverse=True)
