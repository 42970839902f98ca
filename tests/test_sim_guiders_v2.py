"""The simulator in the ``guiders-v2`` dialect, against a plain Socket.IO client and aiohttp.

Every payload, ack and REST body is checked against ``tests/guiders_v2_wire.py`` (exact
examples from the backend's source), so drift between the simulator and the backend shows
as a failing test here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import socketio

from guiders_lab.sim import launch_simulator
from guiders_lab.sim.handle import SimulatorHandle

from . import guiders_v2_wire as wire

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    handle = launch_simulator("demo", dialect="guiders-v2", seed=7, speed=300)
    try:
        yield handle
    finally:
        handle.stop()


class Client:
    """A socket that records every event it gets, in order."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.sio.on("*", self._record)

    async def _record(self, event: str, *args: Any) -> None:
        self.events.append((event, args[0] if args else None))

    async def connect(self, url: str, token: str | None = None, **kw: Any) -> Client:
        auth = {"token": token} if token else None
        await self.sio.connect(url, auth=auth, transports=["websocket"], **kw)
        return self

    def named(self, event: str) -> list[Any]:
        return [p for e, p in self.events if e == event]

    async def wait_for(self, event: str, pred: Any = None, timeout: float = 20.0) -> Any:
        for _ in range(int(timeout / 0.05)):
            for p in self.named(event):
                if pred is None or pred(p):
                    return p
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {event} within {timeout}s: got {[e for e, _ in self.events]}")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def client(sim: SimulatorHandle) -> AsyncIterator[Client]:
    c = await Client().connect(sim.url, sim.token)
    yield c
    await c.sio.disconnect()


def check(actual: Any, event: str, optional: set[str] | None = None) -> None:
    example = wire.SERVER_EVENTS[event]
    extra = set(optional or ()) | wire.OPTIONAL_KEYS.get(event, set())
    assert wire.same_shape(actual, example, extra) == [], (event, actual)
    for key, value in wire.FIXED.get(event, {}).items():
        assert actual[key] == value, (event, key, actual)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def rest(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kw) as r:
        text = await r.text()
        return r.status, (json.loads(text) if text else None)


async def a_chat(
    sim: SimulatorHandle, http: aiohttp.ClientSession, status: str | None = None
) -> Any:
    for _ in range(400):
        code, body = await rest(
            http, "GET", f"{sim.api_url}/v2/chats?limit=100", headers=bearer(sim.token)
        )
        assert code == 200
        for chat in body["chats"]:
            if status is None or chat["status"] == status:
                return chat
        await asyncio.sleep(0.05)
    raise AssertionError(f"no chat in status {status}")


# ---------------------------------------------------------------------- the gateway
async def test_welcome_first_then_tenant_and_presence_for_a_valid_token(
    sim: SimulatorHandle, client: Client
) -> None:
    await client.wait_for("presence:joined")
    names = [e for e, _ in client.events]
    assert names[:3] == ["welcome", "tenant:joined", "presence:joined"]
    check(client.named("welcome")[0], "welcome")
    joined = client.named("tenant:joined")[0]
    check(joined, "tenant:joined")
    assert joined["companyId"] == sim.company_id and isinstance(joined["timestamp"], int)
    check(client.named("presence:joined")[0], "presence:joined")
    assert client.named("presence:joined")[0]["userId"] == sim.user_id


@pytest.mark.parametrize("token", [None, "not-a-jwt", "expired"])
async def test_a_bad_token_gets_welcome_and_then_nothing(
    sim: SimulatorHandle, token: str | None
) -> None:
    if token == "expired":
        token = sim.make_token(ttl=-10)
    c = await Client().connect(sim.url, token)
    try:
        await c.wait_for("welcome")
        await asyncio.sleep(1.0)
        assert c.sio.connected  # never refused
        assert {e for e, _ in c.events} == {"welcome"}
        # still served: health-check answers
        ack = await c.sio.call("health-check", None, timeout=5)
        assert wire.same_shape(ack, wire.ACKS["health-check"]["ok"]) == []
    finally:
        await c.sio.disconnect()


async def test_bearer_header_authenticates_too(sim: SimulatorHandle) -> None:
    c = await Client().connect(sim.url, headers=bearer(sim.token))
    try:
        await c.wait_for("tenant:joined")
    finally:
        await c.sio.disconnect()


async def test_chat_created_on_the_tenant_room_and_messages_only_after_joining(
    sim: SimulatorHandle, client: Client, http: aiohttp.ClientSession
) -> None:
    created = await client.wait_for("chat:created")
    check(created, "chat:created", {"customFields"})
    chat_id = created["chatId"]
    assert uuid.UUID(chat_id).version == 4
    assert not [m for m in client.named("message:new") if m["chatId"] == chat_id]
    ack = await client.sio.call("chat:join", {"chatId": chat_id}, timeout=5)
    assert wire.same_shape(ack, wire.ACKS["chat:join"]["ok"]) == [] and ack["success"] is True
    check(await client.wait_for("chat:joined"), "chat:joined")
    code, sent = await rest(
        http, "POST", f"{sim.api_url}/v2/messages",
        json={"chatId": chat_id, "content": "¿En qué puedo ayudarle?"}, headers=bearer(sim.token),
    )  # fmt: skip
    assert code == 201, sent
    assert wire.same_shape(sent, wire.REST[("POST", "/api/v2/messages")]["body"]) == []
    echoed = await client.wait_for("message:new", lambda m: m["messageId"] == sent["id"])
    check(echoed, "message:new")
    assert echoed["senderId"] == sim.user_id and echoed["type"] == "TEXT"
    assert echoed["sentAt"].endswith("Z")
    unread = await client.wait_for("chat:unread_count", lambda p: p["chatId"] == chat_id)
    check(unread, "chat:unread_count")


async def test_unknown_events_are_never_acked(client: Client) -> None:
    await client.wait_for("welcome")
    for event in wire.NEVER_ACKED:
        with pytest.raises(socketio.exceptions.TimeoutError):
            await client.sio.call(event, {"chatId": "x", "timestamp": 1}, timeout=0.3)


async def test_refusals_ack_and_error_events(sim: SimulatorHandle, client: Client) -> None:
    await client.wait_for("welcome")
    ack = await client.sio.call("chat:join", {}, timeout=5)
    assert ack == wire.ACKS["chat:join"]["fail"][0]
    error = await client.wait_for("error")
    assert wire.same_shape(error, wire.ERROR_EVENTS["chat:join"]) == []
    assert error["message"] == "chatId es requerido"
    ack = await client.sio.call("typing:start", {"chatId": "x"}, timeout=5)
    assert ack == wire.ACKS["typing:start"]["fail"][0]
    ack = await client.sio.call("tenant:join", {"tenantId": str(uuid.uuid4())}, timeout=5)
    assert ack == wire.ACKS["tenant:join"]["fail"][1]
    ack = await client.sio.call("tenant:join", {"tenantId": sim.company_id}, timeout=5)
    assert wire.same_shape(ack, wire.ACKS["tenant:join"]["ok"]) == []
    ack = await client.sio.call("presence:join", {"userId": "u", "userType": "robot"}, timeout=5)
    assert ack == wire.ACKS["presence:join"]["fail"][1]
    ack = await client.sio.call("user:activity", None, timeout=5)
    assert ack == wire.ACKS["user:activity"]["ok"]


async def test_typing_is_relayed_to_the_others_only(sim: SimulatorHandle) -> None:
    a = await Client().connect(sim.url, sim.token)
    b = await Client().connect(sim.url, sim.token)
    chat_id = str(uuid.uuid4())
    try:
        for c in (a, b):
            await c.sio.call("chat:join", {"chatId": chat_id}, timeout=5)
        payload = {"chatId": chat_id, "userId": sim.user_id, "userType": "commercial"}
        ack = await a.sio.call("typing:start", payload, timeout=5)
        assert ack == wire.ACKS["typing:start"]["ok"]
        got = await b.wait_for("typing:start", lambda p: p["chatId"] == chat_id)
        check(got, "typing:start")
        await asyncio.sleep(0.3)
        assert not [p for p in a.named("typing:start") if p["chatId"] == chat_id]
    finally:
        await a.sio.disconnect()
        await b.sio.disconnect()


# ---------------------------------------------------------------------- REST
async def test_login_refresh_and_expiry(sim: SimulatorHandle, http: aiohttp.ClientSession) -> None:
    url = f"{sim.api_url}/user/auth"
    code, body = await rest(
        http, "POST", f"{url}/login", json={"email": sim.email, "password": sim.password}
    )
    spec = wire.REST[("POST", "/api/user/auth/login")]
    assert code == spec["status"] and body.keys() == spec["body"].keys()
    code, bad = await rest(http, "POST", f"{url}/login", json={"email": sim.email, "password": "x"})
    assert (code, bad) == (401, wire.REST_ERRORS[("POST", "/api/user/auth/login")][0]["body"])
    code, renewed = await rest(
        http, "POST", f"{url}/refresh", json={"refreshToken": body["refresh_token"]}
    )
    assert (code, renewed.keys()) == (201, {"accessToken"})
    code, _ = await rest(
        http, "POST", f"{url}/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert code == 500
    claims = json.loads(base64.urlsafe_b64decode(renewed["accessToken"].split(".")[1] + "=="))
    assert claims.keys() == {"sub", "typ", "role", "companyId", "iat", "exp"}
    assert claims["exp"] - claims["iat"] == 900
    chats = f"{sim.api_url}/v2/chats"
    errors = wire.REST_ERRORS[("GET", "/api/v2/chats")]
    assert await rest(http, "GET", chats) == (401, errors[0]["body"])
    expired = sim.make_token(ttl=-5)
    assert await rest(http, "GET", chats, headers=bearer(expired)) == (401, errors[1]["body"])
    code, _ = await rest(http, "GET", chats, headers=bearer(renewed["accessToken"]))
    assert code == 200


async def test_pagination_walks_every_chat_exactly_once(
    sim: SimulatorHandle, http: aiohttp.ClientSession
) -> None:
    await a_chat(sim, http)
    seen: list[str] = []
    cursor: str | None = None
    total = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        code, page = await rest(
            http, "GET", f"{sim.api_url}/v2/chats", params=params, headers=bearer(sim.token)
        )
        assert code == 200
        assert (
            wire.same_shape(
                page, wire.REST[("GET", "/api/v2/chats")]["body"], wire.CHAT_OPTIONAL_KEYS
            )
            == []
        )
        total = page["total"] if total is None else total
        seen += [c["id"] for c in page["chats"]]
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            break
        cursor = page["nextCursor"]
        assert json.loads(base64.b64decode(cursor)).keys() == {"createdAt", "id"}
    assert len(seen) == len(set(seen)) >= total
    errors = wire.REST_ERRORS[("GET", "/api/v2/chats")]
    too_many = f"{sim.api_url}/v2/chats?limit=101"
    assert await rest(http, "GET", too_many, headers=bearer(sim.token)) == (400, errors[2]["body"])
    code, body = await rest(http, "GET", f"{sim.api_url}/v2/chats?foo=1", headers=bearer(sim.token))
    assert code == 400 and body["message"] == ["property foo should not exist"]


async def test_a_commercial_sees_only_its_assigned_chats(
    sim: SimulatorHandle, http: aiohttp.ClientSession
) -> None:
    chat = await a_chat(sim, http, "ASSIGNED")
    token = sim.make_token(user_id=chat["assignedCommercialId"], roles=["commercial"])
    code, page = await rest(http, "GET", f"{sim.api_url}/v2/chats?limit=100", headers=bearer(token))
    assert code == 200 and page["chats"]
    assert {c["assignedCommercialId"] for c in page["chats"]} == {chat["assignedCommercialId"]}


async def test_assign_close_and_messages(
    sim: SimulatorHandle, client: Client, http: aiohttp.ClientSession
) -> None:
    chat = await a_chat(sim, http, "PENDING")
    chat_id = chat["id"]
    await client.sio.call("chat:join", {"chatId": chat_id}, timeout=5)
    commercial = sim.commercial_ids["commercial-lucia"]
    url = f"{sim.api_url}/v2/chats/{chat_id}"
    code, body = await rest(http, "PUT", f"{url}/assign/{commercial}", headers=bearer(sim.token))
    if code == 400:  # the scenario's own sweep was faster: take the next pending chat
        pytest.skip("chat assigned by the scenario first")
    assert code == 200, body
    assert (
        wire.same_shape(
            body, wire.REST[("GET", "/api/v2/chats/{chatId}")]["body"], wire.CHAT_OPTIONAL_KEYS
        )
        == []
    )
    assert body["status"] == "ASSIGNED" and body["assignedCommercial"]["id"] == commercial
    assigned = await client.wait_for("chat:commercial-assigned", lambda p: p["chatId"] == chat_id)
    check(assigned, "chat:commercial-assigned")
    code, again = await rest(http, "PUT", f"{url}/assign/{commercial}", headers=bearer(sim.token))
    assert code == 400 and again == {
        "statusCode": 400,
        "message": "Error en asignación manual: "
        f"El chat {chat_id} no puede ser asignado en estado ASSIGNED",
    }
    spec = wire.REST[("PUT", "/api/v2/chats/{chatId}/close")]
    assert await rest(http, "PUT", f"{url}/close", headers=bearer(sim.token)) == (
        spec["status"],
        spec["body"],
    )
    code, detail = await rest(http, "GET", url, headers=bearer(sim.token))
    assert code == 200 and detail["status"] != "CLOSED"
    unknown = str(uuid.uuid4())
    missing = f"{sim.api_url}/v2/chats/{unknown}"
    assert await rest(http, "GET", missing, headers=bearer(sim.token)) == (
        404,
        {"statusCode": 404, "message": "Chat no encontrado"},
    )
    code, page = await rest(
        http, "GET", f"{sim.api_url}/v2/messages/chat/{chat_id}?limit=2", headers=bearer(sim.token)
    )
    assert code == 200
    assert (
        wire.same_shape(
            page, wire.REST[("GET", "/api/v2/messages/chat/{chatId}")]["body"], {"nextCursor"}
        )
        == []
    )
    times = [m["createdAt"] for m in page["messages"]]
    assert times == sorted(times, reverse=True)  # newest first


async def test_message_validation_and_auth(
    sim: SimulatorHandle, http: aiohttp.ClientSession
) -> None:
    url = f"{sim.api_url}/v2/messages"
    errors = wire.REST_ERRORS[("POST", "/api/v2/messages")]
    assert await rest(http, "POST", url, json={"chatId": "x"}) == (401, errors[0]["body"])
    bad = {"chatId": "x", "content": "hola", "extra": 1}
    assert await rest(http, "POST", url, json=bad, headers=bearer(sim.token)) == (
        400,
        errors[1]["body"],
    )


async def test_integration_api(
    sim: SimulatorHandle, client: Client, http: aiohttp.ClientSession
) -> None:
    chat = await a_chat(sim, http)
    url = f"{sim.api_url}/integration/conversations/{chat['id']}/messages"
    errors = wire.REST_ERRORS[("POST", "/api/integration/conversations/{id}/messages")]
    assert await rest(http, "POST", url, json={"content": "x"}) == (401, errors[0]["body"])
    key = {"x-api-key": sim.api_key}
    unknown = f"{sim.api_url}/integration/conversations/{uuid.uuid4()}/messages"
    assert await rest(http, "POST", unknown, json={"content": "x"}, headers=key) == (
        404,
        errors[1]["body"],
    )
    await client.sio.call("chat:join", {"chatId": chat["id"]}, timeout=5)
    code, body = await rest(http, "POST", url, json={"content": "Soy un bot"}, headers=key)
    if code == 422:
        assert body == errors[2]["body"] and chat["status"] == "CLOSED"
        return
    assert code == 201
    spec = wire.REST[("POST", "/api/integration/conversations/{id}/messages")]
    assert wire.same_shape(body, spec["body"]) == []
    got = await client.wait_for("message:new", lambda m: m["messageId"] == body["messageId"])
    assert got["senderId"] == "integration:bot"


async def test_closed_chats_become_closed_over_rest_and_nothing_is_emitted(
    sim: SimulatorHandle, http: aiohttp.ClientSession
) -> None:
    chat = await a_chat(sim, http, "CLOSED")
    assert chat["isActive"] is False and chat["closedAt"].endswith("Z")
    code, detail = await rest(
        http, "GET", f"{sim.api_url}/v2/chats/{chat['id']}", headers=bearer(sim.token)
    )
    assert code == 200 and detail["status"] == "CLOSED" and detail["closedAt"]


async def test_rest_fault_hook_and_socket_drops(
    sim: SimulatorHandle, http: aiohttp.ClientSession
) -> None:
    sim.fail_rest(2, status=429, retry_after=1.5)
    url = f"{sim.api_url}/v2/chats"
    for _ in range(2):
        async with http.get(url, headers=bearer(sim.token)) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1.5"
    code, _ = await rest(http, "GET", url, headers=bearer(sim.token))
    assert code == 200
    sim.fail_rest(1, status=503, only=("PUT", "/api/v2/chats/"))  # other calls pass
    code, _ = await rest(http, "GET", url, headers=bearer(sim.token))
    assert code == 200
    async with http.put(f"{url}/nope/close", headers=bearer(sim.token)) as r:
        assert r.status == 503
    sim.faults.clear()
    c = await Client().connect(sim.url, sim.token)
    try:
        await c.wait_for("presence:joined")
        assert sim.drop_connections() >= 1
        for _ in range(100):
            if not c.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not c.sio.connected
    finally:
        await c.sio.disconnect()
    assert sim.stats()["dialect"] == "guiders-v2"


def test_same_seed_same_conversation_and_uuids() -> None:
    def first_chats() -> list[tuple[str, str]]:
        h = launch_simulator(
            "demo", dialect="guiders-v2", seed=3, speed=float("inf"), autostart=False
        )
        try:
            h.begin()
            h.call(asyncio.sleep(0.5))
            store = h.server.store  # type: ignore[attr-defined]
            return sorted((c.id, c.created_at) for c in store.chats.values())[:5]
        finally:
            h.stop()

    first, second = first_chats(), first_chats()
    assert first and first == second
    assert all(uuid.UUID(i).version == 4 for i, _ in first)
