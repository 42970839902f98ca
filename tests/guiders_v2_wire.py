"""Exact wire examples of the deployed Guiders backend (dialect ``guiders-v2``), as plain data.

Each example is taken from the backend's source (``RogerPugaRuiz/guiders-backend`` at
commit 99043a9, paths relative to its root; the comment cites file:line) and, where it
says "observed", from PROTOCOL.md's notes on the running server. Ids and times are
examples: a conformance check compares key sets, value types and the FIXED texts (see
:data:`FIXED`), so any drift between the simulator or the decoder and the backend shows
as a failing test. The lead's decoder tests import this module too.

Shapes:
- ``SERVER_EVENTS[event]``: one example payload of a server -> client event (with its
  room in ``ROOMS``); ``OPTIONAL_KEYS[event]``: keys that may be absent.
- ``ACKS[event]``: ``{"ok": ack, "fail": [ack, ...]}`` for client -> server events.
- ``ERROR_EVENTS``: payloads of the ``error`` event the gateway emits with a refusal.
- ``REST[(method, path)]``: ``{"status": code, "body": example}`` plus the listed errors
  in ``REST_ERRORS[(method, path)]``: ``[{"status", "body", "when"}]``.
"""

from __future__ import annotations

from typing import Any

CHAT = "3f1c9a52-7a7e-4c43-9a65-2f0b8c6f1e11"
VISITOR = "8d2f3b1a-5c4e-4f6a-8b7c-9d0e1f2a3b4c"
COMMERCIAL = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
COMPANY = "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e"
MESSAGE = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
ISO = "2025-01-15T09:14:45.231Z"
MS = 1736932485231

ROOMS: dict[str, list[str]] = {
    "welcome": ["<socket>"],
    "tenant:joined": ["<socket>"],
    "presence:joined": ["<socket>"],
    "chat:joined": ["<socket>"],
    "chat:left": ["<socket>"],
    "chat:created": ["visitor:{visitorId}", "tenant:{companyId}"],
    "message:new": ["chat:{chatId}"],  # internal messages: chat:{chatId}:commercial
    "chat:commercial-assigned": ["chat:{chatId}"],
    "presence:changed": ["{userType}:{userId}", "chat:{chatId}", "commercial|visitor:{id}"],
    "commercial:availability-changed": ["tenant:{companyId}"],
    "chat:unread_count": ["tenant:{companyId}"],
    "visitor:page-changed": ["commercial:{assignedCommercialId}"],
    "visitor:high-intent": ["tenant:{tenantId}"],
    "typing:start": ["chat:{chatId}"],
    "typing:stop": ["chat:{chatId}"],
}

SERVER_EVENTS: dict[str, dict[str, Any]] = {
    # src/websocket/websocket.gateway.ts:157-161
    "welcome": {
        "message": "Conectado exitosamente al servidor WebSocket",
        "clientId": "sQp2YB0wqZ1bI4JxAAAB",
        "timestamp": MS,
    },
    # src/websocket/websocket.gateway.ts:340-345 (automatic, on a valid commercial JWT)
    "tenant:joined": {
        "companyId": COMPANY,
        "roomName": f"tenant:{COMPANY}",
        "timestamp": MS,
        "automatic": True,
    },
    # src/websocket/websocket.gateway.ts:364-370
    "presence:joined": {
        "userId": COMMERCIAL,
        "userType": "commercial",
        "roomName": f"commercial:{COMMERCIAL}",
        "timestamp": MS,
        "automatic": True,
    },
    # src/websocket/websocket.gateway.ts:420-424
    "chat:joined": {"chatId": CHAT, "roomName": f"chat:{CHAT}", "timestamp": MS},
    # src/websocket/websocket.gateway.ts:475-479
    "chat:left": {"chatId": CHAT, "roomName": f"chat:{CHAT}", "timestamp": MS},
    # src/context/conversations-v2/application/events/
    #   notify-chat-created-on-chat-created.event-handler.ts:58-67
    "chat:created": {
        "chatId": CHAT,
        "visitorId": VISITOR,
        "status": "PENDING",
        "priority": "NORMAL",
        "visitorInfo": {"name": "Ana Pérez"},
        "metadata": {"department": "ventas", "source": "web"},
        "createdAt": ISO,
        "message": "Un comercial ha iniciado una conversación contigo",
    },
    # .../notify-message-sent-on-message-sent.event-handler.ts:79-91 (undefined keys drop)
    "message:new": {
        "messageId": MESSAGE,
        "chatId": CHAT,
        "senderId": VISITOR,
        "content": "Hola, ¿tienen el modelo en rojo?",
        "type": "TEXT",
        "isInternal": False,
        "isFirstResponse": False,
        "sentAt": ISO,
        "isAI": False,
    },
    # .../notify-commercial-assigned-on-commercial-assigned.event-handler.ts:101-109
    "chat:commercial-assigned": {
        "chatId": CHAT,
        "commercialId": COMMERCIAL,
        "visitorId": VISITOR,
        "status": "ASSIGNED",
        "assignedAt": ISO,
        "assignmentReason": "auto",
        "commercial": {"id": COMMERCIAL, "name": "Laura Gómez", "avatarUrl": None},
    },
    # src/context/shared/infrastructure/events/
    #   notify-presence-changed-on-presence-changed.event-handler.ts:65-72 (+ chatId at
    #   :262 in a chat room, or affectedChatIds at :295 in a user room)
    "presence:changed": {
        "userId": COMMERCIAL,
        "userType": "commercial",
        "status": "online",
        "previousStatus": "offline",
        "timestamp": ISO,
        "tenantId": COMPANY,
    },
    # src/context/commercial/infrastructure/events/
    #   notify-tenant-on-commercial-presence-changed.event-handler.ts:71-76
    "commercial:availability-changed": {
        "available": True,
        "onlineCount": 1,
        "tenantId": COMPANY,
        "timestamp": ISO,
    },
    # .../notify-unread-count-updated-on-unread-count-updated.event-handler.ts:63-67
    "chat:unread_count": {"chatId": CHAT, "visitorId": VISITOR, "unreadMessagesCount": 1},
    # src/context/visitors-v2/application/events/
    #   notify-page-changed-on-visitor-current-page-changed.event-handler.ts:89-95
    "visitor:page-changed": {
        "visitorId": VISITOR,
        "chatId": CHAT,
        "previousPage": "/productos",
        "currentPage": "/precios",
        "timestamp": ISO,
    },
    # .../notify-high-intent-on-visitor-became-high-intent.event-handler.ts:33-39
    # (never published by the backend today; the simulator only with high_intent=True)
    "visitor:high-intent": {
        "visitorId": VISITOR,
        "fingerprint": "fp_4c2a",
        "siteId": COMPANY,
        "leadScore": {
            "score": 80,
            "tier": "hot",
            "signals": {
                "isRecurrentVisitor": False,
                "hasHighEngagement": True,
                "hasInvestedTime": True,
                "needsHelp": False,
            },
        },
        "timestamp": ISO,
    },
    # src/websocket/websocket.gateway.ts:969-974 (socket relay, others only) and
    # .../notify-typing-started-on-typing-started.event-handler.ts:39-44 (REST, sender too)
    "typing:start": {
        "chatId": CHAT,
        "userId": COMMERCIAL,
        "userType": "commercial",
        "timestamp": ISO,
    },
    # src/websocket/websocket.gateway.ts:1014-1019
    "typing:stop": {
        "chatId": CHAT,
        "userId": COMMERCIAL,
        "userType": "commercial",
        "timestamp": ISO,
    },
}

OPTIONAL_KEYS: dict[str, set[str]] = {
    "message:new": {"attachment", "aiMetadata"},
    "presence:changed": {"chatId", "affectedChatIds"},
    "chat:created": set(),
}

# Values compared exactly wherever the event or body appears.
FIXED: dict[str, dict[str, Any]] = {
    "welcome": {"message": "Conectado exitosamente al servidor WebSocket"},
    "tenant:joined": {"automatic": True},
    "presence:joined": {"automatic": True, "userType": "commercial"},
    "chat:created": {"message": "Un comercial ha iniciado una conversación contigo"},
    "chat:commercial-assigned": {"assignmentReason": "auto", "status": "ASSIGNED"},
    "message:new": {"isFirstResponse": False, "isInternal": False},
}

# src/websocket/websocket.gateway.ts (line of the ``return``)
ACKS: dict[str, dict[str, Any]] = {
    "chat:join": {  # :426-431, :401, :437-440
        "ok": {"success": True, "message": "Unido a la sala de chat exitosamente",
               "chatId": CHAT, "roomName": f"chat:{CHAT}"},
        "fail": [{"success": False, "message": "chatId es requerido"},
                 {"success": False, "message": "Error al unirse a la sala de chat"}],
    },
    "chat:leave": {  # :481-485, :456
        "ok": {"success": True, "message": "Salió de la sala de chat exitosamente", "chatId": CHAT},
        "fail": [{"success": False, "message": "chatId es requerido"}],
    },
    "visitor:join": {  # :537-542, :512
        "ok": {"success": True, "message": "Unido a la sala de visitante exitosamente",
               "visitorId": VISITOR, "roomName": f"visitor:{VISITOR}"},
        "fail": [{"success": False, "message": "visitorId es requerido"}],
    },
    "tenant:join": {  # :671-676, :626, :642-645
        "ok": {"success": True, "message": "Unido a la sala de tenant exitosamente",
               "companyId": COMPANY, "roomName": f"tenant:{COMPANY}"},
        "fail": [{"success": False, "message": "tenantId es requerido"},
                 {"success": False, "message": "No autorizado para unirse a este tenant"}],
    },
    "presence:join": {  # :802-808, :761-764, :773-776
        "ok": {"success": True, "message": "Unido a sala de presencia exitosamente",
               "userId": COMMERCIAL, "userType": "commercial",
               "roomName": f"commercial:{COMMERCIAL}"},
        "fail": [{"success": False, "message": "userId y userType son requeridos"},
                 {"success": False, "message": "userType inválido"}],
    },
    "typing:start": {  # :980-983, :964
        "ok": {"success": True, "message": "Typing indicator iniciado"},
        "fail": [{"success": False, "message": "Parámetros inválidos"}],
    },
    "typing:stop": {  # :1025-1028, :1009
        "ok": {"success": True, "message": "Typing indicator detenido"},
        "fail": [{"success": False, "message": "Parámetros inválidos"}],
    },
    "health-check": {  # :940-945
        "ok": {"status": "OK", "timestamp": MS, "uptime": 12.5,
               "message": "WebSocket funcionando correctamente"},
        "fail": [],
    },
    "user:activity": {  # :1099, :1046
        "ok": {"success": True, "message": "Actividad registrada"},
        "fail": [{"success": False, "message": "Usuario no autenticado"}],
    },
}  # fmt: skip

# Events with no @SubscribeMessage: ignored, their ack never comes.
NEVER_ACKED = [
    "message:send", "chat:assign", "chat:update", "notification:send",
    "assistance:suggestions", "trigger:high_conversion_flow", "ping", "state:sync",
]  # fmt: skip

# src/websocket/websocket.gateway.ts:397-400, :960-963, :638-641
ERROR_EVENTS: dict[str, dict[str, Any]] = {
    "chat:join": {"message": "chatId es requerido", "timestamp": MS},
    "typing:start": {"message": "chatId, userId y userType son requeridos", "timestamp": MS},
    "tenant:join": {"message": "No autorizado para unirse a este tenant", "timestamp": MS},
}

_MESSAGE_DTO = {  # send-message.command-handler.ts:90-107 (undefined keys drop)
    "id": MESSAGE,
    "chatId": CHAT,
    "senderId": COMMERCIAL,
    "content": "hola",
    "type": "TEXT",
    "isInternal": False,
    "isFirstResponse": False,
    "isRead": False,
    "isAI": False,
    "createdAt": ISO,
    "updatedAt": ISO,
}

_CHAT_LIST_ITEM = {  # get-chats-with-filters.query-handler.ts:352-409
    "id": CHAT,
    "status": "ASSIGNED",
    "priority": "NORMAL",
    "visitorInfo": {"id": VISITOR, "name": "Ana Pérez", "email": "", "additionalData": {}},
    "assignedCommercialId": COMMERCIAL,
    "assignedCommercial": {"id": COMMERCIAL, "name": "Laura Gómez", "avatarUrl": None},
    "availableCommercialIds": [],
    "metadata": {"department": "ventas", "source": "web"},
    "createdAt": ISO,
    "lastMessageDate": ISO,
    "lastMessagePreview": "hola",
    "unreadMessagesCount": 0,
    "isActive": True,
    "visitorId": VISITOR,
    "department": "ventas",
    "tags": [],
    "updatedAt": ISO,
}

_CHAT_DETAIL: dict[str, Any] = {  # chat-response.dto.ts:311-372 (ChatResponseDto.fromDomain)
    "id": CHAT,
    "status": "PENDING",
    "priority": "NORMAL",
    "visitorId": VISITOR,
    "assignedCommercial": None,
    "availableCommercialIds": [],
    "createdAt": ISO,
    "totalMessages": 1,
    "unreadMessagesCount": 0,
    "isActive": True,
    "department": "ventas",
    "tags": [],
    "updatedAt": ISO,
    "visitorInfo": {"id": VISITOR, "name": "Ana Pérez", "additionalData": {}},
    "metadata": {"department": "ventas", "source": "website"},
}
CHAT_OPTIONAL_KEYS = {
    "assignedCommercialId", "assignedAt", "closedAt", "lastMessageDate",
    "lastMessagePreview", "totalMessages", "customFields", "email",
}  # fmt: skip

REST: dict[tuple[str, str], dict[str, Any]] = {
    # src/context/auth/auth-user/infrastructure/controllers/auth-user.controller.ts:95,117-120
    ("POST", "/api/user/auth/login"): {
        "status": 200,
        "body": {"access_token": "eyJ...", "refresh_token": "eyJ..."},
    },
    # auth-user.controller.ts:200-205 (no @HttpCode: 201, observed)
    ("POST", "/api/user/auth/refresh"): {"status": 201, "body": {"accessToken": "eyJ..."}},
    # get-chats-with-filters.query-handler.ts:411-416; cursor = base64(JSON {createdAt, id}) :261
    ("GET", "/api/v2/chats"): {
        "status": 200,
        "body": {"chats": [_CHAT_LIST_ITEM], "total": 1, "hasMore": False, "nextCursor": None},
    },
    # chat-v2.controller.ts:734-753
    ("GET", "/api/v2/chats/{chatId}"): {"status": 200, "body": _CHAT_DETAIL},
    # chat-v2.controller.ts:1082-1123 (PUT: 200)
    ("PUT", "/api/v2/chats/{chatId}/assign/{commercialId}"): {"status": 200, "body": _CHAT_DETAIL},
    # chat-v2.controller.ts:1443-1457: not implemented
    ("PUT", "/api/v2/chats/{chatId}/close"): {
        "status": 501,
        "body": {"statusCode": 501, "message": "Funcionalidad no implementada"},
    },
    # message-v2.controller.ts:117-160 + send-message.command-handler.ts:90-107 (POST: 201)
    ("POST", "/api/v2/messages"): {"status": 201, "body": _MESSAGE_DTO},
    # get-chat-messages.query-handler.ts:110-124; cursor = base64(JSON {lastId, offset}) :179
    ("GET", "/api/v2/messages/chat/{chatId}"): {
        "status": 200,
        "body": {"messages": [_MESSAGE_DTO], "total": 1, "hasMore": False},
    },
    # presence.controller.ts:82-84, :115-117
    ("POST", "/api/presence/chat/{chatId}/typing/start"): {"status": 204, "body": None},
    ("POST", "/api/presence/chat/{chatId}/typing/stop"): {"status": 204, "body": None},
    # src/context/integration/infrastructure/controllers/integration.controller.ts:183-243
    ("POST", "/api/integration/conversations/{id}/messages"): {
        "status": 201,
        "body": {
            "messageId": MESSAGE,
            "conversationId": CHAT,
            "content": "hola",
            "contentType": "text",
            "senderType": "bot",
            "sentAt": ISO,
        },
    },
}

_NO_TOKEN = {"message": "No se encontró el token", "error": "Unauthorized", "statusCode": 401}

REST_ERRORS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("POST", "/api/user/auth/login"): [
        # user-login.usecase.ts:45 via auth-user.controller.ts:126-127 (observed)
        {"when": "wrong password", "status": 401,
         "body": {"statusCode": 401, "message": "Invalid password"}},
    ],
    ("GET", "/api/v2/chats"): [
        # src/context/shared/infrastructure/guards/auth.guard.ts:57
        {"when": "no token", "status": 401, "body": _NO_TOKEN},
        # token-verify.service.ts:93-95 -> auth.guard.ts:98-100
        {"when": "expired token", "status": 401,
         "body": {"message": "Token expirado", "error": "Unauthorized", "statusCode": 401}},
        # chat-query.dto.ts:169 (@Max(100)), main.ts:155-162 (ValidationPipe)
        {"when": "limit=101", "status": 400,
         "body": {"message": ["limit must not be greater than 100"], "error": "Bad Request",
                  "statusCode": 400}},
    ],
    ("GET", "/api/v2/chats/{chatId}"): [
        # chat-v2.controller.ts:744
        {"when": "unknown chat", "status": 404,
         "body": {"statusCode": 404, "message": "Chat no encontrado"}},
    ],
    ("PUT", "/api/v2/chats/{chatId}/assign/{commercialId}"): [
        # assign-chat-to-commercial.command-handler.ts (canBeAssigned) -> controller :1106
        {"when": "chat not PENDING", "status": 400,
         "body": {"statusCode": 400, "message": "Error en asignación manual: El chat "
                  f"{CHAT} no puede ser asignado en estado ASSIGNED"}},
    ],
    ("POST", "/api/v2/messages"): [
        # role.guard.ts:95 (OptionalAuthGuard sets no user), observed
        {"when": "no token", "status": 401,
         "body": {"message": "Autenticación requerida", "error": "Unauthorized",
                  "statusCode": 401}},
        # message-request.dto.ts:21 (@IsUUID), main.ts:157-158 (whitelist, forbidNonWhitelisted)
        {"when": "bad body", "status": 400,
         "body": {"message": ["property extra should not exist", "chatId must be a UUID"],
                  "error": "Bad Request", "statusCode": 400}},
    ],
    ("POST", "/api/integration/conversations/{id}/messages"): [
        # integration-api-key.guard.ts:46-48
        {"when": "no key", "status": 401,
         "body": {"message": "API Key de integración requerida en el header x-api-key",
                  "error": "Unauthorized", "statusCode": 401}},
        # integration.controller.ts:201
        {"when": "unknown chat", "status": 404, "body": {"error": "CONVERSATION_NOT_FOUND"}},
        # integration.controller.ts:214
        {"when": "closed chat", "status": 422, "body": {"error": "CONVERSATION_CLOSED"}},
    ],
}  # fmt: skip


def same_shape(
    actual: Any, example: Any, optional: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """Differences between ``actual`` and ``example``: missing or extra keys (except
    ``optional`` ones), and values of another JSON type, recursively. Empty when alike."""
    problems: list[str] = []
    _compare(actual, example, "$", set(optional), problems)
    return problems


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def _compare(actual: Any, example: Any, where: str, optional: set[str], out: list[str]) -> None:
    if isinstance(example, dict) and isinstance(actual, dict):
        for key in example.keys() - actual.keys() - optional:
            out.append(f"{where}: missing {key!r}")
        for key in actual.keys() - example.keys() - optional:
            out.append(f"{where}: unexpected {key!r}")
        for key in example.keys() & actual.keys():
            _compare(actual[key], example[key], f"{where}.{key}", optional, out)
        return
    if isinstance(example, list) and isinstance(actual, list):
        if example and actual:
            for i, item in enumerate(actual):
                _compare(item, example[0], f"{where}[{i}]", optional, out)
        return
    if example is None or actual is None:
        return  # nullable values (assignedCommercial, nextCursor...)
    if _kind(actual) != _kind(example):
        out.append(f"{where}: {_kind(actual)} instead of {_kind(example)}")
