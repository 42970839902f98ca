"""``gl.replay(DIR)``: a recording played back through the transport seam.

The replay transport reads ``events.jsonl`` and feeds each event into the store exactly as
the live socket did (original receive times, original gaps divided by ``speed``), so any
code written against a live session (tables, ``wait_for``, subscribers, bots in shadow
mode, widgets) runs unchanged on a recording.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

from .._gc import GcPause, gc_frozen
from .._loop import LoopThread, io_loop
from ..bots.runner import BotRun
from ..errors import GuidersLabError
from ..session.base import Session
from ..store import Store
from .journal import JOURNAL_NAME
from .manifest import Manifest
from .reader import (
    Block,
    ReadAhead,
    apply_at,
    apply_block,
    journal_blocks,
    positions,
)

__all__ = ["ReplayReadOnlyError", "ReplaySession", "ReplayTransport", "replay"]

_YIELD_EVERY = 2_000  # event by event at speed=inf, let other tasks run this often
_PROGRESS_EVERY = 1_000
# a timed replay reads the journal on the event loop: blocks this small decode in about a
# millisecond, where a 16 MB one held the loop (and the GIL) for 40-120 ms at its edge
_TIMED_BLOCK_BYTES = 1 << 18


class ReplayReadOnlyError(GuidersLabError):
    """A replay has no server to act on: run bots in shadow mode instead."""


class ReplayTransport:
    """Feeds a recorded journal into a store, keeping (or compressing) its timing."""

    def __init__(
        self, directory: Path, *, speed: float, total: int | None, progress: bool | None
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0 (float('inf') replays as fast as possible)")
        self.path = Path(directory) / JOURNAL_NAME
        self.speed = speed
        self.total = total
        self.progress = progress
        self.replayed = 0
        self._shown = 0  # events the progress bar already counts
        self.state = "new"
        self.finished = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._bar: Any = None
        self.barriers: list[Callable[[], Awaitable[None]]] = []  # bots in lockstep

    @property
    def connected(self) -> bool:
        return self.state == "replaying"

    async def start(self, store: Store) -> None:
        self.finished = asyncio.Event()
        self.state = "replaying"
        self._bar = self._progress_bar()
        self._task = asyncio.get_running_loop().create_task(self._play(store))

    def _progress_bar(self) -> Any:
        show = self.progress
        if show is None:  # only for replays long enough to wonder about
            show = (self.total or 0) > 200_000 if math.isinf(self.speed) else True
        if not show:
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=self.total, unit="ev", desc=f"replay {self.path.parent.name}", mininterval=0.5
        )

    async def _play(self, store: Store) -> None:
        try:
            if math.isinf(self.speed):
                await self._flat_out(store)
            else:
                await self._timed(store)
            store.flush_lag()
            self.state = "finished"
        finally:
            # reached on cancellation too: the session must never look like it is running
            if self.state == "replaying":
                self.state = "stopped"
            if self._bar is not None:
                self._bar.update(self.replayed - self._shown)
                self._bar.close()
            self.finished.set()

    async def _timed(self, store: Store) -> None:
        """Event by event, each at its original time (gaps divided by ``speed``). The
        objects alive at the start (a notebook's whole heap: pandas, Arrow, plotly) are
        frozen out of the cyclic collector meanwhile: a full collection scanning them
        stalled the replay 50-100 ms."""
        with gc_frozen():
            await self._timed_frozen(store)

    async def _timed_frozen(self, store: Store) -> None:
        loop = asyncio.get_running_loop()
        wall0, t0 = loop.time(), None
        for block in journal_blocks(self.path, _TIMED_BLOCK_BYTES):
            for k in positions(block):
                t = block.entries[k].t
                if t is not None:
                    if t0 is None:
                        t0 = t
                    delay = wall0 + (t - t0) / self.speed - loop.time()
                    if delay > 0.0005:
                        await asyncio.sleep(delay)
                await self._feed(store, block, k)

    async def _flat_out(self, store: Store) -> None:
        """As fast as possible: blocks are read and decoded ahead on worker threads and
        taken in bulk, unless bots run in lockstep (then event by event). The cyclic
        collector stays paused (see guiders_lab._gc) except while bots' code runs."""
        gc_pause = GcPause()
        blocks = ReadAhead(self.path, store.dialect)
        try:
            async for block in blocks:
                if not self.barriers and not store.has_subscribers:
                    gc_pause.pause()
                    apply_block(store, self.path, block)
                    self._advance(len(block.entries))
                    await asyncio.sleep(0)  # let other sockets on this loop breathe
                    continue
                for k in positions(block):
                    if self.barriers:
                        gc_pause.resume()
                    else:  # only subscribers: no bot code runs in between
                        gc_pause.pause()
                    if self.replayed % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)
                    await self._feed(store, block, k)
        finally:
            gc_pause.resume()
            blocks.close()

    async def _feed(self, store: Store, block: Block, k: int) -> None:
        apply_at(store, self.path, block, k)
        for barrier in self.barriers:  # each event fully handled before the next
            await barrier()
        self._advance(1)

    def _advance(self, n: int) -> None:
        self.replayed += n
        if self._bar is not None and self.replayed - self._shown >= _PROGRESS_EVERY:
            self._bar.update(self.replayed - self._shown)
            self._shown = self.replayed

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Any:
        raise ReplayReadOnlyError(
            f"cannot send {event} during a replay: there is no server; run bots with "
            "mode='shadow' to record what they would do"
        )

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.state in ("new", "replaying"):  # closed before it started: never will
            self.state = "stopped"
            self.finished.set()

    def stats(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "connected": self.connected,
            "transport": "replay",
            "speed": self.speed,
            "events_replayed": self.replayed,
            "progress": self.replayed / self.total if self.total else None,
        }


class ReplaySession(Session):
    """A recording playing back; the same tables and helpers as a live session."""

    kind = "replay"

    def __init__(
        self,
        store: Store,
        transport: ReplayTransport,
        manifest: Manifest,
        directory: Path,
        loop: LoopThread,
    ) -> None:
        super().__init__(store, str(directory))
        self.transport = transport
        self.manifest = manifest
        self.directory = directory
        self._io = loop
        self.started = time.monotonic()
        self.bots: list[BotRun] = []

    @property
    def connected(self) -> bool:
        return self.transport.connected

    def start(self) -> ReplaySession:
        """Begin playback (``gl.replay`` does this unless ``start=False``)."""
        if self.transport.state != "new":
            raise RuntimeError(f"this replay cannot start again: it is {self.transport.state}")
        self._io.run_sync(self.transport.start(self.store))
        return self

    @property
    def done(self) -> bool:
        return self.transport.finished.is_set()

    async def finished(self) -> ReplaySession:
        """Wait until every recorded event has been replayed."""
        await self._io.run(self.transport.finished.wait())
        return self

    def __await__(self) -> Generator[Any, None, ReplaySession]:
        # ``session = await gl.replay(...)`` reads like ``await gl.connect(...)``
        async def itself() -> ReplaySession:
            return self

        return itself().__await__()

    async def emit(self, event: str, payload: dict[str, Any], **_: Any) -> dict[str, Any]:
        return await self.transport.call(event, payload, 0)

    async def run(self, bot: Any, mode: str = "shadow") -> BotRun:
        """Attach a bot in shadow mode; it handles each replayed event before the next one
        is fed (deterministic). Attach before ``start()`` to see every event."""
        if mode != "shadow":
            raise ReplayReadOnlyError("a replay has no server: run bots with mode='shadow'")
        run = await BotRun(bot, self, mode, self._io).attach()
        self.transport.barriers.append(run._wait_idle)
        self.bots.append(run)
        return run

    async def close(self) -> None:
        await self._io.run(self.transport.close())

    async def __aenter__(self) -> ReplaySession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def metrics(self) -> dict[str, Any]:
        m = super().metrics()
        m.update(self.transport.stats())
        return m

    def _status(self) -> str:
        t = self.transport
        return f"{t.state} at {t.speed:g}x ({t.replayed:,} events)"


def replay(
    directory: str | Path, speed: float = 1.0, *, progress: bool | None = None, start: bool = True
) -> ReplaySession:
    """Play a recording back in the background and return its session at once.

    ``speed=1`` keeps the original timing, ``10`` is ten times faster, ``float("inf")``
    as fast as possible. A progress bar (tqdm) shows for real-time replays and for long
    flat-out ones (``progress=`` forces it on or off). ``await session.finished()``
    waits for the end. ``start=False`` returns it paused, to attach bots or subscribers
    first; then call ``session.start()``.
    """
    directory = Path(directory)
    manifest = Manifest.read(directory)
    total = manifest.journal_lines if manifest.complete else None
    transport = ReplayTransport(directory, speed=speed, total=total, progress=progress)
    loop = io_loop()
    session = ReplaySession(Store(manifest.dialect), transport, manifest, directory, loop)
    if start:
        session.start()
    return session
