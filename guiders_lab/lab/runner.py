"""Running variants over messages: recorded, in a DataFrame, or live as they arrive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd

from .._interrupt import interruptible
from .._protocols import BotHost, BotRunHandle
from ..bots.base import Bot, BotContext
from ..events.records import Message
from ..models import Context, Model
from ..models.base import call_model
from ..sentiment import score as sentiment
from .inputs import MessageSource, prepare
from .scorers import Scorer, ScorerLike, Trial, as_scorers
from .variants import Variant

__all__ = ["RESULT_COLUMNS", "LabWatch", "run", "watch"]

RESULT_COLUMNS = (
    "variant_id",
    "variant",
    "model",
    "message_id",
    "chat_id",
    "language",
    "content",
    "prompt",
    "reply",
    "latency_ms",
    "tokens_in",
    "tokens_out",
    "tokens_estimated",
    "cost",
    "error",
    "score_errors",
)

last_results: pd.DataFrame | None = None  # what the last run finished, even if interrupted

# A message to try (a record of ``prepare``'s frame) or a result row being built: its
# values are DataFrame cells and a trial's outcomes (text, numbers, None, scores), which
# pandas cannot type per column, hence Any.
Row: TypeAlias = dict[str, Any]


async def _trial(
    variant: Variant,
    model: Model,
    row: Row,
    scorers: list[Scorer],
    timeout: float | None = None,
) -> Row:
    out: Row = {
        "variant_id": variant.id,
        "variant": variant.name,
        "model": variant.model.name,
        "message_id": row["message_id"],
        "chat_id": row.get("chat_id"),
        "language": row.get("language"),
        "content": row["content"],
        "prompt": None,
        "reply": None,
        "latency_ms": None,
        "tokens_in": None,
        "tokens_out": None,
        "tokens_estimated": None,
        "cost": None,
        "error": None,
        "score_errors": None,
    }
    started = time.perf_counter()
    try:
        prompt = out["prompt"] = variant.render(row)
        context = Context(
            language=row.get("language"),
            department=row.get("department"),
            visitor_name=row.get("visitor_name"),
            chat_id=row.get("chat_id"),
            history=tuple((row.get("history") or "").splitlines()),
        )
        async with asyncio.timeout(timeout):
            reply = await call_model(model, prompt, context)
    except TimeoutError:
        out["error"] = f"TimeoutError: no reply within {timeout:g} s"
        out["latency_ms"] = (time.perf_counter() - started) * 1000.0
        return out
    except Exception as exc:  # one failed call is a row, never an aborted run
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["latency_ms"] = (time.perf_counter() - started) * 1000.0
        return out
    out.update(
        reply=reply.text,
        latency_ms=(time.perf_counter() - started) * 1000.0,
        tokens_in=reply.tokens_in,
        tokens_out=reply.tokens_out,
        tokens_estimated=reply.tokens_estimated,
        cost=reply.cost,
    )
    if not (reply.text or "").strip():  # nothing to send: a failure, not a short answer
        out["error"] = "empty reply"
        return out
    trial = Trial(
        row["content"],
        reply.text,
        prompt,
        row.get("language"),
        row.get("reference"),
        out["latency_ms"],
        reply.tokens_in,
        reply.tokens_out,
        reply.cost,
        variant.name,
        row["message_id"],
    )
    problems = []
    for s in scorers:
        try:
            value = s(trial)
            if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                value = await value
        except Exception as exc:
            value = None
            problems.append(f"{s.name}: {type(exc).__name__}: {exc}")
        out[f"score_{s.name}"] = value
    out["score_errors"] = "; ".join(problems) or None
    return out


def _frame(
    rows: list[Row], scorers: list[Scorer], variants: list[Variant], interrupted: bool
) -> pd.DataFrame:
    score_columns = [f"score_{s.name}" for s in scorers]
    frame = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, *score_columns])
    for column in ("latency_ms", "cost", *score_columns):
        frame[column] = pd.to_numeric(
            frame[column].map(lambda v: np.nan if v is None else float(v)), errors="coerce"
        )
    for column in ("tokens_in", "tokens_out"):
        frame[column] = frame[column].astype("Int64")
    order = {v.id: i for i, v in enumerate(variants)}
    frame = frame.sort_values(
        ["message_id", "variant_id"],
        key=lambda c: c.map(order) if c.name == "variant_id" else c,
        kind="stable",
    )
    frame = frame.reset_index(drop=True)
    frame.attrs = {
        "scorers": {s.name: s.higher_is_better for s in scorers},
        "variants": [v.describe() for v in variants],
        "interrupted": interrupted,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return frame


async def run(
    variants: Variant | Iterable[Variant],
    messages: MessageSource,
    *,
    scorers: Iterable[ScorerLike] | None = None,
    concurrency: int = 8,
    progress: bool | None = None,
    roles: tuple[str, ...] = ("visitor",),
    limit: int | None = None,
    timeout: float | None = 60.0,
) -> pd.DataFrame:
    """Try every variant on every message; one row per (variant, message).

    ``messages``: a DataFrame (the kit's ``messages`` or any frame with ``content``), a
    loaded recording or a session (its visitor messages so far). ``scorers``: default
    latency, length, language match, similarity to the human reply and reply sentiment.
    A failed call (an error, no reply within ``timeout`` seconds, an empty reply) is a
    row with ``error``, left out of every comparison. Interrupting the kernel stops the
    run and returns what finished (also kept in ``gl.lab.runner.last_results``).
    """
    global last_results
    variants = [variants] if isinstance(variants, Variant) else list(variants)
    if not variants:
        raise ValueError("no variants to run")
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    scorer_list = as_scorers(scorers)
    inputs = cast(list[Row], prepare(messages, roles, limit).to_dict("records"))  # str columns
    models = {v.id: v.runnable() for v in variants}
    pairs: Iterator[tuple[Variant, Row]] = ((v, row) for row in inputs for v in variants)
    total = len(inputs) * len(variants)
    rows: list[Row] = []
    bar = None
    if progress or (progress is None and total > 200):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="call", desc="variants", mininterval=0.3)

    async def worker() -> None:
        for variant, row in pairs:  # a shared iterator: each pair is taken once
            rows.append(await _trial(variant, models[variant.id], row, scorer_list, timeout))
            if bar is not None:
                bar.update(1)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, total) or 1)]

    async def stop() -> None:
        global last_results
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        last_results = _frame(rows, scorer_list, variants, True)

    def kept() -> str:
        return f"the {len(rows):,} of {total:,} calls that finished are in gl.lab.last_results()"

    try:
        async with interruptible("variant run", stop, kept):
            try:
                await asyncio.gather(*workers)
            except asyncio.CancelledError:  # cancelled by code, not an interrupt
                await stop()
                raise
    finally:
        if bar is not None:
            bar.close()
    last_results = _frame(rows, scorer_list, variants, False)
    return last_results


class _VariantBot(Bot):
    """Tries every variant on each visitor message as it arrives; decides nothing."""

    concurrency = 4

    def __init__(
        self, variants: list[Variant], scorers: list[Scorer], timeout: float | None = 60.0
    ) -> None:
        self.variants = variants
        self.scorers = scorers
        self.timeout = timeout
        self.models = {v.id: v.runnable() for v in variants}
        self.rows: list[Row] = []
        self.history: dict[str, list[str]] = {}

    async def on_message(self, m: Message[datetime], ctx: BotContext) -> None:
        # the chat's history is taken, and this message added to it, before any await:
        # with several messages in hand at once, a slow model must not reorder it
        lines = self.history.setdefault(m.chat_id, [])
        history = "\n".join(lines[-6:])
        lines.append(f"{m.sender_role}: {m.content}")
        if m.sender_role == "visitor":
            row = {
                "message_id": m.message_id,
                "chat_id": m.chat_id,
                "content": m.content,
                "history": history,
                "visitor_name": m.sender_name,
                "department": m.department,
                "reference": None,
                "language": sentiment(m.content).language,
            }
            results = await asyncio.gather(
                *(
                    _trial(v, self.models[v.id], row, self.scorers, self.timeout)
                    for v in self.variants
                )
            )
            self.rows.extend(results)
        return None


class LabWatch:
    """Variants following a live stream in shadow; ``.results`` is the growing table."""

    def __init__(self, bot: _VariantBot, run_: BotRunHandle) -> None:
        self.bot = bot
        self.run = run_

    @property
    def results(self) -> pd.DataFrame:
        return _frame(list(self.bot.rows), self.bot.scorers, self.bot.variants, False)

    async def stop(self) -> pd.DataFrame:
        await self.run.stop()
        return self.results

    def __repr__(self) -> str:
        return (
            f"<LabWatch {len(self.bot.variants)} variants, {len(self.bot.rows):,} replies so far>"
        )


async def watch(
    session: BotHost,
    variants: Variant | Iterable[Variant],
    *,
    scorers: Iterable[ScorerLike] | None = None,
    timeout: float | None = 60.0,
) -> LabWatch:
    """Run every variant on each visitor message of a live session (or replay) as it
    arrives (each call given up after ``timeout`` seconds). Shadow only: nothing is sent.
    ``await watcher.stop()`` returns the results."""
    variants = [variants] if isinstance(variants, Variant) else list(variants)
    bot = _VariantBot(variants, as_scorers(scorers), timeout)
    return LabWatch(bot, await session.run(bot, mode="shadow"))
