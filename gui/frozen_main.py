"""Entry script of the packaged executable (build.spec's Analysis starts here).

`multiprocessing.freeze_support()` must run before anything else: inside a frozen app a
child process (a DataLoader worker with the "spawn" start method, always the case on
Windows and macOS) re-launches this very executable with special arguments, and
freeze_support turns that launch into the worker instead of a second window.
The self-test flags are dispatched here too, so the executable honours them before any
Qt or torch import even if gui.app's own dispatch changes.
"""
from __future__ import annotations

import multiprocessing
import sys

SELF_TEST_FLAGS = ("--self-test", "--self-test-gui")


def main() -> int:
    multiprocessing.freeze_support()
    args = sys.argv[1:]
    if any(flag in args for flag in SELF_TEST_FLAGS):
        from gui.selftest import main as self_test_main

        return self_test_main(args)
    from gui.app import main as app_main

    return int(app_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
