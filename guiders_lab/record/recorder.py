"""Recording a live session: journal while capturing, Parquet tables on close."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ..store import Store
from .journal import JOURNAL_NAME, Journal
from .manifest import Manifest, RecordingError
from .redacted import RedactingJournal
from .tables_io import write_tables

__all__ = ["Recorder"]

log = logging.getLogger(__name__)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    """Owns a session directory: ``manifest.json``, ``events.jsonl``, then ``*.parquet``.

    ``redact_pii=True`` masks e-mails, phone numbers and card numbers in everything written
    (journal and tables; see :mod:`guiders_lab.privacy`); the live tables keep the text.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        flush_interval: float = 0.5,
        fsync: bool = False,
        overwrite: bool = False,
        redact_pii: bool = False,
    ) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and any(self.directory.iterdir()):
            if not overwrite:
                raise FileExistsError(
                    f"{self.directory} is not empty; pick a new directory or pass overwrite=True"
                )
            for old in self.directory.iterdir():
                if old.is_file():
                    old.unlink()
        self.flush_interval = flush_interval
        self.fsync = fsync
        self.redact_pii = redact_pii
        self.manifest: Manifest | None = None
        self.journal: Journal | None = None

    def start(self, store: Store, server_url: str, source: str = "live") -> None:
        """Write the initial manifest and start journaling the store's events."""
        self.manifest = Manifest(
            dialect=store.dialect.name,
            server_url=server_url,
            started_at=_now_iso(),
            source=source,
            flush_interval_s=self.flush_interval,
            extra={"pii_redacted": True} if self.redact_pii else {},
        )
        self._publish(self.manifest)
        kind = RedactingJournal if self.redact_pii else Journal
        self.journal = kind(self.directory, flush_interval=self.flush_interval, fsync=self.fsync)
        store.journal = self.journal

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
        except OSError as exc:
            raise RecordingError(
                f"{self.directory}: the tables could not be written ({type(exc).__name__}: "
                f"{exc}); the session's tables are still in memory"
            ) from exc
        log.info("recorded %s events to %s", f"{manifest.n_events:,}", self.directory)
        return manifest

    def __repr__(self) -> str:
        return f"<Recorder {self.directory / JOURNAL_NAME}>"
