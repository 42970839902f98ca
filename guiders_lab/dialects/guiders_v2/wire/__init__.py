"""Wire shapes of the ``guiders-v2`` dialect (the deployed backend): :mod:`.server`
(socket events, REST bodies, the records they become) and :mod:`.client` (the canonical
actions and the channel each goes over). Schema only: the simulator reads these."""

from __future__ import annotations

from .client import CLIENT_EVENTS, REST_ACTIONS, SOCKET_ACTIONS, UNSUPPORTED
from .server import RECORDS, SERVER_EVENTS, UNDERSTOOD

__all__ = [
    "CLIENT_EVENTS",
    "RECORDS",
    "REST_ACTIONS",
    "SERVER_EVENTS",
    "SOCKET_ACTIONS",
    "UNDERSTOOD",
    "UNSUPPORTED",
]
