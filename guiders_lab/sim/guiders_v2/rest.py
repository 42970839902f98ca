"""The REST API under ``/api``: the backend's controllers, their guards, codes and bodies.

Guards run before validation and validation before the handler, as in NestJS, so a
request without a token gets the guard's 401 whatever its body. Each route's refusals are
the controller's own: ``HttpException(message, status)`` gives ``{statusCode, message}``,
the guards' ``UnauthorizedException(message)`` gives ``{message, error, statusCode}``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model import SimError
from .auth import AuthError, User
from .ids import is_uuid4, uuid_for
from .store import decode_cursor
from .translate import build_message
from .validate import (
    ValidationFailed,
    validate_chats_query,
    validate_integration,
    validate_messages_query,
    validate_send,
)

if TYPE_CHECKING:
    from .server import GuidersV2Server

__all__ = ["HttpError", "Rest"]

_INTERNAL = "Error interno del servidor"
_NO_TOKEN = "No se encontró el token"
_DUAL = "Se requiere autenticación válida (JWT Bearer token o cookie de sesión)"
_REQUIRED = "Autenticación requerida"
_FORBIDDEN = "Acceso denegado. Permisos insuficientes."


class HttpError(Exception):
    """An error answer: its status, JSON body and headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def http(status: int, message: str) -> HttpError:
    """``new HttpException(message, status)``."""
    return HttpError(status, {"statusCode": status, "message": message})


def unauthorized(message: str) -> HttpError:
    return HttpError(401, {"message": message, "error": "Unauthorized", "statusCode": 401})


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    prefix, _, token = header.partition(" ")
    return token if prefix == "Bearer" and token else None


class Rest:
    """The routes, bound to one simulated backend."""

    def __init__(self, server: GuidersV2Server) -> None:
        self.server = server
        self.rest_messages = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/user/auth/login", self.login),
            web.post("/api/user/auth/refresh", self.refresh),
            web.get("/api/v2/chats", self.chats),
            web.get("/api/v2/chats/{chatId}", self.chat),
            web.put("/api/v2/chats/{chatId}/assign/{commercialId}", self.assign),
            web.put("/api/v2/chats/{chatId}/close", self.close),
            web.get("/api/v2/messages/chat/{chatId}", self.messages),
            web.post("/api/v2/messages", self.send),
            web.post("/api/presence/chat/{chatId}/typing/{what:start|stop}", self.typing),
            web.post("/api/integration/conversations/{id}/messages", self.integration),
            web.route("*", "/api/{tail:.*}", self.not_found),
        ]

    # ------------------------------------------------------------------ guards
    def _verified(self, request: web.Request) -> User | None:
        token = _bearer(request)
        if token is None:
            return None
        try:
            return self.server.auth.user_for(self.server.auth.verify(token))
        except AuthError:
            return None

    def auth_guard(self, request: web.Request, roles: tuple[str, ...]) -> User:
        """``AuthGuard`` + ``RolesGuard``: says why a token was refused."""
        token = _bearer(request)
        if token is None:
            raise unauthorized(_NO_TOKEN)
        try:
            payload = self.server.auth.verify(token)
        except AuthError as exc:
            raise unauthorized(str(exc)) from None
        if payload.get("typ") not in ("access", "Bearer"):
            raise unauthorized("Token inválido")
        return self._roles(self.server.auth.user_for(payload), roles)

    def dual_guard(self, request: web.Request, roles: tuple[str, ...]) -> User:
        user = self._verified(request)
        if user is None:
            raise unauthorized(_DUAL)
        return self._roles(user, roles)

    def optional_guard(self, request: web.Request, roles: tuple[str, ...]) -> User:
        user = self._verified(request)
        if user is None:
            raise unauthorized(_REQUIRED)
        return self._roles(user, roles)

    @staticmethod
    def _roles(user: User, roles: tuple[str, ...]) -> User:
        if not any(r in roles for r in user.roles):
            raise HttpError(403, {"message": _FORBIDDEN, "error": "Forbidden", "statusCode": 403})
        return user

    @staticmethod
    async def _body(request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            message = "Unexpected token in JSON at position 0"
            body = {"message": message, "error": "Bad Request", "statusCode": 400}
            raise HttpError(400, body) from None

    # ------------------------------------------------------------------ auth
    async def login(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        data = body if isinstance(body, dict) else {}
        try:
            access, refresh = self.server.auth.login(data.get("email"), data.get("password"))
        except AuthError as exc:
            raise http(401, str(exc)) from None
        return web.json_response({"access_token": access, "refresh_token": refresh})

    async def refresh(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        token = body.get("refreshToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:  # e.g. ``refresh_token``: a 500 there
            raise http(500, "Internal server error")
        try:
            access = self.server.auth.refresh(token)
        except AuthError as exc:
            raise http(401, str(exc)) from None
        return web.json_response({"accessToken": access}, status=201)

    # ------------------------------------------------------------------ chats
    async def chats(self, request: web.Request) -> web.Response:
        user = self.auth_guard(request, ("commercial", "admin", "supervisor"))
        query = validate_chats_query(dict(request.query))
        cursor = None
        if query["cursor"] is not None:
            cursor = decode_cursor(query["cursor"])
            if cursor is None:  # ``base64ToCursor`` throws: an unhandled rejection
                raise http(500, "Internal server error")
        store = self.server.store
        chats = store.visible(user.id, user.sees_all)
        return web.json_response(store.page_chats(chats, cursor, query["limit"]))

    async def chat(self, request: web.Request) -> web.Response:
        self.dual_guard(request, ("commercial", "admin", "supervisor", "visitor"))
        chat_id = request.match_info["chatId"]
        if not is_uuid4(chat_id):
            raise http(500, _INTERNAL)
        chat = self.server.store.chats.get(chat_id)
        if chat is None:
            raise http(404, "Chat no encontrado")
        return web.json_response(chat.detail())

    async def assign(self, request: web.Request) -> web.Response:
        self.dual_guard(request, ("commercial", "admin", "supervisor"))
        chat_id = request.match_info["chatId"]
        commercial_id = request.match_info["commercialId"]
        prefix = "Error en asignación manual: "
        if not is_uuid4(chat_id) or not is_uuid4(commercial_id):
            bad = chat_id if not is_uuid4(chat_id) else commercial_id
            raise http(400, f"{prefix}Error inesperado en asignación manual: Invalid UUID: {bad}")
        await self.server.catch_up()
        chat = self.server.store.chats.get(chat_id)
        if chat is None:
            raise http(400, f"{prefix}Chat no encontrado: Chat con ID {chat_id} no encontrado")
        if chat.status != "PENDING":
            raise http(
                400, f"{prefix}El chat {chat_id} no puede ser asignado en estado {chat.status}"
            )
        self.server.assign(chat, commercial_id)
        await self.server.after_action("chat:assign")
        return web.json_response(chat.detail())

    async def close(self, request: web.Request) -> web.Response:
        self.auth_guard(request, ("commercial", "admin", "supervisor"))
        if not self.server.close_implemented:
            raise http(501, "Funcionalidad no implementada")
        await self.server.catch_up()
        chat = self.server.store.chats.get(request.match_info["chatId"])
        if chat is None:
            raise http(404, "Chat no encontrado")
        self.server.close(chat)
        await self.server.after_action("chat:close")
        return web.json_response(chat.detail())

    # ------------------------------------------------------------------ messages
    async def messages(self, request: web.Request) -> web.Response:
        self.optional_guard(request, ("commercial", "admin", "supervisor", "visitor"))
        query = validate_messages_query(dict(request.query))
        chat = self.server.store.chats.get(request.match_info["chatId"])
        if chat is None:
            raise http(500, _INTERNAL)
        return web.json_response(
            self.server.store.page_messages(chat, query["cursor"], query["limit"])
        )

    async def send(self, request: web.Request) -> web.Response:
        user = self.optional_guard(request, ("commercial", "admin", "supervisor", "visitor"))
        body = validate_send(await self._body(request))
        await self.server.catch_up()
        chat = self.server.store.chats.get(body["chatId"])
        if chat is None or not body["content"].strip():
            raise http(500, _INTERNAL)  # SendMessage throws a plain Error for both
        kind, content = "TEXT", body["content"]
        attachment = body.get("attachment")
        if attachment is not None and body.get("type", "text") != "text":
            mime = attachment.get("mimeType")
            if not isinstance(mime, str):
                raise http(500, _INTERNAL)
            kind = "IMAGE" if mime.startswith("image/") else "FILE"
            name = attachment.get("fileName")
            content = f"Archivo adjunto: {'undefined' if name is None else name}"
        else:
            attachment = None
        sender = {"id": user.id, "name": user.name, "role": "commercial"}
        overrides = {
            "type": kind,
            "attachment": attachment,
            "is_internal": bool(body.get("isInternal")),
        }
        message = self.post_message(chat, content, sender, overrides)
        await self.server.after_action("message:send")
        return web.json_response(message, status=201)

    def post_message(
        self, chat: Any, content: str, sender: dict[str, Any], overrides: dict[str, Any]
    ) -> dict[str, Any]:
        """Into the engine when it can react (an open engine chat, not internal), else
        straight into the store; either way stored and emitted once."""
        server = self.server
        engine_chat = server.engine.chats.get(chat.engine_id) if chat.engine_id else None
        if engine_chat is not None and engine_chat.open and not overrides["is_internal"]:
            server.translator.override = {k: v for k, v in overrides.items() if k != "is_internal"}
            try:
                server.engine.act_message(
                    {"chatId": engine_chat.id, "content": content, "type": "ai-response"}, sender
                )
                return dict(chat.messages[-1])
            except SimError:
                server.translator.override = None
        self.rest_messages += 1
        message_id = uuid_for(server.seed, f"rest-message:{self.rest_messages}")
        message = build_message(
            message_id, chat.id, sender["id"], content, server.engine.iso(),
            type=overrides["type"], is_internal=overrides["is_internal"],
            attachment=overrides.get("attachment"),
        )  # fmt: skip
        server.translator.publish_message(chat, message)
        return dict(message)

    async def typing(self, request: web.Request) -> web.Response:
        user = self.dual_guard(request, ("admin", "commercial", "visitor"))
        user_type = "commercial" if {"commercial", "admin"} & set(user.roles) else "visitor"
        chat_id = request.match_info["chatId"]
        event = f"typing:{request.match_info['what']}"
        payload = {"chatId": chat_id, "userId": user.id, "userType": user_type,
                   "timestamp": self.server.engine.iso()}  # fmt: skip
        self.server.enqueue_raw(event, payload, f"chat:{chat_id}")  # sender included
        await self.server.after_action(event)
        return web.Response(status=204)

    async def integration(self, request: web.Request) -> web.Response:
        key = request.headers.get("x-api-key")
        if not key:
            raise unauthorized("API Key de integración requerida en el header x-api-key")
        if not key.startswith(("gdr_live_", "gdr_test_")):
            raise unauthorized("Formato de API Key inválido")
        if key != self.server.auth.api_key:
            raise unauthorized("API Key de integración no encontrada")
        body = validate_integration(await self._body(request))
        conversation_id = request.match_info["id"]
        if not is_uuid4(conversation_id):
            raise http(500, "Internal server error")
        await self.server.catch_up()
        chat = self.server.store.chats.get(conversation_id)
        if chat is None:
            raise HttpError(404, {"error": "CONVERSATION_NOT_FOUND"})
        if chat.status == "CLOSED":
            raise HttpError(422, {"error": "CONVERSATION_CLOSED"})
        sender_type = body.get("senderType", "bot")
        sender = {"id": f"integration:{sender_type}", "name": sender_type, "role": "integration"}
        overrides = {"type": "TEXT", "attachment": None, "is_internal": False}
        message = self.post_message(chat, body["content"], sender, overrides)
        await self.server.after_action("message:send")
        return web.json_response(
            {
                "messageId": message["id"],
                "conversationId": conversation_id,
                "content": body["content"],
                "contentType": body.get("contentType", "text"),
                "senderType": sender_type,
                "sentAt": message["createdAt"],
            },
            status=201,
        )

    async def not_found(self, request: web.Request) -> web.Response:
        message = f"Cannot {request.method} {request.path}"
        raise HttpError(404, {"message": message, "error": "Not Found", "statusCode": 404})


def validation_error(exc: ValidationFailed) -> HttpError:
    return HttpError(400, {"message": exc.messages, "error": "Bad Request", "statusCode": 400})
