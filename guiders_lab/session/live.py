"""A live session: a socket capturing into the store, plus the page's client actions."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
import socketio

from .._loop import LoopThread, bots_loop, io_loop
from ..bots.runner import DEFAULT_BACKLOG_LIMIT, BotRun
from ..dialects import Dialect, get_dialect
from ..errors import (
    AckTimeoutError,
    ActionError,
    ActionExpiredError,
    ActionQueueFullError,
    NotConnectedError,
)
from ..events.records import Action
from ..events.validate import validate_outgoing
from ..record.manifest import Manifest
from ..record.recorder import Recorder
from ..secrets import Secret
from ..store import Store
from ..transport import ConnectOptions, SocketIOTransport
from .base import Session

__all__ = ["LiveSession", "connect", "connect_sync"]

log = logging.getLogger(__name__)


@runtime_checkable
class _HasEndpoint(Protocol):
    url: str
    token: str


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


_KEYED = frozenset(
    {
        "message:send",
        "chat:assign",
        "chat:update",
        "notification:send",
        "assistance:suggestions",
        "trigger:high_conversion_flow",
    }
)


@dataclass(eq=False)
class _Outgoing:
    event: str
    payload: dict[str, Any]
    at: float
    future: asyncio.Future
    started: bool = False
    attempts: int = 0


class LiveSession(Session):
    """Captures a Guiders account's event stream in the background and acts on it.

    Create it with :func:`guiders_lab.connect`. Every action method validates its payload
    first (raising :class:`~guiders_lab.PayloadError`, nothing sent), awaits the server's
    acknowledgement and raises :class:`~guiders_lab.ActionError` on ``{ok: false}``.
    """

    kind = "live"

    def __init__(
        self,
        url: str,
        token: Secret,
        *,
        dialect: Dialect,
        options: ConnectOptions,
        store: Store,
        loop: LoopThread,
        recorder: Recorder | None = None,
        record_source: str = "live",
    ) -> None:
        self.transport = SocketIOTransport(url, token, options)
        super().__init__(store, self.transport.safe_url)
        self.recorder = recorder
        self.bots: list[BotRun] = []
        self._outbox: deque[_Outgoing] = deque()
        self._flusher: asyncio.Task | None = None
        self.transport.sync_from = lambda: store.seq_tracker.contiguous
        self.transport.on_restored = self._restored
        self.transport.on_skipped = store.skipped_by_server
        self.transport.on_reconnected = store.reconnected
        self.record_source = record_source
        self.manifest: Manifest | None = None
        self.options = options
        self._io = loop
        self._heartbeat_task: asyncio.Task | None = None
        self._messages_sent = 0
        self._actions_failed = 0
        self._closed = False
        self._closing: asyncio.Future | None = None  # on the I/O loop, shared by closers

    # ------------------------------------------------------------------ lifecycle
    async def _start(self) -> None:
        await self._io.run(self._start_on_io())

    async def _start_on_io(self) -> None:
        if self.recorder is not None:
            self.recorder.start(self.store, self.transport.safe_url, self.record_source)
        try:
            await self.transport.start(self.store)
        except BaseException:
            if self.recorder is not None:  # nothing was recorded: leave the disk as it was
                self.recorder.abandon(self.store)
            raise
        if self.recorder is not None:
            self.recorder.connected()
            self.transport.spawn(self.recorder.flush_forever())
        if self.options.heartbeat_interval is not None:
            self._heartbeat_task = self.transport.spawn(self._heartbeat())

    async def _heartbeat(self) -> None:
        """The page's ``iniciarHeartbeat``: an app-level ``ping`` every interval."""
        while True:
            if self.transport.connected:
                try:
                    await self._send("ping", {"timestamp": time.time() * 1000.0}, None)
                except Exception as exc:  # a missed ping is data, not a crash
                    log.debug("heartbeat ping failed: %s", exc)
            await asyncio.sleep(self.options.heartbeat_interval)

    async def close(self) -> None:
        """Disconnect and stop capturing; the tables stay readable. Every caller returns
        once the session is closed (and its recording written), not just the first."""
        self._closed = True
        await self._io.run(self._close_once())

    async def _close_once(self) -> None:
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_on_io())
        await asyncio.shield(self._closing)

    async def _close_on_io(self) -> None:
        for run in self.bots:
            await run.stop()
        await self.transport.close()
        self.store.flush_lag()
        if self.recorder is not None:
            self.manifest = self.recorder.finish(self.store)

    async def __aenter__(self) -> LiveSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self.transport.connected

    def _status(self) -> str:
        return "closed" if self._closed else self.transport.state

    def metrics(self) -> dict[str, Any]:
        """The page's metrics (``MetricasWebSocket``) plus capture health."""
        m = super().metrics()
        t = self.transport.stats()
        m.update(
            messages_sent=self._messages_sent,
            actions_failed=self._actions_failed,
            queued_actions=len(self._outbox),
            **t,
        )
        return m

    # ------------------------------------------------------------------ actions
    async def emit(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        bot: str | None = None,
        trigger_seq: int | None = None,
        processing_ms: float | None = None,
    ) -> dict[str, Any]:
        """Validate and send any client event of the dialect; returns the ack."""
        validate_outgoing(event, payload, self.store.dialect.client_events)
        return await self._io.run(
            self._send(event, payload, bot, trigger_seq=trigger_seq, processing_ms=processing_ms)
        )

    async def run(
        self, bot: Any, mode: str = "shadow", *, backlog_limit: int | None = DEFAULT_BACKLOG_LIMIT
    ) -> BotRun:
        """Attach a bot: ``mode="shadow"`` records what it would do, ``"live"`` sends it.

        Returns at once; the bot runs on its own loop (never the capture's) until
        ``await run.stop()``. A bot slower than the stream queues events up to
        ``backlog_limit``, then skips the oldest (``run.skipped``; ``None``: no limit);
        its lag shows in ``run.stats()`` and ``metrics()``. Capture loses nothing."""
        run = await BotRun(bot, self, mode, bots_loop(), backlog_limit=backlog_limit).attach()
        self.bots.append(run)
        return run

    async def _send(
        self,
        event: str,
        payload: dict[str, Any],
        bot: str | None,
        *,
        trigger_seq: int | None = None,
        record: bool = True,
        processing_ms: float | None = None,
    ) -> dict[str, Any]:
        """Runs on the IO loop: send (through the outbox), await the ack, record it."""
        decided_at = time.time()
        started = time.perf_counter()
        if record and event in _KEYED and "idempotencyKey" not in payload:
            # a key makes a resend after a lost ack harmless: the server acts once
            payload = {**payload, "idempotencyKey": uuid.uuid4().hex}
        if record:
            ack, error = await self._queued(event, payload, decided_at)
        else:  # the heartbeat: now or never
            ack, error = await self._deliver(event, payload, decided_at)
        ack_ms = (time.perf_counter() - started) * 1000.0
        if error is None:
            error = _ack_error(event, ack)
        if error is None:
            self._after_ok(event, payload)
        elif event != "ping":
            self._actions_failed += 1
        if event != "ping" and record:
            code = getattr(error, "code", type(error).__name__) if error else None
            self.store.record_action(
                Action(
                    self.store.next_action_id(),
                    bot,
                    "live",
                    event,
                    payload.get("chatId"),
                    orjson.dumps(payload).decode(),
                    trigger_seq,
                    decided_at,
                    time.time(),
                    error is None,
                    code,
                    str(error) if error else None,
                    ack_ms,
                    processing_ms,
                )
            )
        if error is not None:
            raise error
        return ack if isinstance(ack, dict) else {"ok": True, "ack": ack}

    async def _deliver(
        self, event: str, payload: dict[str, Any], at: float
    ) -> tuple[Any, Exception | None]:
        """One attempt over the socket: (ack, None) or (None, the error)."""
        if not self.transport.connected:  # nothing crosses the wire: no ``out`` event
            return None, NotConnectedError(
                f"cannot send {event}: not connected to {self.source} "
                f"(state: {self.transport.state})"
            )
        self.store.record_out(event, payload, at)
        try:
            ack = await self.transport.call(event, payload, self.options.ack_timeout)
        except socketio.exceptions.TimeoutError:
            return None, AckTimeoutError(
                f"{event}: no acknowledgement within {self.options.ack_timeout} s"
            )
        except Exception as exc:
            return None, exc
        self.transport.note_ok()  # any ack, even a refusal, proves the link works
        return ack, None

    async def _queued(
        self, event: str, payload: dict[str, Any], at: float
    ) -> tuple[Any, Exception | None]:
        """Send now while connected (concurrent actions stay concurrent); while the link
        is down, or an action was cut off on the wire, wait in the outbox (bounded, each
        for at most ``outbox_ttl`` seconds) and go out in order after the reconnect."""
        size, ttl = self.options.outbox_size, self.options.outbox_ttl
        if self._closed or size == 0:
            return await self._deliver(event, payload, at)
        if self.transport.connected and not self._outbox:
            ack, error = await self._deliver(event, payload, at)
            if not isinstance(error, NotConnectedError) or self._closed:
                return ack, error
            # the link went while it was on the wire: resend after the reconnect, same key
        if len(self._outbox) >= size:
            return None, ActionQueueFullError(
                f"{event}: {size} actions already wait for the connection to "
                f"{self.source}; not queued"
            )
        item = _Outgoing(event, payload, at, asyncio.get_running_loop().create_future())
        self._outbox.append(item)
        self._kick()
        try:  # asyncio.timeout: on 3.11 wait_for can swallow the caller's cancellation
            async with asyncio.timeout(ttl):
                return await asyncio.shield(item.future)
        except asyncio.CancelledError:  # the caller gave up: never send it behind its back
            if not item.started and item in self._outbox:
                self._outbox.remove(item)
            raise
        except TimeoutError:
            if not item.started:
                self._outbox.remove(item)
                return None, ActionExpiredError(
                    f"{event}: not delivered within {ttl:g} s (no connection to "
                    f"{self.source}); dropped from the queue"
                )
            return await item.future  # on the wire right now: wait for its ack

    def _kick(self) -> None:
        if self._outbox and (self._flusher is None or self._flusher.done()):
            self._flusher = self.transport.spawn(self._flush())

    async def _flush(self) -> None:
        while self._outbox and self.transport.connected:
            item = self._outbox[0]
            item.started = True
            ack, error = await self._deliver(item.event, item.payload, item.at)
            if isinstance(error, NotConnectedError):  # the link went: resend after the
                item.started = False  # reconnect, with the same idempotency key
                item.attempts += 1
                ttl = self.options.outbox_ttl
                if time.time() - item.at < ttl:
                    return
                self._outbox.popleft()  # its time is up: the waiting caller learns it now
                error = ActionExpiredError(
                    f"{item.event}: not delivered within {ttl:g} s (the connection to "
                    f"{self.source} dropped while it was sent); dropped from the queue"
                )
                if not item.future.done():
                    item.future.set_result((None, error))
                continue
            self._outbox.popleft()
            if not item.future.done():
                item.future.set_result((ack, error))

    async def _restored(self) -> None:
        """The transport is back (rooms rejoined, missed events fetched): flush."""
        self._kick()

    @property
    def queued_actions(self) -> int:
        """Actions waiting in the outbox for the connection."""
        return len(self._outbox)

    def _after_ok(self, event: str, payload: dict[str, Any]) -> None:
        if event == "message:send":
            self._messages_sent += 1
        elif event == "chat:join":
            self.transport.rooms[payload["chatId"]] = payload

    async def send_message(
        self,
        chat_id: str,
        content: str,
        *,
        type: str = "ai-response",
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``message:send``: post an AI reply (it comes back as ``message:new``)."""
        return await self.emit(
            "message:send",
            _compact(
                {
                    "chatId": chat_id,
                    "content": content,
                    "type": type,
                    "metadata": metadata,
                    "idempotencyKey": idempotency_key,
                }
            ),
        )

    async def assign_chat(
        self,
        chat_id: str,
        commercial_id: str,
        *,
        reason: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``chat:assign``: hand a chat to a commercial (the server emits ``chat:assigned``)."""
        return await self.emit(
            "chat:assign",
            _compact(
                {
                    "chatId": chat_id,
                    "commercialId": commercial_id,
                    "reason": reason,
                    "metadata": metadata,
                }
            ),
        )

    async def update_chat(
        self,
        chat_id: str,
        *,
        status: str | None = None,
        tags: list[str] | None = None,
        priority: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``chat:update``: change status, tags or priority."""
        updates = _compact(
            {"status": status, "tags": tags, "priority": priority, "metadata": metadata}
        )
        return await self.emit("chat:update", {"chatId": chat_id, "updates": updates})

    async def join_chat(self, chat_id: str, *, role: str = "ai-assistant") -> dict[str, Any]:
        """``chat:join``: receive the chat room's events (typing); re-joined on reconnect."""
        return await self.emit("chat:join", {"chatId": chat_id, "role": role})

    async def typing(
        self, chat_id: str, active: bool = True, *, typer_id: str = "ai-bot"
    ) -> dict[str, Any]:
        """``typing:start`` (``active=True``) or ``typing:stop``."""
        event = "typing:start" if active else "typing:stop"
        return await self.emit(event, {"chatId": chat_id, "typerId": typer_id})

    async def notify(
        self, type: str, target: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``notification:send`` to ``target`` (``supervisors``, ``commercial:<id>``, ...)."""
        return await self.emit(
            "notification:send", {"type": type, "target": target, "data": data or {}}
        )

    async def suggest(
        self, chat_id: str, commercial_id: str, suggestions: list[Any], *, private: bool = True
    ) -> dict[str, Any]:
        """``assistance:suggestions``: private help for the commercial handling a chat."""
        return await self.emit(
            "assistance:suggestions",
            {
                "chatId": chat_id,
                "commercialId": commercial_id,
                "suggestions": suggestions,
                "private": private,
            },
        )

    async def trigger_conversion(
        self, visitor_id: str, *, strategy: str = "premium_attention"
    ) -> dict[str, Any]:
        """``trigger:high_conversion_flow`` for a visitor likely to buy."""
        return await self.emit(
            "trigger:high_conversion_flow", {"visitorId": visitor_id, "strategy": strategy}
        )

    async def ping(self) -> float:
        """Send a ``ping`` now; returns the acknowledged round trip in ms."""
        started = time.perf_counter()
        await self.emit("ping", {"timestamp": time.time() * 1000.0})
        return (time.perf_counter() - started) * 1000.0


def _ack_error(event: str, ack: Any) -> ActionError | None:
    if isinstance(ack, dict) and ack.get("ok") is False:
        err = ack.get("error") if isinstance(ack.get("error"), dict) else {}
        return ActionError(
            event, str(err.get("code", "ERROR")), str(err.get("message", "rejected"))
        )
    return None


async def connect(
    url: str | _HasEndpoint,
    token: str | Secret | None = None,
    *,
    dialect: str | Dialect = "ai-api",
    store: Store | None = None,
    record_to: str | Path | None = None,
    flush_interval: float = 0.5,
    overwrite: bool = False,
    redact_pii: bool = False,
    **options: Any,
) -> LiveSession:
    """Connect to a Guiders server (or a simulator handle) and start capturing.

    Returns as soon as the socket is up; capture runs in the background. ``options`` are
    those of :class:`~guiders_lab.ConnectOptions` (``path``, ``transports``,
    ``reconnection_delay``, ``reconnection_attempts``, ``timeout``,
    ``heartbeat_interval``, ...; ``None`` turns the heartbeat off). Raises
    :class:`~guiders_lab.AuthenticationError` for a refused token and
    :class:`~guiders_lab.ConnectionFailedError` when nothing answers.

    ``record_to=DIR`` records the session: every raw event goes to ``DIR/events.jsonl`` as
    it arrives (flushed at least every ``flush_interval`` seconds), and ``close()`` writes
    the tables as Parquet; open it later with :func:`guiders_lab.load`. With
    ``redact_pii=True`` e-mails, phone numbers and card numbers are masked (``[email]``,
    ``[phone]``, ``[card]``) in everything the recording writes, so the disk never holds
    them; the live tables and bots still see the real text (see :mod:`guiders_lab.privacy`).
    """
    endpoint_kind = url
    if not isinstance(url, str):
        endpoint = url
        url = endpoint.url
        token = token if token is not None else endpoint.token
    if token is None:
        raise TypeError("connect() needs a token (an API key or JWT)")
    known = {f.name for f in dataclasses.fields(ConnectOptions)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown connect options {sorted(unknown)}; known: {sorted(known)}")
    if "transports" in options and isinstance(options["transports"], str):
        options["transports"] = (options["transports"],)
    for key in ("transports", "capabilities"):
        if key in options:
            options[key] = tuple(options[key])
    if "headers" in options and isinstance(options["headers"], dict):
        options["headers"] = tuple(options["headers"].items())
    if redact_pii and record_to is None:
        raise ValueError("redact_pii=True masks a recording: pass record_to=DIR as well")
    chosen = get_dialect(dialect)
    recorder = None
    if record_to is not None:
        recorder = Recorder(
            record_to, flush_interval=flush_interval, overwrite=overwrite, redact_pii=redact_pii
        )
    source = "simulator" if isinstance(endpoint_kind, _HasEndpoint) else "live"
    opts = ConnectOptions(**options)
    session = LiveSession(
        url,
        Secret(token),
        dialect=chosen,
        options=opts,
        store=store
        if store is not None
        else Store(chosen, max_payload_bytes=opts.max_payload_bytes),
        loop=io_loop(),
        recorder=recorder,
        record_source=source,
    )
    await session._start()
    return session


def connect_sync(
    url: str | _HasEndpoint, token: str | Secret | None = None, **kwargs: Any
) -> LiveSession:
    """:func:`connect` for plain scripts (and notebooks, through nest-asyncio)."""
    from ..sync import run

    return run(connect(url, token, **kwargs))
