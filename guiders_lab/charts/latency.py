"""Latency charts: ping round trips, event lag, bot and action processing time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

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
            name="event lag (mean per window)",
            line={"color": COLORS["event_lag"]},
            customdata=lag[["max_ms", "n"]].to_numpy(),
            hovertemplate="%{x}<br>mean %{y:.1f} ms, max %{customdata[0]:.1f} ms"
            "<br>%{customdata[1]} events<extra>event lag</extra>",
        )
    )
    return finish(fig, "Ping round trip and event lag", x="time", y="ms")


def event_lag(events: pd.DataFrame, by_name: bool = False) -> go.Figure:
    """Distribution of the delay between the server sending an event and us receiving it."""
    incoming = events[(events["direction"] == "in") & events["lag_ms"].notna()]
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
    return finish(fig, "Event lag", x="lag (ms)", y="events")


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
    return finish(fig, "Bot and action processing time", y="ms")
