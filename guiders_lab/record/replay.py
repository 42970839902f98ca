"""``gl.replay(DIR)``: a recording played back through the transport seam.

The replay transport reads ``events.jsonl`` and feeds each event into the store exactly as
the live socket did (original receive times, original gaps divided by ``speed``), so any
code written against a live session (tables, ``wait_for``, subscribers, bots in shadow
mode, widgets) runs unchanged on a recording.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .._gc import GcPause, gc_frozen
from .._loop import io_loop
from ..errors import ReplayReadOnlyError
from ..session import Session
from ..store import Store
from ..transport import Ack, Barrier, LinkState, Sink
from .feed import apply_at, apply_block
from .journal import JOURNAL_NAME
from .manifest import Manifest
from .reader import Block, ReadAhead, journal_blocks, positions

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["ReplayReadOnlyError", "ReplaySession", "ReplayTransport", "replay"]

_YIELD_EVERY = 2_000  # event by event at speed=inf, let other tasks run this often
_PROGRESS_EVERY = 1_000
# a timed replay reads the journal on the event loop: blocks this small decode in about a
# millisecond, where a 16 MB one held the loop (and the GIL) for 40-120 ms at its edge
_TIMED_BLOCK_BYTES = 1 << 18


class ReplayTransport:
    """Feeds a recorded journal into a store, keeping (or compressing) its timing. It is
    lockstep (:class:`~guiders_lab.transport.Lockstep`): after each event it awaits every
    barrier, so bots attached to a replay handle each event before the next."""

    kind = "replay"

    def __init__(
        self, directory: Path, *, speed: float, total: int | None, progress: bool | None
    ) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0 (float('inf') replays as fast as possible)")
        self.path = Path(directory) / JOURNAL_NAME
        self.speed = speed
        self.total = total
        self.progress = progress
        self.source = str(directory)
        self.replayed = 0
        self._shown = 0  # events the progress bar already counts
        self._state = LinkState.NEW
        self._sink: Sink | None = None
        self._task: asyncio.Task[None] | None = None
        self._bar: tqdm[NoReturn] | None = None
        self.barriers: list[Barrier] = []  # bots in lockstep

    @property
    def connected(self) -> bool:
        return False  # nothing can be sent: there is no server

    @property
    def state(self) -> LinkState:
        return self._state

    def add_barrier(self, barrier: Barrier) -> None:
        self.barriers.append(barrier)

    def remove_barrier(self, barrier: Barrier) -> None:
        if barrier in self.barriers:
            self.barriers.remove(barrier)

    async def start(self, sink: Sink) -> None:
        if not isinstance(sink, Store):  # a journal's lines go through the whole store
            raise TypeError(f"a replay feeds a Store, not {type(sink).__name__}")
        self._sink = sink
        self._state = LinkState.REPLAYING
        self._bar = self._progress_bar()
        self._task = asyncio.get_running_loop().create_task(self._play(sink))

    def _progress_bar(self) -> tqdm[NoReturn] | None:
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
            self._state = LinkState.FINISHED
        finally:
            # reached on cancellation too: the session must never look like it is running
            if self._state is LinkState.REPLAYING:
                self._state = LinkState.STOPPED
            if self._bar is not None:
                self._bar.update(self.replayed - self._shown)
                self._bar.close()
            store.ended()

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

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        raise ReplayReadOnlyError(
            f"cannot send {event} during a replay: there is no server; run bots with "
            "mode='shadow' to record what they would do"
        )

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._state in (LinkState.NEW, LinkState.REPLAYING):  # closed before it started
            self._state = LinkState.STOPPED
            if self._sink is not None:
                self._sink.ended()

    def stats(self) -> dict[str, object]:
        return {
            "state": self._state,
            "connected": self.connected,
            "transport": "replay",
            "speed": self.speed,
            "events_replayed": self.replayed,
            "progress": self.replayed / self.total if self.total else None,
        }


class ReplaySession(Session[ReplayTransport]):
    """A recording playing back: a :class:`~guiders_lab.Session` whose transport is a
    :class:`ReplayTransport` (this adds only typed accessors for the recording)."""

    def __init__(self, store: Store, transport: ReplayTransport, manifest: Manifest) -> None:
        super().__init__(store, transport, loop=io_loop())
        self.manifest = manifest
        self.directory = transport.path.parent

    def _status(self) -> str:
        t = self.transport
        return f"{t.state} at {t.speed:g}x ({t.replayed:,} events)"

    def __await__(self) -> Generator[Any, None, ReplaySession]:
        # ``session = await gl.replay(...)`` reads like ``await gl.connect(...)``
        async def itself() -> ReplaySession:
            return self

        return itself().__await__()


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
    session = ReplaySession(
        Store(manifest.dialect, simulated_clock=manifest.simulated_clock), transport, manifest
    )
    if start:
        session.start()
    return session
