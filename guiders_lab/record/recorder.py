"""Recording a live session: journal while capturing, Parquet tables on close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ..store import Store
from .journal import JOURNAL_NAME, Journal
from .manifest import MANIFEST_NAME, Manifest, RecordingError
from .redacted import RedactingJournal
from .tables_io import TABLE_NAMES, write_tables

__all__ = ["Recorder"]

log = logging.getLogger(__name__)

SPILL_DIR = "spill"  # the live tables' chunks while recording (see guiders_lab.store.spill)
# everything a recording directory holds: what overwrite=True may replace
_OURS = frozenset(
    {MANIFEST_NAME, JOURNAL_NAME, SPILL_DIR, *(f"{name}.parquet" for name in TABLE_NAMES)}
)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    """Owns a session directory: ``manifest.json``, ``events.jsonl``, then ``*.parquet``.

    ``redact_pii=True`` masks e-mails, phone numbers and card numbers in everything written
    (journal and tables; see :mod:`guiders_lab.privacy`); the live tables keep the text.

    While recording, the store's sealed chunks go to ``spill/`` (``spill=True``), so
    memory stays flat however long the session; the Parquet tables are written from them
    on close, then ``spill/`` is removed (the closed session's tables still read it
    through the open files, until the session is gone).
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        flush_interval: float = 0.5,
        fsync: bool = False,
        overwrite: bool = False,
        redact_pii: bool = False,
        spill: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.spill = spill
        self._previous: Path | None = None  # an overwritten recording, kept until connected
        if self.directory.exists() and any(self.directory.iterdir()):
            if not overwrite:
                raise FileExistsError(
                    f"{self.directory} is not empty; pick a new directory or pass overwrite=True"
                )
            foreign = sorted(p.name for p in self.directory.iterdir() if p.name not in _OURS)
            if foreign:
                raise FileExistsError(
                    f"{self.directory} holds files that are not a recording's ({foreign[:5]}); "
                    "overwrite=True only replaces a recording"
                )
        self.flush_interval = flush_interval
        self.fsync = fsync
        self.redact_pii = redact_pii
        self.manifest: Manifest | None = None
        self.journal: Journal | None = None

    def start(self, store: Store, server_url: str, source: str = "live") -> None:
        """Write the initial manifest and start journaling the store's events. A recording
        being overwritten is moved aside, to come back if the connection fails
        (:meth:`abandon`) or go once it succeeds (:meth:`connected`)."""
        self._set_aside()
        self.manifest = Manifest(
            dialect=store.dialect.name,
            server_url=server_url,
            started_at=_now_iso(),
            source=source,
            simulated_clock=store.simulated_clock,
            flush_interval_s=self.flush_interval,
            extra={"pii_redacted": True} if self.redact_pii else {},
        )
        self._publish(self.manifest)
        kind = RedactingJournal if self.redact_pii else Journal
        self.journal = kind(self.directory, flush_interval=self.flush_interval, fsync=self.fsync)
        store.journal = self.journal
        if self.spill:
            store.spill_to(self.directory / SPILL_DIR)

    def _publish(self, manifest: Manifest) -> None:
        """Create the directory already holding ``manifest.json`` and an empty journal, with
        one rename: a process killed at any point leaves no directory or a loadable one."""
        target = self.directory
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
            shutil.rmtree(staging, ignore_errors=True)  # left by a killed earlier process
            staging.mkdir()  # not mkdtemp: keep the umask's permissions
            try:
                (staging / JOURNAL_NAME).touch()
                manifest.write(staging)
                os.rename(staging, target)
                return
            except OSError:  # e.g. the directory appeared meanwhile: fill it in place
                shutil.rmtree(staging, ignore_errors=True)
        # An existing (empty or overwritten) directory is filled in place, journal first, so
        # a manifest never lacks its journal; before the manifest lands it is not a recording.
        target.mkdir(parents=True, exist_ok=True)
        (target / JOURNAL_NAME).touch()
        manifest.write(target)

    def _set_aside(self) -> None:
        old = (
            [p for p in self.directory.iterdir() if p.name in _OURS]
            if self.directory.exists()
            else []
        )
        if not old:
            return
        self._previous = self.directory.with_name(f".{self.directory.name}.{os.getpid()}.previous")
        shutil.rmtree(self._previous, ignore_errors=True)
        self._previous.mkdir()
        for path in old:
            os.replace(path, self._previous / path.name)

    def connected(self) -> None:
        """The session is up: the overwritten recording can go."""
        if self._previous is not None:
            shutil.rmtree(self._previous, ignore_errors=True)
            self._previous = None

    def abandon(self, store: Store) -> None:
        """The connection failed: remove what this recorder wrote and put back the
        recording it was to replace, if any."""
        store.journal = None
        if self.journal is not None:
            self.journal.close()
        store.release_spill()
        for name in _OURS:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        if self._previous is not None:
            for path in self._previous.iterdir():
                os.replace(path, self.directory / path.name)
            self._previous.rmdir()
            self._previous = None
        with contextlib.suppress(OSError):  # only if empty: it may have held nothing else
            self.directory.rmdir()

    async def flush_forever(self) -> None:
        """Flush on a timer too, so a quiet stream still reaches the disk in time."""
        while self.journal is not None and not self.journal.closed:
            await asyncio.sleep(self.flush_interval)
            self.journal.flush()

    def finish(self, store: Store) -> Manifest:
        """Close the journal, write the Parquet tables and the complete manifest."""
        assert self.manifest is not None and self.journal is not None
        store.journal = None
        self.journal.close()
        manifest = self.manifest
        manifest.ended_at = _now_iso()
        manifest.event_counts = dict(store.counts)
        manifest.n_events = len(store)
        manifest.journal_lines = self.journal.lines
        if self.journal.error is not None:  # the journal stopped early; the tables did not
            manifest.journal_lines = self.journal.flushed_lines
            manifest.extra = {**manifest.extra, "journal_error": self.journal.error}
        manifest.complete = True
        try:
            manifest.tables = write_tables(
                store, self.directory, manifest, redact_pii=self.redact_pii
            )
            manifest.write(self.directory)
            store.release_spill()
        except OSError as exc:
            raise RecordingError(
                f"{self.directory}: the tables could not be written ({type(exc).__name__}: "
                f"{exc}); the session's tables are still in memory"
            ) from exc
        log.info("recorded %s events to %s", f"{manifest.n_events:,}", self.directory)
        return manifest

    def __repr__(self) -> str:
        return f"<Recorder {self.directory / JOURNAL_NAME}>"
