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
from typing import Any, NamedTuple, TypeVar

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
    # text columns also accept UTF-8 bytes (e.g. JSON payloads straight from orjson)
    return pa.array(values, type=field.type)


def rows_to_batch(rows: Sequence[tuple[object, ...]], schema: pa.Schema) -> pa.RecordBatch:
    """Transpose raw rows into one Arrow record batch (the cheap way: ``zip(*rows)``)."""
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=schema)
    arrays = [
        _column(values, field)
        for values, field in zip(zip(*rows, strict=True), schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
