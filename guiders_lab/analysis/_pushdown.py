"""Summaries handed down to the Parquet files a Dask frame was read from.

``outcome_summary(chat_outcomes(ds.chats))`` on a Dask dataset needs, per partition, only
a few counts and sums per group. Computing them in pandas means reading every chat of
the partition into a DataFrame first (~3/4 of the time); DuckDB computes the same sums
straight from the partition's files, with the same SQL as the DuckDB engine
(:mod:`.outcomes_sql`). So the dataset tells this module where its chats frame comes
from, ``chat_outcomes`` passes that on to the outcomes it builds, and
``outcome_summary`` asks for it. Any other frame (a filtered one, one built by hand)
goes the pandas way, partition by partition, with the same numbers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..store import to_frame

if TYPE_CHECKING:
    import duckdb

__all__ = ["ParquetChats", "offer", "source_of", "summed_at_source"]


@dataclass(frozen=True)
class ParquetChats:
    """How a Dask ``chats`` frame's partitions are read: each as a DuckDB relation (the
    same rows and columns, ``session`` included) or, when DuckDB cannot read its files
    that way (an older kit's, lacking a column), as pandas with the given columns. The
    functions go to the workers: module-level functions, so that they pickle."""

    partitions: list[Any]
    relation: Callable[[Any], duckdb.DuckDBPyRelation]
    frame: Callable[[Any, list[str]], pd.DataFrame]


# Dask frames' names (their expression's token) -> where their chats come from; bounded:
# a name is only a shortcut, a forgotten one just takes the pandas way
_SOURCES: OrderedDict[str, ParquetChats] = OrderedDict()
_KEEP = 256


def offer(frame: Any, source: ParquetChats) -> None:
    """Note that ``frame`` (a Dask DataFrame) holds the chats ``source`` reads, or
    outcomes computed from them."""
    _SOURCES[frame._name] = source
    _SOURCES.move_to_end(frame._name)
    while len(_SOURCES) > _KEEP:
        _SOURCES.popitem(last=False)


def source_of(frame: Any) -> ParquetChats | None:
    return _SOURCES.get(getattr(frame, "_name", None) or "")


def summed_at_source(
    partition: Any,
    source: ParquetChats,
    by: str | list[str] | None,
    like: pd.DataFrame,
    pandas_way: Callable[[pd.DataFrame], pd.DataFrame],
    chat_columns: list[str],
) -> pd.DataFrame:
    """One partition's partial sums, as ``like`` (the pandas way's own, empty): by
    DuckDB from its files, or ``pandas_way`` over its chats (``chat_columns`` of
    them) when DuckDB cannot. (Not ``columns``: Dask's ``from_map`` reads that as a
    projection.)"""
    from .outcomes_sql import chat_outcomes_sql, partial_sums_sql

    try:
        import duckdb
    except ImportError:
        return pandas_way(source.frame(partition, chat_columns))
    try:
        table = partial_sums_sql(chat_outcomes_sql(source.relation(partition)), by).to_arrow_table()
    except duckdb.Error:
        return pandas_way(source.frame(partition, chat_columns))
    frame = to_frame(table)
    n_keys = like.index.nlevels
    groups = frame.iloc[:, :n_keys].set_axis(list(like.index.names), axis=1)
    groups = groups.astype(like.index.to_frame().dtypes.to_dict())
    sums = frame.iloc[:, n_keys:].astype(like.dtypes.to_dict())[like.columns]
    return sums.set_axis(
        pd.MultiIndex.from_frame(groups) if n_keys > 1 else pd.Index(groups.iloc[:, 0]), axis=0
    )
