"""The outcome columns the pandas and the SQL outcome summaries both add up."""

from __future__ import annotations

__all__ = ["OUTCOMES", "TIMINGS"]

# a closed chat's outcome flags (each counted over the closed chats)
OUTCOMES = ("resolved", "abandoned", "timed_out", "converted")

# the timings in seconds from a chat's creation (each averaged over the chats it happened in)
TIMINGS = (
    "time_to_assign_s",
    "time_to_first_response_s",
    "time_to_first_human_s",
    "time_to_first_ai_s",
    "duration_s",
)
