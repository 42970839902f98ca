"""Find and mask personal data in chat text: e-mails, phone numbers and card numbers.

Opt-in, for what leaves the process: ``gl.connect(..., record_to=DIR, redact_pii=True)``
masks what is written to the recording, ``gl.write_report(..., redact_pii=True)`` what is
written to the HTML report. In-memory capture is never changed (bots and the notebook see
the real text). Masks are ``[email]``, ``[phone]`` and ``[card]``:

>>> redact_pii("Soy ana.lopez@correo.es, llámame al +34 612 345 678")
'Soy [email], llámame al [phone]'

What counts (Spanish and English text):

- **e-mail**: ``local@domain.tld``.
- **card**: 13-19 digits, optionally grouped with spaces or dashes, starting with 2-6 (the
  card networks' ranges) and passing the Luhn check.
- **phone**: an international number (``+`` and 8-15 digits, ``0034`` for Spain); a Spanish
  one (9 digits starting with 6-9, bare or grouped 3-3-3, 3-2-2-2 or 2-3-2-2 with spaces or
  dashes); a North American one with separators (``(555) 123-4567``, ``555-123-4567``); a
  British one with a leading 0 and spaces (``020 7946 0958``, ``07700 900123``).

Kept: ids (``chat-000123``, ``v-612345678``), timestamps (``2025-01-15T10:00:00Z``, epoch
milliseconds), prices (``29.99``, ``1.299,00``), postcodes, short numbers. A bare 9-digit
number starting with 6-9 (an order number, say) is masked as a phone: with personal data a
false alarm is cheaper than a miss. An id that *is* an e-mail is masked too.
"""

from __future__ import annotations

import contextlib
import json
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, overload

import orjson
import pandas as pd
import pyarrow as pa

__all__ = [
    "PII_KINDS",
    "PiiMatch",
    "find_pii",
    "redact_field",
    "redact_frame",
    "redact_json",
    "redact_pii",
    "redact_table",
    "redact_value",
]

PII_KINDS = ("email", "card", "phone")  # in the order they are looked for

# Not inside a longer token: no word character, joining punctuation or digit group around.
_BEFORE = r"(?<![\w+.,/=#&%-])"
_AFTER = r"(?![\w@]|[.,/-]?\d)"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-]|\.\w)")
_CARD = re.compile(_BEFORE + r"[2-6](?:[ -]?\d){12,18}" + _AFTER)
_PHONE = re.compile(
    _BEFORE
    + "(?:"
    # Spain, with or without +34 / 0034
    + r"(?:(?:\+|\b00)34[ -]?)?"
    + r"(?:[6-9]\d{2}(?:[ -]?\d{3}){2}|[6-9]\d{2}(?:[ -]?\d{2}){3}"
    + r"|[89]\d[ -]?\d{3}(?:[ -]?\d{2}){2})"
    # anywhere else: + country code and digit groups (digits counted below)
    + r"|\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){2,6}"
    # North America, with separators only (a bare 10-digit run is too often an epoch)
    + r"|\(\d{3}\)[ ]?\d{3}[ .-]\d{4}|\d{3}([.-])\d{3}\1\d{4}"
    # United Kingdom, leading 0 and spaces
    + r"|0\d{2,4} \d{3,4}(?: ?\d{3,4})?"
    + ")"
    + _AFTER
)
_MASKS = {kind: f"[{kind}]" for kind in PII_KINDS}
_BIG_NUMBER = re.compile(r"\d{19}")
_UNREAD = object()
_ENOUGH_DIGITS = re.compile(r"(?:\d\D*){8}")  # fewer digits: no phone or card possible


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data found in a text: its kind and where it is."""

    kind: str
    start: int
    end: int
    text: str


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _card_end(text: str) -> int | None:
    """Where the card number in a card-like match ends: the whole match when it passes
    the Luhn check, else the longest prefix (>= 13 digits, cut between digit groups)
    that does, e.g. a card followed by its CVV or expiry; None when no prefix does."""
    if _luhn(_digits(text)):
        return len(text)
    for cut in range(len(text) - 1, 12, -1):
        if text[cut] in " -" and text[cut - 1].isdigit():
            head = text[:cut]
            digits = _digits(head)
            if len(digits) >= 13 and _luhn(digits):
                return cut
    return None


def _accept(kind: str, text: str) -> bool:
    if kind == "phone":
        n = len(_digits(text))
        if text.startswith("+"):
            return 8 <= n <= 15
        if text.startswith("0") and not text.startswith("0034"):
            return 10 <= n <= 11  # British numbers
        return n >= 9
    return True


_PATTERNS = (("email", _EMAIL), ("card", _CARD), ("phone", _PHONE))


def find_pii(text: str) -> list[PiiMatch]:
    """Every e-mail, card number and phone number in ``text``, in order of position.

    Kinds are looked for in the order of :data:`PII_KINDS`; a later kind never overlaps an
    earlier one (the digits of a card number are not also a phone number)."""
    found: list[PiiMatch] = []
    if not text or ("@" not in text and not _ENOUGH_DIGITS.search(text)):
        return found
    starts: list[int] = []  # of the matches of earlier kinds, sorted (they never overlap)
    for kind, pattern in _PATTERNS:
        new: list[PiiMatch] = []
        for m in pattern.finditer(text):
            start, end = m.span()
            if kind == "card":
                cut = _card_end(m.group())
                if cut is None:
                    continue
                end = start + cut
            elif not _accept(kind, m.group()):
                continue
            i = bisect_right(starts, start)  # neighbours only: linear in the text
            if (i and found[i - 1].end > start) or (i < len(starts) and starts[i] < end):
                continue
            new.append(PiiMatch(kind, start, end, text[start:end]))
        if new:
            found = sorted(found + new, key=lambda f: f.start)
            starts = [f.start for f in found]
    return found


def redact_pii(text: str, kinds: Iterable[str] = PII_KINDS) -> str:
    """``text`` with each e-mail, phone and card number replaced by ``[email]``,
    ``[phone]`` or ``[card]`` (only the given ``kinds``)."""
    wanted = set(kinds)
    unknown = wanted - set(PII_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; known: {list(PII_KINDS)}")
    parts, last = [], 0
    for f in find_pii(text):
        if f.kind in wanted:
            parts += [text[last : f.start], _MASKS[f.kind]]
            last = f.end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


# Any below: these take and give JSON-like values (decoded payloads and metadata, table
# cells), whatever they hold; only their strings are changed.
def redact_value(value: Any) -> Any:
    """Every string inside a JSON-like value (dicts, lists) masked; keys and numbers kept."""
    if isinstance(value, str):
        return redact_pii(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


@overload
def redact_json(raw: bytes) -> bytes: ...
@overload
def redact_json(raw: str) -> str: ...
def redact_json(raw: bytes | str) -> bytes | str:
    """A JSON document with its string values masked, in the same type (bytes or str).

    Works on the decoded values, never the JSON text, so escapes and structure stay valid.
    Text that is not JSON (a truncated preview) is masked as plain text. Unchanged input
    comes back as the very same object."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "@" not in text and not _ENOUGH_DIGITS.search(text):
        return raw
    value: Any = _UNREAD
    if _BIG_NUMBER.search(text) is None:  # orjson would round a big integer to a float
        with contextlib.suppress(orjson.JSONDecodeError):
            value = orjson.loads(raw)
    standard = value is _UNREAD
    if standard:
        try:  # big integers, NaN...: the slower standard library reads them exactly
            value = json.loads(text)
        except ValueError:  # not JSON (a truncated preview): mask it as text
            masked = redact_pii(text)
            if masked == text:
                return raw
            return masked.encode() if isinstance(raw, bytes) else masked
    masked_value = redact_value(value)
    if masked_value == value:
        return raw
    if standard:
        out = json.dumps(masked_value, ensure_ascii=False, separators=(",", ":")).encode()
    else:
        out = orjson.dumps(masked_value)
    return out if isinstance(raw, bytes) else out.decode()


def redact_field(value: Any) -> Any:
    """One stored text field masked: a JSON document (payload, metadata) by its values,
    other text as text; anything else unchanged."""
    if not isinstance(value, str):
        return value
    if value[:1] in ("{", "["):  # JSON payloads and metadata
        return redact_json(value)
    return redact_pii(value)


def redact_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text column masked (dtypes kept)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
            continue
        cache: dict[str, object] = {}

        def mask(value: object, cache: dict[str, object] = cache) -> object:
            if not isinstance(value, str):
                return value
            if value not in cache:
                cache[value] = redact_field(value)
            return cache[value]

        masked = series.map(mask, na_action="ignore")
        if any(k != v for k, v in cache.items()):
            out[column] = masked.astype(series.dtype)
    return out


def redact_table(table: pa.Table) -> pa.Table:
    """An Arrow table with every string column masked (schema and metadata kept)."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        values = table.column(i).to_pylist()
        masked = [redact_field(v) for v in values]
        if masked != values:
            table = table.set_column(i, field, pa.array(masked, type=field.type))
    return table
