"""One session: a store, a transport, optionally a recorder.

Live, replayed, loaded and in-memory sessions are this one class; they differ only in
their transport (a socket, a journal played back, a recording read from disk, a fake)
and whether a recorder writes the session to disk. Everything a user does with a session
(tables, metrics, actions through the outbox, bots, ``finished()``, ``close()``) is here,
and reaches the transport only through the :class:`~guiders_lab.transport.Transport`
Protocol. Sockets, replays and the store live on a background I/O loop; every public
coroutine hops there and back, so a notebook's own loop never blocks.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast, overload

from .._interrupt import interruptible
from .._loop import LoopThread, bots_loop, io_loop
from .._running import started
from ..errors import ReplayReadOnlyError
from ..events.validate import validate_outgoing
from ..store import Store
from ..transport import LinkState, Lockstep, OfflineTransport, Transport
from .actions import Actions
from .interrupts import on_interrupt, pass_over
from .outbox import Outbox, OutboxLimits
from .protocols import (
    DEFAULT_BACKLOG_LIMIT,
    BotLike,
    BotRunLike,
    BotRunner,
    RecorderLike,
    Replayable,
    SessionOptions,
)
from .tables import Tables

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "BotLike",
    "BotRunLike",
    "BotRunner",
    "RecorderLike",
    "Replayable",
    "Session",
    "SessionOptions",
]

log = logging.getLogger(__name__)

# covariant: a Session[ReplayTransport] is a Session[Transport] (what bots and leaves take)
T = TypeVar("T", bound=Transport, covariant=True)
_READ_ONLY = frozenset({"replay", "recording", "background", "offline"})  # nothing to act on
_DONE = frozenset({LinkState.LOADED, LinkState.OFFLINE})  # already delivered everything


class Session(Tables, Actions, Generic[T]):
    """The canonical tables of a Guiders account's event stream, and the page's actions.

    Make one with :func:`guiders_lab.connect` (live), :func:`guiders_lab.replay`,
    :func:`guiders_lab.load`, or ``gl.connect(transport=...)``; ``Session(store)`` shows a
    store built by hand. Every action method validates its payload first (raising
    :class:`~guiders_lab.PayloadError`, nothing sent), awaits the server's acknowledgement
    and raises :class:`~guiders_lab.ActionError` on ``{ok: false}``.
    """

    bot_runner: ClassVar[BotRunner | None] = None  # set by guiders_lab.bots

    @overload
    def __init__(
        self: Session[OfflineTransport],
        store: Store,
        transport: str | None = None,
        *,
        recorder: RecorderLike | None = None,
        options: SessionOptions | None = None,
        record_source: str = "live",
        loop: LoopThread | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        store: Store,
        transport: T,
        *,
        recorder: RecorderLike | None = None,
        options: SessionOptions | None = None,
        record_source: str = "live",
        loop: LoopThread | None = None,
    ) -> None: ...

    def __init__(
        self,
        store: Store,
        transport: T | str | None = None,
        *,
        recorder: RecorderLike | None = None,
        options: SessionOptions | None = None,
        record_source: str = "live",
        loop: LoopThread | None = None,
    ) -> None:
        if transport is None or isinstance(transport, str):
            # the first overload: with no transport, T is OfflineTransport
            transport = cast(T, OfflineTransport(transport or "offline"))
        self.store = store
        self.transport: T = transport
        self.source = transport.source
        self.recorder = recorder
        self.record_source = record_source
        self.recorded: object | None = None  # what the recorder wrote (its manifest), on close
        self.options = options
        limits = OutboxLimits()
        if options is not None:
            limits = OutboxLimits(options.outbox_size, options.outbox_ttl, options.ack_timeout)
        self.outbox = Outbox(transport, store, limits)
        self.bots: list[BotRunLike] = []
        self._io = loop or io_loop()
        self._ended = asyncio.Event()
        if transport.state in _DONE:
            self._ended.set()
        store.link_listeners.append(self._on_link)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._closing: asyncio.Future[None] | None = None  # on the I/O loop, shared

    # ------------------------------------------------------------------ what it is
    @property
    def kind(self) -> str:
        """``live``, ``replay``, ``recording``, ``background``, ``memory`` or ``offline``."""
        return self.transport.kind

    @property
    def read_only(self) -> bool:
        """No server to act on (a replay, a recording, an offline store): bots run in
        shadow mode, actions raise :class:`~guiders_lab.ReplayReadOnlyError`."""
        return self.transport.kind in _READ_ONLY

    @property
    def connected(self) -> bool:
        return self.transport.connected

    @property
    def closed(self) -> bool:
        """``close()`` was called."""
        return self._closed

    @property
    def done(self) -> bool:
        """Every event the transport will deliver has been delivered."""
        return self._ended.is_set()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Session[T]:
        """Start delivering (``gl.replay(..., start=False)`` waits for this); blocks until
        the transport is started. Returns the session."""
        self._io.run_sync(self.open())
        return self

    async def open(self) -> Session[T]:
        """:meth:`start`, awaitable (how ``gl.connect`` returns once connected)."""
        if self.transport.state is not LinkState.NEW:
            raise RuntimeError(f"this session cannot start again: it is {self.transport.state}")
        await self._io.run(self._open_on_io())
        return self

    async def _open_on_io(self) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.start(self.store, self.source, self.record_source)
        try:
            await self.transport.start(self.store)
        except BaseException:
            if recorder is not None:  # nothing was recorded: leave the disk as it was
                recorder.abandon(self.store)
            raise
        if recorder is not None:
            recorder.connected()
            self._spawn(recorder.flush_forever())
        interval = self.options.heartbeat_interval if self.options is not None else None
        if interval is not None and not self.read_only:
            self._spawn(self._heartbeat(interval))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_link(self, what: str) -> None:
        """The transport, through the store: the link is caught up, or will say no more."""
        if what == "restored":
            self.outbox.kick()
        elif what == "ended":
            self._ended.set()

    async def _heartbeat(self, interval: float) -> None:
        """The page's ``iniciarHeartbeat``: an app-level ``ping`` every interval."""
        while True:
            if self.transport.connected:
                try:
                    ping = {"timestamp": time.time() * 1000.0}
                    await self.outbox.send("ping", ping, None, record=False)
                except Exception as exc:  # a missed ping is data, not a crash
                    log.debug("heartbeat ping failed: %s", exc)
            await asyncio.sleep(interval)

    async def finished(self) -> Session[T]:
        """Wait until the transport has delivered everything it will (a replay's end; a
        live session: its close). An interrupt stops a replay where it is and raises
        :class:`~guiders_lab.Interrupted` (a live session goes on capturing)."""
        async with interruptible(f"waiting for the {self.kind} session", *on_interrupt(self)):
            await self._io.run(self._ended.wait())
        return self

    async def close(self) -> None:
        """Stop (disconnect, stop replaying) and detach the bots; the tables stay
        readable and a recording is written. Every caller returns once it is done."""
        self._closed = True
        await self._io.run(self._close_once())

    async def _close_once(self) -> None:
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_on_io())
        await asyncio.shield(self._closing)

    async def _close_on_io(self) -> None:
        for run in self.bots:
            await run.stop()
        self.outbox.closed = True
        self.outbox.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self.transport.close()
        self.store.flush_lag()
        self._ended.set()
        if self.recorder is not None:
            self.recorded = self.recorder.finish(self.store)

    async def __aenter__(self) -> Session[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ acting
    def client_events(self) -> Mapping[str, object]:
        return self.store.dialect.client_events

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
        if self.read_only:
            raise ReplayReadOnlyError(
                f"cannot send {event}: a {self.kind} session has no server; run bots with "
                "mode='shadow' to record what they would do"
            )
        validate_outgoing(event, payload, self.store.dialect.client_events)
        return await self._io.run(
            self.outbox.send(
                event, payload, bot, trigger_seq=trigger_seq, processing_ms=processing_ms
            )
        )

    @property
    def queued_actions(self) -> int:
        """Actions waiting in the outbox for the connection."""
        return len(self.outbox)

    async def run(
        self,
        bot: BotLike,
        mode: str = "shadow",
        *,
        backlog_limit: int | None = DEFAULT_BACKLOG_LIMIT,
        progress: bool | None = False,
    ) -> BotRunLike:
        """Attach a bot: ``mode="shadow"`` records what it would do, ``"live"`` sends it.

        Returns at once; the bot runs on its own loop (never the capture's) until
        ``await run.stop()``. A bot slower than the stream queues events up to
        ``backlog_limit``, then skips the oldest (``run.skipped``; ``None``: no limit);
        its lag shows in ``run.stats()`` and ``metrics()``. Capture loses nothing. On a
        replay the bot handles each event before the next is fed (deterministic); on a
        loaded recording the recording is played again for it, and this returns when it
        is done, its actions added to this session's ``actions``."""
        runner = Session.bot_runner
        if runner is None:  # pragma: no cover (guiders_lab imports the bots)
            raise RuntimeError("import guiders_lab.bots to run bots")
        if mode == "live" and self.read_only:
            raise ReplayReadOnlyError(
                f"a {self.kind} session has no server: run bots with mode='shadow'"
            )
        if isinstance(self.transport, Replayable):
            source = self.transport.replay_for_bots(progress)
            return await pass_over(
                await runner(bot, source, "shadow", source._io, record_to=self.store).attach(),
                source,
            )
        loop = self._io if isinstance(self.transport, Lockstep) else bots_loop()
        run = await runner(bot, self, mode, loop, backlog_limit=backlog_limit).attach()
        self.bots.append(run)
        started(
            "bot", f"{type(bot).__name__} ({mode}) on {self.source}", run,
            alive=lambda r: r.active, stop="await <run>.stop()",
        )  # fmt: skip
        return run

    # ------------------------------------------------------------------ telling
    def metrics(self) -> dict[str, Any]:
        """The page's metrics (``MetricasWebSocket``) plus capture health."""
        # ``Any``: a record of counters read by key in notebooks (numbers, None, strings)
        s = self.store
        counts = dict(s.counts)
        status = dict(s.status_counts)
        runs = [r for r in self.bots if r.active]
        lags = [lag for lag in (r.lag_ms for r in runs) if lag is not None]
        return {
            "events_received": sum(counts.values()),
            "events_sent": s.sent,
            "messages_received": s.tables["messages"].total,  # rows, duplicates left out
            "rows_dropped": sum(s.dropped.values()),  # by max_rows / max_age (store.dropped)
            "mean_latency_ms": s.ping_sum_ms / s.ping_n if s.ping_n else None,
            "last_latency_ms": s.last_ping_ms,
            "event_lag_ms": s.last_lag_ms,
            "quarantined": status["quarantined"],
            "duplicates": status["duplicate"],
            "redelivered_events": s.redelivered,  # sent before a reconnect, came after it
            "unknown_events": status["unknown"],
            "chats": len(s.chats),
            "missing_events": s.seq_tracker.missing,  # server sequence numbers not received
            "gaps_detected": s.seq_tracker.gaps_seen,
            "bots": len(runs),
            "bot_backlog": sum(r.backlog for r in runs),
            "bot_lag_ms": max(lags) if lags else None,
            "bot_skipped": sum(r.skipped for r in runs),
            "messages_sent": self.outbox.messages_sent,
            "actions_failed": self.outbox.failed,
            "queued_actions": len(self.outbox),
            **self.transport.stats(),
        }

    async def wait_for(
        self,
        predicate: Callable[[Session[T]], bool],
        timeout: float = 10.0,
        interval: float = 0.05,
    ) -> None:
        """Wait until ``predicate(session)`` is true, e.g. ``lambda s: len(s.store.chats) > 3``."""
        deadline = time.monotonic() + timeout
        async with interruptible("wait_for", *on_interrupt(self)):
            while not predicate(self):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"condition not met within {timeout} s on {self!r}")
                await asyncio.sleep(interval)

    def _status(self) -> str:
        if self._closed and self.kind == "live":
            return "closed"
        return str(self.transport.state)

    def __repr__(self) -> str:
        s = self.store
        return (
            f"<{type(self).__name__} {s.dialect.name} {self.source} {self._status()}: "
            f"{len(s):,} events, {len(s.tables['messages']):,} messages, "
            f"{len(s.chats):,} chats, {s.status_counts['quarantined']:,} quarantined>"
        )

    def _repr_html_(self) -> str:
        m = self.metrics()
        rows = [
            ("source", self.source),
            ("status", self._status()),
            ("events in / out", f"{m['events_received']:,} / {m['events_sent']:,}"),
            ("messages", f"{len(self.store.tables['messages']):,}"),
            ("chats", f"{m['chats']:,}"),
            ("quarantined", f"{m['quarantined']:,}"),
        ]
        if m.get("mean_latency_ms") is not None:
            rows.append(("mean ping", f"{m['mean_latency_ms']:.1f} ms"))
        if m.get("event_lag_ms") is not None:
            rows.append(("event lag", f"{m['event_lag_ms']:.1f} ms"))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        title = html.escape(f"{type(self).__name__} · {self.store.dialect.name}")
        return f"<table><caption style='text-align:left'><b>{title}</b></caption>{body}</table>"
