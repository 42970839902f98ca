"""Who wrote a message: the one definition the chats table, the analysis and the dialects
share (the README's "Metrics" glossary says the same in words).

* an **AI response**: the message is flagged ``is_ai`` (the dialect sets it for
  ``type: 'ai-response'``) or its sender's role is one of :data:`AI_ROLES`;
* a **human response**: a commercial wrote it (role ``commercial``, or
  ``type: 'commercial'``) and it is not an AI response;
* anything else from anyone but the visitor (a system notice) answers nothing.
"""

from __future__ import annotations

__all__ = ["AI_ROLES", "is_ai_message", "is_human_response"]

AI_ROLES = frozenset({"ai", "bot", "assistant"})


def is_ai_message(is_ai: bool | None, role: str | None) -> bool:
    """An AI wrote it: flagged ``is_ai`` or sent with an AI role."""
    return bool(is_ai) or role in AI_ROLES


def is_human_response(is_ai: bool | None, role: str | None, kind: str | None) -> bool:
    """A commercial (a person) wrote it."""
    return not is_ai_message(is_ai, role) and (role == "commercial" or kind == "commercial")
