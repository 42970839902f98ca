"""Chat message text for the Guiders simulator, in Spanish (Spain) and English.

Support chats on an online sports shop (running shoes, sportswear, fitness gadgets,
"plan Premium" subscriptions), drawn from the phrase files (see :mod:`.phrasebook`). Every
function takes the caller's ``random.Random`` and uses nothing else, so a seeded simulation
replays exactly the same conversation.

Unknown languages fall back to ``"es"``, unknown departments to ``"support"``, unknown moods
to ``"neutral"``, and anger levels are clamped to 1..3.
"""

from __future__ import annotations

import random
import re

from .phrasebook import DEPARTMENTS, LANGUAGES, MOODS, phrases, shared

__all__ = [
    "DEPARTMENTS",
    "LANGUAGES",
    "MOODS",
    "commercial_answer",
    "commercial_apology",
    "commercial_closing",
    "commercial_greeting",
    "commercial_name",
    "follow_up",
    "opening",
    "page_for",
    "visitor_after_ai",
    "visitor_gives_up",
    "visitor_name",
    "visitor_reply",
    "visitor_thanks",
]

_SLOT_RE = re.compile(r"\{(\w+)\}")


def _fill(rng: random.Random, template: str, lang: str) -> str:
    """Replace each ``{slot}`` in ``template``, left to right, with a value drawn from ``rng``."""

    def slot(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "order":
            return f"{'US' if lang == 'en' else 'ES'}-{rng.randint(10000, 99999)}"
        if name == "amount":
            euros, cents = rng.randint(9, 189), rng.choice((0, 50, 90, 95, 99))
            return f"${euros}.{cents:02d}" if lang == "en" else f"{euros},{cents:02d} €"
        if name == "days":
            return str(rng.randint(2, 10))
        if name == "minutes":
            return str(rng.choice((5, 10, 15, 20, 25, 30)))
        words = phrases(lang).vocab.get(name) or shared().vocab.get(name)
        if words is None:
            raise KeyError(f"unknown template slot {{{name}}} in {template!r}")
        return rng.choice(words)

    return _SLOT_RE.sub(slot, template)


def _lang(lang: str) -> str:
    key = lang.strip().lower() if isinstance(lang, str) else ""
    return key if key in LANGUAGES else "es"


def _dept(department: str) -> str:
    key = department.strip().lower() if isinstance(department, str) else ""
    return key if key in DEPARTMENTS else "support"


def _mood(mood: str) -> str:
    key = mood.strip().lower() if isinstance(mood, str) else ""
    return key if key in MOODS else "neutral"


def _pick(rng: random.Random, pool: tuple[str, ...], lang: str) -> str:
    return _fill(rng, rng.choice(pool), lang)


def visitor_name(rng: random.Random, lang: str) -> str:
    """A realistic first name and surname for a visitor writing in ``lang``."""
    book = phrases(_lang(lang))
    return f"{rng.choice(book.first_names)} {rng.choice(book.surnames)}"


def commercial_name(rng: random.Random) -> str:
    """A Spanish agent name with the surname initial, e.g. ``"Lucía M."``."""
    book = phrases("es")
    return f"{rng.choice(book.first_names)} {rng.choice(book.surnames)[0]}."


def page_for(rng: random.Random, department: str) -> str:
    """A site path a visitor of ``department`` would plausibly be on."""
    return _pick(rng, shared().pages[_dept(department)], "es")


def opening(rng: random.Random, lang: str, department: str, mood: str) -> str:
    """The first message of a visitor opening a chat."""
    key = _lang(lang)
    return _pick(rng, phrases(key).openings[(_dept(department), _mood(mood))], key)


def follow_up(rng: random.Random, lang: str, department: str, anger: int) -> str:
    """A nudge from a visitor left waiting; ``anger`` 1 is mild, 3 or more is escalation."""
    key = _lang(lang)
    return _pick(rng, phrases(key).follow_ups[max(1, min(3, int(anger)))], key)


def visitor_reply(rng: random.Random, lang: str, department: str, mood: str) -> str:
    """A visitor's message after a commercial answered (details, a second question)."""
    key = _lang(lang)
    return _pick(rng, phrases(key).replies[_mood(mood)], key)


def visitor_after_ai(rng: random.Random, lang: str, satisfied: bool) -> str:
    """The visitor's reaction to an automated AI reply."""
    key = _lang(lang)
    return _pick(rng, phrases(key).after_ai[bool(satisfied)], key)


def visitor_thanks(rng: random.Random, lang: str) -> str:
    """A closing thank-you from the visitor."""
    key = _lang(lang)
    return _pick(rng, phrases(key).thanks, key)


def visitor_gives_up(rng: random.Random, lang: str) -> str:
    """The visitor's last message before abandoning the chat."""
    key = _lang(lang)
    return _pick(rng, phrases(key).gives_up, key)


def commercial_greeting(rng: random.Random, lang: str, commercial: str, visitor: str) -> str:
    """The agent's first message; sometimes uses the agent's and visitor's first names."""
    key = _lang(lang)
    agent = commercial.split()[0] if commercial and commercial.split() else ""
    guest = visitor.split()[0] if visitor and visitor.split() else ""
    pool = tuple(
        t
        for t in phrases(key).greetings
        if (agent or "{agent}" not in t) and (guest or "{visitor}" not in t)
    )
    # Names are substituted last and never re-scanned, so braces in a name cannot break filling.
    return rng.choice(pool).replace("{agent}", agent).replace("{visitor}", guest)


def commercial_answer(rng: random.Random, lang: str, department: str) -> str:
    """A helpful, substantive agent answer fitting ``department``."""
    key = _lang(lang)
    return _pick(rng, phrases(key).answers[_dept(department)], key)


def commercial_apology(rng: random.Random, lang: str) -> str:
    """The agent apologising to a visitor who got angry while waiting."""
    key = _lang(lang)
    return _pick(rng, phrases(key).apologies, key)


def commercial_closing(rng: random.Random, lang: str) -> str:
    """The agent's closing message."""
    key = _lang(lang)
    return _pick(rng, phrases(key).closings, key)
