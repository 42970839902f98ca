"""The background loops: a caller that leaves (cancelled) while its work on the loop is
failing must not leave "Task exception was never retrieved" behind (it was printed into
notebook 03 when a live session closed under a bot's send); a caller that stays gets the
exception."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from guiders_lab._loop import LoopThread


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
