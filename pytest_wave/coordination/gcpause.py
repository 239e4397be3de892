"""Pause the cyclic garbage collector while a bulk read builds many small containers.

A cold read of a 100,000-record log allocates hundreds of thousands of dicts and lists. None of
them form reference cycles, but each allocation counts towards the collector's thresholds, and the
collections it then triggers walk every live object again and again: measured, that was 40% of a
cold read + materialize. Reference counting still frees everything as usual; only cycle
detection waits until the bulk step is over, and it is switched back on even if the step raises.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

PROMOTE_AFTER = 50_000  # container allocations during the block that make it worth the promotion


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable cyclic GC for the block; nested or concurrent uses leave it as the outermost found it."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] >= PROMOTE_AFTER and gc.get_freeze_count() == 0:
                # Hand what a big block built straight to the oldest generation: it is long-lived
                # state, and the first young collection after re-enabling would otherwise walk all
                # of it at once. Small blocks are left to the young collection (so short-lived
                # cycles are still found early), and nothing is done while anyone else has objects
                # frozen, so theirs are never touched.
                gc.freeze()
                gc.unfreeze()
            gc.enable()
