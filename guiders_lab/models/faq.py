"""``FAQModel``: retrieval over a bilingual shop knowledge base, answered from templates.

TF-IDF over each entry's questions and keywords (per language, accents folded, light
plural stemming), cosine similarity through an inverted index: thousands of replies per
second with no network and no model download. The best entry's answer is the reply, its
similarity the confidence; below ``min_confidence`` the model hands over to a human.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..sentiment import score as sentiment
from .base import Context, Reply, estimate_tokens

__all__ = ["FAQMatch", "FAQModel", "KnowledgeBase"]

_ACCENTS = str.maketrans("áéíóúüñ", "aeiouun")
_WORD = re.compile(r"[a-z0-9ñáéíóúü]+")
_STOP = frozenset(  # a readable word list
    """
    a al algo alguien como con cual de del el ella en es esta este esto hay la las le lo los
    me mi mis muy no o para pero por que quiero se si sin su sus te tengo tu un una uno y ya yo
    os vosotros vuestra vuestro hola gracias buenas favor puedo podeis puede
    the a an and are as at be but by can could do does for from have how i if in is it its me
    my no not of on or our please so that the their there this to us was we what when where
    which who why will with would you your hi hello thanks
    """.split()
)
_HANDOFF = {
    "es": "Gracias por escribirnos. Para esto prefiero pasarte con una persona del "
    "equipo, que te atiende enseguida.",
    "en": "Thanks for getting in touch. For this I'd rather pass you to a member of the "
    "team, who will be with you shortly.",
}


def _terms(text: str) -> list[str]:
    words = _WORD.findall(text.lower().translate(_ACCENTS))
    out = []
    for word in words:
        if word in _STOP or len(word) < 2:
            continue
        if len(word) > 4 and word.endswith("es") and not word.endswith("ses"):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s"):
            word = word[:-1]
        out.append(word)
    return out


@dataclass(frozen=True)
class FAQMatch:
    entry_id: str
    department: str
    simple: bool
    answer: str
    score: float
    language: str


class KnowledgeBase:
    """The shop's questions and answers in Spanish and English, indexed for retrieval."""

    # Any: the knowledge base is a JSON document (knowledge_base.json), read as loaded
    def __init__(self, data: dict[str, Any]) -> None:
        self.entries: list[dict[str, Any]] = data["entries"]
        self._index: dict[str, dict[str, list[tuple[int, float]]]] = {}
        self._idf: dict[str, dict[str, float]] = {}
        for language in ("es", "en"):
            docs = [
                Counter(_terms(" ".join(e[language]["questions"] + e[language]["keywords"] * 2)))
                for e in self.entries
            ]
            df = Counter(term for doc in docs for term in doc)
            n = len(docs)
            idf = {t: math.log((n + 1) / (d + 1)) + 1.0 for t, d in df.items()}
            postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
            for i, doc in enumerate(docs):
                weights = {t: (1 + math.log(c)) * idf[t] for t, c in doc.items()}
                norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
                for t, w in weights.items():
                    postings[t].append((i, w / norm))
            self._index[language], self._idf[language] = dict(postings), idf

    @classmethod
    def load(cls, path: str | Path | None = None) -> KnowledgeBase:
        """The kit's knowledge base (``data/faq/knowledge_base.json``), or your own file."""
        if path is None:
            text = (resources.files(__package__) / "knowledge_base.json").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls(json.loads(text))

    def match(self, text: str, language: str = "es") -> FAQMatch | None:
        """The best entry for ``text`` and its cosine similarity, or None."""
        language = language if language in self._index else "es"
        postings, idf = self._index[language], self._idf[language]
        query = Counter(_terms(text))
        weights = {t: (1 + math.log(c)) * idf[t] for t, c in query.items() if t in idf}
        if not weights:
            return None
        norm = math.sqrt(sum(w * w for w in weights.values()))
        scores: dict[int, float] = defaultdict(float)
        for term, weight in weights.items():
            for i, doc_weight in postings[term]:
                scores[i] += weight * doc_weight
        best = max(scores, key=scores.__getitem__)
        entry = self.entries[best]
        return FAQMatch(
            entry["id"],
            entry["department"],
            bool(entry["simple"]),
            entry[language]["answer"],
            scores[best] / norm,
            language,
        )


class FAQModel:
    """Answers from the knowledge base; hands over when unsure or when the topic needs a
    person (``simple: false`` in the knowledge base)."""

    name = "faq"
    parameters = frozenset({"min_confidence"})

    def __init__(
        self, knowledge_base: KnowledgeBase | str | Path | None = None, min_confidence: float = 0.25
    ) -> None:
        if isinstance(knowledge_base, KnowledgeBase):
            self.kb = knowledge_base
        else:
            self.kb = KnowledgeBase.load(knowledge_base)
        self.min_confidence = min_confidence

    def configure(self, *, min_confidence: float | None = None) -> FAQModel:
        """A copy with other settings (the variant lab's parameters)."""
        return FAQModel(self.kb, self.min_confidence if min_confidence is None else min_confidence)

    def match(self, text: str, language: str | None = None) -> FAQMatch | None:
        if language not in ("es", "en"):
            language = "en" if sentiment(text).language == "en" else "es"
        return self.kb.match(text, language)

    async def reply(self, prompt: str, context: Context | None = None) -> Reply:
        started = time.perf_counter()
        found = self.match(prompt, context.language if context else None)
        language = (
            found.language if found else ("en" if sentiment(prompt).language == "en" else "es")
        )
        if found is None or found.score < self.min_confidence or not found.simple:
            text = _HANDOFF[language]
            confidence = found.score if found else 0.0
            meta: dict[str, object] = {
                "faq_id": found.entry_id if found else None,
                "handoff": True,
            }
        else:
            text, confidence = found.answer, found.score
            meta = {"faq_id": found.entry_id, "handoff": False}
        return Reply(
            text,
            self.name,
            round(min(1.0, confidence), 3),
            (time.perf_counter() - started) * 1000.0,
            estimate_tokens(prompt),
            estimate_tokens(text),
            True,
            0.0,
            meta,
        )
