"""Memory a finished step no longer uses, given back to the operating system between nodes.

A run holds one step's data at a time (Kedro drops each dataset after its last node), yet its
resident memory only grows: CPython frees the texts and matrices of a finished node to the C
allocator, which keeps the pages (glibc returns only the top of its heap), and the Spark driver's
JVM keeps the heap a collect grew to. The next step's peak then sits on the last one's. Between
nodes both are asked to give back what is free: `malloc_trim` on glibc, a full collection on a
local Spark driver (its G1 heap then shrinks to fit what is live).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

from review_sentiment.spark import is_classic


@cache
def _glibc():
    """glibc, or None (macOS, musl): only glibc has `malloc_trim`."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_python_memory() -> bool:
    """Hands the allocator's free pages back; False where the C library cannot. No garbage
    collection first: reference counting has freed a finished node's data already, and a full
    collection of the loaded stack costs ~0.3 s, which every node would pay."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def release_jvm_memory(session) -> bool:
    """A full collection in a classic Spark session's driver JVM, so that its heap shrinks to
    what is live (`-XX:MaxHeapFreeRatio` in spark.yml); False for a Spark Connect session, whose
    JVM is not this process's to manage."""
    jvm = session.sparkContext._jvm if is_classic(session) else None
    if jvm is None:
        return False
    jvm.java.lang.System.gc()
    return True

