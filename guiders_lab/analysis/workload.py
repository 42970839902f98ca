"""Commercial workload and fairness: who carried how many chats, when, and how evenly.

Chats carried (the one definition behind ``workload_steps``, ``workload_bins``,
``active_chats``, ``gl.charts.workload``, the HTML report and the LiveDashboard): a chat
counts as carried by a commercial from its assignment (``assignments.assigned_at``) until
it is reassigned to someone else (the chat's next assignment by ``assigned_at``, ties at
the same instant broken by commercial id, so the result never depends on row order) or
closed (``chats.closed_at``), whichever comes first. The interval is half-open,
``[assigned, released)``: a chat closed (or handed on) at or before its assignment time
never counts, and a chat still open counts until the end of the data. A repeat assignment
to the commercial already carrying the chat changes nothing. Only server timestamps are
read, never row order: shuffled rows give the same result. In a dataset of many sessions
(frames with a ``session`` column) chats are keyed on (session, chat_id) and a level is
per (session, commercial_id), each session being its own recording.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._carried import (
    Instant,
    bin_one,
    carried_spans,
    data_end,
    empty_frame,
    pick_freq,
    session_parts,
    steps_frame,
    unit_of,
    utc,
)
from ._frames import Frame
from ._keys import chat_key

__all__ = [
    "active_chats",
    "commercial_summary",
    "jain_index",
    "workload_bins",
    "workload_steps",
]

STEP_COLUMNS = ("at", "commercial_id", "chat_id", "change", "reason", "active_chats")
BIN_COLUMNS = ("at", "commercial_id", "max_chats", "mean_chats", "assignments")


def commercial_summary(outcomes: Frame) -> Frame:
    """Per commercial (the current one of each chat, its latest assignment): chats,
    how many closed, abandonment and conversion rates over those closed chats (as
    :func:`~guiders_lab.analysis.outcome_summary` defines them), mean time to first human
    response and duration. Dask-compatible.

    >>> gl.analysis.commercial_summary(gl.analysis.chat_outcomes(rec.chats))  # doctest: +SKIP
                      chats  closed  abandonment_rate  conversion_rate  ...
    commercial_id
    commercial-ana       21      20             0.050            0.150  ...
    """
    frame = outcomes[outcomes["commercial_id"].notnull()]  # notnull: Dask has no notna
    closed = frame["closed"].astype(float)
    frame = frame.assign(
        closed=closed,
        abandoned=frame["abandoned"].astype(float) * closed,
        converted=frame["converted"].astype(float) * closed,
    )
    sums = frame.groupby("commercial_id").agg(
        chats=("chat_id", "count"),
        closed=("closed", "sum"),
        abandoned=("abandoned", "sum"),
        converted=("converted", "sum"),
        mean_time_to_first_human_s=("time_to_first_human_s", "mean"),
        mean_duration_s=("duration_s", "mean"),
        total_chat_s=("duration_s", "sum"),
    )
    ended = sums["closed"].where(sums["closed"] > 0)
    summary: Frame = sums.assign(
        closed=sums["closed"].astype("int64"),
        abandonment_rate=sums["abandoned"] / ended,
        conversion_rate=sums["converted"] / ended,
    )[
        [
            "chats",
            "closed",
            "abandonment_rate",
            "conversion_rate",
            "mean_time_to_first_human_s",
            "mean_duration_s",
            "total_chat_s",
        ]
    ]
    return summary


def jain_index(loads: pd.Series | np.ndarray | list[float]) -> float:
    """Jain's fairness index of per-person loads: 1.0 when all carry the same, 1/n when
    one carries everything. ``jain_index([3, 3, 3]) == 1.0``."""
    values = np.asarray(loads, dtype=float)
    if values.size == 0 or not np.any(values):
        return float("nan")
    return float(values.sum() ** 2 / (values.size * np.square(values).sum()))


def workload_steps(assignments: pd.DataFrame, chats: pd.DataFrame) -> pd.DataFrame:
    """The exact number of chats each commercial carried, as a step function: one row per
    change, ``at, commercial_id, chat_id, change, reason, active_chats``.

    ``change`` is +1 (``reason="assigned"``) or -1 (``"reassigned"``: handed to someone
    else, or ``"closed"``); ``active_chats`` is the commercial's level from ``at`` on,
    after the change. A chat counts as carried by a commercial from its assignment
    (``assignments.assigned_at``) until it is reassigned to someone else (the chat's next
    assignment by ``assigned_at``, ties broken by commercial id) or closed
    (``chats.closed_at``); a chat closed at or before its assignment time never counts; an
    open chat counts until the end of the data (it has no -1 row). Only server timestamps
    are used, never row order: shuffled rows give the same frame.

    Rows are sorted by ``at``; at the same instant releases (-1) come before takes (+1),
    then by commercial id and chat id, so ``active_chats`` never shows a peak that did
    not happen and the order is always the same. In a dataset (a ``session`` column in
    both frames) chats are keyed on (session, chat_id), levels are per (session,
    commercial_id) and ``session`` is the first column. ``attrs["end"]`` holds the end of
    the data (the latest server timestamp in the inputs; per session in a dataset), which
    :func:`workload_bins` uses.

    >>> gl.analysis.workload_steps(rec.assignments, rec.chats).head(1)  # doctest: +SKIP
                                 at     commercial_id        chat_id  change    reason  active_chats
    0 2025-01-15 09:05:39.732+00:00  commercial-lucia  chat-f0b43af4       1  assigned             1
    """
    key = chat_key(assignments, chats)  # in a dataset, chat ids repeat across sessions
    steps = steps_frame(carried_spans(assignments, chats), dataset=len(key) == 2)
    steps.attrs["end"] = data_end(assignments, chats, key)
    return steps


def workload_bins(
    steps: pd.DataFrame, freq: str | None = None, end: Instant | None = None
) -> pd.DataFrame:
    """:func:`workload_steps` per bin and commercial: ``at`` (bin start),
    ``commercial_id``, ``max_chats`` (the most chats carried at any moment in the bin),
    ``mean_chats`` (the time-weighted mean number carried over the bin) and
    ``assignments`` (how many chats the commercial took in the bin).

    ``freq=None`` picks a readable bin from the span of the data (1s, 2s, 5s, 10s, 15s,
    30s, 1min, 2min, 5min, ... 1h, 2h, 3h, 6h, 12h, 1D: the smallest giving at most 60
    bins, so 24-60 bins for spans from a minute to two months); the bin used is in
    ``frame.attrs["freq"]``. Bins are aligned on multiples of ``freq`` and run from the
    first change to ``end`` (default: the end of the data recorded by
    :func:`workload_steps`, else the last change), the instant ``end`` included: the last
    bin is clipped at ``end`` and its mean covers only the time before ``end`` (a last bin
    starting exactly at ``end`` holds that instant only; its mean is the level then). Open
    chats count until ``end``; changes after it are left out. Every commercial with a
    change gets every bin (zeros included). In a dataset each session has its own bins
    and ``session`` is the first column.

    >>> steps = gl.analysis.workload_steps(rec.assignments, rec.chats)  # doctest: +SKIP
    >>> gl.analysis.workload_bins(steps).iloc[[1]]                        # doctest: +SKIP
                             at      commercial_id  max_chats  mean_chats  assignments
    1 2025-01-15 09:05:00+00:00  commercial-javier          1    0.806467            1
    """
    dataset = "session" in steps.columns
    unit = unit_of(utc(steps["at"].array), default="us")
    parts = session_parts(steps, end)
    if freq is None:  # the longest session decides
        freq = pick_freq(max((stop - t.min() for *_, t, stop in parts), default=pd.Timedelta(0)))
    width = pd.Timedelta(freq).value  # ns
    frames = []
    for session, rows, times, stop in parts:
        first, last = times.min().floor(freq).value, stop.value
        grid = pd.to_datetime(np.arange(first, last + 1, width), utc=True, unit="ns")
        for commercial, own in rows.groupby("commercial_id", sort=True):
            most, mean, taken = bin_one(own, first, last, width)
            frames.append(
                pd.DataFrame(
                    ({"session": session} if dataset else {})
                    | {
                        "at": grid.as_unit(unit),
                        "commercial_id": commercial,
                        "max_chats": most.astype("int64"),
                        "mean_chats": mean.astype("float64"),
                        "assignments": taken.astype("int64"),
                    }
                )
            )
    session_column = ["session"] if dataset else []
    types = ({"session": "str"} if dataset else {}) | {"commercial_id": "str"}
    if frames:
        out = pd.concat(frames, ignore_index=True).astype(types)
        out = out.sort_values([*session_column, "at", "commercial_id"], ignore_index=True)
    else:
        out = empty_frame(
            types
            | {"at": f"datetime64[{unit}, UTC]", "max_chats": "int64"}
            | {"mean_chats": "float64", "assignments": "int64"}
        )
    out = out[[*session_column, *BIN_COLUMNS]]
    out.attrs = {"freq": freq}
    return out


def active_chats(
    assignments: pd.DataFrame, chats: pd.DataFrame, freq: str = "15min"
) -> pd.DataFrame:
    """Chats each commercial carried, per ``freq`` bin (long format: ``at`` the bin start,
    ``commercial_id``, ``active_chats`` the most carried at any moment in the bin,
    ``mean_chats`` the time-weighted mean over the bin). Not a sample at one instant: a
    chat carried for a minute inside a 15-minute bin shows.

    A chat counts as carried by a commercial from its assignment until it is reassigned
    to someone else or closed (one closed at or before its assignment never counts; an
    open one counts until the end of the data); see :func:`workload_steps` and, for the
    bins, :func:`workload_bins`, of which this is a shortcut.

    >>> gl.analysis.active_chats(rec.assignments, rec.chats, "30min")  # doctest: +SKIP
                             at      commercial_id  active_chats  mean_chats
    0 2025-01-15 09:00:00+00:00     commercial-ana             1    0.167611
    """
    bins = workload_bins(workload_steps(assignments, chats), freq)
    session = ["session"] if "session" in bins.columns else []
    out = bins.rename(columns={"max_chats": "active_chats"})
    out = out[[*session, "at", "commercial_id", "active_chats", "mean_chats"]]
    out = out.astype({"active_chats": "Int64"})
    out.attrs = dict(bins.attrs)
    return out
