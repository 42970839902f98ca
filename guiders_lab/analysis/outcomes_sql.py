"""``chat_outcomes`` and ``outcome_summary`` on a DuckDB relation, in SQL.

The pandas/Dask versions in :mod:`.outcomes` are the definition (the README's "Metrics"
glossary); this is the same computation, expression for expression and in the same order,
so that DuckDB can run it over hundreds of Parquet files without loading them into
pandas. ``tests/test_dataset.py`` holds the two equal on recorded sessions. DuckDB
itself is never imported here: a relation brings its own connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._outcome_names import OUTCOMES as _OUTCOMES
from ._outcome_names import TIMINGS as _TIMINGS

if TYPE_CHECKING:
    import duckdb

__all__ = ["chat_outcomes_sql", "outcome_summary_sql", "partial_sums_sql"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _seconds(later: str, earlier: str = "created_at") -> str:
    # pandas: (later - earlier).dt.total_seconds(), which is microseconds / 1e6 (NaN when
    # either is missing): the same integer difference and the same division here
    return f"(epoch_us({later}) - epoch_us({earlier})) / 1e6"


def _is(reason: str) -> str:
    return f"coalesce(close_reason = '{reason}', false)"


# .outcomes.chat_outcomes, column for column (OUTCOME_COLUMNS order)
OUTCOME_SQL: dict[str, str] = {
    "chat_id": "chat_id",
    "department": "department",
    "commercial_id": "commercial_id",
    "created_at": "created_at",
    # created.dt.hour: the hour in UTC, whatever zone the connection is set to
    "hour": "CAST(hour(created_at AT TIME ZONE 'UTC') AS INTEGER)",
    "close_reason": "close_reason",
    "closed": "closed_at IS NOT NULL",
    "resolved": _is("resolved"),
    "abandoned": _is("abandoned"),
    "timed_out": _is("timeout"),
    "converted": "coalesce(converted, false)",
    "escalated": "coalesce(escalated, false)",
    "n_messages": "n_messages",
    "time_to_assign_s": _seconds("first_assigned_at"),
    "time_to_first_response_s": _seconds("first_response_at"),
    "time_to_first_human_s": _seconds("first_human_response_at"),
    "time_to_first_ai_s": _seconds("first_ai_response_at"),
    "duration_s": _seconds("closed_at"),
}


def chat_outcomes_sql(chats: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """:func:`~guiders_lab.analysis.chat_outcomes` for a relation over a ``chats`` table."""
    keep = ["session"] if "session" in chats.columns else []
    columns = [*map(_q, keep), *(f"{sql} AS {_q(name)}" for name, sql in OUTCOME_SQL.items())]
    return chats.project(", ".join(columns))


# .outcomes.outcome_summary's groupby().agg, in its order: a flag counts only on a closed
# chat; means skip missing timings (favg: compensated sums, as pandas' group means)
_AGGREGATES: dict[str, str] = {
    "chats": "count(chat_id)",
    "closed": "sum(CAST(closed AS DOUBLE))",
    **{name: f"sum(CAST({name} AS DOUBLE) * CAST(closed AS DOUBLE))" for name in _OUTCOMES},
    "escalation_rate": "favg(CAST(escalated AS DOUBLE))",
    **{f"mean_{timing}": f"favg({timing})" for timing in _TIMINGS},
}

# the summary's columns, in outcome_summary's order; a rate over no closed chat is NULL
# (pandas: NaN, via closed.where(closed > 0))
_SUMMARY: dict[str, str] = {
    "chats": "chats",
    "closed": "CAST(closed AS BIGINT)",
    "resolved_rate": "resolved / nullif(closed, 0)",
    "abandonment_rate": "abandoned / nullif(closed, 0)",
    "timeout_rate": "timed_out / nullif(closed, 0)",
    "conversion_rate": "converted / nullif(closed, 0)",
    "escalation_rate": "escalation_rate",
    **{name: name for name in _AGGREGATES if name.startswith("mean_")},
}


def outcome_summary_sql(
    outcomes: duckdb.DuckDBPyRelation, by: str | list[str] | None = None
) -> duckdb.DuckDBPyRelation:
    """:func:`~guiders_lab.analysis.outcome_summary` for a relation of outcomes. The
    groups are columns (pandas makes them the index), rows ordered by them; rows whose
    group is missing are left out, as pandas' groupby does."""
    outcomes, keys = _with_groups(outcomes, by)
    group = ", ".join(map(_q, keys))
    counts = outcomes.aggregate(
        ", ".join([group, *(f"{sql} AS {_q(name)}" for name, sql in _AGGREGATES.items())]),
        group,
    )
    summary = counts.project(
        ", ".join([group, *(f"{sql} AS {_q(name)}" for name, sql in _SUMMARY.items())])
    )
    return summary.order(group)


# .outcomes._partial_sums, column for column: counts, and compensated sums (fsum, as
# pandas' group sums; 0 over no value, as pandas) that add up across partitions. "chats"
# counts rows: a chats table's chat_id is its key, never null (the files' schema says
# so), and not reading the ids takes a sixth off a partition's time
_PARTIAL_SUMS: dict[str, str] = {
    "chats": "count(*)",
    "closed": "fsum(CAST(closed AS DOUBLE))",
    **{name: f"fsum(CAST({name} AS DOUBLE) * CAST(closed AS DOUBLE))" for name in _OUTCOMES},
    "escalated": "fsum(CAST(escalated AS DOUBLE))",
    "escalated_n": "count(escalated)",
    **{f"{t}_sum": f"coalesce(fsum({t}), 0.0)" for t in _TIMINGS},
    **{f"{t}_n": f"count({t})" for t in _TIMINGS},
}


def partial_sums_sql(
    outcomes: duckdb.DuckDBPyRelation, by: str | list[str] | None = None
) -> duckdb.DuckDBPyRelation:
    """The partial sums ``outcome_summary`` is made of, per group, rows in any order
    (rows whose group is missing left out): what a Dask partition read straight from
    Parquet hands to the summary instead of its chats. The groups come first, named
    ``group_0``, ``group_1``... (a group may share a sum's name: ``by="converted"``)."""
    outcomes, keys = _with_groups(outcomes, by)
    named = ", ".join(f"{_q(k)} AS group_{i}" for i, k in enumerate(keys))
    sums = ", ".join(f"{sql} AS {_q(name)}" for name, sql in _PARTIAL_SUMS.items())
    return outcomes.aggregate(f"{named}, {sums}", ", ".join(map(_q, keys)))


def _with_groups(
    outcomes: duckdb.DuckDBPyRelation, by: str | list[str] | None
) -> tuple[duckdb.DuckDBPyRelation, list[str]]:
    """The rows that have every group, as pandas' groupby keeps them, and the groups'
    columns (``by=None``: one group, ``scope`` = ``'all'``)."""
    if by is None:
        outcomes = outcomes.project("'all' AS scope, *")
        by = "scope"
    keys = [by] if isinstance(by, str) else list(by)
    return outcomes.filter(" AND ".join(f"{_q(k)} IS NOT NULL" for k in keys)), keys
