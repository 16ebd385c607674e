"""An opt-in allocator setting for long fits on Linux: keep freed memory for the next step.

A training step allocates and frees tensors of a few MB (the attention's scores, the LSTMs'
workspaces). With glibc's default settings the freed top of the heap is handed back to the
kernel after every step and faulted in again on the next, which costs time and makes step
times vary from run to run. :func:`reuse_freed_memory` raises glibc's thresholds so that the
memory stays in the process while a fit runs; it is what PyTorch's CPU performance guide gets
from jemalloc or tcmalloc, done in-process.

It is opt-in, never entered by ``fit``: ``mallopt`` changes the whole process (the user's own
code and other libraries included), and glibc has no call that reads the current thresholds,
so whatever a program had set before cannot be put back exactly. The caller decides.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
import threading
from collections.abc import Iterator

__all__ = ["reuse_freed_memory"]

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
# glibc's documented defaults for both (DEFAULT_MMAP_THRESHOLD_MIN and DEFAULT_TRIM_THRESHOLD).
GLIBC_DEFAULT_MMAP_THRESHOLD = 128 * 2**10
GLIBC_DEFAULT_TRIM_THRESHOLD = 128 * 2**10
# The most glibc allows on 64-bit, and where its own adaptive threshold ends.
MMAP_THRESHOLD = 32 * 2**20
# Freed memory kept at the top of the heap while the setting holds.
TRIM_THRESHOLD = 256 * 2**20

_lock = threading.Lock()
_depth = 0  # nested and concurrent uses: only the outermost exit puts the defaults back


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[bool]:
    """Let glibc keep freed memory for reuse while the block runs (Linux with glibc only).

    Inside the block, allocations up to 32 MiB come from the heap rather than from fresh
    ``mmap`` calls, and up to 256 MiB of freed memory stays at the top of the heap instead of
    being returned to the kernel: a training loop then reuses the same pages every step. On
    exit glibc's documented defaults (128 KiB for both thresholds) are set and the kept memory
    is released with ``malloc_trim``. Elsewhere (macOS, Windows, musl) nothing changes.

    Why it is opt-in: the setting is process-wide, and glibc offers no way to read the
    thresholds a program set before, so they cannot be restored exactly; on exit glibc's
    dynamic mmap threshold (which any ``mallopt`` of it switches off) stays off too. Use it
    around fits in a process whose allocator settings are yours to change.

    Yields
    ------
    bool
        True where the setting took effect (glibc), False where nothing was changed.

    Examples
    --------
    >>> from tsattn.memory import reuse_freed_memory
    >>> with reuse_freed_memory():  # doctest: +SKIP
    ...     model.fit(y)
    """
    global _depth
    libc = _glibc()
    if libc is None:
        yield False
        return
    with _lock:
        if _depth == 0:
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_MMAP_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)


@functools.cache
def _glibc():
    """The C library when it is glibc (it has mallopt and malloc_trim), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") else None  # musl lacks it
