"""Widgets in the kernel: filtering, selection, following a live session (the browser side
is in test_browser.py)."""

from __future__ import annotations

import asyncio
import time

import plotly.graph_objects as go
import pytest

import guiders_lab as gl

from .conftest import wait_for


@pytest.fixture(scope="module")
def rec() -> gl.Recording:
    return gl.load("data/sample-session")


def listed(inspector: gl.ChatInspector) -> list[str]:
    return [value for _, value in inspector.chat_list.options]


def test_inspector_lists_newest_first_and_shows_a_chat(rec: gl.Recording) -> None:
    inspector = gl.ChatInspector(rec)
    chats = rec.chats.sort_values("created_at", ascending=False)
    assert listed(inspector) == list(chats["chat_id"])
    target = listed(inspector)[10]
    inspector.select(target)
    assert f"data-chat='{target}'" in inspector.transcript.value
    n_messages = int(chats.set_index("chat_id").loc[target, "n_messages"])
    assert inspector.transcript.value.count("class='gl-message") == n_messages
    assert "created" in inspector.timeline.value and "closed" in inspector.timeline.value
    assert "times: server time (UTC)" in inspector.timeline.value  # one clock, labelled
    assert target in inspector.header.value


def test_inspector_filters_and_search(rec: gl.Recording) -> None:
    inspector = gl.ChatInspector(rec)
    inspector.department.value = "billing"
    billing = set(rec.chats.query("department == 'billing'")["chat_id"])
    assert set(listed(inspector)) == billing
    inspector.department.value = "(all)"
    inspector.search.value = "reembolso"
    hits = set(
        rec.messages[rec.messages["content"].str.contains("reembolso", case=False)]["chat_id"]
    )
    assert set(listed(inspector)) == hits and hits
    inspector.search.value = ""
    assert len(listed(inspector)) == len(rec.chats)
    assert f"of {len(rec.chats)} chats" in inspector.count.value
    inspector.department.value = "billing"
    with pytest.raises(KeyError):
        inspector.select(next(iter(set(rec.chats["chat_id"]) - billing)))


def test_inspector_sentiment_filter_uses_the_scorer_and_scored_messages(
    rec: gl.Recording,
) -> None:
    """Notebook 03's setup: ``scorer=`` and no SentimentMonitor notes. The filter said
    "0 of 126 chats" while the transcript showed -0.81."""
    scorer = gl.sentiment.score
    inspector = gl.ChatInspector(rec, scorer=scorer)
    inspector.sentiment.value = "negative"
    visitor = rec.messages.query("sender_role == 'visitor'")
    lowest = visitor.groupby("chat_id")["content"].agg(lambda t: min(scorer(x).score for x in t))
    assert set(listed(inspector)) == set(lowest[lowest <= -0.05].index) != set()
    inspector.sentiment.value = "not scored"
    assert set(listed(inspector)) == set(rec.chats["chat_id"]) - set(lowest.index)
    # the same from a frame scored with add_sentiment
    scored = gl.analysis.add_sentiment(rec.messages, lambda text: -0.5 if "?" in text else 0.5)
    inspector = gl.ChatInspector(rec, messages=scored)
    inspector.sentiment.value = "negative"
    asked = set(visitor[visitor["content"].str.contains("?", regex=False)]["chat_id"])
    assert set(listed(inspector)) == asked


def test_inspector_escapes_hostile_text() -> None:
    store = gl.Store()
    store.ingest(
        "message:new",
        (
            {
                "chatId": "c<script>",
                "messageId": "m1",
                "content": "<img src=x onerror=alert(1)>",
                "type": "user",
                "sender": {"id": "v", "name": "<b>Eve</b>", "role": "visitor"},
                "timestamp": "2025-01-15T10:00:00Z",
            },
        ),
        1736935200.0,
    )
    inspector = gl.ChatInspector(gl.Session(store, "test"))
    html = inspector.transcript.value + inspector.header.value
    assert "<img" not in html and "<script>" not in html and "&lt;img" in html


def test_inspector_scores_the_chat_on_screen(rec: gl.Recording) -> None:
    calls: list[str] = []

    def scorer(text: str) -> float:
        calls.append(text)
        return -0.7

    inspector = gl.ChatInspector(rec, scorer=scorer)
    assert "sentiment -0.70" in inspector.transcript.value
    messages = rec.messages
    visitor_lines = messages[
        (messages["chat_id"] == inspector.chat_list.value) & (messages["sender_role"] == "visitor")
    ]
    assert len(calls) == len(visitor_lines)  # only the chat on screen was scored


async def test_inspector_and_dashboard_follow_a_live_session() -> None:
    with gl.launch_simulator("demo", seed=6, speed=900) as sim:
        live = await gl.connect(sim, heartbeat_interval=0.3)
        try:
            await wait_for(lambda: len(live.store.chats) >= 3)
            inspector = gl.ChatInspector(live, interval=0.2)
            dashboard = gl.LiveDashboard(live, interval=0.2)
            assert inspector.follower.running and dashboard.follower.running
            chosen = listed(inspector)[-1]  # the oldest chat
            inspector.select(chosen)
            before = listed(inspector)
            # new chats are announced, never slid in above the rows under the pointer
            await wait_for(lambda: "new chat" in inspector.new_chats.description, timeout=20)
            assert inspector.new_chats.layout.display == "flex"
            assert listed(inspector) == before  # same rows, same places
            assert inspector.chat_list.value == chosen  # the selection survived refreshes
            inspector.new_chats.click()  # show them
            assert len(listed(inspector)) > len(before)
            assert (
                inspector.chat_list.value == chosen and inspector.new_chats.layout.display == "none"
            )
            await wait_for(lambda: dashboard.redraws >= 5, timeout=10)
            volume = sum(sum(trace.y) for trace in dashboard.volume.data)
            assert volume == dashboard._offsets["messages"] > 0  # every folded message counted
            assert len(dashboard.latency.data[0].x) >= 1  # pings arrived
            assert "events" in dashboard.counters.value
            inspector.close()
            dashboard.close()
            await asyncio.sleep(0.5)
            assert not inspector.follower.running and not dashboard.follower.running
        finally:
            await live.close()


def test_dashboard_reads_only_new_rows(rec: gl.Recording) -> None:
    dashboard = gl.LiveDashboard(rec)
    messages_before = sum(sum(trace.y) for trace in dashboard.volume.data)
    assert messages_before == len(rec.messages)
    dashboard.refresh()  # nothing new: the counts must not double
    # filled as data comes: never an "empty chart" note, axes shown, each clock named
    for figure in (dashboard.volume, dashboard.latency, dashboard.load):
        assert (
            not figure.figure.layout.annotations and figure.figure.layout.xaxis.visible is not False
        )
    assert dashboard.volume.figure.layout.xaxis.title.text == "server time (UTC)"
    assert dashboard.latency.figure.layout.xaxis.title.text == "this computer's time (UTC)"
    assert sum(sum(trace.y) for trace in dashboard.volume.data) == len(rec.messages)
    reasons = dict(zip(dashboard.outcomes.data[0].x, dashboard.outcomes.data[0].y, strict=True))
    assert reasons["resolved"] == (rec.chats["close_reason"] == "resolved").sum()
    # the chats carried per commercial: the very traces of gl.charts.workload
    assert carried(dashboard.load.figure) == carried(gl.charts.workload(rec.assignments, rec.chats))
    markers = [t for t in dashboard.load.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) == len(rec.assignments)  # all carried here
    capacity = rec.presence.query("role == 'commercial'").groupby("person_id")["max_chats"].last()
    for line in (t for t in dashboard.load.data if t.mode == "lines"):
        assert f"capacity {capacity[line.name]} chats" in line.hovertemplate


def carried(figure: go.Figure) -> dict[str, tuple[list, list, list | None]]:
    """The workload traces drawn, by name: x, y and hover data."""
    return {
        t.name: (list(t.x), list(t.y), None if t.customdata is None else list(t.customdata))
        for t in figure.data
        if len(t.x)
    }


async def test_widgets_follow_a_replay() -> None:
    session = gl.replay("data/sample-session", speed=float("inf"), progress=False, start=False)
    inspector = gl.ChatInspector(session, interval=0.1)
    dashboard = gl.LiveDashboard(session, interval=0.1)
    assert listed(inspector) == []
    session.start()
    await session.finished()

    # the first rows listed stay; later ones are announced, and a click shows them
    def shown_or_announced() -> bool:
        if inspector.new_chats.description:
            inspector.new_chats.click()
        return len(listed(inspector)) == len(session.chats)

    await wait_for(shown_or_announced, timeout=10)
    await wait_for(
        lambda: sum(sum(t.y) for t in dashboard.volume.data) == len(session.messages), timeout=10
    )
    # assignments folded as they came, chats closed after: the same chart as at the end
    chart = carried(gl.charts.workload(session.assignments, session.chats))
    await wait_for(lambda: carried(dashboard.load.figure) == chart, timeout=10)
    inspector.close()
    dashboard.close()
    await session.close()


async def test_widgets_catch_up_after_a_blocking_cell_and_stop_when_closed() -> None:
    """Widgets refresh on the kernel's loop: a blocking cell (time.sleep here) holds them,
    capture goes on behind it on its own thread, and the next refresh shows all of it."""
    with gl.launch_simulator("busy_afternoon", seed=9, speed=600) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        try:
            dashboard = gl.LiveDashboard(live, interval=0.2)
            await wait_for(lambda: dashboard.redraws >= 1, timeout=10)
            drawn = dashboard.redraws
            captured = len(live.store.tables["messages"])
            time.sleep(1.5)  # noqa: ASYNC251 (the point: a blocking cell; capture goes on)
            assert dashboard.redraws == drawn
            assert len(live.store.tables["messages"]) > captured
            await wait_for(
                lambda: sum(sum(t.y) for t in dashboard.volume.data) >= captured + 1, timeout=10
            )
            dashboard.close()
            redraws = dashboard.redraws
            await asyncio.sleep(0.6)
            assert dashboard.redraws == redraws and not dashboard.follower.running
        finally:
            await live.close()
