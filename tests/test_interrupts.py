"""Interrupting the kernel during a long await stops the work and fails the cell (issue 17):
a replay's wait stops the playback, a live session's wait leaves capture running, a bot's
pass over a recording stops; each raises gl.Interrupted (never a bare CancelledError),
while a cancellation by code (a timeout) stays a cancellation."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest

import guiders_lab as gl

from .conftest import wait_for

SAMPLE = "data/sample-session"


@pytest.fixture
def kernel_interrupt() -> Iterator[Any]:
    """What ipykernel does on an interrupt: SIGINT cancels the cell's task."""
    previous = signal.getsignal(signal.SIGINT)
    cells: list[asyncio.Task[Any]] = []

    def cell(awaitable: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(awaitable)
        loop = asyncio.get_running_loop()
        signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(task.cancel))
        cells.append(task)
        return task

    yield cell
    signal.signal(signal.SIGINT, previous)


async def test_interrupting_a_replays_wait_stops_the_playback(kernel_interrupt: Any) -> None:
    session = gl.replay(SAMPLE, speed=1.0, progress=False)
    waiting = kernel_interrupt(session.finished())
    await wait_for(lambda: len(session.store) > 5, timeout=30)
    signal.raise_signal(signal.SIGINT)
    with pytest.raises(gl.Interrupted, match="the replay stopped; its tables hold the") as info:
        await waiting
    assert not isinstance(info.value.__cause__, asyncio.CancelledError)
    played = len(session.store)
    await asyncio.sleep(0.5)
    assert len(session.store) == played < 3310  # no more playback behind the user's back


async def test_interrupting_a_wait_on_a_live_session_leaves_capture_running(
    kernel_interrupt: Any,
) -> None:
    with gl.launch_simulator("busy_afternoon", seed=2, speed=300) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        try:
            waiting = kernel_interrupt(live.wait_for(lambda s: False, timeout=60))
            await asyncio.sleep(0.3)
            signal.raise_signal(signal.SIGINT)
            with pytest.raises(gl.Interrupted, match="capture goes on"):
                await waiting
            before = len(live.store)
            await wait_for(lambda: len(live.store) > before, timeout=10)
        finally:
            await live.close()


async def test_interrupting_a_bots_pass_over_a_recording_stops_it(kernel_interrupt: Any) -> None:
    rec = gl.load(SAMPLE)

    class Slow(gl.bots.Bot):
        async def on_message(self, m: Any, ctx: Any) -> None:
            await asyncio.sleep(0.01)

    bot = Slow()
    passing = kernel_interrupt(rec.run(bot))
    await asyncio.sleep(0.5)
    signal.raise_signal(signal.SIGINT)
    with pytest.raises(gl.Interrupted, match="pass over the recording interrupted"):
        await passing


async def test_a_timeout_is_still_a_timeout() -> None:
    """Cancelled by code, not by the user: asyncio's own semantics are kept."""
    session = gl.replay(SAMPLE, speed=1.0, progress=False)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await session.finished()
    finally:
        await session.close()


async def test_interrupting_a_bot_drain_fails_the_cell_and_leaves_the_bot(
    kernel_interrupt: Any,
) -> None:
    session = gl.replay(SAMPLE, speed=float("inf"), progress=False, start=False)

    class Stuck(gl.bots.Bot):
        async def on_message(self, m: Any, ctx: Any) -> None:
            await asyncio.sleep(3600)

    run = await session.run(Stuck(), mode="shadow")
    session.start()
    try:
        await wait_for(lambda: run.backlog > 0, timeout=10)  # held by the stuck bot
        draining = kernel_interrupt(run.drain())
        await asyncio.sleep(0.3)
        signal.raise_signal(signal.SIGINT)
        with pytest.raises(gl.Interrupted, match=r"the bot drain interrupted; .* still queued"):
            await draining
    finally:
        await run.stop()
        await session.close()
