"""Per-event decoders compiled from a :class:`~.spec.RecordSpec`.

Live capture decodes one event at a time, a few microseconds each, so the spec is turned
into one plain Python function per event kind (source generated once, at import, the way
``dataclasses`` and ``namedtuple`` build their methods): attribute reads straight off the
validated wire Struct, a ``None`` check only where a step of a path is optional, and the
record built in its field order. The result is exactly what a hand-written builder gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi
import orjson

from ..events.records import RawRecord
from .base import to_epoch
from .spec import (
    AnyOf,
    Const,
    Equals,
    FirstOf,
    InSet,
    Joined,
    Json,
    Lower,
    Received,
    RecordSpec,
    Time,
)

__all__ = ["RowBuilder", "compile_row"]

# (the validated wire Struct, received_at) -> raw record; Any: each event kind has its
# own Struct class, and builders of every kind sit in one table
RowBuilder = Callable[[Any, float], RawRecord]


def _join(value: list[str] | None, sep: str) -> str | None:
    return None if value is None else sep.join(value)


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _json(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, msgspec.Struct):  # a nested shape kept whole, in wire names
        return msgspec.json.encode(value).decode()
    return orjson.dumps(value).decode()


def _struct_of(kind: mi.Type) -> tuple[type[msgspec.Struct] | None, bool]:
    """(the Struct class a field holds, whether it may be None)."""
    if isinstance(kind, mi.UnionType):
        optional = any(isinstance(t, mi.NoneType) for t in kind.types)
        structs = [t for t in kind.types if isinstance(t, mi.StructType)]
        return (structs[0].cls if structs else None), optional
    if isinstance(kind, mi.StructType):
        return kind.cls, False
    return None, False


def _access(owner: type[msgspec.Struct], steps: list[str], base: str, dotted: str) -> str:
    step, rest = steps[0], steps[1:]
    info = mi.type_info(owner)
    assert isinstance(info, mi.StructType)  # a Struct class's description
    fields = {f.name: f for f in info.fields}
    if step not in fields:
        raise TypeError(f"{owner.__name__} has no field {step!r} ({dotted})")
    expr = f"{base}.{step}"
    if not rest:
        return expr
    inner, optional = _struct_of(fields[step].type)
    if inner is None:
        raise TypeError(f"{dotted}: {step} is not a Struct")
    tail = _access(inner, rest, expr, dotted)
    return f"(None if {expr} is None else {tail})" if optional else tail


class _Compiler:
    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        self.names: dict[str, Any] = {
            "_to_epoch": to_epoch,
            "_join": _join,
            "_json": _json,
            "_lower": _lower,
            "_record": spec.record,
        }

    def _bind(self, value: Any) -> str:
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def path(self, dotted: str) -> str:
        """``w.a.b`` with a ``None`` check before each optional step."""
        return _access(self.spec.wire, dotted.split("."), "w", dotted)

    def test(self, t: Equals | InSet) -> str:
        if isinstance(t, Equals):
            return f"({self.path(t.path)} == {self._bind(t.value)})"
        return f"({self.path(t.path)} in {self._bind(frozenset(t.values))})"

    def source(self, src: Any) -> str:
        if isinstance(src, str):
            return self.path(src)
        if isinstance(src, Time):
            return f"_to_epoch({self.path(src.path)})"
        if isinstance(src, Received):
            return "received_at"
        if isinstance(src, Const):
            return self._bind(src.value)
        if isinstance(src, FirstOf):
            return "(" + " or ".join(self.path(p) for p in src.paths) + ")"
        if isinstance(src, Joined):
            return f"_join({self.path(src.path)}, {self._bind(src.sep)})"
        if isinstance(src, Lower):
            return f"_lower({self.path(src.path)})"
        if isinstance(src, Json):
            return f"_json({self.path(src.path)})"
        if isinstance(src, AnyOf):
            return "(" + " or ".join(self.test(t) for t in src.tests) + ")"
        raise TypeError(f"unknown source {src!r}")

    def build(self) -> RowBuilder:
        record = self.spec.record
        args = ",\n        ".join(self.source(self.spec.fields[f]) for f in record._fields)
        code = f"def build(w, received_at):\n    return _record(\n        {args},\n    )\n"
        namespace = dict(self.names)
        exec(compile(code, f"<decoder {record.__name__}>", "exec"), namespace)
        build: RowBuilder = namespace["build"]
        build.__doc__ = f"{self.spec.wire.__name__} -> {record.__name__} (compiled)\n\n{code}"
        return build


def compile_row(spec: RecordSpec) -> RowBuilder:
    """The function ``(wire Struct, received_at) -> raw record`` that ``spec`` describes."""
    return _Compiler(spec).build()
