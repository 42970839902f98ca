"""The variant lab: prompt x model x parameter variants tried on real chat messages,
scored, and compared with statistics.

>>> variants = gl.lab.grid({"brief": "Responde breve: {content}"},
...                        [gl.models.FAQModel(), gl.models.RuleModel()])   # doctest: +SKIP
>>> results = await gl.lab.run(variants, gl.load("data/sample-session"))   # doctest: +SKIP
>>> gl.lab.compare(results, baseline=variants[0].id)                       # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from . import inputs, runner
from .compare import compare, metrics_of
from .io import load_results, save_results
from .runner import LabWatch, run, watch
from .scorers import (
    LLMJudge,
    Scorer,
    Trial,
    contains,
    default_scorers,
    language_match,
    latency,
    length,
    regex,
    reply_sentiment,
    scorer,
    similarity,
)
from .variants import FIELDS, GridWarning, Variant, grid

__all__ = [
    "FIELDS",
    "GridWarning",
    "LLMJudge",
    "LabWatch",
    "Scorer",
    "Trial",
    "Variant",
    "combine",
    "compare",
    "contains",
    "default_scorers",
    "grid",
    "inputs",
    "language_match",
    "last_results",
    "latency",
    "length",
    "load_results",
    "metrics_of",
    "regex",
    "reply_sentiment",
    "run",
    "runner",
    "save_results",
    "scorer",
    "similarity",
    "watch",
]


def last_results() -> pd.DataFrame | None:
    """The rows of the last :func:`run`, kept when it was interrupted or cancelled too
    (``.attrs["interrupted"]`` says which)."""
    return runner.last_results


def combine(*runs: pd.DataFrame) -> pd.DataFrame:
    """Stack runs (e.g. last week's saved one and today's) for one comparison; scorer
    directions and variant descriptions are merged."""
    frame = pd.concat(runs, ignore_index=True)
    scorers: dict[str, bool] = {}  # name -> higher_is_better
    variants: dict[str, dict[str, str]] = {}  # variant_id -> Variant.describe()
    for r in runs:
        scorers.update(r.attrs.get("scorers", {}))
        variants.update({v["variant_id"]: v for v in r.attrs.get("variants", [])})
    frame.attrs = {"scorers": scorers, "variants": list(variants.values())}
    return frame
