"""Chat outcomes: how fast chats were picked up and answered, and how they ended.

Pure functions: DataFrame in, new DataFrame out, inputs never mutated. Written with column
arithmetic and ``groupby().agg`` only, so the same calls run on a Dask DataFrame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["OUTCOME_COLUMNS", "by_department", "by_hour", "chat_outcomes", "outcome_summary"]

OUTCOME_COLUMNS = (
    "chat_id",
    "department",
    "commercial_id",
    "created_at",
    "hour",
    "close_reason",
    "abandoned",
    "converted",
    "escalated",
    "n_messages",
    "time_to_assign_s",
    "time_to_first_response_s",
    "time_to_first_human_s",
    "time_to_first_ai_s",
    "duration_s",
)


def _seconds(later: Any, earlier: Any) -> Any:
    return (later - earlier).dt.total_seconds()


def chat_outcomes(chats: Any) -> Any:
    """One row per chat with its outcome and its timings in seconds (NaN when it never
    happened). ``chats`` is the kit's ``chats`` table (live, loaded or from a dataset; a
    dataset's ``session`` column is kept).

    >>> chats = gl.load("data/sample-session").chats        # doctest: +SKIP
    >>> gl.analysis.chat_outcomes(chats).head()              # doctest: +SKIP
         chat_id department  ... time_to_assign_s  duration_s
    0  chat-5d0c...      sales  ...             90.0       512.3
    """
    created = chats["created_at"]
    keep = ["session"] if "session" in chats.columns else []
    out = chats[
        [
            *keep,
            "chat_id",
            "department",
            "commercial_id",
            "created_at",
            "close_reason",
            "escalated",
            "n_messages",
        ]
    ].assign(
        hour=created.dt.hour,
        abandoned=chats["close_reason"] == "abandoned",
        converted=chats["converted"].fillna(False).astype(bool),
        escalated=chats["escalated"].fillna(False).astype(bool),
        time_to_assign_s=_seconds(chats["first_assigned_at"], created),
        time_to_first_response_s=_seconds(chats["first_response_at"], created),
        time_to_first_human_s=_seconds(chats["first_human_response_at"], created),
        time_to_first_ai_s=_seconds(chats["first_ai_response_at"], created),
        duration_s=_seconds(chats["closed_at"], created),
    )
    return out[[*keep, *OUTCOME_COLUMNS]]


def outcome_summary(outcomes: Any, by: str | list[str] | None = None) -> Any:
    """Aggregate :func:`chat_outcomes` rows, overall or per group (``"department"``,
    ``"hour"``, ``"commercial_id"``, or several).

    Columns: chats, abandonment_rate, conversion_rate, escalation_rate and the mean of each
    timing (means, not medians, so that Dask computes exactly the same numbers).

    >>> gl.analysis.outcome_summary(outcomes, by="department")  # doctest: +SKIP
                chats  abandonment_rate  conversion_rate  ...  mean_duration_s
    department
    billing        19             0.105            0.052  ...            431.0
    """
    frame = outcomes.assign(
        abandoned=outcomes["abandoned"].astype(float),
        converted=outcomes["converted"].astype(float),
        escalated=outcomes["escalated"].astype(float),
    )
    if by is None:
        frame = frame.assign(scope="all")
        by = "scope"
    return frame.groupby(by).agg(
        chats=("chat_id", "count"),
        abandonment_rate=("abandoned", "mean"),
        conversion_rate=("converted", "mean"),
        escalation_rate=("escalated", "mean"),
        mean_time_to_assign_s=("time_to_assign_s", "mean"),
        mean_time_to_first_response_s=("time_to_first_response_s", "mean"),
        mean_time_to_first_human_s=("time_to_first_human_s", "mean"),
        mean_time_to_first_ai_s=("time_to_first_ai_s", "mean"),
        mean_duration_s=("duration_s", "mean"),
    )


def by_department(chats: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_summary` per department, straight from a ``chats`` table."""
    return outcome_summary(chat_outcomes(chats), by="department")


def by_hour(chats: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_summary` per hour of the day (UTC) the chat was opened."""
    return outcome_summary(chat_outcomes(chats), by="hour")
