"""Arrow -> pandas with one set of dtypes everywhere.

Live capture, loaded recordings and replays all go through :func:`to_frame`, so the same
column always has the same dtype: timestamps ``datetime64[us, UTC]``, text ``str``
(Arrow-backed), nullable integers ``Int64``, nullable booleans ``boolean``, floats
``float64`` with NaN for missing. The schemas themselves derive from the records
(:mod:`guiders_lab.events.schema`).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from ..events.schema import arrow_schema, rows_to_batch

__all__ = ["arrow_schema", "empty_frame", "rows_to_batch", "to_frame"]

_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow table -> pandas with the kit's dtypes (see module docstring)."""
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get, self_destruct=False)


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    return to_frame(schema.empty_table())
