"""Blocking work (scan, decode, download, embed) run in a thread while Progress events flow."""
from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Iterator

from engine.events import Progress


def with_progress(stage: str, message: str, work: Callable[[Callable[[int, int], None]], Any],
                  min_interval_s: float = 0.1) -> Iterator[Progress]:
    """Run work(progress) in a thread, yielding Progress events while it reports.

    Use as `result = yield from with_progress(...)`: the generator returns work's result
    (or re-raises its exception), so a front end sees live progress of a blocking call.
    """
    updates: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(lambda done, total: updates.put((done, total)))
        except BaseException as exc:  # re-raised in the caller's thread below
            outcome["error"] = exc
        finally:
            updates.put(None)

    thread = threading.Thread(target=run, name=f"lora-studio-{stage}", daemon=True)
    thread.start()
    last_sent = 0.0
    while True:
        item = updates.get()
        while item is not None and not updates.empty():  # skip to the newest report
            nxt = updates.get()
            if nxt is None:
                updates.put(None)
                break
            item = nxt
        if item is None:
            break
        done, total = item
        now = time.monotonic()
        if now - last_sent >= min_interval_s or done >= total:
            last_sent = now
            yield Progress(stage=stage, done=int(done), total=int(total), message=message)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
