"""An append-only columnar table: row tuples in, compressed Arrow chunks at rest.

Appends are a ``list.append`` of a record tuple on the capture thread. Every
``chunk_rows`` rows the hot list is transposed into an Arrow record batch and written as a
zstd-compressed Arrow IPC buffer, so a million captured messages hold a few hundred bytes
each instead of the ~2 KB of a Python dict. Frames are built only when asked.

Both steps run on a background thread: the capture thread only hands over the sealed rows
(turning 8,192 event rows into Arrow took it 10-25 ms, a stall a timed replay or a live
event-lag figure would show). Sealed rows are readable at once (a reader converts any
still waiting itself) and are swapped for their compressed form when that is ready; Arrow
releases the GIL while it compresses. A table never has more than a few chunks waiting:
past that, the writer converts and compresses its own.

A recording's tables go one step further (:meth:`ColumnTable.spill_to`): each compressed
chunk is written to a spill file and dropped from memory (:mod:`.spill`), read back per
chunk when asked. Without one, :mod:`.retention` limits may drop the oldest chunks;
offsets (``start=``) stay absolute either way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from .arrow import arrow_schema, rows_to_batch, to_frame
from .chunks import MAX_WAITING, C, Chunk, Row, Rows, background
from .chunks import compress as _compress
from .chunks import decompress as _decompress
from .retention import Retention
from .spill import Spilled, SpillFile

__all__ = ["ColumnTable", "Row"]


class ColumnTable:
    """One canonical table. Written by one thread, readable from any."""

    def __init__(
        self,
        name: str,
        row_type: type[NamedTuple],
        *,
        chunk_rows: int = 8192,
        compress: bool = True,
        bytes_text: tuple[str, ...] = (),
        retention: Retention | None = None,
    ) -> None:
        self.name = name
        self.row_type = row_type
        self.schema = arrow_schema(row_type)
        # text columns whose raw rows hold UTF-8 bytes (JSON straight from orjson) are
        # stored as binary, skipping a per-cell UTF-8 check, and cast back when read
        self._storage = (
            pa.schema(
                [f.with_type(pa.binary()) if f.name in bytes_text else f for f in self.schema]
            )
            if bytes_text
            else self.schema
        )
        self.chunk_rows = chunk_rows
        self.compress = compress
        self._hot: list[Row] = []
        self.on_bad_row: Callable[[str, Row, Exception], None] | None = None
        self._chunks: list[Chunk] = []
        self._chunk_rows: list[int] = []
        self._sealed_rows = 0
        self._lock = threading.Lock()
        self._waiting: list[Future[None]] = []  # background conversions not yet done
        self._open = False  # the last chunk is a partial bulk batch the next extend() fills
        self._sealed_at: list[float] = []  # when each chunk was sealed (for max_age)
        self._first = 0  # absolute offset of the first row held: rows dropped so far
        self._spill: SpillFile | None = None
        self.retention = retention
        self.on_drop: Callable[[str, int], None] | None = None  # told (table, rows dropped)

    def append(self, row: Row) -> None:
        # kept as a plain tuple: the cyclic collector stops tracking a plain tuple of
        # plain values at its first pass, a record (a NamedTuple) never; thousands of hot
        # rows it would re-scan as they age cost ~3 µs per captured event
        self._hot.append(tuple(row))
        if len(self._hot) >= self.chunk_rows:
            self.seal(wait=False)

    def seal(self, wait: bool = True) -> None:
        """Move the hot rows into a chunk, made an Arrow batch here and compressed in the
        background; ``wait`` until every chunk so far is (e.g. before measuring memory).
        (Made a batch on the background thread too, the rows' conversion, which holds
        the GIL, fought the writer for it: ~1.5 µs more CPU per captured event.)

        Safe from any thread: the hot list is never swapped, only its sealed head is cut
        (``del rows[:n]`` is one atomic step), so rows appended meanwhile stay."""
        with self._lock:
            rows = self._hot
            n = len(rows)
            if n or wait:
                self._close_open()
            if n:
                sealed = Rows(rows[:n])
                del rows[:n]
                self._chunks.append(sealed)
                self._chunk_rows.append(n)
                self._sealed_at.append(time.time())
                self._sealed_rows += n
            dropped = self._retain()
        if n:
            self._convert_waiting(report=True)
        if dropped:
            self._tell_dropped(dropped)
        if wait:
            for future in list(self._waiting):
                future.result()

    @staticmethod
    def _compressed(batch: pa.RecordBatch) -> tuple[pa.Buffer, int]:
        return _compress(batch), batch.num_rows

    def _later(self, make: Callable[[C], tuple[Chunk, int]], chunk: C) -> None:
        """Put ``make(chunk)`` in ``chunk``'s place, on the background thread, or right
        here when that is behind (lock held)."""
        self._waiting = [f for f in self._waiting if not f.done()]
        if len(self._waiting) >= MAX_WAITING:
            self._swap(self._chunks, chunk, *self._made(make, chunk))
            return
        self._waiting.append(background().submit(self._replace, self._chunks, chunk, make))

    def _replace(
        self, chunks: list[Chunk], chunk: C, make: Callable[[C], tuple[Chunk, int]]
    ) -> None:
        done, rows = self._made(make, chunk)
        with self._lock:
            self._swap(chunks, chunk, done, rows)

    def _made(self, make: Callable[[C], tuple[Chunk, int]], chunk: C) -> tuple[Chunk, int]:
        """``make(chunk)``, written to the spill file when it is a compressed chunk and
        the table spills (kept in memory if the disk refuses it)."""
        done, rows = make(chunk)
        spill = self._spill
        if spill is not None and isinstance(done, pa.Buffer) and self._holds(chunk):
            done = spill.append(done) or done
        return done, rows

    def _holds(self, chunk: Chunk) -> bool:
        """``chunk`` is still in place (a reader may have converted it meanwhile: then
        its copy is not written to the spill file for nothing)."""
        return any(c is chunk for c in reversed(self._chunks))

    def _add(self, batch: pa.RecordBatch, open_: bool = False) -> None:
        """Append a sealed batch (lock held) and have it compressed, unless it is left
        ``open_`` for the next bulk extend to fill."""
        self._chunks.append(batch)
        self._chunk_rows.append(batch.num_rows)
        self._sealed_at.append(time.time())
        self._sealed_rows += batch.num_rows
        self._open = open_
        if open_:
            return
        self._compress_later(batch)

    def _close_open(self) -> None:
        """Rows are about to follow the open chunk: it is final now (lock held)."""
        if self._open:
            self._open = False
            last = self._chunks[-1]
            assert isinstance(last, pa.RecordBatch)  # an open chunk is a batch: not compressed
            self._compress_later(last)

    def _compress_later(self, batch: pa.RecordBatch) -> None:
        if self.compress:
            self._later(self._compressed, batch)

    def _swap(self, chunks: list[Chunk], chunk: Chunk, done: Chunk, rows: int) -> None:
        """Put a chunk's converted or compressed form (of ``rows`` rows: fewer when a row
        could not be stored) in its place (lock held)."""
        if chunks is self._chunks:  # not replaced by load() meanwhile
            for k in range(len(chunks) - 1, -1, -1):  # recent chunks are at the end
                if chunks[k] is chunk:
                    chunks[k] = done
                    self._sealed_rows += rows - self._chunk_rows[k]
                    self._chunk_rows[k] = rows
                    return

    def _batch(self, rows: list[Row], report: bool = False) -> pa.RecordBatch:
        """Rows to a batch; a row Arrow cannot hold is left out (and reported once, when
        sealed) rather than making the whole table unreadable."""
        try:
            return rows_to_batch(rows, self._storage)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            good = []
            for row in rows:
                try:
                    rows_to_batch([row], self._storage)
                except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
                    if report and self.on_bad_row is not None:
                        self.on_bad_row(self.name, self.row_type._make(row), exc)
                else:
                    good.append(row)
            return rows_to_batch(good, self._storage)

    def extend(self, table: pa.Table) -> None:
        """Append many rows at once (bulk paths), after the hot rows, in chunks of
        ``chunk_rows``: a partial last chunk stays open for the next extend to fill, so a
        bulk load makes few full chunks rather than one small one per table and batch
        (each costs a compression and slows every later read)."""
        self.seal(wait=False)
        if not table.schema.equals(self._storage):
            table = table.cast(self._storage)
        table = table.combine_chunks()  # no copy when each column is one chunk already
        with self._lock:
            batches = []
            if self._open:  # only the rows that complete it are copied; the rest is sliced
                last = self._chunks.pop()
                assert isinstance(last, pa.RecordBatch)  # an open chunk is a batch
                self._sealed_rows -= self._chunk_rows.pop()
                self._sealed_at.pop()
                self._open = False
                need = self.chunk_rows - last.num_rows
                filled = pa.concat_tables([pa.Table.from_batches([last]), table.slice(0, need)])
                batches.append(filled.combine_chunks().to_batches()[0])
                table = table.slice(need)
            if table.num_rows:
                batches += table.to_batches(max_chunksize=self.chunk_rows)
                if batches[-1].num_rows < self.chunk_rows:  # left open: a compact copy,
                    # not a slice that keeps the whole incoming table alive meanwhile
                    batches[-1] = batches[-1].take(np.arange(batches[-1].num_rows))
            for k, batch in enumerate(batches):
                self._add(batch, open_=k == len(batches) - 1 and batch.num_rows < self.chunk_rows)
            dropped = self._retain()
        if dropped:
            self._tell_dropped(dropped)

    # ------------------------------------------------------------------ bounded memory
    def spill_to(self, spill: SpillFile) -> None:
        """Keep compressed chunks in ``spill`` rather than in memory, from now on (and
        those already compressed, now)."""
        with self._lock:
            self._spill = spill
            for k, chunk in enumerate(self._chunks):
                if isinstance(chunk, pa.Buffer):
                    self._chunks[k] = spill.append(chunk) or chunk

    def _retain(self) -> int:
        """Drop the oldest chunks past the retention limits (lock held); returns the
        rows dropped. Offsets stay absolute: ``_first`` counts what went."""
        if self.retention is None:
            return 0
        k = self.retention.drop_count(self._chunk_rows, self._sealed_at, self._open)
        if not k:
            return 0
        dropped = sum(self._chunk_rows[:k])
        del self._chunks[:k], self._chunk_rows[:k], self._sealed_at[:k]
        self._sealed_rows -= dropped
        self._first += dropped
        return dropped

    def _tell_dropped(self, rows: int) -> None:
        if self.on_drop is not None:
            with contextlib.suppress(Exception):  # a broken listener must not stop capture
                self.on_drop(self.name, rows)

    @property
    def dropped(self) -> int:
        """Rows dropped from the head of the table by its retention limits."""
        return self._first

    @property
    def total(self) -> int:
        """Rows ever stored: held plus dropped (the absolute offset of the end)."""
        return self._first + len(self)

    def load(self, table: pa.Table) -> None:
        """Replace the content with an Arrow table of this schema (a loaded recording)."""
        with self._lock:
            batches = table.cast(self._storage).to_batches()
            self._chunks = list(batches)
            self._chunk_rows = [b.num_rows for b in batches]
            self._sealed_at = [time.time()] * len(batches)
            self._sealed_rows = table.num_rows
            self._first = 0
            self._hot = []
            self._open = False

    def __len__(self) -> int:
        return self._sealed_rows + len(self._hot)

    @property
    def nbytes(self) -> int:
        """Bytes held in memory by sealed chunks (hot rows are Python objects, not
        counted; spilled chunks are on disk)."""
        return sum(
            c.size if isinstance(c, pa.Buffer) else c.nbytes
            for c in self._chunks
            if isinstance(c, pa.Buffer | pa.RecordBatch)
        )

    @property
    def spilled_bytes(self) -> int:
        """Bytes of this table's chunks held in its spill file."""
        return sum(c.length for c in self._chunks if isinstance(c, Spilled))

    def to_arrow(self, columns: list[str] | None = None, start: int = 0) -> pa.Table:
        """A consistent snapshot of the rows from ``start`` on (all by default; live views
        pass the offset they reached: see :meth:`tail`), optionally only some columns.
        Chunks before ``start`` are not even read. Offsets count rows as they are
        returned (a row Arrow cannot hold is not one) and are absolute: rows dropped by
        retention keep their numbers, so reading on never repeats a row."""
        return self.tail(columns, start)[0]

    def tail(self, columns: list[str] | None = None, start: int = 0) -> tuple[pa.Table, int]:
        """:meth:`to_arrow`, and the offset to read on from next time (past rows dropped
        meanwhile: a view behind a retention limit skips what is gone)."""
        pieces, begin = self._pieces(start)
        table = self._table(list(pieces), columns)
        return table, begin + table.num_rows

    def batches(self, columns: list[str] | None = None, start: int = 0) -> Iterator[pa.Table]:
        """The rows from ``start`` on, one table per chunk, each read (from memory or the
        spill file) only when reached: how a table larger than memory is written out."""
        pieces, _ = self._pieces(start)
        for batch in pieces:
            yield self._table([batch], columns)

    def _pieces(self, start: int) -> tuple[Iterator[pa.RecordBatch], int]:
        """The batches from ``start`` on, read lazily from a snapshot, and the absolute
        offset of the first."""
        self._convert_waiting()
        with self._lock:
            chunks = list(self._chunks)
            sizes = list(self._chunk_rows)
            hot = list(self._hot)
            first = self._first
        return self._read_from(chunks, sizes, hot, first, start), max(start, first)

    def _read_from(
        self, chunks: list[Chunk], sizes: list[int], hot: list[Row], offset: int, start: int
    ) -> Iterator[pa.RecordBatch]:
        for chunk, size in zip(chunks, sizes, strict=True):
            if offset + size > start:
                yield self._read(chunk).slice(max(0, start - offset))
            offset += size
        if hot:
            batch = self._batch(hot)  # whole, then cut: a bad row must not shift the cut
            if offset + batch.num_rows > start:
                yield batch.slice(max(0, start - offset))

    def _read(self, chunk: Chunk) -> pa.RecordBatch:
        if isinstance(chunk, Rows):  # sealed just now: converted here
            return self._batch(chunk.rows)
        if isinstance(chunk, Spilled):
            return _decompress(chunk.read())
        return _decompress(chunk) if isinstance(chunk, pa.Buffer) else chunk

    def _table(self, batches: list[pa.RecordBatch], columns: list[str] | None) -> pa.Table:
        if not batches:
            table = self.schema.empty_table()
            return table if columns is None else table.select(columns)
        table = pa.Table.from_batches(batches, schema=self._storage)
        if columns is not None:
            table = table.select(columns)
        target = (
            self.schema if columns is None else pa.schema([self.schema.field(c) for c in columns])
        )
        return table if table.schema.equals(target) else table.cast(target)

    def _convert_waiting(self, report: bool = False) -> None:
        """Sealed rows not converted yet (just sealed, maybe by another thread): convert
        them here and put them in place (then compressed in the background), so that the
        row counts behind offsets are final before a read uses them; ``report`` rows
        Arrow cannot hold (the sealing thread does, once)."""
        with self._lock:
            waiting = [chunk for chunk in self._chunks if isinstance(chunk, Rows)]
        for chunk in waiting:
            batch = self._batch(chunk.rows, report=report)
            with self._lock:
                if any(c is chunk for c in self._chunks):
                    self._swap(self._chunks, chunk, batch, batch.num_rows)
                    self._compress_later(batch)

    def to_frame(self) -> pd.DataFrame:
        return to_frame(self.to_arrow())

    def __repr__(self) -> str:
        return f"<ColumnTable {self.name}: {len(self):,} rows>"
