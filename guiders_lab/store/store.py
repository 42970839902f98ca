"""The store: raw events in, canonical tables out. One per session, written by one thread.

A facade over small state objects, each owning its state: :class:`~.dedupe.RecentIds`
(repeated events), :class:`~.sequence.SequenceTracker` (server sequence numbers),
:class:`~.lag.LagWindows` (event-lag rows), the chats ledger and the tables. ``ingest``
is the capture hot path: it must stay a handful of microseconds per event and must never
raise, whatever the server sends. Anything it cannot understand becomes a row in
``quarantine`` with the reason, and the raw event is still kept in ``events``.
:meth:`Store.ingest_batch` is the bulk path's door (see :mod:`.batch`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import pandas as pd

from ..dialects import Dialect, get_dialect
from ..events.records import (
    Action,
    Assignment,
    ChatClosed,
    ChatCreated,
    Event,
    LatencySample,
    Message,
    Presence,
    Quarantined,
    Record,
    ServerError,
    Typing,
    VisitorAction,
)
from . import batch as _batch
from . import intake
from .chats import ChatLedger
from .dedupe import RecentIds
from .event_log import EventLog
from .journal_port import JournalWriter
from .lag import LagWindows
from .quarantine import is_utf8, preview
from .retention import retention, warn_dropped
from .sequence import SequenceTracker
from .spill import SpillFile
from .table import ColumnTable

__all__ = ["MAX_NAME_CHARS", "TABLES", "JournalWriter", "Store", "Subscriber"]

log = logging.getLogger(__name__)

# name -> record type of every stored table except the derived ``chats``
TABLES: dict[str, type[NamedTuple]] = {
    "events": Event,
    "messages": Message,
    "assignments": Assignment,
    "presence": Presence,
    "visitor_actions": VisitorAction,
    "typing_events": Typing,
    "errors": ServerError,
    "latency": LatencySample,
    "actions": Action,
    "quarantine": Quarantined,
}

Subscriber = Callable[[int, str, Record], None]

MAX_NAME_CHARS = 200  # an event name longer than this is junk: quarantined, cut to this


class Store:
    """Canonical tables of one session (live, replayed or loaded)."""

    def __init__(
        self,
        dialect: str | Dialect = "ai-api",
        *,
        chunk_rows: int = 8192,
        dedupe_window: int = 200_000,
        max_payload_bytes: int = 1_000_000,
        lag_window_s: float = 1.0,
        simulated_clock: bool = False,
        max_rows: int | None = None,
        max_age: float | timedelta | None = None,
    ) -> None:
        """``max_rows`` / ``max_age`` (s or timedelta): per-table retention for sessions that
        do not record (:mod:`.retention`); a recording spills instead (:meth:`spill_to`)."""
        self.dialect = get_dialect(dialect)
        # the events' own timestamps come from a simulated clock (a simulator's day runs
        # faster, and elsewhen): event lag and re-delivery are then judged only by a
        # ``serverTime`` the server adds, never by those timestamps
        self.simulated_clock = simulated_clock
        self.tables: dict[str, ColumnTable] = {
            name: ColumnTable(
                name,
                row_type,
                chunk_rows=chunk_rows,
                bytes_text=("payload",) if name == "events" else (),
                retention=retention(max_rows, max_age),
            )
            for name, row_type in TABLES.items()
        }
        self.chats = ChatLedger()
        self.counts: dict[str, int] = {}  # a plain dict: dict(counts) is an atomic snapshot
        self.status_counts: dict[str, int] = dict.fromkeys(
            ("ok", "duplicate", "quarantined", "unknown"), 0
        )
        self.sent = 0
        self.ping_n = 0
        self.ping_sum_ms = 0.0
        self.last_ping_ms: float | None = None
        self.max_payload_bytes = max_payload_bytes
        for table in self.tables.values():
            table.on_bad_row = self._bad_row
            table.on_drop = self._rows_dropped
        self._spills: list[SpillFile] = []  # a recording's (spill_to)
        self.routes: dict[type, ColumnTable | None] = {  # where each record type is kept
            Message: self.tables["messages"],
            Assignment: self.tables["assignments"],
            Presence: self.tables["presence"],
            VisitorAction: self.tables["visitor_actions"],
            Typing: self.tables["typing_events"],
            ServerError: self.tables["errors"],
            LatencySample: self.tables["latency"],
            ChatCreated: None,  # only the chats ledger
            ChatClosed: None,
        }
        self._action_seq = 0
        self.message_ids = RecentIds(dedupe_window)
        self.assignment_ids = RecentIds(dedupe_window)  # the same assignment, told twice
        self.server_seqs = RecentIds(dedupe_window)
        self.lag = LagWindows(lag_window_s)
        self.seq_tracker = SequenceTracker()
        self._subscribers: list[Subscriber] = []
        self.started_at = datetime.now(UTC)
        self.log = EventLog(self.tables["events"], self.dialect.name)
        self.journal: JournalWriter | None = None  # set by a recording session
        # events the server sent before this time came over a reconnect's resync, not live
        self.reconnected_at = -math.inf
        self.redelivered = 0  # events delivered again after a reconnect ("resync")
        # told "restored" (the link is caught up after a reconnect) and "ended" (no more
        # events will come): a session flushes its outbox, a replay's waiters wake
        self.link_listeners: list[Callable[[str], None]] = []

    # ------------------------------------------------------------------ hot path
    def ingest(self, name: str, args: tuple[Any, ...], received_ts: float | None = None) -> None:
        """Take one raw server event (name plus Socket.IO arguments). Never raises."""
        if received_ts is None:
            received_ts = time.time()
        payload = args[0] if args else None
        meta = args[1] if len(args) > 1 and type(args[1]) is dict else None
        try:
            raw, size, problem = intake.encode(payload, self.max_payload_bytes)
            if len(name) > MAX_NAME_CHARS:  # kept whole, it would sit in every count
                problem = f"event name of {len(name):,} characters > limit {MAX_NAME_CHARS}"
                name = name[:MAX_NAME_CHARS] + "…"
            if problem is None:
                intake.take(self, name, raw, meta, received_ts, payload)
            else:
                intake.take_bad(
                    self, name, problem, raw, size, received_ts, intake.server_seq_of(meta)
                )
        except Exception:  # a bug here must not stop capture; keep the event visibly
            intake.internal_error(self, name, received_ts)

    def ingest_json(
        self,
        name: str,
        raw: bytes,
        meta: dict[str, Any] | None,
        received_ts: float,
        *,
        utf8: bool = False,
    ) -> None:
        """Take one event whose payload is already JSON (live, cut from a text frame:
        ``utf8``; or from a recording): decoded straight from the bytes, no dict."""
        try:
            reason = None
            if len(name) > MAX_NAME_CHARS:  # as ``ingest``: kept whole, it would sit in every count
                reason = f"event name of {len(name):,} characters > limit {MAX_NAME_CHARS}"
                name = name[:MAX_NAME_CHARS] + "…"
            elif len(raw) > self.max_payload_bytes:
                reason = f"oversized payload: {len(raw):,} bytes > limit {self.max_payload_bytes:,}"
            # JSON is UTF-8, but msgspec's raw reader does not check (a text frame did)
            elif not (utf8 or is_utf8(raw)):
                reason = "payload is not valid UTF-8"
            if reason is None:
                intake.take(self, name, raw, meta, received_ts)
            else:
                seq = intake.server_seq_of(meta)
                intake.take_bad(self, name, reason, preview(raw), len(raw), received_ts, seq)
        except Exception:
            intake.internal_error(self, name, received_ts)

    def ingest_bad(
        self, name: str, reason: str, preview: bytes, size: int, received_ts: float
    ) -> None:
        """Take an event already known to be unusable (a recorded quarantine)."""
        intake.take_bad(self, name, reason, preview, size, received_ts)

    def ingest_batch(self, decoded: _batch.DecodedBatch) -> bool:
        """Take a run of recorded events decoded by :func:`.batch.decode_batch`, with
        exactly the outcome of feeding them one by one. False, having changed nothing,
        when they must go one by one instead (see :func:`.batch.commit`)."""
        return _batch.commit(self, decoded)

    def skipped_by_server(self, server_seq: int, name: str, size: int) -> None:
        """The server left an event out of a resync (too big for our frame limit): it is
        accounted for, not missing, and quarantined with the reason."""
        reason = f"event seq {server_seq} ({size:,} bytes) over the frame limit: skipped on resync"
        intake.take_bad(self, name, reason, b"null", size, time.time(), server_seq)

    def reconnected(self, at: float) -> None:
        """The connection was opened again at ``at`` (our clock): whatever the server sent
        before that and delivers now is re-delivered (``delivery == "resync"``), and its
        lag counts the outage, not the link. Journaled, so a rebuild decides the same."""
        self.reconnected_at = at
        if self.journal is not None:
            self.journal.write_link(at, "reconnected")

    def restored(self) -> None:
        """After a reconnect the link is caught up: tell the listeners (the outbox)."""
        self._tell("restored")

    def ended(self) -> None:
        """Nothing more will be delivered: tell the listeners."""
        self._tell("ended")

    def _tell(self, what: str) -> None:
        for listener in list(self.link_listeners):
            try:
                listener(what)
            except Exception:
                log.exception("link listener %r failed on %s", listener, what)

    def resume_from(self) -> int | None:
        """The server sequence number up to which every event arrived: what to ask the
        server to resend from after a reconnect (None before any)."""
        return self.seq_tracker.contiguous

    def note_chat(self, chat_id: str, *, min_sentiment: float) -> None:
        """Something the kit derived about a chat during capture (a bot's sentiment
        score): applied to ``chats`` and journaled, so a rebuilt recording has it too."""
        self.chats.note_sentiment(chat_id, min_sentiment)
        self.journal_note(chat_id, min_sentiment=min_sentiment)

    def journal_note(self, chat_id: str, *, min_sentiment: float) -> None:
        """The journal half of :meth:`note_chat` (on the store's thread: one writer)."""
        if self.journal is not None:
            self.journal.write_note(chat_id, "min_sentiment", min_sentiment)

    @property
    def last_server_seq(self) -> int | None:
        """The highest server sequence number seen."""
        return self.seq_tracker.highest

    def note_ping(self, sample: LatencySample[float]) -> None:
        """Count a ping round trip in the running means."""
        self.ping_n += 1
        self.ping_sum_ms += sample.value_ms
        self.last_ping_ms = sample.value_ms

    def flush_lag(self) -> None:
        """Close the current event-lag window into one ``latency`` row."""
        row = self.lag.close()
        if row is not None:
            self.tables["latency"].append(row)

    @property
    def last_lag_ms(self) -> float | None:
        """The mean event lag of the last closed window."""
        return self.lag.last_ms

    def _bad_row(self, table: str, row: tuple[object, ...], error: Exception) -> None:
        """Last line of defence: a row Arrow cannot hold (a value that slipped past
        validation) is moved to ``quarantine`` instead of poisoning its table."""
        log.error("a %s row could not be stored (%s); quarantined", table, error)
        text = repr(row).encode("utf-8", "replace")
        if table != "quarantine":
            intake.quarantine(
                self, f"<{table} row>", f"unstorable row: {error}", text, len(text), time.time()
            )

    # ------------------------------------------------------------------ bounded memory
    def spill_to(self, directory: str | Path) -> None:
        """Keep every table's sealed chunks in ``directory/<table>.spill`` rather than in
        memory (a recording's ``spill/``): memory stays flat, every row stays readable."""
        for name, table in self.tables.items():
            spill = SpillFile(Path(directory) / f"{name}.spill")
            self._spills.append(spill)
            table.spill_to(spill)

    def release_spill(self) -> None:
        """Remove the spill files (the recording's tables are written): the tables read on
        through the open files, whose space is freed when the store goes."""
        for spill in self._spills:
            spill.unlink()

    @property
    def dropped(self) -> dict[str, int]:
        """Rows dropped per table by retention limits (tables that dropped none left out)."""
        return {name: t.dropped for name, t in self.tables.items() if t.dropped}

    def _rows_dropped(self, name: str, rows: int) -> None:
        table = self.tables[name]  # warned the first time only: the count says the rest
        if table.retention is not None and table.dropped == rows:
            warn_dropped(name, rows, table.retention)

    # ------------------------------------------------------------------ counters
    def restore_counters(self, *, events: int, sent: int, pings: list[float]) -> None:
        """Counters live capture keeps as it goes, set from loaded tables."""
        self.log.seq = events
        self.sent = sent
        self.ping_n, self.ping_sum_ms = len(pings), float(sum(pings))

    @property
    def has_subscribers(self) -> bool:
        """Someone waits for records one by one (the bulk path then steps aside)."""
        return bool(self._subscribers)

    # ------------------------------------------------------------------ outgoing
    def record_out(self, name: str, payload: dict[str, Any], at: float | None = None) -> int:
        """Log an event we sent (direction ``out``); returns its sequence number."""
        return self.record_out_json(
            name, orjson.dumps(payload), payload, time.time() if at is None else at
        )

    def record_out_json(
        self, name: str, raw: bytes, payload: dict[str, Any] | None, at: float
    ) -> int:
        seq = self.log.next()
        self.sent += 1
        if self.journal is not None:
            self.journal.write_out(seq, at, name, raw)
        if payload is None:
            payload = orjson.loads(raw)
        self.log.outgoing(seq, name, at, payload if isinstance(payload, dict) else {}, raw)
        return seq

    def next_action_id(self) -> int:
        self._action_seq += 1
        return self._action_seq

    def record_action(self, action: Action[float]) -> None:
        """Append an action row (raw form: times as epoch seconds) and apply what an
        acknowledged ``chat:update`` changed to the chats table."""
        self._action_seq = max(self._action_seq, action.action_id)
        if self.journal is not None:
            self.journal.write_action(action)
        self.tables["actions"].append(action)
        if action.ok and action.mode == "live" and action.name == "chat:update":
            payload = orjson.loads(action.payload)
            at = action.acked_at if action.acked_at is not None else action.decided_at
            self.chats.update(payload["chatId"], payload.get("updates") or {}, at)

    # ------------------------------------------------------------------ readers
    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(seq, name, record)`` for every accepted record, on the capture
        thread. It must be quick; hand work off to a queue. Returns an unsubscribe function."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def frame(self, name: str) -> pd.DataFrame:
        """A pandas snapshot of one table (``chats`` is derived, the rest are stored)."""
        if name == "chats":
            return self.chats.to_frame()
        try:
            table = self.tables[name]
        except KeyError:
            known = sorted([*self.tables, "chats"])
            raise KeyError(f"no table {name!r}; tables: {known}") from None
        return table.to_frame()

    def seal(self) -> None:
        """Compress every table's hot rows (e.g. before measuring memory)."""
        for table in self.tables.values():
            table.seal()

    def __len__(self) -> int:
        return self.log.seq
