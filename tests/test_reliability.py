"""Reliability: nothing lost across drops and restarts, actions queued while offline,
hostile input by the thousand, slow consumers, SIGKILLed recorders, secrets and PII."""

from __future__ import annotations

import asyncio
import random

import pytest

import guiders_lab as gl

from .conftest import wait_for

RESILIENT = {
    "heartbeat_interval": None,
    "reconnection_delay": 0.1,
    "reconnection_delay_max": 0.4,
    "randomization_factor": 0.0,
    "reconnection_attempts": 0,
    "recovery_delay": 0.2,
}


def _newest_pending_chat(live: gl.LiveSession) -> str:
    """The youngest waiting chat: the least likely to be abandoned while a test acts on
    it (at speed 300 a simulated minute passes in 0.2 real seconds)."""
    pending = live.chats.query("status == 'pending'")
    return pending.sort_values("created_at")["chat_id"].iloc[-1]


async def test_no_event_lost_or_duplicated_across_drops_and_restarts() -> None:
    rng = random.Random(2026)
    total = 30_000
    with gl.launch_simulator("demo", seed=1, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, **RESILIENT)
        flood = asyncio.ensure_future(sim.aflood(total, rate=2_500))
        faults = []
        hit = 0  # faults that found the client connected (one may land mid-reconnect)
        for i in range(10):
            await asyncio.sleep(rng.uniform(0.3, 1.0))
            hit += live.connected
            if i % 2:
                down = rng.uniform(0.1, 0.5)
                sim.restart(down)  # blocks this test only: client and server run elsewhere
                faults.append(f"restart {down:.2f}s")
            else:
                sim.drop_connections()
                faults.append("drop")
        await flood
        await wait_for(
            lambda: (
                live.store.counts.get("message:new", 0) >= total
                and live.metrics()["missing_events"] == 0
            ),
            timeout=60,
        )
        assert sim.stats()["restarts"] == 5
        await live.close()
    messages = live.messages
    expected = {f"msg-flood-{i:09d}" for i in range(total)}
    assert set(messages["message_id"]) == expected  # nothing lost
    assert messages["message_id"].is_unique  # nothing twice
    incoming = live.events.query("direction == 'in' and status == 'ok'")
    assert incoming["server_seq"].is_unique
    m = live.metrics()
    assert m["missing_events"] == 0 and m["gaps_detected"] >= 1, faults
    assert m["reconnections"] + m["recoveries"] >= hit >= 3, faults
    # a resync cut short by the next fault is simply redone after the next reconnect
    assert m["resyncs"] >= 1 and m["replayed_events"] > 0


async def test_actions_wait_for_the_connection_in_order_and_never_twice() -> None:
    with gl.launch_simulator("unattended", seed=3, speed=300) as sim:
        live = await gl.connect(sim, **RESILIENT)
        await wait_for(lambda: (live.chats["status"] == "pending").sum() >= 1)
        chat = _newest_pending_chat(live)
        sim.down()
        await wait_for(lambda: not live.connected, timeout=5)
        sends = [asyncio.ensure_future(live.send_message(chat, f"mensaje {i}")) for i in range(5)]
        await wait_for(lambda: live.queued_actions == 5, timeout=5)
        assert not any(s.done() for s in sends)
        sim.up()
        acks = await asyncio.gather(*sends)
        await wait_for(lambda: live.messages["content"].str.startswith("mensaje").sum() == 5)
        await live.close()
    posted = live.messages[live.messages["content"].str.startswith("mensaje")]
    assert list(posted["content"]) == [f"mensaje {i}" for i in range(5)]  # in order, once
    assert len({a["messageId"] for a in acks}) == 5
    assert live.actions["ok"].all() and live.metrics()["queued_actions"] == 0


async def test_a_resent_action_is_applied_once() -> None:
    """An ack lost with the connection: the action goes again with the same key, and the
    server, which already acted, answers with the first result."""
    with gl.launch_simulator("unattended", seed=4, speed=300) as sim:
        live = await gl.connect(sim, **RESILIENT)
        await wait_for(lambda: (live.chats["status"] == "pending").sum() >= 1)
        chat = _newest_pending_chat(live)
        sim.faults.cut_after_action = "message:send"  # applied, then the ack is lost
        ack = await live.send_message(chat, "solo una vez")
        await wait_for(lambda: (live.messages["content"] == "solo una vez").any())
        await asyncio.sleep(0.5)
        await live.close()
    assert ack.get("duplicate") is True  # the retry was recognised
    assert (live.messages["content"] == "solo una vez").sum() == 1
    outs = live.events.query("direction == 'out' and name == 'message:send'")
    assert len(outs) == 2  # it crossed the wire twice, with one idempotency key
    assert outs["payload"].str.extract(r'"idempotencyKey":"(\w+)"')[0].nunique() == 1


async def test_a_full_outbox_says_so() -> None:
    with gl.launch_simulator("unattended", seed=5, speed=300) as sim:
        live = await gl.connect(sim, outbox_size=2, outbox_ttl=30, **RESILIENT)
        sim.down()
        await wait_for(lambda: not live.connected, timeout=5)
        waiting = [asyncio.ensure_future(live.notify("info", "supervisors")) for _ in range(2)]
        await wait_for(lambda: live.queued_actions == 2, timeout=5)
        with pytest.raises(gl.ActionQueueFullError, match="2 actions already wait"):
            await live.notify("info", "supervisors")
        sim.up()
        await asyncio.gather(*waiting)
        await live.close()


async def test_oversized_events_are_bounded_and_never_loop() -> None:
    """Above ``max_payload_bytes`` an event is quarantined with a preview; above
    ``max_frame_bytes`` the frame is refused unread (the socket closes with 1009), the
    client reconnects, and the resync skips that event instead of sending it again."""
    with gl.launch_simulator("demo", seed=6, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, max_payload_bytes=20_000, max_frame_bytes=200_000, **RESILIENT)
        sim.broadcast("visitor:online", {"visitorId": "v-ok-1", "name": "Ana"})
        sim.broadcast("visitor:online", {"visitorId": "v-big", "name": "x" * 50_000})
        sim.broadcast("visitor:online", {"visitorId": "v-huge", "name": "x" * 1_000_000})
        sim.broadcast("visitor:online", {"visitorId": "v-ok-2", "name": "Luis"})
        await wait_for(lambda: set(live.presence["person_id"]) >= {"v-ok-1", "v-ok-2"}, timeout=15)
        await asyncio.sleep(0.5)  # time for a (wrong) second replay of the huge one
        m = live.metrics()
        await live.close()
    assert m["oversized_frames"] == 1 and m["reconnections"] == 1, m  # no reconnect loop
    assert m["missing_events"] == 0 and m["resyncs"] == 1
    reasons = list(live.quarantine["reason"])
    assert any("oversized payload" in r for r in reasons)  # v-big: a preview kept
    assert any("200,000-byte limit refused" in r for r in reasons)  # v-huge, live
    assert any("skipped on resync" in r for r in reasons)  # ... and on the resync
    assert set(live.presence["person_id"]) == {"v-ok-1", "v-ok-2"}
    assert live.quarantine["size_bytes"].max() < 2_000_000


async def test_actions_sent_while_connected_go_out_concurrently() -> None:
    """The outbox is for a link that is down: while connected, concurrent actions (bots,
    a lab run) do not wait for each other's acks."""
    with gl.launch_simulator("unattended", seed=6, speed=300) as sim:
        live = await gl.connect(sim, **RESILIENT)
        sim.faults.ack_delay = 0.2  # a slow backend: every ack takes 0.2 s
        acks = await asyncio.gather(*(live.notify("info", "supervisors") for _ in range(8)))
        stats = sim.stats()
        await live.close()
    assert all(a["ok"] for a in acks) and live.metrics()["queued_actions"] == 0
    # several on the server at once, not one ack after another
    assert stats["peak_actions_in_flight"] >= 4, stats


async def test_an_action_whose_caller_gave_up_is_never_sent() -> None:
    with gl.launch_simulator("unattended", seed=7, speed=300) as sim:
        live = await gl.connect(sim, **RESILIENT)
        sim.down()
        await wait_for(lambda: not live.connected, timeout=5)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(live.notify("info", "supervisors", {"n": "given up"}), 0.5)
        await wait_for(lambda: live.queued_actions == 0, timeout=5)
        sim.up()
        await wait_for(lambda: live.connected, timeout=10)
        await live.notify("info", "supervisors", {"n": "this one"})  # the link works again
        await asyncio.sleep(0.5)
        await live.close()
    outs = live.events.query("direction == 'out' and name == 'notification:send'")
    assert len(outs) == 1 and "this one" in outs["payload"].iloc[0]


@pytest.mark.parametrize(
    "answer",
    [
        {"ok": False, "error": "Unknown event"},  # a plain-text error
        {"ok": True, "replayed": None, "skipped": [{"seq": "x"}, 5]},  # junk in the details
    ],
)
async def test_an_odd_resync_answer_still_releases_queued_actions(answer: dict) -> None:
    with gl.launch_simulator("unattended", seed=8, speed=300) as sim:
        live = await gl.connect(sim, **RESILIENT)
        sim.faults.sync_reply = answer
        sim.down()
        await wait_for(lambda: not live.connected, timeout=5)
        waiting = asyncio.ensure_future(live.notify("info", "supervisors"))
        await wait_for(lambda: live.queued_actions == 1, timeout=5)
        sim.up()
        ack = await asyncio.wait_for(waiting, 10)
        await live.close()
    assert ack["ok"] and live.metrics()["queued_actions"] == 0


async def test_skipped_entries_with_numbers_no_server_sends_are_ignored() -> None:
    """A resync answer saying it left out events with seq or size past 64 bits: those
    entries are ignored (and logged), never stored as rows Arrow cannot hold."""
    with gl.launch_simulator("demo", seed=1, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, **RESILIENT)
        sim.broadcast("visitor:online", {"visitorId": "v1"})  # with a seq
        await wait_for(lambda: len(live.store) == 1, timeout=5)
        sim.faults.sync_reply = {
            "ok": True,
            "replayed": 0,
            "complete": True,
            "skipped": [
                {"seq": 2**63, "event": "visitor:online", "bytes": 10},
                {"seq": 5, "event": "visitor:online", "bytes": 2**63},
                {"seq": 6, "event": "x" * 100_000, "bytes": 10},
                {"seq": 7, "event": "visitor:online", "bytes": 2_000_000},  # a real one
            ],
        }
        sim.drop_connections()
        await wait_for(lambda: live.metrics()["resyncs"] >= 1, timeout=10)
        await asyncio.sleep(0.2)
        await live.close()
    assert len(live.store) == len(live.events) == 2
    assert live.quarantine["reason"].str.contains("skipped on resync").tolist() == [True]
    assert live.metrics()["missing_events"] < 10


@pytest.mark.parametrize("frame", ['44{"message":"spoofed"}', "4"])
async def test_a_connect_error_mid_session_reconnects(frame: str) -> None:
    """python-socketio drops the namespace on a CONNECT_ERROR but keeps the socket: the
    session could no longer send and nothing reconnected. Now it starts again."""
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, **RESILIENT)
        sim.inject_frame(frame)
        await wait_for(lambda: live.metrics()["recoveries"] >= 1 and live.connected, timeout=15)
        ack = await live.notify("info", "supervisors")
        sim.inject("visitor:online", {"visitorId": "after"})
        await wait_for(lambda: "after" in set(live.presence["person_id"]), timeout=5)
        await live.close()
    assert ack["ok"] and live.metrics()["disconnects"] >= 1
    assert sim.stats()["clients"] <= 1  # the old socket was let go
