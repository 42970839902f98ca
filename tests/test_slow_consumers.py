"""Slow consumers: a bot or a view slower than the stream never costs capture an event."""

from __future__ import annotations

import asyncio
import logging

import pytest

import guiders_lab as gl
from guiders_lab.bots.runner import BotRun

from .conftest import wait_for


class Sluggish(gl.bots.Bot):
    """Takes 20 ms per message: 50 messages/s against a stream of thousands."""

    def __init__(self) -> None:
        super().__init__()
        self.handled_ids: list[str] = []

    async def on_message(self, message, ctx):
        self.handled_ids.append(message.message_id)
        await asyncio.sleep(0.02)


async def test_a_slow_bot_is_bounded_and_capture_keeps_every_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="guiders_lab.bots.runner")
    total, limit = 6_000, 200
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        bot = Sluggish()
        slow = await live.run(bot, mode="shadow", backlog_limit=limit)
        unbounded = await live.run(gl.bots.SentimentMonitor(), backlog_limit=None)
        await sim.aflood(total, rate=3_000)
        await wait_for(lambda: live.store.counts.get("message:new", 0) >= total, timeout=30)
        m = live.metrics()
        assert m["bots"] == 2 and m["bot_skipped"] == slow.skipped > 0
        assert m["bot_lag_ms"] is not None and m["bot_lag_ms"] > 0
        assert m["bot_backlog"] > 0 and slow.backlog <= limit + 1  # queued + the one in hand
        await slow.drain(timeout=30)
        await unbounded.drain(timeout=30)
        assert slow.lag_ms == 0.0 and live.metrics()["bot_lag_ms"] == 0.0  # caught up
        await live.close()

    flood = live.messages[live.messages["message_id"].str.startswith("msg-flood-")]
    assert len(flood) == total and flood["message_id"].is_unique  # capture lost nothing
    s = slow.stats()
    assert s["max_backlog"] <= limit and s["backlog"] == 0
    assert s["events_seen"] == s["events_handled"] + s["skipped"]  # every event accounted for
    assert s["events_handled"] == len(bot.handled_ids) < total
    # the oldest were skipped: what the bot handled last is the end of the stream
    assert bot.handled_ids[-1] == f"msg-flood-{total - 1:09d}"
    # the last of a full backlog waited for the ~200 before it, 20 ms each
    assert s["max_lag_ms"] >= 1000 and s["max_lag_ms"] >= s["mean_lag_ms"] > 0
    assert "skipped" in repr(slow)
    warned = [r.getMessage() for r in caplog.records if r.name == "guiders_lab.bots.runner"]
    assert any("behind" in text and "skipped" in text for text in warned)
    # warnings are spaced out (1, 10, 100, ... skips), never one per event
    assert len(warned) <= len(str(slow.skipped))
    fast = unbounded.stats()
    assert fast["skipped"] == 0 and fast["events_handled"] == fast["events_seen"] >= total


async def test_a_failing_bot_keeps_the_last_errors_and_counts_them_all() -> None:
    class Broken(gl.bots.Bot):
        def on_message(self, message, ctx):
            raise ValueError(f"cannot read {message.message_id}")

    total = 400
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        run = await live.run(Broken())
        await sim.aflood(total)
        await wait_for(lambda: run.stats()["events_seen"] >= total, timeout=20)
        await run.drain(timeout=20)
        await live.close()
    assert run.error_count == run.stats()["errors"] == total
    assert len(run.errors) == 100 and run.errors[-1].endswith(f"msg-flood-{total - 1:09d}")
    assert len(live.actions.query("name == 'bot:error'")) == total  # all of them on record


def test_backlog_limit_is_checked() -> None:
    for bad in (0, -5, 2.5, "10"):
        with pytest.raises(ValueError, match="backlog_limit"):
            BotRun(gl.bots.SentimentMonitor(), None, "shadow", None, backlog_limit=bad)  # type: ignore[arg-type]


async def test_a_dashboard_shows_bot_lag_and_a_slow_view_costs_capture_nothing() -> None:
    total = 4_000
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        run = await live.run(Sluggish(), backlog_limit=50)
        dashboard = gl.LiveDashboard(live, follow=False)
        flood = asyncio.ensure_future(sim.aflood(total, rate=2_000))
        while not flood.done():  # a view redrawing flat out on the test's own thread
            dashboard.refresh()
            await asyncio.sleep(0)
        await wait_for(lambda: live.store.counts.get("message:new", 0) >= total, timeout=30)
        dashboard.refresh()
        counters = dashboard.counters.value
        await run.stop()
        await live.close()
    assert dashboard.redraws > 5
    assert "bot lag" in counters and "bot skipped" in counters
    assert live.messages["message_id"].str.startswith("msg-flood-").sum() == total
    assert live.metrics()["missing_events"] == 0


async def test_drain_gives_up_after_its_timeout_and_can_be_awaited_again() -> None:
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        bot = Sluggish()
        run = await live.run(bot, mode="shadow", backlog_limit=None)
        await sim.aflood(60, rate=3_000)
        await wait_for(lambda: live.store.counts.get("message:new", 0) >= 60, timeout=30)
        with pytest.raises(TimeoutError):
            await run.drain(timeout=0.05)  # 60 messages at 20 ms each take over a second
        assert run.backlog > 0
        await run.drain(timeout=30)
        assert run.backlog == 0 and len(bot.handled_ids) == 60
        await live.close()
