"""The simulator's own Socket.IO packet codec: orjson, and no malformed packet lost.

The simulator shares no code with the client (a codec bug in the client must show up end
to end, not be mirrored by the server). Encoding with orjson keeps the server fast enough
for flood benchmarks; a client packet whose JSON cannot be decoded becomes an
``UNDECODABLE`` event, so the server can answer it with ``MALFORMED_PACKET`` instead of
python-socketio dropping it inside a background task.
"""

from __future__ import annotations

from typing import Any

import orjson
from socketio import packet

from ..events.records import UNDECODABLE

__all__ = ["SimPacket"]

_EVENT_TYPES = (packet.EVENT, packet.BINARY_EVENT)


class _Orjson:
    """The two functions python-socketio calls on a packet class's ``json``."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        return orjson.loads(text)


class SimPacket(packet.Packet):  # type: ignore[misc]  # python-socketio ships no types
    json = _Orjson

    def decode(self, encoded_packet: str | bytes) -> int:
        try:
            attachments: int = super().decode(encoded_packet)
        except Exception as exc:  # a malformed packet: keep it as an event to refuse
            return self._undecodable(f"{type(exc).__name__}: {exc}")
        if self.packet_type in _EVENT_TYPES:
            data = self.data
            if not (type(data) is list and data and type(data[0]) is str):
                return self._undecodable("event packet is not [name, ...args]")
        return attachments

    def _undecodable(self, error: str) -> int:
        self.packet_type = packet.EVENT
        self.namespace = "/"
        self.id = None
        self.attachment_count = 0
        self.data = [UNDECODABLE, {"error": error}]
        return 0
