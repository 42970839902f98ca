"""Plotly charts: one function per chart, DataFrame in, ``go.Figure`` out, never shown.

Hover text names chat ids wherever a mark stands for chats, so a chart leads to the chat.
"""

from __future__ import annotations

from .latency import event_lag, ping_latency, processing_time
from .outcomes import (
    abandonment_conversion,
    close_reasons,
    reassignments,
    time_to_assign,
    time_to_first_response,
    workload,
)
from .sentiment import sentiment_distribution, sentiment_timeline, urgent_flags
from .volume import message_volume

__all__ = [
    "abandonment_conversion",
    "close_reasons",
    "event_lag",
    "message_volume",
    "ping_latency",
    "processing_time",
    "reassignments",
    "sentiment_distribution",
    "sentiment_timeline",
    "time_to_assign",
    "time_to_first_response",
    "urgent_flags",
    "workload",
]
