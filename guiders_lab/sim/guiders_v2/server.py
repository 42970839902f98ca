"""A simulated deployed Guiders backend: the same scenario engine behind the real
backend's gateway, handlers and REST controllers (the ``guiders-v2`` dialect).

The engine still speaks ``ai-api`` internally; :class:`~.translate.Translator` turns each
of its events into the backend's, and the REST routes act on the engine like the
``ai-api`` handlers do, so the same seed and the same actions give the same conversation
in both dialects.
"""

from __future__ import annotations

from typing import Any

import socketio
from aiohttp import web
from aiohttp.typedefs import Handler

from .. import chats as engine_chats
from ..codec import SimPacket
from ..server import SimServer
from ..world import ACCOUNT_ROOM
from .auth import HANDLE_TOKEN_TTL_S, Auth
from .faults import V2Faults
from .flood import flood as _flood
from .gateway import Gateway
from .ids import uuid_for
from .rest import HttpError, Rest, validation_error
from .store import Store, V2Chat
from .translate import Translator
from .validate import ValidationFailed

__all__ = ["GuidersV2Server"]


class GuidersV2Server(SimServer):
    """``SimServer`` with the deployed backend's socket protocol and REST API."""

    dialect = "guiders-v2"

    def __init__(
        self,
        scenario: Any = "demo",
        *,
        token_ttl: float = 900.0,
        close_implemented: bool = False,
        high_intent: bool = False,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scenario, **kwargs)
        self.faults: V2Faults = V2Faults()
        self.close_implemented = close_implemented
        self.auth = Auth(self.seed, token_ttl, password)
        self.store = Store()
        self.translator = Translator(
            self.seed, self.auth.company_id, self.store, self.engine, self._out,
            high_intent=high_intent,
        )  # fmt: skip
        self.commercial_ids = {
            spec.id: uuid_for(self.seed, spec.id) for spec in self.scenario.commercials
        }
        self._engine_commercial = {u: k for k, u in self.commercial_ids.items()}
        for spec in self.scenario.commercials:
            self.auth.add_commercial(self.commercial_ids[spec.id], spec.name, spec.id)
        admin = self.auth.admin
        self.token = self.auth.issue(admin.id, admin.roles, ttl=HANDLE_TOKEN_TTL_S)
        self.rest = Rest(self)

    # ------------------------------------------------------------------ identity
    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def email(self) -> str:
        return self.auth.admin.email

    @property
    def password(self) -> str:
        return self.auth.password

    @property
    def api_key(self) -> str:
        return self.auth.api_key

    @property
    def user_id(self) -> str:
        return self.auth.admin.id

    @property
    def company_id(self) -> str:
        return self.auth.company_id

    # ------------------------------------------------------------------ wiring
    def _make_sio(self) -> socketio.AsyncServer:
        """A fresh gateway on every (re)start: ``always_connect`` sends the connection's
        acceptance before the connect handler runs, so ``welcome`` arrives after it and
        no socket is ever refused."""
        sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins="*",
            serializer=SimPacket,
            logger=False,
            engineio_logger=False,
            transports=list(self.transports),
            always_connect=True,
        )
        self.gateway = Gateway(self)
        sio.on("connect", self.gateway.connect)
        sio.on("disconnect", self.gateway.disconnect)
        for name, handler in self.gateway.handlers().items():
            sio.on(name, handler)
        return sio

    def _extend_app(self, app: web.Application) -> None:
        app.middlewares.append(self._rest_middleware)
        app.router.add_routes(self.rest.routes())

    @web.middleware
    async def _rest_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api"):
            return await handler(request)
        self.actions += 1
        failure = self.faults.take_rest_failure(request.method, request.path)
        if failure is not None:
            status, body, headers = failure
            return web.json_response(body, status=status, headers=headers)
        try:
            return await handler(request)
        except ValidationFailed as exc:
            error = validation_error(exc)
        except HttpError as exc:
            error = exc
        return web.json_response(error.body, status=error.status, headers=error.headers)

    # ------------------------------------------------------------------ events
    def enqueue(
        self, event: str, payload: dict[str, Any], room: str, skip_sid: str | None = None
    ) -> None:
        """The engine's events, translated to the backend's on their way out."""
        self.translator(event, payload, room)

    def _out(self, event: str, payload: dict[str, Any], room: str) -> None:
        self._outbox.append((event, payload, room, None))

    def enqueue_raw(self, event: str, payload: dict[str, Any], room: str) -> None:
        """Queue an event already in the backend's shape."""
        self._out(event, payload, room)

    async def broadcast(
        self, event: str, payload: Any, room: str = ACCOUNT_ROOM, skip_sid: str | None = None
    ) -> None:
        """Emit one event as the backend does: the payload alone (no sequence numbers,
        no replay). The ``ai-api`` account room means the tenant room here."""
        if room == ACCOUNT_ROOM:
            room = self.translator.tenant_room
        self.seq += 1
        try:
            await self.sio.emit(event, payload, room=room, skip_sid=skip_sid)
        except Exception:  # a connection dying mid-send; the client backfills over REST
            return

    async def inject(self, event: str, *args: Any, room: str = ACCOUNT_ROOM) -> None:
        """Emit arbitrary event arguments to every connected socket."""
        target = None if room == ACCOUNT_ROOM else room
        await self.sio.emit(event, args if len(args) != 1 else args[0], room=target)

    async def flood(
        self, n: int, *, chats: int = 200, rate: float | None = None
    ) -> dict[str, float]:
        return await _flood(self, n, chats=chats, rate=rate)

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "dialect": self.dialect, "rest_failed": self.faults.rest_failed}

    # ------------------------------------------------------------------ actions (REST)
    async def catch_up(self) -> None:
        """Act on an up-to-date world, as the socket handlers of ``ai-api`` do."""
        self.engine.run_until(self.sim_now())
        await self._flush()

    async def after_action(self, action: str) -> None:
        await self._flush()
        self._wake.set()  # the action may have scheduled earlier events
        if self.faults.cut_after_action == action:
            self.faults.cut_after_action = None  # one shot: applied, the answer is lost
            self.drop_connections()

    def mark_commercial(self, user_id: str, status: str) -> None:
        """A commercial's socket came or went: ``markCommercialOnline``/``Offline``."""
        previous = self.translator.presence.get(user_id, "offline")
        if previous == status:
            return
        self.translator.presence[user_id] = status
        self.translator.presence_changed(user_id, "commercial", previous, status)

    def assign(self, chat: V2Chat, commercial_id: str) -> None:
        """A scenario commercial takes the chat in the engine (whatever its load, as the
        backend only warns); anyone else gets it in the store only."""
        key = self._engine_commercial.get(commercial_id)
        engine_chat = self.engine.chats.get(chat.engine_id) if chat.engine_id else None
        if key is not None and engine_chat is not None and engine_chat.open:
            commercial = self.engine.commercials[key]
            engine_chats.assign(self.engine, engine_chat, commercial, "manual", "manual", None)
            return
        user = next((u for u in self.auth.users.values() if u.id == commercial_id), None)
        chat.manual_owner = key is None
        self.translator.assign(chat, commercial_id, user.name if user else None, self.engine.iso())

    def close(self, chat: V2Chat) -> None:
        """Only with ``close_implemented=True``: the chat closes, still silently."""
        engine_chat = self.engine.chats.get(chat.engine_id) if chat.engine_id else None
        if engine_chat is not None and engine_chat.open:
            engine_chats.close(self.engine, engine_chat, "resolved", "commercial")
        if chat.status != "CLOSED":
            self.translator.close(chat, self.engine.iso())
