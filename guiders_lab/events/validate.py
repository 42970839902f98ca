"""Validate outgoing payloads before they touch the socket."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import orjson

from ..errors import PayloadError

__all__ = ["validate_outgoing"]

_AT = re.compile(r"\s+- at `\$\.?(?P<path>[^`]*)`$")
_NAMED = re.compile(r"(?:missing required|unknown) field `(?P<field>[^`]+)`")


def _field_of(message: str) -> tuple[str | None, str]:
    """Split msgspec's message into (json path, problem) so users see which field is wrong."""
    path = None
    at = _AT.search(message)
    if at:
        path = at.group("path") or None
        message = message[: at.start()]
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named.group('field')}" if path else named.group("field")
        missing = "missing" in message
        return path, "is required" if missing else "is not a field of this event"
    problem = message[0].lower() + message[1:] if message else "invalid value"
    return path, problem


def validate_outgoing(
    event: str, payload: Any, schemas: dict[str, type[msgspec.Struct]]
) -> dict[str, Any]:
    """Check ``payload`` against the client-event schema and return it unchanged.

    Raises :class:`PayloadError` (a ``ValueError``) naming the field; nothing is sent.
    """
    schema = schemas.get(event)
    if schema is None:
        raise PayloadError(event, None, f"unknown client event; known: {sorted(schemas)}")
    if not isinstance(payload, dict):
        raise PayloadError(event, None, f"payload must be an object, got {type(payload).__name__}")
    try:
        msgspec.convert(payload, schema)
    except msgspec.ValidationError as exc:
        field, problem = _field_of(str(exc))
        raise PayloadError(event, field, problem) from None
    try:  # what crosses the wire is JSON: no sets, objects, NaN or 100-digit integers
        json.dumps(payload, allow_nan=False, default=_refuse)
        orjson.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise PayloadError(event, None, f"is not sendable as JSON ({exc})") from None
    return payload


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")
