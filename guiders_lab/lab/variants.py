"""Variants: a prompt template x a model x parameters, with a stable id."""

from __future__ import annotations

import hashlib
import itertools
import json
import string
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from ..models import Model
from ..models.base import ConfigurableModel, parameters_of

__all__ = ["FIELDS", "GridWarning", "Variant", "grid"]


class GridWarning(UserWarning):
    """A grid parameter some of its models do not take (they run without it)."""


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
        takes = parameters_of(self.model)
        given = {key for key, _ in self.params}
        if takes is not None and not given <= takes:
            offered = ", ".join(sorted(takes)) if takes else "none"
            raise ValueError(
                f"model {self.model.name!r} does not take {sorted(given - takes)} "
                f"(it takes {offered})"
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
    ``params``: a value or a list of values each, e.g. ``temperature=[0.2, 0.8]``. Each
    model varies the parameters it takes (``model.parameters``) and runs once without the
    others, which a :class:`GridWarning` reports; a parameter no model takes is an error.

    >>> gl.lab.grid({"short": "Responde breve: {content}", "warm": "Con calidez: {content}"},
    ...             [gl.models.FAQModel(), gl.models.RuleModel()])      # doctest: +SKIP
    """
    if isinstance(prompts, str):
        named = {"prompt": prompts}
    elif isinstance(prompts, Mapping):
        named = dict(prompts)
    else:
        named = {f"p{i}": template for i, template in enumerate(prompts, 1)}
    model_list: list[Model] = [cast(Model, models)] if hasattr(models, "reply") else list(models)
    values = {k: v if isinstance(v, list | tuple) else [v] for k, v in params.items()}
    # what each model takes: None for one of yours that does not say (it gets them all)
    takes = [parameters_of(model) for model in model_list]
    own = [sorted(k for k in values if t is None or k in t) for t in takes]
    nobody = [k for k in sorted(values) if not any(k in keys for keys in own)]
    if nobody:
        said = "; ".join(
            f"{m.name} takes {', '.join(sorted(t)) if t else 'none'}"
            for m, t in zip(model_list, takes, strict=True)
        )
        raise ValueError(f"no model takes {nobody}: {said}")
    variants = [
        Variant(template, model, tuple(zip(keys, combo, strict=True)), name)
        for name, template in named.items()
        for model, keys in zip(model_list, own, strict=True)
        for combo in itertools.product(*(values[k] for k in keys))
    ]
    for model, keys in zip(model_list, own, strict=True):
        ignored = sorted(set(values) - set(keys))
        if ignored:
            warnings.warn(
                f"{model.name!r} does not take {', '.join(ignored)}: its variants run without",
                GridWarning,
                stacklevel=2,
            )
    ids = [v.id for v in variants]
    if len(set(ids)) != len(ids):
        raise ValueError("two variants are identical (same prompt, model name and parameters)")
    return variants
