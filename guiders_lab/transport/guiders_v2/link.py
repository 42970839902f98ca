"""Small pieces of the guiders-v2 transport: names, option parsing, acks, the tap sink."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson

from ...errors import PayloadError
from ..base import Sink

__all__ = [
    "DEFAULT_BACKFILL",
    "DIALECT",
    "UNSUPPORTED",
    "Tap",
    "chat_id_of",
    "normalise_ack",
    "window_seconds",
]

DIALECT = "guiders-v2"
# the page's actions the deployed backend has no endpoint or socket event for
UNSUPPORTED = frozenset(
    {"chat:update", "notification:send", "assistance:suggestions", "trigger:high_conversion_flow"}
)
DEFAULT_BACKFILL = timedelta(hours=24)


def window_seconds(backfill: timedelta | float | bool | None) -> float | None:
    """``backfill=``: a timedelta or seconds of history (plus every open chat), ``None`` /
    ``True`` the default 24 h, ``False`` none."""
    if backfill is None or backfill is True:
        return DEFAULT_BACKFILL.total_seconds()
    if backfill is False:
        return None
    seconds = backfill.total_seconds() if isinstance(backfill, timedelta) else float(backfill)
    if seconds < 0:
        raise ValueError("backfill must be >= 0 (or False for none)")
    return seconds


def normalise_ack(ack: Any) -> dict[str, Any]:
    """The gateway's ``{success, message, ...}`` as the kit's ``{ok, ...}``: a refusal is
    ``{ok: false, error: {code: "REFUSED", message}}``; an ack without ``success`` (the
    health check's) is a success."""
    if not isinstance(ack, dict):
        return {"ok": True, "ack": ack}
    if ack.get("success") is False:
        message = str(ack.get("message") or "refused")
        return {"ok": False, "error": {"code": "REFUSED", "message": message}}
    return {"ok": True, **ack}


def chat_id_of(event: str, payload: dict[str, Any], key: str = "chatId") -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(event, key, "is required (an id string)")
    return value


class Tap:
    """The sink the socket delivers into: passes everything on to the session's sink and
    calls ``taps[name](payload)`` for the few events the transport acts upon (after the
    sink has the event), and ``on_reconnected()`` before a new connection's events."""

    def __init__(
        self,
        sink: Sink,
        taps: dict[str, Callable[[dict[str, Any]], None]],
        on_reconnected: Callable[[], None],
    ) -> None:
        self._sink, self._taps, self._on_reconnected = sink, taps, on_reconnected

    def ingest(self, name: str, args: tuple[Any, ...], received_ts: float | None = None) -> None:
        self._sink.ingest(name, args, received_ts)
        tap = self._taps.get(name)
        if tap is not None and args and type(args[0]) is dict:
            tap(args[0])

    def ingest_json(
        self,
        name: str,
        raw: bytes,
        meta: dict[str, Any] | None,
        received_ts: float,
        *,
        utf8: bool = False,
    ) -> None:
        self._sink.ingest_json(name, raw, meta, received_ts, utf8=utf8)
        tap = self._taps.get(name)
        if tap is not None and raw[:1] == b"{":  # only these few events are parsed here
            payload = orjson.loads(raw)
            if type(payload) is dict:
                tap(payload)

    def reconnected(self, at: float) -> None:
        self._on_reconnected()
        self._sink.reconnected(at)

    def restored(self) -> None:
        self._sink.restored()

    def ended(self) -> None:
        self._sink.ended()

    def skipped_by_server(self, server_seq: int, name: str, size: int) -> None:
        self._sink.skipped_by_server(server_seq, name, size)

    def resume_from(self) -> int | None:
        return None  # the backend numbers nothing: gaps are refilled over REST
