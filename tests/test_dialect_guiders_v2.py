"""The guiders-v2 decoder: the deployed backend's events (as its handlers emit them, see
PROTOCOL.md) land in the canonical tables; sender roles come from the chat's visitor;
REST results (``rest:*``) and socket events of the same message count once; the journal
rebuilds to the same tables; bots keep unsupported live actions as shadow rows."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab.dialects import get_dialect
from guiders_lab.transport import MemoryTransport

QUIET = {"heartbeat_interval": None}
CHAT, VISITOR, STAFF, OTHER_CHAT = (str(uuid.UUID(int=i, version=4)) for i in (1, 2, 3, 4))
COMPANY = str(uuid.UUID(int=9, version=4))


def at(seconds: float) -> str:
    """An ISO time as the backend writes it (``toISOString``)."""
    stamp = pd.Timestamp("2026-12-04T15:00:00Z") + pd.Timedelta(seconds=seconds)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def chat_created(chat: str = CHAT, visitor: str = VISITOR) -> dict[str, Any]:
    return {
        "chatId": chat,
        "visitorId": visitor,
        "status": "PENDING",
        "priority": "NORMAL",
        "visitorInfo": {"name": "Ana Pérez"},
        "metadata": {"department": "ventas", "source": "web", "tags": ["vip"]},
        "createdAt": at(0),
        "message": "Un comercial ha iniciado una conversación contigo",
    }


def message_new(mid: str, sender: str, t: float, chat: str = CHAT, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": mid,
        "chatId": chat,
        "senderId": sender,
        "content": f"texto {mid}",
        "type": "TEXT",
        "isInternal": False,
        "isFirstResponse": False,
        "sentAt": at(t),
        "isAI": False,
        **extra,
    }


def assigned(t: float) -> dict[str, Any]:
    return {
        "chatId": CHAT,
        "commercialId": STAFF,
        "visitorId": VISITOR,
        "status": "ASSIGNED",
        "assignedAt": at(t),
        "assignmentReason": "auto",
        "commercial": {"id": STAFF, "name": "Laura Gómez", "avatarUrl": None},
    }


def rest_chat(status: str = "ASSIGNED", **extra: Any) -> dict[str, Any]:
    """A ChatResponseDto as ``GET /api/v2/chats`` lists it."""
    return {
        "id": CHAT,
        "status": status,
        "priority": "HIGH",
        "visitorId": VISITOR,
        "visitorInfo": {"id": VISITOR, "name": "Ana Pérez", "email": "ana@example.com"},
        "assignedCommercialId": STAFF,
        "assignedCommercial": {"id": STAFF, "name": "Laura Gómez", "avatarUrl": None},
        "availableCommercialIds": [],
        "metadata": {"department": "ventas", "source": "website"},
        "createdAt": at(0),
        "assignedAt": at(5),
        "closedAt": None,
        "department": "ventas",
        **extra,
    }


def rest_message(mid: str, sender: str, t: float) -> dict[str, Any]:
    """A MessageResponseDto as ``GET /api/v2/messages/chat/{id}`` lists it."""
    return {
        "id": mid,
        "chatId": CHAT,
        "senderId": sender,
        "content": f"texto {mid}",
        "type": "TEXT",
        "isInternal": False,
        "isFirstResponse": False,
        "createdAt": at(t),
        "updatedAt": at(t),
        "isRead": False,
        "isAI": False,
    }


STREAM: list[tuple[str, dict[str, Any]]] = [
    (
        "welcome",
        {
            "message": "Conectado exitosamente al servidor WebSocket",
            "clientId": "x1",
            "timestamp": 1796397285202,
        },
    ),
    (
        "tenant:joined",
        {
            "companyId": COMPANY,
            "roomName": f"tenant:{COMPANY}",
            "timestamp": 1796397285210,
            "automatic": True,
        },
    ),
    ("chat:created", chat_created()),
    ("chat:joined", {"chatId": CHAT, "roomName": f"chat:{CHAT}", "timestamp": 1796397285300}),
    ("message:new", message_new("m1", VISITOR, 1)),
    ("chat:commercial-assigned", assigned(5)),
    (
        "typing:start",
        {"chatId": CHAT, "userId": STAFF, "userType": "commercial", "timestamp": at(8)},
    ),
    ("message:new", message_new("m2", STAFF, 10)),
    (
        "message:new",
        message_new(
            "m3",
            "ai",
            12,
            type="AI",
            isAI=True,
            aiMetadata={"model": "gpt-4o", "confidence": 0.93, "processingTimeMs": 250},
        ),
    ),
    ("message:new", message_new("m4", "integration:bot", 13)),
    ("message:new", message_new("m5", "system", 14, type="SYSTEM")),
    (
        "presence:changed",
        {
            "userId": VISITOR,
            "userType": "visitor",
            "status": "away",
            "previousStatus": "online",
            "timestamp": at(20),
            "tenantId": COMPANY,
            "chatId": CHAT,
        },
    ),
    (
        "visitor:page-changed",
        {
            "visitorId": VISITOR,
            "chatId": CHAT,
            "previousPage": "/",
            "currentPage": "/precios",
            "timestamp": at(21),
        },
    ),
    (
        "chat:escalation-requested",
        {
            "chatId": CHAT,
            "visitorId": VISITOR,
            "companyId": COMPANY,
            "message": "Quiero hablar",
            "reason": "visitor",
            "chatUrl": "https://x/c",
            "timestamp": at(22),
        },
    ),
    ("chat:unread_count", {"chatId": CHAT, "visitorId": VISITOR, "unreadMessagesCount": 1}),
    (
        "commercial:availability-changed",
        {"available": True, "onlineCount": 1, "tenantId": COMPANY, "timestamp": at(23)},
    ),
    ("error", {"message": "chatId, userId y userType son requeridos", "timestamp": 1796397285400}),
    ("chat:brand-new-thing", {"chatId": CHAT}),
    ("message:new", {"chatId": CHAT, "content": "no id, no sender"}),
]


async def session(**options: Any) -> tuple[Any, MemoryTransport]:
    transport = MemoryTransport()
    live = await gl.connect(transport=transport, dialect="guiders-v2", **{**QUIET, **options})
    return live, transport


async def feed(transport: MemoryTransport, stream: list[tuple[str, dict[str, Any]]]) -> None:
    for name, payload in stream:
        await transport.push(name, payload)


async def test_every_event_lands_in_its_canonical_table() -> None:
    live, transport = await session()
    await feed(transport, STREAM)
    m = live.messages.set_index("message_id")
    assert m["sender_role"].to_dict() == {
        "m1": "visitor",
        "m2": "commercial",
        "m3": "ai",
        "m4": "bot",
        "m5": "system",
    }
    assert m["type"].to_dict() == {
        "m1": "user",
        "m2": "commercial",
        "m3": "ai-response",
        "m4": "ai-response",
        "m5": "system",
    }
    assert m.loc["m3", "is_ai"] and m.loc["m3", "ai_model"] == "gpt-4o"
    assert m.loc["m3", "processing_ms"] == 250 and not m.loc["m2", "is_ai"]
    chat = live.chats.set_index("chat_id").loc[CHAT]
    assert chat["visitor_id"] == VISITOR and chat["commercial_id"] == STAFF
    assert chat["department"] == "ventas"
    # first response: the commercial's reply at 10 s to the visitor's message at 1 s
    assert chat["first_response_at"] - chat["first_visitor_message_at"] == pd.Timedelta(seconds=9)
    assert live.assignments["commercial_id"].tolist() == [STAFF]
    presence = live.presence.iloc[0]
    assert (presence["role"], presence["person_id"], presence["status"]) == (
        "visitor",
        VISITOR,
        "away",
    )
    assert live.visitor_actions["action"].tolist() == ["page_view", "escalation_requested"]
    assert live.visitor_actions["page"].iloc[0] == "/precios"
    assert live.typing_events["typer_id"].tolist() == [STAFF]
    assert live.errors["message"].tolist() == ["chatId, userId y userType son requeridos"]
    status = live.events.set_index("seq")["status"]
    names = live.events.set_index("seq")["name"]
    by_name = dict(zip(names, status, strict=True))
    for understood in (
        "welcome",
        "tenant:joined",
        "chat:joined",
        "chat:unread_count",
        "commercial:availability-changed",
    ):
        assert by_name[understood] == "ok", understood
    assert by_name["chat:brand-new-thing"] == "unknown"
    assert live.quarantine["name"].tolist() == ["message:new"]
    await live.close()


async def test_statuses_keep_the_backends_value_in_lower_case() -> None:
    live, transport = await session()
    await feed(transport, [("rest:chat", rest_chat("ACTIVE"))])
    chat = live.chats.set_index("chat_id").loc[CHAT]
    assert chat["status"] == "active"  # the backend's ACTIVE, lossless in lower case
    assert chat["priority"] == "high"  # HIGH, likewise
    await live.close()


async def test_a_chat_keeps_the_priority_it_was_opened_with() -> None:
    live, transport = await session()
    await feed(transport, [("chat:created", {**chat_created(), "priority": "URGENT"})])
    assert live.chats["priority"].tolist() == ["urgent"]
    await live.close()


async def test_an_assignment_read_back_and_pushed_counts_once() -> None:
    """Joining a chat reads it over REST (its assignment, at ``assignedAt``) while the
    socket may push the same assignment: one row, whatever comes first; a reassignment
    (another time) is a row of its own."""
    for pushed_first in (False, True):
        live, transport = await session()
        read_back = ("rest:chat-assigned", rest_chat(assignedAt=at(5)))
        pushed = ("chat:commercial-assigned", assigned(5))
        stream = [pushed, read_back] if pushed_first else [read_back, pushed]
        await feed(transport, [("chat:created", chat_created()), *stream])
        assert len(live.assignments) == 1
        assert live.chats["n_assignments"].tolist() == [1]
        assert live.events["status"].tolist().count("duplicate") == 1
        await feed(transport, [("chat:commercial-assigned", assigned(40))])
        assert len(live.assignments) == 2 and live.chats["n_assignments"].tolist() == [2]
        await live.close()


async def test_backfilled_and_live_copies_of_a_message_count_once() -> None:
    live, transport = await session()
    await feed(
        transport,
        [
            ("rest:chat", rest_chat()),
            ("rest:chat-assigned", rest_chat()),
            ("rest:message", rest_message("m1", VISITOR, 1)),
            ("rest:message", rest_message("m2", STAFF, 10)),
            ("message:new", message_new("m2", STAFF, 10)),  # the same message, live
            ("rest:chat-closed", rest_chat("CLOSED", closedAt=at(60))),
        ],
    )
    assert live.messages["message_id"].tolist() == ["m1", "m2"]
    assert live.messages["sender_role"].tolist() == ["visitor", "commercial"]
    assert live.events["status"].tolist().count("duplicate") == 1
    chat = live.chats.set_index("chat_id").loc[CHAT]
    assert chat["status"] == "closed" and chat["close_reason"] == "closed"
    assert chat["closed_at"] == pd.Timestamp(at(60))
    assert chat["commercial_id"] == STAFF
    await live.close()


async def test_a_rest_chat_that_is_not_closed_cannot_close_it() -> None:
    live, transport = await session()
    await feed(transport, [("rest:chat-closed", rest_chat("ACTIVE"))])
    assert live.quarantine["name"].tolist() == ["rest:chat-closed"]
    assert "not closed" in live.quarantine["reason"].iloc[0]
    await live.close()


async def test_a_sender_seen_before_its_chat_is_not_guessed() -> None:
    """A message whose chat was never seen (the kit joins rooms only after seeing the
    chat, so only a hand-made stream does this) has no role rather than a wrong one."""
    live, transport = await session()
    await feed(transport, [("message:new", message_new("m1", VISITOR, 1, chat=OTHER_CHAT))])
    assert live.messages["sender_role"].isna().all()
    await live.close()


def test_each_store_has_its_own_decoder() -> None:
    assert get_dialect("guiders-v2") is not get_dialect("guiders-v2")
    assert get_dialect("ai-api") is get_dialect("ai-api")  # stateless: shared


async def test_the_journal_rebuilds_to_the_same_tables(tmp_path: Any) -> None:
    live, transport = await session(record_to=tmp_path / "rec")
    await feed(transport, [("rest:chat", rest_chat()), *STREAM])
    await live.close()
    live_tables = {
        name: live.table(name)
        for name in ("messages", "chats", "assignments", "presence", "visitor_actions")
    }
    rebuilt = gl.load(tmp_path / "rec", rebuild_tables=True)
    assert rebuilt.store.dialect.name == "guiders-v2"
    for name, frame in live_tables.items():
        pd.testing.assert_frame_equal(rebuilt.table(name), frame, obj=name)


async def test_bots_keep_actions_the_backend_lacks_as_shadow_rows() -> None:
    """A live bot on guiders-v2: replies go out (REST in the real transport), the page's
    actions the backend has no endpoint for are recorded as shadow, never sent."""

    class Escalator(gl.bots.Bot):
        def on_message(self, m: Any, ctx: Any) -> Any:
            if m.sender_role == "visitor":
                return [
                    gl.bots.SendMessage(m.chat_id, "¡Hola!"),
                    gl.bots.UpdateChat(m.chat_id, tags=("urgente",)),
                ]
            return None

        def on_chat_assigned(self, a: Any, ctx: Any) -> Any:
            seen.append(a.commercial_id)  # chat:commercial-assigned reaches it

    seen: list[str] = []
    live, transport = await session()
    run = await live.run(Escalator(), mode="live")
    await feed(transport, STREAM[:6])
    await run.drain()
    actions = live.actions.set_index("name")
    assert actions.loc["message:send", "mode"] == "live" and actions.loc["message:send", "ok"]
    assert actions.loc["chat:update", "mode"] == "shadow"
    assert actions.loc["chat:update", "error_code"] == "UNSUPPORTED_ACTION"
    assert [event for event, _ in transport.calls] == ["message:send"]
    assert run.stats()["shadowed_unsupported"] == 1
    assert seen == [STAFF]
    await live.close()


async def test_close_chat_uses_the_dialects_own_action() -> None:
    live, transport = await session()
    await live.close_chat(CHAT)
    assert transport.calls[-1] == ("chat:close", {"chatId": CHAT})
    await live.close()
    page, page_transport = MemoryTransport(), None
    ai = await gl.connect(transport=page, **QUIET)
    await ai.close_chat("chat-1")
    event, payload = page.calls[-1]
    assert event == "chat:update" and payload["updates"] == {"status": "closed"}
    await ai.close()
    del page_transport


def test_unsupported_action_error_names_the_dialect() -> None:
    err = gl.UnsupportedActionError("notification:send", "guiders-v2")
    assert isinstance(err, gl.ActionError) and err.code == "UNSUPPORTED_ACTION"
    assert "guiders-v2" in str(err) and "notification:send" in str(err)
    with pytest.raises(gl.ActionError):
        raise err


def test_a_message_record_has_each_value_in_its_own_field() -> None:
    """The decoder builds messages positionally (the capture path): every field checked
    by name against the wire payload."""
    d = get_dialect("guiders-v2")
    d.decode("chat:created", chat_created(), 1.0)
    payload = message_new(
        "m9", "ai", 3, type="AI", isAI=True,
        aiMetadata={"model": "m", "confidence": 0.5, "processingTimeMs": 7},
    )  # fmt: skip
    record = d.decode("message:new", payload, 2.0)
    assert record is not None
    assert record._asdict() == {
        "message_id": "m9", "chat_id": CHAT, "sent_at": pd.Timestamp(at(3)).timestamp(),
        "received_at": 2.0, "sender_id": "ai", "sender_role": "ai", "sender_name": None,
        "type": "ai-response", "content": "texto m9", "department": None, "urgency": None,
        "source": None, "is_ai": True, "ai_model": "m", "confidence": 0.5,
        "processing_ms": 7.0,
    }  # fmt: skip


# ---------------------------------------------------------------- conformance
def _wire_table() -> Any:
    from . import guiders_v2_wire

    return guiders_v2_wire


@pytest.mark.parametrize("name", sorted(_wire_table().SERVER_EVENTS))
def test_every_wire_example_from_the_backends_source_decodes(name: str) -> None:
    """Each server event exactly as the backend's handlers build it (tests/guiders_v2_wire
    cites file:line) is understood: a record, or validated and kept in ``events``."""
    d = get_dialect("guiders-v2")
    example = _wire_table().SERVER_EVENTS[name]
    record = d.decode(name, example, 1.0)  # raises Malformed on drift
    assert record is not None or name in d.understood, name
    again = d.decode_json(name, __import__("orjson").dumps(example), 1.0)
    assert again == record


def test_the_rest_bodies_of_the_backend_decode_as_rest_events() -> None:
    wire = _wire_table()
    d = get_dialect("guiders-v2")
    chat = wire.REST[("GET", "/api/v2/chats")]["body"]["chats"][0]
    created = d.decode("rest:chat", chat, 1.0)
    assert created is not None and created.chat_id == chat["id"]
    assert created.status == chat["status"].lower()
    assignment = d.decode("rest:chat-assigned", chat, 1.0)
    assert assignment is not None and assignment.commercial_id == chat["assignedCommercialId"]
    message = wire.REST[("GET", "/api/v2/messages/chat/{chatId}")]["body"]["messages"][0]
    record = d.decode("rest:message", message, 1.0)
    assert record is not None and record.message_id == message["id"]
    # the chat listed above names its visitor and its commercial: the sender is known
    expected = "visitor" if message["senderId"] == chat["visitorId"] else "commercial"
    assert record.sender_role == expected
