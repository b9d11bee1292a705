"""Ctrl-C on a command that trains: the first asks for a graceful stop, the second aborts."""
from __future__ import annotations

import contextlib
import signal
import sys

from engine.i18n import _


@contextlib.contextmanager
def ctrl_c_stops(control):
    """Ctrl-C (or SIGTERM) asks the run to stop and save; a second Ctrl-C aborts at once."""
    def handler(signum, frame):
        if control.stop_requested:
            raise KeyboardInterrupt
        control.stop()
        print("\n" + _("Stopping after this step and saving a checkpoint (Ctrl-C again to "
                       "abort)..."), file=sys.stderr, flush=True)

    signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:  # not the main thread: leave the signals alone
        yield
        return
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
