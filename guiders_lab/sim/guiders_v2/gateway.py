"""The socket side: ``WebSocketGatewayBasic`` of the backend, handler for handler.

A socket is never refused: ``welcome`` first, then, for a valid commercial/admin/owner
JWT, the automatic ``tenant:`` and ``commercial:`` rooms with their confirmations; a bad
token gets nothing more. Only the gateway's own events are handled: any other name (the
``ai-api`` page's ``message:send``, ``ping``...) has no handler, so its ack never comes.
Acks and texts are the gateway's, Spanish included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..identity import Identity
from .auth import AuthError, User
from .ids import epoch_ms

if TYPE_CHECKING:
    from .server import GuidersV2Server

__all__ = ["Gateway", "js_string"]

Handler = Callable[[str, Any], Awaitable[Any]]
_STARTED = time.monotonic()
_TYPING_REQUIRED = "chatId, userId y userType son requeridos"


def js_string(value: Any) -> str:
    """``String(value)`` as JavaScript writes it (room names, implicit conversions)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if value is None:
        return "null"
    return str(value)


def _get(data: Any, key: str) -> Any:
    """``const {key} = data`` (``TypeError`` for null/undefined, as in JavaScript)."""
    if data is None:
        raise TypeError(f"Cannot destructure property '{key}' of 'data'")
    return data.get(key) if isinstance(data, dict) else None


@dataclass(frozen=True)
class _Room:
    """One join/leave handler of the gateway: its key, room and texts."""

    keys: tuple[str, ...]
    room: Callable[[list[Any]], str]
    joined: str  # the confirmation event
    ok: str
    fail: str  # the catch's message
    required: str
    error_event: bool  # whether a missing key also emits ``error``
    echo: tuple[str, ...]  # keys echoed in the ack
    with_room: bool  # the ack carries ``roomName``


def _rooms() -> dict[str, _Room]:
    chat = lambda v: f"chat:{js_string(v[0])}"  # noqa: E731
    visitor = lambda v: f"visitor:{js_string(v[0])}"  # noqa: E731
    tenant = lambda v: f"tenant:{js_string(v[0])}"  # noqa: E731
    presence = lambda v: f"{js_string(v[1])}:{js_string(v[0])}"  # noqa: E731
    both = ("userId", "userType")
    return {
        "chat:join": _Room(("chatId",), chat, "chat:joined",
                           "Unido a la sala de chat exitosamente",
                           "Error al unirse a la sala de chat", "chatId es requerido",
                           True, ("chatId",), True),
        "chat:leave": _Room(("chatId",), chat, "chat:left",
                            "Salió de la sala de chat exitosamente",
                            "Error al salir de la sala de chat", "chatId es requerido",
                            False, ("chatId",), False),
        "visitor:join": _Room(("visitorId",), visitor, "visitor:joined",
                              "Unido a la sala de visitante exitosamente",
                              "Error al unirse a la sala de visitante",
                              "visitorId es requerido", True, ("visitorId",), True),
        "visitor:leave": _Room(("visitorId",), visitor, "visitor:left",
                               "Salió de la sala de visitante exitosamente",
                               "Error al salir de la sala de visitante",
                               "visitorId es requerido", False, ("visitorId",), False),
        "tenant:join": _Room(("tenantId",), tenant, "tenant:joined",
                             "Unido a la sala de tenant exitosamente",
                             "Error al unirse a la sala de tenant", "tenantId es requerido",
                             True, ("companyId",), True),
        "tenant:leave": _Room(("tenantId",), tenant, "tenant:left",
                              "Salió de la sala de tenant exitosamente",
                              "Error al salir de la sala de tenant", "tenantId es requerido",
                              False, ("tenantId",), False),
        "presence:join": _Room(both, presence, "presence:joined",
                               "Unido a sala de presencia exitosamente",
                               "Error al unirse a la sala de presencia",
                               "userId y userType son requeridos", True, both, True),
        "presence:leave": _Room(both, presence, "presence:left",
                                "Salió de sala de presencia exitosamente",
                                "Error al salir de la sala de presencia",
                                "userId y userType son requeridos", False, both, False),
    }  # fmt: skip


ROOMS = _rooms()


class Gateway:
    """Connections, automatic rooms and the gateway's ``@SubscribeMessage`` handlers."""

    def __init__(self, server: GuidersV2Server) -> None:
        self.server = server
        self.users: dict[str, User] = {}  # sid -> authenticated user

    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {name: self._room_handler(name) for name in ROOMS}
        table["typing:start"] = self._typing("typing:start", "iniciado", "start")
        table["typing:stop"] = self._typing("typing:stop", "detenido", "stop")
        table["health-check"] = self._health
        table["test"] = self._test
        table["user:activity"] = self._activity
        return {name: self._counted(h) for name, h in table.items()}

    def _counted(self, handler: Handler) -> Handler:
        server = self.server

        async def run(sid: str, data: Any = None, *_: Any) -> Any:
            server.actions_in_flight += 1
            server.peak_actions_in_flight = max(
                server.peak_actions_in_flight, server.actions_in_flight
            )
            try:
                if server.faults.ack_delay > 0:
                    await asyncio.sleep(server.faults.ack_delay)
                return await handler(sid, data)
            finally:
                server.actions += 1
                server.actions_in_flight -= 1
                await server._flush()

        return run

    # ------------------------------------------------------------------ connections
    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        server = self.server
        server.clients[sid] = Identity("anonymous", "", "")
        await self._emit("welcome", {
            "message": "Conectado exitosamente al servidor WebSocket",
            "clientId": sid,
            "timestamp": epoch_ms(),
        }, sid)  # fmt: skip
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            token = environ.get("HTTP_AUTHORIZATION")
        if isinstance(token, str) and token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        if not isinstance(token, str) or not token:
            return
        try:
            user = server.auth.user_for(server.auth.verify(token))
        except AuthError:
            return  # only logged by the backend: the socket stays, silent
        self.users[sid] = user
        server.clients[sid] = Identity("commercial" if user.is_commercial else "visitor", user.id,
                                       user.name)  # fmt: skip
        if user.is_commercial and user.company_id:
            room = f"tenant:{user.company_id}"
            await server.sio.enter_room(sid, room)
            await self._emit("tenant:joined", {
                "companyId": user.company_id,
                "roomName": room,
                "timestamp": epoch_ms(),
                "automatic": True,
            }, sid)  # fmt: skip
        kind = "commercial" if user.is_commercial else "visitor"
        room = f"{kind}:{user.id}"
        await server.sio.enter_room(sid, room)
        await self._emit("presence:joined", {
            "userId": user.id,
            "userType": kind,
            "roomName": room,
            "timestamp": epoch_ms(),
            "automatic": True,
        }, sid)  # fmt: skip
        if user.is_commercial:
            server.mark_commercial(user.id, "online")
            await server._flush()
        if server.autostart:
            server.begin()

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        self.server.clients.pop(sid, None)
        user = self.users.pop(sid, None)
        if user is not None and user.is_commercial:  # any socket closing marks it offline
            self.server.mark_commercial(user.id, "offline")
            await self.server._flush()

    async def _emit(self, event: str, payload: Any, sid: str) -> None:
        try:
            await self.server.sio.emit(event, payload, to=sid)
        except Exception:  # a connection dying mid-send
            return

    async def _error(self, sid: str, message: str) -> None:
        await self._emit("error", {"message": message, "timestamp": epoch_ms()}, sid)

    # ------------------------------------------------------------------ handlers
    def _room_handler(self, name: str) -> Handler:
        spec = ROOMS[name]
        joining = name.endswith(":join")

        async def handle(sid: str, data: Any) -> dict[str, Any]:
            try:
                values = [_get(data, key) for key in spec.keys]
            except TypeError:
                return {"success": False, "message": spec.fail}
            if not all(values):
                if spec.error_event:
                    await self._error(sid, spec.required)
                return {"success": False, "message": spec.required}
            if name == "presence:join" and values[1] not in ("commercial", "visitor"):
                await self._error(sid, 'userType debe ser "commercial" o "visitor"')
                return {"success": False, "message": "userType inválido"}
            if name == "tenant:join":
                refused = self._tenant_refused(sid, values[0])
                if refused:
                    await self._error(sid, refused)
                    return {"success": False, "message": refused}
            room = spec.room(values)
            if joining:
                await self.server.sio.enter_room(sid, room)
            else:
                await self.server.sio.leave_room(sid, room)
            echo = dict(zip(spec.echo, values, strict=True))
            await self._emit(spec.joined, {**self._confirm(name, values), "roomName": room,
                                           "timestamp": epoch_ms()}, sid)  # fmt: skip
            ack: dict[str, Any] = {"success": True, "message": spec.ok, **echo}
            if spec.with_room:
                ack["roomName"] = room
            return ack

        return handle

    @staticmethod
    def _confirm(name: str, values: list[Any]) -> dict[str, Any]:
        """The confirmation's own keys (``tenant:joined`` says ``companyId``)."""
        spec = ROOMS[name]
        if name == "tenant:join":
            return {"companyId": values[0]}
        return dict(zip(spec.keys, values, strict=True))

    def _tenant_refused(self, sid: str, tenant_id: Any) -> str | None:
        """Only a ``commercial`` role is held to its own tenant (an admin-only token is not)."""
        user = self.users.get(sid)
        own = user.company_id if user is not None and "commercial" in user.roles else None
        if own and own != tenant_id:
            return "No autorizado para unirse a este tenant"
        return None

    def _typing(self, event: str, verb: str, short: str) -> Handler:
        async def handle(sid: str, data: Any) -> dict[str, Any]:
            try:
                chat_id, user_id, user_type = (
                    _get(data, k) for k in ("chatId", "userId", "userType")
                )
            except TypeError:
                return {"success": False, "message": f"Error al procesar typing {short}"}
            if not (chat_id and user_id and user_type):
                await self._error(sid, _TYPING_REQUIRED)
                return {"success": False, "message": "Parámetros inválidos"}
            payload = {"chatId": chat_id, "userId": user_id, "userType": user_type,
                       "timestamp": self.server.engine.iso()}  # fmt: skip
            room = f"chat:{js_string(chat_id)}"
            await self.server.sio.emit(event, payload, room=room, skip_sid=sid)
            return {"success": True, "message": f"Typing indicator {verb}"}

        return handle

    async def _health(self, sid: str, data: Any) -> dict[str, Any]:
        return {
            "status": "OK",
            "timestamp": epoch_ms(),
            "uptime": time.monotonic() - _STARTED,
            "message": "WebSocket funcionando correctamente",
        }

    async def _test(self, sid: str, data: Any) -> Any:
        if data is None:  # ``data.message`` throws outside the handler's try: no ack
            await self._emit("exception", {"status": "error", "message": "Internal server error"},
                             sid)  # fmt: skip
            return self.server.sio.not_handled
        message = data.get("message") if isinstance(data, dict) else None
        response: dict[str, Any] = {
            "message": f"Echo: {'undefined' if message is None else js_string(message)}",
            "timestamp": epoch_ms(),
        }
        if isinstance(data, dict) and data.get("timestamp") is not None:
            response["receivedAt"] = data["timestamp"]
        await self._emit("test-response", response, sid)
        return {"success": True, "message": "Mensaje de prueba procesado", "data": data}

    async def _activity(self, sid: str, data: Any) -> dict[str, Any]:
        if sid not in self.users:
            return {"success": False, "message": "Usuario no autenticado"}
        return {"success": True, "message": "Actividad registrada"}
