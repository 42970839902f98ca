"""Charts: the right traces and values, and hover text that leads back to chats."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import guiders_lab as gl
from guiders_lab import charts

from .test_analysis import chats_frame, messages_frame


def _plain(value: object) -> object:
    """plotly >= 6 writes numeric arrays as {"bdata": base64, "dtype": ...}; decode them."""
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):  # "2, 3"
            shape = tuple(int(n) for n in shape.split(","))
        return array.reshape(shape).tolist() if shape else array.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def as_json(fig: go.Figure) -> dict:
    assert isinstance(fig, go.Figure)
    return _plain(fig.to_plotly_json())


def test_time_to_assign_one_box_per_commercial_with_chat_ids() -> None:
    data = as_json(charts.time_to_assign(chats_frame()))["data"]
    assert [t["type"] for t in data] == ["box", "box"]
    by_name = {t["name"]: t for t in data}
    assert list(by_name["ana"]["y"]) == [60, 120]
    assert list(by_name["ben"]["y"]) == [30]  # c3 was never assigned
    assert [row[0] for row in by_name["ana"]["customdata"]] == ["c1", "c2"]
    assert "%{customdata[0]}" in by_name["ana"]["hovertemplate"]


def test_time_to_first_response_by_department() -> None:
    data = as_json(charts.time_to_first_response(chats_frame()))["data"]
    assert {t["name"]: list(t["y"]) for t in data} == {"sales": [30, 240], "support": [60]}


def test_close_reasons_counts_open_chats_and_lists_them() -> None:
    (bar,) = as_json(charts.close_reasons(chats_frame()))["data"]
    assert dict(zip(bar["x"], bar["y"], strict=True)) == {"abandoned": 1, "open": 1, "resolved": 2}
    hover = dict(zip(bar["x"], bar["customdata"], strict=True))
    assert "c1" in hover["resolved"] and "c2" in hover["resolved"] and hover["open"] == "c4"


def test_abandonment_and_conversion_rates() -> None:
    fig = as_json(charts.abandonment_conversion(chats_frame()))
    abandoned, converted = fig["data"]
    assert dict(zip(abandoned["x"], abandoned["y"], strict=True)) == {"sales": 0.0, "support": 0.5}
    assert dict(zip(converted["x"], converted["y"], strict=True)) == {"sales": 0.5, "support": 0.0}
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"


def test_reassignments_and_urgent_flags() -> None:
    chats = chats_frame().assign(n_assignments=[2, 1, 0, 3])
    (bar,) = as_json(charts.reassignments(chats))["data"]
    assert dict(zip(bar["x"], bar["y"], strict=True)) == {"ana": 1, "ben": 1}
    (urgent,) = as_json(charts.urgent_flags(chats_frame()))["data"]
    assert dict(zip(urgent["x"], urgent["y"], strict=True)) == {"sales": 1, "support": 1}
    assert "c4" in urgent["customdata"][1]


def test_message_volume_stacks_by_role() -> None:
    fig = as_json(charts.message_volume(messages_frame(), freq="1min"))
    totals = {t["name"]: sum(t["y"]) for t in fig["data"]}
    assert totals == {"ai": 1, "commercial": 1, "system": 1, "visitor": 4}
    assert fig["layout"]["barmode"] == "stack"


def test_latency_charts() -> None:
    t = pd.Timestamp("2025-01-15T09:00:00Z")
    latency = pd.DataFrame(
        {
            "at": [t, t, t],
            "kind": ["ping", "event_lag", "ping"],
            "value_ms": [10.0, 2.0, 12.0],
            "n": [1, 40, 1],
            "max_ms": [10.0, 9.0, 12.0],
        }
    )
    ping, lag = as_json(charts.ping_latency(latency))["data"]
    assert list(ping["y"]) == [10.0, 12.0] and list(lag["y"]) == [2.0]
    events = pd.DataFrame(
        {"direction": ["in", "in", "out"], "name": ["a", "b", "a"], "lag_ms": [1.0, 3.0, None]}
    )
    (hist,) = as_json(charts.event_lag(events))["data"]
    assert list(hist["x"]) == [1.0, 3.0]
    actions = pd.DataFrame(
        {
            "bot": ["B", None],
            "name": ["message:send", "chat:assign"],
            "chat_id": ["c1", "c2"],
            "mode": ["shadow", "live"],
            "processing_ms": [5.0, None],
            "ack_ms": [None, 7.0],
        }
    )
    decision, ack = as_json(charts.processing_time(actions))["data"]
    assert list(decision["y"]) == [5.0] and list(ack["y"]) == [7.0]
    assert decision["customdata"][0][0] == "c1"


def test_sentiment_charts_need_scores_and_show_text() -> None:
    with pytest.raises(ValueError, match="add_sentiment"):
        charts.sentiment_timeline(messages_frame())
    scored = gl.analysis.add_sentiment(
        messages_frame(), lambda text: -0.9 if "humano" in text else 0.4
    )
    scored["department"] = "sales"
    lines = as_json(charts.sentiment_timeline(scored))["data"]
    assert [t["name"] for t in lines] == ["c1", "c2"]  # the most negative chat first
    assert "quiero un humano" in lines[0]["customdata"]
    (box,) = as_json(charts.sentiment_distribution(scored))["data"]
    assert sorted(box["y"]) == [-0.9, 0.4, 0.4, 0.4]


def test_every_chart_draws_the_sample_recording() -> None:
    rec = gl.load("data/sample-session")
    scored = gl.analysis.add_sentiment(rec.messages, lambda text: -0.5 if "?" in text else 0.5)
    figures = [
        charts.ping_latency(rec.latency),
        charts.event_lag(rec.events),
        charts.time_to_assign(rec.chats),
        charts.time_to_first_response(rec.chats, by="hour"),
        charts.workload(rec.assignments, rec.chats),
        charts.reassignments(rec.chats),
        charts.close_reasons(rec.chats),
        charts.abandonment_conversion(rec.chats, by="hour"),
        charts.message_volume(rec.messages),
        charts.sentiment_timeline(scored),
        charts.sentiment_distribution(scored, by="hour"),
        charts.urgent_flags(rec.chats),
    ]
    for fig in figures:
        layout = as_json(fig)["layout"]
        assert layout["title"]["text"]
    workload = as_json(figures[4])["data"]
    assert len(workload) == rec.assignments["commercial_id"].nunique()
