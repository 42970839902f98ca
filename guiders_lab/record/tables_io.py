"""Canonical tables as Parquet files, with the manifest in the schema metadata."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..privacy import redact_table
from ..store import Store
from .manifest import Manifest

__all__ = ["MANIFEST_KEY", "TABLE_NAMES", "read_table", "write_tables"]

MANIFEST_KEY = b"guiders_lab.manifest"
TABLE_NAMES = (
    "events",
    "messages",
    "chats",
    "assignments",
    "presence",
    "visitor_actions",
    "typing_events",
    "errors",
    "latency",
    "actions",
    "quarantine",
)


_ROW_GROUP_ROWS = 256_000
_ROW_GROUP_BYTES = 64 << 20  # a row group of 1 KB events is written at this size, not 250 MB


def _pieces(store: Store, name: str) -> tuple[pa.Schema, Iterator[pa.Table]]:
    """A table's schema and its rows in pieces of about a row group: a table larger than
    memory (spilled while recording) is read one chunk at a time."""
    if name == "chats":
        table = store.chats.to_arrow()
        return table.schema, iter([table])
    stored = store.tables[name]
    return stored.schema, _grouped(stored.batches())


def _grouped(chunks: Iterator[pa.Table]) -> Iterator[pa.Table]:
    group: list[pa.Table] = []
    rows = size = 0
    for chunk in chunks:
        group.append(chunk)
        rows, size = rows + chunk.num_rows, size + chunk.nbytes
        if rows >= _ROW_GROUP_ROWS or size >= _ROW_GROUP_BYTES:
            yield pa.concat_tables(group)
            group, rows, size = [], 0, 0
    if group:
        yield pa.concat_tables(group)


def write_tables(
    store: Store, directory: Path, manifest: Manifest, *, redact_pii: bool = False
) -> dict[str, int]:
    """Write every table to ``<directory>/<table>.parquet``; returns rows per table.

    ``redact_pii=True`` masks e-mails, phones and card numbers in every text column on the
    way to disk (see :mod:`guiders_lab.privacy`); the store itself is left as it is."""
    rows = {}
    meta = {MANIFEST_KEY: manifest.to_json().encode()}
    for name in TABLE_NAMES:
        schema, pieces = _pieces(store, name)
        schema = schema.with_metadata({**(schema.metadata or {}), **meta})
        path = Path(directory) / f"{name}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        rows[name] = 0
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for piece in pieces:
                if redact_pii:
                    piece = redact_table(piece)
                writer.write_table(piece.cast(schema), row_group_size=max(piece.num_rows, 1))
                rows[name] += piece.num_rows
        tmp.replace(path)
    return rows


# columns added after schema version 1, and what an older file's rows hold in them (each
# column its own Arrow type, hence ``Scalar[Any]``)
ADDED_COLUMNS: dict[str, pa.Scalar[Any]] = {
    "delivery": pa.scalar("live"),  # events: nothing was told apart before
    "server_time": pa.scalar(None, pa.timestamp("us", tz="UTC")),  # latency
}


def read_table(path: Path, schema: pa.Schema) -> pa.Table:
    """Read one table file's ``schema`` columns and check their types (columns added
    since an older kit wrote it get their documented defaults)."""
    file = pq.ParquetFile(path)
    present = set(file.schema_arrow.names)
    # only the columns asked for: a reader wanting a few of them skips the rest on disk
    table = file.read(columns=[n for n in schema.names if n in present])
    for name, value in ADDED_COLUMNS.items():
        if name in schema.names and name not in table.column_names:
            # pyarrow-stubs: an overload per scalar type, none for a scalar of any type
            column = pa.repeat(value, table.num_rows)  # type: ignore[call-overload]
            table = table.append_column(name, column)
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"missing columns {missing}")
    table = table.select(schema.names)
    if not table.schema.equals(schema, check_metadata=False):
        table = table.cast(schema)
    return table
