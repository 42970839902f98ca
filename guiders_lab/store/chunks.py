"""The forms a table chunk takes, and the thread that moves it from one to the next.

Sealed rows (:class:`Rows`), then an Arrow record batch, then (compressed tables) a
zstd Arrow IPC buffer, then (spilling tables) a :class:`~.spill.Spilled` place on disk.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pyarrow as pa

from .spill import Spilled

__all__ = ["MAX_WAITING", "C", "Chunk", "Row", "Rows", "background", "compress", "decompress"]

Row = tuple[object, ...]  # a raw row of the table's record type (epoch-second times)

# one thread per chunk: compression already runs off the writer's thread, and Arrow's pool
# would only add scheduling (about 15% more CPU for the same wall time)
IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd", use_threads=False)


def compress(batch: pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=IPC_OPTIONS) as writer:
        writer.write_batch(batch)
    # the stream grew by doubling; keep an exact-size copy, not the oversized original
    return pa.py_buffer(sink.getvalue().to_pybytes())


def decompress(buffer: pa.Buffer) -> pa.RecordBatch:
    return pa.ipc.open_stream(buffer).read_next_batch()


MAX_WAITING = 8  # chunks a table may have waiting before its writer does its own


class Rows:
    """Sealed hot rows, a moment before the sealing thread (or a reader) makes them a batch."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows


# a chunk as it goes: sealed rows, then an Arrow batch, then (compress=True) that compressed,
# then (spilling) on disk
Chunk = pa.Buffer | pa.RecordBatch | Rows | Spilled
C = TypeVar("C", Rows, pa.RecordBatch)  # what a background step turns into its next form


_compressor: ThreadPoolExecutor | None = None
_compressor_lock = threading.Lock()


def background() -> ThreadPoolExecutor:
    global _compressor
    with _compressor_lock:
        if _compressor is None:
            _compressor = ThreadPoolExecutor(1, thread_name_prefix="guiders-lab-compress")
        return _compressor
