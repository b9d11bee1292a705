"""Micro-batching: images of concurrent requests computed together by one worker thread.

Each request puts its decoded images on a queue, one item per image, and waits on their
futures. The worker takes the first item that arrives, then whatever else arrives within
`wait_ms` up to `max_batch` images, runs the model once on the stack, and answers every
future. Under load the batches fill up, so the server's throughput approaches the
Predictor's batch throughput; alone, a request waits at most `wait_ms` extra. One worker
means one model call at a time: the model is never run from two threads at once.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np

_STOP = object()


class MicroBatcher:
    def __init__(self, probabilities, max_batch: int = 32, wait_ms: float = 5.0):
        """`probabilities`: uint8 torch tensor [B, 3, R, R] -> float tensor [B, classes]
        (the Predictor's own method)."""
        self._probabilities = probabilities
        self.max_batch = max(1, int(max_batch))
        self.wait_s = max(0.0, wait_ms / 1000)
        self._queue: queue.Queue = queue.Queue()
        self.batches = 0  # how many model calls, how many images they held, the most in one
        self.images = 0
        self.largest = 0
        self._thread = threading.Thread(target=self._work, name="serve-inference", daemon=True)
        self._thread.start()

    def submit(self, image: np.ndarray) -> Future:
        """One decoded image -> a future of its probabilities (a 1-D float tensor)."""
        future: Future = Future()
        self._queue.put((image, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _gather(self, first) -> tuple[list, bool]:
        items, stop = [first], False
        deadline = time.monotonic() + self.wait_s
        while len(items) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
                break
            items.append(item)
        return items, stop

    def _work(self) -> None:
        import torch

        from engine.libraries import ready

        ready()  # the first imports happen here, never concurrently with a request's
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            items, stop = self._gather(first)
            items = [(image, f) for image, f in items if f.set_running_or_notify_cancel()]
            if items:
                try:
                    stack = torch.from_numpy(np.stack([image for image, _f in items]))
                    probs = self._probabilities(stack)
                    self.batches += 1
                    self.images += len(items)
                    self.largest = max(self.largest, len(items))
                    for (_image, future), row in zip(items, probs):
                        future.set_result(row)
                except Exception as exc:  # every waiting request learns it, the worker lives on
                    for _image, future in items:
                        future.set_exception(exc)
            if stop:
                return


__all__ = ["MicroBatcher"]
