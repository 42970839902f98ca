"""``events.jsonl``: every raw event of a session, appended and flushed as it arrives.

One JSON object per line, in arrival order. The payload is written exactly as received
(re-encoded JSON), so a recording can be replayed through the same decoding as live:

    {"seq":12,"t":1764065400.123456,"dir":"in","name":"message:new","payload":{...},"meta":{...}}
    {"seq":13,"t":...,"dir":"in","name":"message:new","bad":{"reason":"...","preview":"...","size":5}}
    {"seq":14,"t":...,"dir":"out","name":"message:send","payload":{...}}
    {"dir":"action","row":{"action_id":1,"bot":null,"mode":"live","name":"message:send",...}}
    {"dir":"link","t":1764065410.5,"state":"reconnected"}
    {"dir":"note","chat":"chat-1","field":"min_sentiment","value":-0.82}

``link`` lines mark a reconnection (events the server sent before it are re-delivered,
not live); ``note`` lines keep what the kit derived during capture (a bot's sentiment
score), so a rebuild gives the same tables as the Parquet files.

Lines are buffered and flushed to the operating system at least every ``flush_interval``
seconds: a process killed with SIGKILL loses at most that interval (the OS keeps what was
written); a power cut may lose more, unless ``fsync=True``. ``on_flush(lines, last_seq)``
is called after each flush that handed new lines to the OS, so a supervisor can know what a
kill can no longer lose (``guiders-lab record --progress`` prints it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ..events.records import Action

__all__ = ["JOURNAL_NAME", "FlushCallback", "Journal", "JournalFailedWarning"]

log = logging.getLogger(__name__)

FlushCallback = Callable[[int, "int | None"], None]  # (flushed lines, last flushed seq)
JOURNAL_NAME = "events.jsonl"
_DUMPS = orjson.dumps
_FRAGMENT = orjson.Fragment
_NEWLINE = orjson.OPT_APPEND_NEWLINE


class JournalFailedWarning(UserWarning):
    """The disk refused the journal (full, gone, read-only): recording stopped, capture
    did not."""


class Journal:
    """Appends lines to ``events.jsonl``; used only from the capture thread."""

    def __init__(
        self,
        directory: Path,
        *,
        flush_interval: float = 0.5,
        fsync: bool = False,
        on_flush: FlushCallback | None = None,
    ):
        if flush_interval <= 0:
            raise ValueError("flush_interval must be > 0 seconds")
        self.path = Path(directory) / JOURNAL_NAME
        self.flush_interval = flush_interval
        self.fsync = fsync
        self._file = open(self.path, "ab", buffering=1 << 20)  # noqa: SIM115 (kept open)
        self._last_flush = time.monotonic()
        self.on_flush = on_flush
        self.lines = 0
        self.flushed_lines = 0
        self.last_seq: int | None = None  # of the last event line written (actions have none)
        self.flushed_seq: int | None = None
        self.closed = False
        self.error: str | None = None  # why writing stopped (disk full, ...), if it did

    def _write(self, line: bytes, seq: int | None = None) -> None:
        if self.closed:
            return
        try:
            self._file.write(line)
        except OSError as exc:
            self._fail(exc)
            return
        self.lines += 1
        if seq is not None:
            self.last_seq = seq
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()

    def _fail(self, exc: OSError) -> None:
        """The disk refused a write: stop journaling (capture goes on in memory, and the
        tables are still written on close if the disk allows), and say so once."""
        self.error = f"{type(exc).__name__}: {exc}"
        self.closed = True
        with contextlib.suppress(OSError):  # what the buffer held is lost with the write
            self._file.close()
        text = (
            f"{self.path}: writing the journal failed ({self.error}); recording stopped "
            f"after {self.flushed_lines:,} lines on disk, capture goes on in memory"
        )
        log.error(text)
        warnings.warn(JournalFailedWarning(text), stacklevel=2)

    def write_in(
        self, seq: int, t: float, name: str, raw: bytes, meta: dict[str, Any] | None
    ) -> None:
        entry: dict[str, Any] = {
            "seq": seq,
            "t": t,
            "dir": "in",
            "name": name,
            "payload": _FRAGMENT(raw),
        }
        if meta is not None:
            entry["meta"] = meta
        try:
            line = _DUMPS(entry, option=_NEWLINE)
        except TypeError:  # junk in the server's meta argument: keep the event without it
            del entry["meta"]
            line = _DUMPS(entry, option=_NEWLINE)
        self._write(line, seq)

    def write_bad(
        self, seq: int, t: float, name: str, reason: str, preview: bytes, size: int
    ) -> None:
        bad = {"reason": reason, "preview": preview.decode("utf-8", "replace"), "size": size}
        self._write(
            _DUMPS(
                {"seq": seq, "t": t, "dir": "in", "name": str(name), "bad": bad}, option=_NEWLINE
            ),
            seq,
        )

    def write_out(self, seq: int, t: float, name: str, raw: bytes) -> None:
        self._write(
            _DUMPS(
                {"seq": seq, "t": t, "dir": "out", "name": name, "payload": _FRAGMENT(raw)},
                option=_NEWLINE,
            ),
            seq,
        )

    def write_action(self, action: Action[float]) -> None:
        self._write(_DUMPS({"dir": "action", "row": action._asdict()}, option=_NEWLINE))

    def write_link(self, t: float, state: str) -> None:
        self._write(_DUMPS({"dir": "link", "t": t, "state": state}, option=_NEWLINE))

    def write_note(self, chat_id: str, field: str, value: float) -> None:
        self._write(
            _DUMPS(
                {"dir": "note", "chat": chat_id, "field": field, "value": value},
                option=_NEWLINE,
            )
        )

    def flush(self) -> None:
        """Hand buffered lines to the OS (and to the disk with ``fsync``)."""
        if self.closed:
            return
        try:
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._fail(exc)
            return
        self._last_flush = time.monotonic()
        progressed = self.flushed_lines != self.lines
        self.flushed_lines = self.lines
        self.flushed_seq = self.last_seq
        if progressed and self.on_flush is not None:
            try:
                self.on_flush(self.flushed_lines, self.flushed_seq)
            except Exception:  # a broken progress reader must not stop the recording
                log.exception("journal on_flush callback failed; progress reports stopped")
                self.on_flush = None

    def close(self) -> None:
        if not self.closed:
            self.flush()
        if not self.closed:
            try:
                self._file.close()
            except OSError as exc:
                self._fail(exc)
            self.closed = True

    def __repr__(self) -> str:
        return f"<Journal {self.path} {self.lines:,} lines>"
