"""Running bots on a session: shadow (decide and record) or live (decide and send).

The capture thread only appends each event to the bot's queue (a few microseconds); the
bot works on its own loop, so a slow or broken bot never holds capture up. The queue is
bounded (``backlog_limit``): a bot that falls that far behind skips the oldest queued events
(counted in ``skipped``, with a warning) rather than let memory grow without end; capture
keeps every event either way. How far behind a bot runs is measured per event (``lag_ms``:
from capture to the bot starting on it). On a replay or a
recording, bots instead run in lockstep with the events (each event is fully handled
before the next is fed), which makes offline runs deterministic.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .._interrupt import interruptible
from .._loop import LoopThread
from ..errors import GuidersLabError, PayloadError
from ..events.records import Record
from ..events.validate import validate_outgoing
from ..session import DEFAULT_BACKLOG_LIMIT, BotContext, BotLike, Session
from ..store import Store
from ..transport import Lockstep, Transport
from ._rows import ActionRow
from .actions import BotAction
from .base import as_actions, canonical_event, is_async

__all__ = ["DEFAULT_BACKLOG_LIMIT", "BotRun"]

log = logging.getLogger(__name__)

_KEPT_ERRORS = 100  # error texts kept per run (all are counted, and all are in ``actions``)


class BotRun:
    """One bot attached to one session. ``await run.stop()`` detaches it."""

    def __init__(
        self,
        bot: BotLike,
        session: Session[Transport],
        mode: str,
        loop: LoopThread,
        *,
        record_to: Store | None = None,
        backlog_limit: int | None = DEFAULT_BACKLOG_LIMIT,
    ) -> None:
        if mode not in ("shadow", "live"):
            raise ValueError(f"mode must be 'shadow' or 'live', got {mode!r}")
        if backlog_limit is not None and (not isinstance(backlog_limit, int) or backlog_limit < 1):
            raise ValueError(f"backlog_limit must be a positive int or None, got {backlog_limit!r}")
        self.bot = bot
        self.session = session  # where events and chat state come from
        self.store = record_to if record_to is not None else session.store  # actions go here
        self.mode = mode
        self.loop = loop
        self.wanted = bot.events
        self.seen = self.handled = self.decided = self.failed_actions = 0
        self.shadowed_unsupported = 0  # live actions the dialect cannot send, kept as shadow
        self.backlog_limit = backlog_limit
        self.skipped = 0  # events dropped from a full backlog (capture still has them)
        self._errors: deque[str] = deque(maxlen=_KEPT_ERRORS)
        self.error_count = 0
        self.processing_ms_total = 0.0
        self.max_backlog = 0
        self.last_lag_ms: float | None = None
        self.max_lag_ms = 0.0
        self._lag_ms_total = 0.0
        self._lag_n = 0
        self._next_skip_warning = 1
        self._pending: deque[tuple[int, str, Record, float]] = deque()
        self._signaled = False
        self._inflight = 0
        self._stopped = False
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

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
        transport = self.session.transport
        if isinstance(transport, Lockstep):  # each event fully handled before the next
            transport.add_barrier(self._wait_idle)
        self._unsubscribe = self.session.store.subscribe(self._on_event)
        return self

    async def stop(self) -> None:
        """Detach: no new events; what is queued is dropped. A replay it ran in lockstep
        with goes on without it, and nothing waits on it any more (``drain``)."""
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._pending.clear()
        transport = self.session.transport
        if isinstance(transport, Lockstep):
            transport.remove_barrier(self._wait_idle)
        if self._task is not None:
            task = self._task
            self.loop.call_soon(task.cancel)
        if self._idle is not None:
            self.loop.call_soon(self._idle.set)  # wake whoever waits: a stopped bot is idle

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every event handed to the bot so far has been handled. An interrupt
        stops the wait (the bot goes on) and raises :class:`~guiders_lab.Interrupted`."""

        def said() -> str:
            return f"{self.backlog:,} events still queued; the bot goes on (run.stop() ends it)"

        async with interruptible("the bot drain", None, said):
            await self.loop.run(self._drained(timeout))

    async def _drained(self, timeout: float | None) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the caller's cancellation
        async with asyncio.timeout(timeout):
            await self._wait_idle()

    async def _wait_idle(self) -> None:
        assert self._idle is not None
        while (self._pending or self._inflight) and not self._stopped:
            self._idle.clear()
            await self._idle.wait()

    @property
    def backlog(self) -> int:
        return len(self._pending) + self._inflight

    @property
    def errors(self) -> list[str]:
        """The last 100 error texts (``error_count`` counts them all)."""
        return list(self._errors)

    @property
    def active(self) -> bool:
        return not self._stopped

    @property
    def lag_ms(self) -> float | None:
        """How far behind the bot is now: the age of the oldest event still queued; the
        lag of the event in hand while it works; 0 once it has caught up and is idle
        (``None`` before its first event)."""
        try:
            oldest = self._pending[0][3]
        except IndexError:  # nothing queued (or taken meanwhile by the bot's thread)
            if self.last_lag_ms is None:
                return None
            return self.last_lag_ms if self._inflight else 0.0
        return max((time.monotonic() - oldest) * 1000.0, self.last_lag_ms or 0.0)

    @property
    def mean_lag_ms(self) -> float | None:
        return self._lag_ms_total / self._lag_n if self._lag_n else None

    # ------------------------------------------------------------------ the capture side
    def _on_event(self, seq: int, name: str, record: Record) -> None:
        """Called on the capture thread for every accepted event: enqueue and go."""
        if self._stopped:
            return
        name = canonical_event(record) or name  # the handler a record goes to
        if name not in self.wanted:
            return
        pending = self._pending
        if self.backlog_limit is not None and len(pending) >= self.backlog_limit:
            try:  # the oldest is the least useful to a bot that is behind
                pending.popleft()
            except IndexError:  # the bot's thread took it meanwhile: nothing to skip
                pass
            else:
                self._skip()
        pending.append((seq, name, record, time.monotonic()))
        self.seen += 1
        backlog = len(pending)
        if backlog > self.max_backlog:
            self.max_backlog = backlog
        if not self._signaled:
            self._signaled = True
            wakeup = self._wakeup
            assert wakeup is not None  # attach() made it before subscribing
            self.loop.loop.call_soon_threadsafe(wakeup.set)

    def _skip(self) -> None:
        self.skipped += 1
        if self.skipped >= self._next_skip_warning:  # 1, 10, 100, ...: loud, not a flood
            self._next_skip_warning *= 10
            log.warning(
                "bot %s is %s events behind (backlog_limit): skipped %s of the oldest so far; "
                "capture keeps them all",
                self.bot.name,
                f"{self.backlog_limit:,}",
                f"{self.skipped:,}",
            )

    # ------------------------------------------------------------------ the bot side
    async def _consume(self) -> None:
        assert self._wakeup is not None and self._idle is not None
        limit = asyncio.Semaphore(max(1, self.bot.concurrency))

        def done(_: asyncio.Task[None]) -> None:
            limit.release()
            self._done_one()

        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._signaled = False
            while self._pending:
                seq, name, record, queued_at = self._pending.popleft()
                lag = (time.monotonic() - queued_at) * 1000.0
                self.last_lag_ms = lag
                self._lag_ms_total += lag
                self._lag_n += 1
                if lag > self.max_lag_ms:
                    self.max_lag_ms = lag
                if self.bot.concurrency <= 1:
                    self._inflight += 1
                    await self._dispatch(seq, name, record)
                    self._inflight -= 1
                else:
                    self._inflight += 1  # in hand while it waits for a free slot, too
                    await limit.acquire()
                    task = asyncio.get_running_loop().create_task(self._dispatch(seq, name, record))
                    task.add_done_callback(done)
            if not self._inflight:
                self._idle.set()

    def _done_one(self) -> None:
        self._inflight -= 1
        if not self._inflight and not self._pending and self._idle is not None:
            self._idle.set()

    async def _dispatch(self, seq: int, name: str, record: Record) -> None:
        ctx = BotContext(self.session, self.mode, seq, name, self.store)
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
            self._errors.append(f"seq {seq} {name}: {message}")
            self.error_count += 1
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
        payload = None
        try:
            payload = action.payload()
            validate_outgoing(action.event, payload, self.store.dialect.client_events)
        except Exception as exc:  # a bug in the bot: it would have sent a bad payload
            self.failed_actions += 1
            code = "PayloadError" if isinstance(exc, PayloadError) else type(exc).__name__
            self._record(
                action.event,
                action.chat_id,
                payload,
                seq,
                decided_at,
                False,
                code,
                f"{exc}" if isinstance(exc, PayloadError) else f"{code}: {exc}",
                processing_ms,
            )
            return
        live = self.mode == "live"
        if live and action.event in self.store.dialect.unsupported_actions:
            # the backend has no such action (guiders-v2): what the bot would have done
            # is kept as a shadow row, and it goes on acting where it can
            self.shadowed_unsupported += 1
            self._record(
                action.event,
                action.chat_id,
                payload,
                seq,
                decided_at,
                None,
                "UNSUPPORTED_ACTION",
                f"{self.store.dialect.name} has no {action.event}: recorded in shadow mode",
                processing_ms,
                mode="shadow",
            )
            return
        if live:
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
        self._record(
            action.event, action.chat_id, payload, seq, decided_at, None, None, None, processing_ms
        )

    def _record(
        self,
        name: str,
        chat_id: str | None,
        payload: dict[str, Any] | None,  # JSON
        seq: int,
        decided_at: float,
        ok: bool | None,
        code: str | None,
        message: str | None,
        processing_ms: float,
        mode: str | None = None,
    ) -> None:
        """Append an action row from the store's own thread (the store has one writer)."""
        row = ActionRow(self.bot.name, mode or self.mode, name, chat_id, payload, seq)
        row.append_to(self.store, decided_at, ok, code, message, processing_ms)

    # ------------------------------------------------------------------ reporting
    def stats(self) -> dict[str, Any]:
        return {
            "bot": self.bot.name,
            "mode": self.mode,
            "events_seen": self.seen,
            "events_handled": self.handled,
            "actions": self.decided,
            "failed_actions": self.failed_actions,
            "shadowed_unsupported": self.shadowed_unsupported,
            "errors": self.error_count,
            "backlog": self.backlog,
            "max_backlog": self.max_backlog,
            "backlog_limit": self.backlog_limit,
            "skipped": self.skipped,
            "lag_ms": self.lag_ms,
            "mean_lag_ms": self.mean_lag_ms,
            "max_lag_ms": self.max_lag_ms if self._lag_n else None,
            "mean_processing_ms": (
                self.processing_ms_total / self.handled if self.handled else None
            ),
        }

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"<BotRun {s['bot']} {s['mode']}: {s['events_handled']:,} events, "
            f"{s['actions']:,} actions, {s['errors']} errors, backlog {s['backlog']}"
            + (f", {s['skipped']:,} skipped" if s["skipped"] else "")
            + ("" if s["lag_ms"] is None else f", lag {s['lag_ms']:.0f} ms")
            + ">"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for k, v in self.stats().items()
        )
        return f"<table>{rows}</table>"
