"""Running bots on a session: shadow (decide and record) or live (decide and send).

The capture thread only appends each event to the bot's queue (a few microseconds); the
bot works on its own loop, so a slow or broken bot never holds capture up. On a replay or a
recording, bots instead run in lockstep with the events (each event is fully handled
before the next is fed), which makes offline runs deterministic.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections import deque
from typing import Any

import orjson

from .._loop import LoopThread
from ..errors import GuidersLabError, PayloadError
from ..events.records import Action, Record
from ..events.validate import validate_outgoing
from ..store import Store
from .actions import BotAction
from .base import Bot, BotContext, as_actions, is_async

__all__ = ["BotRun"]

log = logging.getLogger(__name__)


class BotRun:
    """One bot attached to one session. ``await run.stop()`` detaches it."""

    def __init__(
        self, bot: Bot, session: Any, mode: str, loop: LoopThread, *, record_to: Store | None = None
    ) -> None:
        if mode not in ("shadow", "live"):
            raise ValueError(f"mode must be 'shadow' or 'live', got {mode!r}")
        self.bot = bot
        self.session = session  # where events and chat state come from
        self.store = record_to if record_to is not None else session.store  # actions go here
        self.mode = mode
        self.loop = loop
        self.wanted = bot.events
        self.seen = self.handled = self.decided = self.failed_actions = 0
        self.errors: list[str] = []
        self.processing_ms_total = 0.0
        self.max_backlog = 0
        self._pending: deque[tuple[int, str, Record]] = deque()
        self._signaled = False
        self._inflight = 0
        self._stopped = False
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._unsubscribe: Any = None

    # ------------------------------------------------------------------ lifecycle
    async def _start(self) -> None:
        """Runs on the bot's loop: create its events and the consumer task."""
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task = asyncio.get_running_loop().create_task(self._consume())

    async def attach(self) -> BotRun:
        """Start the consumer on the bot's loop, then subscribe to the session's events."""
        await self.loop.run(self._start())
        self._unsubscribe = self.session.store.subscribe(self._on_event)
        return self

    async def stop(self) -> None:
        """Detach: no new events; what is queued is dropped."""
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            task = self._task
            self.loop.call_soon(task.cancel)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every event handed to the bot so far has been handled."""
        await self.loop.run(asyncio.wait_for(self._wait_idle(), timeout))

    async def _wait_idle(self) -> None:
        assert self._idle is not None
        while self._pending or self._inflight:
            self._idle.clear()
            await self._idle.wait()

    @property
    def backlog(self) -> int:
        return len(self._pending) + self._inflight

    # ------------------------------------------------------------------ the capture side
    def _on_event(self, seq: int, name: str, record: Record) -> None:
        """Called on the capture thread for every accepted event: enqueue and go."""
        if self._stopped or name not in self.wanted:
            return
        self._pending.append((seq, name, record))
        self.seen += 1
        backlog = len(self._pending)
        if backlog > self.max_backlog:
            self.max_backlog = backlog
        if not self._signaled:
            self._signaled = True
            self.loop.loop.call_soon_threadsafe(self._wakeup.set)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ the bot side
    async def _consume(self) -> None:
        assert self._wakeup is not None and self._idle is not None
        limit = asyncio.Semaphore(max(1, self.bot.concurrency))
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._signaled = False
            while self._pending:
                seq, name, record = self._pending.popleft()
                if self.bot.concurrency <= 1:
                    self._inflight += 1
                    await self._dispatch(seq, name, record)
                    self._inflight -= 1
                else:
                    await limit.acquire()
                    self._inflight += 1
                    task = asyncio.get_running_loop().create_task(self._dispatch(seq, name, record))
                    task.add_done_callback(lambda _: (limit.release(), self._done_one()))
            if not self._inflight:
                self._idle.set()

    def _done_one(self) -> None:
        self._inflight -= 1
        if not self._inflight and not self._pending and self._idle is not None:
            self._idle.set()

    async def _dispatch(self, seq: int, name: str, record: Record) -> None:
        ctx = BotContext(self.session, self.mode, seq, name)
        decided_at = time.time()
        started = time.perf_counter()
        try:
            result = self.bot.handle(name, record, ctx)
            if is_async(result):
                result = await result
            actions = as_actions(result)
        except Exception as exc:  # a broken bot is reported, never fatal
            elapsed = (time.perf_counter() - started) * 1000.0
            message = f"{type(exc).__name__}: {exc}"
            self.errors.append(f"seq {seq} {name}: {message}")
            log.warning("bot %s failed on %s: %s", self.bot.name, name, message)
            self._record(
                "bot:error",
                None,
                {"event": name, "error": message},
                seq,
                decided_at,
                False,
                type(exc).__name__,
                message,
                elapsed,
            )
            return
        elapsed = (time.perf_counter() - started) * 1000.0
        self.handled += 1
        self.processing_ms_total += elapsed
        for action in actions:
            self.decided += 1
            await self._execute(action, seq, decided_at, elapsed)

    async def _execute(
        self, action: BotAction, seq: int, decided_at: float, processing_ms: float
    ) -> None:
        payload = action.payload()
        if self.mode == "live":
            try:
                await self.session.emit(
                    action.event,
                    payload,
                    bot=self.bot.name,
                    trigger_seq=seq,
                    processing_ms=processing_ms,
                )
            except GuidersLabError as exc:  # recorded in ``actions`` by the session
                self.failed_actions += 1
                log.info("bot %s: %s failed: %s", self.bot.name, action.event, exc)
            return
        try:
            validate_outgoing(action.event, payload, self.store.dialect.client_events)
        except PayloadError as exc:  # a bug in the bot: it would have sent a bad payload
            self.failed_actions += 1
            self._record(
                action.event,
                action.chat_id,
                payload,
                seq,
                decided_at,
                False,
                "PayloadError",
                str(exc),
                processing_ms,
            )
            return
        self._record(
            action.event, action.chat_id, payload, seq, decided_at, None, None, None, processing_ms
        )

    def _record(
        self,
        name: str,
        chat_id: str | None,
        payload: dict,
        seq: int,
        decided_at: float,
        ok: bool | None,
        code: str | None,
        message: str | None,
        processing_ms: float,
    ) -> None:
        """Append an action row from the store's own thread (the store has one writer)."""
        store, bot, mode = self.store, self.bot.name, self.mode
        text = orjson.dumps(payload, default=str).decode()

        def append() -> None:
            store.record_action(
                Action(
                    store.next_action_id(),
                    bot,
                    mode,
                    name,
                    chat_id,
                    text,
                    seq,
                    decided_at,
                    None,
                    ok,
                    code,
                    message,
                    None,
                    processing_ms,
                )
            )

        from .._loop import io_loop

        io = io_loop()
        if io.in_loop:
            append()
        else:
            io.call_soon(append)

    # ------------------------------------------------------------------ reporting
    def stats(self) -> dict[str, Any]:
        return {
            "bot": self.bot.name,
            "mode": self.mode,
            "events_seen": self.seen,
            "events_handled": self.handled,
            "actions": self.decided,
            "failed_actions": self.failed_actions,
            "errors": len(self.errors),
            "backlog": self.backlog,
            "max_backlog": self.max_backlog,
            "mean_processing_ms": (
                self.processing_ms_total / self.handled if self.handled else None
            ),
        }

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"<BotRun {s['bot']} {s['mode']}: {s['events_handled']:,} events, "
            f"{s['actions']:,} actions, {s['errors']} errors, backlog {s['backlog']}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for k, v in self.stats().items()
        )
        return f"<table>{rows}</table>"
