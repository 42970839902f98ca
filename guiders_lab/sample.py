"""The committed sample session: a simulated day recorded with a fixed seed.

    guiders-lab sample data/sample-session --seed 7 --hours 3

regenerates it; apart from wall-clock fields (receive times ``t``, the simulator's
``serverTime``, the manifest's start, end and server port, and the event-lag windows of the
``latency`` table) the result is identical, line for line.
"""

from __future__ import annotations

import math
from pathlib import Path

from .connect import connect
from .record.manifest import Manifest
from .sim import get_scenario, launch_simulator

__all__ = ["WALL_CLOCK_FIELDS", "record_sample"]

# fields that depend on when the sample was recorded, not on the seed
WALL_CLOCK_FIELDS = (
    "t",
    "serverTime",
    "received_at",
    "server_time",
    "lag_ms",
    "started_at",
    "ended_at",
    "decided_at",
    "acked_at",
    "at",
)


async def record_sample(
    out: str | Path, *, seed: int = 7, hours: float = 3.0, scenario: str = "demo"
) -> Manifest:
    """Run a whole simulated day flat out and record every event of it."""
    config = get_scenario(scenario).with_(hours=hours)
    with launch_simulator(config, seed=seed, speed=math.inf) as sim:
        live = await connect(sim, record_to=out, overwrite=True, heartbeat_interval=None)
        try:
            await live.wait_for(
                lambda s: (
                    sim.snapshot()["pending_events"] == 0
                    and sum(s.counts().values()) == sim.server.seq
                ),
                timeout=300,
                interval=0.1,
            )
        finally:
            await live.close()
    assert live.manifest is not None
    return live.manifest
