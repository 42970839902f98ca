"""Keep tokens and API keys out of reprs, logs, exceptions and files."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["Secret", "redact_text", "redact_url", "spellings", "url_secrets"]

_SECRET_QUERY_KEYS = re.compile(
    r"(token|key|secret|pass|pwd|auth|bearer|jwt|signature|^sig$|^code$|credential|private"
    r"|session|^sid$|access)",
    re.I,
)
_BARE_KEY_LENGTH = 12  # a long query word with no value (``?sk-...``) is a key, not a flag


def _query(query: str) -> list[tuple[str, str]]:
    """Query pairs, split on ``;`` as well as ``&`` (servers accept both)."""
    return parse_qsl(query.replace(";", "&"), keep_blank_values=True)


def _secret_pair(key: str, value: str) -> bool:
    return bool(
        _SECRET_QUERY_KEYS.search(key)
        or (not value and len(key) >= _BARE_KEY_LENGTH)
        or ("=" in value and _SECRET_QUERY_KEYS.search(value))  # a URL inside a parameter
    )


class Secret:
    """A string that never shows itself: ``repr``/``str`` print a mask, ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"a token must be a string, got {type(value).__name__}")
        if not value:
            raise ValueError("a token must not be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> str:  # never pickled into a recording by accident
        raise TypeError("Secret values cannot be pickled")


def _redacted_pair(key: str, value: str) -> tuple[str, str]:
    if not _secret_pair(key, value):
        return key, value
    return (key, "***") if value else ("***", "")  # a bare secret word: the key itself


def redact_url(url: str) -> str:
    """Drop user info and secret-looking query parameters from a URL."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 address keeps its brackets
        netloc = f"[{netloc}]"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = [_redacted_pair(k, v) for k, v in _query(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL that :func:`redact_url` drops (password, secret-looking
    query values, a key given as the user name as in ``https://sk-...@proxy/v1``), to
    scrub from error texts that may quote the URL."""
    parts = urlsplit(url)
    found = [unquote(parts.password)] if parts.password else []
    if parts.username and not parts.password and len(parts.username) >= 12:
        found.append(unquote(parts.username))  # a long bare user name is a key, not a name
    found += [v or k for k, v in _query(parts.query) if _secret_pair(k, v)]
    found += [quote(v, safe="") for v in found]  # as the URL text may spell them
    return list(dict.fromkeys(v for v in found if v))


def spellings(value: str) -> list[str]:
    """A secret as text may quote it: raw, and percent-encoded as a URL would carry it."""
    return list(dict.fromkeys([value, quote(value, safe=""), quote_plus(value)]))


def redact_text(text: str, secrets: list[str]) -> str:
    """Replace every occurrence of the given secret strings with ``***``."""
    for value in sorted(secrets, key=len, reverse=True):  # longest first: no partial leftovers
        if value:
            text = text.replace(value, "***")
    return text
