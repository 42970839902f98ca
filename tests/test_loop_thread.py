"""The background loops. A caller that leaves (cancelled) while its work on the loop is
failing must not leave "Task exception was never retrieved" behind (it was printed into
notebook 03 when a live session closed under a bot's send); a caller that stays gets the
exception. A busy socket wakes the capture loop at most once per ``min_gap`` (each
wake-up takes the GIL from the notebook's cell); a quiet one is read at once."""

from __future__ import annotations

import asyncio
import gc
import selectors
import socket
import threading
import time
from typing import Any

import pytest

from guiders_lab import _loop
from guiders_lab._loop import CoalescingSelector, LoopThread


async def failing_when_cancelled() -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:  # as the outbox: the send failed, recorded, raised
        raise RuntimeError("dropped before the server acknowledged it") from None


async def failing() -> None:
    await asyncio.sleep(0.01)
    raise RuntimeError("boom")


async def test_a_caller_that_leaves_leaves_no_unretrieved_exception() -> None:
    thread = LoopThread("test-loop")
    reported: list[dict[str, Any]] = []
    thread.loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        caller = asyncio.create_task(thread.run(failing_when_cancelled()))
        await asyncio.sleep(0.1)  # the work has started on the other loop
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.sleep(0.1)
        thread.submit(asyncio.sleep(0)).result(5)  # the loop ran its callbacks
        thread.call_soon(gc.collect)  # an unread task complains when it is collected
        await asyncio.sleep(0.1)
        gc.collect()
        assert [c.get("message") for c in reported] == []
        # a caller that waits still gets the error
        with pytest.raises(RuntimeError, match="boom"):
            await thread.run(failing())
    finally:
        thread.stop()


# ------------------------------------------------------------------ coalesced wake-ups
class FakeClock:
    """``time`` for the selector: a clock the test moves, and sleeps it records."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_selector_waits_out_the_gap_only_right_after_a_wakeup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(_loop, "time", clock)
    a, b = socket.socketpair()
    sel = CoalescingSelector(0.005)
    sel.register(b, selectors.EVENT_READ)
    try:
        a.send(b"1")
        assert len(sel.select(None)) == 1 and clock.sleeps == []  # first wake-up: at once
        b.recv(16)
        clock.now += 0.001
        a.send(b"2")
        assert len(sel.select(None)) == 1  # 1 ms after a wake-up: waits the other 4 ms
        assert clock.sleeps == [pytest.approx(0.004)]
        b.recv(16)
        a.send(b"3")
        assert len(sel.select(0)) == 1  # ready callbacks never wait
        assert len(sel.select(0.002)) == 1  # nor beyond the loop's own timeout
        assert clock.sleeps[1:] == [pytest.approx(0.002)]
        b.recv(16)
        clock.now += 0.010  # a quiet socket: read at once
        a.send(b"4")
        assert len(sel.select(None)) == 1 and len(clock.sleeps) == 2
        assert sel.wakeups == 5
        sel.min_gap = 0.0  # off
        assert len(sel.select(None)) == 1 and len(clock.sleeps) == 2
    finally:
        sel.close()
        a.close()
        b.close()


def test_a_busy_socket_is_read_in_few_wakeups_and_nothing_is_lost() -> None:
    """30 writes a millisecond apart, within the loop's 1 s gap after a first wake-up:
    one more wake-up reads them all (without the gap, up to 30)."""
    thread = LoopThread("test-coalescing", min_gap=1.0)
    a, b = socket.socketpair()
    b.setblocking(False)
    got = bytearray()
    done = threading.Event()

    def on_readable() -> None:
        got.extend(b.recv(65536))
        if len(got) >= 31:
            done.set()

    try:
        thread.call_soon(thread.loop.add_reader, b.fileno(), on_readable)
        thread.submit(asyncio.sleep(0)).result(5)
        a.send(b"0")  # the first wake-up
        for _ in range(30):
            time.sleep(0.001)
            a.send(b"x")
        assert done.wait(10)
        assert bytes(got) == b"0" + b"x" * 30
        # the reader's registration, the submit and the first byte: 1-3 wake-ups; then one
        assert thread.selector.wakeups <= 5
        assert thread.submit(asyncio.sleep(0, "still runs")).result(5) == "still runs"
    finally:
        thread.call_soon(thread.loop.remove_reader, b.fileno())
        thread.stop()
        a.close()
        b.close()
