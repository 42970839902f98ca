"""Who wrote a ``guiders-v2`` message.

The backend's ``message:new`` carries a ``senderId`` and nothing else about the sender
(its own mapper guesses "visitor" for every person). Machine senders have fixed ids
(``ai``, ``system``, ``integration:<senderType>``); a person is the chat's visitor or,
otherwise, staff. So the decoder remembers, per session, each chat's visitor and the ids
it has seen as visitors or commercials, from every event that says so. The kit only
receives a chat's messages after joining its room, which it does once it has seen the
chat (``chat:created`` or ``rest:chat``, both naming the visitor): the chat's visitor is
always known by then, live, replayed or rebuilt (journal order).
"""

from __future__ import annotations

__all__ = ["Directory", "message_type"]

_INTEGRATION_ROLES = {"bot": "bot", "agent": "commercial", "system": "system"}
# the backend's UPPERCASE kinds that say who wrote it
_KIND_BY_TYPE = {
    "AI": "ai-response",
    "SYSTEM": "system",
    "ASSIGNMENT": "system",
    "TRANSFER": "system",
}
# the page's message ``type`` for each role, for person-written kinds (TEXT, FILE, IMAGE)
_KIND_BY_ROLE = {
    "visitor": "user",
    "commercial": "commercial",
    "ai": "ai-response",
    "bot": "ai-response",
    "system": "system",
}


class Directory:
    """Chat -> visitor, and the people seen as visitors or as commercials (bounded by
    the account's size: ids, not events)."""

    __slots__ = ("chat_visitor", "commercials", "visitors")

    def __init__(self) -> None:
        self.chat_visitor: dict[str, str] = {}
        self.visitors: set[str] = set()
        self.commercials: set[str] = set()

    def visitor_of(self, chat_id: str, visitor_id: str | None) -> None:
        if visitor_id:
            self.chat_visitor[chat_id] = visitor_id
            self.visitors.add(visitor_id)

    def person(self, person_id: str, user_type: str | None) -> None:
        if user_type == "visitor":
            self.visitors.add(person_id)
        elif user_type == "commercial":
            self.commercials.add(person_id)

    def role(self, chat_id: str, sender_id: str, is_ai: bool) -> str | None:
        """The sender's role: ``ai``, ``system``, ``bot``, ``visitor``, ``commercial``,
        or ``None`` when nothing seen so far says."""
        if is_ai or sender_id == "ai":
            return "ai"
        if sender_id == "system":
            return "system"
        if sender_id.startswith("integration:"):
            kind = sender_id.removeprefix("integration:")
            return _INTEGRATION_ROLES.get(kind, kind or None)
        visitor = self.chat_visitor.get(chat_id)
        if visitor is not None:
            return "visitor" if sender_id == visitor else "commercial"
        if sender_id in self.commercials:
            return "commercial"
        if sender_id in self.visitors:
            return "visitor"
        return None


def message_type(wire_type: str, role: str | None) -> str:
    """The page's message ``type`` for the backend's UPPERCASE one (TEXT, FILE, IMAGE,
    SYSTEM, TRANSFER, ASSIGNMENT, AI): who wrote it decides for person-written kinds."""
    kind = _KIND_BY_TYPE.get(wire_type.upper())
    if kind is not None:
        return kind
    return _KIND_BY_ROLE.get(role or "", wire_type.lower())
