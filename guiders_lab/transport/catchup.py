"""What a reconnect restores: the chat rooms joined, and the account events missed.

The page's ``restaurarEstado`` / ``sincronizarEstado`` (``ManejadorReconexion``): once the
live transport is connected again, :class:`Catchup` re-joins every room the session
joined and asks the server (``state:sync``) for what it sent while the link was down; the
store dedupes whatever it already had.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .base import Ack, Sink
from .options import ConnectOptions

__all__ = ["Call", "Catchup"]

log = logging.getLogger(__name__)

Call = Callable[[str, dict[str, Any], float], Awaitable[Ack]]  # (event, JSON payload, timeout)


class Catchup:
    """The rooms to re-join and the resyncs so far, for one live transport that sends
    through ``call`` (its own :meth:`~guiders_lab.transport.Transport.call`)."""

    def __init__(self, call: Call, source: str, options: ConnectOptions) -> None:
        self._call = call
        self.source = source  # secrets removed: it goes into log lines
        self.options = options
        self.rooms: dict[str, dict[str, Any]] = {}  # chat_id -> chat:join payload
        # where to resume the account stream from after a reconnect, and what it brought
        self.sync_supported = True
        self.resyncs = self.replayed = self.resync_incomplete = 0

    async def restore(self, sink: Sink | None) -> None:
        """After a reconnect: rejoin rooms, ask for the events missed while away, then let
        the session go on (e.g. deliver the actions queued meanwhile)."""
        try:
            if self.rooms:
                await self._rejoin_rooms()
            await self._resync(sink)
        finally:  # whatever the server answered, queued actions go out now
            if sink is not None:
                sink.restored()

    async def _resync(self, sink: Sink | None) -> None:
        since = sink.resume_from() if sink is not None else None
        if since is None or not self.sync_supported:
            return
        try:
            ack = await self._call(
                "state:sync",
                {"sinceSeq": since, "maxFrameBytes": self.options.max_frame_bytes},
                self.options.ack_timeout,
            )
        except Exception as exc:  # the stream goes on; the gap stays visible in metrics
            log.warning("could not resync after reconnecting to %s: %s", self.source, exc)
            return
        if not isinstance(ack, dict):
            ack = {}
        if ack.get("ok") is False:
            error = ack.get("error")
            code = error.get("code") if isinstance(error, dict) else error
            if code in ("UNKNOWN_EVENT", "Unknown event"):
                self.sync_supported = False
                log.info("%s does not support state:sync; gaps will not be refilled", self.source)
            else:
                log.warning("%s refused state:sync: %r", self.source, error)
            return
        self.resyncs += 1
        replayed = ack.get("replayed")
        if type(replayed) is int:
            self.replayed += replayed
        skipped = ack.get("skipped")
        for item in skipped if isinstance(skipped, list) else ():
            try:  # the server's account of what it left out; junk in it is ignored
                seq, event, size = int(item["seq"]), str(item["event"]), int(item["bytes"])
                if not (0 <= seq < 2**63 and 0 <= size < 2**63 and len(event) <= 256):
                    raise ValueError("out of range")
            except (TypeError, KeyError, ValueError):
                log.warning("ignored a malformed skipped entry in state:sync: %.200r", item)
                continue
            if sink is not None:
                sink.skipped_by_server(seq, event, size)
        if ack.get("complete", True) is False:
            self.resync_incomplete += 1
            log.warning("%s no longer had every missed event (buffer exceeded)", self.source)

    async def _rejoin_rooms(self) -> None:
        for chat_id, payload in list(self.rooms.items()):
            try:
                await self._call("chat:join", payload, self.options.ack_timeout)
            except Exception as exc:
                log.warning("could not rejoin room of chat %s: %s", chat_id, exc)

    def stats(self) -> dict[str, object]:
        return {
            "rooms": len(self.rooms),
            "resyncs": self.resyncs,
            "replayed_events": self.replayed,
            "resyncs_incomplete": self.resync_incomplete,
        }
