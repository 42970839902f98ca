"""Saving runs (Parquet, with variants and scorer directions in the metadata) and loading
them back, so this week's run compares against last week's."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["load_results", "save_results"]

_KEY = b"guiders_lab.lab"


def save_results(results: pd.DataFrame, path: str | Path) -> Path:
    """Write a results table to Parquet, keeping its ``attrs`` (variants, scorers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(results, preserve_index=False)
    meta = {**(table.schema.metadata or {}), _KEY: json.dumps(results.attrs).encode()}
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
    return path


def load_results(path: str | Path) -> pd.DataFrame:
    """Read a saved run; ``concat`` it with a new one to compare across weeks."""
    table = pq.read_table(path)
    frame = table.to_pandas()
    raw = (table.schema.metadata or {}).get(_KEY)
    frame.attrs = json.loads(raw) if raw else {}
    return frame
