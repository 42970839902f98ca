"""Client actions of the ``guiders-v2`` dialect, as the kit's canonical action names.

The session's action methods speak one vocabulary, the reference page's (``message:send``,
``chat:assign``...), plus the two the deployed backend has and the page does not:
``chat:close`` and ``chat:leave``. The guiders-v2 transport carries each over the channel
the backend offers (REST or the socket) or refuses it (``UnsupportedActionError``), so bots
and the lab run unchanged on either dialect. Payloads are validated against these strict
shapes before anything is sent.
"""

from __future__ import annotations

import msgspec

from ...ai_api.wire.client import CLIENT_EVENTS as PAGE_EVENTS

__all__ = ["CLIENT_EVENTS", "REST_ACTIONS", "SOCKET_ACTIONS", "UNSUPPORTED", "ChatRef"]


class ChatRef(msgspec.Struct, rename="camel", forbid_unknown_fields=True, omit_defaults=True):
    """``chat:close`` / ``chat:leave``: just the chat."""

    chat_id: str


CLIENT_EVENTS: dict[str, type[msgspec.Struct]] = {
    **{name: shape for name, shape in PAGE_EVENTS.items() if name != "state:sync"},
    "chat:close": ChatRef,
    "chat:leave": ChatRef,
}

# how the transport carries each action to the deployed backend
REST_ACTIONS = frozenset({"message:send", "chat:assign", "chat:close"})
SOCKET_ACTIONS = frozenset({"chat:join", "chat:leave", "typing:start", "typing:stop", "ping"})
UNSUPPORTED = frozenset(
    {"chat:update", "notification:send", "assistance:suggestions", "trigger:high_conversion_flow"}
)
assert set(CLIENT_EVENTS) == REST_ACTIONS | SOCKET_ACTIONS | UNSUPPORTED
