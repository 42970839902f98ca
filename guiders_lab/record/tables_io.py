"""Canonical tables as Parquet files, with the manifest in the schema metadata."""

from __future__ import annotations

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


def _arrow(store: Store, name: str) -> pa.Table:
    return store.chats.to_arrow() if name == "chats" else store.tables[name].to_arrow()


def write_tables(
    store: Store, directory: Path, manifest: Manifest, *, redact_pii: bool = False
) -> dict[str, int]:
    """Write every table to ``<directory>/<table>.parquet``; returns rows per table.

    ``redact_pii=True`` masks e-mails, phones and card numbers in every text column on the
    way to disk (see :mod:`guiders_lab.privacy`); the store itself is left as it is."""
    rows = {}
    meta = {MANIFEST_KEY: manifest.to_json().encode()}
    for name in TABLE_NAMES:
        table = _arrow(store, name)
        if redact_pii:
            table = redact_table(table)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        path = Path(directory) / f"{name}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp, compression="zstd", row_group_size=256_000)
        tmp.replace(path)
        rows[name] = table.num_rows
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
