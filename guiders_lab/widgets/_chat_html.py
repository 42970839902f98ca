"""The ChatInspector's HTML: a chat's header, timeline, transcript and bot actions."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Protocol, cast

import numpy as np
import pandas as pd
from pandas.api.typing import NaTType

__all__ = [
    "LOCAL_CLOCK",
    "SERVER_CLOCK",
    "clock",
    "render_actions",
    "render_header",
    "render_timeline",
    "render_transcript",
]

# the two clocks a session's times come from, named wherever times are shown: the server's
# (a simulator's is its compressed day) and this computer's (receipts, bots, actions)
SERVER_CLOCK = "server time (UTC)"
LOCAL_CLOCK = "this computer's time (UTC)"

# JupyterLab's theme variables (fallbacks outside Lab), so a bubble reads in Light and Dark:
# the text is always the theme's main text color on a background the theme tints; a role
# shows by its tint and its edge, never by a lighter text (contrast >= 4.5:1, tested).
_TEXT = "var(--jp-content-font-color1, #1f2328)"
_PAGE = "var(--jp-layout-color1, #ffffff)"


def _tint(color: str, percent: int) -> str:
    return f"color-mix(in srgb, {color} {percent}%, {_PAGE})"


_BRAND = "var(--jp-brand-color1, #1976d2)"
_SUCCESS = "var(--jp-success-color1, #388e3c)"
_BORDER = "var(--jp-border-color1, #bdbdbd)"
_ROLE_STYLE = {  # role: (background, alignment, edge)
    "visitor": ("var(--jp-layout-color2, #eef0f2)", "flex-start", _BORDER),
    "commercial": (_tint(_BRAND, 14), "flex-end", _BRAND),
    "ai": (_tint(_SUCCESS, 14), "flex-end", _SUCCESS),
    "system": ("transparent", "center", "transparent"),
}
_MOOD = {  # the sign of a sentiment score, shown by an edge beside the (main color) text
    "negative": "var(--jp-error-color1, #d32f2f)",
    "positive": _SUCCESS,
    "neutral": _BORDER,
}
_ALERT = "var(--jp-error-color1, #c62828)"


# The rows of the kit's tables as the inspector reads them (dtypes: store/arrow.py):
# text is a str (NaN when missing), a flag np.bool_ or pd.NA, a time Timestamp or NaT.
class _MessageRow(Protocol):
    sender_role: str | float
    is_ai: object
    ai_model: str | float
    confidence: float
    sender_name: str | float
    sent_at: pd.Timestamp | NaTType
    content: str


class _ActionRow(Protocol):
    decided_at: pd.Timestamp | NaTType
    bot: str | float
    mode: str
    name: str
    ok: object
    error_code: str | float
    payload: str


def _missing(value: object) -> bool:
    """``pd.isna`` of one cell: None, NaN, pd.NA or NaT."""
    # ignore: pandas-stubs' scalar type leaves out numpy's bool (np.True_), a cell of a
    # ``boolean`` column, which pd.isna takes
    return bool(pd.isna(value))  # type: ignore[call-overload]


def _esc(value: object) -> str:
    return (
        ""
        if value is None or (not isinstance(value, str) and _missing(value))
        else html.escape(str(value))
    )


def _offset(at: pd.Timestamp, origin: pd.Timestamp) -> str:
    if pd.isna(at) or pd.isna(origin):
        return ""
    seconds = int((at - origin).total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{sign}{minutes}m{secs:02d}s"


def _true(value: object) -> bool:
    """True for True-like values; False for False, None, NaN and pd.NA."""
    return value is not None and not _missing(value) and bool(value)


def clock(at: pd.Timestamp | NaTType | None) -> str:
    return "" if at is None or pd.isna(at) else at.strftime("%H:%M:%S")


def render_header(chat: pd.Series) -> str:
    """The chat's id, visitor, department, status, commercial and flags."""
    bits = [
        f"<b>{_esc(chat['chat_id'])}</b>",
        _esc(chat["visitor_name"]),
        _esc(chat["department"]),
        _esc(chat["language"]),
        f"status {_esc(chat['status'])}",
    ]
    if pd.notna(chat.get("commercial_id")):
        bits.append(f"commercial {_esc(chat['commercial_id'])}")
    if _true(chat.get("escalated")):
        bits.append(f"<b style='border-bottom:2px solid {_ALERT}'>⚠ urgent</b>")
    if pd.notna(chat.get("min_sentiment")):
        bits.append(f"lowest sentiment {chat['min_sentiment']:+.2f}")
    return "<div class='gl-chat-header'>" + " · ".join(b for b in bits if b) + "</div>"


def render_timeline(chat: pd.Series) -> str:
    """Created, first visitor message, assigned, first AI and human response, closed."""
    origin = chat["created_at"]
    steps = [
        ("created", chat["created_at"], ""),
        ("first visitor message", chat["first_visitor_message_at"], ""),
        (
            "assigned",
            chat["first_assigned_at"],
            f"{_esc(chat['commercial_id'])} · {int(chat['n_assignments'])} assignment(s)",
        ),
        ("first AI response", chat["first_ai_response_at"], ""),
        ("first human response", chat["first_human_response_at"], ""),
        (
            "closed",
            chat["closed_at"],
            f"{_esc(chat['close_reason'])}" + (" · converted" if _true(chat["converted"]) else ""),
        ),
    ]
    cells = "".join(
        f"<td style='padding:2px 10px 2px 0'><b>{label}</b><br>{clock(at)} "
        f"<small>{_offset(at, origin)}</small><br><small>{detail}</small></td>"
        for label, at, detail in steps
        if at is not None and not pd.isna(at)
    )
    return (
        f"<table class='gl-timeline'><tr>{cells}</tr></table>"
        f"<small class='gl-clock'>times: {SERVER_CLOCK}</small>"
    )


def render_transcript(
    messages: pd.DataFrame, chat: pd.Series, scorer: Callable[[str], object] | None
) -> str:
    """The messages as bubbles: role, name, time, AI model and confidence, sentiment."""
    scores = messages.get("sentiment_score")
    parts = []
    rows = cast(Iterator[_MessageRow], messages.itertuples(index=False))
    for i, m in enumerate(rows):
        role = m.sender_role if isinstance(m.sender_role, str) else "system"
        role = role if role in _ROLE_STYLE else "system"
        if _true(m.is_ai):
            role = "ai"
        background, align, edge = _ROLE_STYLE[role]
        badge = ""
        if role == "ai":
            model = f" {_esc(m.ai_model)}" if isinstance(m.ai_model, str) else ""
            confidence = (
                f" · {m.confidence:.0%}"
                if m.confidence is not None and not _missing(m.confidence)
                else ""
            )
            badge = f"<span class='gl-ai-badge'>AI{model}{confidence}</span> "
        mood = ""
        score = scores.iloc[i] if scores is not None else None
        if (score is None or pd.isna(score)) and scorer is not None and m.sender_role == "visitor":
            result = scorer(m.content)
            score = getattr(result, "score", result)
        if score is not None and not pd.isna(score):
            sign = "negative" if score <= -0.05 else "positive" if score >= 0.05 else "neutral"
            mood = (
                f" <span class='gl-mood gl-{sign}' style='border-left:4px solid {_MOOD[sign]};"
                f"padding-left:3px'>sentiment {score:+.2f}</span>"
            )
        parts.append(
            f"<div class='gl-message gl-{role}' style='display:flex;justify-content:{align}'>"
            f"<div style='background:{background};color:{_TEXT};border-radius:8px;"
            f"border-left:3px solid {edge};padding:4px 8px;margin:2px 0;max-width:80%'>"
            f"<small>{badge}"
            f"<b>{_esc(m.sender_name) or role}</b> ({role}) · {clock(m.sent_at)}"
            f"{mood}</small><br>{_esc(m.content)}</div></div>"
        )
    body = "".join(parts) or "<i>No messages yet.</i>"
    return (
        f"<div class='gl-transcript' data-chat='{_esc(chat['chat_id'])}' "
        f"style='max-height:420px;overflow-y:auto'>{body}</div>"
    )


def render_actions(rows: pd.DataFrame | None) -> str:
    """What bots did (or would have done) on the chat."""
    if rows is None or not len(rows):
        return "<small><i>No bot actions on this chat.</i></small>"
    lines = "".join(
        f"<tr><td>{clock(a.decided_at)}</td><td>{_esc(a.bot) or 'you'}</td>"
        f"<td>{_esc(a.mode)}</td><td>{_esc(a.name)}</td>"
        f"<td>{'–' if a.ok is None or _missing(a.ok) else '✓' if a.ok else '✗ '}"
        f"{_esc(a.error_code) if a.ok is False or a.ok is np.False_ else ''}"
        f"</td><td><code>{_esc(str(a.payload)[:90])}</code></td></tr>"
        for a in cast(Iterator[_ActionRow], rows.itertuples(index=False))
    )
    return (
        f"<b>Actions</b> <small class='gl-clock'>at: {LOCAL_CLOCK}</small>"
        "<table class='gl-actions'><tr><th>at</th><th>bot</th><th>mode"
        f"</th><th>action</th><th>ok</th><th>payload</th></tr>{lines}</table>"
    )
