"""The store: raw events in, canonical tables out. One per session, written by one thread.

``ingest`` is the capture hot path: it must stay a handful of microseconds per event and
must never raise, whatever the server sends. Anything it cannot understand becomes a row
in ``quarantine`` with the reason, and the raw event is still kept in ``events``.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
import pandas as pd

from ..dialects import Dialect, Malformed, get_dialect
from ..dialects.base import EPOCH_RANGE_S
from ..events.records import (
    UNDECODABLE,
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
    as_record,
)
from .chats import ChatLedger
from .table import ColumnTable

if TYPE_CHECKING:
    from ..record.journal import Journal

__all__ = ["TABLES", "Store"]

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

_QUARANTINE_PREVIEW = 4096


class _RecentIds:
    """Bounded memory of recently seen ids: duplicates arrive close together (echoes,
    replays after a reconnect), and an unbounded set would cost ~100 B per message.
    Keys are kept as their 64-bit hashes (a false match is ~1e-9 likely in a full window),
    half the memory of the id strings."""

    __slots__ = ("_order", "_seen")

    def __init__(self, capacity: int) -> None:
        self._seen: set[Hashable] = set()
        self._order: deque[Hashable] = deque(maxlen=capacity)

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; False when it was already seen."""
        key = hash(key)
        if key in self._seen:
            return False
        if len(self._order) == self._order.maxlen:
            self._seen.discard(self._order[0])
        self._order.append(key)
        self._seen.add(key)
        return True

    def isdisjoint(self, hashes: list[int]) -> bool:
        """True when none of these hashed keys is remembered."""
        return self._seen.isdisjoint(hashes)

    def extend_new(self, hashes: list[int]) -> None:
        """:meth:`add` for many hashed keys known to be new and distinct, with the same
        result (the oldest forgotten first)."""
        order, seen = self._order, self._seen
        overflow = len(order) + len(hashes) - order.maxlen
        if overflow > 0:
            seen.difference_update(islice(order, min(overflow, len(order))))
            if overflow > len(order):  # the batch alone overflows: its head is forgotten
                hashes = hashes[overflow - len(order) :]
        seen.update(hashes)
        order.extend(hashes)


MAX_ABOVE_HOLE = 100_000  # seqs remembered past the oldest hole before it is given up


class _SequenceTracker:
    """Which server sequence numbers arrived: the contiguous high-water mark (what to ask
    the server for after a reconnect) and the holes above it (events still missing)."""

    __slots__ = ("above", "contiguous", "gaps_seen", "given_up", "highest")

    def __init__(self) -> None:
        self.contiguous: int | None = None  # every seq up to this one has arrived
        self.highest: int | None = None
        self.above: set[int] = set()  # arrived, but past a hole
        self.gaps_seen = 0
        self.given_up = 0  # seqs of holes so old the mark moved past them (still missing)

    def see(self, seq: int) -> None:
        if self.contiguous is None:  # joined mid-stream: start from the first one seen
            self.contiguous = self.highest = seq
            return
        if seq > self.highest:
            if seq > self.highest + 1:
                self.gaps_seen += 1
            self.highest = seq
        if seq == self.contiguous + 1:
            self._advance_to(seq)
        elif seq > self.contiguous:
            self.above.add(seq)
            if len(self.above) > MAX_ABOVE_HOLE:
                self._give_up_oldest_hole()

    def _give_up_oldest_hole(self) -> None:
        """A hole this far back will not be filled: move the mark past it, so that every
        later event is not remembered one by one for ever (memory grew without end)."""
        lowest = min(self.above)
        self.given_up += lowest - self.contiguous - 1
        self.above.discard(lowest)
        self._advance_to(lowest)

    def _advance_to(self, seq: int) -> None:
        """Move the contiguous mark to ``seq``, then on over what already arrived."""
        self.contiguous = seq
        while self.contiguous + 1 in self.above:
            self.contiguous += 1
            self.above.discard(self.contiguous)

    def see_all(self, seqs: list[int], steps_of_one: bool) -> None:
        """:meth:`see` for many, in order (at once for the usual unbroken run);
        ``steps_of_one``: each follows the one before (the bulk path checks it on arrays)."""
        if not seqs:
            return
        first, last = seqs[0], seqs[-1]
        unbroken = last - first == len(seqs) - 1 and steps_of_one
        if unbroken and (
            self.contiguous is None
            or (self.contiguous == self.highest and first == self.highest + 1)
        ):
            self.contiguous = self.highest = last
            return
        for seq in seqs:
            self.see(seq)

    @property
    def missing(self) -> int:
        """Sequence numbers up to the highest still absent (holes given up included)."""
        if self.contiguous is None:
            return 0
        return self.highest - self.contiguous - len(self.above) + self.given_up


def _server_seq(meta: dict | None) -> int | None:
    """The server's sequence number from an event's second argument, if it is sane."""
    server_seq = meta.get("seq") if meta is not None else None
    if type(server_seq) is not int or not 0 <= server_seq < 2**63:
        return None
    return server_seq


def _ids(record: Record) -> tuple[str | None, str | None, str | None, str | None]:
    """(chat_id, visitor_id, commercial_id, message_id) for the ``events`` table."""
    if isinstance(record, Message):
        role = record.sender_role
        return (
            record.chat_id,
            record.sender_id if role == "visitor" else None,
            record.sender_id if role == "commercial" else None,
            record.message_id,
        )
    if isinstance(record, Presence):
        if record.role == "visitor":
            return None, record.person_id, None, None
        return None, None, record.person_id, None
    if isinstance(record, ChatCreated):
        return record.chat_id, record.visitor_id, None, None
    if isinstance(record, Assignment):
        return record.chat_id, None, record.commercial_id, None
    if isinstance(record, VisitorAction):
        return record.chat_id, record.visitor_id, None, None
    if isinstance(record, ChatClosed | Typing):
        return record.chat_id, None, None, None
    return None, None, None, None


def _undecodable_reason(raw: bytes) -> str:
    try:
        error = orjson.loads(raw).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    return f"undecodable frame: {error}" if error else "undecodable frame"


_NO_IDS = (None, None, None, None)
MAX_NAME_CHARS = 200  # an event name longer than this is junk: quarantined, cut to this
# a server time (the ``serverTime`` of an event's second argument) outside 1970..9999 is junk
SERVER_MS_RANGE = _MIN_MS, _MAX_MS = (EPOCH_RANGE_S[0] * 1000.0, EPOCH_RANGE_S[1] * 1000.0)
_FROM_JSON = object()  # marks an event known only as JSON bytes (replays, rebuilds)
_CHAT_RECORDS = frozenset({Message, ChatCreated, Assignment, ChatClosed})


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _preview(raw: bytes) -> bytes:
    """The first few KB of a payload, cut on a UTF-8 character boundary."""
    return raw[:_QUARANTINE_PREVIEW].decode("utf-8", "ignore").encode()


# the record's own field that says when the server sent it, when the event has no serverTime
SERVER_TIME_FIELD: dict[type, str] = {
    Message: "sent_at",
    ChatCreated: "created_at",
    Assignment: "assigned_at",
    ChatClosed: "closed_at",
    Presence: "at",
    VisitorAction: "at",
    LatencySample: "server_time",  # a pong's serverTime
}


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
    ) -> None:
        self.dialect = get_dialect(dialect)
        self.tables: dict[str, ColumnTable] = {
            name: ColumnTable(
                name,
                row_type,
                chunk_rows=chunk_rows,
                bytes_text=("payload",) if name == "events" else (),
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
        self.last_lag_ms: float | None = None
        self.max_payload_bytes = max_payload_bytes
        for table in self.tables.values():
            table.on_bad_row = self._bad_row
        self._route: dict[type, ColumnTable | None] = {
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
        self._seq = 0
        self._action_seq = 0
        self._message_ids = _RecentIds(dedupe_window)
        self._server_seqs = _RecentIds(dedupe_window)
        self._subscribers: list[Subscriber] = []
        self._lag_window_s = lag_window_s
        self._lag_started = 0.0
        self._lag_sum = 0.0
        self._lag_max = -math.inf
        self._lag_n = 0
        self.seq_tracker = _SequenceTracker()
        self.started_at = datetime.now(UTC)
        self._events = self.tables["events"]
        self._dialect_name = self.dialect.name
        self.journal: Journal | None = None  # set by a recording session
        # events the server sent before this time came over a reconnect's resync, not live
        self.reconnected_at = -math.inf
        self.redelivered = 0  # events delivered again after a reconnect ("resync")

    # ------------------------------------------------------------------ hot path
    def ingest(self, name: str, args: tuple[Any, ...], received_ts: float | None = None) -> None:
        """Take one raw server event (name plus Socket.IO arguments). Never raises."""
        if received_ts is None:
            received_ts = time.time()
        payload = args[0] if args else None
        meta = args[1] if len(args) > 1 and type(args[1]) is dict else None
        try:
            raw, size, problem = self._encode(payload)
            if len(name) > MAX_NAME_CHARS:  # kept whole, it would sit in every count
                problem = f"event name of {len(name):,} characters > limit {MAX_NAME_CHARS}"
                name = name[:MAX_NAME_CHARS] + "…"
            if problem is None:
                self._ingest(name, raw, meta, received_ts, payload)
            else:
                self._ingest_bad(name, problem, raw, size, received_ts, _server_seq(meta))
        except Exception:  # a bug here must not stop capture; keep the event visibly
            self._internal_error(name, received_ts)

    def ingest_json(self, name: str, raw: bytes, meta: dict | None, received_ts: float) -> None:
        """Take one event whose payload is already JSON (a recording being replayed or
        rebuilt): decoded straight from the bytes, no Python dict in between."""
        try:
            reason = None
            if len(raw) > self.max_payload_bytes:
                reason = f"oversized payload: {len(raw):,} bytes > limit {self.max_payload_bytes:,}"
            elif not is_utf8(raw):  # JSON is UTF-8, but msgspec's raw reader does not check
                reason = "payload is not valid UTF-8"
            if reason is None:
                self._ingest(name, raw, meta, received_ts)
            else:
                preview = _preview(raw)
                self._ingest_bad(name, reason, preview, len(raw), received_ts, _server_seq(meta))
        except Exception:
            self._internal_error(name, received_ts)

    def ingest_bad(
        self, name: str, reason: str, preview: bytes, size: int, received_ts: float
    ) -> None:
        """Take an event already known to be unusable (a recorded quarantine)."""
        self._ingest_bad(name, reason, preview, size, received_ts)

    def skipped_by_server(self, server_seq: int, name: str, size: int) -> None:
        """The server left an event out of a resync (too big for our frame limit): it is
        accounted for, not missing, and quarantined with the reason."""
        reason = f"event seq {server_seq} ({size:,} bytes) over the frame limit: skipped on resync"
        self._ingest_bad(name, reason, b"null", size, time.time(), server_seq)

    def reconnected(self, at: float) -> None:
        """The connection was opened again at ``at`` (our clock): whatever the server sent
        before that and delivers now is re-delivered (``delivery == "resync"``), and its
        lag counts the outage, not the link. Journaled, so a rebuild decides the same."""
        self.reconnected_at = at
        if self.journal is not None:
            self.journal.write_link(at, "reconnected")

    def note_chat(self, chat_id: str, *, min_sentiment: float) -> None:
        """Something the kit derived about a chat during capture (a bot's sentiment
        score): applied to ``chats`` and journaled, so a rebuilt recording has it too."""
        self.chats.note_sentiment(chat_id, min_sentiment)
        self.journal_note(chat_id, min_sentiment=min_sentiment)

    def journal_note(self, chat_id: str, *, min_sentiment: float) -> None:
        """The journal half of :meth:`note_chat` (on the store's thread: one writer)."""
        if self.journal is not None:
            self.journal.write_note(chat_id, "min_sentiment", min_sentiment)

    def _internal_error(self, name: str, received_ts: float) -> None:
        log.exception("store failed on event %r; quarantined", name)
        self._ingest_bad(str(name), "internal error while storing", b"null", 4, received_ts)

    def _ingest(
        self,
        name: str,
        raw: bytes,
        meta: dict | None,
        received_ts: float,
        payload: Any = _FROM_JSON,
    ) -> None:
        """Decode, dedupe and route one event. Live, ``payload`` is the object
        python-socketio already parsed; from a recording there is only ``raw`` JSON."""
        self._seq = seq = self._seq + 1
        counts = self.counts
        counts[name] = counts.get(name, 0) + 1
        if self.journal is not None:
            self.journal.write_in(seq, received_ts, name, raw, meta)
        server_seq = _server_seq(meta)
        record: Record | None = None
        server_time: float | None = None
        if server_seq is not None and not self._arrived(server_seq):
            status = "duplicate"
            server_time = self._server_time(None, meta)
        else:
            try:
                if payload is _FROM_JSON:
                    record = self.dialect.decode_json(name, raw, received_ts)
                else:
                    record = self.dialect.decode(name, payload, received_ts)
            except Malformed as exc:
                status = "quarantined"
                self._quarantine(name, str(exc), raw, len(raw), received_ts)
                server_time = self._server_time(None, meta)
            else:
                server_time = self._server_time(record, meta)
                if record is not None:
                    order_t = received_ts if server_time is None else server_time
                    status = self._accept(seq, name, record, order_t, server_seq)
                elif name == UNDECODABLE:
                    status = "quarantined"
                    reason = _undecodable_reason(raw)
                    self._quarantine(name, reason, raw, len(raw), received_ts)
                else:
                    status = "unknown"
        self.status_counts[status] += 1
        lag_ms = None
        delivery = "live"
        if server_time is not None:
            lag_ms = (received_ts - server_time) * 1000.0
            if server_time < self.reconnected_at:  # sent before this connection opened
                delivery = "resync"
                self.redelivered += 1
            elif status != "duplicate":
                self._note_lag(lag_ms, received_ts)
        chat_id, visitor_id, commercial_id, message_id = (
            _ids(record) if record is not None else _NO_IDS
        )
        self._events.append(
            Event(
                seq,
                name,
                "in",
                self._dialect_name,
                received_ts,
                server_time,
                lag_ms,
                chat_id,
                visitor_id,
                commercial_id,
                message_id,
                status,
                server_seq,
                delivery,
                raw,
            )
        )

    def _ingest_bad(
        self,
        name: str,
        reason: str,
        preview: bytes,
        size: int,
        received_ts: float,
        server_seq: int | None = None,
    ) -> None:
        """Quarantine an unusable event. Its sequence number still counts as received
        (a resync must not fetch it again), and a repeat of it is a duplicate."""
        self._seq = seq = self._seq + 1
        self.counts[name] = self.counts.get(name, 0) + 1
        if self.journal is not None:
            self.journal.write_bad(seq, received_ts, name, reason, preview, size)
        status = "quarantined"
        if server_seq is not None and not self._arrived(server_seq):
            status = "duplicate"
        self.status_counts[status] += 1
        if status == "quarantined":
            self._quarantine(name, reason, preview, size, received_ts)
        self._events.append(
            Event(
                seq,
                name,
                "in",
                self._dialect_name,
                received_ts,
                None,
                None,
                None,
                None,
                None,
                None,
                status,
                server_seq,
                "live",
                preview,
            )
        )

    def _arrived(self, server_seq: int) -> bool:
        """Note a server sequence number as received (whatever becomes of its event: a
        repeated message or a quarantined one still arrived); False when seen before."""
        if not self._server_seqs.add(server_seq):
            return False
        self.seq_tracker.see(server_seq)
        return True

    @property
    def last_server_seq(self) -> int | None:
        """The highest server sequence number seen."""
        return self.seq_tracker.highest

    def _encode(self, payload: Any) -> tuple[bytes, int, str | None]:
        """(JSON, its full size, reason to quarantine or None). A refused payload is cut to
        a preview so one huge event cannot exhaust memory."""
        try:
            raw = orjson.dumps(payload)
        except TypeError as exc:
            kind = "binary attachment" if isinstance(payload, bytes | bytearray) else str(exc)
            text = repr(payload).encode("utf-8", "replace")
            return _preview(text), len(text), f"not JSON: {kind}"
        size = len(raw)
        if size > self.max_payload_bytes:
            reason = f"oversized payload: {size:,} bytes > limit {self.max_payload_bytes:,}"
            return _preview(raw), size, reason
        return raw, size, None

    def _accept(
        self, seq: int, name: str, record: Record, order_t: float, server_seq: int | None
    ) -> str:
        kind = type(record)
        if kind is Message and not self._message_ids.add(record.message_id):
            return "duplicate"
        table = self._route[kind]
        if table is not None:
            table.append(record)
        if kind in _CHAT_RECORDS:
            self.chats.apply(record, order_t, server_seq)
        elif kind is LatencySample and record.kind == "ping":
            self.ping_n += 1
            self.ping_sum_ms += record.value_ms
            self.last_ping_ms = record.value_ms
        if self._subscribers:
            public = as_record(record)
            for subscriber in self._subscribers:
                try:
                    subscriber(seq, name, public)
                except Exception:
                    log.exception("subscriber %r failed on %s", subscriber, name)
        return "ok"

    def _server_time(self, record: Record | None, meta: dict | None) -> float | None:
        if meta is not None:
            server_ms = meta.get("serverTime")
            if type(server_ms) in (int, float) and _MIN_MS <= server_ms <= _MAX_MS:
                return server_ms / 1000.0
        if record is None:
            return None
        field = SERVER_TIME_FIELD.get(type(record))
        return getattr(record, field) if field else None

    def _note_lag(self, lag_ms: float, now: float) -> None:
        if self._lag_n == 0:
            self._lag_started = now
        self._lag_n += 1
        self._lag_sum += lag_ms
        if lag_ms > self._lag_max:
            self._lag_max = lag_ms
        if now - self._lag_started >= self._lag_window_s:
            self.flush_lag()

    def flush_lag(self) -> None:
        """Close the current event-lag window into one ``latency`` row."""
        if self._lag_n:
            self.last_lag_ms = self._lag_sum / self._lag_n
            self.tables["latency"].append(
                LatencySample(
                    self._lag_started,
                    "event_lag",
                    None,
                    self.last_lag_ms,
                    self._lag_n,
                    self._lag_max,
                    None,
                )
            )
        self._lag_n, self._lag_sum, self._lag_max = 0, 0.0, -math.inf

    def _bad_row(self, table: str, row: tuple, error: Exception) -> None:
        """Last line of defence: a row Arrow cannot hold (a value that slipped past
        validation) is moved to ``quarantine`` instead of poisoning its table."""
        log.error("a %s row could not be stored (%s); quarantined", table, error)
        preview = repr(row).encode("utf-8", "replace")
        if table != "quarantine":
            self._quarantine(
                f"<{table} row>", f"unstorable row: {error}", preview, len(preview), time.time()
            )

    def _quarantine(
        self, name: str, reason: str, raw: bytes, size: int, received_ts: float
    ) -> None:
        self.tables["quarantine"].append(
            Quarantined(
                received_ts,
                str(name),
                reason,
                _preview(raw).decode("utf-8", "replace"),
                size,
            )
        )
        log.debug("quarantined %r: %s", name, reason)

    # ------------------------------------------------------------------ outgoing
    def record_out(self, name: str, payload: dict[str, Any], at: float | None = None) -> int:
        """Log an event we sent (direction ``out``); returns its sequence number."""
        return self.record_out_json(
            name, orjson.dumps(payload), payload, time.time() if at is None else at
        )

    def record_out_json(
        self, name: str, raw: bytes, payload: dict[str, Any] | None, at: float
    ) -> int:
        self._seq = seq = self._seq + 1
        self.sent += 1
        if self.journal is not None:
            self.journal.write_out(seq, at, name, raw)
        if payload is None:
            payload = orjson.loads(raw)
        self._events.append(
            Event(
                seq,
                name,
                "out",
                self._dialect_name,
                at,
                None,
                None,
                payload.get("chatId"),
                payload.get("visitorId"),
                payload.get("commercialId"),
                None,
                "ok",
                None,
                "live",
                raw,
            )
        )
        return seq

    def next_action_id(self) -> int:
        self._action_seq += 1
        return self._action_seq

    def record_action(self, action: Action) -> None:
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
        return self._seq
