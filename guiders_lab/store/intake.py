"""The per-event intake behind ``Store.ingest``: decode, dedupe, route, log.

The capture hot path: a handful of microseconds per event, and it never raises for what
a server sends. Functions over the store (inside ``store/``): the store is the facade,
this is the work it hands out, next to :mod:`.batch` (the bulk twin).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from ..dialects import Malformed
from ..events.records import (
    UNDECODABLE,
    Assignment,
    ChatClosed,
    ChatCreated,
    LatencySample,
    Message,
    RawRecord,
    as_record,
)
from .ids import (
    NO_IDS,
    SERVER_MS_RANGE,
    SERVER_TIME_FIELD,
    WALL_CLOCK_RECORDS,
    assignment_key,
    event_ids,
)
from .quarantine import preview, quarantined, undecodable_reason

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "FROM_JSON",
    "accept",
    "arrived",
    "encode",
    "internal_error",
    "quarantine",
    "server_seq_of",
    "server_time_of",
    "take",
    "take_bad",
]

log = logging.getLogger("guiders_lab.store.store")  # one logger for the store's messages

FROM_JSON = object()  # marks an event known only as JSON bytes (replays, rebuilds)
_FROM_JSON = FROM_JSON
_CHAT_RECORDS = frozenset({Message, ChatCreated, Assignment, ChatClosed})
_MIN_MS, _MAX_MS = SERVER_MS_RANGE


def server_seq_of(meta: dict[str, Any] | None) -> int | None:
    """The server's sequence number from an event's second argument, if it is sane."""
    server_seq = meta.get("seq") if meta is not None else None
    if type(server_seq) is not int or not 0 <= server_seq < 2**63:
        return None
    return server_seq


_server_seq = server_seq_of


def internal_error(store: Store, name: str, received_ts: float) -> None:
    log.exception("store failed on event %r; quarantined", name)
    take_bad(store, str(name), "internal error while storing", b"null", 4, received_ts)


def take(
    store: Store,
    name: str,
    raw: bytes,
    meta: dict[str, Any] | None,
    received_ts: float,
    payload: Any = _FROM_JSON,
) -> None:
    """Decode, dedupe and route one event. Live, ``payload`` is the object
    python-socketio already parsed; from a recording there is only ``raw`` JSON."""
    seq = store.log.next()
    counts = store.counts
    counts[name] = counts.get(name, 0) + 1
    if store.journal is not None:
        store.journal.write_in(seq, received_ts, name, raw, meta)
    server_seq = _server_seq(meta)
    record: RawRecord | None = None
    server_time: float | None = None
    if server_seq is not None and not arrived(store, server_seq):
        status = "duplicate"
        server_time = server_time_of(None, meta)
    else:
        try:
            if payload is _FROM_JSON:
                record = store.dialect.decode_json(name, raw, received_ts)
            else:
                record = store.dialect.decode(name, payload, received_ts)
        except Malformed as exc:
            status = "quarantined"
            quarantine(store, name, str(exc), raw, len(raw), received_ts)
            server_time = server_time_of(None, meta)
        else:
            server_time = server_time_of(record, meta)
            if record is not None:
                order_t = received_ts if server_time is None else server_time
                status = accept(store, seq, name, record, order_t, server_seq)
            elif name == UNDECODABLE:
                status = "quarantined"
                quarantine(store, name, undecodable_reason(raw), raw, len(raw), received_ts)
            elif name in store.dialect.understood:
                status = "ok"  # validated; it has no table of its own
            else:
                status = "unknown"
    store.status_counts[status] += 1
    lag_ms = None
    delivery = "live"
    sent_at = server_time
    if store.simulated_clock and type(record) not in WALL_CLOCK_RECORDS:
        sent_at = server_time_of(None, meta)  # a simulated time says nothing of the link
    if name in store.dialect.history:
        delivery = "backfill"  # read back over a history API, not pushed: no lag
    elif sent_at is not None:
        lag_ms = (received_ts - sent_at) * 1000.0
        if sent_at < store.reconnected_at:  # sent before this connection opened
            delivery = "resync"
            store.redelivered += 1
        elif status != "duplicate":
            note_lag(store, lag_ms, received_ts)
    ids = event_ids(record) if record is not None else NO_IDS
    store.log.incoming(
        seq, name, received_ts, server_time, lag_ms, ids, status, server_seq, delivery, raw
    )


def take_bad(
    store: Store,
    name: str,
    reason: str,
    preview: bytes,
    size: int,
    received_ts: float,
    server_seq: int | None = None,
) -> None:
    """Quarantine an unusable event. Its sequence number still counts as received
    (a resync must not fetch it again), and a repeat of it is a duplicate."""
    seq = store.log.next()
    store.counts[name] = store.counts.get(name, 0) + 1
    if store.journal is not None:
        store.journal.write_bad(seq, received_ts, name, reason, preview, size)
    status = "quarantined"
    if server_seq is not None and not arrived(store, server_seq):
        status = "duplicate"
    store.status_counts[status] += 1
    if status == "quarantined":
        quarantine(store, name, reason, preview, size, received_ts)
    store.log.incoming(
        seq, name, received_ts, None, None, NO_IDS, status, server_seq, "live", preview
    )


def arrived(store: Store, server_seq: int) -> bool:
    """Note a server sequence number as received (whatever becomes of its event: a
    repeated message or a quarantined one still arrived); False when seen before."""
    if not store.server_seqs.add(server_seq):
        return False
    store.seq_tracker.see(server_seq)
    return True


def encode(payload: Any, max_bytes: int) -> tuple[bytes, int, str | None]:
    """(JSON, its full size, reason to quarantine or None). A refused payload is cut to
    a preview so one huge event cannot exhaust memory."""
    try:
        raw = orjson.dumps(payload)
    except TypeError as exc:
        kind = "binary attachment" if isinstance(payload, bytes | bytearray) else str(exc)
        text = repr(payload).encode("utf-8", "replace")
        return preview(text), len(text), f"not JSON: {kind}"
    size = len(raw)
    if size > max_bytes:
        reason = f"oversized payload: {size:,} bytes > limit {max_bytes:,}"
        return preview(raw), size, reason
    return raw, size, None


def accept(
    store: Store, seq: int, name: str, record: RawRecord, order_t: float, server_seq: int | None
) -> str:
    """Keep a decoded record: dedupe messages by id, route it, fold it into ``chats``,
    hand it to subscribers. (The record's type is taken once and compared; asserts under
    ``TYPE_CHECKING`` tell a type checker what each comparison says: see :mod:`.ids`.)"""
    kind = type(record)
    if kind is Message:
        if TYPE_CHECKING:
            assert record.__class__ is Message
        if not store.message_ids.add(record.message_id):
            return "duplicate"
    elif kind is Assignment:
        if TYPE_CHECKING:
            assert record.__class__ is Assignment
        key = assignment_key(record)
        if key is not None and not store.assignment_ids.add(key):
            return "duplicate"
    table = store.routes[kind]
    if table is not None:
        table.append(record)
    if kind in _CHAT_RECORDS:
        if TYPE_CHECKING:
            assert (
                record.__class__ is Message
                or record.__class__ is ChatCreated
                or record.__class__ is Assignment
                or record.__class__ is ChatClosed
            )
        store.chats.apply(record, order_t, server_seq)
    elif kind is LatencySample:
        if TYPE_CHECKING:
            assert record.__class__ is LatencySample
        if record.kind == "ping":
            store.note_ping(record)
    if store._subscribers:
        public = as_record(record)
        for subscriber in store._subscribers:
            try:
                subscriber(seq, name, public)
            except Exception:
                log.exception("subscriber %r failed on %s", subscriber, name)
    return "ok"


def server_time_of(record: RawRecord | None, meta: dict[str, Any] | None) -> float | None:
    """The server's time for an event: its ``serverTime`` when sane, else the record's
    own timestamp (see :data:`.ids.SERVER_TIME_FIELD`)."""
    if meta is not None:
        server_ms: Any = meta.get("serverTime")  # JSON: any value, checked here
        if type(server_ms) in (int, float) and _MIN_MS <= server_ms <= _MAX_MS:
            return float(server_ms) / 1000.0
    if record is None:
        return None
    field = SERVER_TIME_FIELD.get(type(record))
    return getattr(record, field) if field else None


def note_lag(store: Store, lag_ms: float, now: float) -> None:
    row = store.lag.note(lag_ms, now)
    if row is not None:
        store.tables["latency"].append(row)


def quarantine(
    store: Store, name: str, reason: str, raw: bytes, size: int, received_ts: float
) -> None:
    store.tables["quarantine"].append(quarantined(name, reason, raw, size, received_ts))
    log.debug("quarantined %r: %s", name, reason)
