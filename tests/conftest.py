"""Shared fixtures: a real simulator on an ephemeral loopback port and a real client."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

import guiders_lab as gl


async def wait_for(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll until ``predicate()`` holds; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture
def sim() -> Iterator[gl.SimulatorHandle]:
    """A busy simulated account, fast enough that every event type shows up in seconds."""
    with gl.launch_simulator("demo", seed=11, speed=600.0) as handle:
        yield handle


@pytest.fixture
def frozen_sim() -> Iterator[gl.SimulatorHandle]:
    """A simulator whose day never starts: only the test's own actions and injections."""
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as handle:
        yield handle


@pytest.fixture
async def live(sim: gl.SimulatorHandle) -> AsyncIterator[gl.LiveSession]:
    session = await gl.connect(sim, heartbeat_interval=0.5)
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture
def instant_sim() -> Iterator[gl.SimulatorHandle]:
    with gl.launch_simulator("demo", seed=5, speed=math.inf) as handle:
        yield handle
