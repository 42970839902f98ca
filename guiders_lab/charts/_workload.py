"""The traces of the workload chart (chats carried per commercial), shared by
``gl.charts.workload`` and the LiveDashboard so that both draw exactly the same thing.

Traces are built as ``go.Scatter`` keyword dicts over numpy arrays: times go in as naive
UTC ``datetime64`` (what plotly makes of a UTC pandas column anyway), which plotly
validates and copies in bulk, where lists of ``Timestamp`` cost a Python call each.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Required, TypeAlias, TypedDict

import numpy as np
import pandas as pd

from ..analysis import workload_bins
from ..analysis._carried import ns, session_parts
from ._style import PALETTE, chat_list

__all__ = ["STEP_LIMIT", "TITLE", "TraceSpec", "YAxis", "workload_traces", "y_axis"]

# more changes than this are drawn per bin: a browser slows down past some 10^4 points
STEP_LIMIT = 20_000

TITLE = "Chats carried per commercial"


class TraceSpec(TypedDict, total=False):
    """The keyword arguments of one ``go.Scatter`` of the workload chart."""

    name: Required[str]  # unique within a chart: the dashboard updates traces by name
    x: np.ndarray
    y: np.ndarray
    mode: str
    legendgroup: str
    showlegend: bool
    line: dict[str, str]
    marker: dict[str, object]  # plotly's nested marker properties
    customdata: np.ndarray
    hovertemplate: str


# the workload chart's y axis properties (``fig.update_yaxes(**axis)``)
YAxis: TypeAlias = dict[str, str | int | None]


def workload_traces(
    steps: pd.DataFrame,
    freq: str | None = None,
    *,
    color: Callable[[str], str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> tuple[list[TraceSpec], str]:
    """The traces (``go.Scatter`` keyword dicts, each with a unique ``name``) and the
    title of the workload chart, from ``workload_steps``.

    With ``freq=None`` and at most ``STEP_LIMIT`` changes: per commercial the exact step
    function (a line) and a marker per assignment. Otherwise per bin: "max in bin" and
    "time-weighted mean" lines, the bin size in the title. ``color`` maps a commercial's
    label to its color (default: the palette in sorted order); ``notes`` adds a line to a
    commercial's hover (the dashboard shows the capacity it reported)."""
    groups = ["session", "commercial_id"] if "session" in steps.columns else ["commercial_id"]
    if color is None:
        labels = sorted(_label(g) for g in steps.groupby(_by(groups), sort=True).groups)
        palette = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
        color = palette.__getitem__
    notes = notes or {}
    if freq is None and len(steps) <= STEP_LIMIT:
        return _step_traces(steps, groups, color, notes), TITLE
    bins = workload_bins(steps, freq)
    freq = bins.attrs["freq"]
    title = f"{TITLE}: max in bin and time-weighted mean ({freq} bins)"
    return _bin_traces(steps, bins, groups, color, notes), title


def y_axis(steps: pd.DataFrame, title: str) -> YAxis:
    """The y axis of the workload chart: from 0, whole-chat ticks on a step function
    (no 0.5 chats) unless the levels run high; automatic ticks for per-bin means."""
    few = len(steps) == 0 or steps["active_chats"].max() <= 10
    return {"rangemode": "tozero", "dtick": 1 if title == TITLE and few else None}


def _by(groups: list[str]) -> str | list[str]:
    """A groupby key giving one scalar per commercial outside a dataset (not a 1-tuple)."""
    return groups if len(groups) > 1 else groups[0]


def _label(group: Hashable) -> str:
    """A commercial's name in the legend ("session · commercial" in a dataset)."""
    return " · ".join(map(str, group)) if isinstance(group, tuple) else str(group)


def _naive(nanoseconds: np.ndarray) -> np.ndarray:
    """Naive UTC microseconds: plotly writes these as ISO dates, where some of its paths
    write datetime64[ns] as bare integers (and the axis would show numbers)."""
    return (np.asarray(nanoseconds, dtype="int64") // 1_000).view("datetime64[us]")


def _levels(values: np.ndarray) -> np.ndarray:
    """Chat counts as int32 (small and exact in any of plotly's encodings)."""
    return np.asarray(values).astype("int32")


def _step_traces(
    steps: pd.DataFrame,
    groups: list[str],
    color: Callable[[str], str],
    notes: Mapping[str, str],
) -> list[TraceSpec]:
    traces: list[TraceSpec] = []
    for _, rows, times, stop in session_parts(steps, None):
        start = ns(times).min()  # every line starts at 0 at its session's first change
        # workload_steps' own order
        rows = rows.sort_values([*groups, "at", "change", "chat_id"])
        t, level = ns(rows["at"].array), rows["active_chats"].to_numpy(dtype="int64")
        take, chat = rows["change"].to_numpy() > 0, rows["chat_id"].to_numpy(dtype=object)
        for group, where in (
            rows.reset_index(drop=True).groupby(_by(groups), sort=True).indices.items()
        ):
            label = _label(group)
            tg, lg = t[where], level[where]
            # the level each instant ends on; the line skips the zero-length levels
            # between a release and a take at the same instant
            last = np.r_[tg[1:] != tg[:-1], True]
            instant = np.r_[0, np.cumsum(last[:-1])]
            ends_on = lg[last][instant]
            note = f"<br>{notes[label]}" if label in notes else ""
            traces.append(
                {
                    "x": _naive(np.r_[start, tg[last], stop.value]),
                    "y": _levels(np.r_[0, lg[last], lg[last][-1]]),
                    "mode": "lines",
                    "name": label,
                    "legendgroup": label,
                    "line": {"shape": "hv", "color": color(label)},
                    "hovertemplate": f"%{{x}}<br>%{{y}} chats carried{note}<extra>{label}</extra>",
                }
            )
            taken = take[where]
            traces.append(
                {
                    "x": _naive(tg[taken]),
                    "y": _levels(ends_on[taken]),
                    "mode": "markers",
                    "name": f"{label} · assignments",
                    "legendgroup": label,
                    "showlegend": False,
                    "marker": {
                        "color": color(label),
                        "size": 7,
                        "line": {"width": 1, "color": "white"},
                    },
                    "customdata": chat[where][taken],
                    "hovertemplate": f"%{{customdata}} assigned to {label}<br>"
                    "%{x|%Y-%m-%d %H:%M:%S.%L}<br>%{y} chats carried from then on<extra></extra>",
                }
            )
    return traces


def _bin_traces(
    steps: pd.DataFrame,
    bins: pd.DataFrame,
    groups: list[str],
    color: Callable[[str], str],
    notes: Mapping[str, str],
) -> list[TraceSpec]:
    freq = bins.attrs["freq"]
    ends = {session: stop for session, *_, stop in session_parts(steps, None)}
    # the chats each commercial took in each bin, for the hover (bins start at multiples
    # of freq, which is what floor() gives)
    takes = steps[steps["change"] > 0]
    taken = takes.groupby([*groups, takes["at"].dt.floor(freq)], sort=False)["chat_id"].agg(
        chat_list
    )
    traces: list[TraceSpec] = []
    for group, rows in bins.groupby(_by(groups), sort=True):
        label = _label(group)
        key = group if isinstance(group, tuple) else (group,)
        stop = ends[key[0] if len(key) == 2 else None]
        # one more point at the end of the data, so the last bin is drawn as wide as it is
        x = _naive(np.r_[ns(rows["at"].array), stop.value])
        most, mean = rows["max_chats"].to_numpy(), rows["mean_chats"].to_numpy()
        hover = np.empty((len(rows) + 1, 2), dtype=object)
        hover[:-1, 0] = rows["assignments"].to_numpy()
        hover[:-1, 1] = [taken.get((*key, at), "") for at in rows["at"]]
        hover[-1] = hover[-2]
        note = f"<br>{notes[label]}" if label in notes else ""
        traces.append(
            {
                "x": x,
                "y": _levels(np.r_[most, most[-1]]),
                "mode": "lines",
                "name": f"{label} · max in bin",
                "legendgroup": label,
                "line": {"shape": "hv", "color": color(label)},
                "customdata": hover,
                "hovertemplate": f"%{{x}}: at most %{{y}} chats carried in the {freq} bin"
                f"{note}<br>%{{customdata[0]}} assigned: %{{customdata[1]}}<extra>{label}</extra>",
            }
        )
        traces.append(
            {
                "x": x,
                "y": np.r_[mean, mean[-1]],
                "mode": "lines",
                "name": f"{label} · time-weighted mean",
                "legendgroup": label,
                "line": {"shape": "hv", "color": color(label), "dash": "dot"},
                "hovertemplate": f"%{{x}}: %{{y:.2f}} chats carried on average (time-weighted) "
                f"in the {freq} bin<extra>{label}</extra>",
            }
        )
    return traces
