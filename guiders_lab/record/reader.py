"""Reading ``events.jsonl``: line by line, or thousands at a time (:mod:`.feed` gives
what is read to a store).

Rebuilds and flat-out replays read the journal in blocks of up to 16 MB. A block is decoded
in one msgspec call, and each unbroken run of incoming events in it is decoded into
columns (:func:`guiders_lab.store.batch.decode_batch`) for the store's bulk path, which
gives the same tables as feeding the events one by one, only faster. Everything else
(sent events, actions, quarantined events, short runs, and any run the bulk path refuses)
is fed one by one. A block with a line that is not a journal line is read line by line,
so each bad line is reported with its number and skipped while the rest still loads.

Reading and decoding touch no store, so :class:`ReadAhead` runs them on worker threads a
few blocks ahead while the store takes the previous ones: Arrow's JSON reader and the
tables' compression release the GIL, so the cores both work. Problems found while
reading travel with their block as notes and are warned about when the block is fed, in
line order, exactly as the line-by-line path warns.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from io import FileIO
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NamedTuple

import msgspec
import numpy as np

from .._warn import warn_at_caller
from ..dialects import Dialect
from ..events.records import UNDECODABLE
from ..store.batch import BatchRefused, DecodedBatch, decode_batch

__all__ = [
    "Block",
    "ReadAhead",
    "RecordingWarning",
    "iter_journal",
    "journal_blocks",
    "positions",
    "prepare_block",
]

# 16 MB: measured 10-20% faster (less CPU per event) than 4 MB on a 1M-event rebuild, for
# about 200 MB more peak memory (0.72 GB, was 0.52); small journals are one block anyway
BLOCK_BYTES = 16 << 20
FIRST_BLOCK_BYTES = 1 << 20  # blocks start small and double: the pipeline fills sooner
MIN_RUN = 64  # shorter runs of incoming events are not worth the bulk path's set-up


class RecordingWarning(UserWarning):
    """Part of a recording could not be read; the rest was loaded (the text says where)."""


class _Bad(msgspec.Struct, gc=False):
    reason: str
    preview: str
    size: int


class _Line(msgspec.Struct):
    dir: str
    seq: int | None = None
    t: float | None = None
    name: str | None = None
    payload: msgspec.Raw = msgspec.Raw()  # kept as JSON bytes, decoded by the dialect
    meta: dict[str, Any] | None = None
    bad: _Bad | None = None
    row: dict[str, Any] | None = None
    state: str | None = None  # a ``link`` line: the connection's new state
    chat: str | None = None  # a ``note`` line: which chat, what field, what value
    field: str | None = None
    value: float | None = None


class _Meta(msgspec.Struct, gc=False, frozen=True):
    """The server's second event argument, when it holds only what the store reads in the
    shape it accepts; anything else sends the block down the line-by-line path."""

    seq: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] | None = None
    serverTime: int | float | None = None


_NO_META = _Meta()


class _BlockLine(_Line, gc=False):  # no cycles: the collector need not track millions
    # never null in a journal; a default instance lets ``attrgetter("meta.seq")`` run in C
    meta: _Meta = _NO_META  # type: ignore[assignment]


_decode_line = msgspec.json.Decoder(_Line).decode
_decode_block = msgspec.json.Decoder(list[_BlockLine]).decode
_DIR, _BAD, _NAME, _T, _PAYLOAD, _SEQ, _SERVER_TIME = map(
    attrgetter, ("dir", "bad", "name", "t", "payload", "meta.seq", "meta.serverTime")
)

Run = tuple[int, int, DecodedBatch | None]  # entries [start, stop), decoded for the bulk path


class Block(NamedTuple):
    """A stretch of the journal: its readable entries and what to say about the rest."""

    entries: Sequence[_Line]  # _BlockLine when read in one call (``numbers`` is None)
    numbers: list[int] | None  # line numbers, or None: they follow from ``first``
    first: int
    notes: Sequence[tuple[int, str]] = ()  # (entry index it comes before, warning text)
    runs: list[Run] | None = None  # filled by :func:`prepare_block`

    def number(self, k: int) -> int:
        return self.numbers[k] if self.numbers is not None else self.first + k


def _truncated(path: Path, number: int, size: int) -> str:
    return (
        f"{path}:{number}: last line is truncated ({size} bytes, the recorder "
        "probably stopped mid-write); it was skipped"
    )


def _not_a_line(path: Path, number: int, exc: Exception) -> str:
    return f"{path}:{number}: not a journal line ({exc}); skipped"


def _skip_bom(f: BinaryIO) -> int:
    """Step over a UTF-8 byte-order mark (an editor may add one); returns where the
    lines start."""
    if f.read(3) == b"\xef\xbb\xbf":
        return 3
    f.seek(0)
    return 0


def iter_journal(path: Path) -> Iterator[tuple[int, _Line]]:
    """Yield ``(line_number, entry)`` for each readable line; warn about the others."""
    with open(path, "rb") as f:
        _skip_bom(f)
        for number, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                warn_at_caller(RecordingWarning(_truncated(path, number, len(line))))
                return
            try:
                entry = _decode_line(line)
            except msgspec.DecodeError as exc:
                warn_at_caller(RecordingWarning(_not_a_line(path, number, exc)))
                continue
            yield number, entry


def _line_by_line(path: Path, first: int, complete: bytes) -> Block:
    """A block with a bad line: each line on its own (split on newlines only, as
    :func:`iter_journal` splits them)."""
    entries, numbers, notes = [], [], []
    for number, line in enumerate(complete[:-1].split(b"\n"), first):
        try:
            entries.append(_decode_line(line + b"\n"))
            numbers.append(number)
        except msgspec.DecodeError as exc:
            notes.append((len(entries), _not_a_line(path, number, exc)))
    return Block(entries, numbers, first, notes)


_COMMA, _NEWLINE = ord(","), ord("\n")
_SWAP_BYTES = 1 << 17  # newlines swapped a slice at a time: a small mask malloc reuses


class _Array(NamedTuple):
    array: np.ndarray  # bytes ``[`` line ``,`` line ... ``]``, or empty: no complete line
    n_lines: int  # lines in it
    tail: bytes  # what follows the last complete line
    end: bool  # the file has nothing more


def _read_array(f: FileIO, tail: bytes, block_bytes: int) -> _Array:
    """The next complete lines as one JSON array for a single msgspec call, in a single
    fresh buffer: the previous block's ``tail``, the file read straight in behind it,
    the newlines swapped for commas in place. (One uninitialised buffer per block, sized
    to what is left of the file, rather than a copy per step: on a VM every fresh page
    of memory costs a fault.) A blank line, or one holding two values, makes the array
    invalid or the count wrong, which sends the block down the line-by-line path."""
    start = 1 + len(tail)
    left = os.fstat(f.fileno()).st_size - f.tell()
    buffer = np.empty(start + min(block_bytes, max(left, 1 << 16)), dtype=np.uint8)
    buffer[0] = ord("[")
    buffer[1:start] = np.frombuffer(tail, dtype=np.uint8)
    with buffer.data as view:  # a memoryview of the buffer
        size = start
        while size < len(buffer) and (got := f.readinto(view[size:])):
            size += got
    count, last = 0, -1
    for at in range(1, size, _SWAP_BYTES):
        part = buffer[at : min(at + _SWAP_BYTES, size)]
        newlines = part == _NEWLINE
        if found := int(np.count_nonzero(newlines)):
            count += found
            last = at + len(part) - 1 - int(np.argmax(newlines[::-1]))
            np.copyto(part, _COMMA, where=newlines)
    rest = buffer[last + 1 if count else 1 : size].tobytes()
    if not count:  # no complete line yet (a very long one, or the file's end)
        return _Array(buffer[:0], 0, rest, size < len(buffer))
    buffer[last] = ord("]")  # the last newline closes the array
    return _Array(buffer[: last + 1], count, rest, size < len(buffer))


def lines_block(path: Path, f: FileIO, read: _Array, number: int, offset: int) -> Block:
    """The complete lines of ``read`` (they start at ``offset`` in ``f``, line ``number``)
    as a block: from one msgspec call, or line by line, as they are on disk, when one
    of them is bad."""
    try:
        entries = _decode_block(read.array.data)
    except msgspec.DecodeError:
        entries = None
    if entries is not None and len(entries) == read.n_lines:
        return Block(entries, None, number)
    length = len(read.array) - 1  # the lines' bytes, the last newline too
    return _line_by_line(path, number, os.pread(f.fileno(), length, offset))


def journal_blocks(path: Path, largest: int | None = None) -> Generator[Block, None, None]:
    """The journal in blocks (1 MB, doubling up to ``largest``, :data:`BLOCK_BYTES` by
    default): each block's entries come from one msgspec call, or line by line for a
    block with a bad line. Warns about nothing itself: problems are the blocks' notes (see
    :func:`positions`). One msgspec call holds the GIL throughout: a reader that must
    keep time (a timed replay) asks for small blocks."""
    largest = BLOCK_BYTES if largest is None else largest
    with open(path, "rb", buffering=0) as f:
        number, tail, offset = 1, b"", _skip_bom(f)  # offset: where the tail starts in the file
        size = min(largest, FIRST_BLOCK_BYTES)
        while True:
            block = _read_array(f, tail, size)
            size = min(largest, 2 * size)
            tail = block.tail
            if block.n_lines:
                yield lines_block(path, f, block, number, offset)
                number += block.n_lines
                offset += len(block.array) - 1  # the lines' bytes, the last newline too
            elif block.end:
                break
        if tail:
            yield Block([], None, number, [(0, _truncated(path, number, len(tail)))])


class _Columns:
    """A block's entries as columns, each read once (``map(attrgetter)`` runs in C)."""

    def __init__(self, entries: Sequence[_Line]) -> None:  # a block's (_BlockLine)
        self.dirs = list(map(_DIR, entries))
        self.bads = list(map(_BAD, entries))
        self.names = list(map(_NAME, entries))
        self.ts = list(map(_T, entries))
        self.payloads = list(map(_PAYLOAD, entries))
        self.seqs = list(map(_SEQ, entries))
        self.server_ms = list(map(_SERVER_TIME, entries))

    def runs(self) -> Iterator[tuple[int, int, bool]]:
        """``(start, stop, plain)`` stretches in order; a plain entry is an incoming event
        the bulk path may take (not quarantined, not an undecodable frame, timed)."""
        n = len(self.dirs)
        if (
            self.dirs.count("in") == n
            and self.bads.count(None) == n
            and None not in self.names
            and UNDECODABLE not in self.names
            and None not in self.ts
        ):
            yield 0, n, True
            return
        plain = [
            d == "in" and bad is None and name is not None and name != UNDECODABLE and t is not None
            for d, bad, name, t in zip(self.dirs, self.bads, self.names, self.ts, strict=True)
        ]
        start = 0
        for k in range(1, n + 1):
            if k == n or plain[k] != plain[start]:
                yield start, k, plain[start]
                start = k

    def decode(self, dialect: Dialect, start: int, stop: int) -> DecodedBatch | None:
        try:
            return decode_batch(
                dialect,
                self.names[start:stop],
                self.ts[start:stop],
                self.payloads[start:stop],
                self.seqs[start:stop],
                self.server_ms[start:stop],
            )
        except BatchRefused:
            return None


def prepare_block(block: Block, dialect: Dialect) -> Block:
    """Decode each run of incoming events in a block for the bulk path (runs too short
    to be worth it, or refused, are left for one-by-one feeding). Touches no store."""
    if block.numbers is not None or not block.entries:
        return block
    columns = _Columns(block.entries)
    runs: list[Run] = []
    for start, stop, plain in columns.runs():
        worth_it = plain and stop - start >= MIN_RUN
        runs.append((start, stop, columns.decode(dialect, start, stop) if worth_it else None))
    return block._replace(runs=runs)


class ReadAhead:
    """The journal's blocks read on one worker thread and prepared on ``workers`` more,
    up to ``depth`` blocks ahead of the consumer, who gets them in order: the GIL-free
    parts (Arrow's JSON reader, above all) of several blocks run at once. Iterate it, or
    ``async for`` it on an event loop (waiting never blocks the loop); close it when done
    early. The workers' exceptions surface in the consumer."""

    def __init__(self, path: Path, dialect: Dialect, *, workers: int = 2, depth: int = 2):
        self._blocks = journal_blocks(path)
        self._reading = ThreadPoolExecutor(1, thread_name_prefix="guiders-lab-read")
        self._decoding = ThreadPoolExecutor(workers, thread_name_prefix="guiders-lab-decode")
        self._dialect = dialect
        self._pending = deque(self._submit() for _ in range(depth))
        self._closed = False

    def _submit(self) -> Future[Block | None]:
        read = self._reading.submit(next, self._blocks, None)  # only ever on that thread
        return self._decoding.submit(self._prepare, read)

    def _prepare(self, read: Future[Block | None]) -> Block | None:
        block = read.result()  # None: the journal's end
        return block if block is None else prepare_block(block, self._dialect)

    def _next(self) -> Future[Block | None]:
        if self._closed:
            raise RuntimeError("this read-ahead is closed")
        future = self._pending.popleft()
        self._pending.append(self._submit())
        return future

    def __iter__(self) -> Iterator[Block]:
        try:
            while (block := self._next().result()) is not None:
                yield block
        finally:
            self.close()

    async def __aiter__(self) -> AsyncIterator[Block]:
        try:
            while (block := await asyncio.wrap_future(self._next())) is not None:
                yield block
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading: wait for the blocks under way, then close the journal."""
        if self._closed:
            return
        self._closed = True
        for pool in (self._decoding, self._reading):
            pool.shutdown(wait=True, cancel_futures=True)
        self._blocks.close()


def positions(block: Block, start: int = 0, stop: int | None = None) -> Iterator[int]:
    """Entry indexes ``start..stop`` of a block, warning about each note as its place
    comes (the notes after the last entry too, when ``stop`` is the end)."""
    n = len(block.entries)
    stop = n if stop is None else stop
    notes = [note for note in block.notes if start <= note[0] <= stop]
    for k in range(start, stop):
        while notes and notes[0][0] == k:
            warn_at_caller(RecordingWarning(notes.pop(0)[1]))
        yield k
    if stop == n:
        for _, text in notes:
            warn_at_caller(RecordingWarning(text))
