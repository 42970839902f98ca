"""Charts: the right traces and values, and hover text that leads back to chats."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import guiders_lab as gl
from guiders_lab import charts

from . import workload_reference as ref
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
    fig = as_json(charts.time_to_first_response(chats_frame()))
    assert {t["name"]: list(t["y"]) for t in fig["data"]} == {"sales": [30, 240], "support": [60]}
    # what is drawn is what the glossary and the title say: from the chat's creation
    assert fig["layout"]["title"]["text"] == "Time to first response (from chat creation)"
    chats = chats_frame()
    expected = (chats["first_response_at"] - chats["created_at"]).dt.total_seconds().dropna()
    assert sorted(y for t in fig["data"] for y in t["y"]) == sorted(expected)


def test_close_reasons_counts_open_chats_and_lists_them() -> None:
    (bar,) = as_json(charts.close_reasons(chats_frame()))["data"]
    assert dict(zip(bar["x"], bar["y"], strict=True)) == {"abandoned": 1, "open": 1, "resolved": 2}
    hover = dict(zip(bar["x"], bar["customdata"], strict=True))
    assert "c1" in hover["resolved"] and "c2" in hover["resolved"] and hover["open"] == "c4"


def test_abandonment_and_conversion_rates() -> None:
    fig = as_json(charts.abandonment_conversion(chats_frame()))
    abandoned, converted = fig["data"]
    # over closed chats: support's c4 is still open, so its one closed chat (c3) abandoned
    assert dict(zip(abandoned["x"], abandoned["y"], strict=True)) == {"sales": 0.0, "support": 1.0}
    assert dict(zip(converted["x"], converted["y"], strict=True)) == {"sales": 0.5, "support": 0.0}
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert fig["layout"]["yaxis"]["title"]["text"] == "share of closed chats"
    assert "of 1 closed chats" in abandoned["hovertemplate"].replace("%{customdata}", "1")


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
    lines = [t for t in workload if t["mode"] == "lines"]  # plus one marker trace each
    assert len(lines) == len(workload) / 2 == rec.assignments["commercial_id"].nunique()


def _times(values: list) -> list[pd.Timestamp]:
    """Chart x values (ns integers once decoded, or strings) as UTC timestamps."""
    return list(pd.to_datetime(pd.Series(values), utc=True))


def test_workload_shows_every_carried_assignment_of_the_sample_session() -> None:
    rec = gl.load("data/sample-session")
    fig = as_json(charts.workload(rec.assignments, rec.chats))
    assert fig["layout"]["title"]["text"] == "Chats carried per commercial"
    spans = ref.intervals(rec.assignments, rec.chats)  # the brute-force reference
    markers = [t for t in fig["data"] if t["mode"] == "markers"]
    assert sum(len(t["x"]) for t in markers) == len(spans)
    hovered = {chat for t in markers for chat in t["customdata"]}
    assert hovered == {s.key[-1] for s in spans}
    assert all("%{customdata}" in t["hovertemplate"] for t in markers)
    lines = {t["name"]: t for t in fig["data"] if t["mode"] == "lines"}
    assert all(t["line"]["shape"] == "hv" for t in lines.values())
    levels = ref.levels(spans)
    for marker in markers:  # each marker sits on its commercial's line, at the true level
        who = marker["name"].removesuffix(" · assignments")
        line = dict(zip(_times(lines[who]["x"]), lines[who]["y"], strict=True))
        for t, y in zip(_times(marker["x"]), marker["y"], strict=True):
            assert y == levels[((who,), t)] == line[t]


def test_workload_marks_takes_at_the_instant_of_a_release() -> None:
    """Ana closes c1 at 100 s as c2 and c3 are assigned to her: her line goes from 1 to 2,
    never through 0 or 3, and all three assignments have a marker."""
    assignments, chats = ref.frames(
        [("c1", "ana", 0), ("c2", "ana", 100), ("c3", "ana", 100)], {"c1": 100}
    )
    fig = as_json(charts.workload(assignments, chats))
    line, marker = fig["data"]
    assert line["name"] == "ana" and marker["name"] == "ana · assignments"
    # from 0 at the first change, through each instant's final level, to the end of data
    assert _times(line["x"]) == [ref.at(0), ref.at(0), ref.at(100), ref.at(100)]
    assert list(line["y"]) == [0, 1, 2, 2]
    assert _times(marker["x"]) == [ref.at(0), ref.at(100), ref.at(100)]
    assert list(marker["customdata"]) == ["c1", "c2", "c3"]
    assert list(marker["y"]) == [1, 2, 2]  # on the line: the level each instant ends on


def test_binned_workload_says_what_it_draws() -> None:
    rec = gl.load("data/sample-session")
    fig = as_json(charts.workload(rec.assignments, rec.chats, freq="15min"))
    title = fig["layout"]["title"]["text"]
    assert "max in bin" in title and "time-weighted mean" in title and "15min" in title
    bins = gl.analysis.workload_bins(
        gl.analysis.workload_steps(rec.assignments, rec.chats), "15min"
    )
    traces = {t["name"]: t for t in fig["data"]}
    for commercial, rows in bins.groupby("commercial_id"):
        most = traces[f"{commercial} · max in bin"]
        mean = traces[f"{commercial} · time-weighted mean"]
        assert list(most["y"][:-1]) == rows["max_chats"].tolist()  # + a point at the end
        assert list(mean["y"][:-1]) == pytest.approx(rows["mean_chats"].tolist())
        assert _times(most["x"][:-1]) == list(rows["at"])
        assert [n for n, _ in most["customdata"][:-1]] == rows["assignments"].tolist()
    listed = {
        c
        for t in fig["data"]
        if "max in bin" in t["name"]
        for _, ids in t["customdata"]
        for c in ids.split("<br>")
        if c.startswith("chat-")
    }
    assert listed <= set(rec.assignments["chat_id"]) and len(listed) > 0


def test_workload_bins_itself_when_the_steps_are_too_many() -> None:
    n = 10_001  # 20,002 changes: more than a browser should draw point by point
    assignments, chats = ref.frames(
        [(f"c{i}", f"p{i % 7}", i * 10.0) for i in range(n)],
        {f"c{i}": i * 10.0 + 25 for i in range(n)},
    )
    fig = as_json(charts.workload(assignments, chats))
    assert "max in bin" in fig["layout"]["title"]["text"]
    assert {t["name"].split(" · ")[1] for t in fig["data"]} == {"max in bin", "time-weighted mean"}
    assert sum(len(t["x"]) for t in fig["data"]) < 2_000


def test_workload_of_a_dataset_names_the_session() -> None:
    a1, c1 = ref.frames([("c1", "ana", 0)], {"c1": 50}, "A")
    a2, c2 = ref.frames([("c1", "ana", 10)], {"c1": 30}, "B")
    fig = as_json(charts.workload(pd.concat([a1, a2]), pd.concat([c1, c2])))
    lines = {t["name"]: t for t in fig["data"] if t["mode"] == "lines"}
    assert set(lines) == {"A · ana", "B · ana"}
    assert _times(lines["B · ana"]["x"])[-1] == ref.at(30)  # each session ends on its own
    assert max(lines["A · ana"]["y"]) == max(lines["B · ana"]["y"]) == 1


def _said(fig: go.Figure) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


def test_empty_charts_say_why() -> None:
    """Before: the urgent-flags and reassignment charts of an ordinary session were bare
    axes with no word why."""
    rec = gl.load("data/sample-session")
    moved = (rec.chats["n_assignments"] > 1).sum()
    assigned = (rec.chats["n_assignments"] > 0).sum()
    assert moved == 0 and not rec.chats["escalated"].any()  # the sample: nothing to draw
    assert f"each of the {assigned} assigned chats kept its first commercial" in _said(
        charts.reassignments(rec.chats)
    )
    urgent = charts.urgent_flags(rec.chats)
    assert f"No chat flagged urgent (of {len(rec.chats)})" in _said(urgent)
    assert urgent.layout.xaxis.visible is False
    none = rec.chats.iloc[:0]
    for fig, why in (
        (charts.time_to_assign(none), "No chat has been assigned yet"),
        (charts.time_to_first_response(none), "No chat has a first response yet"),
        (charts.close_reasons(none), "No chats yet"),
        (charts.abandonment_conversion(none), "No closed chats yet"),
        (charts.workload(rec.assignments.iloc[:0], none), "No assignments"),
        (charts.message_volume(rec.messages.iloc[:0]), "No messages yet"),
        (charts.ping_latency(rec.latency.iloc[:0]), "No pings"),
        (charts.event_lag(rec.events.iloc[:0]), "No event lag"),
        (charts.processing_time(rec.actions.iloc[:0]), "No actions timed"),
    ):
        assert why in _said(fig), fig.layout.title.text
    drawn = charts.close_reasons(rec.chats)  # something to draw: no note
    assert _said(drawn) == ""


def test_groups_resting_on_few_chats_say_so() -> None:
    rec = gl.load("data/sample-session")
    fig = charts.abandonment_conversion(rec.chats, by="hour")
    closed = gl.analysis.outcome_summary(gl.analysis.chat_outcomes(rec.chats), by="hour")
    closed = closed[closed["closed"] > 0]["closed"]
    assert list(fig.data[0].x) == [str(h) for h in closed.index]
    noted = {a.x: a.text for a in fig.layout.annotations}
    assert noted == {str(h): f"n={n}, few chats" for h, n in closed.items() if n < 10}
    assert noted and any(n >= 10 for n in closed)
    boxes = charts.time_to_assign(rec.chats)
    per = gl.analysis.chat_outcomes(rec.chats).dropna(subset=["time_to_assign_s"])
    per = per.groupby("commercial_id").size()
    assert {a.x for a in boxes.layout.annotations} == {c for c, n in per.items() if n < 10}
