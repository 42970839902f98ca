"""What a session needs of the objects it is given: bots' runs, a recorder, options.

A session sits below ``bots`` and ``record`` (see ``DESIGN.md``): it is typed against
these Protocols, and those packages' classes satisfy them (``guiders_lab.bots`` registers
its runner on :attr:`Session.bot_runner <guiders_lab.session.Session.bot_runner>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .._loop import LoopThread
from ..events.records import Record
from ..store import Store
from ..transport import Transport
from .context import BotContext

if TYPE_CHECKING:  # session.py imports this module
    from .session import Session

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "BotLike",
    "BotRunLike",
    "BotRunner",
    "RecorderLike",
    "Replayable",
    "SessionOptions",
]

DEFAULT_BACKLOG_LIMIT = 10_000  # queued events per bot; ~1-2 MB of references at most


class BotLike(Protocol):
    """A bot, as a session and its runner use it (:class:`guiders_lab.bots.Bot` is one).
    ``handle`` returns whatever the bot's handler did (actions, a list, None, or an
    awaitable of those): the runner checks it, hence ``object``."""

    @property
    def name(self) -> str: ...

    @property
    def events(self) -> frozenset[str]:
        """The event names it has handlers for."""
        ...

    @property
    def concurrency(self) -> int: ...

    def handle(self, name: str, record: Record, ctx: BotContext) -> object: ...


class BotRunLike(Protocol):
    """What a session needs of a running bot (see :class:`guiders_lab.bots.BotRun`)."""

    @property
    def active(self) -> bool: ...

    @property
    def backlog(self) -> int: ...

    @property
    def lag_ms(self) -> float | None: ...

    @property
    def skipped(self) -> int: ...

    async def attach(self) -> BotRunLike: ...

    async def drain(self, timeout: float | None = None) -> None: ...

    async def stop(self) -> None: ...


class BotRunner(Protocol):
    """Makes a :class:`BotRunLike`; ``guiders_lab.bots`` registers its ``BotRun`` here."""

    def __call__(
        self,
        bot: BotLike,
        session: Session[Transport],
        mode: str,
        loop: LoopThread,
        *,
        record_to: Store | None = None,
        backlog_limit: int | None = DEFAULT_BACKLOG_LIMIT,
    ) -> BotRunLike: ...


class RecorderLike(Protocol):
    """What a session needs of a recorder (see :class:`guiders_lab.record.Recorder`)."""

    def start(self, store: Store, server_url: str, source: str = "live") -> None: ...

    def abandon(self, store: Store) -> None: ...

    def connected(self) -> None: ...

    async def flush_forever(self) -> None: ...

    def finish(self, store: Store) -> object: ...


@runtime_checkable
class Replayable(Protocol):
    """A transport whose events were all delivered already (a loaded recording) and that
    can play them again, in lockstep, for a bot: ``run()`` uses it."""

    def replay_for_bots(self, progress: bool | None) -> Session[Transport]: ...


class SessionOptions(Protocol):
    """The session's share of :class:`~guiders_lab.ConnectOptions`."""

    @property
    def heartbeat_interval(self) -> float | None: ...

    @property
    def outbox_size(self) -> int: ...

    @property
    def outbox_ttl(self) -> float: ...

    @property
    def ack_timeout(self) -> float: ...
