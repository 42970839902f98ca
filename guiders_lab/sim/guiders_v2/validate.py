"""NestJS's global ``ValidationPipe`` (whitelist, forbidNonWhitelisted, transform with
implicit conversion), for the few DTOs the simulator serves.

class-validator reports unknown properties first, then each property's failures in the
order the decorators were registered (bottom-up, so the last one written comes first).
Implicit conversion turns a ``String`` property's number into text and a ``Boolean``
property's anything into its truthiness, so ``isInternal: "false"`` is ``true``: as there.
"""

from __future__ import annotations

from typing import Any

from .gateway import js_string
from .ids import is_uuid4

__all__ = ["ValidationFailed", "validate_chats_query", "validate_integration", "validate_send"]

MESSAGE_TYPES = ("text", "image", "file", "system")
CONTENT_TYPES = ("text", "html", "markdown")
SENDER_TYPES = ("bot", "system", "agent")
_MAX_INTEGRATION_CONTENT = 10_000


class ValidationFailed(Exception):
    """A 400 with class-validator's list of messages."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _extras(data: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    return [f"property {k} should not exist" for k in data if k not in allowed]


def _truthy(value: Any) -> bool:
    return not (value is None or value is False or value == 0 or value == "")


def _one_of(name: str, values: tuple[str, ...]) -> str:
    return f"{name} must be one of the following values: {', '.join(values)}"


def validate_send(body: Any) -> dict[str, Any]:
    """``SendMessageDto`` of ``POST /v2/messages``; returns the converted body."""
    data = body if isinstance(body, dict) else {}
    allowed = ("chatId", "content", "type", "isInternal", "attachment")
    errors = _extras(data, allowed)
    out = {k: data[k] for k in allowed if data.get(k) is not None}
    for key in ("chatId", "content", "type"):  # String properties
        if key in out:
            out[key] = js_string(out[key])
    if "isInternal" in out:
        out["isInternal"] = _truthy(out["isInternal"])
    if not is_uuid4(out.get("chatId")):
        errors.append("chatId must be a UUID")
    if "content" not in out:
        errors.append("content must be a string")
    if "type" in out and out["type"] not in MESSAGE_TYPES:
        errors.append(_one_of("type", MESSAGE_TYPES))
    if "attachment" in out and not isinstance(out["attachment"], dict):
        errors.append("attachment must be an object")
    if errors:
        raise ValidationFailed(errors)
    return out


def validate_chats_query(query: dict[str, str]) -> dict[str, Any]:
    """``GetChatsQueryDto``: ``limit`` 1-100 (default 20); ``filters`` and ``sort`` are
    accepted and, from a query string, ignored (the deployed parser never reads them)."""
    errors = _extras(dict(query), ("cursor", "limit", "filters", "sort"))
    limit: float = 20
    if "limit" in query:
        raw = query["limit"].strip()
        try:
            limit = float(raw) if raw else 0.0
        except ValueError:
            limit = float("nan")
        if not limit <= 100:
            errors.append("limit must not be greater than 100")
        if not limit >= 1:
            errors.append("limit must not be less than 1")
        if limit != limit:  # NaN
            errors.append("limit must be a number conforming to the specified constraints")
    if errors:
        raise ValidationFailed(errors)
    return {"cursor": query.get("cursor") or None, "limit": int(limit)}


def validate_messages_query(query: dict[str, str]) -> dict[str, Any]:
    """``GetMessagesDto``: ``limit`` unchecked (``|| 50``), the cursor an offset."""
    errors = _extras(dict(query), ("filters", "sort", "cursor", "limit"))
    if errors:
        raise ValidationFailed(errors)
    try:
        limit = int(float(query.get("limit", "") or 0))
    except ValueError:
        limit = 0
    return {"cursor": query.get("cursor") or None, "limit": limit if limit > 0 else 50}


def validate_integration(body: Any) -> dict[str, Any]:
    """``SendIntegrationMessageDto``."""
    data = body if isinstance(body, dict) else {}
    allowed = ("content", "contentType", "senderType", "externalMessageId")
    errors = _extras(data, allowed)
    out = {k: data[k] for k in allowed if data.get(k) is not None}
    for key in ("content", "externalMessageId"):
        if key in out:
            out[key] = js_string(out[key])
    content = out.get("content")
    if content is None or len(content) > _MAX_INTEGRATION_CONTENT:
        errors.append(
            f"content must be shorter than or equal to {_MAX_INTEGRATION_CONTENT} characters"
        )
    if content is None:
        errors.append("content must be a string")
    if "contentType" in out and out["contentType"] not in CONTENT_TYPES:
        errors.append(_one_of("contentType", CONTENT_TYPES))
    if "senderType" in out and out["senderType"] not in SENDER_TYPES:
        errors.append(_one_of("senderType", SENDER_TYPES))
    if errors:
        raise ValidationFailed(errors)
    return out
