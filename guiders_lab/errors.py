"""Exceptions raised by guiders-lab.

Every error a user can hit has its own class so notebooks can ``except`` precisely, and
none of them ever carries a token or API key in its message.
"""

from __future__ import annotations

__all__ = [
    "AckTimeoutError",
    "ActionError",
    "ActionExpiredError",
    "ActionQueueFullError",
    "AuthenticationError",
    "ConnectionFailedError",
    "GuidersLabError",
    "Interrupted",
    "NotConnectedError",
    "PayloadError",
    "ReplayReadOnlyError",
    "UnsupportedActionError",
]


class GuidersLabError(Exception):
    """Base class of every guiders-lab error."""


class PayloadError(GuidersLabError, ValueError):
    """An outgoing payload does not match the event's schema; nothing was sent.

    ``field`` is the JSON path of the offending field (``chatId``, ``updates.priority``).
    """

    def __init__(self, event: str, field: str | None, problem: str) -> None:
        self.event = event
        self.field = field
        self.problem = problem
        where = f" field {field!r}" if field else ""
        super().__init__(f"{event}:{where} {problem}; nothing was sent")


class AuthenticationError(GuidersLabError, ConnectionError):
    """The server refused the token (Socket.IO ``connect_error``)."""


class ConnectionFailedError(GuidersLabError, ConnectionError):
    """The server could not be reached over any allowed transport."""


class NotConnectedError(GuidersLabError, ConnectionError):
    """An action was attempted while the socket is down."""


class ActionError(GuidersLabError):
    """The server acknowledged an action with ``{ok: false, error: {code, message}}``."""

    def __init__(self, event: str, code: str, message: str) -> None:
        self.event = event
        self.code = code
        self.message = message
        super().__init__(f"{event} rejected by server: {code}: {message}")


class AckTimeoutError(GuidersLabError, TimeoutError):
    """The server did not acknowledge an action in time (it may or may not have acted)."""


class ActionQueueFullError(NotConnectedError):
    """The connection is down and the outbox is full: the action was not queued."""


class ActionExpiredError(NotConnectedError):
    """A queued action waited longer than ``outbox_ttl`` for the connection; dropped."""


class Interrupted(GuidersLabError):
    """A long call stopped by a kernel interrupt (or Ctrl-C): its work was stopped, and
    the message says where the results so far are. An ordinary exception, so the cell
    fails and Run All stops, as an interrupted pandas call does."""


class ReplayReadOnlyError(GuidersLabError):
    """A replay or a loaded recording has no server to act on: run bots in shadow mode."""


class UnsupportedActionError(ActionError):
    """The session's dialect has no way to carry this action (the deployed backend,
    ``guiders-v2``, has no endpoint for tags, notifications, suggestions or conversion
    triggers). Recorded in ``actions`` like any refused action; nothing was sent."""

    def __init__(self, event: str, dialect: str, hint: str = "") -> None:
        self.dialect = dialect
        message = f"the {dialect} dialect has no {event} (the backend offers no such action)"
        super().__init__(event, "UNSUPPORTED_ACTION", message + (f"; {hint}" if hint else ""))
