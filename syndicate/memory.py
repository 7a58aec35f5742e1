"""Freed memory handed back to the system after the server's big transient allocations.

A build, and the parse cache's write after it, allocate and free hundreds of megabytes in small
objects. glibc's malloc keeps what was freed in its arenas (one per thread that allocated) for
reuse, and gives back only what lies at the top of the main heap, so the process stays at its peak
size although the memory is free. ``malloc_trim`` gives back every free page of every arena.
Elsewhere (another C library, no ``malloc_trim``) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("syndicate")


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_TRIM = _malloc_trim()
_lock = threading.Lock()  # one trim at a time: a second adds nothing while the first runs


def release_freed() -> bool:
    """Give freed memory back to the system now; False where the C library cannot. The call
    releases the GIL (ctypes), so it may run in a worker thread while the event loop serves."""
    if _TRIM is None:
        return False
    with _lock:
        _TRIM(0)
    return True


def release_freed_soon() -> None:
    """``release_freed`` in a thread of its own, for callers on the event loop: a trim walks every
    arena, tens of milliseconds on a large heap."""
    if _TRIM is not None:
        threading.Thread(target=release_freed, name="malloc-trim", daemon=True).start()
