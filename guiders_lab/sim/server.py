"""The simulator's Socket.IO server: the scenario engine on a real socket, paced in real time.

It speaks the ``ai-api`` dialect: authenticates ``auth.token``, broadcasts the account's
events, and obeys every client event with an ack ``{ok: true, ...}`` or
``{ok: false, error: {code, message}}`` (plus an ``error`` event to the sender). Every
emitted event carries a second argument ``{seq, serverTime}``, a simulator extension that
lets clients measure event lag and detect gaps; page-style handlers simply ignore it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import secrets
import socket
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import socketio
from aiohttp import web

from ..errors import PayloadError
from ..events.ai_api import CLIENT_EVENTS
from ..events.records import UNDECODABLE
from ..events.validate import validate_outgoing
from ..transport.fastjson import FastPacket
from . import texts
from .engine import ACCOUNT_ROOM, Simulation, chat_room
from .model import SimError
from .scenario import Scenario, get_scenario

__all__ = ["DEFAULT_START", "Identity", "SimServer", "parse_tokens"]

log = logging.getLogger(__name__)

DEFAULT_START = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)  # the page's example day


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to: the AI system (default), a supervisor, or a commercial."""

    role: str
    id: str
    name: str

    def rooms(self) -> list[str]:
        rooms = [ACCOUNT_ROOM, self.role + "s"]
        if self.role == "commercial":
            rooms.append(f"commercial:{self.id}")
        return rooms


def parse_tokens(tokens: str | list[str] | dict[str, Any] | None) -> dict[str, Identity]:
    """Accept one token, a list (all AI), or ``{token: "supervisor" | "commercial:<id>" |
    Identity}``. ``None`` makes a fresh demo token."""
    if tokens is None:
        tokens = f"sim-{secrets.token_hex(12)}"
    if isinstance(tokens, str):
        tokens = [tokens]
    if isinstance(tokens, list):
        tokens = dict.fromkeys(tokens, "ai")
    out: dict[str, Identity] = {}
    for token, who in tokens.items():
        if isinstance(who, Identity):
            out[token] = who
        elif who == "ai":
            out[token] = Identity("ai", "ai-assistant", "Asistente IA")
        elif who == "supervisor":
            out[token] = Identity("supervisor", f"supervisor-{len(out)}", "Supervisor")
        elif isinstance(who, str) and who.startswith("commercial:"):
            cid = who.split(":", 1)[1]
            out[token] = Identity("commercial", cid, cid)
        else:
            raise ValueError(f"unknown identity {who!r} for a token")
    return out


def _free_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class SimServer:
    """A simulated Guiders account on ``http://host:port``."""

    def __init__(
        self,
        scenario: str | Scenario = "demo",
        *,
        seed: int = 7,
        speed: float | None = None,
        start: datetime = DEFAULT_START,
        tokens: str | list[str] | dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/socket.io/",
        autostart: bool = True,
        transports: tuple[str, ...] = ("polling", "websocket"),
        replay_buffer: int = 100_000,
    ) -> None:
        self.scenario = get_scenario(scenario)
        self.seed = seed
        self.speed = float(speed if speed is not None else self.scenario.default_speed)
        if not self.speed > 0:
            raise ValueError("speed must be > 0 (use math.inf for as fast as possible)")
        self.identities = parse_tokens(tokens)
        self.token = next(iter(self.identities))
        self.host, self.port, self.path = host, port, path
        self.autostart = autostart
        self.transports = transports
        self.engine = Simulation(self.scenario, seed, start, self._enqueue)
        self.clients: dict[str, Identity] = {}
        self.seq = 0
        # account events kept for clients that reconnect and ask what they missed
        self.history: deque[tuple[int, str, Any, dict[str, Any]]] = deque(maxlen=replay_buffer)
        self._idempotent: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
        self.restarts = 0
        self._outbox: deque[tuple[str, dict[str, Any], str, str | None]] = deque()
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._engine_task: asyncio.Task | None = None
        self._wall0: float | None = None
        self._transports: set[asyncio.Transport] = set()
        self.sio = self._make_sio()

    # ------------------------------------------------------------------ lifecycle
    def _make_sio(self) -> socketio.AsyncServer:
        sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins="*",
            serializer=FastPacket,
            logger=False,
            engineio_logger=False,
            transports=list(self.transports),
        )
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        sio.on("*", self._on_client_event)
        return sio

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        await self._serve()
        self._engine_task = asyncio.get_running_loop().create_task(self._pace())
        log.info("simulator %s listening on %s", self.scenario.name, self.url)

    async def _serve(self) -> None:
        """Start the HTTP side (again, after a restart) on ``self.port``."""

        @web.middleware
        async def track_transports(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.transport is not None:
                self._transports.add(request.transport)
            return await handler(request)

        app = web.Application(middlewares=[track_transports])
        self.sio.attach(app, socketio_path=self.path)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        sock = _free_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _unserve(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def stop(self) -> None:
        if self._engine_task is not None:
            self._engine_task.cancel()
        await self._unserve()

    async def restart(self, down_for: float = 0.5) -> None:
        """Go down like a crashed server (connections cut), stay down ``down_for`` seconds
        while the simulated world goes on, then come back on the same port with the same
        state: clients reconnect and ask for what they missed."""
        await self._unserve()
        self.clients.clear()
        self.sio = self._make_sio()  # a fresh Socket.IO server: no stale sessions or rooms
        self.restarts += 1
        await asyncio.sleep(down_for)
        await self._serve()

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"ok": True, **self.engine.snapshot()})

    def begin(self) -> None:
        """Start the simulated day (by default on the first authenticated connection)."""
        if self._wall0 is None:
            self._wall0 = time.monotonic()
            self.engine.begin()
            self._wake.set()

    # ------------------------------------------------------------------ pacing
    def sim_now(self) -> float:
        if self._wall0 is None:
            return 0.0
        if math.isinf(self.speed):
            return math.inf
        return (time.monotonic() - self._wall0) * self.speed

    async def _pace(self) -> None:
        """Release the engine's events when their simulated time comes."""
        while True:
            if self._wall0 is not None:
                done = self.engine.run_until(self.sim_now(), max_events=200)
                await self._flush()
                if done >= 200:
                    await asyncio.sleep(0)
                    continue
            next_t = self.engine.next_time() if self._wall0 is not None else None
            timeout = None if next_t is None else max(0.0, (next_t - self.sim_now()) / self.speed)
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # lands as the wake-up does, and this loop would then never stop
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _enqueue(
        self, event: str, payload: dict[str, Any], room: str, skip_sid: str | None = None
    ) -> None:
        self._outbox.append((event, payload, room, skip_sid))

    async def _flush(self) -> None:
        while self._outbox:
            event, payload, room, skip_sid = self._outbox.popleft()
            await self.broadcast(event, payload, room, skip_sid)

    async def broadcast(
        self, event: str, payload: Any, room: str = ACCOUNT_ROOM, skip_sid: str | None = None
    ) -> None:
        meta: dict[str, Any] = {"serverTime": time.time() * 1000.0}
        if room == ACCOUNT_ROOM:
            self.seq += 1
            meta["seq"] = self.seq
            self.history.append((self.seq, event, payload, meta))
        try:
            await self.sio.emit(event, (payload, meta), room=room, skip_sid=skip_sid)
        except Exception:  # a connection dying mid-send: the client resyncs from history
            log.debug("emit of %s failed", event, exc_info=True)

    # ------------------------------------------------------------------ connections
    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "authentication required: send auth.token"
            )
        identity = next(
            (
                who
                for known, who in self.identities.items()
                if hmac.compare_digest(known.encode(), token.encode())
            ),
            None,
        )
        if identity is None:
            raise socketio.exceptions.ConnectionRefusedError("authentication failed: invalid token")
        self.clients[sid] = identity
        for room in identity.rooms():
            await self.sio.enter_room(sid, room)
        if self.autostart:
            self.begin()

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.clients.pop(sid, None)

    # ------------------------------------------------------------------ client events
    async def _on_client_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        identity = self.clients.get(sid)
        try:
            if identity is None:
                raise SimError("UNAUTHENTICATED", "connect with a valid token first")
            if event == UNDECODABLE:
                raise SimError("MALFORMED_PACKET", "the packet could not be decoded")
            if event not in CLIENT_EVENTS:
                raise SimError("UNKNOWN_EVENT", f"unknown event {event!r}")
            payload = args[0] if args else None
            try:
                validate_outgoing(event, payload, CLIENT_EVENTS)
            except PayloadError as exc:
                raise SimError(
                    "INVALID_PAYLOAD", str(exc).replace("; nothing was sent", "")
                ) from None
            self.engine.run_until(self.sim_now())  # act on an up-to-date world
            key = payload.get("idempotencyKey")
            if key is not None:
                done = self._idempotent.get((identity.id, event, key))
                if done is not None:  # a retry of an action already carried out
                    return {**done, "duplicate": True}
            result = await self._act(event, payload, sid, identity)
            if key is not None:
                self._idempotent[(identity.id, event, key)] = {"ok": True, **result}
                while len(self._idempotent) > 50_000:
                    self._idempotent.popitem(last=False)
        except SimError as exc:
            await self.sio.emit(
                "error", {"code": exc.code, "message": exc.message, "event": event}, to=sid
            )
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        finally:
            await self._flush()
            self._wake.set()  # the action may have scheduled earlier events
        return {"ok": True, **result}

    async def _act(self, event: str, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
        engine = self.engine
        if event == "ping":
            server_time = time.time() * 1000.0
            await self.sio.emit(
                "pong", {"timestamp": p["timestamp"], "serverTime": server_time}, to=sid
            )
            return {"timestamp": p["timestamp"], "serverTime": server_time}
        if event == "message:send":
            return engine.act_message(p, self._sender(p.get("type", "ai-response"), who))
        if event == "chat:assign":
            return engine.act_assign(p, "ai-system" if who.role == "ai" else "manual")
        if event == "chat:update":
            return engine.act_update(p, who.id)
        if event == "chat:join":
            if not engine.has_chat(p["chatId"]):
                raise SimError("CHAT_NOT_FOUND", f"chat {p['chatId']!r} does not exist")
            await self.sio.enter_room(sid, chat_room(p["chatId"]))
            return {"chatId": p["chatId"], "room": chat_room(p["chatId"])}
        if event in ("typing:start", "typing:stop"):
            if not engine.has_chat(p["chatId"]):
                raise SimError("CHAT_NOT_FOUND", f"chat {p['chatId']!r} does not exist")
            self._enqueue(event, p, chat_room(p["chatId"]), sid)
            return {}
        if event == "notification:send":
            room = self._notification_room(p["target"])
            delivered = self._deliver(event, {**p, "from": who.id}, room, sid)
            return {"delivered": delivered}
        if event == "assistance:suggestions":
            engine.act_suggest(p)
            delivered = self._deliver(
                event, {**p, "from": who.id}, f"commercial:{p['commercialId']}", sid
            )
            return {"delivered": delivered}
        if event == "trigger:high_conversion_flow":
            return engine.act_trigger(p)
        if event == "state:sync":
            return await self._sync(sid, p.get("sinceSeq") or 0, p.get("maxFrameBytes"))
        raise SimError("UNKNOWN_EVENT", f"unknown event {event!r}")  # pragma: no cover

    async def _sync(self, sid: str, since: int, max_frame: int | None = None) -> dict[str, Any]:
        """Send one client the account events it missed (the page's sincronizarEstado).

        An event larger than the client's frame limit would only cut the connection again
        (and again on every resync): it is skipped and listed instead."""
        missed = [item for item in self.history if item[0] > since]
        oldest = self.history[0][0] if self.history else self.seq + 1
        skipped: list[dict[str, Any]] = []
        replayed = 0
        for seq, event, payload, meta in missed:
            if max_frame is not None:
                size = len(orjson.dumps([event, payload, meta])) + 16  # + packet header
                if size > max_frame:
                    skipped.append({"seq": seq, "event": event, "bytes": size})
                    continue
            await self.sio.emit(event, (payload, meta), to=sid)
            replayed += 1
        return {
            "replayed": replayed,
            "skipped": skipped,
            "sinceSeq": since,
            "toSeq": self.seq,
            "complete": oldest <= since + 1 or since >= self.seq,
        }

    def _sender(self, kind: str, who: Identity) -> dict[str, Any]:
        if kind == "system":
            return {"id": "system", "name": "Guiders", "role": "system"}
        if kind == "commercial":
            if who.role not in ("commercial", "supervisor"):
                raise SimError("FORBIDDEN", "only commercials and supervisors send 'commercial'")
            return {"id": who.id, "name": who.name, "role": "commercial"}
        return {"id": who.id, "name": who.name, "role": "ai"}

    def _notification_room(self, target: str) -> str:
        if target in ("supervisors", "commercials"):
            return target
        if target in ("all", "account"):
            return ACCOUNT_ROOM
        kind, _, ident = target.partition(":")
        if kind == "commercial" and ident:
            return target
        if kind == "chat" and self.engine.has_chat(ident):
            return chat_room(ident)
        raise SimError("INVALID_TARGET", f"unknown notification target {target!r}")

    def _deliver(self, event: str, payload: dict[str, Any], room: str, sender: str) -> int:
        members = [s for s, _ in self.sio.manager.get_participants("/", room) if s != sender]
        if members:
            self._enqueue(event, payload, room, sender)
        return len(members)

    # ------------------------------------------------------------------ test and benchmark hooks
    async def flood(
        self, n: int, *, chats: int = 200, rate: float | None = None
    ) -> dict[str, float]:
        """Emit ``n`` ``message:new`` events as fast as the server can, or at ``rate``
        events per second (benchmarks)."""
        import random

        rng = random.Random(self.seed)
        pool = []
        for i in range(min(n, 2000)):
            lang = rng.choice(texts.LANGUAGES)
            dept = rng.choice(texts.DEPARTMENTS)
            pool.append(
                {
                    "chatId": f"chat-flood-{i % chats:05d}",
                    "content": texts.opening(rng, lang, dept, rng.choice(texts.MOODS)),
                    "type": "user",
                    "sender": {
                        "id": f"visitor-flood-{i % chats:05d}",
                        "name": texts.visitor_name(rng, lang),
                        "role": "visitor",
                    },
                    "metadata": {"department": dept, "urgency": "medium", "source": "web-widget"},
                }
            )
        started = time.perf_counter()
        for i in range(n):
            base = pool[i % len(pool)]
            payload = {
                **base,
                "messageId": f"msg-flood-{i:09d}",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            await self.broadcast("message:new", payload)
            if rate:
                ahead = started + (i + 1) / rate - time.perf_counter()
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
            elif i % 256 == 0:
                await asyncio.sleep(0)
        elapsed = time.perf_counter() - started
        return {"events": n, "seconds": elapsed, "events_per_s": n / elapsed if elapsed else 0.0}

    async def inject(self, event: str, *args: Any, room: str = ACCOUNT_ROOM) -> None:
        """Emit arbitrary (possibly malformed) event arguments, exactly as given."""
        await self.sio.emit(event, args if len(args) != 1 else args[0], room=room)

    async def inject_frame(self, *frames: str | bytes) -> None:
        """Send raw Engine.IO messages (Socket.IO packets, binary attachments) to every
        client, bypassing encoding."""
        for sid in list(self.clients):
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
            if eio_sid is not None:
                for frame in frames:
                    await self.sio.eio.send(eio_sid, frame)

    async def inject_many(self, items: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Inject a batch in order: ``("event", (name, *args))`` goes through the normal
        encoder, ``("frames", (frame, ...))`` is sent raw (fault tests at volume)."""
        for kind, parts in items:
            if kind == "frames":
                await self.inject_frame(*parts)
            else:
                await self.inject(parts[0], *parts[1:])

    def drop_connections(self) -> int:
        """Abort every TCP connection, like a network failure (clients should reconnect)."""
        dropped = 0
        for transport in list(self._transports):
            if not transport.is_closing():
                transport.abort()
                dropped += 1
        self._transports.clear()
        return dropped

    def members(self, room: str) -> list[Identity]:
        return [
            self.clients[s]
            for s, _ in self.sio.manager.get_participants("/", room)
            if s in self.clients
        ]
