"""Offline analysis: pure functions from the kit's DataFrames to new DataFrames.

No I/O, no plotting, inputs never mutated. ``chat_outcomes``, ``outcome_summary`` and
``commercial_summary`` also run unchanged on Dask DataFrames.
"""

from __future__ import annotations

from .latency import (
    event_lag_summary,
    latency_stats,
    live_lag,
    ping_summary,
    response_latency,
    response_latency_summary,
)
from .outcomes import OUTCOME_COLUMNS, by_department, by_hour, chat_outcomes, outcome_summary
from .sentiment import add_sentiment, chat_sentiment, sentiment_timeline
from .workload import (
    active_chats,
    commercial_summary,
    jain_index,
    workload_bins,
    workload_steps,
)

__all__ = [
    "OUTCOME_COLUMNS",
    "active_chats",
    "add_sentiment",
    "by_department",
    "by_hour",
    "chat_outcomes",
    "chat_sentiment",
    "commercial_summary",
    "event_lag_summary",
    "jain_index",
    "latency_stats",
    "live_lag",
    "outcome_summary",
    "ping_summary",
    "response_latency",
    "response_latency_summary",
    "sentiment_timeline",
    "workload_bins",
    "workload_steps",
]
