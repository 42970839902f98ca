"""The real client against the real simulator on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
import socketio

import guiders_lab as gl
from guiders_lab.dialects.ai_api.wire import SERVER_EVENTS
from guiders_lab.sim.engine import chat_room
from guiders_lab.store import TABLES

from .conftest import wait_for

ACTION_TOKENS = {
    "ai-token": "ai",
    "sup-token": "supervisor",
    "lucia-token": "commercial:commercial-lucia",
}


@pytest.fixture
def unattended_sim():
    """Chats stay pending (no backend auto-assignment), so the test decides who answers."""
    with gl.launch_simulator("unattended", seed=21, speed=120.0, tokens=ACTION_TOKENS) as sim:
        yield sim


async def first_open_chat(live: gl.LiveSession) -> str:
    await wait_for(lambda: (live.chats["status"] == "pending").any(), timeout=15)
    chats = live.chats
    return chats.loc[chats["status"] == "pending", "chat_id"].iloc[0]


async def test_every_server_event_type_lands_in_its_table(sim: gl.SimulatorHandle) -> None:
    live = await gl.connect(sim, heartbeat_interval=0.3)
    try:
        await wait_for(lambda: len(live.store.chats) > 0)
        chat_id = live.chats["chat_id"].iloc[0]
        await live.join_chat(chat_id)  # typing events only reach a chat's room
        with pytest.raises(gl.ActionError):
            await live.assign_chat(chat_id, "commercial-nobody")  # the server emits `error`
        await wait_for(lambda: set(SERVER_EVENTS) <= set(live.counts()), timeout=20)
    finally:
        await live.close()
    expected_rows = {
        "messages": "message:new",
        "assignments": "chat:assigned",
        "typing_events": "typing:start",
        "errors": "error",
        "visitor_actions": "visitor:action",
    }
    for table, event in expected_rows.items():
        frame = live.table(table)
        assert list(frame.columns) == list(TABLES[table]._fields)
        assert len(frame) >= 1, f"{event} did not reach {table}"
    presence = live.presence
    assert {"visitor", "commercial"} <= set(presence["role"])
    assert (live.latency["kind"] == "ping").any()
    chats = live.chats
    assert chats["created_at"].notna().any() and chats["closed_at"].notna().any()
    events = live.events
    assert set(SERVER_EVENTS) <= set(events["name"])
    assert {"in", "out"} == set(events["direction"])
    assert len(live.quarantine) == 0
    messages = live.messages
    assert messages["message_id"].is_unique
    assert set(messages["sender_role"]) >= {"visitor", "commercial", "system"}
    assert messages["sent_at"].notna().all() and messages["department"].notna().all()


async def test_client_actions_round_trip(unattended_sim: gl.SimulatorHandle) -> None:
    sim = unattended_sim
    ai = await gl.connect(sim.url, "ai-token", heartbeat_interval=60)
    supervisor = await gl.connect(sim.url, "sup-token", heartbeat_interval=60)
    lucia = await gl.connect(sim.url, "lucia-token", heartbeat_interval=60)
    try:
        chat_id = await first_open_chat(ai)
        visitor_id = ai.chats.set_index("chat_id").loc[chat_id, "visitor_id"]

        # chat:join, then typing relayed to the room (not back to the sender)
        assert (await ai.join_chat(chat_id))["room"] == chat_room(chat_id)
        await supervisor.join_chat(chat_id)
        await ai.typing(chat_id, True)
        await ai.typing(chat_id, False)
        await wait_for(lambda: len(supervisor.typing_events.query("typer_id == 'ai-bot'")) == 2)
        assert not (ai.typing_events["typer_id"] == "ai-bot").any()

        # message:send comes back as message:new from the AI
        ack = await ai.send_message(
            chat_id,
            "Hola, soy el asistente virtual.",
            metadata={
                "aiModel": "echo",
                "confidence": 0.9,
                "processingTime": 12,
                "isAutomated": True,
            },
        )
        await wait_for(lambda: (ai.messages["message_id"] == ack["messageId"]).any())
        reply = ai.messages.set_index("message_id").loc[ack["messageId"]]
        assert reply["type"] == "ai-response" and reply["is_ai"] and reply["sender_role"] == "ai"
        assert reply["ai_model"] == "echo" and reply["confidence"] == 0.9
        assert ai.chats.set_index("chat_id").loc[chat_id, "first_ai_response_at"] is not None

        # chat:assign -> chat:assigned -> chats table; the commercial then answers
        await ai.assign_chat(
            chat_id, "commercial-lucia", reason="Consulta compleja", metadata={"algorithm": "test"}
        )
        await wait_for(lambda: (ai.assignments["chat_id"] == chat_id).any())
        assignment = ai.assignments.set_index("chat_id").loc[chat_id]
        assert assignment["commercial_id"] == "commercial-lucia"
        assert assignment["assigned_by"] == "ai-system"
        assert json.loads(assignment["metadata"]) == {"algorithm": "test"}
        await wait_for(
            lambda: (
                ai.chats.set_index("chat_id").loc[chat_id, "commercial_id"] == "commercial-lucia"
            )
        )
        await wait_for(
            lambda: (
                (ai.messages["chat_id"] == chat_id) & (ai.messages["sender_role"] == "commercial")
            ).any(),
            timeout=15,
        )

        # chat:update changes priority and tags
        ack = await ai.update_chat(chat_id, tags=["urgente"], priority="high")
        assert ack["priority"] == "high" and "urgente" in ack["tags"]
        row = ai.chats.set_index("chat_id").loc[chat_id]
        assert row["escalated"] and row["priority"] == "high"

        # notification:send reaches only its target room
        ack = await ai.notify("sentiment_alert", "supervisors", {"chatId": chat_id})
        assert ack["delivered"] == 1
        await wait_for(lambda: "notification:send" in supervisor.counts())
        assert "notification:send" not in lucia.counts()

        # assistance:suggestions reach only that commercial
        ack = await ai.suggest(chat_id, "commercial-lucia", ["Ofrece envío gratis"])
        assert ack["delivered"] == 1
        await wait_for(lambda: "assistance:suggestions" in lucia.counts())
        assert "assistance:suggestions" not in supervisor.counts()

        # trigger:high_conversion_flow raises the visitor's chance and shows an offer
        ack = await ai.trigger_conversion(visitor_id)
        assert ack["conversionBoost"] > 0
        await wait_for(
            lambda: (
                (ai.visitor_actions["visitor_id"] == visitor_id)
                & (ai.visitor_actions["action"] == "offer_view")
            ).any()
        )

        # ping -> pong
        assert await ai.ping() > 0
        await wait_for(lambda: (ai.latency["kind"] == "ping").any())

        # a refused action raises and is recorded with its code
        with pytest.raises(gl.ActionError) as err:
            await ai.assign_chat(chat_id, "commercial-ghost")
        assert err.value.code == "COMMERCIAL_NOT_FOUND"
        actions = ai.actions
        assert actions["ok"].sum() >= 9
        failed = actions[actions["ok"] == False]  # noqa: E712 (nullable boolean column)
        assert list(failed["error_code"]) == ["COMMERCIAL_NOT_FOUND"]
        assert ai.metrics()["messages_sent"] == 1
    finally:
        for session in (ai, supervisor, lucia):
            await session.close()


async def test_invalid_payload_raises_before_sending(live: gl.LiveSession) -> None:
    sent_before = live.store.sent
    with pytest.raises(gl.PayloadError) as err:
        await live.emit("message:send", {"content": "hola"})
    assert err.value.field == "chatId"
    with pytest.raises(ValueError, match="priority"):
        await live.update_chat("chat-1", priority="asap")
    with pytest.raises(gl.PayloadError):
        await live.send_message(123, "hola")  # type: ignore[arg-type]
    assert live.store.sent == sent_before
    assert len(live.actions) == 0


async def test_server_rejects_bad_client_payloads_with_a_clear_ack(
    sim: gl.SimulatorHandle,
) -> None:
    # a raw client, to get past the kit's own validation and test the simulator's
    raw = socketio.AsyncClient(reconnection=False)
    errors: list[dict] = []
    raw.on("error", errors.append)
    await raw.connect(sim.url, auth={"token": sim.token}, transports=["websocket"])
    try:
        ack = await raw.call("chat:update", {"chatId": "c", "updates": {"priority": 9}}, timeout=5)
        assert ack["ok"] is False and ack["error"]["code"] == "INVALID_PAYLOAD"
        assert "updates.priority" in ack["error"]["message"]
        ack = await raw.call("message:send", ["not", "an", "object"], timeout=5)
        assert ack["error"]["code"] == "INVALID_PAYLOAD"
        ack = await raw.call("chat:explode", {}, timeout=5)
        assert ack["error"]["code"] == "UNKNOWN_EVENT"
        ack = await raw.call("chat:join", {"chatId": "chat-missing"}, timeout=5)
        assert ack["error"]["code"] == "CHAT_NOT_FOUND"
        await wait_for(lambda: len(errors) == 4)
        assert [e["event"] for e in errors] == [
            "chat:update",
            "message:send",
            "chat:explode",
            "chat:join",
        ]
    finally:
        await raw.disconnect()


async def test_bad_or_missing_token_is_refused(sim: gl.SimulatorHandle) -> None:
    with pytest.raises(gl.AuthenticationError, match="invalid token") as err:
        await gl.connect(sim.url, "wrong-token-123", reconnection_attempts=0)
    assert "wrong-token-123" not in str(err.value)
    with pytest.raises(ValueError, match="empty"):
        await gl.connect(sim.url, "")


async def test_server_refuses_a_client_without_auth(sim: gl.SimulatorHandle) -> None:
    raw = socketio.AsyncClient(reconnection=False)
    refused = []
    raw.on("connect_error", lambda data: refused.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await raw.connect(sim.url, transports=["websocket"], wait_timeout=5)
    assert "auth.token" in refused[0]["message"]


async def test_unreachable_server_gives_a_clear_error() -> None:
    with pytest.raises(gl.ConnectionFailedError, match="could not connect"):
        await gl.connect("http://127.0.0.1:9", "tok", timeout=2)


async def test_malformed_events_are_quarantined_and_capture_goes_on(
    frozen_sim: gl.SimulatorHandle,
) -> None:
    live = await gl.connect(frozen_sim, heartbeat_interval=60)
    try:
        good = {
            "chatId": "chat-q",
            "messageId": "m-good-1",
            "content": "hola",
            "type": "user",
            "sender": {"id": "v-1", "name": "Ana", "role": "visitor"},
            "timestamp": "2025-01-15T10:00:00Z",
        }
        frozen_sim.inject("message:new", good)
        frozen_sim.inject("message:new", {**good, "chatId": 42})  # wrong type
        frozen_sim.inject("chat:closed", {"chatId": "x", "closedAt": "someday"})  # bad date
        frozen_sim.inject("message:new", b"\x89PNG binary")  # binary attachment
        frozen_sim.inject_frame('2["message:new",{"chatId": broken')  # not JSON at all
        frozen_sim.inject_frame("2{}")  # an event packet that is not a list
        frozen_sim.inject("visitor:online", {"visitorId": "v-2", "name": "x" * 2_000_000})
        frozen_sim.inject("message:new", {**good, "messageId": "m-good-2"})
        await wait_for(lambda: len(live.messages) == 2 and len(live.quarantine) == 6)
        assert live.connected
    finally:
        await live.close()
    reasons = " | ".join(live.quarantine["reason"])
    for fragment in ("chatId", "closedAt", "binary", "undecodable", "not [name", "oversized"):
        assert fragment in reasons
    assert list(live.messages["message_id"]) == ["m-good-1", "m-good-2"]


async def test_reconnect_rejoins_rooms(unattended_sim: gl.SimulatorHandle) -> None:
    sim = unattended_sim
    live = await gl.connect(
        sim.url,
        "ai-token",
        reconnection_delay=0.1,
        reconnection_delay_max=0.2,
        randomization_factor=0.0,
        heartbeat_interval=60,
    )
    try:
        chat_id = await first_open_chat(live)
        await live.join_chat(chat_id)
        room = chat_room(chat_id)
        assert [who.role for who in sim.server.members(room)] == ["ai"]
        captured_before = len(live.store)
        assert sim.drop_connections() >= 1
        await wait_for(lambda: live.metrics()["reconnections"] == 1, timeout=10)
        await wait_for(lambda: [w.role for w in sim.server.members(room)] == ["ai"], timeout=5)
        m = live.metrics()
        assert m["disconnects"] == 1 and m["connected"] and m["rooms"] == 1
        assert len(live.store) >= captured_before  # nothing captured before is lost
        await live.ping()  # and the link works again
    finally:
        await live.close()


async def test_async_context_manager_and_repr(sim: gl.SimulatorHandle) -> None:
    async with await gl.connect(sim) as live:
        await wait_for(lambda: len(live.store) > 5)
        text = repr(live)
        assert text.startswith("<LiveSession ai-api http://127.0.0.1:") and "connected" in text
        assert "\n" not in text
        assert "<table>" in live._repr_html_()
    assert "closed" in repr(live)
    assert not live.connected
    with pytest.raises(gl.NotConnectedError):
        await live.ping()


async def test_polling_fallback_when_websocket_is_unavailable() -> None:
    with gl.launch_simulator("demo", seed=4, speed=600, transports=("polling",)) as sim:
        live = await gl.connect(sim, heartbeat_interval=0.5)
        try:
            await wait_for(lambda: live.counts().get("message:new", 0) > 20, timeout=20)
            assert live.metrics()["transport"] == "polling"
            assert await live.ping() > 0
        finally:
            await live.close()
    assert len(live.quarantine) == 0


async def test_consecutive_errors_disconnect_and_recover(
    unattended_sim: gl.SimulatorHandle,
) -> None:
    """The page's ManejadorErroresWS: N errors in a row -> disconnect -> backoff -> back.

    Rejected actions do not count (their ack proves the link works); ``error`` events that
    no acknowledged action explains do."""
    live = await gl.connect(
        unattended_sim.url, "ai-token", max_errors=3, recovery_delay=0.1, heartbeat_interval=3600
    )
    try:
        await wait_for(lambda: live.counts().get("pong", 0) >= 1)
        for _ in range(4):  # a refused action: error event + {ok: false} ack
            with pytest.raises(gl.ActionError):
                await live.join_chat("chat-that-does-not-exist")
        assert live.metrics()["recoveries"] == 0 and live.metrics()["consecutive_errors"] <= 1
        for i in range(3):
            unattended_sim.inject("error", {"code": "INTERNAL", "message": f"boom {i}"})
        await wait_for(lambda: live.metrics()["recoveries"] >= 1, timeout=10)
        await wait_for(lambda: live.connected, timeout=10)
        m = live.metrics()
        assert m["errors"] >= 7 and m["actions_failed"] == 4
        assert m["consecutive_errors"] == 0  # reset by the good connection
        assert m["state"] == "connected" and m["disconnects"] == 1
        assert await live.ping() > 0
    finally:
        await live.close()


async def test_a_vanishing_server_fails_pending_actions_fast_and_keeps_data() -> None:
    sim = gl.launch_simulator("unattended", seed=9, speed=120, tokens="tok")
    live = await gl.connect(
        sim.url,
        "tok",
        heartbeat_interval=3600,
        reconnection_attempts=1,
        reconnection_delay=0.1,
        recovery_delay=30,
        outbox_ttl=0.5,
    )
    try:
        chat_id = await first_open_chat(live)
        captured = len(live.events)
        sim.stop()  # the server goes away for good
        await wait_for(lambda: not live.connected, timeout=10)
        with pytest.raises(gl.ActionExpiredError, match=r"not delivered within 0\.5 s"):
            await live.send_message(chat_id, "¿Sigues ahí?")  # it waited, then gave up
        assert len(live.events) >= captured and len(live.chats) >= 1  # nothing lost
        assert live.metrics()["disconnects"] == 1 and live.metrics()["queued_actions"] == 0
        failed = live.actions.iloc[-1]
        assert not failed["ok"] and failed["error_code"] == "ActionExpiredError"
    finally:
        await live.close()
        sim.stop()


async def test_a_caller_cancelled_as_its_queued_action_is_acked_stays_cancelled() -> None:
    """Python 3.11's ``wait_for`` returns the result instead of raising when the caller
    is cancelled in the same loop turn as the ack lands; the outbox must not."""
    sim = gl.launch_simulator("unattended", seed=9, speed=120, tokens="tok")
    live = await gl.connect(
        sim.url, "tok", heartbeat_interval=3600, reconnection_attempts=1, recovery_delay=30
    )
    try:
        chat_id = await first_open_chat(live)
        sim.stop()
        await wait_for(lambda: not live.connected, timeout=10)

        async def race() -> str:  # on the session's IO loop, where the outbox lives
            payload = {"chatId": chat_id, "content": "hola", "idempotencyKey": "k-1"}
            outbox = live.outbox
            task = asyncio.create_task(outbox._queued("message:send", payload, time.time()))
            await asyncio.sleep(0)  # its first step queues it: the link is down
            assert len(outbox) == 1
            outbox._queue[0].future.set_result(({"ok": True}, None))  # the ack ...
            task.cancel()  # ... and the caller giving up, in the same turn
            try:
                await task
            except asyncio.CancelledError:
                return "cancelled"
            return "returned"

        assert await live._io.run(race()) == "cancelled"
    finally:
        await live.close()
        sim.stop()


async def test_hostile_frames_never_stop_capture(frozen_sim: gl.SimulatorHandle) -> None:
    live = await gl.connect(frozen_sim, heartbeat_interval=3600)
    good = {
        "chatId": "c",
        "content": "hola",
        "type": "user",
        "timestamp": "2025-01-15T10:00:00Z",
        "sender": {"id": "v", "name": "Ana", "role": "visitor"},
    }
    try:
        # a binary event whose placeholder points at an attachment that never comes
        frozen_sim.inject_frame('51-["message:new",{"_placeholder":true,"num":5}]', b"\x00\x01")
        # numbers Arrow cannot hold, and lifecycle names sent as plain events
        frozen_sim.inject(
            "commercial:status", {"commercialId": "x", "status": "busy", "activeChats": 2**64 - 1}
        )
        frozen_sim.inject(
            "visitor:online",
            {"visitorId": "v", "timestamp": -1e11},
            {"seq": 2**64 - 1, "serverTime": 1e300},
        )
        for name in ("connect", "disconnect", "__disconnect_final"):
            frozen_sim.inject(name, {"reason": "spoofed"})
        for i in range(3):
            frozen_sim.inject("message:new", {**good, "messageId": f"m-{i}"})
        await wait_for(lambda: len(live.messages) == 3, timeout=10)
        assert live.connected and live.metrics()["disconnects"] == 0
        assert await live.ping() > 0
    finally:
        await live.close()
    quarantine = " | ".join(live.quarantine["reason"])
    assert "binary attachment" in quarantine and "activeChats" in quarantine
    assert "timestamp out of range" in quarantine
    events = live.events
    assert {"connect", "disconnect", "__disconnect_final"} <= set(events["name"])
    assert (events.loc[events["name"] == "disconnect", "status"] == "unknown").all()
    for name in ("events", "presence", "latency", "chats"):
        live.table(name)  # every table still builds


async def test_a_cancelled_connect_leaves_no_hidden_connection(
    frozen_sim: gl.SimulatorHandle,
) -> None:
    task = asyncio.ensure_future(gl.connect(frozen_sim, heartbeat_interval=3600))
    await asyncio.sleep(0)  # let it start, then change our mind
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await wait_for(lambda: not frozen_sim.server.clients, timeout=5)
    await asyncio.sleep(0.3)
    assert not frozen_sim.server.clients
