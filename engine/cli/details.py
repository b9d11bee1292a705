"""Where the command line keeps what the terminal is spared: a failure's traceback.

The terminal gets one plain line; the details for a bug report go to a log file in the
app's data folder (logs/engine-<date>-<time>-<pid>.log), whose path the line names.
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
import traceback
from pathlib import Path


KEEP_LOGS = 50  # the newest log files kept in logs/; older ones go when a new one is made


def prune_logs(folder: Path, keep: int = KEEP_LOGS) -> None:
    """Remove all but the newest `keep` *.log files of `folder` (the command line's and the
    window's alike); a file that cannot be removed is left."""
    try:
        logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in logs[keep:]:
        try:
            old.unlink()
        except OSError:
            pass


def details_folder() -> Path:
    from engine.config import default_data_dir

    return default_data_dir() / "logs"


def write_details(text: str, command: list[str] | None = None) -> Path | None:
    """Write `text` (a traceback) to a new log file; its path, or None if nothing could be
    written (then the details are lost, never the terminal's one line)."""
    now = _dt.datetime.now()
    name = f"engine-{now:%Y%m%d-%H%M%S}-{os.getpid()}.log"
    header = f"{now.isoformat(timespec='seconds')}  python -m engine {' '.join(command or [])}\n"
    for folder in (details_folder(), Path(tempfile.gettempdir()) / "lora-studio-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            prune_logs(folder, KEEP_LOGS - 1)  # room for this one
            path = folder / name
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(header + text + ("\n" if not text.endswith("\n") else ""))
            return path
        except OSError:
            continue
    return None


def exception_details(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))
