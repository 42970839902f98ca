"""A VADER-style lexicon scorer for Spanish and English support chats.

Why our own: no PyPI package scores Spanish offline, and VADER's English lexicon misses
the phrases of customer service ("never arrived", "charged twice"). The rules are VADER's
(Hutto & Gilbert, 2014): word valences from a lexicon, boosters and dampeners before a
word, negation within three words, ALL-CAPS emphasis, "!" and "??" amplification, and
"but/pero" weighting the clause after it more. On top, support-chat escalation terms
("reembolso", "supervisor", "refund", "manager") deepen a negative message's intensity
without making a polite question negative by themselves.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Sentiment", "SentimentEngine"]

_ACCENTS = str.maketrans("áéíóúüàèìòùâêîôûñÁÉÍÓÚÜÑ", "aeiouuaeiouaeiounAEIOUUN")
_TOKEN = re.compile(r"[:;]-?[()D]|[\w'’]+|[!?]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]", re.UNICODE)
_EMOJI = {
    "😡": -3.0,
    "😠": -2.6,
    "🤬": -3.4,
    "😤": -2.2,
    "😞": -2.0,
    "😢": -2.2,
    "😭": -2.6,
    "👎": -2.0,
    "💩": -2.6,
    "🙄": -1.6,
    "😒": -1.6,
    "🙂": 1.4,
    "😊": 2.2,
    "😀": 2.2,
    "😄": 2.4,
    "😁": 2.4,
    "😍": 3.0,
    "🥰": 3.0,
    "❤": 3.0,
    "❤️": 3.0,
    "👍": 1.8,
    "👏": 2.2,
    "🙏": 1.2,
    "🎉": 2.4,
    "🔥": 1.6,
    "👌": 1.8,
    "😉": 1.2,
}

_ES_NEGATORS = frozenset(
    {
        "no",
        "nunca",
        "jamas",
        "tampoco",
        "ni",
        "sin",
        "nadie",
        "ningun",
        "ninguna",
        "ninguno",
        "nada",
    }
)
_ES_BOOSTERS = {
    "muy": 0.293,
    "mucho": 0.293,
    "muchisimo": 0.4,
    "bastante": 0.2,
    "super": 0.35,
    "tan": 0.25,
    "demasiado": 0.3,
    "totalmente": 0.35,
    "completamente": 0.35,
    "absolutamente": 0.4,
    "realmente": 0.293,
    "extremadamente": 0.4,
    "increiblemente": 0.35,
    "sumamente": 0.35,
    "re": 0.2,
    "poco": -0.293,
    "algo": -0.2,
    "ligeramente": -0.293,
    "casi": -0.2,
    "apenas": -0.293,
}
_CONTRAST = frozenset({"pero", "aunque", "but", "however", "although", "though"})
_ESCALATION = frozenset(
    {
        "reembolso",
        "reembolsen",
        "devolucion del dinero",
        "devolvedme",
        "supervisor",
        "responsable",
        "encargado",
        "gerente",
        "hablar con una persona",
        "persona real",
        "hablar con alguien",
        "inmediatamente",
        "urgente",
        "ya",
        "refund",
        "manager",
        "speak to a human",
        "real person",
        "immediately",
        "asap",
        "urgent",
        "now",
    }
)
_ES_STOP = frozenset(
    {
        "el",
        "la",
        "los",
        "las",
        "de",
        "que",
        "y",
        "en",
        "un",
        "una",
        "es",
        "por",
        "con",
        "para",
        "mi",
        "me",
        "se",
        "lo",
        "pero",
        "mas",
        "hola",
        "gracias",
        "esta",
        "este",
        "hay",
        "tengo",
        "pedido",
        "ya",
        "muy",
        "no",
        "si",
        "como",
        "cuando",
        "donde",
        "porque",
        "os",
        "he",
        "ha",
    }
)
_EN_STOP = frozenset(
    {
        "the",
        "a",
        "an",
        "and",
        "is",
        "are",
        "to",
        "of",
        "in",
        "my",
        "i",
        "it",
        "for",
        "on",
        "with",
        "you",
        "your",
        "this",
        "that",
        "was",
        "have",
        "has",
        "hi",
        "hello",
        "thanks",
        "please",
        "order",
        "not",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "can",
        "be",
    }
)
_CAPS_INCR = 0.733
_NEGATION = -0.74
_ALPHA = 15.0


@dataclass(frozen=True, slots=True)
class Sentiment:
    """The scorer's verdict on one text."""

    score: float  # compound, in [-1, 1]
    label: str  # "negative" | "neutral" | "positive"
    intensity: float  # in [0, 1]: how strong, escalation terms included
    language: str  # "es" | "en" | "unknown"
    escalation: tuple[str, ...] = ()  # escalation terms found


def _plain(token: str) -> str:
    return token.lower().translate(_ACCENTS).replace("’", "'")


def _read_tsv(text: str) -> dict[str, float]:
    table = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, value = line.rsplit("\t", 1)
        table[_plain(word.strip())] = float(value)
    return table


@lru_cache(maxsize=1)
def _lexicons() -> tuple[dict[str, float], dict[str, float], dict[str, float], frozenset[str]]:
    """(Spanish, English, English boosters, English negators), loaded once."""
    from vaderSentiment import vaderSentiment as vader

    here = resources.files(__package__)
    spanish = _read_tsv((here / "lexicon_es.tsv").read_text(encoding="utf-8"))
    english = {}
    vader_text = (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(
        encoding="utf-8"
    )
    for line in vader_text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            english[_plain(parts[0])] = float(parts[1])
    english.update(_read_tsv((here / "lexicon_en_support.tsv").read_text(encoding="utf-8")))
    boosters = {_plain(k): v for k, v in vader.BOOSTER_DICT.items()}
    negators = frozenset(_plain(w) for w in vader.NEGATE)
    return spanish, english, boosters, negators


class SentimentEngine:
    """Scores texts; build once (loading the lexicons), call :meth:`score` many times."""

    def __init__(self) -> None:
        spanish, english, en_boosters, en_negators = _lexicons()
        self._lex = {"es": spanish, "en": english}
        self._boosters = {**en_boosters, **_ES_BOOSTERS}
        self._negators = en_negators | _ES_NEGATORS
        self._max_phrase = 4
        phrases: set[str] = {k for lex in self._lex.values() for k in lex if " " in k}
        phrases |= {k for k in _ESCALATION if " " in k}
        self._phrase_starts = {p.split(" ")[0] for p in phrases}

    def language(self, words: list[str], text: str) -> str:
        es = sum(w in _ES_STOP for w in words) + 2 * any(c in text for c in "¿¡ñÑ")
        es += sum(1 for c in text if c in "áéíóúÁÉÍÓÚ")
        en = sum(w in _EN_STOP for w in words)
        if es == en == 0:
            return "unknown"
        return "es" if es >= en else "en"

    def score(self, text: str) -> Sentiment:
        raw = _TOKEN.findall(text or "")
        words = [_plain(t) for t in raw]
        language = self.language(words, text or "")
        primary = self._lex["en" if language == "en" else "es"]
        secondary = self._lex["es" if language == "en" else "en"]
        mixed_case = any(t.isupper() for t in raw) and not all(
            t.isupper() for t in raw if t.isalpha()
        )
        valences: list[float] = []
        positions: list[int] = []  # where each valence's word (or phrase) starts
        in_phrase: set[int] = set()  # words consumed by a phrase: they negate nothing
        escalation: list[str] = []
        exclaims = questions = 0
        i, n = 0, len(words)
        while i < n:
            token, word = raw[i], words[i]
            if word[0] in "!?":
                exclaims += word.count("!")
                questions += word.count("?")
                i += 1
                continue
            if token in _EMOJI:
                valences.append(_EMOJI[token])
                positions.append(i)
                i += 1
                continue
            value, width = None, 1
            if word in self._phrase_starts:  # the longest phrase first: "no ha llegado nada"
                for size in range(min(self._max_phrase, n - i), 1, -1):
                    phrase = " ".join(words[i : i + size])
                    if phrase in _ESCALATION:
                        escalation.append(phrase)
                    value = primary.get(phrase, secondary.get(phrase))
                    if value is not None or phrase in _ESCALATION:
                        width = size
                        break
            if width == 1:
                if word in _ESCALATION:
                    escalation.append(word)
                if word in self._negators or word in self._boosters or word in _CONTRAST:
                    i += 1
                    continue
                value = primary.get(word, secondary.get(word))
            else:
                in_phrase.update(range(i, i + width))
            if value is None:
                i += width
                continue
            if mixed_case and token.isupper() and len(token) > 1:
                value += _CAPS_INCR if value > 0 else -_CAPS_INCR
            for back, decay in ((1, 1.0), (2, 0.95), (3, 0.9)):
                j = i - back
                if j < 0:
                    break
                if j in in_phrase:
                    break
                boost = self._boosters.get(words[j])
                if boost:
                    value += math.copysign(boost * decay, value)
                if words[j] in self._negators:
                    value *= _NEGATION
                    break
            valences.append(value)
            positions.append(i)
            i += width
        self._contrast(words, valences, positions)
        total = sum(valences)
        if total:
            total += math.copysign(min(exclaims, 4) * 0.292, total)
            if questions > 1:
                total += math.copysign(min(questions * 0.18, 0.96), total)
        negative_escalation = total < 0 and escalation
        if negative_escalation:
            total -= 0.6 * len(escalation)
        compound = total / math.sqrt(total * total + _ALPHA) if total else 0.0
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        intensity = abs(compound)
        if negative_escalation:
            intensity = min(1.0, intensity + 0.1 * len(escalation))
        return Sentiment(
            round(compound, 4), label, round(intensity, 4), language, tuple(escalation)
        )

    @staticmethod
    def _contrast(words: list[str], valences: list[float], positions: list[int]) -> None:
        """VADER's "but" rule: the clause after a contrast word counts more."""
        cut = next((k for k, w in enumerate(words) if w in _CONTRAST), None)
        if cut is None:
            return
        for k, at in enumerate(positions):
            valences[k] *= 0.5 if at < cut else 1.5
