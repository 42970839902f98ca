"""Columnar decoding of the busiest ``ai-api`` events, for bulk paths (rebuilds, replays).

The per-event decoder (msgspec Structs, :mod:`.ai_api`) is the reference. Here the payloads
of many events of one name go through Arrow's JSON reader at once, straight into the
record's Arrow columns, with no Python object per field. That is only worth anything if
the result is *identical* to decoding event by event, so this module accepts a batch only
when it can show the reference would have accepted every payload and read it the same
way. Otherwise it raises :class:`BatchRefused` and the caller decodes that batch event by
event, where a bad payload is quarantined with its reason as usual.

How the two are kept equal:

* the Arrow read schema lists every field of the wire Struct with the same type, so a
  wrong type anywhere (a number for a string, ``0`` for a bool, an object for a string)
  fails the read, as it fails msgspec; so do duplicate keys, non-objects, bad escapes;
* a required field that is missing or null shows as a null and refuses the batch;
* a defaulted, non-optional field (``type``, default ``"user"``) is filled only when the
  batch has no explicit ``null`` for it (msgspec refuses ``"type": null``);
* timestamps must be RFC 3339 strings of the exact shape both parsers read alike (``T``,
  at most 6 fractional digits, ``Z`` or ``+hh:mm``), inside 1970..9999; numbers (which
  the reference tolerates as epoch times) refuse the batch.

tests/test_batch_equivalence.py checks all of this against the per-event path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..events.records import ChatClosed, ChatCreated, Message, Presence, VisitorAction
from ..events.roles import AI_ROLES
from ..store.arrow import arrow_schema
from .base import EPOCH_RANGE_S

__all__ = ["BatchRefused", "ColumnarDecoder", "decode_columns"]


class BatchRefused(Exception):
    """This batch cannot be proven equal to per-event decoding; decode it event by event."""


S = pa.string()
F = pa.float64()
INT = pa.int64()  # out of int64's range fails the read, as msgspec refuses it
B = pa.bool_()
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_MAX_US = int(EPOCH_RANGE_S[1] * 1_000_000)
_AI_ROLES = pa.array(sorted(AI_ROLES))
_BLOCK_BYTES = 1 << 22
_ESCAPED_KEY_NULL = re.compile(rb'"[^"]*\\u[^"]*"\s*:\s*null')


def _struct(**fields: pa.DataType) -> pa.StructType:
    return pa.struct([pa.field(name, kind) for name, kind in fields.items()])


# Read schemas: every field of the wire Structs in events/ai_api.py, camelCase as on the wire.
_MESSAGE = pa.schema(
    {
        "chatId": S,
        "messageId": S,
        "content": S,
        "sender": _struct(id=S, name=S, role=S),
        "timestamp": S,
        "type": S,
        "metadata": _struct(
            department=S,
            urgency=S,
            source=S,
            aiModel=S,
            confidence=F,
            processingTime=F,
            isAutomated=B,
        ),
    }
)
_CHAT_CREATED = pa.schema(
    {
        "chatId": S,
        "visitorId": S,
        "visitor": _struct(id=S, name=S),
        "department": S,
        "status": S,
        "createdAt": S,
        "metadata": _struct(source=S, urgency=S, language=S),
    }
)
_CHAT_CLOSED = pa.schema(
    {
        "chatId": S,
        "closedAt": S,
        "closedBy": S,
        "reason": S,
        "metadata": _struct(converted=B, rating=F),
    }
)
_VISITOR_ONLINE = pa.schema(
    {
        "visitorId": S,
        "name": S,
        "page": S,
        "timestamp": S,
        "metadata": _struct(source=S, returning=B),
    }
)
_COMMERCIAL_STATUS = pa.schema(
    {
        "commercialId": S,
        "status": S,
        "name": S,
        "activeChats": INT,
        "maxChats": INT,
        "specialties": pa.list_(S),
        "timestamp": S,
    }
)
_VISITOR_ACTION = pa.schema(
    {
        "visitorId": S,
        "action": S,
        "chatId": S,
        "page": S,
        "value": F,
        "timestamp": S,
    }
)


def _read(blob: pa.Buffer, schema: pa.Schema, rows: int) -> pa.Table:
    try:
        table = pj.read_json(
            pa.BufferReader(blob),  # native: reading it needs no GIL
            # on the calling thread: bulk loads decode several batches at once already
            read_options=pj.ReadOptions(block_size=max(_BLOCK_BYTES, len(blob)), use_threads=False),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise BatchRefused(f"Arrow could not read the batch: {exc}") from None
    if table.num_rows != rows:  # e.g. an empty payload, which Arrow skips as a blank line
        raise BatchRefused(f"{table.num_rows} rows read for {rows} payloads")
    return table.combine_chunks()


def _blob(payloads: pa.BinaryArray) -> pa.Buffer:
    """The payloads back to back, as one buffer for Arrow's JSON reader (which reads
    concatenated objects as rows; the row count is checked after reading), without a
    copy. Every payload must be a JSON object, checked first: besides being what the
    reference insists on, pyarrow's JSON reader (26.0) crashes the process on a bare
    ``null`` given a schema."""
    if not len(payloads) or payloads.null_count:
        raise BatchRefused("a missing payload")
    offsets = np.frombuffer(payloads.buffers()[1], dtype=np.int32)
    offsets = offsets[payloads.offset : payloads.offset + len(payloads) + 1]
    starts, first = offsets[:-1], int(offsets[0])
    if np.any(offsets[1:] == starts):
        raise BatchRefused("an empty payload")
    blob = payloads.buffers()[2][first : int(offsets[-1])]
    if not np.all(np.frombuffer(blob, dtype=np.uint8)[starts - first] == ord("{")):
        raise BatchRefused("a payload that is not a JSON object")
    return blob


def _required(*columns: pa.Array) -> None:
    for column in columns:
        if column.null_count:
            raise BatchRefused(f"a required field is missing or null ({column.null_count})")


def _time(column: pa.Array) -> pa.Array:
    """ISO 8601 strings as UTC microseconds, the way the reference reads them."""
    if column.null_count == len(column):
        return pa.nulls(len(column), _TIMESTAMP)
    if not pc.all(pc.match_substring_regex(column, _RFC3339)).as_py():
        raise BatchRefused("a timestamp is not in the shape both parsers read alike")
    try:
        micros = column.cast(_TIMESTAMP).cast(pa.int64())
    except pa.ArrowException as exc:
        raise BatchRefused(f"bad timestamp: {exc}") from None
    low, high = pc.min_max(micros).values()
    if low.as_py() < 0 or high.as_py() > _MAX_US:
        raise BatchRefused("a timestamp is out of range (1970..9999)")
    return micros.cast(_TIMESTAMP)


def _no_explicit_null(blob: pa.Buffer, key: str, column: pa.Array) -> None:
    """``"key": null`` is refused by the reference but reads as "missing" in Arrow. The
    key may be spelled with ``\\u`` escapes: any escaped key set to null refuses too."""
    if column.null_count:
        text = memoryview(blob)
        if re.search(rb'"%s"\s*:\s*null' % key.encode(), text) or _ESCAPED_KEY_NULL.search(text):
            raise BatchRefused(f'an explicit "{key}": null')


def _columns(table: pa.Table) -> dict[str, pa.Array]:
    return {name: table.column(name).chunk(0) for name in table.column_names}


def _fields(struct_column: pa.Array) -> dict[str, pa.Array]:
    """Children of a struct column, null wherever the struct itself is null."""
    return {
        field.name: child
        for field, child in zip(struct_column.type, struct_column.flatten(), strict=True)
    }


def _message(t: pa.Table, received: pa.Array, blob: pa.Buffer) -> pa.Table:
    c = _columns(t)
    sender = c["sender"]
    _required(c["chatId"], c["messageId"], c["content"], sender)
    who = _fields(sender)
    _required(who["id"])
    kind = c["type"]
    _no_explicit_null(blob, "type", kind)
    kind = kind.fill_null("user")
    meta = _fields(c["metadata"])
    is_ai = pc.or_(pc.equal(kind, "ai-response"), pc.is_in(who["role"], value_set=_AI_ROLES))
    return _table(
        Message,
        c["messageId"],
        c["chatId"],
        _time(c["timestamp"]),
        received,
        who["id"],
        who["role"],
        who["name"],
        kind,
        c["content"],
        meta["department"],
        meta["urgency"],
        meta["source"],
        is_ai,
        meta["aiModel"],
        meta["confidence"],
        meta["processingTime"],
    )


def _chat_created(t: pa.Table, received: pa.Array, blob: pa.Buffer) -> pa.Table:
    c = _columns(t)
    _required(c["chatId"])
    visitor = _fields(c["visitor"])
    meta = _fields(c["metadata"])
    own = c["visitorId"]  # ``visitor_id or visitor.id``: an empty string falls through too
    visitor_id = pc.if_else(pc.fill_null(pc.not_equal(own, ""), False), own, visitor["id"])
    return _table(
        ChatCreated,
        c["chatId"],
        visitor_id,
        visitor["name"],
        c["department"],
        c["status"],
        _time(c["createdAt"]),
        received,
        meta["source"],
        meta["urgency"],
        meta["language"],
    )


def _chat_closed(t: pa.Table, received: pa.Array, blob: pa.Buffer) -> pa.Table:
    c = _columns(t)
    _required(c["chatId"])
    meta = _fields(c["metadata"])
    return _table(
        ChatClosed,
        c["chatId"],
        _time(c["closedAt"]),
        received,
        c["closedBy"],
        c["reason"],
        meta["converted"],
        meta["rating"],
    )


def _visitor_online(t: pa.Table, received: pa.Array, blob: pa.Buffer) -> pa.Table:
    c = _columns(t)
    _required(c["visitorId"])
    meta = _fields(c["metadata"])
    n = t.num_rows
    return _table(
        Presence,
        _time(c["timestamp"]),
        received,
        pa.repeat("visitor", n),
        c["visitorId"],
        c["name"],
        pa.repeat("online", n),
        c["page"],
        meta["source"],
        meta["returning"],
        pa.nulls(n, pa.int64()),
        pa.nulls(n, pa.int64()),
        pa.nulls(n, S),
    )


def _commercial_status(t: pa.Table, received: pa.Array, blob: pa.Buffer) -> pa.Table:
    c = _columns(t)
    _required(c["commercialId"], c["status"])
    specialties = c["specialties"]
    if pc.list_flatten(specialties).null_count:
        raise BatchRefused("a null specialty")
    n = t.num_rows
    return _table(
        Presence,
        _time(c["timestamp"]),
        received,
        pa.repeat("commercial", n),
        c["commercialId"],
        c["name"],
        c["status"],
        pa.nulls(n, S),
        pa.nulls(n, S),
        pa.nulls(n, B),
        c["activeChats"],
        c["maxChats"],
        pc.binary_join(specialties, ","),  # [] -> "", as ",".join
    )


def _visitor_action(t: pa.Table, received: pa.Array, blob: pa.Buffer) -> pa.Table:
    c = _columns(t)
    _required(c["visitorId"], c["action"])
    return _table(
        VisitorAction,
        c["visitorId"],
        c["chatId"],
        c["action"],
        c["page"],
        c["value"],
        _time(c["timestamp"]),
        received,
    )


def _no_negative_zero(column: pa.Array) -> None:
    """JSON ``-0`` is the integer 0 to the reference (0.0 in a float field) but -0.0 to
    Arrow; a ``-0.0`` reads alike, but here the two cannot be told apart."""
    if column.null_count < len(column):
        values = column.to_numpy(zero_copy_only=False)
        if np.any(np.signbit(values) & (values == 0)):
            raise BatchRefused("a negative zero")


def _table(record_type: type, *columns: pa.Array) -> pa.Table:
    schema = arrow_schema(record_type)
    for column in columns:
        if pa.types.is_floating(column.type):
            _no_negative_zero(column)
    arrays = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


class ColumnarDecoder(NamedTuple):
    record_type: type
    read_schema: pa.Schema
    build: Callable[[pa.Table, pa.Array, pa.Buffer], pa.Table]


DECODERS: dict[str, ColumnarDecoder] = {
    "message:new": ColumnarDecoder(Message, _MESSAGE, _message),
    "chat:created": ColumnarDecoder(ChatCreated, _CHAT_CREATED, _chat_created),
    "chat:closed": ColumnarDecoder(ChatClosed, _CHAT_CLOSED, _chat_closed),
    "visitor:online": ColumnarDecoder(Presence, _VISITOR_ONLINE, _visitor_online),
    "commercial:status": ColumnarDecoder(Presence, _COMMERCIAL_STATUS, _commercial_status),
    "visitor:action": ColumnarDecoder(VisitorAction, _VISITOR_ACTION, _visitor_action),
}


def decode_columns(
    name: str, payloads: pa.BinaryArray | Sequence[bytes], received: pa.Array
) -> tuple[type, pa.Table] | None:
    """(record type, record table) for the JSON ``payloads`` of events called ``name``
    (a binary array, or a list of bytes), received at ``received`` (timestamps); ``None``
    when this name has no columnar decoder. Raises :class:`BatchRefused` (see the module
    docstring)."""
    decoder = DECODERS.get(name)
    if decoder is None:
        return None
    if not isinstance(payloads, pa.Array):
        payloads = pa.array(payloads, pa.binary())
    elif payloads.type != pa.binary():  # _blob reads 32-bit offsets
        payloads = payloads.cast(pa.binary())
    blob = _blob(payloads)
    table = _read(blob, decoder.read_schema, len(payloads))
    return decoder.record_type, decoder.build(table, received, blob)
