"""Bounded memory of recently seen ids: how the store drops repeated events."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from itertools import islice

__all__ = ["RecentIds"]


class RecentIds:
    """Bounded memory of recently seen ids: duplicates arrive close together (echoes,
    replays after a reconnect), and an unbounded set would cost ~100 B per message.
    Keys are kept as their 64-bit hashes (a false match is ~1e-9 likely in a full window),
    half the memory of the id strings."""

    __slots__ = ("_capacity", "_order", "_seen")

    def __init__(self, capacity: int) -> None:
        self._seen: set[int] = set()
        self._order: deque[int] = deque(maxlen=capacity)
        self._capacity = capacity

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; False when it was already seen (the hot path: once per
        message, so attributes are read once)."""
        hashed = hash(key)
        seen = self._seen
        if hashed in seen:
            return False
        order = self._order
        if len(order) == self._capacity:
            seen.discard(order[0])  # the deque drops it itself on append
        order.append(hashed)
        seen.add(hashed)
        return True

    def isdisjoint(self, hashes: Sequence[int]) -> bool:
        """True when none of these hashed keys is remembered."""
        return self._seen.isdisjoint(hashes)

    def extend_new(self, hashes: Sequence[int]) -> None:
        """:meth:`add` for many hashed keys known to be new and distinct, with the same
        result (the oldest forgotten first)."""
        order, seen = self._order, self._seen
        capacity = order.maxlen or 0
        overflow = len(order) + len(hashes) - capacity
        if overflow > 0:
            seen.difference_update(islice(order, min(overflow, len(order))))
            if overflow > len(order):  # the batch alone overflows: its head is forgotten
                hashes = hashes[overflow - len(order) :]
        seen.update(hashes)
        order.extend(hashes)

    def snapshot(self) -> tuple[list[int], set[int]]:
        """(order, set) of what is remembered: for tests that compare two stores."""
        return list(self._order), set(self._seen)
