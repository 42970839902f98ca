"""Latency charts: ping round trips, event lag, bot and action processing time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..analysis import event_lag_summary, live_lag
from ._style import COLORS, finish

__all__ = ["event_lag", "ping_latency", "processing_time"]


def ping_latency(latency: pd.DataFrame) -> go.Figure:
    """Heartbeat round trips over time, with the event-lag windows beside them."""
    fig = go.Figure()
    pings = latency[latency["kind"] == "ping"]
    fig.add_trace(
        go.Scatter(
            x=pings["at"],
            y=pings["value_ms"],
            mode="lines+markers",
            name="ping round trip",
            line={"color": COLORS["ping"]},
            hovertemplate="%{x}<br>%{y:.1f} ms<extra>ping</extra>",
        )
    )
    lag = latency[latency["kind"] == "event_lag"]
    fig.add_trace(
        go.Scatter(
            x=lag["at"],
            y=lag["value_ms"],
            mode="lines",
            name="event lag (mean per window, live deliveries)",
            line={"color": COLORS["event_lag"]},
            customdata=lag[["max_ms", "n"]].to_numpy(),
            hovertemplate="%{x}<br>mean %{y:.1f} ms, max %{customdata[0]:.1f} ms"
            "<br>%{customdata[1]} events<extra>event lag</extra>",
        )
    )
    return finish(
        fig, "Ping round trip and event lag", x="time", y="ms",
        empty="No pings or event-lag windows yet (the heartbeat is off, or the session has "
        "just begun).",
    )  # fmt: skip


def event_lag(events: pd.DataFrame, by_name: bool = False) -> go.Figure:
    """Distribution of the event lag (the server sending an event to us receiving it) of
    events delivered live, first copies only; the title counts what was left out
    (repeats, and events re-delivered after a reconnect, whose lag counts the outage)."""
    measured = live_lag(events)
    incoming = measured[measured["lag_ms"].notna()]
    left_out = event_lag_summary(events).iloc[0]
    fig = go.Figure()
    groups = incoming.groupby("name") if by_name else [("all events", incoming)]
    for name, group in groups:
        fig.add_trace(
            go.Histogram(
                x=group["lag_ms"],
                name=str(name),
                nbinsx=60,
                hovertemplate="%{x} ms: %{y} events<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(barmode="overlay")
    fig.update_traces(opacity=0.75)
    title = "Event lag (live deliveries)"
    resync, repeated = int(left_out["n_resync"]), int(left_out["n_duplicates"])
    if resync or repeated:
        title += f" · left out: {resync:,} re-delivered, {repeated:,} repeated"
    return finish(
        fig, title, x="lag (ms)", y="events",
        empty="No event lag: no event delivered live said when the server sent it.",
    )  # fmt: skip


def processing_time(actions: pd.DataFrame) -> go.Figure:
    """How long bots took to decide and the server to acknowledge, per bot and action."""
    fig = go.Figure()
    frame = actions.assign(bot=actions["bot"].fillna("(you)"))
    for column, label in (("processing_ms", "decision"), ("ack_ms", "acknowledgement")):
        data = frame[frame[column].notna()]
        if data.empty:
            continue
        fig.add_trace(
            go.Box(
                x=data["bot"] + " · " + data["name"],
                y=data[column],
                name=label,
                boxpoints="all",
                jitter=0.3,
                pointpos=0,
                customdata=data[["chat_id", "mode"]].astype(str).to_numpy(),
                hovertemplate="%{y:.1f} ms<br>chat %{customdata[0]} (%{customdata[1]})"
                f"<extra>{label}</extra>",
            )
        )
    fig.update_layout(boxmode="group")
    return finish(
        fig, "Bot and action processing time", y="ms",
        empty="No actions timed: no bot ran and nothing was sent.",
    )  # fmt: skip
