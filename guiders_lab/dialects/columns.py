"""Columnar decoding for bulk paths (rebuilds, replays), derived from a dialect's specs.

The per-event decoder (:mod:`.rows`, from the same :class:`~.spec.RecordSpec`) is the
reference. Here the payloads of many events of one name go through Arrow's JSON reader at
once, straight into the record's Arrow columns, with no Python object per field. That is
only worth anything if the result is *identical* to decoding event by event, so a batch
is accepted only when it can be shown the reference would have accepted every payload and
read it the same way. Otherwise :class:`~.base.BatchRefused` is raised and the caller
decodes that batch event by event, where a bad payload is quarantined with its reason.

How the two are kept equal:

* the Arrow read schema is derived from the wire Struct itself (every field, its type,
  nested Structs, lists), so a wrong type anywhere (a number for a string, ``0`` for a
  bool, an object for a string) fails the read, as it fails msgspec; so do duplicate
  keys, non-objects, bad escapes;
* a required field (no default in the Struct) missing or null refuses the batch;
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
from functools import cache
from typing import Any, NamedTuple

import msgspec
import msgspec.inspect as mi
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..events.records import RawRecord
from ..events.schema import arrow_schema
from .base import EPOCH_RANGE_S, BatchRefused
from .spec import (
    AnyOf,
    Const,
    Equals,
    FirstOf,
    InSet,
    Joined,
    Lower,
    Received,
    RecordSpec,
    Source,
    Time,
)

__all__ = ["ColumnarDecoder", "columnar_decoder", "read_schema"]

S = pa.string()
F = pa.float64()
INT = pa.int64()  # out of int64's range fails the read, as msgspec refuses it
B = pa.bool_()
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_MAX_US = int(EPOCH_RANGE_S[1] * 1_000_000)
_BLOCK_BYTES = 1 << 22
_ESCAPED_KEY_NULL = re.compile(rb'"[^"]*\\u[^"]*"\s*:\s*null')


def _read(blob: pa.Buffer, schema: pa.Schema, rows: int) -> pa.Table:
    try:
        table = pj.read_json(
            # native: reading it needs no GIL (pyarrow-stubs type the argument as a path or
            # a Python file only, though read_json takes any NativeFile)
            pa.BufferReader(blob),  # type: ignore[arg-type]
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


def _blob(payloads: pa.Array[Any]) -> pa.Buffer:
    """The payloads back to back, as one buffer for Arrow's JSON reader (which reads
    concatenated objects as rows; the row count is checked after reading), without a
    copy. Every payload must be a JSON object, checked first: besides being what the
    reference insists on, pyarrow's JSON reader (26.0) crashes the process on a bare
    ``null`` given a schema."""
    if not len(payloads) or payloads.null_count:
        raise BatchRefused("a missing payload")
    buffers = payloads.buffers()  # validity, offsets, data: a binary array has the last two
    offsets_buffer, data = buffers[1], buffers[2]
    assert offsets_buffer is not None and data is not None
    # np.frombuffer takes any buffer; numpy's stubs for Python 3.11 name only a few types
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)  # type: ignore[call-overload]
    offsets = offsets[payloads.offset : payloads.offset + len(payloads) + 1]
    starts, first = offsets[:-1], int(offsets[0])
    if np.any(offsets[1:] == starts):
        raise BatchRefused("an empty payload")
    blob = data[first : int(offsets[-1])]
    if not np.all(np.frombuffer(blob, dtype=np.uint8)[starts - first] == ord("{")):  # type: ignore[call-overload]
        raise BatchRefused("a payload that is not a JSON object")
    return blob


def _required(*columns: pa.Array[Any]) -> None:
    for column in columns:
        if column.null_count:
            raise BatchRefused(f"a required field is missing or null ({column.null_count})")


def _time(column: pa.Array[Any]) -> pa.Array[Any]:
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


def _no_explicit_null(blob: pa.Buffer, key: str, column: pa.Array[Any]) -> None:
    """``"key": null`` is refused by the reference but reads as "missing" in Arrow. The
    key may be spelled with ``\\u`` escapes: any escaped key set to null refuses too."""
    if column.null_count:
        text = memoryview(blob)
        if re.search(rb'"%s"\s*:\s*null' % key.encode(), text) or _ESCAPED_KEY_NULL.search(text):
            raise BatchRefused(f'an explicit "{key}": null')


def _columns(table: pa.Table) -> dict[str, pa.Array[Any]]:
    # pyarrow-stubs type a chunk as a ChunkedArray; it is an Array
    return {name: table.column(name).chunk(0) for name in table.column_names}  # type: ignore[misc]


def _fields(struct_column: pa.Array[Any]) -> dict[str, pa.Array[Any]]:
    """Children of a struct column, null wherever the struct itself is null."""
    assert isinstance(struct_column, pa.StructArray)  # a dotted path's every step but the last
    return {
        field.name: child
        for field, child in zip(struct_column.type, struct_column.flatten(), strict=True)
    }


def _no_negative_zero(column: pa.Array[Any]) -> None:
    """JSON ``-0`` is the integer 0 to the reference (0.0 in a float field) but -0.0 to
    Arrow; a ``-0.0`` reads alike, but here the two cannot be told apart."""
    if column.null_count < len(column):
        values = column.to_numpy(zero_copy_only=False)
        if np.any(np.signbit(values) & (values == 0)):
            raise BatchRefused("a negative zero")


def _table(record_type: type[RawRecord], *columns: pa.Array[Any]) -> pa.Table:
    schema = arrow_schema(record_type)
    for column in columns:
        if pa.types.is_floating(column.type):
            _no_negative_zero(column)
    arrays = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _arrow_of(kind: mi.Type) -> pa.DataType:
    """The Arrow type that reads exactly what msgspec accepts for a wire field."""
    if isinstance(kind, mi.UnionType):
        inner = [t for t in kind.types if not isinstance(t, mi.NoneType)]
        if any(isinstance(t, mi.DateTimeType) for t in inner):
            return S  # a timestamp: read as text, parsed by _time (numbers refuse)
        if len(inner) != 1:
            raise TypeError(f"no columnar form for {kind}")
        kind = inner[0]
    if isinstance(kind, mi.StrType):
        return S
    if isinstance(kind, mi.IntType):
        return INT
    if isinstance(kind, mi.FloatType):
        return F
    if isinstance(kind, mi.BoolType):
        return B
    if isinstance(kind, mi.DateTimeType):
        return S
    if isinstance(kind, mi.ListType):
        return pa.list_(_arrow_of(kind.item_type))
    if isinstance(kind, mi.StructType):
        return pa.struct([pa.field(f.encode_name, _arrow_of(f.type)) for f in kind.fields])
    raise TypeError(f"no columnar form for {kind}")


def read_schema(wire: type[msgspec.Struct]) -> pa.Schema:
    """Arrow's read schema for a wire Struct: every field, camelCase as on the wire."""
    info = _info(wire)
    return pa.schema([pa.field(f.encode_name, _arrow_of(f.type)) for f in info.fields])


@cache
def _info(wire: type[msgspec.Struct]) -> mi.StructType:
    """msgspec's description of a wire Struct (built once: it is not cheap)."""
    info = mi.type_info(wire)
    assert isinstance(info, mi.StructType)  # a Struct class's description
    return info


def _optional(kind: mi.Type) -> bool:
    return isinstance(kind, mi.UnionType) and any(isinstance(t, mi.NoneType) for t in kind.types)


class _Batch:
    """One batch's columns, resolved by wire path (defaults applied, checks made)."""

    def __init__(self, wire: type[msgspec.Struct], table: pa.Table, blob: pa.Buffer) -> None:
        self.wire, self.blob, self.n = wire, blob, table.num_rows
        self.top = _columns(table)
        self.cache: dict[str, pa.Array[Any]] = {}

    def path(self, dotted: str) -> pa.Array[Any]:
        if dotted in self.cache:
            return self.cache[dotted]
        steps = dotted.split(".")
        owner: Any = _info(self.wire)
        column: pa.Array[Any] | None = None
        for step in steps:
            field = next(f for f in owner.fields if f.name == step)
            column = (
                self.top[field.encode_name]
                if column is None
                else _fields(column)[field.encode_name]
            )
            kind = field.type
            if isinstance(kind, mi.UnionType):
                structs = [t for t in kind.types if isinstance(t, mi.StructType)]
                owner = structs[0] if structs else None
            else:
                owner = kind if isinstance(kind, mi.StructType) else None
        assert column is not None
        self.cache[dotted] = column
        return column

    def check(self) -> None:
        """Required fields present (in every present parent), defaults filled."""
        self._check(_info(self.wire), "", None)

    def _check(self, owner: Any, prefix: str, parent: pa.Array[Any] | None) -> None:
        for field in owner.fields:
            dotted = prefix + field.name
            column = self.path(dotted)
            if field.required:
                missing = (
                    column.null_count
                    if parent is None
                    # pyarrow-stubs: sum takes numbers only; of booleans it counts the trues
                    else pc.sum(pc.and_(pc.is_valid(parent), pc.is_null(column))).as_py()  # type: ignore[type-var]
                )
                if missing:
                    raise BatchRefused(f"a required field is missing or null ({dotted})")
            elif field.default is not None and not _optional(field.type):
                _no_explicit_null(self.blob, field.encode_name, column)
                self.cache[dotted] = column.fill_null(field.default)
            kind = field.type
            structs = (
                [t for t in kind.types if isinstance(t, mi.StructType)]
                if isinstance(kind, mi.UnionType)
                else ([kind] if isinstance(kind, mi.StructType) else [])
            )
            if structs:
                self._check(structs[0], dotted + ".", self.cache[dotted])


def _test(batch: _Batch, t: Equals | InSet) -> pa.Array[Any]:
    column = batch.path(t.path)
    if isinstance(t, Equals):
        result = pc.equal(column, t.value)
    else:
        result = pc.is_in(column, value_set=pa.array(sorted(t.values)))
    # ``None == x`` is False in Python too (pyarrow-stubs: a fill value may be a scalar)
    return pc.fill_null(result, False)  # type: ignore[arg-type]


def _source(
    batch: _Batch, src: Source, received: pa.Array[Any], kind: pa.DataType
) -> pa.Array[Any]:
    if isinstance(src, str):
        return batch.path(src)
    if isinstance(src, Time):
        return _time(batch.path(src.path))
    if isinstance(src, Received):
        return received
    if isinstance(src, Const):
        # pyarrow-stubs type these per concrete data type, none for a DataType as such
        if src.value is None:
            return pa.nulls(batch.n, kind)  # type: ignore[call-overload, no-any-return]
        return pa.repeat(pa.scalar(src.value, kind), batch.n)  # type: ignore[call-overload, no-any-return]
    if isinstance(src, FirstOf):  # ``a or b``: an empty string falls through too
        first, *rest = (batch.path(p) for p in src.paths)
        out = first
        for other in rest:  # (pyarrow-stubs want a Scalar where Arrow takes a Python value)
            out = pc.if_else(pc.fill_null(pc.not_equal(out, ""), False), out, other)  # type: ignore[call-overload]
        return out
    if isinstance(src, Joined):
        values = batch.path(src.path)
        if pc.list_flatten(values).null_count:
            raise BatchRefused(f"a null item in {src.path}")
        # [] -> "", as "".join (pyarrow-stubs: of an array, binary_join gives an array)
        return pc.binary_join(values, src.sep)  # type: ignore[return-value]
    if isinstance(src, Lower):
        return pc.utf8_lower(batch.path(src.path))
    if isinstance(src, AnyOf):
        tests = [_test(batch, t) for t in src.tests]
        out = tests[0]
        for t in tests[1:]:
            out = pc.or_(out, t)
        return out
    raise TypeError(f"no columnar form for {src!r}")


class ColumnarDecoder(NamedTuple):
    record_type: type[RawRecord]
    read_schema: pa.Schema
    build: Callable[[pa.Table, pa.Array[Any], pa.Buffer], pa.Table]


def columnar_decoder(spec: RecordSpec) -> ColumnarDecoder:
    """The bulk twin of :func:`.rows.compile_row` for the same spec (TypeError when a
    source has no columnar form: that event is then decoded event by event)."""
    schema = read_schema(spec.wire)
    record_schema = arrow_schema(spec.record)

    def build(table: pa.Table, received: pa.Array[Any], blob: pa.Buffer) -> pa.Table:
        batch = _Batch(spec.wire, table, blob)
        batch.check()
        columns = [_source(batch, spec.fields[f.name], received, f.type) for f in record_schema]
        return _table(spec.record, *columns)

    return ColumnarDecoder(spec.record, schema, build)


def decode_with(
    decoder: ColumnarDecoder, payloads: pa.Array[Any] | Sequence[bytes], received: pa.Array[Any]
) -> tuple[type[RawRecord], pa.Table]:
    """(record type, record table) for the JSON ``payloads`` of one event name, received
    at ``received`` (timestamps). Raises :class:`BatchRefused` (see the module docstring)."""
    if not isinstance(payloads, pa.Array):
        payloads = pa.array(payloads, pa.binary())
    elif payloads.type != pa.binary():  # _blob reads 32-bit offsets
        payloads = payloads.cast(pa.binary())
    blob = _blob(payloads)
    table = _read(blob, decoder.read_schema, len(payloads))
    return decoder.record_type, decoder.build(table, received, blob)
