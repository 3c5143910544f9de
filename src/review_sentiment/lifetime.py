"""Processes that must not outlive the one that started them: a killed `kedro run` (SIGKILL, or a
crash) leaves no scoring server and no cross-validation worker behind, computing and holding its
output pipes open."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def arm_parent_death_signal(signum: int) -> bool:
    """Asks Linux to send `signum` to this process when its parent dies; False where that is
    not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0


def die_with_parent(parent: int) -> None:
    """A worker process's initializer: killed as soon as `parent` dies, and at once if it died
    before the signal was armed."""
    arm_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
