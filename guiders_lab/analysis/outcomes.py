"""Chat outcomes: how fast chats were picked up and answered, and how they ended.

Pure functions: DataFrame in, new DataFrame out, inputs never mutated. Written with column
arithmetic and ``groupby().agg`` only, so the same calls run on a Dask DataFrame; a DuckDB
relation goes to the same computation written in SQL (:mod:`.outcomes_sql`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from . import _pushdown
from ._frames import Frame
from ._outcome_names import OUTCOMES as _OUTCOMES
from ._outcome_names import TIMINGS as _TIMINGS
from .outcomes_sql import chat_outcomes_sql, outcome_summary_sql

if TYPE_CHECKING:
    import duckdb

__all__ = ["OUTCOME_COLUMNS", "by_department", "by_hour", "chat_outcomes", "outcome_summary"]

OUTCOME_COLUMNS = (
    "chat_id",
    "department",
    "commercial_id",
    "created_at",
    "hour",
    "close_reason",
    "closed",
    "resolved",
    "abandoned",
    "timed_out",
    "converted",
    "escalated",
    "n_messages",
    "time_to_assign_s",
    "time_to_first_response_s",
    "time_to_first_human_s",
    "time_to_first_ai_s",
    "duration_s",
)


def _seconds(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """``(later - earlier).dt.total_seconds()``, the same numbers (ticks / ticks per
    second; NaN where either is missing) without its intermediate timedelta Series: a
    third of the time on a partition of 260k chats."""
    unit = later.dt.unit
    tick = f"datetime64[{unit}]"
    after, before = later.to_numpy(dtype=tick), earlier.to_numpy(dtype=tick)
    seconds = (after.view("i8") - before.view("i8")) / _TICKS_PER_SECOND[unit]
    seconds[np.isnat(after) | np.isnat(before)] = np.nan
    return pd.Series(seconds, index=later.index, copy=False)


_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _is_dask(frame: object) -> bool:
    """A Dask DataFrame? (without importing dask)"""
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(frame, dd.DataFrame)


def _is_relation(frame: object) -> bool:
    """A DuckDB relation? (without importing duckdb: if it was never imported, no)"""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(frame, duckdb.DuckDBPyRelation)


@overload
def chat_outcomes(chats: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation: ...
@overload
def chat_outcomes(chats: Frame) -> Frame: ...
def chat_outcomes(chats: Any) -> Any:
    """One row per chat with its outcome and its timings in seconds (NaN when it never
    happened). ``chats`` is the kit's ``chats`` table (live, loaded or from a dataset; a
    dataset's ``session`` column is kept).

    Every timing is measured from the chat's creation, by the server's timestamps:
    ``time_to_assign_s`` to its first assignment; ``time_to_first_response_s`` to the first
    commercial or AI message at or after the visitor's first message (``..._human_s`` and
    ``..._ai_s`` for each kind); ``duration_s`` to its close. ``closed`` says whether the
    chat ended; ``resolved``, ``abandoned`` and ``timed_out`` are its close reason (a
    chat still open is none of them); ``converted`` and ``escalated`` as the chats table
    says. The README's "Metrics" section is the glossary.

    >>> chats = gl.load("data/sample-session").chats        # doctest: +SKIP
    >>> gl.analysis.chat_outcomes(chats).head()              # doctest: +SKIP
         chat_id department  ... time_to_assign_s  duration_s
    0  chat-5d0c...      sales  ...             90.0       512.3

    A DuckDB relation (``gl.open_dataset(..., engine="duckdb").chats``) gives a relation
    with the same columns and numbers.
    """
    if _is_relation(chats):
        return chat_outcomes_sql(chats)
    if _is_dask(chats):
        # the pandas code, one task per partition, reading only the columns it uses (as
        # ~30 Dask expressions, column by column, it cost more to plan than to run)
        used = chats[[*(["session"] if "session" in chats.columns else []), *_CHATS_USED]]
        outcomes = used.map_partitions(_chat_outcomes, meta=_chat_outcomes(used._meta))
        source = _pushdown.source_of(chats)
        if source is not None:  # read straight from Parquet: a summary can be summed there
            _pushdown.offer(outcomes, source)
        return outcomes
    return _chat_outcomes(chats)


# the chats table's columns that _chat_outcomes keeps as they are, and all it reads
_CHATS_KEPT = (
    "chat_id",
    "department",
    "commercial_id",
    "created_at",
    "close_reason",
    "escalated",
    "n_messages",
)
_CHATS_USED = (
    *_CHATS_KEPT,
    "closed_at",
    "converted",
    "first_assigned_at",
    "first_response_at",
    "first_human_response_at",
    "first_ai_response_at",
)


def _chat_outcomes(chats: Frame) -> Frame:
    created = chats["created_at"]
    reason = chats["close_reason"]
    keep: list[str] = ["session"] if "session" in chats.columns else []
    out = chats[[*keep, *_CHATS_KEPT]].assign(
        hour=created.dt.hour,
        closed=chats["closed_at"].notnull(),
        resolved=(reason == "resolved").fillna(False).astype(bool),
        abandoned=(reason == "abandoned").fillna(False).astype(bool),
        timed_out=(reason == "timeout").fillna(False).astype(bool),
        converted=chats["converted"].fillna(False).astype(bool),
        escalated=chats["escalated"].fillna(False).astype(bool),
        time_to_assign_s=_seconds(chats["first_assigned_at"], created),
        time_to_first_response_s=_seconds(chats["first_response_at"], created),
        time_to_first_human_s=_seconds(chats["first_human_response_at"], created),
        time_to_first_ai_s=_seconds(chats["first_ai_response_at"], created),
        duration_s=_seconds(chats["closed_at"], created),
    )
    # typed: in Dask's half of the check (see ._frames) the selection is unannotated
    outcomes: Frame = out[[*keep, *OUTCOME_COLUMNS]]
    return outcomes


@overload
def outcome_summary(
    outcomes: duckdb.DuckDBPyRelation, by: str | list[str] | None = None
) -> duckdb.DuckDBPyRelation: ...
@overload
def outcome_summary(outcomes: Frame, by: str | list[str] | None = None) -> Frame: ...
def outcome_summary(outcomes: Any, by: str | list[str] | None = None) -> Any:
    """Aggregate :func:`chat_outcomes` rows, overall or per group (``"department"``,
    ``"hour"``, ``"commercial_id"``, or several).

    Columns: ``chats`` and ``closed`` (how many of them ended); ``resolved_rate``,
    ``abandonment_rate``, ``timeout_rate`` and ``conversion_rate`` over the *closed*
    chats (a chat still open has no outcome yet; NaN when none closed);
    ``escalation_rate`` over *all* chats (a chat is escalated while open); and the mean
    of each timing over the chats where it happened (means, not medians, so that Dask
    computes exactly the same numbers). The README's "Metrics" section is the glossary.

    >>> gl.analysis.outcome_summary(outcomes, by="department")  # doctest: +SKIP
                chats  closed  resolved_rate  abandonment_rate  ...  mean_duration_s
    department
    billing        19      18          0.833             0.111  ...            431.0

    A DuckDB relation of outcomes gives a relation: the same numbers, the groups as
    columns (ordered by them) instead of the index.
    """
    if _is_relation(outcomes):
        return outcome_summary_sql(outcomes, by)
    return _outcome_summary(outcomes, by)


def _groups(by: str | list[str] | None) -> list[str]:
    return ["scope"] if by is None else [by] if isinstance(by, str) else list(by)


def _partial_sums(outcomes: pd.DataFrame, by: str | list[str] | None) -> pd.DataFrame:
    """Per group, the counts and sums the summary is made of. They add up: the partial
    sums of parts, added, are the whole's (so Dask sums its partitions' partials).

    One grouping, one ``sum`` and one ``count`` over a block of floats (a named
    aggregation per column grouped the keys again for each: twice the time)."""

    columns = ["closed", *_OUTCOMES, "escalated", *_TIMINGS, "chats"]
    # one float block, column by column in place (a frame from separate arrays copied
    # them all into a block: 2x the memory at the peak)
    block = np.empty((len(columns), len(outcomes)))
    for i, name in enumerate(columns[:-1]):
        block[i] = outcomes[name].astype(float).to_numpy()
    for i in range(1, 1 + len(_OUTCOMES)):  # a flag counts only on a closed chat
        block[i] *= block[0]
    # 1 per chat with an id (NaN without), so that count() counts chats
    block[-1] = np.where(outcomes["chat_id"].notna().to_numpy(), 1.0, np.nan)
    values = pd.DataFrame(block.T, columns=columns, index=outcomes.index, copy=False)
    keys = (
        [pd.Series("all", index=outcomes.index, name="scope")]
        if by is None
        else [outcomes[k] for k in _groups(by)]
    )
    grouped = values.groupby(keys)
    sums, counts = grouped.sum(), grouped.count()
    return pd.DataFrame(
        {
            "chats": counts["chats"],
            **{name: sums[name] for name in ("closed", *_OUTCOMES, "escalated")},
            "escalated_n": counts["escalated"],
            **{f"{t}_sum": sums[t] for t in _TIMINGS},
            **{f"{t}_n": counts[t] for t in _TIMINGS},
        }
    )


def _add_partials(partials: pd.DataFrame) -> pd.DataFrame:
    return partials.groupby(level=list(range(partials.index.nlevels))).sum()


def _summary(sums: pd.DataFrame) -> pd.DataFrame:
    """Rates and means from the groups' counts and sums."""

    def over(count: str) -> pd.Series:  # a denominator: none, NaN (not 0/0)
        return sums[count].where(sums[count] > 0)

    ended = over("closed")
    means = {f"mean_{t}": sums[f"{t}_sum"] / over(f"{t}_n") for t in _TIMINGS}
    return pd.DataFrame(
        {
            "chats": sums["chats"].astype("int64"),
            "closed": sums["closed"].astype("int64"),
            "resolved_rate": sums["resolved"] / ended,
            "abandonment_rate": sums["abandoned"] / ended,
            "timeout_rate": sums["timed_out"] / ended,
            "conversion_rate": sums["converted"] / ended,
            "escalation_rate": sums["escalated"] / over("escalated_n"),
            **means,
        },
        index=sums.index,
    )


def _outcome_summary(outcomes: Frame, by: str | list[str] | None) -> Frame:
    if isinstance(outcomes, pd.DataFrame):
        return _summary(_partial_sums(outcomes, by))
    # Dask: each partition's partial sums, added up in a tree, then the rates and means
    partial_meta = _partial_sums(outcomes._meta, by)
    source = _pushdown.source_of(outcomes)
    chunk: Callable[[pd.DataFrame], pd.DataFrame] = functools.partial(_partial_sums, by=by)
    partials: Any = outcomes
    if source is not None:  # summed by DuckDB from each partition's files (see ._pushdown)
        chunk, partials = _same, _summed_at_source(outcomes, source, by, partial_meta)
    meta = _summary(partial_meta)
    # (Dask's reduction has no annotations: the result is typed here)
    reduced: Frame = partials.reduction(
        chunk,
        combine=_add_partials,
        aggregate=lambda partials: _summary(_add_partials(partials)),
        meta=meta,
    )
    return reduced


def _summed_at_source(
    outcomes: Any, source: _pushdown.ParquetChats, by: str | list[str] | None, like: pd.DataFrame
) -> Any:
    """A Dask frame of each partition's partial sums, summed where its chats are read."""
    import dask.dataframe as dd

    keep = ["session"] if "session" in outcomes.columns else []
    return dd.from_map(  # type: ignore[no-untyped-call]
        _pushdown.summed_at_source,
        source.partitions,
        source=source,
        by=by,
        like=like,
        pandas_way=functools.partial(_partials_of_chats, by=by),
        chat_columns=[*keep, *_CHATS_USED],
        meta=like,
        enforce_metadata=False,
    )


def _same(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def _partials_of_chats(chats: pd.DataFrame, by: str | list[str] | None) -> pd.DataFrame:
    return _partial_sums(_chat_outcomes(chats), by)


def by_department(chats: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_summary` per department, straight from a ``chats`` table."""
    return outcome_summary(chat_outcomes(chats), by="department")


def by_hour(chats: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_summary` per hour of the day (UTC) the chat was opened."""
    return outcome_summary(chat_outcomes(chats), by="hour")
