"""``launch_simulator()``: a simulator running in the background of a notebook or test."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Coroutine
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from .._running import started
from .faults import Faults, ServerState
from .guiders_v2 import GuidersV2Server
from .scenario import Scenario
from .server import DEFAULT_START, SimServer
from .thread import ServerThread

__all__ = ["SimulatorHandle", "launch_simulator"]

T = TypeVar("T")


class SimulatorHandle:
    """A running simulator: ``.url`` and ``.token`` to connect, ``.stop()`` when done.

    The server runs on its own thread and event loop, like a separate process would, so a
    busy notebook cell or a blocking test does not pause the simulated world.

    Fault hooks (tests, and demos of the client's recovery): :meth:`down` / :meth:`up`,
    :meth:`restart`, :meth:`drop_connections`, :meth:`inject` / :meth:`inject_frame`, and
    the settable :attr:`faults` (a lost ack, slow acks, an odd resync answer).
    """

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self._thread = ServerThread(f"guiders-lab-sim-{id(server):x}")
        try:
            self._thread.run_sync(server.start())
        except BaseException:
            self._thread.stop()
            raise
        self.stopped = False

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str:
        """The demo token (an AI-system identity) to pass to ``gl.connect``."""
        return self.server.token

    @property
    def dialect(self) -> str:
        """The protocol it serves: ``"ai-api"`` or ``"guiders-v2"``."""
        return getattr(self.server, "dialect", "ai-api")

    # guiders-v2 only (``None`` on an ai-api simulator): the REST base, the default user's
    # credentials (an admin who sees every chat), the Integration API key, the ids
    @property
    def api_url(self) -> str | None:
        return getattr(self.server, "api_url", None)

    @property
    def email(self) -> str | None:
        return getattr(self.server, "email", None)

    @property
    def password(self) -> str | None:
        return getattr(self.server, "password", None)

    @property
    def api_key(self) -> str | None:
        return getattr(self.server, "api_key", None)

    @property
    def user_id(self) -> str | None:
        return getattr(self.server, "user_id", None)

    @property
    def company_id(self) -> str | None:
        return getattr(self.server, "company_id", None)

    @property
    def commercial_ids(self) -> dict[str, str]:
        """guiders-v2: each scenario commercial's UUID, by its scenario id."""
        return dict(getattr(self.server, "commercial_ids", {}))

    def make_token(
        self,
        *,
        user_id: str | None = None,
        roles: list[str] | None = None,
        ttl: float | None = None,
        company_id: str | None = None,
        typ: str = "access",
    ) -> str:
        """guiders-v2: a JWT signed by this simulator (default: the admin user, with the
        login's ``token_ttl``; a negative ``ttl`` gives an expired one)."""
        auth = self._v2().auth
        return auth.issue(
            user_id or auth.admin.id,
            roles if roles is not None else list(auth.admin.roles),
            ttl=ttl,
            typ=typ,
            company_id=company_id,
        )

    def fail_rest(
        self,
        n: int,
        status: int = 503,
        retry_after: float | None = None,
        only: tuple[str, str] | None = None,
    ) -> None:
        """guiders-v2: the next ``n`` REST calls answer ``status`` (429 or 5xx), with a
        ``Retry-After`` header when given, before doing anything. ``only=("POST",
        "/api/v2/messages")``: only calls of that method under that path count."""
        self._v2().faults.fail_rest(n, status, retry_after, only)

    def _v2(self) -> GuidersV2Server:
        if not isinstance(self.server, GuidersV2Server):
            raise TypeError("only a guiders-v2 simulator has this (dialect='guiders-v2')")
        return self.server

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def seed(self) -> int:
        return self.server.seed

    @property
    def speed(self) -> float:
        return self.server.speed

    @property
    def scenario(self) -> Scenario:
        return self.server.scenario

    @property
    def faults(self) -> Faults:
        """Faults to inject: set ``cut_after_action``, ``ack_delay`` or ``sync_reply``
        (see :class:`~guiders_lab.sim.faults.Faults`); ``faults.clear()`` turns them off."""
        return self.server.faults

    @property
    def state(self) -> ServerState:
        """``SERVING``, ``DOWN`` (after :meth:`down`) or ``STOPPED``."""
        return self.server.state

    def stats(self) -> dict[str, Any]:
        """State, connected clients, events sent (``seq``), restarts, and client events
        handled (``actions``, ``actions_in_flight``, ``peak_actions_in_flight``)."""
        if self.stopped:  # the server's loop is gone: nothing changes its figures any more
            return self.server.stats()
        return self.call(self._stats())

    async def _stats(self) -> dict[str, Any]:
        return self.server.stats()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine of the server on its loop and wait for the result."""
        return self._thread.run_sync(coro, timeout)

    def begin(self) -> None:
        """Start the simulated day now instead of on the first connection."""
        self._thread.call_soon(self.server.begin)

    def snapshot(self) -> dict[str, Any]:
        """Visitors, chats, queue and commercial statuses right now."""
        return self.call(self._snapshot())

    async def _snapshot(self) -> dict[str, Any]:
        return self.server.engine.snapshot()

    def flood(self, n: int, *, chats: int = 200, rate: float | None = None) -> dict[str, float]:
        """Emit ``n`` ``message:new`` events as fast as possible (or at ``rate`` per
        second); returns the achieved send rate."""
        return self.call(self.server.flood(n, chats=chats, rate=rate), timeout=None)

    async def aflood(
        self, n: int, *, chats: int = 200, rate: float | None = None
    ) -> dict[str, float]:
        """:meth:`flood` without blocking the calling event loop."""
        return await asyncio.wrap_future(
            self._thread.submit(self.server.flood(n, chats=chats, rate=rate))
        )

    def inject(self, event: str, *args: Any) -> None:
        """Broadcast an arbitrary, possibly malformed, event (fault tests)."""
        self.call(self.server.inject(event, *args))

    def inject_frame(self, *frames: str | bytes) -> None:
        """Send raw Socket.IO packets (and binary attachments) to every client (fault
        tests)."""
        self.call(self.server.inject_frame(*frames))

    def inject_many(self, items: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Inject a batch of events and raw frames in order (see ``SimServer.inject_many``)."""
        self.call(self.server.inject_many(items))

    def broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """Emit one account event as the backend would (numbered, kept for resyncs)."""
        self.call(self.server.broadcast(event, payload))

    def down(self) -> None:
        """Crash the server: connections cut, nothing listening; the world goes on."""
        self.call(self.server.down())

    def up(self) -> None:
        """Listen again after :meth:`down`, on the same port, with the same world."""
        self.call(self.server.up())

    def restart(self, down_for: float = 0.5) -> None:
        """Crash the server (connections cut), keep it down ``down_for`` seconds, bring it
        back on the same port with the same world (fault tests)."""
        self.call(self.server.restart(down_for))

    def drop_connections(self) -> int:
        """Abort every client's TCP connection, as a network failure would."""
        return self.call(self._drop())

    async def _drop(self) -> int:
        return self.server.drop_connections()

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self._thread.run_sync(self.server.stop())
            self._thread.stop()

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else self.server.state.value
        return (
            f"<Simulator {self.scenario.name} seed={self.seed} speed={self.speed:g}x "
            f"{self.url} {state}>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<b>Guiders simulator</b> · {html.escape(self.scenario.name)} · seed "
            f"{self.seed} · {self.speed:g}× · <code>{html.escape(self.url)}</code> · "
            f"{'stopped' if self.stopped else self.server.state.value}<br><small>"
            f"{html.escape(self.scenario.description)}</small>"
        )


def launch_simulator(
    scenario: str | Scenario = "demo",
    *,
    seed: int = 7,
    speed: float | None = None,
    start: datetime = DEFAULT_START,
    tokens: str | list[str] | dict[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    autostart: bool = True,
    transports: tuple[str, ...] = ("polling", "websocket"),
    dialect: str = "ai-api",
    token_ttl: float = 900.0,
    close_implemented: bool = False,
    high_intent: bool = False,
) -> SimulatorHandle:
    """Start a simulated Guiders backend on loopback and return its handle.

    ``speed`` compresses time (default: the scenario's, 60x: an 8 h day in 8 min;
    ``math.inf`` runs as fast as possible). The same ``seed`` gives the same event
    sequence. The day starts on the first authenticated connection unless
    ``autostart=False`` (then call ``.begin()``). ``tokens`` defaults to a fresh demo
    token (``.token``); pass your own, or ``{token: "supervisor" | "commercial:<id>"}``.
    ``transports=("polling",)`` serves no websocket (to see the client fall back).

    ``dialect="guiders-v2"`` serves the deployed backend's protocol instead (socket rooms,
    REST under ``/api``, JWT login; ``tokens`` is then unused): ``token_ttl`` is the
    lifetime of a login's access token in seconds, ``close_implemented=True`` makes
    ``PUT /v2/chats/{id}/close`` work instead of answering 501 as the real one does, and
    ``high_intent=True`` emits ``visitor:high-intent``, which the real one never does.
    """
    if dialect == "guiders-v2":
        v2 = GuidersV2Server(
            scenario,
            token_ttl=token_ttl,
            close_implemented=close_implemented,
            high_intent=high_intent,
            seed=seed,
            speed=speed,
            start=start,
            host=host,
            port=port,
            autostart=autostart,
            transports=transports,
        )
        return _noted(SimulatorHandle(v2), dialect)
    if dialect != "ai-api":
        raise ValueError(f"unknown dialect {dialect!r}: 'ai-api' or 'guiders-v2'")
    server = SimServer(
        scenario,
        seed=seed,
        speed=speed,
        start=start,
        tokens=tokens,
        host=host,
        port=port,
        autostart=autostart,
        transports=transports,
    )
    return _noted(SimulatorHandle(server), dialect)


def _noted(handle: SimulatorHandle, dialect: str) -> SimulatorHandle:
    """Re-running the cell that launches it: say so (gl.running())."""
    started(
        "simulator", f"'{handle.scenario.name}' seed={handle.seed} ({dialect})", handle,
        alive=lambda h: not h.stopped, stop="sim.stop()",
    )  # fmt: skip
    return handle
