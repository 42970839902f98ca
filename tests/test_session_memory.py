"""Session logic on an in-memory transport: actions, the outbox, errors, lockstep bots.

No server, no socket: each test runs in milliseconds. The session goes through the same
transport seam as with a socket (``gl.connect(transport=...)``); the integration tests
(test_live.py, test_reliability.py) show the same against the real simulator.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import guiders_lab as gl
from guiders_lab.transport import Lockstep, MemoryTransport

from .test_chats_order import T0, created, message

QUIET = {"heartbeat_interval": None}


async def push(transport: MemoryTransport, event: tuple[str, tuple[Any, ...]]) -> None:
    name, (payload, meta) = event
    await transport.push(name, payload, meta)


async def memory_session(handler: Any = None, **options: Any) -> tuple[Any, MemoryTransport]:
    transport = MemoryTransport(handler)
    live = await gl.connect(transport=transport, **{**QUIET, **options})
    return live, transport


async def test_events_pushed_land_in_the_tables() -> None:
    live, transport = await memory_session()
    await push(transport, created(0, 1))
    await push(transport, message(10, 2, "visitor"))
    assert live.kind == "memory" and live.connected
    assert len(live.messages) == 1 and live.chats["chat_id"].tolist() == ["chat-1"]
    await live.close()
    assert live.done and not live.connected


async def test_an_action_is_validated_sent_acknowledged_and_recorded() -> None:
    live, transport = await memory_session()
    ack = await live.send_message("chat-1", "hola")
    assert ack == {"ok": True}
    event, payload = transport.calls[0]
    assert event == "message:send" and payload["content"] == "hola"
    assert payload["idempotencyKey"]  # a resend would be applied once
    row = live.actions.iloc[0]
    assert row["ok"] and row["name"] == "message:send" and row["ack_ms"] >= 0
    assert live.events.query("direction == 'out'")["name"].tolist() == ["message:send"]
    with pytest.raises(gl.PayloadError, match="chatId"):
        await live.send_message("", "hola")
    assert len(transport.calls) == 1  # nothing sent for the bad payload
    await live.close()


async def test_a_refusal_raises_with_its_code_and_is_recorded() -> None:
    def refuse(event: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": False, "error": {"code": "CHAT_NOT_FOUND", "message": "no such chat"}}

    live, _ = await memory_session(refuse)
    with pytest.raises(gl.ActionError) as caught:
        await live.assign_chat("chat-9", "ana")
    assert caught.value.code == "CHAT_NOT_FOUND"
    row = live.actions.iloc[0]
    assert not row["ok"] and row["error_code"] == "CHAT_NOT_FOUND"
    assert live.metrics()["actions_failed"] == 1
    await live.close()


async def test_a_missing_ack_is_a_timeout() -> None:
    async def silent(event: str, payload: dict[str, Any]) -> dict[str, Any]:
        await asyncio.Event().wait()  # never answers
        raise AssertionError

    live, _ = await memory_session(silent, ack_timeout=0.05)
    with pytest.raises(gl.AckTimeoutError):
        await live.update_chat("chat-1", priority="high")
    assert live.actions.iloc[0]["error_code"] == "AckTimeoutError"
    await live.close()


async def test_actions_wait_in_the_outbox_while_the_link_is_down_and_go_in_order() -> None:
    live, transport = await memory_session()
    await transport.drop()
    sends = [asyncio.ensure_future(live.send_message("chat-1", f"m{i}")) for i in range(3)]
    await asyncio.sleep(0.05)
    assert live.queued_actions == 3 and not transport.calls
    await transport.restore()
    await asyncio.gather(*sends)
    assert [p["content"] for _, p in transport.calls] == ["m0", "m1", "m2"]
    assert live.queued_actions == 0
    await live.close()


async def test_a_full_outbox_refuses_and_an_expired_action_is_dropped() -> None:
    live, transport = await memory_session(outbox_size=1, outbox_ttl=0.1)
    await transport.drop()
    waiting = asyncio.ensure_future(live.send_message("chat-1", "first"))
    await asyncio.sleep(0.01)
    with pytest.raises(gl.ActionQueueFullError):
        await live.send_message("chat-1", "second")
    with pytest.raises(gl.ActionExpiredError):
        await waiting
    await transport.restore()
    assert not transport.calls  # neither went out behind the callers' backs
    assert live.actions["error_code"].tolist() == ["ActionQueueFullError", "ActionExpiredError"]
    await live.close()


async def test_a_cancelled_caller_s_queued_action_is_withdrawn() -> None:
    live, transport = await memory_session()
    await transport.drop()
    task = asyncio.ensure_future(live.send_message("chat-1", "never"))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await transport.restore()
    await asyncio.sleep(0.02)
    assert not transport.calls and live.queued_actions == 0
    await live.close()


class Greeter(gl.bots.Bot):
    def on_message(self, message: Any, ctx: Any) -> list[Any]:
        if message.sender_role == "visitor":
            return [gl.bots.SendMessage(message.chat_id, f"re: {message.content}")]
        return []


async def test_a_lockstep_bot_has_acted_on_each_event_before_the_next() -> None:
    live, transport = await memory_session()
    assert isinstance(transport, Lockstep)
    run = await live.run(Greeter(), mode="live")
    for seq in range(2, 7):
        await push(transport, message(seq, seq, "visitor"))
        # lockstep: once push returns, the bot has answered this very message
        assert len(transport.calls) == seq - 1
    assert run.stats()["actions"] == 5 and run.backlog == 0
    shadow = await live.run(Greeter(), mode="shadow")
    await push(transport, message(9, 9, "visitor"))
    assert shadow.stats()["actions"] == 1 and len(transport.calls) == 6  # the live one only
    await live.close()


async def test_a_bot_s_notes_and_the_session_s_metrics_come_through_the_same_seam() -> None:
    live, transport = await memory_session()
    monitor = await live.run(gl.bots.SentimentMonitor(), mode="shadow")
    name, (payload, meta) = message(1, 1, "visitor")
    payload = {**payload, "content": "Es una VERGÜENZA, quiero un reembolso YA!!!"}
    await transport.push(name, payload, meta, at=T0 + 1)
    assert live.chats.iloc[0]["min_sentiment"] < -0.5
    m = live.metrics()
    assert m["bots"] == 1 and m["state"] == "connected" and m["sent"] == 0
    assert monitor.stats()["actions"] >= 1
    await live.close()
    assert live.metrics()["state"] == "closed"
