"""Pausing Python's cyclic garbage collector during bulk loads.

A rebuild or a flat-out replay creates millions of small row objects that stay alive in
the tables' buffers; the cyclic collector re-scans them again and again as they age
through its generations, which costs about as much as the decoding itself. Reference
counting still frees everything at once; only cycles wait until the pause ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["GcPause", "gc_frozen", "gc_paused"]


class GcPause:
    """``pause()`` / ``resume()`` that never enable a collector the user had disabled."""

    __slots__ = ("_owned",)

    def __init__(self) -> None:
        self._owned = False

    def pause(self) -> None:
        if not self._owned and gc.isenabled():
            gc.disable()
            self._owned = True

    def resume(self) -> None:
        if self._owned:
            self._owned = False
            gc.enable()


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector paused for the ``with`` block (if it was running)."""
    pause = GcPause()
    pause.pause()
    try:
        yield
    finally:
        pause.resume()


_frozen = 0  # nested or overlapping freezes: only the last one out unfreezes


@contextmanager
def gc_frozen() -> Iterator[None]:
    """The objects alive now left out of the cyclic collector's scans for the block
    (``gc.freeze``): collections stay short however big the heap already is. Cycles
    among them are collected after the block, as usual."""
    global _frozen
    gc.freeze()
    _frozen += 1
    try:
        yield
    finally:
        _frozen -= 1
        if not _frozen:
            gc.unfreeze()
