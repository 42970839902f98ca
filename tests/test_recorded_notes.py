"""What the kit derives during capture (bot notes such as ``min_sentiment``, escalations
from acknowledged updates) is journaled: a recording rebuilt from its journal equals the
Parquet one, table by table, in bulk and event by event."""

from __future__ import annotations

import asyncio

import pandas as pd

import guiders_lab as gl
from guiders_lab.record.load import rebuild

from .conftest import wait_for
from .test_batch_equivalence import assert_same_store


async def test_bot_notes_and_escalations_survive_a_rebuild(tmp_path) -> None:
    directory = tmp_path / "monitored"
    with gl.launch_simulator("busy_afternoon", seed=4, speed=600.0) as sim:
        live = await gl.connect(sim, record_to=directory, heartbeat_interval=None)
        monitor = await live.run(gl.bots.SentimentMonitor(), mode="live")
        await wait_for(lambda: live.metrics()["chats"] >= 40, timeout=60)
        await asyncio.sleep(0.5)
        await monitor.drain()
        await live.close()

    loaded = gl.load(directory)
    assert loaded.how == "loaded"
    chats = loaded.chats
    assert chats["min_sentiment"].notna().sum() >= 20
    assert chats["escalated"].sum() >= 1  # the monitor's acknowledged chat:update
    assert (chats["tags"].fillna("").str.contains("urgente")).sum() >= 1

    rebuilt = gl.load(directory, rebuild_tables=True)
    assert rebuilt.how == "rebuilt"
    for table in ("chats", "messages", "assignments", "events", "actions", "latency"):
        pd.testing.assert_frame_equal(
            getattr(rebuilt, table), getattr(loaded, table), check_exact=True, obj=table
        )
    assert_same_store(rebuild(directory, bulk=True), rebuild(directory, bulk=False))
