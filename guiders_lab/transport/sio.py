"""Live transport: a python-socketio ``AsyncClient`` configured like the reference page.

Implements the page's connection patterns: auth with token, userAgent and capabilities;
websocket first with polling as fallback; reconnection with delay, attempts and timeout;
rooms re-joined after a reconnect (``ManejadorReconexion``); consecutive-error counting,
disconnect at the maximum and recovery with exponential backoff and jitter
(``ManejadorErroresWS``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import socketio

from ..errors import AuthenticationError, ConnectionFailedError, NotConnectedError
from ..events.records import UNDECODABLE
from ..secrets import Secret, redact_text, redact_url, spellings, url_secrets
from .base import Ack, LinkState, Sink
from .catchup import Catchup
from .fastclient import FastAsyncClient, is_auth_status
from .options import ConnectOptions

__all__ = ["ConnectOptions", "SocketIOTransport"]

log = logging.getLogger(__name__)


class SocketIOTransport:
    """One Socket.IO connection to a Guiders server, kept alive until :meth:`close`.

    python-socketio reconnects on its own; when it gives up, or after ``max_errors``
    consecutive errors, this transport starts a fresh client with exponential backoff.
    Handlers are bound to the client they came from, so a discarded client's late
    callbacks cannot touch the current connection's state.
    """

    def __init__(
        self,
        url: str,
        token: Secret,
        options: ConnectOptions | None = None,
        *,
        auth: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        restore: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``auth`` replaces the handshake's ``auth`` dict (asked on every connect) and
        ``restore`` the after-reconnect step (see :meth:`_restore`): another dialect's hooks."""
        self.url = url
        self._token = token
        self._auth_hook, self._restore_hook = auth, restore
        # everything secret the URL may hold, the token too under any query key
        self._secrets = [*url_secrets(url), *spellings(token.reveal())]
        self.safe_url = redact_text(redact_url(url), self._secrets)
        self.options = options or ConnectOptions()
        self._sio: FastAsyncClient | None = None  # the live client
        self._attempt: FastAsyncClient | None = None  # a client being connected
        self._sink: Sink | None = None
        self._closing = False
        self._ever_connected = False
        self._connect_error: str | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[asyncio.Future[Ack]] = set()  # calls awaiting an ack
        self._dropped: set[asyncio.Future[Ack]] = set()  # ... cancelled by a lost connection
        self._state = LinkState.NEW
        self.transport_name: str | None = None
        self.connected_since: float | None = None
        self.reconnections = 0
        self.disconnects = 0
        self.errors = 0
        self.consecutive_errors = 0
        self.recoveries = 0
        self.last_disconnect_reason: str | None = None
        self.oversized_frames = 0
        self.catchup = Catchup(self.call, self.safe_url, self.options)  # rooms and resyncs

    def __repr__(self) -> str:
        return f"<SocketIOTransport {self.safe_url} {self._state}>"

    kind = "live"

    @property
    def source(self) -> str:
        return self.safe_url

    @property
    def state(self) -> LinkState:
        return self._state

    # ------------------------------------------------------------------ lifecycle
    @property
    def connected(self) -> bool:
        # the namespace map, not ``sio.connected``: it is already set while the connect
        # handler runs, so rooms can be re-joined from that handler
        return self._sio is not None and "/" in self._sio.namespaces

    async def start(self, sink: Sink) -> None:
        self._sink = sink
        await self._connect()

    def _auth(self) -> dict[str, Any]:
        # a callable, so python-socketio asks again on every reconnect and never keeps a copy
        return {
            "token": self._token.reveal(),
            "userAgent": self.options.user_agent,
            "capabilities": list(self.options.capabilities),
        }

    def _new_client(self) -> FastAsyncClient:
        sio = FastAsyncClient.configured(self.options)
        sio.on_any(self._on_event)
        sio.on_any_raw(self._on_event_json)
        sio.eio.on_oversized = self._on_oversized
        sio.on("connect", functools.partial(self._on_connect, sio))
        sio.on("disconnect", functools.partial(self._on_disconnect, sio))
        sio.on("connect_error", functools.partial(self._on_connect_error, sio))
        sio.on("__disconnect_final", functools.partial(self._on_gave_up, sio))
        return sio

    def _current(self, sio: FastAsyncClient) -> bool:
        return sio is self._sio or sio is self._attempt

    async def _connect(self) -> None:
        """Connect over the first transport that works (websocket, then polling)."""
        self._state = LinkState.CONNECTING
        order = list(self.options.transports)
        failures = []
        for i, name in enumerate(order):
            sio = self._attempt = self._new_client()
            self._connect_error = None
            try:
                await sio.connect(
                    self.url,
                    headers=dict(self.options.headers),
                    auth=self._auth_hook or self._auth,
                    transports=order[i:],
                    socketio_path=self.options.path,
                    wait_timeout=self.options.timeout,
                )
            except BaseException as exc:
                if not isinstance(exc, socketio.exceptions.ConnectionError | ValueError | OSError):
                    self._attempt = None  # cancelled (or a bug): leave no hidden connection
                    await asyncio.shield(self._discard(sio))
                    raise
                refused = bool(sio.failed_namespaces) or is_auth_status(str(exc))
                self._attempt = None
                await self._discard(sio)
                if refused:
                    self._state = LinkState.REFUSED
                    reason = self._connect_error or self._clean(str(exc))
                    raise AuthenticationError(
                        f"{self.safe_url} refused the connection: {reason}"
                    ) from None
                failures.append(f"{name}: {self._clean(str(exc)) or type(exc).__name__}")
                continue
            self._sio, self._attempt = sio, None
            self.transport_name = sio.transport()
            self._state = LinkState.CONNECTED
            return
        self._state = LinkState.FAILED
        raise ConnectionFailedError(f"could not connect to {self.safe_url} ({'; '.join(failures)})")

    async def _discard(self, sio: FastAsyncClient) -> None:
        """Shut a client down politely, or by force after a moment: with polling, a polite
        disconnect waits for the pending long-poll, which some servers hold for 25 s."""
        try:
            async with asyncio.timeout(2.0):  # not wait_for, which can swallow a cancel on 3.11
                await sio.shutdown()
        except Exception:  # timed out, or a half-open client failed to shut down
            log.debug("forcing the socket closed", exc_info=True)
        finally:
            await sio.eio.force_close()  # also releases a failed attempt's HTTP session

    def _clean(self, text: str) -> str:
        return redact_text(text, self._secrets)

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        self._fail_inflight()
        for sio in (self._sio, self._attempt):
            if sio is not None:
                await self._discard(sio)
        self._sio = self._attempt = None
        self._state = LinkState.CLOSED
        self.connected_since = None
        if self._sink is not None:
            self._sink.ended()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a background task tied to this connection's lifetime."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ socket events
    def _on_event(self, event: str, *args: Any) -> None:
        """The catch-all handler: the capture hot path (``args``: the event's JSON)."""
        assert self._sink is not None  # start() set it before any client was made
        self._sink.ingest(event, args, time.time())
        if event == "error":
            self._note_error("server error event")

    def _on_event_json(self, event: str, payload: bytes, meta: dict[str, Any] | None) -> None:
        """The hot path for plain event frames: the store decodes the JSON text itself."""
        assert self._sink is not None  # start() set it before any client was made
        self._sink.ingest_json(event, payload, meta, time.time(), utf8=True)
        if event == "error":
            self._note_error("server error event")

    def _on_oversized(self, error: str) -> None:
        """A frame over ``max_frame_bytes`` closed the connection before it was read:
        the event is lost to this connection; say so in quarantine, then reconnect."""
        self.oversized_frames += 1
        limit = self.options.max_frame_bytes
        log.warning("refused a frame over %s bytes from %s", f"{limit:,}", self.safe_url)
        reason = f"frame over the {limit:,}-byte limit refused, connection reset ({error})"
        frame = {"frame": "<oversized frame>", "error": reason}
        if self._sink is not None:
            self._sink.ingest(UNDECODABLE, (frame,), time.time())

    async def _on_connect(self, sio: FastAsyncClient) -> None:
        if not self._current(sio):
            return
        self.consecutive_errors = 0  # page: reset the counter on a good connection
        self.connected_since = time.time()
        self._state = LinkState.CONNECTED
        if self._ever_connected:
            self.reconnections += 1
            if self._sink is not None:  # before any event of this connection
                self._sink.reconnected(self.connected_since)
            log.info("reconnected to %s (reconnection %d)", self.safe_url, self.reconnections)
            if sio is self._sio:  # python-socketio's reconnect (a recovery restores itself)
                self._spawn(self._restore())
        self._ever_connected = True

    def _on_disconnect(self, sio: FastAsyncClient, reason: object = None) -> None:
        if sio is not self._sio:
            return
        self.disconnects += 1
        self.connected_since = None
        self.last_disconnect_reason = str(reason)
        self._fail_inflight()
        if not self._closing and self._state is not LinkState.RECOVERING:
            self._state = LinkState.RECONNECTING
            log.warning("disconnected from %s: %s", self.safe_url, reason)

    def _fail_inflight(self) -> None:
        """Acks of a lost connection never come: fail those calls now, not at timeout."""
        for call in list(self._inflight):
            self._dropped.add(call)
            call.cancel()

    def _on_connect_error(self, sio: FastAsyncClient, data: object = None) -> None:
        if not self._current(sio):
            return
        message = data.get("message") if isinstance(data, dict) else data
        self._connect_error = self._clean(str(message or "connection refused"))
        self._note_error(f"connect_error: {self._connect_error}")
        if sio is self._sio and self._state is LinkState.CONNECTED and not self._closing:
            # mid-session: python-socketio left the namespace but kept the socket open, so
            # nothing could be sent and nothing would reconnect: start again from scratch
            log.warning(
                "%s rejected the session mid-stream (%s); reconnecting",
                self.safe_url,
                self._connect_error,
            )
            self.disconnects += 1
            self.connected_since = None
            self.last_disconnect_reason = f"connect_error: {self._connect_error}"
            self._start_recovery()

    def _on_gave_up(self, sio: FastAsyncClient, *_: object) -> None:
        """python-socketio used up its reconnection attempts: switch to slow recovery."""
        if sio is self._sio and not self._closing:
            log.warning(
                "reconnection attempts exhausted for %s; recovering with backoff", self.safe_url
            )
            self._start_recovery()

    async def _restore(self) -> None:
        """After a reconnect: rooms, missed events, then the session goes on (see
        :class:`~.catchup.Catchup`), or the ``restore`` hook instead."""
        hook = self._restore_hook
        await (hook() if hook is not None else self.catchup.restore(self._sink))

    # ------------------------------------------------------------------ errors and recovery
    def _note_error(self, what: str) -> None:
        self.errors += 1
        self.consecutive_errors += 1
        log.debug("error %d/%d: %s", self.consecutive_errors, self.options.max_errors, what)
        if (
            self.consecutive_errors >= self.options.max_errors
            and self._state is LinkState.CONNECTED
        ):
            log.error(
                "%d consecutive errors from %s; disconnecting to recover",
                self.consecutive_errors,
                self.safe_url,
            )
            self._start_recovery()

    def _note_ok(self) -> None:
        """Any acknowledgement, even ``{ok: false}``, proves the link works: errors are no
        longer consecutive. So rejected actions alone never drop a healthy connection;
        ``error`` events with no answered action (or failed connects) do."""
        self.consecutive_errors = 0

    def _start_recovery(self) -> None:
        if self._closing or (self._recovery is not None and not self._recovery.done()):
            return
        self._state = LinkState.RECOVERING
        self._recovery = self._spawn(self._recover())

    async def _recover(self) -> None:
        """Drop the current client, then reconnect from scratch with exponential backoff
        and jitter until it works (the page's ``intentarRecuperacion``)."""
        if self._inflight:  # let acks already on their way arrive before we cut the link
            await asyncio.wait(list(self._inflight), timeout=1.0)
        was_connected = self.connected
        old, self._sio = self._sio, None
        self._fail_inflight()
        if was_connected:  # we drop it ourselves (too many errors), python-socketio did not
            self.disconnects += 1
            self.connected_since = None
        if old is not None:
            await self._discard(old)
        o = self.options
        attempt = 0
        while not self._closing:
            delay = min(o.recovery_delay * 2**attempt, o.recovery_delay_max)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            attempt += 1
            self.recoveries += 1
            try:
                await self._connect()
            except AuthenticationError:
                log.error("recovery stopped: %s refused the token", self.safe_url)
                return
            except ConnectionFailedError as exc:
                log.warning("recovery attempt %d failed: %s", attempt, exc)
                self._state = LinkState.RECOVERING
                continue
            await self._restore()
            return

    # ------------------------------------------------------------------ actions
    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        sio = self._sio
        if sio is None or not self.connected:
            raise NotConnectedError(
                f"cannot send {event}: not connected to {self.safe_url} (state: {self.state})"
            )
        call = asyncio.ensure_future(sio.call(event, payload, timeout=timeout))
        self._inflight.add(call)
        try:
            ack = await call
        except socketio.exceptions.TimeoutError:  # the seam's word for it: TimeoutError
            raise TimeoutError(f"{event}: no acknowledgement within {timeout} s") from None
        except asyncio.CancelledError:
            if call not in self._dropped:
                raise  # the caller was cancelled
            raise NotConnectedError(
                f"{event}: the connection to {self.safe_url} dropped before the server "
                "acknowledged it (it may or may not have been applied)"
            ) from None
        finally:
            self._inflight.discard(call)
            self._dropped.discard(call)
        self._note_ok()  # any ack, even a refusal, proves the link works
        refused = isinstance(ack, dict) and ack.get("ok") is False
        if event == "chat:join" and not refused:  # re-joined after every reconnect
            self.catchup.rooms[payload["chatId"]] = payload
        return ack

    def stats(self) -> dict[str, object]:
        return {
            "state": self.state,
            "connected": self.connected,
            "transport": self.transport_name,
            "connection_uptime_s": (
                time.time() - self.connected_since if self.connected_since else 0.0
            ),
            "reconnections": self.reconnections,
            "disconnects": self.disconnects,
            "recoveries": self.recoveries,
            "errors": self.errors,  # server `error` events and refused/failed connects
            "consecutive_errors": self.consecutive_errors,
            **self.catchup.stats(),
            "oversized_frames": self.oversized_frames,
        }
