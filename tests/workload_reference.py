"""A second, deliberately naive computation of the chats carried per commercial (plain
Python loops over per-chat intervals), to check ``gl.analysis.workload_steps`` and
``workload_bins`` against, and frame builders for the workload tests."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

T0 = pd.Timestamp("2025-01-15T09:00:00Z")


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


def frames(
    assigned: list[tuple[str, str, float]],
    closed: dict[str, float | None],
    session: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``assignments`` from (chat, commercial, second) and ``chats`` from chat -> closed
    second (None: still open), with a ``session`` column when ``session`` is given."""
    assignments = pd.DataFrame(
        {
            "chat_id": [c for c, _, _ in assigned],
            "commercial_id": [p for _, p, _ in assigned],
            "assigned_at": pd.to_datetime([at(t) for *_, t in assigned], utc=True),
        }
    )
    chats = pd.DataFrame(
        {
            "chat_id": list(closed),
            "closed_at": pd.to_datetime(
                [None if t is None else at(t) for t in closed.values()], utc=True
            ),
        }
    )
    if session is not None:
        assignments.insert(0, "session", session)
        chats.insert(0, "session", session)
    return assignments, chats


@dataclass(frozen=True)
class Interval:
    key: tuple  # (chat_id,) or (session, chat_id)
    commercial: str
    start: pd.Timestamp
    end: pd.Timestamp | None  # None: still open
    reason: str | None  # why it ended: "closed" or "reassigned"

    @property
    def owner(self) -> tuple:
        """Whose level it adds to: (commercial,) or (session, commercial)."""
        return (*self.key[:-1], self.commercial)

    def holds(self, moment: pd.Timestamp) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


def intervals(assignments: pd.DataFrame, chats: pd.DataFrame) -> list[Interval]:
    """Carried intervals, one chat at a time, straight from the definition."""
    dataset = "session" in assignments.columns and "session" in chats.columns
    columns = ["session", "chat_id"] if dataset else ["chat_id"]
    closed_at: dict[tuple, pd.Timestamp] = {}
    for row in chats.to_dict("records"):
        k = tuple(row[c] for c in columns)
        t = row["closed_at"]
        if t is not None and not pd.isna(t):
            closed_at[k] = min(closed_at.get(k, t), t)
    by_chat: dict[tuple, set[tuple[pd.Timestamp, str]]] = defaultdict(set)
    for row in assignments.to_dict("records"):
        by_chat[tuple(row[c] for c in columns)].add((row["assigned_at"], row["commercial_id"]))
    found = []
    for k, taken in by_chat.items():
        runs: list[tuple[pd.Timestamp, str]] = []
        for t, who in sorted(taken):  # by time, ties by commercial id
            if runs and runs[-1][1] == who:
                continue  # assigned again to whoever already has it: nothing changes
            runs.append((t, who))
        for i, (t, who) in enumerate(runs):
            handed_on = runs[i + 1][0] if i + 1 < len(runs) else None
            closed = closed_at.get(k)
            if closed is not None and (handed_on is None or closed <= handed_on):
                end, reason = closed, "closed"
            else:
                end, reason = handed_on, "reassigned" if handed_on is not None else None
            if end is not None and end <= t:
                continue  # closed or handed on at or before it was assigned: never carried
            found.append(Interval(k, who, t, end, reason))
    return found


def levels(spans: list[Interval]) -> dict[tuple[tuple, pd.Timestamp], int]:
    """Per (owner, change time): how many intervals hold at that moment (brute force)."""
    out = {}
    for owner in {s.owner for s in spans}:
        own = [s for s in spans if s.owner == owner]
        for moment in {s.start for s in own} | {s.end for s in own if s.end is not None}:
            out[(owner, moment)] = sum(s.holds(moment) for s in own)
    return out


def bins(
    spans: list[Interval], starts: list[pd.Timestamp], freq: str, end: pd.Timestamp
) -> dict[tuple[tuple, pd.Timestamp], tuple[int, float, int]]:
    """Per (owner, bin start): (max carried at any moment in [start, min(start + freq,
    end)], chat-seconds inside that window / its length, takes in the bin), by brute
    force over every interval."""
    width = pd.Timedelta(freq)
    out = {}
    for owner in {s.owner for s in spans}:
        own = [s for s in spans if s.owner == owner]
        for b in starts:
            stop = min(b + width, end)
            moments = [b] + [
                t for s in own for t in (s.start, s.end) if t is not None and b <= t <= stop
            ]
            moments = [m for m in moments if m < b + width]
            most = max(sum(s.holds(m) for s in own) for m in moments)
            seconds = (stop - b).total_seconds()
            carried = sum(
                max(0.0, (min(stop, s.end or stop) - max(b, s.start)).total_seconds()) for s in own
            )
            mean = carried / seconds if seconds > 0 else float(sum(s.holds(b) for s in own))
            takes = sum(b <= s.start < b + width and s.start <= end for s in own)
            out[(owner, b)] = (most, mean, takes)
    return out


def carried_seconds(spans: list[Interval], end: pd.Timestamp) -> dict[tuple, float]:
    """Chat-seconds each owner carried up to ``end`` (open chats until ``end``)."""
    out: dict[tuple, float] = defaultdict(float)
    for s in spans:
        out[s.owner] += ((s.end or end) - s.start).total_seconds()
    return dict(out)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
