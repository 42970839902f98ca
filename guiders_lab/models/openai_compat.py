"""``OpenAIModel``: any OpenAI-compatible chat endpoint through the official client.

OpenAI itself, or a local server speaking the same API (vLLM, llama.cpp's server,
Ollama): set ``base_url``. Timeouts and retries are the client's; token usage comes from
the response (estimated when the server reports none); cost from ``gl.models.PRICES``.
Errors come back as :class:`~guiders_lab.models.ModelError` that never show the API key.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from typing import TYPE_CHECKING, cast

from ..secrets import Secret, redact_text, redact_url, url_secrets
from .base import PRICES, Context, ModelError, Reply, cost_of, estimate_tokens

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

__all__ = ["OpenAIModel"]

SYSTEM_PROMPT = (
    "You are the customer-service assistant of an online sports shop. Answer the visitor "
    "briefly and concretely, in the visitor's language (Spanish from Spain or English). If "
    "the request needs account access or a human decision, say a colleague will help."
)


class OpenAIModel:
    """A chat model behind an OpenAI-compatible API."""

    parameters = frozenset({"temperature", "max_tokens", "system_prompt"})

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        base_url: str | None = None,
        api_key: str | Secret | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        temperature: float = 0.3,
        max_tokens: int = 300,
        timeout: float = 30.0,
        max_retries: int = 2,
        prices: dict[str, tuple[float, float]] | None = None,
    ):
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError(
                "OpenAIModel needs the openai package: pip install 'guiders-lab[llm]'"
            ) from exc
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed-for-local-servers"
        self._key = Secret(key)
        # a base URL may carry credentials too (user info, ``?api_key=``): kept only as
        # secrets to scrub from errors; the public attribute and the repr show it without
        self._url_secrets = [Secret(s) for s in url_secrets(base_url)] if base_url else []
        if self._url_secrets:
            warnings.warn(
                "OpenAIModel: base_url carries credentials, and HTTP clients log request URLs; "
                "pass the key as api_key= instead",
                stacklevel=2,
            )
        self.name = model
        self.base_url = redact_url(base_url) if base_url else None
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prices = PRICES if prices is None else prices
        self._openai = openai
        self._client = openai.AsyncOpenAI(
            api_key=self._key.reveal(), base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    def __repr__(self) -> str:
        return f"OpenAIModel({self.name!r}, base_url={self.base_url!r})"

    def configure(self, **params: object) -> OpenAIModel:
        """A copy with other ``temperature``, ``max_tokens`` or ``system_prompt`` (the
        variant lab's parameters); the HTTP client is shared."""
        unknown = set(params) - self.parameters
        if unknown:
            raise ValueError(
                f"unknown parameters {sorted(unknown)}; allowed: {sorted(self.parameters)}"
            )
        clone = copy.copy(self)
        for key, value in params.items():
            setattr(clone, key, value)
        return clone

    def _messages(self, prompt: str, context: Context | None) -> list[dict[str, str]]:
        system = self.system_prompt
        if context is not None:
            facts = {
                "language": context.language,
                "department": context.department,
                "visitor": context.visitor_name,
            }
            known = ", ".join(f"{k}: {v}" for k, v in facts.items() if v)
            if known:
                system += f"\nConversation: {known}."
        messages = [{"role": "system", "content": system}]
        if context is not None:
            messages += [{"role": "user", "content": line} for line in context.history[-6:]]
        messages.append({"role": "user", "content": prompt})
        return messages

    async def reply(self, prompt: str, context: Context | None = None) -> Reply:
        started = time.perf_counter()
        messages = self._messages(prompt, context)
        problem = None
        try:
            response: ChatCompletion = await self._client.chat.completions.create(
                model=self.name,
                # plain system and user messages with text content
                messages=cast("list[ChatCompletionMessageParam]", messages),
                temperature=self.temperature,
                max_tokens=self.max_tokens,
            )
        except self._openai.APITimeoutError:
            problem = f"no answer from {self._where} in time"
        except self._openai.APIConnectionError as exc:
            problem = f"cannot reach {self._where} ({self._clean(str(exc))})"
        except self._openai.APIStatusError as exc:
            problem = f"{self._where} answered {exc.status_code} ({self._clean(str(exc.message))})"
        if problem is not None:  # raised out here: no ``__context__`` holding the client's
            raise ModelError(f"{self.name}: {problem}")  # error, request headers and body
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        usage = getattr(response, "usage", None)
        tokens_in = getattr(usage, "prompt_tokens", None)
        tokens_out = getattr(usage, "completion_tokens", None)
        estimated = tokens_in is None or tokens_out is None
        if estimated:
            tokens_in = sum(estimate_tokens(m["content"]) for m in messages)
            tokens_out = estimate_tokens(text)
        return Reply(
            text,
            self.name,
            None,
            (time.perf_counter() - started) * 1000.0,
            tokens_in,
            tokens_out,
            estimated,
            cost_of(self.name, tokens_in, tokens_out, self.prices),
            {"finish_reason": response.choices[0].finish_reason if response.choices else None},
        )

    @property
    def _where(self) -> str:
        return self.base_url or "api.openai.com"

    def _clean(self, text: str) -> str:
        return redact_text(text, [s.reveal() for s in (self._key, *self._url_secrets)])
