"""Decoding for the bulk path (:mod:`.batch`): many journal events known only as JSON,
decoded column by column into a :class:`DecodedBatch` without touching any store (on any
thread, ahead of time). ``batch.commit`` then checks it against the store and takes it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..dialects import BatchRefused, Dialect, Malformed
from ..events.records import (
    UNDECODABLE,
    Assignment,
    LatencySample,
    Message,
    RawRecord,
    time_fields,
)
from .arrow import arrow_schema, rows_to_batch
from .chats import VIEWS, ChatView
from .ids import SERVER_MS_RANGE, SERVER_TIME_FIELD, WALL_CLOCK_RECORDS, event_id_columns

__all__ = ["DecodedBatch", "decode_batch"]

_TIMESTAMP = pa.timestamp("us", tz="UTC")
_STATUS = pa.array(["unknown", "ok"])
_MODULUS = sys.hash_info.modulus  # a non-negative int below it hashes to itself


def _timestamps(seconds: np.ndarray) -> pa.Array[Any]:
    """Epoch seconds (NaN for none) as timestamps, rounded as raw rows are (store.arrow)."""
    values = pa.array(seconds, type=pa.float64(), from_pandas=True)
    micros = pc.cast(pc.round(pc.multiply(values, 1_000_000.0)), pa.int64())
    return micros.cast(_TIMESTAMP)


def _seconds(column: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray:
    """A timestamp column as epoch seconds, NaN where null (exactly ``micros / 1e6``)."""
    micros = pc.cast(column, pa.int64())
    return pc.divide(micros, 1_000_000.0).to_numpy(zero_copy_only=False)


class _Group:
    """The events of one name in a batch, decoded into one record table."""

    __slots__ = ("idx", "name", "records", "table", "type")

    def __init__(
        self,
        name: str,
        idx: np.ndarray,
        record_type: type[RawRecord] | None,
        table: pa.Table | None,
        records: list[RawRecord] | None,
    ) -> None:
        self.name = name
        self.idx = idx
        self.type = record_type  # None: an event name the dialect does not know
        self.table = table
        self.records = records  # raw rows, when decoded event by event


def _decode(
    dialect: Dialect,
    names: pa.StringArray,
    ts: list[float],
    payloads: list[bytes],
    payload_column: pa.Array[Any],
    received: pa.Array[Any],
) -> list[_Group]:
    """The events grouped by name (in order of first appearance), each decoded (a
    group's payloads are taken from ``payload_column`` in C: no Python list or join)."""
    codes = names.dictionary_encode()
    indices = codes.indices.to_numpy()
    groups = []
    for code, name in enumerate(codes.dictionary.to_pylist()):
        assert name is not None  # event names are never null
        idx = np.flatnonzero(indices == code)
        if name == UNDECODABLE:
            raise BatchRefused("an undecodable frame is quarantined event by event")
        decoded = dialect.decode_columns(name, payload_column.take(idx), received.take(idx))
        if decoded is not None:
            groups.append(_Group(name, idx, decoded[0], decoded[1], None))
            continue
        try:  # a rare event: the reference decoder, one by one
            decoded_rows = [dialect.decode_json(name, bytes(payloads[i]), ts[i]) for i in idx]
        except Malformed as exc:
            raise BatchRefused(f"{name}: {exc}") from None
        if decoded_rows[0] is None:
            groups.append(_Group(name, idx, None, None, None))
            continue
        # the dialect knows an event name or not: one None means all, one record means none
        records = cast("list[RawRecord]", decoded_rows)
        record_type = type(records[0])
        try:
            batch = rows_to_batch(records, arrow_schema(record_type))
        except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
            raise BatchRefused(f"{name}: a row Arrow cannot hold ({exc})") from None
        groups.append(_Group(name, idx, record_type, pa.Table.from_batches([batch]), records))
    return groups


def _record_time(group: _Group) -> np.ndarray:
    """The record's own server time, epoch seconds, NaN where none (``store._server_time``)."""
    kind, table = group.type, group.table
    field = None if kind is None else SERVER_TIME_FIELD.get(kind)
    if field is None:
        return np.full(len(group.idx), np.nan)
    if group.records is not None:  # raw floats, exactly as the per-event path has them
        values = [getattr(r, field) for r in group.records]
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    assert table is not None  # a known record type: decoded into a table
    return _seconds(table.column(field))


def _views(
    group: _Group, now: np.ndarray, order_t: np.ndarray, seqs: pa.Array[Any]
) -> list[ChatView]:
    """Records as the chats ledger reads them (times as epoch seconds), each with its
    order key: the event's server time (``order_t``) and server sequence number."""
    kind, table = group.type, group.table
    assert kind is not None and table is not None  # a chat record type: decoded into a table
    view_type = VIEWS[kind]
    # built from the view's fields in order (a type checker cannot count a star-argument)
    view: Callable[..., ChatView] = view_type
    if group.records is not None:
        fields = view_type.__struct_fields__[:-2]
        keys = zip(order_t[group.idx].tolist(), seqs.take(group.idx).to_pylist(), strict=True)
        return [
            view(*(getattr(r, f) for f in fields), t, seq)
            for r, (t, seq) in zip(group.records, keys, strict=True)
        ]
    times = set(time_fields(kind))
    columns = []
    for field in view_type.__struct_fields__:
        if field == "received_at":  # the journal's floats, not the rounded column
            columns.append(now[group.idx].tolist())
        elif field == "t":
            columns.append(order_t[group.idx].tolist())
        elif field == "seq":
            columns.append(seqs.take(group.idx).to_pylist())
        elif field in times:
            micros = pc.cast(table.column(field), pa.int64())
            columns.append(pc.divide(micros, 1_000_000.0).to_pylist())
        else:
            columns.append(table.column(field).to_pylist())
    return list(map(view, *columns))


def _payloads(payloads: Sequence[bytes], lengths: np.ndarray) -> pa.Array[Any]:
    """The raw JSON payloads as one binary column, without a bytes object per event."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = b"".join(payloads)
    # numpy's stubs give arrays the buffer protocol (``__buffer__``) from Python 3.12 only
    offsets_buffer = pa.py_buffer(offsets)  # type: ignore[arg-type]
    return pa.Array.from_buffers(
        pa.binary(), len(lengths), [None, offsets_buffer, pa.py_buffer(data)]
    )


@dataclass(slots=True, init=False, eq=False, repr=False)  # the fields are set one by one
class DecodedBatch:
    """A run of incoming events decoded into columns, everything that does not depend on
    the store worked out (it may be prepared on another thread, ahead of time)."""

    n: int
    now: np.ndarray  # receive times, epoch seconds
    longest: int  # bytes of the longest payload
    seqs: Sequence[int]  # server sequence numbers, in order
    seqs_step_by_one: bool
    seq_hashes: Sequence[int]
    counts: dict[str, int]  # events per name
    message_hashes: list[int]
    assignment_hashes: list[int]  # of :func:`.ids.assignment_key`, where there is a time
    known: np.ndarray  # per event: a record type the dialect knows
    has_lag: np.ndarray  # per event: a server time, so a lag
    lag: np.ndarray  # ms
    server_time: np.ndarray  # epoch seconds, NaN where none
    wall_time: np.ndarray  # server_time where it is the wall clock on a simulator too, else NaN
    events: list[pa.Array[Any]]  # the ``events`` columns but ``seq`` and ``delivery``
    pings: list[tuple[int, LatencySample[float]]]  # (batch position, row)
    parts: dict[type[RawRecord], list[tuple[np.ndarray, pa.Table]]]  # (positions, rows)
    ledger: list[ChatView]


def decode_batch(
    dialect: Dialect,
    names: Sequence[str],
    ts: list[float],  # lists, as the journal reader has them: indexed by numpy integers
    payloads: list[bytes],  # JSON text (msgspec.Raw from the reader)
    seqs: Sequence[int | None],
    server_ms: Sequence[float | None],
) -> DecodedBatch:
    """Decode many ``in`` events known only as JSON (what ``store.ingest_json`` takes, in
    order): their names, receive times, payloads, and server ``seq``/``serverTime``
    (already checked to be numbers). Pure: touches no store. Raises :class:`BatchRefused`
    when the batch must go event by event instead."""
    n = len(names)
    if not n or not hasattr(dialect, "decode_columns"):
        raise BatchRefused("nothing to decode in bulk")
    if dialect.history and not dialect.history.isdisjoint(names):
        raise BatchRefused("history reads (delivery 'backfill') go event by event")
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=n)
    if lengths.min() == 0:
        raise BatchRefused("an empty payload is quarantined event by event")
    if lengths.sum() >= 2**31:
        raise BatchRefused("over 2 GiB of payloads in one batch")
    now = np.array(ts, dtype=np.float64)
    received = _timestamps(now)
    b = DecodedBatch()
    b.n, b.now, b.longest = n, now, int(lengths.max())

    # server sequence numbers: a repeat inside the batch is a duplicate (the store checks
    # the ones it remembers when the batch is ingested)
    b.seqs = [s for s in seqs if s is not None] if None in seqs else cast("Sequence[int]", seqs)
    seq_column = pa.array(seqs, pa.int64())
    present = seq_column.drop_null().to_numpy()
    b.seqs_step_by_one = len(present) < 2 or bool(np.all(np.diff(present) == 1))
    if b.seqs_step_by_one and (not len(present) or 0 <= present[0] <= present[-1] < _MODULUS):
        b.seq_hashes = b.seqs  # distinct, and such an int is its own hash
    else:
        b.seq_hashes = list(map(hash, b.seqs))
        if len(set(b.seq_hashes)) != len(b.seq_hashes):
            raise BatchRefused("a repeated server sequence number")

    name_column = pa.array(names, pa.string())
    payload_column = _payloads(payloads, lengths)
    try:  # JSON is UTF-8, but neither msgspec's raw reader nor Arrow's JSON reader checks
        payload_text = payload_column.cast(pa.string())
    except pa.ArrowInvalid:
        raise BatchRefused("a payload that is not valid UTF-8") from None
    groups = _decode(dialect, name_column, ts, payloads, payload_column, received)
    b.counts = {g.name: len(g.idx) for g in groups}  # as Counter(names): first seen first
    b.message_hashes = []
    b.assignment_hashes = []
    for group in groups:
        if group.type is Message:
            assert group.table is not None  # a known record type: decoded into a table
            b.message_hashes += map(hash, group.table.column("message_id").to_pylist())
        elif group.type is Assignment:
            assert group.table is not None
            timed = group.table.filter(pc.is_valid(group.table.column("assigned_at")))
            b.assignment_hashes += map(
                hash,
                zip(
                    timed.column("chat_id").to_pylist(),
                    timed.column("commercial_id").to_pylist(),
                    pc.cast(timed.column("assigned_at"), pa.int64()).to_pylist(),
                    strict=True,
                ),
            )  # as .ids.assignment_key has it, one by one
    if len(set(b.message_hashes)) != len(b.message_hashes):
        raise BatchRefused("a repeated message id")
    if len(set(b.assignment_hashes)) != len(b.assignment_hashes):
        raise BatchRefused("a repeated assignment")

    # the events table, column by column, in event order (``seq`` is added on ingest)
    order = np.concatenate([g.idx for g in groups])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    ids = [
        pa.concat_arrays(parts)
        for parts in zip(
            *(event_id_columns(g.type, g.table, len(g.idx)) for g in groups), strict=True
        )
    ]
    ids = [column.take(inverse) for column in ids]
    b.known = np.concatenate([np.full(len(g.idx), g.type is not None) for g in groups])[inverse]
    record_time = np.concatenate([_record_time(g) for g in groups])[inverse]
    try:
        meta_ms = pa.array(server_ms, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, OverflowError):  # an integer too big for a double, exactly
        meta_ms = np.array([np.nan if v is None else v for v in server_ms], dtype=np.float64)
    valid_meta = (meta_ms >= SERVER_MS_RANGE[0]) & (meta_ms <= SERVER_MS_RANGE[1])
    server_time = np.where(valid_meta, meta_ms / 1000.0, record_time)
    lag = (now - server_time) * 1000.0
    b.has_lag = ~np.isnan(server_time)
    b.lag = lag
    b.server_time = server_time
    wall = np.concatenate([np.full(len(g.idx), g.type in WALL_CLOCK_RECORDS) for g in groups])
    b.wall_time = np.where(valid_meta | wall[inverse], server_time, np.nan)
    b.events = [
        name_column,
        pa.repeat("in", n),
        pa.repeat(dialect.name, n),
        received,
        _timestamps(server_time),
        pa.array(lag, type=pa.float64(), from_pandas=True),
        *ids,
        _STATUS.take(b.known.astype(np.int8)),
        seq_column,
        payload_text,  # the store puts ``delivery`` before it
    ]

    # pings, stored tables, and the chats ledger's view of chat events (in any order:
    # the ledger's result does not depend on it)
    order_t = np.where(b.has_lag, server_time, now)  # the ledger's order key, as live
    b.pings = []
    b.parts = {}
    views: list[ChatView] = []
    for group in groups:
        if group.type is LatencySample:  # pongs: decoded one by one (a group's own type)
            pongs = cast("list[LatencySample[float]]", group.records)
            b.pings.extend(zip(group.idx.tolist(), pongs, strict=True))
        elif group.type is not None:
            assert group.table is not None  # a known record type: decoded into a table
            b.parts.setdefault(group.type, []).append((group.idx, group.table))
            if group.type in VIEWS:
                views += _views(group, now, order_t, seq_column)
    b.ledger = views
    return b
