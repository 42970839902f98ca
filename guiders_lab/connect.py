"""``gl.connect``: a live session on a Guiders server (or the simulator, or any transport).

Above both ``session`` and ``record``: it builds the transport, the recorder and the
session, which do not know each other's modules.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from ._loop import io_loop
from .dialects import Dialect, get_dialect
from .record.manifest import Manifest
from .record.recorder import Recorder
from .secrets import Secret
from .session import Session
from .store import Store
from .sync import run
from .transport import ConnectOptions, SocketIOTransport, Transport

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


async def connect(
    url: str | _HasEndpoint | None = None,
    token: str | Secret | None = None,
    *,
    transport: Transport | None = None,
    dialect: str | Dialect = "ai-api",
    store: Store | None = None,
    record_to: str | Path | None = None,
    flush_interval: float = 0.5,
    overwrite: bool = False,
    redact_pii: bool = False,
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
    """
    opts = _options(options)
    source = "live"
    if transport is None:
        if url is None:
            raise TypeError("connect() needs a URL (or a simulator handle, or transport=)")
        if isinstance(url, _HasEndpoint):
            source = "simulator"
            token = token if token is not None else url.token
            url = url.url
        if token is None:
            raise TypeError("connect() needs a token (an API key or JWT)")
        transport = SocketIOTransport(url, Secret(token), opts)
    elif url is not None or token is not None:
        raise TypeError("connect(): pass a URL and token, or transport=, not both")
    if redact_pii and record_to is None:
        raise ValueError("redact_pii=True masks a recording: pass record_to=DIR as well")
    chosen = get_dialect(dialect)
    recorder = None
    if record_to is not None:
        recorder = Recorder(
            record_to, flush_interval=flush_interval, overwrite=overwrite, redact_pii=redact_pii
        )
    session = LiveSession(
        store if store is not None else Store(chosen, max_payload_bytes=opts.max_payload_bytes),
        transport,
        recorder=recorder,
        options=opts,
        record_source=source,
        loop=io_loop(),
    )
    await session.open()
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
