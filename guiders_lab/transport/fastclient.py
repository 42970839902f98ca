"""python-socketio's ``AsyncClient`` with a leaner receive path.

Stock python-engineio spends two asyncio tasks and three loop iterations per received
message: ``asyncio.wait_for`` wraps every websocket read in a task, and each message is
dispatched in a fresh background task. Our only handlers are quick, non-blocking functions
(the capture sink appends to a buffer), so this subclass dispatches messages inline and
uses aiohttp's own receive timeout. A plain event frame (``42["name", payload, meta]``:
the default namespace, no ack, no binary attachment), nearly every frame a busy account
sends, goes straight from the websocket to :meth:`FastAsyncClient.on_any_raw`'s handler:
split by msgspec into the event's name and its payload's JSON text, never parsed into
Python objects (the store decodes the payload into its record from those bytes). Every
other frame, and any frame the split refuses, takes the library's path. Everything else
(handshake, polling fallback, reconnection, acks) is the library's unchanged code.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
import engineio
import engineio.payload
import msgspec
import orjson
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from ..events.records import UNDECODABLE
from .fastjson import FastPacket
from .options import ConnectOptions

_CLOSE_WAIT_S = 1.0  # how long a forced close waits for the peer before letting go

__all__ = ["CatchAll", "FastAsyncClient", "RawCatchAll"]

log = logging.getLogger(__name__)

# python-engineio drops a polling response holding more than 16 packets by default; a busy
# account easily sends more between two polls.
engineio.payload.Payload.max_decode_packets = max(
    engineio.payload.Payload.max_decode_packets, 10_000
)


class CatchAll(Protocol):
    """``handler(event, *args)``: an event's name, then its Socket.IO arguments (JSON)."""

    def __call__(self, event: str, /, *args: Any) -> None: ...


class RawCatchAll(Protocol):
    """``handler(event, payload, meta)``: an event's name, the JSON text of its first
    argument, and its second when that is an object (``None`` otherwise)."""

    def __call__(self, event: str, payload: bytes, meta: dict[str, Any] | None, /) -> None: ...


def is_auth_status(message: str) -> bool:
    """An HTTP 401/403 during the Engine.IO handshake is a refused token too."""
    return "status code 401" in message or "status code 403" in message


# a Socket.IO event's data, each element left as JSON text; its name
_SPLIT = msgspec.json.Decoder(list[msgspec.Raw])
_NAME = msgspec.json.Decoder(str)


def _surrogate_escape(text: str) -> bool:
    """``\\ud...`` somewhere (or an escaped backslash before ``ud``: sent the slow way
    too). Found escape by escape: ``"\\ud" in text`` scans a non-ASCII frame at ~1 µs
    a kilobyte, a single character ~25 ns."""
    i = text.find("\\u")
    while i >= 0:
        if text[i + 2 : i + 3] in ("d", "D"):
            return True
        i = text.find("\\u", i + 2)
    return False


class _Watchdog:
    """Cancels a read task once no frame came for ``timeout`` seconds (give or take a
    quarter): a timer every quarter of it counts the quiet quarters, and the reader does
    nothing per frame but bump a counter."""

    _QUARTERS = 4

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float, task: asyncio.Task[Any] | None
    ) -> None:
        self.frames = 0
        self.fired = False
        self._loop, self._period, self._task = loop, timeout / self._QUARTERS, task
        self._seen = 0
        self._quiet = 0
        self._timer: asyncio.TimerHandle | None = loop.call_later(self._period, self._check)

    def _check(self) -> None:
        self._quiet = self._quiet + 1 if self.frames == self._seen else 0
        self._seen = self.frames
        if self._quiet >= self._QUARTERS and self._task is not None:
            self.fired = True
            self._task.cancel()
            self._timer = None
            return
        self._timer = self._loop.call_later(self._period, self._check)

    def absorb(self) -> bool:
        """Take back our own cancellation; False when someone else's is pending too."""
        if self._task is None:
            return True
        return self._task.uncancel() == 0

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


# python-socketio and python-engineio ship no types: their classes are ``Any`` to mypy
class _InlineEngineIOClient(engineio.AsyncClient):  # type: ignore[misc]
    on_oversized: Callable[[str], None] | None = None  # told when a frame was too big
    # takes a plain event frame whole; False: the library's path must take it
    on_event_frame: Callable[[str], bool] | None = None

    async def _receive_packet(self, pkt: eio_packet.Packet) -> None:
        data = pkt.data
        # a Socket.IO DISCONNECT ("1...") makes the library await this very read loop:
        # that one goes through the library's own task-per-message path
        inline = not (isinstance(data, str) and data[:1] == "1")
        if pkt.packet_type == eio_packet.MESSAGE and inline:
            handler = self.handlers.get("message")
            if handler is not None:
                try:
                    await handler(pkt.data)
                except Exception:  # the library logs and carries on too
                    log.exception("Socket.IO message handler failed")
            return
        await super()._receive_packet(pkt)

    async def _read_loop_websocket(self) -> None:
        """The library's loop, without its task per read, and without a timeout per read
        either (aiohttp's costs ~4 µs a frame): a watchdog timer cancels the read when
        nothing arrived for a ping interval plus its timeout, as the library's would."""
        timeout = self.ping_interval + self.ping_timeout
        loop = asyncio.get_running_loop()
        watch = _Watchdog(loop, timeout, asyncio.current_task())
        try:
            while self.state == "connected" and self.write_loop_task:
                try:
                    message = await self.ws.receive()
                except asyncio.CancelledError:
                    if not (watch.fired and watch.absorb()):
                        raise
                    log.info("websocket read ended: nothing for %.0f s", timeout)
                    await self.queue.put(None)
                    break
                except Exception as exc:  # reset, server gone: the library's cases
                    log.info("websocket read ended: %s", type(exc).__name__)
                    await self.queue.put(None)
                    break
                watch.frames += 1
                data = message.data
                if (
                    type(data) is str
                    and data[:3] == "42["
                    and self.on_event_frame is not None
                    and self.on_event_frame(data)
                ):
                    continue
                if not await self._other_frame(message):
                    break
        finally:
            watch.stop()
        if self.write_loop_task:
            await self.write_loop_task
        if self.state == "connected":
            await self._trigger_event("disconnect", self.reason.TRANSPORT_ERROR, run_async=False)
            with contextlib.suppress(ValueError):
                engineio.base_client.connected_clients.remove(self)
            await self._reset()

    async def _other_frame(self, message: aiohttp.WSMessage) -> bool:
        """A frame the fast path did not take, the library's way; False: the connection
        is over (closed by the server, or a frame that is no Engine.IO packet)."""
        data = message.data
        if not isinstance(data, str | bytes):
            too_big = getattr(data, "code", None) == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
            if too_big and self.on_oversized is not None:
                self.on_oversized(str(data))
            log.info("websocket closed by the server (%s)", message.type)
            await self.queue.put(None)
            return False
        try:
            pkt = eio_packet.Packet(encoded_packet=data)
        except Exception:
            log.info("undecodable Engine.IO packet; dropping the connection")
            await self.queue.put(None)
            return False
        await self._receive_packet(pkt)
        return True

    async def force_close(self) -> None:
        """Drop the connection now, without waiting for a pending long-poll to return."""
        self.state = "disconnected"
        for task in (self.read_loop_task, self.write_loop_task):
            if task is not None and not task.done():
                task.cancel()
        # a close handshake the server no longer answers (it dropped us) would wait for
        # aiohttp's own timeouts, about 20 s: bounded, then the session closes the socket
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_WAIT_S):
                    await self.ws.close()
        if self.http is not None and not self.http.closed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_WAIT_S):
                    await self.http.close()
        with contextlib.suppress(ValueError):
            engineio.base_client.connected_clients.remove(self)


class FastAsyncClient(socketio.AsyncClient):  # type: ignore[misc]
    """``socketio.AsyncClient`` whose Engine.IO layer dispatches messages inline, and
    whose catch-all handler (a plain function, see :meth:`on_any`) is called directly."""

    _binary_packet: object | None  # the library's: a binary packet awaiting attachments

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # the library's options
        super().__init__(*args, **kwargs)
        self._catch_all: CatchAll | None = None
        self._raw_catch_all: RawCatchAll | None = None
        self.eio.on_event_frame = self._event_frame

    @classmethod
    def configured(cls, o: ConnectOptions) -> FastAsyncClient:
        """A client set up as ``o`` says (reconnection, timeouts, frame limit), decoding
        with :class:`~.fastjson.FastPacket`; the library logs nothing of its own."""
        return cls(
            reconnection=o.reconnection,
            reconnection_attempts=o.reconnection_attempts,
            reconnection_delay=o.reconnection_delay,
            reconnection_delay_max=o.reconnection_delay_max,
            randomization_factor=o.randomization_factor,
            request_timeout=o.timeout,
            serializer=FastPacket,
            logger=False,
            engineio_logger=False,
            handle_sigint=False,
            websocket_extra_options={"max_msg_size": o.max_frame_bytes},
        )

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return _InlineEngineIOClient

    def on_any(self, handler: CatchAll) -> None:
        """Register ``handler(event, *args)`` for every event without its own handler."""
        if inspect.iscoroutinefunction(handler):
            raise TypeError("the fast catch-all handler must be a plain function")
        self.on("*", handler)
        self._catch_all = handler

    def on_any_raw(self, handler: RawCatchAll) -> None:
        """Hand plain event frames to ``handler`` as JSON text (see the module's doc);
        the others still go to the :meth:`on_any` handler."""
        self._raw_catch_all = handler

    def _event_frame(self, text: str) -> bool:
        """A ``42[...]`` frame straight to the raw handler; False (nothing done) when the
        library must read it: a binary packet awaiting its attachments, no payload,
        JSON that does not split (the library quarantines it), a name that is no string,
        a surrogate escape (``\\ud83d``: the library refuses a lone one)."""
        handler = self._raw_catch_all
        if handler is None or self._binary_packet is not None:
            return False
        if "\\" in text and _surrogate_escape(text):  # maybe a lone one: the library's
            return False  # parser refuses those, and the store must too
        try:
            data = _SPLIT.decode(text[2:])
            if len(data) < 2:
                return False
            name = _NAME.decode(data[0])
        except Exception:  # DecodeError, or RecursionError on absurd nesting
            return False
        meta = bytes(data[2]) if len(data) > 2 else b""
        # what the library's path keeps of the second argument: an object, else nothing
        handler(name, bytes(data[1]), orjson.loads(meta) if meta and meta[:1] == b"{" else None)
        return True

    async def _handle_event(self, namespace: str | None, id: int | None, data: list[Any]) -> None:
        """Every wire event (``data``: its JSON ``[name, *args]``) goes to the catch-all,
        even one named like a lifecycle event (``connect``, ``disconnect``): those only
        ever come from the library itself."""
        catch_all = self._catch_all
        if catch_all is None or namespace not in (None, "/"):
            await super()._handle_event(namespace, id, data)
            return
        catch_all(data[0], *data[1:])
        if id is not None:  # the server asked for an ack: send an empty one, as the library
            await self._send_packet(
                self.packet_class(sio_packet.ACK, namespace="/", id=id, data=[])
            )

    async def _handle_eio_message(self, data: str | bytes) -> None:
        """A binary attachment that does not fit its packet, or a text packet where an
        attachment was due, would leave the library waiting for attachments, reading later
        messages as one (and losing them): drop that packet, report it, and carry on."""
        if self._binary_packet is None:
            await super()._handle_eio_message(data)
            return
        if isinstance(data, str):  # a text packet: the attachment is not coming
            self._binary_packet = None
            if self._catch_all is not None:
                self._catch_all(
                    UNDECODABLE,
                    {"frame": "<binary packet>", "error": "binary packet without its attachment"},
                )
            await super()._handle_eio_message(data)
            return
        try:
            await super()._handle_eio_message(data)
        except Exception as exc:
            self._binary_packet = None
            if self._catch_all is not None:
                self._catch_all(
                    UNDECODABLE,
                    {"frame": "<binary attachment>", "error": f"bad binary attachment ({exc})"},
                )
