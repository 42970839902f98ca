"""What an interrupt stops in a session: a replay's playback, a bot's pass over a recording
(see :mod:`guiders_lab._interrupt`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._interrupt import interruptible
from .protocols import BotRunLike

if TYPE_CHECKING:
    from ..transport import Transport
    from .session import Session

__all__ = ["on_interrupt", "pass_over"]


async def pass_over(run: BotRunLike, source: Session[Transport]) -> BotRunLike:
    """Play ``source`` (a replay of the recording, in lockstep with ``run``'s bot) to its
    end and detach the bot. An interrupt stops both and raises
    :class:`~guiders_lab.Interrupted`; what the bot decided so far stays in ``actions``."""

    async def stop() -> None:
        await run.stop()
        await source.close()

    def said() -> str:
        return "the bot was stopped; what it decided so far is in actions"

    async with interruptible("the bot's pass over the recording", stop, said):
        source.start()
        await source.finished()
        await run.drain()
    await stop()
    return run


def on_interrupt(
    session: Session[Any],
) -> tuple[Callable[[], Awaitable[None] | None], Callable[[], str]]:
    """What an interrupted wait on ``session`` stops, and what it tells: a replay's
    playback stops (its tables keep what was played); a live session's capture goes on."""

    def stop() -> Awaitable[None] | None:
        return session.close() if session.kind == "replay" else None

    def said() -> str:
        events = f"{len(session.store):,} events"
        if session.kind == "replay":
            return f"the replay stopped; its tables hold the {events} played"
        if session.kind == "live" and not session.closed:
            return f"capture goes on ({events} so far): await session.close() to stop it"
        return f"the tables hold {events}"

    return stop, said
