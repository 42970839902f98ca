"""Event lag measures the link: from the server's ``serverTime`` (pongs included), over the
first copy of each event delivered live. Duplicates and events re-delivered after a
reconnect (whose lag counts the outage) are left out of every statistic and counted."""

from __future__ import annotations

import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab.record.journal import JOURNAL_NAME, Journal
from guiders_lab.record.load import rebuild
from guiders_lab.store import Store
from guiders_lab.summary import format_summary, summarize

from .conftest import wait_for
from .test_chats_order import T0, message


def lagged(store: Store, seq: int, sent: float, received: float) -> None:
    name, (payload, meta) = message(0, seq, "visitor")
    store.ingest(name, (payload, {**meta, "serverTime": sent * 1000.0}), received)


def test_duplicates_and_re_delivered_events_are_left_out_of_lag_and_counted() -> None:
    store = Store(lag_window_s=60.0)
    lagged(store, 1, T0, T0 + 0.005)
    lagged(store, 2, T0 + 1, T0 + 1.007)
    lagged(store, 2, T0 + 1, T0 + 9.000)  # the same event again (seq 2)
    store.reconnected(T0 + 30)  # the link was down from about T0 + 2 to T0 + 30
    lagged(store, 3, T0 + 5, T0 + 30.5)  # sent during the outage, re-delivered
    lagged(store, 4, T0 + 31, T0 + 31.004)
    store.flush_lag()

    events = store.frame("events")
    assert events["delivery"].tolist() == ["live", "live", "live", "resync", "live"]
    assert events["status"].tolist() == ["ok", "ok", "duplicate", "ok", "ok"]
    window = store.frame("latency").query("kind == 'event_lag'")
    assert window["n"].sum() == 3
    assert window["max_ms"].max() == pytest.approx(7.0, abs=0.01)
    summary = gl.analysis.event_lag_summary(events).loc["all"]
    assert summary["n"] == 3 and summary["max"] == pytest.approx(7.0, abs=0.01)
    assert summary["n_duplicates"] == 1 and summary["n_resync"] == 1
    assert gl.Session(store, "unit").metrics()["redelivered_events"] == 1
    title = gl.charts.event_lag(events).layout.title.text
    assert "1 re-delivered" in title and "1 repeated" in title


def test_a_pong_has_the_lag_its_server_time_gives() -> None:
    store = Store()
    sent_ping_ms = T0 * 1000.0
    store.ingest(
        "pong", ({"timestamp": sent_ping_ms, "serverTime": sent_ping_ms + 4.0},), T0 + 0.010
    )
    row = store.frame("events").iloc[0]
    assert row["lag_ms"] == pytest.approx(6.0, abs=0.01)
    assert row["server_time"] == pd.Timestamp(sent_ping_ms + 4.0, unit="ms", tz="UTC")
    ping = store.frame("latency").query("kind == 'ping'").iloc[0]
    assert ping["value_ms"] == pytest.approx(10.0, abs=0.01)
    assert ping["server_time"] == row["server_time"]


def test_the_summary_and_report_use_live_deliveries_only() -> None:
    store = Store()
    lagged(store, 1, T0, T0 + 0.002)
    store.reconnected(T0 + 100)
    lagged(store, 2, T0 + 1, T0 + 100.1)  # 99 s of outage in it
    session = gl.Session(store, "unit")
    summary = summarize(session)
    assert summary["event_lag_ms_p95"] == pytest.approx(2.0, abs=0.01)
    assert summary["event_lag_left_out"] == 1
    assert "1 repeated or re-delivered left out" in format_summary(summary)


def test_a_rebuild_tells_re_delivered_events_apart_as_live_capture_did(tmp_path) -> None:
    """The reconnection is journaled (a ``link`` line), so rebuilding decides the same."""
    directory = tmp_path / "rec"
    directory.mkdir()
    store = Store()
    store.journal = Journal(directory)
    lagged(store, 1, T0, T0 + 0.002)
    store.reconnected(T0 + 50)
    for seq in range(2, 200):  # enough for the bulk path to take a batch
        lagged(store, seq, T0 + seq * 0.5, T0 + 50 + seq * 0.01)
    store.journal.close()
    store.flush_lag()
    rebuilt = rebuild(directory)
    for name in ("events", "latency"):
        pd.testing.assert_frame_equal(
            rebuilt.frame(name).drop(columns=["payload"], errors="ignore"),
            store.frame(name).drop(columns=["payload"], errors="ignore"),
            check_exact=True,
        )
    assert (rebuilt.frame("events")["delivery"] == "resync").sum() == 98  # sent before T0 + 50
    assert (directory / JOURNAL_NAME).read_text().count('"dir":"link"') == 1


async def test_a_guiders_v2_simulator_session_has_no_lag_from_its_simulated_day(
    tmp_path,
) -> None:
    """The guiders-v2 wire has no ``serverTime``, and a simulator's timestamps run on its
    compressed day (2025, 300x): no lag is made of them, nothing counts as re-delivered,
    and what was read over REST says ``backfill``. A rebuilt recording decides the same."""
    with gl.launch_simulator("demo", dialect="guiders-v2", seed=5, speed=300.0) as sim:
        live = await gl.connect(
            sim, record_to=tmp_path / "rec", close_poll_interval=0.5, heartbeat_interval=0.5
        )
        try:
            await wait_for(lambda: len(live.store.tables["messages"]) >= 20, timeout=30)
            await wait_for(lambda: live.store.counts.get("rest:chat-closed", 0) > 0, timeout=30)
            await wait_for(lambda: live.store.counts.get("ack:health-check", 0) > 1, timeout=10)
            late = await gl.connect(sim)  # finds open chats with history: reads it back
            try:
                await wait_for(lambda: late.store.counts.get("rest:message", 0) > 0, timeout=30)
            finally:
                await late.close()
        finally:
            await live.close()
    read_back = late.events[late.events["name"] == "rest:message"]
    assert (read_back["delivery"] == "backfill").all() and read_back["lag_ms"].isna().all()
    assert set(read_back["message_id"]) <= set(late.messages["message_id"])
    events = live.events
    incoming = events[events["direction"] == "in"]
    rest = incoming["name"].str.startswith("rest:")
    assert (incoming.loc[rest, "delivery"] == "backfill").all()
    assert (incoming.loc[~rest, "delivery"] == "live").all()
    assert incoming["server_time"].notna().sum() > 20  # the times are there, as the server said
    # only the heartbeat's answers carry the server's wall clock (like ai-api's pongs)
    acks = incoming["name"] == "ack:health-check"
    assert incoming.loc[~acks, "lag_ms"].isna().all()
    assert incoming.loc[acks, "lag_ms"].between(-1000, 1000).all()
    rebuilt = rebuild(tmp_path / "rec", Store("guiders-v2", simulated_clock=True))
    pd.testing.assert_frame_equal(
        rebuilt.frame("events")[["name", "delivery", "lag_ms"]],
        events[["name", "delivery", "lag_ms"]],
    )
    assert gl.load(tmp_path / "rec").manifest.simulated_clock
