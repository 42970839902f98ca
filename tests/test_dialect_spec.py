"""One statement of a record (a RecordSpec) gives both decoders: the per-event one compiled
from it and the columnar one interpreting it read the same payloads into the same rows.
Here on a record and wire shape made up for the test, so a new field, a new record or a
new dialect gets both decoders from its spec alone (the ai-api ones are held equal on
real and hostile journals in test_batch_equivalence.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, NamedTuple

import msgspec
import orjson
import pyarrow as pa
import pytest

from guiders_lab.dialects import BatchRefused
from guiders_lab.dialects.columns import columnar_decoder, decode_with, read_schema
from guiders_lab.dialects.rows import compile_row
from guiders_lab.dialects.spec import (
    AnyOf,
    Const,
    Equals,
    FirstOf,
    InSet,
    Joined,
    Received,
    RecordSpec,
    Time,
)
from guiders_lab.events.records import Time as T
from guiders_lab.events.schema import arrow_schema, rows_to_batch


class Author(msgspec.Struct, rename="camel", frozen=True):
    id: str
    nick: str | None = None


class Extra(msgspec.Struct, rename="camel", frozen=True):
    score: float | None = None
    labels: list[str] | None = None


class NoteIn(msgspec.Struct, rename="camel", frozen=True):
    note_id: str
    author: Author
    written_at: datetime | int | float | None = None
    kind: str = "plain"
    alias: str | None = None
    extra: Extra | None = None


class Note(NamedTuple, Generic[T]):
    note_id: str
    author_id: str
    who: str | None
    written_at: T | None
    received_at: T
    kind: str
    score: float | None
    labels: str | None
    loud: bool
    source: str


SPEC = RecordSpec(
    NoteIn,
    Note,
    {
        "note_id": "note_id",
        "author_id": "author.id",
        "who": FirstOf(("alias", "author.nick")),
        "written_at": Time("written_at"),
        "received_at": Received(),
        "kind": "kind",
        "score": "extra.score",
        "labels": Joined("extra.labels", "|"),
        "loud": AnyOf((Equals("kind", "shout"), InSet("author.nick", frozenset({"BOSS"})))),
        "source": Const("test"),
    },
)

PAYLOADS = [
    {"noteId": "n1", "author": {"id": "a1"}},
    {"noteId": "n2", "author": {"id": "a2", "nick": "BOSS"}, "kind": "shout", "alias": ""},
    {
        "noteId": "n3",
        "author": {"id": "a3", "nick": "zoe"},
        "alias": "Z",
        "writtenAt": "2025-01-15T10:00:00.250Z",
        "extra": {"score": 0.5, "labels": ["x", "y"]},
    },
    {"noteId": "n4", "author": {"id": "a4"}, "extra": {"labels": []}},
]


def test_both_decoders_of_one_spec_read_the_same_rows() -> None:
    build = compile_row(SPEC)
    rows = [build(msgspec.convert(p, NoteIn), 1_736_935_200.0 + i) for i, p in enumerate(PAYLOADS)]
    expected = pa.Table.from_batches([rows_to_batch(rows, arrow_schema(Note))])
    received = expected.column("received_at").combine_chunks()
    _, table = decode_with(columnar_decoder(SPEC), [orjson.dumps(p) for p in PAYLOADS], received)
    assert table.equals(expected), (table.to_pylist(), expected.to_pylist())
    assert rows[1].who == "BOSS" and rows[1].loud and rows[2].labels == "x|y"


def test_the_read_schema_follows_the_wire_shape() -> None:
    schema = read_schema(NoteIn)
    assert schema.names == ["noteId", "author", "writtenAt", "kind", "alias", "extra"]
    assert schema.field("extra").type == pa.struct(
        [pa.field("score", pa.float64()), pa.field("labels", pa.list_(pa.string()))]
    )


def test_what_the_row_decoder_refuses_the_columnar_one_refuses() -> None:
    decoder = columnar_decoder(SPEC)
    received = pa.array([0], pa.timestamp("us", tz="UTC"))
    for bad in (
        {"author": {"id": "a"}},  # a required field missing
        {"noteId": "n", "author": {}},  # ... inside a nested Struct
        {"noteId": "n", "author": {"id": "a"}, "kind": None},  # a defaulted field null
        {"noteId": 5, "author": {"id": "a"}},  # a wrong type
    ):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, NoteIn)
        with pytest.raises(BatchRefused):
            decode_with(decoder, [orjson.dumps(bad)], received)


def test_a_spec_must_name_every_record_field() -> None:
    with pytest.raises(TypeError, match="missing \\['source'\\]"):
        RecordSpec(NoteIn, Note, {k: v for k, v in SPEC.fields.items() if k != "source"})
