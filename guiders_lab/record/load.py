"""``gl.load(DIR)``: a recording as a session, from Parquet or rebuilt from the journal."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .._gc import gc_paused
from .._warn import warn_at_caller
from ..errors import ReplayReadOnlyError
from ..session import Session
from ..store import Store, arrow_schema
from ..store.chats import ChatRow
from ..store.store import TABLES
from ..transport import Ack, LinkState, Sink
from .feed import feed_journal
from .journal import JOURNAL_NAME
from .manifest import MANIFEST_NAME, SCHEMA_VERSION, Manifest, RecordingError
from .reader import RecordingWarning, iter_journal
from .replay import ReplaySession, replay
from .tables_io import TABLE_NAMES, read_table

__all__ = ["Recording", "RecordingWarning", "iter_journal", "load", "rebuild"]

log = logging.getLogger(__name__)


def rebuild(directory: str | Path, store: Store | None = None, *, bulk: bool = True) -> Store:
    """Rebuild every table from ``events.jsonl`` (e.g. after a crash). ``bulk=False``
    feeds every event one by one (the reference the bulk path is tested against)."""
    path = Path(directory) / JOURNAL_NAME
    if not path.is_file():
        raise RecordingError(f"{directory}: no {JOURNAL_NAME} file to rebuild from")
    store = Store() if store is None else store
    with gc_paused():  # see guiders_lab._gc: about half the time otherwise
        feed_journal(store, path, bulk=bulk)
    store.flush_lag()
    return store


def _load_tables(directory: Path, store: Store, manifest: Manifest) -> list[str]:
    """Fill ``store`` from the Parquet files; returns the files that could not be read
    (or hold another number of rows than the manifest says they were written with)."""
    broken = []
    for name in TABLE_NAMES:
        path = directory / f"{name}.parquet"
        schema = arrow_schema(ChatRow if name == "chats" else TABLES[name])
        try:
            table = read_table(path, schema)
        except Exception as exc:  # missing, truncated, corrupt, wrong schema
            broken.append(f"{path.name} ({type(exc).__name__}: {exc})")
            continue
        written = manifest.tables.get(name)
        if written is not None and table.num_rows != written:
            broken.append(f"{path.name} ({table.num_rows:,} rows, written with {written:,})")
            continue
        if name == "chats":
            store.chats.load(table)
        else:
            store.tables[name].load(table)
    return broken


class RecordingTransport:
    """The transport of a loaded recording: everything was delivered already (the tables
    come from disk), nothing can be sent, and for a bot it plays the journal again
    (:meth:`replay_for_bots`, the :class:`~guiders_lab.session.Replayable` capability)."""

    kind = "recording"

    def __init__(self, directory: Path, how: str) -> None:
        self.directory = directory
        self.source = str(directory)
        self.how = how  # "loaded", "rebuilt" or "partly loaded"

    @property
    def connected(self) -> bool:
        return False

    @property
    def state(self) -> LinkState:
        return LinkState.LOADED

    async def start(self, sink: Sink) -> None:
        sink.ended()

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        raise ReplayReadOnlyError(f"cannot send {event}: a recording has no server")

    async def close(self) -> None:
        return None

    def stats(self) -> dict[str, object]:
        return {"state": LinkState.LOADED, "connected": False, "how": self.how}

    def replay_for_bots(self, progress: bool | None) -> ReplaySession:
        """A new session playing this recording's journal flat out, not yet started."""
        return replay(self.directory, speed=float("inf"), progress=progress, start=False)


class Recording(Session[RecordingTransport]):
    """A recorded session loaded for offline analysis: the same tables as live. A
    :class:`~guiders_lab.Session` whose transport is a :class:`RecordingTransport` (this
    adds only typed accessors for the recording)."""

    def __init__(self, store: Store, directory: Path, manifest: Manifest, how: str) -> None:
        super().__init__(store, RecordingTransport(directory, how))
        self.directory = directory
        self.manifest = manifest

    @property
    def how(self) -> str:
        """``"loaded"`` (from Parquet), ``"rebuilt"`` (from the journal) or ``"partly
        loaded"`` (broken tables and no journal)."""
        return self.transport.how

    def _status(self) -> str:
        return self.how

    def _repr_html_(self) -> str:
        extra = (
            f"<br><small>recorded {html.escape(self.manifest.started_at)} · "
            f"{html.escape(self.manifest.server_url)}</small>"
        )
        return super()._repr_html_() + extra


def _recount(store: Store) -> None:
    """Counters that live capture keeps incrementally, recomputed from ``events``."""
    events = store.tables["events"].to_arrow(columns=["direction", "name", "status", "delivery"])
    incoming = events.filter(pc.equal(events.column("direction"), pa.scalar("in")))
    for column, target in (("name", store.counts), ("status", store.status_counts)):
        counts = pc.value_counts(incoming.column(column))
        # pyarrow-stubs type to_pylist() for arrays of plain values; a struct array's are dicts
        items: list[dict[str, Any]] = counts.to_pylist()  # type: ignore[misc, assignment]
        for item in items:
            target[item["values"]] = item["counts"]
    resync = pc.equal(incoming.column("delivery"), pa.scalar("resync"))
    # pyarrow-stubs: sum() takes numeric arrays only; pyarrow sums booleans (True counts 1)
    store.redelivered = pc.sum(resync).as_py() or 0  # type: ignore[type-var]
    latency = store.tables["latency"].to_frame()
    pings = latency.loc[latency["kind"] == "ping", "value_ms"]
    store.restore_counters(
        events=events.num_rows, sent=events.num_rows - incoming.num_rows, pings=pings.tolist()
    )


def load(directory: str | Path, *, rebuild_tables: bool = False) -> Recording:
    """Open a recording directory.

    Reads the Parquet tables a clean close wrote; when they are missing (the recorder was
    killed) or unreadable, rebuilds every table from ``events.jsonl`` and says so in a
    :class:`RecordingWarning`. Raises :class:`RecordingError` for a directory that is not
    a recording or was written by a newer guiders-lab.
    """
    directory = Path(directory)
    manifest = Manifest.read(directory)
    try:
        store = Store(manifest.dialect, simulated_clock=manifest.simulated_clock)
    except ValueError as exc:  # a dialect this version does not know
        raise RecordingError(f"{directory / MANIFEST_NAME}: {exc}") from None
    broken: list[str] = []
    if manifest.schema_version < SCHEMA_VERSION and (directory / JOURNAL_NAME).is_file():
        # an older kit derived ``chats`` in arrival order: derive it again from the journal
        log.info(
            "%s: schema %d < %d, rebuilding the tables",
            directory,
            manifest.schema_version,
            SCHEMA_VERSION,
        )
        rebuild_tables = True
    if manifest.complete and not rebuild_tables:
        broken = _load_tables(directory, store, manifest)
        if not broken:
            _recount(store)
            return Recording(store, directory, manifest, "loaded")
        if not (directory / JOURNAL_NAME).is_file():  # nothing to rebuild from: keep the rest
            warn_at_caller(
                RecordingWarning(
                    f"{directory}: unreadable tables {broken} and no {JOURNAL_NAME} to "
                    "rebuild them from; the other tables are loaded, those are empty"
                )
            )
            _recount(store)
            return Recording(store, directory, manifest, "partly loaded")
        warn_at_caller(
            RecordingWarning(
                f"{directory}: unreadable tables {broken}; rebuilding "
                f"all tables from {JOURNAL_NAME}"
            )
        )
        store = Store(manifest.dialect, simulated_clock=manifest.simulated_clock)
    elif not manifest.complete:
        warn_at_caller(
            RecordingWarning(
                f"{directory}: the recording did not finish cleanly (no tables written); "
                f"rebuilding from {JOURNAL_NAME}"
            )
        )
    rebuild(directory, store)
    return Recording(store, directory, manifest, "rebuilt")
