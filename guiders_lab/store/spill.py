"""Sealed table chunks on disk: what keeps a days-long recording's memory flat.

A recording session's tables write each compressed chunk (a zstd Arrow IPC stream, as
held in memory otherwise) to one append-only file per table in ``DIR/spill/`` and keep
only where it is (:class:`Spilled`: offset, length). Reads come back per chunk with
``pread``: no lock, no memory map to grow with the file.

Each chunk is framed (magic, length, CRC-32, then the stream), so a file torn by a crash
mid-write loses its last chunk only: :func:`read_spill` reads every whole frame before it.
The journal (``events.jsonl``) stays the recording's source of truth; the spill is the
live tables' backing store, removed once the recording's Parquet tables are written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

__all__ = ["SpillFile", "Spilled", "read_spill"]

log = logging.getLogger(__name__)

_MAGIC = b"GLS1"
_HEADER = struct.Struct("<4sQI")  # magic, payload length, CRC-32 of the payload


class Spilled:
    """A chunk that lives in a spill file: where, and how long."""

    __slots__ = ("file", "length", "offset")

    def __init__(self, file: SpillFile, offset: int, length: int) -> None:
        self.file = file
        self.offset = offset
        self.length = length

    def read(self) -> pa.Buffer:
        return self.file.read(self.offset, self.length)


class SpillFile:
    """One table's append-only chunk file. Appended from the compressing thread (or the
    writer's, when that is behind: hence the lock), read from any thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        # closed when no table or chunk refers to it any more (or at exit)
        self._closer: weakref.finalize[..., object] = weakref.finalize(self, os.close, self._fd)
        self.size = 0
        self.error: str | None = None  # why spilling stopped (disk full, ...), if it did
        self._lock = threading.Lock()

    def append(self, buffer: pa.Buffer) -> Spilled | None:
        """Write one compressed chunk; None when the disk refused it (the chunk then
        stays in memory, and later chunks too: said once, in the log)."""
        data = memoryview(buffer)
        header = _HEADER.pack(_MAGIC, len(data), zlib.crc32(data))
        with self._lock:
            if self.error is not None:
                return None
            start = self.size
            try:
                os.pwrite(self._fd, header, start)
                written = 0
                while written < len(data):
                    written += os.pwrite(self._fd, data[written:], start + _HEADER.size + written)
            except OSError as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                with contextlib.suppress(OSError):  # leave no torn frame behind
                    os.ftruncate(self._fd, start)
                log.error(
                    "%s: spilling stopped (%s); later chunks stay in memory", self.path, self.error
                )
                return None
            self.size = start + _HEADER.size + len(data)
        return Spilled(self, start + _HEADER.size, len(data))

    def read(self, offset: int, length: int) -> pa.Buffer:
        return pa.py_buffer(os.pread(self._fd, length, offset))

    def unlink(self) -> None:
        """Remove the file's name (and its directory, once empty); what is spilled stays
        readable through the open descriptor (POSIX) until the tables holding it are gone,
        then the disk space is freed. Where a file in use cannot be removed, it goes when
        closed."""
        try:
            self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty yet: the last file removes it
                self.path.parent.rmdir()
        except OSError:
            path = self.path
            self._closer.detach()
            self._closer = weakref.finalize(self, _close_and_remove, self._fd, path)

    def __repr__(self) -> str:
        return f"<SpillFile {self.path} {self.size:,} bytes>"


def _close_and_remove(fd: int, path: Path) -> None:
    os.close(fd)
    with contextlib.suppress(OSError):
        path.unlink()


def read_spill(path: str | Path) -> Iterator[pa.RecordBatch]:
    """Every whole chunk of a spill file, up to the first torn or damaged one (a crash
    mid-write): what came before it is intact. Chunks are in the order they were
    compressed, which is nearly but not always the tables' (the writer's thread may
    compress one while an older one is still on the background thread's), and a chunk a
    reader converted while it was being compressed may rarely be there twice."""
    with open(path, "rb") as f:
        while True:
            header = f.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            magic, length, crc = _HEADER.unpack(header)
            data = f.read(length)
            if magic != _MAGIC or len(data) < length or zlib.crc32(data) != crc:
                log.warning("%s: stopped at a torn chunk at byte %d", path, f.tell())
                return
            yield pa.ipc.open_stream(pa.py_buffer(data)).read_next_batch()
