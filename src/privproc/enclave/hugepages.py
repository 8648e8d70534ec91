"""Memory for the warm parent's model on transparent huge pages (issue 18).

Every request child is forked from the warm parent, and a fork copies the page-table
entries of the parent's private memory; the child's exit frees them again. With the
model's 90 MB of weights on 4 KiB pages that is about 22,000 entries each way, most
of a fork's kernel time. On 2 MiB pages (``madvise(MADV_HUGEPAGE)``, Linux THP in
``always`` or ``madvise`` mode) it is a few dozen. Where THP is off the memory is
ordinary pages and everything works as before, only slower to fork.

The buffer is anonymous private memory of the node process: nothing on disk.
"""

from __future__ import annotations

import ctypes
import mmap

from privproc.workloads import Backend

__all__ = ["HUGE_PAGE", "huge_page_arena", "place_on_huge_pages"]

#: The x86-64 / arm64 PMD huge page size.
HUGE_PAGE = 2 << 20


def huge_page_arena(nbytes: int) -> memoryview:
    """``nbytes`` of zeroed anonymous memory starting on a huge-page boundary, advised
    ``MADV_HUGEPAGE`` (kept alive by the returned view)."""
    region = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None:
        region.madvise(advice)
    view = memoryview(region)
    start = ctypes.addressof(ctypes.c_char.from_buffer(region))
    skip = -start % HUGE_PAGE
    return view[skip : skip + nbytes]


def place_on_huge_pages(backend: Backend) -> bool:
    """Move the backend's weights onto huge pages when it can place them; True if it did."""
    place = getattr(backend, "place", None)
    if place is None:
        return False
    place(huge_page_arena)
    return True
