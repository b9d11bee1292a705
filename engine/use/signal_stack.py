"""Keep the calling thread's alternate signal stack as it was around OpenVINO calls.

OpenVINO's CPU plugin, the first time it is created in a process, installs an alternate
signal stack (sigaltstack) on the calling thread, in memory of its own (room for AMX's large
signal frames). When the last OpenVINO Core goes and the plugin is unloaded, that memory goes
with it, but the thread still points at it. Python installs its signal handlers with
SA_ONSTACK, so the next handled signal on that thread (the SIGCHLD of a DataLoader worker
that exits, a Ctrl-C, faulthandler's own SIGSEGV handler) makes the kernel write the
handler's frame into unmapped memory: the process dies of SIGSEGV (si_code SI_KERNEL, in
whatever the thread was doing), and faulthandler cannot even say where. Seen: the self-test
died at its worker stage right after the fast-backend stage, and the suite at a Ctrl-C test.

`kept()` puts the thread's previous alternate stack (or none) back after the call. Signals
then run on the thread's own stack, which has room for any signal frame. Linux only (the
plugin's sigaltstack was seen there; elsewhere this does nothing).
"""
from __future__ import annotations

import contextlib
import ctypes
import sys
from typing import Iterator

SS_DISABLE = 2  # Linux <bits/sigstack.h>


class _StackT(ctypes.Structure):  # Linux stack_t
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int),
                ("ss_size", ctypes.c_size_t)]


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def current() -> tuple[int, int, int] | None:
    """(address, size, flags) of this thread's alternate signal stack; None off Linux."""
    if _LIBC is None:
        return None
    stack = _StackT()
    if _LIBC.sigaltstack(None, ctypes.byref(stack)) != 0:
        return None
    return (stack.ss_sp or 0, stack.ss_size, stack.ss_flags)


def restore(saved: tuple[int, int, int] | None) -> None:
    """Make `saved` (from current()) this thread's alternate signal stack again."""
    if _LIBC is None or saved is None or current() == saved:
        return
    address, size, flags = saved
    stack = _StackT()
    if flags & SS_DISABLE or not address:
        stack.ss_flags = SS_DISABLE
    else:
        stack.ss_sp, stack.ss_size, stack.ss_flags = address, size, 0
    _LIBC.sigaltstack(ctypes.byref(stack), None)


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """Run the block (an OpenVINO call) and give the thread back its alternate stack."""
    saved = current()
    try:
        yield
    finally:
        restore(saved)


__all__ = ["current", "kept", "restore"]
