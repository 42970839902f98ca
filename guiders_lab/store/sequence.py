"""Which server sequence numbers arrived: where to resume after a reconnect, and what is
still missing."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_ABOVE_HOLE", "SequenceTracker"]

MAX_ABOVE_HOLE = 100_000  # seqs remembered past the oldest hole before it is given up


class SequenceTracker:
    """Which server sequence numbers arrived: the contiguous high-water mark (what to ask
    the server for after a reconnect) and the holes above it (events still missing)."""

    __slots__ = ("above", "contiguous", "gaps_seen", "given_up", "highest")

    def __init__(self) -> None:
        self.contiguous: int | None = None  # every seq up to this one has arrived
        self.highest: int | None = None
        self.above: set[int] = set()  # arrived, but past a hole
        self.gaps_seen = 0
        self.given_up = 0  # seqs of holes so old the mark moved past them (still missing)

    def see(self, seq: int) -> None:
        if self.contiguous is None or self.highest is None:  # joined mid-stream
            self.contiguous = self.highest = seq
            return
        if seq > self.highest:
            if seq > self.highest + 1:
                self.gaps_seen += 1
            self.highest = seq
        if seq == self.contiguous + 1:
            self._advance_to(seq)
        elif seq > self.contiguous:
            self.above.add(seq)
            if len(self.above) > MAX_ABOVE_HOLE:
                self._give_up_oldest_hole()

    def _give_up_oldest_hole(self) -> None:
        """A hole this far back will not be filled: move the mark past it, so that every
        later event is not remembered one by one for ever (memory grew without end)."""
        assert self.contiguous is not None
        lowest = min(self.above)
        self.given_up += lowest - self.contiguous - 1
        self.above.discard(lowest)
        self._advance_to(lowest)

    def _advance_to(self, seq: int) -> None:
        """Move the contiguous mark to ``seq``, then on over what already arrived."""
        self.contiguous = seq
        while self.contiguous + 1 in self.above:
            self.contiguous += 1
            self.above.discard(self.contiguous)

    def see_all(self, seqs: Sequence[int], steps_of_one: bool) -> None:
        """:meth:`see` for many, in order (at once for the usual unbroken run);
        ``steps_of_one``: each follows the one before (the bulk path checks it on arrays)."""
        if not seqs:
            return
        first, last = seqs[0], seqs[-1]
        unbroken = last - first == len(seqs) - 1 and steps_of_one
        if unbroken and (
            self.contiguous is None
            or (self.contiguous == self.highest and first == self.highest + 1)
        ):
            self.contiguous = self.highest = last
            return
        for seq in seqs:
            self.see(seq)

    @property
    def missing(self) -> int:
        """Sequence numbers up to the highest still absent (holes given up included)."""
        if self.contiguous is None or self.highest is None:
            return 0
        return self.highest - self.contiguous - len(self.above) + self.given_up
