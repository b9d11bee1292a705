"""Import the engine's heavy dependencies in the background once the window is up.

A first import of torch, transformers, peft and accelerate takes seconds and, in any
thread, holds Python's GIL for long stretches (module compilation, C extension start-up).
Done lazily inside the first training run, that makes the GUI stutter exactly when the
user is watching; done right after start-up, while the user is still choosing a folder,
it goes unnoticed and the first run starts at once.

The libraries themselves are imported by engine.libraries.ready(), the one place where
their first import may happen: a worker started meanwhile (training, Check, Check labels,
a dropped image) waits there until the imports are complete instead of racing them.
The engine's own modules, which import each other normally, follow.
"""
from __future__ import annotations

import importlib
import time

# The engine modules a first run would import, after the libraries they stand on.
ENGINE_MODULES = (
    "engine.hardware",
    "engine.training.loop",
    "engine.use.evaluate",
    "engine.use.predict",
)


def warm_up(modules: tuple[str, ...] = ENGINE_MODULES) -> dict[str, float]:
    """Import the libraries, then `modules`; returns seconds spent per module."""
    from engine import libraries

    libraries.ready()
    spent = dict(libraries.spent)
    for name in modules:
        start = time.perf_counter()
        importlib.import_module(name)  # engine modules: a failure here is a bug to surface
        spent[name] = time.perf_counter() - start
    return spent
