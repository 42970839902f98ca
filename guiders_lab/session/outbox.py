"""The outbox: every action goes out through it, and waits in it while the link is down.

While the link is up actions go out at once and concurrently. While it is down (or when
an action was cut off on the wire) they wait, bounded in number and in time, and go out
in order once the transport says the link is restored. Each keyed action carries an
``idempotencyKey`` so a resend after a lost ack is applied once. Every attempt is logged
in ``events`` (direction ``out``) and every action's outcome in ``actions``. Runs on the
session's I/O loop only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import (
    AckTimeoutError,
    ActionError,
    ActionExpiredError,
    ActionQueueFullError,
    NotConnectedError,
)
from ..events.records import Action
from ..store import Store
from ..transport import Ack, Transport

__all__ = ["KEYED", "Outbox", "OutboxLimits"]

# actions a resend could apply twice: they carry an idempotency key
KEYED = frozenset(
    {
        "message:send",
        "chat:assign",
        "chat:update",
        "notification:send",
        "assistance:suggestions",
        "trigger:high_conversion_flow",
    }
)

Outcome = tuple[Ack, Exception | None]


@dataclass(frozen=True)
class OutboxLimits:
    size: int = 1000  # actions that may wait for a reconnect (0: fail at once)
    ttl: float = 60.0  # seconds a queued action may wait before it is dropped
    ack_timeout: float = 10.0


@dataclass(eq=False)
class _Outgoing:
    event: str
    payload: dict[str, Any]
    at: float
    future: asyncio.Future[Outcome]
    started: bool = False
    attempts: int = 0


def ack_error(event: str, ack: Ack) -> ActionError | None:
    """The server's refusal (``{ok: false, error: {code, message}}``), if it refused."""
    if isinstance(ack, dict) and ack.get("ok") is False:
        err = ack.get("error")
        err = err if isinstance(err, dict) else {}
        return ActionError(
            event, str(err.get("code", "ERROR")), str(err.get("message", "rejected"))
        )
    return None


class Outbox:
    """Sends a session's actions through its transport and records each outcome."""

    def __init__(self, transport: Transport, store: Store, limits: OutboxLimits) -> None:
        self.transport = transport
        self.store = store
        self.limits = limits
        self.closed = False  # the session closed: no more queueing
        self.messages_sent = 0
        self.failed = 0
        self._queue: deque[_Outgoing] = deque()
        self._flusher: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._queue)

    async def send(
        self,
        event: str,
        payload: dict[str, Any],
        bot: str | None,
        *,
        trigger_seq: int | None = None,
        record: bool = True,
        processing_ms: float | None = None,
    ) -> dict[str, Any]:
        """Send (through the queue), await the ack, record it; raise what went wrong.
        ``record=False`` (the heartbeat): now or never, no ``actions`` row."""
        decided_at = time.time()
        started = time.perf_counter()
        if record and event in KEYED and "idempotencyKey" not in payload:
            # a key makes a resend after a lost ack harmless: the server acts once
            payload = {**payload, "idempotencyKey": uuid.uuid4().hex}
        if record:
            ack, error = await self._queued(event, payload, decided_at)
        else:
            ack, error = await self._deliver(event, payload, decided_at)
        ack_ms = (time.perf_counter() - started) * 1000.0
        if error is None:
            error = ack_error(event, ack)
        if error is None:
            if event == "message:send":
                self.messages_sent += 1
        elif event != "ping":
            self.failed += 1
        if event != "ping" and record:
            code = getattr(error, "code", type(error).__name__) if error else None
            self.store.record_action(
                Action(
                    action_id=self.store.next_action_id(),
                    bot=bot,
                    mode="live",
                    name=event,
                    chat_id=payload.get("chatId"),
                    payload=orjson.dumps(payload).decode(),
                    trigger_seq=trigger_seq,
                    decided_at=decided_at,  # a raw row: epoch seconds
                    acked_at=time.time(),
                    ok=error is None,
                    error_code=code,
                    error_message=str(error) if error else None,
                    ack_ms=ack_ms,
                    processing_ms=processing_ms,
                )
            )
        if error is not None:
            raise error
        return ack if isinstance(ack, dict) else {"ok": True, "ack": ack}

    async def _deliver(self, event: str, payload: dict[str, Any], at: float) -> Outcome:
        """One attempt over the transport: (ack, None) or (None, the error)."""
        transport = self.transport
        if not transport.connected:  # nothing crosses the wire: no ``out`` event
            return None, NotConnectedError(
                f"cannot send {event}: not connected to {transport.source} "
                f"(state: {transport.state})"
            )
        self.store.record_out(event, payload, at)
        try:
            ack = await transport.call(event, payload, self.limits.ack_timeout)
        except TimeoutError:
            return None, AckTimeoutError(
                f"{event}: no acknowledgement within {self.limits.ack_timeout} s"
            )
        except Exception as exc:
            return None, exc
        return ack, None

    async def _queued(self, event: str, payload: dict[str, Any], at: float) -> Outcome:
        """Send now while connected (concurrent actions stay concurrent); while the link
        is down, or an action was cut off on the wire, wait in the queue (bounded, each
        for at most ``ttl`` seconds) and go out in order after the reconnect."""
        size, ttl = self.limits.size, self.limits.ttl
        if self.closed or size == 0:
            return await self._deliver(event, payload, at)
        if self.transport.connected and not self._queue:
            ack, error = await self._deliver(event, payload, at)
            if not isinstance(error, NotConnectedError) or self.closed:
                return ack, error
            # the link went while it was on the wire: resend after the reconnect, same key
        if len(self._queue) >= size:
            return None, ActionQueueFullError(
                f"{event}: {size} actions already wait for the connection to "
                f"{self.transport.source}; not queued"
            )
        item = _Outgoing(event, payload, at, asyncio.get_running_loop().create_future())
        self._queue.append(item)
        self.kick()
        try:  # asyncio.timeout: on 3.11 wait_for can swallow the caller's cancellation
            async with asyncio.timeout(ttl):
                return await asyncio.shield(item.future)
        except asyncio.CancelledError:  # the caller gave up: never send it behind its back
            if not item.started and item in self._queue:
                self._queue.remove(item)
            raise
        except TimeoutError:
            if not item.started:
                self._queue.remove(item)
                return None, ActionExpiredError(
                    f"{event}: not delivered within {ttl:g} s (no connection to "
                    f"{self.transport.source}); dropped from the queue"
                )
            return await item.future  # on the wire right now: wait for its ack

    def kick(self) -> None:
        """Flush what waits, if the link is up (called when it comes back)."""
        if self._queue and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._queue and self.transport.connected:
            item = self._queue[0]
            item.started = True
            ack, error = await self._deliver(item.event, item.payload, item.at)
            if isinstance(error, NotConnectedError):  # the link went: resend after the
                item.started = False  # reconnect, with the same idempotency key
                item.attempts += 1
                ttl = self.limits.ttl
                if time.time() - item.at < ttl:
                    return
                self._queue.popleft()  # its time is up: the waiting caller learns it now
                error = ActionExpiredError(
                    f"{item.event}: not delivered within {ttl:g} s (the connection to "
                    f"{self.transport.source} dropped while it was sent); dropped from the queue"
                )
                if not item.future.done():
                    item.future.set_result((None, error))
                continue
            self._queue.popleft()
            if not item.future.done():
                item.future.set_result((ack, error))

    def cancel(self) -> None:
        """Stop flushing (the session is closing)."""
        if self._flusher is not None:
            self._flusher.cancel()
