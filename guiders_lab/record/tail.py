"""The lines a recorder has flushed to its journal since they were last read.

A recorder in another process appends whole lines and flushes them every half second;
a reader following it reads what was added since its last read, in bulk (one msgspec
call for all the new lines, as a rebuild reads), and leaves a line still being written
for the next read. Touches no store: :mod:`.follow` feeds the blocks.
"""

from __future__ import annotations

from pathlib import Path

from ..dialects import Dialect
from .reader import BLOCK_BYTES, Block, _read_array, _skip_bom, lines_block, prepare_block

__all__ = ["JournalTail"]


class JournalTail:
    """Where a follower stands in a journal: the byte after the last complete line read,
    and that line's number."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0  # 0: not opened yet (a byte-order mark may come first)
        self.next_line = 1
        self.bytes_read = 0

    def read(self, dialect: Dialect, largest: int = BLOCK_BYTES) -> list[Block]:
        """The complete lines added since the last read, as blocks ready for the store's
        bulk path (at most ``largest`` bytes a block, or one line if it is longer). No
        journal yet: none."""
        try:
            f = open(self.path, "rb", buffering=0)  # noqa: SIM115  (closed below)
        except FileNotFoundError:
            return []
        blocks: list[Block] = []
        with f:
            if self.offset == 0:
                self.offset = _skip_bom(f)
            size = largest
            while True:
                f.seek(self.offset)
                array = _read_array(f, b"", size)
                if not array.n_lines:
                    if array.end:  # only a line still being written, or nothing new
                        break
                    size *= 2  # one line longer than a block: a bigger block
                    continue
                size = largest
                block = lines_block(self.path, f, array, self.next_line, self.offset)
                blocks.append(prepare_block(block, dialect))
                length = len(array.array) - 1  # the lines' bytes, the last newline too
                self.next_line += array.n_lines
                self.offset += length
                self.bytes_read += length
        return blocks
