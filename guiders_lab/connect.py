"""``gl.connect``: a live session on a Guiders server (or the simulator, or any transport).

Above both ``session`` and ``record``: it builds the transport, the recorder and the
session, which do not know each other's modules.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from ._loop import io_loop
from ._running import started
from .dialects import Dialect, get_dialect
from .record.manifest import Manifest
from .record.recorder import Recorder
from .secrets import Secret
from .session import Session
from .store import Store
from .sync import run
from .transport import ConnectOptions, SocketIOTransport, Transport
from .transport.guiders_v2 import GuidersV2Transport

__all__ = ["LiveSession", "connect", "connect_sync"]


@runtime_checkable
class _HasEndpoint(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...


class LiveSession(Session[Transport]):
    """A session capturing a server's event stream as it happens (see :class:`Session`:
    this adds only the typed :attr:`manifest`)."""

    @property
    def manifest(self) -> Manifest | None:
        """The recording's manifest, once a session recorded with ``record_to`` closed."""
        return cast("Manifest | None", self.recorded)


def _options(options: dict[str, Any]) -> ConnectOptions:
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
    return ConnectOptions(**options)


def _dialect_name(dialect: str | Dialect | None) -> str | None:
    return dialect if dialect is None or isinstance(dialect, str) else dialect.name


async def connect(
    url: str | _HasEndpoint | None = None,
    token: str | Secret | None = None,
    *,
    transport: Transport | None = None,
    dialect: str | Dialect | None = None,
    store: Store | None = None,
    record_to: str | Path | None = None,
    flush_interval: float = 0.5,
    overwrite: bool = False,
    redact_pii: bool = False,
    max_rows: int | None = None,
    max_age: timedelta | float | None = None,
    email: str | None = None,
    password: str | Secret | None = None,
    api_key: str | Secret | None = None,
    api_url: str | None = None,
    backfill: timedelta | float | bool | None = None,
    auto_join: bool = True,
    close_poll_interval: float | None = 30.0,
    auth_timeout: float = 5.0,
    **options: Any,
) -> LiveSession:
    """Connect to a Guiders server (or a simulator handle) and start capturing.

    Returns as soon as the socket is up; capture runs in the background. ``options`` are
    those of :class:`~guiders_lab.ConnectOptions` (``path``, ``transports``,
    ``reconnection_delay``, ``reconnection_attempts``, ``timeout``,
    ``heartbeat_interval``, ...; ``None`` turns the heartbeat off). Raises
    :class:`~guiders_lab.AuthenticationError` for a refused token and
    :class:`~guiders_lab.ConnectionFailedError` when nothing answers.

    ``transport=`` takes any :class:`~guiders_lab.transport.Transport` instead of a URL
    (e.g. a :class:`~guiders_lab.transport.MemoryTransport` in unit tests).

    ``record_to=DIR`` records the session: every raw event goes to ``DIR/events.jsonl`` as
    it arrives (flushed at least every ``flush_interval`` seconds), and ``close()`` writes
    the tables as Parquet; open it later with :func:`guiders_lab.load`. With
    ``redact_pii=True`` e-mails, phone numbers and card numbers are masked (``[email]``,
    ``[phone]``, ``[card]``) in everything the recording writes, so the disk never holds
    them; the live tables and bots still see the real text (see :mod:`guiders_lab.privacy`).
    A recording session's memory stays flat however long it runs: sealed chunks of every
    table go to ``DIR/spill/`` and are read back when asked (removed once ``close()``
    has written the Parquet tables).

    Without ``record_to``, ``max_rows=N`` and/or ``max_age`` (seconds or a timedelta)
    bound memory instead: each table keeps at least its newest ``N`` rows (and every row
    younger than ``max_age``) and drops older ones a chunk (8,192 rows) at a time, counted
    in ``session.store.dropped`` and ``session.metrics()["rows_dropped"]`` and warned of
    once per table (:class:`~guiders_lab.RowsDroppedWarning`). Without either, every
    row is kept in memory (~150-250 bytes per event, compressed).

    ``dialect`` defaults to a simulator handle's own, else ``"ai-api"``. With
    ``dialect="guiders-v2"`` (the deployed Guiders backend) ``token`` is a JWT, or
    ``email`` + ``password`` log in (``POST {api_url}/user/auth/login``) and the access
    token is renewed before it expires; ``api_url`` is the REST base (default
    ``url + "/api"``); ``api_key`` sends messages through the Integration API as a bot;
    ``backfill`` is the history read over REST on connect (a timedelta or seconds, plus
    every open chat; default 24 h; ``False``: none); ``auto_join`` joins the room of each
    chat announced by ``chat:created``; open chats are re-read every
    ``close_poll_interval`` s to learn of closes (``None``: never); the token counts as
    refused when no ``tenant:joined`` / ``presence:joined`` comes within ``auth_timeout`` s.
    """
    opts = _options(options)
    source = "live"
    name = _dialect_name(dialect)
    if transport is None:
        if url is None:
            raise TypeError("connect() needs a URL (or a simulator handle, or transport=)")
        if isinstance(url, _HasEndpoint):
            source = "simulator"
            handle = url
            name = name or getattr(handle, "dialect", None) or "ai-api"
            if token is None and email is None:
                token = handle.token
            if name == "guiders-v2" and api_url is None:
                api_url = getattr(handle, "api_url", None)
            url = handle.url
        if name == "guiders-v2":
            if token is None and (email is None or password is None):
                raise TypeError("connect() needs token= (a JWT), or email= and password=")
            transport = GuidersV2Transport(
                url,
                token=Secret(token) if token is not None else None,
                email=email,
                password=Secret(password) if password is not None else None,
                api_key=Secret(api_key) if api_key is not None else None,
                api_url=api_url,
                options=opts,
                backfill=backfill,
                auto_join=auto_join,
                close_poll_interval=close_poll_interval,
                auth_timeout=auth_timeout,
            )
        else:
            v2_only = {"email": email, "password": password, "api_key": api_key,
                       "api_url": api_url, "backfill": backfill}  # fmt: skip
            given = [key for key, value in v2_only.items() if value is not None]
            if given:
                raise TypeError(f"connect(): {', '.join(given)} only apply to dialect='guiders-v2'")
            if token is None:
                raise TypeError("connect() needs a token (an API key or JWT)")
            transport = SocketIOTransport(url, Secret(token), opts)
    elif url is not None or token is not None:
        raise TypeError("connect(): pass a URL and token, or transport=, not both")
    dialect = dialect if dialect is not None else (name or "ai-api")
    if store is not None and (max_rows is not None or max_age is not None):
        raise TypeError("connect(): max_rows/max_age build the store: not with store=")
    if redact_pii and record_to is None:
        raise ValueError("redact_pii=True masks a recording: pass record_to=DIR as well")
    chosen = get_dialect(dialect)
    recorder = None
    if record_to is not None:
        recorder = Recorder(
            record_to, flush_interval=flush_interval, overwrite=overwrite, redact_pii=redact_pii
        )
    session = LiveSession(
        store
        if store is not None
        else Store(
            chosen,
            max_payload_bytes=opts.max_payload_bytes,
            simulated_clock=source == "simulator",  # its day is compressed: see Store
            max_rows=max_rows,
            max_age=max_age,
        ),
        transport,
        recorder=recorder,
        options=opts,
        record_source=source,
        loop=io_loop(),
    )
    await session.open()
    if url is not None:  # re-running the cell that connects: say so (gl.running())
        started(
            "session", f"to {session.source}", session,
            alive=lambda s: not s.closed, stop="await <session>.close()",
        )  # fmt: skip
    return session


def connect_sync(
    url: str | _HasEndpoint | None = None, token: str | Secret | None = None, **kwargs: Any
) -> LiveSession:
    """:func:`connect` for plain scripts (and notebooks, through nest-asyncio)."""
    return run(connect(url, token, **kwargs))


if TYPE_CHECKING:
    # The seam, checked by mypy (never run): the core's sessions satisfy what the leaves
    # need of them (guiders_lab/_protocols.py). A change in session/ or record/ that
    # breaks a leaf fails here first.
    from ._protocols import BotHost, DashboardSession, InspectorSession, ReportSource
    from .record import Recording, ReplaySession

    def _conforms(
        session: Session[Any], live: LiveSession, replayed: ReplaySession, loaded: Recording
    ) -> None:
        reports: list[ReportSource] = [session, live, replayed, loaded]
        inspected: list[InspectorSession] = [session, live, replayed, loaded]
        dashboards: list[DashboardSession] = [session, live, replayed, loaded]
        hosts: list[BotHost] = [live, replayed, loaded]
        del reports, inspected, dashboards, hosts
