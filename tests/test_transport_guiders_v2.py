"""The guiders-v2 client transport (issue 16: connect, discovery, actions, nothing lost).

Against the guiders-v2 simulator (``gl.launch_simulator(dialect="guiders-v2")``), plus a
tiny aiohttp server of our own where a test needs a quirk or a fault the simulator does
not have (chats created in the same millisecond as a page boundary).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web

import guiders_lab as gl
from guiders_lab.secrets import Secret
from guiders_lab.transport.guiders_v2 import GuidersV2Transport, RetryPolicy, normalise_ack
from guiders_lab.transport.guiders_v2.backfill import Book, parse_time, widen_cursor
from guiders_lab.transport.guiders_v2.rest import RestClient

from .conftest import wait_for

FAST = RetryPolicy(retries=3, base_delay=0.01, max_delay=0.05)


class RecordingSink:
    """The Sink Protocol, keeping what it was given."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.links: list[str] = []

    def ingest(self, name: str, args: tuple[Any, ...], received_ts: float | None = None) -> None:
        self.events.append((name, args[0] if args else None))

    def ingest_json(
        self,
        name: str,
        raw: bytes,
        meta: dict[str, Any] | None,
        received_ts: float,
        *,
        utf8: bool = False,
    ) -> None:
        self.events.append((name, orjson.loads(raw)))

    def reconnected(self, at: float) -> None:
        self.links.append("reconnected")

    def restored(self) -> None:
        self.links.append("restored")

    def ended(self) -> None:
        self.links.append("ended")

    def skipped_by_server(self, server_seq: int, name: str, size: int) -> None:
        pass

    def resume_from(self) -> int | None:
        return None

    def names(self, name: str) -> list[Any]:
        return [p for n, p in self.events if n == name]


@pytest.fixture
def v2sim() -> Iterator[gl.SimulatorHandle]:
    with gl.launch_simulator("demo", dialect="guiders-v2", seed=11, speed=600.0) as handle:
        yield handle


@pytest.fixture
def pending_sim() -> Iterator[gl.SimulatorHandle]:
    """Chats stay PENDING (no auto-assignment): the test assigns them."""
    with gl.launch_simulator("unattended", dialect="guiders-v2", seed=21, speed=300.0) as h:
        yield h


def transport(sim: gl.SimulatorHandle, **kwargs: Any) -> GuidersV2Transport:
    kwargs.setdefault("token", sim.token)
    kwargs.setdefault("retry", FAST)
    return GuidersV2Transport(sim.url, api_url=sim.api_url, **kwargs)


@pytest.fixture
async def session(v2sim: gl.SimulatorHandle) -> AsyncIterator[gl.LiveSession]:
    live = await gl.connect(v2sim, heartbeat_interval=None)
    try:
        yield live
    finally:
        await live.close()


def secrets_of(sim: gl.SimulatorHandle) -> list[str]:
    return [s for s in (sim.token, sim.password, sim.api_key) if s]


# ------------------------------------------------------------------ connect and auth
async def test_connect_with_the_handle_alone_picks_the_dialect(session: gl.LiveSession) -> None:
    assert isinstance(session.transport, GuidersV2Transport)
    stats = session.transport.stats()
    assert stats["auth_confirmations"] == 1 and stats["state"] == "connected"
    await wait_for(lambda: session.transport.stats()["chat_rooms_joined"] > 0, timeout=15)


async def test_login_and_refresh_with_a_short_lived_token() -> None:
    with gl.launch_simulator("demo", dialect="guiders-v2", seed=4, speed=60.0, token_ttl=3) as sim:
        t = transport(sim, token=None, email=sim.email, password=sim.password)
        sink = RecordingSink()
        await t.start(sink)
        try:
            first = t.keeper.access
            assert t.keeper.logins == 1 and t.keeper.user_id == sim.user_id
            await wait_for(lambda: t.keeper.refreshes >= 2, timeout=10)
            assert t.keeper.access != first
            assert t.keeper.expires_at is not None and t.keeper.expires_at > time.time()
            # a reconnect after the first token expired still authenticates
            sim.drop_connections()
            await wait_for(lambda: t.stats()["restores"] >= 1 and t.connected, timeout=15)
            await wait_for(lambda: t.stats()["auth_confirmations"] >= 2, timeout=10)
            assert t.stats()["unconfirmed_connects"] == 0
        finally:
            await t.close()


async def test_bad_token_raises_without_the_token(v2sim: gl.SimulatorHandle) -> None:
    forged = v2sim.token[:-6] + "AAAAAA"  # a JWT whose signature does not verify
    with pytest.raises(gl.AuthenticationError) as info:
        await gl.connect(v2sim.url, forged, dialect="guiders-v2", auth_timeout=1.0)
    text = str(info.value)
    assert "tenant:joined" in text and forged not in text
    assert "AAAAAA" not in text


async def test_a_token_the_gateway_takes_for_a_visitors_is_refused_at_once(
    v2sim: gl.SimulatorHandle,
) -> None:
    """The gateway treats roles other than commercial and admin (a supervisor's) as a
    visitor: presence:joined as a visitor, no tenant room, never a chat: refused, and
    without waiting out auth_timeout."""
    supervisor = v2sim.make_token(roles=["supervisor"])
    started = time.monotonic()
    with pytest.raises(gl.AuthenticationError, match="visitor") as info:
        await gl.connect(v2sim.url, supervisor, dialect="guiders-v2", auth_timeout=30.0)
    assert time.monotonic() - started < 10.0
    assert supervisor not in str(info.value)


async def test_expired_token_and_wrong_password(v2sim: gl.SimulatorHandle) -> None:
    expired = v2sim.make_token(ttl=-60)
    with pytest.raises(gl.AuthenticationError, match="expired") as info:
        await gl.connect(v2sim.url, expired, dialect="guiders-v2")
    assert expired not in str(info.value)
    wrong = "not-the-password-123"
    with pytest.raises(gl.AuthenticationError, match="refused the login") as info:
        await gl.connect(v2sim, email=v2sim.email, password=wrong)
    assert wrong not in str(info.value)


async def test_rest_401_is_an_authentication_error(v2sim: gl.SimulatorHandle) -> None:
    bogus = "bogus-token-value"
    rest = RestClient(v2sim.api_url, lambda: Secret(bogus), lambda: [bogus])
    try:
        with pytest.raises(gl.AuthenticationError, match="refused the access token") as info:
            await rest.request("GET", "/v2/chats", "rest:chats")
        assert bogus not in str(info.value)
    finally:
        await rest.close()


# ------------------------------------------------------------------ discovery
async def test_backfill_lists_every_chat_across_pages(v2sim: gl.SimulatorHandle) -> None:
    first = await gl.connect(v2sim, heartbeat_interval=None)  # starts the simulated day
    try:
        await wait_for(lambda: first.transport.stats()["chats_known"] >= 6, timeout=20)
        # the simulated day is in 2025: a window reaching it, so closed chats count too
        window = timedelta(days=365 * 20)
        t = transport(v2sim, page_size=2, close_poll_interval=None, backfill=window)
        sink = RecordingSink()
        await t.start(sink)
        try:
            listed = [c["id"] for c in sink.names("rest:chat")]
            assert len(listed) == len(set(listed)) >= 6
            assert sink.links[:2] == ["reconnected", "restored"]
            rest = RestClient(v2sim.api_url, lambda: Secret(v2sim.token), lambda: [])
            total = (await rest.request("GET", "/v2/chats", "x", params={"limit": "100"})).body
            await rest.close()
            assert {c["id"] for c in total["chats"]} <= set(listed) | set(t.book.chats)
            # each chat's rest:chat comes before its messages, and the rooms are joined
            order = [n for n, _ in sink.events if n.startswith("rest:")]
            assert order.index("rest:chat") < order.index("rest:message")
            for chat_id in listed:
                assert t.book.chats[chat_id].joined
            assert len(sink.names("rest:message")) > 0
        finally:
            await t.close()
    finally:
        await first.close()


async def test_boundary_millisecond_is_reread_and_cursor_encoded() -> None:
    """The deployed query skips chats created in the same ms as a page's last one: the
    client re-reads that millisecond and dedupes; the cursor travels URL-encoded."""
    at = "2026-12-04T15:14:45.231Z"
    chats = [{"id": f"c{i}", "status": "PENDING", "createdAt": at} for i in (5, 4, 3)]
    chats += [{"id": "c2", "status": "CLOSED", "createdAt": "2026-12-04T15:14:44.000Z"}]
    raw_cursors: list[str] = []

    async def list_chats(request: web.Request) -> web.Response:
        raw_cursors.append(request.query_string)
        limit = int(request.query["limit"])
        cursor = request.query.get("cursor")
        rows = chats
        if cursor:  # the quirk: strictly older than the cursor's createdAt
            c = json.loads(base64.b64decode(cursor))
            rows = [r for r in chats if parse_time(r["createdAt"]) < parse_time(c["createdAt"])]
        page = rows[:limit]
        nxt = (
            base64.b64encode(
                json.dumps({"createdAt": page[-1]["createdAt"], "id": page[-1]["id"]}).encode()
            ).decode()
            if page
            else None
        )
        more = len(rows) > limit
        body = {
            "chats": page,
            "total": len(chats),
            "hasMore": more,
            "nextCursor": nxt if more else None,
        }
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/api/v2/chats", list_chats)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rest = RestClient(f"http://127.0.0.1:{port}/api", lambda: Secret("t0k3n"), lambda: [])
    book = Book(rest, lambda n, p: None, _never_join, window=None, page_size=2)
    try:
        found = await book.list_chats(None)
    finally:
        await rest.close()
        await runner.cleanup()
    assert list(found) == ["c5", "c4", "c3", "c2"]  # c3 shares c4's millisecond
    assert any("cursor=" in q and "%3D" in q for q in raw_cursors)  # base64 '=' encoded


async def _never_join(chat_id: str) -> bool:
    raise AssertionError("no join expected")


def test_widen_cursor() -> None:
    cursor = base64.b64encode(b'{"createdAt":"2026-12-04T15:14:45.999Z","id":"x"}').decode()
    data = json.loads(base64.b64decode(widen_cursor(cursor)))
    assert data == {"createdAt": "2026-12-04T15:14:46.000Z", "id": "x"}
    assert widen_cursor("not base64!") == "not base64!"


async def test_chat_created_is_joined_automatically(v2sim: gl.SimulatorHandle) -> None:
    t = transport(v2sim, backfill=False)
    sink = RecordingSink()
    await t.start(sink)
    try:
        await wait_for(lambda: len(sink.names("chat:created")) >= 2, timeout=20)
        created = {p["chatId"] for p in sink.names("chat:created")}
        await wait_for(lambda: all(t.book.chats[c].joined for c in created), timeout=10)
        await wait_for(lambda: len(sink.names("message:new")) > 0, timeout=20)
    finally:
        await t.close()
    off = transport(v2sim, backfill=False, auto_join=False)
    sink = RecordingSink()
    await off.start(sink)
    try:
        await wait_for(lambda: len(sink.names("chat:created")) >= 1, timeout=20)
        assert off.stats()["chat_rooms_joined"] == 0
    finally:
        await off.close()


# ------------------------------------------------------------------ actions
async def test_actions_translate_and_errors_map(pending_sim: gl.SimulatorHandle) -> None:
    live = await gl.connect(pending_sim, heartbeat_interval=None, close_poll_interval=None)
    try:
        t = live.transport
        assert isinstance(t, GuidersV2Transport)
        await wait_for(lambda: any(not s.closed for s in t.book.chats.values()), timeout=20)
        chat_id = next(c for c, s in t.book.chats.items() if s.status == "PENDING")
        # message:send -> POST /v2/messages; comes back once as message:new
        ack = await live.send_message(chat_id, "Hola desde el kit", metadata={"x": 1})
        assert ack["ok"] is True and ack["httpStatus"] == 201 and ack["type"] == "TEXT"
        await wait_for(lambda: (live.messages["message_id"] == ack["id"]).sum() == 1)
        # chat:assign -> PUT; a second assign of an assigned chat -> 400
        commercial = next(iter(pending_sim.commercial_ids.values()))
        ack = await live.assign_chat(chat_id, commercial)
        assert ack["ok"] and ack["httpStatus"] == 200 and ack["status"] == "ASSIGNED"
        with pytest.raises(gl.ActionError) as info:
            await live.assign_chat(chat_id, commercial)
        assert info.value.code == "400" and "no puede ser asignado" in info.value.message
        # chat:close -> PUT close: 501 on the real backend
        with pytest.raises(gl.ActionError) as info:
            await live.close_chat(chat_id)
        assert info.value.code == "501" and info.value.message == "Funcionalidad no implementada"
        # a validation 400: NestJS's list of messages, joined
        with pytest.raises(gl.ActionError) as info:
            await live.emit("message:send", {"chatId": "not-a-uuid", "content": "x"})
        assert info.value.code == "400" and "chatId must be a UUID" in info.value.message
        # socket actions: join / leave / typing / ping
        assert (await live.join_chat(chat_id))["ok"] is True
        typing = await live.typing(chat_id, True)
        assert typing == {"ok": True, "success": True, "message": "Typing indicator iniciado"}
        assert (await live.leave_chat(chat_id))["ok"] is True
        assert t.book.chats[chat_id].room is False
        assert await live.ping() > 0
        actions = live.actions
        assert len(actions) >= 8 and set(actions["ok"]) == {True, False}
        codes = set(actions["error_code"].dropna())
        assert {"400", "501"} <= codes
    finally:
        await live.close()


async def test_integration_api_key_and_its_404(pending_sim: gl.SimulatorHandle) -> None:
    live = await gl.connect(pending_sim, api_key=pending_sim.api_key, heartbeat_interval=None)
    try:
        t = live.transport
        assert isinstance(t, GuidersV2Transport)
        await wait_for(lambda: len(t.book.chats) > 0, timeout=20)
        chat_id = next(iter(t.book.chats))
        ack = await live.send_message(chat_id, "Un bot responde")
        assert ack["ok"] and ack["senderType"] == "bot" and ack["httpStatus"] == 201
        missing = "6f1c3c1e-2f4b-4d7a-9c2e-8a1b2c3d4e5f"
        with pytest.raises(gl.ActionError) as info:
            await live.send_message(missing, "¿hola?")
        assert info.value.code == "404" and info.value.message == "CONVERSATION_NOT_FOUND"
    finally:
        await live.close()
    assert pending_sim.api_key not in repr(t) and pending_sim.api_key not in str(t.stats())


async def test_unsupported_actions_raise_without_sending(session: gl.LiveSession) -> None:
    t = session.transport
    assert isinstance(t, GuidersV2Transport)
    before = t.rest.requests
    calls = [
        session.update_chat("c", tags=["vip"]),
        session.notify("alert", "supervisors"),
        session.suggest("c", "s", ["hola"]),
        session.trigger_conversion("v"),
    ]
    for call in calls:
        with pytest.raises(gl.UnsupportedActionError, match="guiders-v2"):
            await call
    assert t.rest.requests == before
    actions = session.actions
    assert list(actions["error_code"]) == ["UNSUPPORTED_ACTION"] * 4


async def test_retries_on_503_and_429_never_on_400(pending_sim: gl.SimulatorHandle) -> None:
    t = transport(pending_sim, close_poll_interval=None)
    sink = RecordingSink()
    await t.start(sink)
    try:
        await wait_for(lambda: len(t.book.chats) > 0, timeout=20)
        chat_id = next(iter(t.book.chats))
        # only the calls under test fail: the transport's own background reads (a new
        # chat's backfill) took injected failures under load and retried them
        sends = ("POST", "/api/v2/messages")
        pending_sim.fail_rest(2, 503, only=sends)
        ack = await t.call("message:send", {"chatId": chat_id, "content": "tras 503"}, 10)
        assert ack["ok"] and t.rest.retries == 2
        pending_sim.fail_rest(1, 429, retry_after=0.4, only=sends)
        started = time.monotonic()
        ack = await t.call("message:send", {"chatId": chat_id, "content": "tras 429"}, 10)
        assert ack["ok"] and time.monotonic() - started >= 0.4 and t.rest.retries == 3
        requests = t.rest.requests
        with pytest.raises(gl.ActionError, match="400"):
            await t.call("message:send", {"chatId": "nope", "content": "x"}, 10)
        assert t.rest.requests == requests + 1 and t.rest.retries == 3
        # more than the retries: the 503 surfaces
        pending_sim.fail_rest(10, 503, only=("PUT", f"/api/v2/chats/{chat_id}/assign"))
        with pytest.raises(gl.ActionError) as info:
            await t.call("chat:assign", {"chatId": chat_id, "commercialId": chat_id}, 10)
        assert info.value.code == "503" and t.rest.retries == 6
    finally:
        await t.close()


def test_acks_normalise() -> None:
    ok = {"success": True, "message": "Unido", "chatId": "c", "roomName": "chat:c"}
    assert normalise_ack(ok) == {"ok": True, **ok}
    refused = normalise_ack({"success": False, "message": "chatId es requerido"})
    assert refused == {"ok": False, "error": {"code": "REFUSED", "message": "chatId es requerido"}}
    health = {"status": "OK", "timestamp": 1, "uptime": 2.0, "message": "WebSocket ok"}
    assert normalise_ack(health) == {"ok": True, **health}


async def test_closes_are_learned_by_polling() -> None:
    """The backend emits nothing when a chat closes: open chats are re-read."""
    with gl.launch_simulator(
        "unattended", dialect="guiders-v2", seed=21, speed=300.0, close_implemented=True
    ) as sim:
        t = transport(sim, backfill=False, close_poll_interval=0.3)
        sink = RecordingSink()
        await t.start(sink)
        try:
            await wait_for(lambda: len(sink.names("chat:created")) >= 1, timeout=20)
            chat_id = sink.names("chat:created")[0]["chatId"]
            ack = await t.call("chat:close", {"chatId": chat_id}, 10)
            assert ack["ok"] and ack["httpStatus"] == 200
            await wait_for(
                lambda: any(c["id"] == chat_id for c in sink.names("rest:chat-closed")), timeout=10
            )
            ours = [c for c in sink.names("rest:chat-closed") if c["id"] == chat_id]
            assert len(ours) == 1 and ours[0]["status"] == "CLOSED"
            await asyncio.sleep(1.0)  # polled again: reported once
            again = [c for c in sink.names("rest:chat-closed") if c["id"] == chat_id]
            assert len(again) == 1
            assert t.stats()["closes_detected"] == len(sink.names("rest:chat-closed"))
        finally:
            await t.close()


async def test_connect_options_belong_to_their_dialect(v2sim: gl.SimulatorHandle) -> None:
    with pytest.raises(TypeError, match="guiders-v2"):
        await gl.connect("http://127.0.0.1:9", "tok", email="a@b.c")
    with pytest.raises(TypeError, match="email= and password="):
        await gl.connect(v2sim.url, dialect="guiders-v2", email="a@b.c")
    live = await gl.connect(v2sim, email=v2sim.email, password=v2sim.password, backfill=False)
    try:
        t = live.transport
        assert isinstance(t, GuidersV2Transport) and t.keeper.logins == 1
        assert t.api_url == v2sim.api_url and "password" not in repr(t)
    finally:
        await live.close()


# ------------------------------------------------------------------ nothing lost
async def test_reconnects_rejoin_and_refill_each_chat(v2sim: gl.SimulatorHandle) -> None:
    live = await gl.connect(v2sim, heartbeat_interval=None, reconnection_delay=0.2)
    try:
        t = live.transport
        assert isinstance(t, GuidersV2Transport)
        await wait_for(lambda: t.stats()["chat_rooms_joined"] >= 3, timeout=20)
        for drop in range(10):  # issue 16: ten forced drops during a busy stream
            v2sim.drop_connections()
            await wait_for(lambda d=drop: t.stats()["restores"] > d and t.connected, timeout=20)
        await wait_for(lambda: t.stats()["chat_rooms_joined"] == len(
            [s for s in t.book.chats.values() if s.room]), timeout=10)  # fmt: skip
        # every message the backend stored for the joined chats is in the table, once
        rest = RestClient(v2sim.api_url, lambda: Secret(v2sim.token), lambda: [])
        try:
            want: set[str] = set()
            for chat_id in list(t.book.chats):
                path = f"/v2/messages/chat/{chat_id}"
                page = (await rest.request("GET", path, "x", params={"limit": "100"})).body
                want |= {m["id"] for m in page["messages"]}
        finally:
            await rest.close()
        await wait_for(lambda: want <= set(live.messages["message_id"]), timeout=10)
        ids = live.messages["message_id"]
        assert not ids.duplicated().any()
    finally:
        await live.close()


# ------------------------------------------------------------------ secrets
async def test_no_secret_in_repr_logs_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with gl.launch_simulator("demo", dialect="guiders-v2", seed=8, speed=60.0, token_ttl=2) as sim:
        t = transport(sim, token=None, email=sim.email, password=sim.password,
                      api_key=sim.api_key)  # fmt: skip
        await t.start(RecordingSink())
        try:
            await wait_for(lambda: t.keeper.refreshes >= 1, timeout=10)
            tokens = [t.keeper.access.reveal()] if t.keeper.access else []
            errors = []
            for event, payload in [
                (
                    "message:send",
                    {"chatId": "6f1c3c1e-2f4b-4d7a-9c2e-8a1b2c3d4e5f", "content": "x"},
                ),
                ("chat:close", {"chatId": "x"}),
            ]:
                try:
                    await t.call(event, payload, 5)
                except gl.GuidersLabError as exc:
                    errors.append(str(exc))
            shown = " ".join([repr(t), repr(t.keeper), repr(t.rest), str(t.stats()), *errors])
        finally:
            await t.close()
        for secret in [sim.password, sim.api_key, sim.token, *tokens, *t.keeper.secrets()]:
            assert secret not in shown
            assert secret not in caplog.text
        assert len(errors) == 2
