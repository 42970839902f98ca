"""Wire shapes, canonical records and outgoing validation (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guiders_lab import PayloadError
from guiders_lab.dialects import Malformed
from guiders_lab.dialects.ai_api.dialect import AI_API
from guiders_lab.dialects.ai_api.wire import CLIENT_EVENTS, SERVER_EVENTS
from guiders_lab.events import Message, validate_outgoing
from guiders_lab.events.records import (
    Assignment,
    ChatClosed,
    ChatCreated,
    LatencySample,
    Presence,
    ServerError,
    Typing,
    VisitorAction,
    as_record,
    time_fields,
)

NOW = datetime(2025, 1, 15, 10, 30, 5, tzinfo=UTC).timestamp()  # raw rows use epoch seconds

PAGE_MESSAGE = {  # the page's own example, verbatim
    "chatId": "chat-123",
    "messageId": "msg-456",
    "content": "¿Pueden ayudarme con el precio del producto X?",
    "type": "user",
    "sender": {"id": "visitor-789", "name": "Cliente Potencial", "role": "visitor"},
    "timestamp": "2025-01-15T10:30:00Z",
    "metadata": {"department": "sales", "urgency": "medium", "source": "web-widget"},
}

SERVER_SAMPLES = {
    "message:new": (PAGE_MESSAGE, Message),
    "chat:created": (
        {
            "chatId": "chat-1",
            "visitorId": "v-1",
            "visitor": {"id": "v-1", "name": "Ana"},
            "department": "sales",
            "status": "pending",
            "createdAt": "2025-01-15T10:00:00Z",
            "metadata": {"source": "web-widget", "urgency": "low", "language": "es"},
        },
        ChatCreated,
    ),
    "chat:assigned": (
        {
            "chatId": "chat-1",
            "commercialId": "c-1",
            "assignedAt": "2025-01-15T10:01:00Z",
            "assignedBy": "auto",
            "reason": "r",
            "metadata": {"score": 0.9},
        },
        Assignment,
    ),
    "chat:closed": (
        {
            "chatId": "chat-1",
            "closedAt": "2025-01-15T10:09:00Z",
            "closedBy": "c-1",
            "reason": "resolved",
            "metadata": {"converted": True, "rating": 5},
        },
        ChatClosed,
    ),
    "visitor:online": (
        {
            "visitorId": "v-1",
            "name": "Ana",
            "page": "/precios",
            "timestamp": "2025-01-15T09:59:00Z",
            "metadata": {"source": "ads", "returning": True},
        },
        Presence,
    ),
    "commercial:status": (
        {
            "commercialId": "c-1",
            "name": "Lucía",
            "status": "available",
            "activeChats": 1,
            "maxChats": 3,
            "specialties": ["sales", "billing"],
            "timestamp": "2025-01-15T09:00:00Z",
        },
        Presence,
    ),
    "visitor:action": (
        {
            "visitorId": "v-1",
            "chatId": "chat-1",
            "action": "add_to_cart",
            "page": "/p/1",
            "value": 49.9,
            "timestamp": "2025-01-15T10:02:00Z",
        },
        VisitorAction,
    ),
    "pong": ({"timestamp": NOW * 1000 - 12.5, "serverTime": 1.0}, LatencySample),
    "typing:start": ({"chatId": "chat-1", "typerId": "c-1"}, Typing),
    "typing:stop": ({"chatId": "chat-1", "typerId": "c-1"}, Typing),
    "error": ({"code": "CHAT_NOT_FOUND", "message": "nope", "event": "chat:join"}, ServerError),
}


def test_every_server_event_of_the_page_has_a_shape_and_a_sample() -> None:
    assert set(SERVER_SAMPLES) == set(SERVER_EVENTS)


@pytest.mark.parametrize("name", sorted(SERVER_SAMPLES))
def test_server_events_decode_to_their_records(name: str) -> None:
    payload, record_type = SERVER_SAMPLES[name]
    row = AI_API.decode(name, payload, NOW)
    assert type(row) is record_type
    record = as_record(row)
    for field in time_fields(record_type):
        assert isinstance(getattr(row, field), float | None)  # raw form: epoch seconds
        value = getattr(record, field)
        assert value is None or (isinstance(value, datetime) and value.utcoffset().seconds == 0)


def test_page_message_maps_every_field() -> None:
    m = as_record(AI_API.decode("message:new", PAGE_MESSAGE, NOW))
    assert m.chat_id == "chat-123" and m.message_id == "msg-456"
    assert m.sender_id == "visitor-789" and m.sender_role == "visitor"
    assert m.sender_name == "Cliente Potencial"
    assert (m.department, m.urgency, m.source) == ("sales", "medium", "web-widget")
    assert m.sent_at == datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    assert m.is_ai is False


def test_ai_reply_metadata_is_kept() -> None:
    payload = {
        **PAGE_MESSAGE,
        "type": "ai-response",
        "sender": {"id": "ai-bot", "name": "IA", "role": "ai"},
        "metadata": {
            "aiModel": "gpt-4",
            "confidence": 0.95,
            "processingTime": 150,
            "isAutomated": True,
        },
    }
    m = AI_API.decode("message:new", payload, NOW)
    assert m.is_ai and m.ai_model == "gpt-4" and m.confidence == 0.95 and m.processing_ms == 150


def test_pong_gives_round_trip() -> None:
    payload, _ = SERVER_SAMPLES["pong"]
    sample = AI_API.decode("pong", payload, NOW)
    assert sample.kind == "ping" and sample.value_ms == pytest.approx(12.5, abs=0.01)


@pytest.mark.parametrize("stamp", [1e308, -1e308, NOW * 1000 + 60_000, NOW * 1000 - 7_200_000])
def test_a_pong_that_answers_no_ping_of_ours_is_malformed(stamp: float) -> None:
    """A round trip outside 0 ms..1 h would poison the latency means (inf, NaN)."""
    with pytest.raises(Malformed, match="not one of our pings"):
        AI_API.decode("pong", {"timestamp": stamp}, NOW)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({**PAGE_MESSAGE, "chatId": 123}, "chatId"),
        ({k: v for k, v in PAGE_MESSAGE.items() if k != "content"}, "content"),
        ({**PAGE_MESSAGE, "timestamp": "yesterday"}, "timestamp"),
        ({**PAGE_MESSAGE, "sender": None}, "sender"),
        ("not an object", "object"),
        (None, "object"),
    ],
)
def test_malformed_server_events_are_refused_with_a_reason(payload: object, fragment: str) -> None:
    with pytest.raises(Malformed, match=fragment):
        AI_API.decode("message:new", payload, NOW)


def test_unknown_event_is_not_an_error() -> None:
    assert AI_API.decode("chat:transferred", {"chatId": "x"}, NOW) is None


# ------------------------------------------------------------------ outgoing

VALID_CLIENT = {
    "message:send": {
        "chatId": "chat-123",
        "content": "Hola",
        "type": "ai-response",
        "metadata": {
            "aiModel": "gpt-4",
            "confidence": 0.95,
            "processingTime": 150,
            "isAutomated": True,
        },
    },
    "chat:assign": {
        "chatId": "chat-123",
        "commercialId": "commercial-456",
        "reason": "Consulta técnica compleja",
        "metadata": {"escalatedBy": "ai-system", "escalationReason": "outside_ai_capability"},
    },
    "chat:update": {
        "chatId": "chat-123",
        "updates": {
            "status": "processing",
            "tags": ["ai-processing"],
            "metadata": {"estimatedResponseTime": 30},
        },
    },
    "chat:join": {"chatId": "chat-123", "role": "ai-assistant"},
    "state:sync": {"sinceSeq": 41},  # guiders-lab extension: the events missed while away
    "typing:start": {"chatId": "chat-123", "typerId": "ai-bot"},
    "typing:stop": {"chatId": "chat-123", "typerId": "ai-bot"},
    "notification:send": {
        "type": "sentiment_alert",
        "target": "supervisors",
        "data": {"chatId": "chat-123"},
    },
    "assistance:suggestions": {
        "chatId": "chat-123",
        "commercialId": "c-1",
        "suggestions": ["Ofrece el 10%"],
        "private": True,
    },
    "trigger:high_conversion_flow": {"visitorId": "v-1", "strategy": "premium_attention"},
    "ping": {"timestamp": 1736937000000},
}


def test_every_client_event_of_the_page_has_a_valid_example() -> None:
    assert set(VALID_CLIENT) == set(CLIENT_EVENTS)


@pytest.mark.parametrize("event", sorted(VALID_CLIENT))
def test_page_payloads_validate(event: str) -> None:
    payload = VALID_CLIENT[event]
    assert validate_outgoing(event, payload, CLIENT_EVENTS) is payload


@pytest.mark.parametrize("event", sorted(e for e, p in VALID_CLIENT.items() if "chatId" in p))
def test_missing_chat_id_names_the_field(event: str) -> None:
    payload = {k: v for k, v in VALID_CLIENT[event].items() if k != "chatId"}
    with pytest.raises(PayloadError) as err:
        validate_outgoing(event, payload, CLIENT_EVENTS)
    assert err.value.field == "chatId"
    assert isinstance(err.value, ValueError)
    assert "chatId" in str(err.value) and "nothing was sent" in str(err.value)


@pytest.mark.parametrize(
    ("event", "payload", "field"),
    [
        ("message:send", {"chatId": 42, "content": "x"}, "chatId"),
        ("message:send", {"chatId": "c", "content": ""}, "content"),
        (
            "message:send",
            {"chatId": "c", "content": "x", "metadata": {"confidence": 1.5}},
            "metadata.confidence",
        ),
        ("message:send", {"chatId": "c", "content": "x", "type": "user"}, "type"),
        ("chat:update", {"chatId": "c", "updates": {"priority": "max"}}, "updates.priority"),
        ("chat:update", {"chatId": "c", "updates": {"tags": "urgente"}}, "updates.tags"),
        ("chat:assign", {"chatId": "c"}, "commercialId"),
        (
            "assistance:suggestions",
            {"chatId": "c", "commercialId": "x", "suggestions": []},
            "suggestions",
        ),
        ("ping", {"timestamp": "now"}, "timestamp"),
        ("chat:join", {"chatId": "c", "chatID": "c"}, "chatID"),
    ],
)
def test_wrong_types_name_the_field(event: str, payload: dict, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        validate_outgoing(event, payload, CLIENT_EVENTS)
    assert err.value.field == field


def test_non_object_payload_and_unknown_event() -> None:
    with pytest.raises(PayloadError, match="object"):
        validate_outgoing("message:send", ["chat-1", "hola"], CLIENT_EVENTS)
    with pytest.raises(PayloadError, match="unknown client event"):
        validate_outgoing("message:sned", {}, CLIENT_EVENTS)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"chatId": "c", "content": "x", "metadata": {"extra": {1, 2}}}, "set"),
        ({"chatId": "c", "content": "x", "metadata": {"confidence": float("nan")}}, "NaN"),
        ({"chatId": "c", "content": "x", "metadata": {"extra": object()}}, "object"),
    ],
)
def test_payloads_that_are_not_json_are_refused(payload: dict, problem: str) -> None:
    with pytest.raises(PayloadError, match=r"not sendable as JSON|NaN|expected"):
        validate_outgoing("message:send", payload, CLIENT_EVENTS)


def test_huge_integers_are_refused() -> None:
    with pytest.raises(PayloadError, match="timestamp"):
        validate_outgoing("ping", {"timestamp": 10**30}, CLIENT_EVENTS)
