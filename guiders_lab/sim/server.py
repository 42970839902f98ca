"""The simulator's Socket.IO server: the scenario engine on a real socket, paced in real time.

It speaks the ``ai-api`` dialect: authenticates ``auth.token``, broadcasts the account's
events, and obeys every client event with an ack ``{ok: true, ...}`` or
``{ok: false, error: {code, message}}`` (plus an ``error`` event to the sender). Every
emitted event carries a second argument ``{seq, serverTime}``, a simulator extension that
lets clients measure event lag and detect gaps; page-style handlers simply ignore it.
It shares only the event schemas with the client (``guiders_lab.events``), never its code.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import socket
import time
from collections import OrderedDict, deque
from datetime import UTC, datetime
from typing import Any

import socketio
from aiohttp import web
from aiohttp.typedefs import Handler

from ..dialects.ai_api.wire import CLIENT_EVENTS
from ..errors import PayloadError
from ..events.records import UNDECODABLE
from ..events.validate import validate_outgoing
from .codec import SimPacket
from .engine import Simulation
from .faults import Faults, ServerState
from .flood import flood as _flood
from .handlers import HANDLERS
from .identity import Identity, parse_tokens
from .model import SimError
from .scenario import Scenario, get_scenario
from .world import ACCOUNT_ROOM

__all__ = ["DEFAULT_START", "Identity", "SimServer", "parse_tokens"]

log = logging.getLogger(__name__)

DEFAULT_START = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)  # the page's example day
_IDEMPOTENCY_MEMORY = 50_000  # results kept for retries with the same key
_PACE_BATCH = 200  # engine events released per turn of the loop when running behind


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
        self.engine = Simulation(self.scenario, seed, start, self.enqueue)
        self.state = ServerState.NEW
        self.faults = Faults()
        self.clients: dict[str, Identity] = {}
        self.seq = 0
        # account events kept for clients that reconnect and ask what they missed
        self.history: deque[tuple[int, str, Any, dict[str, Any]]] = deque(maxlen=replay_buffer)
        self._idempotent: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
        self.restarts = 0
        self.actions = 0  # client events carried out (acked ok or refused)
        self.actions_in_flight = 0
        self.peak_actions_in_flight = 0
        self._outbox: deque[tuple[str, dict[str, Any], str, str | None]] = deque()
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._engine_task: asyncio.Task[None] | None = None
        self._wall0: float | None = None
        self._transports: set[asyncio.Transport] = set()
        self.sio = self._make_sio()

    # ------------------------------------------------------------------ lifecycle
    def _make_sio(self) -> socketio.AsyncServer:
        sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins="*",
            serializer=SimPacket,
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
        await self.up()
        self._engine_task = asyncio.get_running_loop().create_task(self._pace())
        log.info("simulator %s listening on %s", self.scenario.name, self.url)

    async def up(self) -> None:
        """Listen (again) on ``self.port``: after :meth:`down`, on the same port, with the
        same world; clients reconnect and ask for what they missed."""
        if self.state is ServerState.STOPPED:
            raise RuntimeError("this simulator was stopped; launch a new one")
        if self.state is ServerState.SERVING:
            return

        @web.middleware
        async def track_transports(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.transport is not None:
                self._transports.add(request.transport)
            return await handler(request)

        app = web.Application(middlewares=[track_transports])
        self.sio.attach(app, socketio_path=self.path)
        app.router.add_get("/health", self._health)
        self._extend_app(app)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        sock = _free_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.state = ServerState.SERVING

    def _extend_app(self, app: web.Application) -> None:
        """Add a dialect's own routes and middlewares (none for ``ai-api``)."""

    async def down(self) -> None:
        """Go down like a crashed server: connections cut, nothing listening, while the
        simulated world goes on (its events wait in the replay buffer)."""
        if self.state is not ServerState.SERVING:
            return
        await self._unserve()
        self.clients.clear()
        self.sio = self._make_sio()  # a fresh Socket.IO server: no stale sessions or rooms
        self.state = ServerState.DOWN

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
        self.state = ServerState.STOPPED

    async def restart(self, down_for: float = 0.5) -> None:
        """:meth:`down`, ``down_for`` seconds of outage, then :meth:`up` on the same port."""
        await self.down()
        self.restarts += 1
        await asyncio.sleep(down_for)
        await self.up()

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"ok": True, **self.engine.snapshot()})

    def begin(self) -> None:
        """Start the simulated day (by default on the first authenticated connection)."""
        if self._wall0 is None:
            self._wall0 = time.monotonic()
            self.engine.begin()
            self._wake.set()

    def stats(self) -> dict[str, Any]:
        """The server's side of things: state, clients, events sent, actions handled."""
        return {
            "state": self.state.value,
            "clients": len(self.clients),
            "seq": self.seq,
            "restarts": self.restarts,
            "actions": self.actions,
            "actions_in_flight": self.actions_in_flight,
            "peak_actions_in_flight": self.peak_actions_in_flight,
        }

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
                done = self.engine.run_until(self.sim_now(), max_events=_PACE_BATCH)
                await self._flush()
                if done >= _PACE_BATCH:
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

    def enqueue(
        self, event: str, payload: dict[str, Any], room: str, skip_sid: str | None = None
    ) -> None:
        """Queue an event; it goes out, in order, once the current step is done."""
        self._outbox.append((event, payload, room, skip_sid))

    async def _flush(self) -> None:
        while self._outbox:
            event, payload, room, skip_sid = self._outbox.popleft()
            await self.broadcast(event, payload, room, skip_sid)

    async def broadcast(
        self, event: str, payload: Any, room: str = ACCOUNT_ROOM, skip_sid: str | None = None
    ) -> None:
        """Emit one event with its ``{seq, serverTime}`` (account events are numbered and
        kept for resyncs)."""
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

    def room_members(self, room: str) -> list[str]:
        """The session ids in ``room``."""
        return [sid for sid, _ in self.sio.manager.get_participants("/", room)]

    def members(self, room: str) -> list[Identity]:
        """Who is in ``room``."""
        return [self.clients[s] for s in self.room_members(room) if s in self.clients]

    # ------------------------------------------------------------------ client events
    async def _on_client_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        identity = self.clients.get(sid)
        self.actions_in_flight += 1
        self.peak_actions_in_flight = max(self.peak_actions_in_flight, self.actions_in_flight)
        try:
            if identity is None:
                raise SimError("UNAUTHENTICATED", "connect with a valid token first")
            if event == UNDECODABLE:
                raise SimError("MALFORMED_PACKET", "the packet could not be decoded")
            handler = HANDLERS.get(event) if event in CLIENT_EVENTS else None
            if handler is None:
                raise SimError("UNKNOWN_EVENT", f"unknown event {event!r}")
            payload = args[0] if args else None
            try:
                validate_outgoing(event, payload, CLIENT_EVENTS)
            except PayloadError as exc:
                raise SimError(
                    "INVALID_PAYLOAD", str(exc).replace("; nothing was sent", "")
                ) from None
            if not isinstance(payload, dict):  # the schema said yes: only a dict is usable
                raise SimError("INVALID_PAYLOAD", f"{event} takes an object")
            if self.faults.ack_delay > 0:
                await asyncio.sleep(self.faults.ack_delay)
            self.engine.run_until(self.sim_now())  # act on an up-to-date world
            key = payload.get("idempotencyKey")
            if key is not None:
                done = self._idempotent.get((identity.id, event, key))
                if done is not None:  # a retry of an action already carried out
                    return {**done, "duplicate": True}
            result = await handler(self, payload, sid, identity)
            if key is not None:
                self._idempotent[(identity.id, event, key)] = {"ok": True, **result}
                while len(self._idempotent) > _IDEMPOTENCY_MEMORY:
                    self._idempotent.popitem(last=False)
            if self.faults.cut_after_action == event:
                self.faults.cut_after_action = None  # one shot
                self.drop_connections()  # applied, but the ack never reaches the client
        except SimError as exc:
            await self.sio.emit(
                "error", {"code": exc.code, "message": exc.message, "event": event}, to=sid
            )
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        finally:
            self.actions += 1
            self.actions_in_flight -= 1
            await self._flush()
            self._wake.set()  # the action may have scheduled earlier events
        return {"ok": True, **result}

    # ------------------------------------------------------------------ test and benchmark hooks
    async def flood(
        self, n: int, *, chats: int = 200, rate: float | None = None
    ) -> dict[str, float]:
        """Emit ``n`` ``message:new`` events as fast as the server can, or at ``rate``
        events per second (benchmarks)."""
        return await _flood(self, n, chats=chats, rate=rate)

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
