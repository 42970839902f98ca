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
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from .arrow import arrow_schema, rows_to_batch, to_frame

__all__ = ["ColumnTable", "Row"]

Row = tuple[object, ...]  # a raw row of the table's record type (epoch-second times)

# one thread per chunk: compression already runs off the writer's thread, and Arrow's pool
# would only add scheduling (about 15% more CPU for the same wall time)
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd", use_threads=False)


def _compress(batch: pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=_IPC_OPTIONS) as writer:
        writer.write_batch(batch)
    # the stream grew by doubling; keep an exact-size copy, not the oversized original
    return pa.py_buffer(sink.getvalue().to_pybytes())


def _decompress(buffer: pa.Buffer) -> pa.RecordBatch:
    return pa.ipc.open_stream(buffer).read_next_batch()


_MAX_WAITING = 8  # chunks a table may have waiting before its writer does its own


class _Rows:
    """Sealed hot rows, waiting for the background thread to make them a batch."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows


# a chunk as it goes: sealed rows, then an Arrow batch, then (compress=True) that compressed
Chunk = pa.Buffer | pa.RecordBatch | _Rows
C = TypeVar("C", _Rows, pa.RecordBatch)  # what a background step turns into its next form


_compressor: ThreadPoolExecutor | None = None
_compressor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    global _compressor
    with _compressor_lock:
        if _compressor is None:
            _compressor = ThreadPoolExecutor(1, thread_name_prefix="guiders-lab-compress")
        return _compressor


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

    def append(self, row: Row) -> None:
        self._hot.append(row)
        if len(self._hot) >= self.chunk_rows:
            self.seal(wait=False)

    def seal(self, wait: bool = True) -> None:
        """Move the hot rows into a chunk, made an Arrow batch and compressed in the
        background; ``wait`` until every chunk so far is (e.g. before measuring memory).

        Safe from any thread: the hot list is never swapped, only its sealed head is cut
        (``del rows[:n]`` is one atomic step), so rows appended meanwhile stay."""
        with self._lock:
            rows = self._hot
            n = len(rows)
            if n or wait:
                self._close_open()
            if n:
                sealed = _Rows(rows[:n])
                del rows[:n]
                self._chunks.append(sealed)
                self._chunk_rows.append(n)
                self._sealed_rows += n
                self._later(self._converted, sealed)
        if wait:
            for future in list(self._waiting):
                future.result()

    def _converted(self, sealed: _Rows) -> tuple[pa.Buffer | pa.RecordBatch, int]:
        """Sealed rows as a batch, compressed unless the table keeps batches, and its row
        count (a row Arrow cannot hold is left out and reported, as sealing on the
        writer's thread did)."""
        batch = self._batch(sealed.rows, report=True)
        return (_compress(batch) if self.compress else batch), batch.num_rows

    @staticmethod
    def _compressed(batch: pa.RecordBatch) -> tuple[pa.Buffer, int]:
        return _compress(batch), batch.num_rows

    def _later(self, make: Callable[[C], tuple[Chunk, int]], chunk: C) -> None:
        """Put ``make(chunk)`` in ``chunk``'s place, on the background thread, or right
        here when that is behind (lock held)."""
        self._waiting = [f for f in self._waiting if not f.done()]
        if len(self._waiting) >= _MAX_WAITING:
            self._swap(self._chunks, chunk, *make(chunk))
            return
        self._waiting.append(_background().submit(self._replace, self._chunks, chunk, make))

    def _replace(
        self, chunks: list[Chunk], chunk: C, make: Callable[[C], tuple[Chunk, int]]
    ) -> None:
        done, rows = make(chunk)
        with self._lock:
            self._swap(chunks, chunk, done, rows)

    def _add(self, batch: pa.RecordBatch, open_: bool = False) -> None:
        """Append a sealed batch (lock held) and have it compressed, unless it is left
        ``open_`` for the next bulk extend to fill."""
        self._chunks.append(batch)
        self._chunk_rows.append(batch.num_rows)
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
                        self.on_bad_row(self.name, row, exc)
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

    def load(self, table: pa.Table) -> None:
        """Replace the content with an Arrow table of this schema (a loaded recording)."""
        with self._lock:
            batches = table.cast(self._storage).to_batches()
            self._chunks = list(batches)
            self._chunk_rows = [b.num_rows for b in batches]
            self._sealed_rows = table.num_rows
            self._hot = []
            self._open = False

    def __len__(self) -> int:
        return self._sealed_rows + len(self._hot)

    @property
    def nbytes(self) -> int:
        """Bytes held by sealed chunks (hot rows are Python objects, not counted)."""
        return sum(
            c.size if isinstance(c, pa.Buffer) else c.nbytes
            for c in self._chunks
            if not isinstance(c, _Rows)
        )

    def to_arrow(self, columns: list[str] | None = None, start: int = 0) -> pa.Table:
        """A consistent snapshot of the rows from ``start`` on (all by default; live views
        pass the count they already have), optionally only some columns. Chunks before
        ``start`` are not even decompressed. Offsets count rows as they are returned (a row
        Arrow cannot hold is not one), so reading on from what a view already has never
        repeats a row."""
        self._convert_waiting()
        with self._lock:
            chunks = list(self._chunks)
            sizes = list(self._chunk_rows)
            hot = list(self._hot)
        batches = []
        offset = 0
        for chunk, size in zip(chunks, sizes, strict=True):
            if offset + size > start:
                if isinstance(chunk, _Rows):  # sealed just now: converted here
                    batch = self._batch(chunk.rows)
                else:
                    batch = _decompress(chunk) if isinstance(chunk, pa.Buffer) else chunk
                batches.append(batch.slice(max(0, start - offset)))
            offset += size
        if hot:
            batch = self._batch(hot)  # whole, then cut: a bad row must not shift the cut
            if offset + batch.num_rows > start:
                batches.append(batch.slice(max(0, start - offset)))
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

    def _convert_waiting(self) -> None:
        """Sealed rows the background thread has not reached yet: convert them here and
        put them in place (then compressed in the background), so that the row counts
        behind offsets are final before a read uses them."""
        with self._lock:
            waiting = [chunk for chunk in self._chunks if isinstance(chunk, _Rows)]
        for chunk in waiting:
            batch = self._batch(chunk.rows)
            with self._lock:
                if any(c is chunk for c in self._chunks):
                    self._swap(self._chunks, chunk, batch, batch.num_rows)
                    self._compress_later(batch)

    def to_frame(self) -> pd.DataFrame:
        return to_frame(self.to_arrow())

    def __repr__(self) -> str:
        return f"<ColumnTable {self.name}: {len(self):,} rows>"
