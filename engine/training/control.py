"""TrainControl: lets any thread stop, pause or resume a running training loop.

The loop calls `checkpoint()` once per step; nothing is ever killed from outside.
"""
from __future__ import annotations

import threading


class TrainControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()  # set = not paused
        self._running.set()

    def stop(self) -> None:
        """Ask the loop to save and finish with status "stopped" (also wakes a paused loop)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set() and not self._stop.is_set()

    def wait_while_paused(self, poll_s: float = 0.1) -> None:
        """Block while paused; return at once when running or when a stop is requested."""
        while not self._running.wait(poll_s):
            if self._stop.is_set():
                return
