"""Commercial workload and fairness: who carried how many chats, when, and how evenly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._keys import chat_key

__all__ = ["active_chats", "commercial_summary", "jain_index"]


def commercial_summary(outcomes: Any) -> Any:
    """Per commercial (the last one assigned to each chat): chats carried, their
    abandonment and conversion rates, mean time to first human response and duration.
    Dask-compatible.

    >>> gl.analysis.commercial_summary(gl.analysis.chat_outcomes(rec.chats))  # doctest: +SKIP
                      chats  abandonment_rate  conversion_rate  ...
    commercial_id
    commercial-ana       21             0.048            0.143  ...
    """
    frame = outcomes[outcomes["commercial_id"].notnull()]  # notnull: Dask has no notna
    frame = frame.assign(
        abandoned=frame["abandoned"].astype(float), converted=frame["converted"].astype(float)
    )
    return frame.groupby("commercial_id").agg(
        chats=("chat_id", "count"),
        abandonment_rate=("abandoned", "mean"),
        conversion_rate=("converted", "mean"),
        mean_time_to_first_human_s=("time_to_first_human_s", "mean"),
        mean_duration_s=("duration_s", "mean"),
        total_chat_s=("duration_s", "sum"),
    )


def jain_index(loads: pd.Series | np.ndarray | list[float]) -> float:
    """Jain's fairness index of per-person loads: 1.0 when all carry the same, 1/n when
    one carries everything. ``jain_index([3, 3, 3]) == 1.0``."""
    values = np.asarray(loads, dtype=float)
    if values.size == 0 or not np.any(values):
        return float("nan")
    return float(values.sum() ** 2 / (values.size * np.square(values).sum()))


def active_chats(
    assignments: pd.DataFrame, chats: pd.DataFrame, freq: str = "15min"
) -> pd.DataFrame:
    """How many chats each commercial was carrying over time (long format:
    ``at, commercial_id, active_chats``), sampled every ``freq``.

    A chat counts for a commercial from its assignment until it is reassigned or closed
    (one closed before its assignment arrived never counts).

    >>> gl.analysis.active_chats(rec.assignments, rec.chats, "30min")  # doctest: +SKIP
                             at     commercial_id  active_chats
    0 2025-01-15 09:00:00+00:00  commercial-ana             0
    """
    columns = ["at", "commercial_id", "active_chats"]
    if assignments.empty:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(columns, ("datetime64[us, UTC]", "str", "Int64"), strict=True)
            }
        )
    key = chat_key(assignments, chats)  # in a dataset, chat ids repeat across sessions
    spans = assignments[[*key, "commercial_id", "assigned_at"]].sort_values(
        [*key, "assigned_at"], kind="stable"
    )
    closed = spans[key].merge(chats[[*key, "closed_at"]], on=key, how="left")["closed_at"]
    next_assignment = spans.groupby(key)["assigned_at"].shift(-1)
    closed = pd.Series(closed.array, index=spans.index).astype(next_assignment.dtype)
    end = next_assignment.fillna(closed)
    spans = spans.assign(end=end)
    # a chat closed before its assignment arrived was never carried
    spans = spans[~(spans["end"] <= spans["assigned_at"]).fillna(False)]
    if spans.empty:
        return active_chats(assignments.iloc[:0], chats, freq)
    starts = spans[["commercial_id", "assigned_at"]].rename(columns={"assigned_at": "at"})
    starts = starts.assign(delta=1)
    ends = spans.loc[spans["end"].notna(), ["commercial_id", "end"]].rename(columns={"end": "at"})
    ends = ends.assign(delta=-1)
    steps = pd.concat([starts, ends], ignore_index=True).sort_values(["at", "delta"])
    steps = steps.assign(active=steps.groupby("commercial_id")["delta"].cumsum())
    grid = pd.date_range(steps["at"].min().floor(freq), steps["at"].max().ceil(freq), freq=freq)
    frames = []
    for commercial, group in steps.groupby("commercial_id", sort=True):
        level = group.set_index("at")["active"]
        level = level[~level.index.duplicated(keep="last")]
        sampled = level.reindex(level.index.union(grid)).ffill().reindex(grid).fillna(0)
        frames.append(
            pd.DataFrame(
                {
                    "at": grid,
                    "commercial_id": commercial,
                    "active_chats": sampled.to_numpy().astype("int64"),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"active_chats": "Int64"})
