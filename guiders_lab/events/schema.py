"""Record types -> Arrow schemas: one definition, the records' type hints.

Every table's Arrow schema, and every Arrow column a bulk decoder builds, derives from the
record classes in :mod:`.records`: add a field there and the schema follows.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_schema", "rows_to_batch"]

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(hint: Any) -> tuple[pa.DataType, bool]:
    """Map ``X`` or ``X | None`` to (arrow type, nullable). A record's time type variable
    is a timestamp; JSON text (``str | bytes``) is a string."""
    nullable = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(args) != len(typing.get_args(hint))
        if set(args) == {str, bytes}:
            return pa.string(), nullable
        if len(args) != 1:
            raise TypeError(f"unsupported union {hint!r}")
        hint = args[0]
    if isinstance(hint, TypeVar):  # ``Time``: epoch floats in raw rows, shown as datetimes
        hint = datetime
    try:
        return _SCALARS[hint], nullable
    except KeyError:
        raise TypeError(f"no Arrow type for {hint!r}") from None


def _arrow_schema(row_type: type[NamedTuple]) -> pa.Schema:
    """The Arrow schema of a record type, from its type hints."""
    hints = typing.get_type_hints(row_type)
    fields = []
    for name in row_type._fields:
        arrow_type, nullable = _arrow_type(hints[name])
        fields.append(pa.field(name, arrow_type, nullable=nullable))
    return pa.schema(fields)


# Cached per class. Named with its own type: mypy does not take a class held in a variable
# (``type[Message[float]]``) for the ``Hashable`` the cache's wrapper types its arguments as.
arrow_schema: Callable[[type[NamedTuple]], pa.Schema] = cache(_arrow_schema)


def _column(values: tuple[object, ...], field: pa.Field[pa.DataType]) -> pa.Array[Any]:
    if pa.types.is_timestamp(field.type):
        # raw rows carry epoch seconds; one vectorised conversion beats a datetime per cell
        seconds = pa.array(values, type=pa.float64())
        micros = pc.cast(pc.round(pc.multiply(seconds, 1_000_000.0)), pa.int64())
        return micros.cast(field.type)
    if pa.types.is_binary(field.type):
        joined = _joined(values)
        if joined is not None:
            return joined
    # text columns also accept UTF-8 bytes (e.g. JSON payloads straight from orjson)
    return pa.array(values, type=field.type)


def _joined(values: tuple[object, ...]) -> pa.Array[Any] | None:
    """Byte strings as one binary column, from one join and their lengths: ``pa.array``
    grows its buffer as it goes and costs 0.3-20 µs per kilobyte cell with the page
    faults that brings (JSON payloads), this ~0.05. None when a value is no byte string
    (a null) or the column would pass 2 GiB."""
    try:
        data = b"".join(values)  # type: ignore[arg-type]  # a TypeError for anything else
    except TypeError:
        return None
    if len(data) >= 2**31:
        return None
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, values), np.int64, len(values)), out=offsets[1:])  # type: ignore[arg-type]
    # numpy's stubs give arrays the buffer protocol (``__buffer__``) from Python 3.12 only
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]  # type: ignore[arg-type]
    return pa.Array.from_buffers(pa.binary(), len(values), buffers)


def rows_to_batch(rows: Sequence[tuple[object, ...]], schema: pa.Schema) -> pa.RecordBatch:
    """Transpose raw rows into one Arrow record batch (the cheap way: ``zip(*rows)``)."""
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=schema)
    # column by column with itemgetter: ``zip(*rows)`` holds an iterator per row while
    # it runs (the cyclic collector promotes thousands of them when it runs meanwhile),
    # and zipping the schema's own iterator (a Cython generator) left them, and the
    # rows, in a reference cycle until a full collection
    fields = list(schema)
    width = len(fields)
    if any(len(row) != width for row in rows):
        raise ValueError(f"a row whose length is not the table's {width} columns")
    arrays = [_column(tuple(map(itemgetter(i), rows)), f) for i, f in enumerate(fields)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
