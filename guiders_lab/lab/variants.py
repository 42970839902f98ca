"""Variants: a prompt template x a model x parameters, with a stable id."""

from __future__ import annotations

import hashlib
import itertools
import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from ..models import Model
from ..models.base import ConfigurableModel

__all__ = ["FIELDS", "Variant", "grid"]

# the fields a prompt template may use; a message supplies all of them (empty if unknown)
FIELDS = ("content", "history", "visitor_name", "department", "language", "chat_id")


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Variant:
    """One cell of the matrix. ``id`` depends only on the prompt, the model's name and the
    parameters, so the same variant has the same id in next week's run."""

    prompt: str
    model: Model = field(compare=False)
    params: tuple[tuple[str, object], ...] = ()  # model parameters, e.g. temperature
    prompt_name: str = "prompt"

    def __post_init__(self) -> None:
        unknown = _template_fields(self.prompt) - set(FIELDS)
        if unknown:
            raise ValueError(
                f"prompt {self.prompt_name!r} uses unknown fields {sorted(unknown)}"
                f"; available: {list(FIELDS)}"
            )
        if self.params and not hasattr(self.model, "configure"):
            raise ValueError(
                f"model {self.model.name!r} takes no parameters (got {dict(self.params)})"
            )

    @property
    def id(self) -> str:
        key = json.dumps([self.prompt, self.model.name, sorted(self.params)], default=str)
        return "v-" + hashlib.sha1(key.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        params = " ".join(f"{k}={v}" for k, v in self.params)
        return " · ".join(part for part in (self.prompt_name, self.model.name, params) if part)

    def runnable(self) -> Model:
        """The model configured with this variant's parameters."""
        if not self.params:
            return self.model
        # configure() is there: __post_init__ checked it for a variant with parameters
        return cast(ConfigurableModel, self.model).configure(**dict(self.params))

    def render(self, values: Mapping[str, object]) -> str:
        return self.prompt.format_map({name: values.get(name) or "" for name in FIELDS})

    def describe(self) -> dict[str, str]:
        return {
            "variant_id": self.id,
            "variant": self.name,
            "prompt_name": self.prompt_name,
            "prompt": self.prompt,
            "model": self.model.name,
            "params": json.dumps(dict(self.params), default=str),
        }

    def __repr__(self) -> str:
        return f"<Variant {self.id} {self.name}>"


def grid(
    prompts: str | Iterable[str] | Mapping[str, str],
    models: Model | Iterable[Model],
    **params: object,
) -> list[Variant]:
    """Every prompt x model x parameter combination.

    ``prompts``: one template, a list (named p1, p2, ...) or ``{name: template}``.
    ``params``: a value or a list of values each, e.g. ``temperature=[0.2, 0.8]``.

    >>> gl.lab.grid({"short": "Responde breve: {content}", "warm": "Con calidez: {content}"},
    ...             [gl.models.FAQModel(), gl.models.RuleModel()])      # doctest: +SKIP
    """
    if isinstance(prompts, str):
        named = {"prompt": prompts}
    elif isinstance(prompts, Mapping):
        named = dict(prompts)
    else:
        named = {f"p{i}": template for i, template in enumerate(prompts, 1)}
    model_list = [models] if hasattr(models, "reply") else list(models)
    keys = sorted(params)
    values = [v if isinstance(v, list | tuple) else [v] for v in (params[k] for k in keys)]
    variants = [
        Variant(template, model, tuple(zip(keys, combo, strict=True)), name)
        for (name, template), model, combo in itertools.product(
            named.items(), model_list, itertools.product(*values)
        )
    ]
    ids = [v.id for v in variants]
    if len(set(ids)) != len(ids):
        raise ValueError("two variants are identical (same prompt, model name and parameters)")
    return variants
