"""The variant lab: variants, runs, scorers, statistics, saving, live watching."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab.models import Context, Reply

from .conftest import wait_for

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"


class Fixed:
    """A model that answers from a table (and fails or sleeps on demand)."""

    def __init__(
        self,
        name: str,
        answers: dict[str, str] | None = None,
        delay: float = 0.0,
        fail_on: str | None = None,
    ) -> None:
        self.name = name
        self.answers = answers or {}
        self.delay = delay
        self.fail_on = fail_on
        self.calls: list[str] = []

    async def reply(self, prompt: str, context: Context | None = None) -> Reply:
        self.calls.append(prompt)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_on and self.fail_on in prompt:
            raise RuntimeError("upstream 500")
        text = next((a for k, a in self.answers.items() if k in prompt), "ok")
        return Reply(text, self.name, 0.9, 1.0, 10, len(text) // 4, False, 0.001)


def messages(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "message_id": [f"m{i}" for i in range(n)],
            "content": [f"pregunta {i} sobre el envío" for i in range(n)],
        }
    )


def test_grid_builds_every_combination_with_stable_ids() -> None:
    faq = gl.models.FAQModel()
    variants = gl.lab.grid(
        {"a": "{content}", "b": "Cliente {visitor_name}: {content}"}, [faq, gl.models.RuleModel()]
    )
    assert len(variants) == 4 and len({v.id for v in variants}) == 4
    again = gl.lab.grid(
        {"a": "{content}", "b": "Cliente {visitor_name}: {content}"},
        [gl.models.FAQModel(), gl.models.RuleModel()],
    )
    assert [v.id for v in again] == [v.id for v in variants]  # stable across runs
    assert variants[0].name == "a · faq"
    tuned = gl.lab.grid("{content}", faq, min_confidence=[0.2, 0.5])
    assert [v.name for v in tuned] == [
        "prompt · faq · min_confidence=0.2",
        "prompt · faq · min_confidence=0.5",
    ]
    assert tuned[1].runnable().min_confidence == 0.5
    with pytest.raises(ValueError, match="unknown fields"):
        gl.lab.grid("{contents}", faq)
    with pytest.raises(ValueError, match=r"no model takes \['temperature'\]: echo takes none"):
        gl.lab.grid("{content}", gl.models.EchoModel(), temperature=0.2)


def test_grid_varies_each_model_by_what_it_takes_and_says_what_it_left_out() -> None:
    """The README's first try: temperature on a FAQ model raised TypeError at run time."""
    with pytest.raises(ValueError, match="faq takes min_confidence; rules takes none"):
        gl.lab.grid("{content}", [gl.models.FAQModel(), gl.models.RuleModel()], temperature=0.2)
    with pytest.warns(gl.lab.GridWarning, match="'rules' does not take min_confidence"):
        variants = gl.lab.grid(
            {"a": "{content}", "b": "Hola: {content}"},
            [gl.models.FAQModel(), gl.models.RuleModel()],
            min_confidence=[0.2, 0.5],
        )
    assert [v.name for v in variants] == [
        "a · faq · min_confidence=0.2",
        "a · faq · min_confidence=0.5",
        "a · rules",
        "b · faq · min_confidence=0.2",
        "b · faq · min_confidence=0.5",
        "b · rules",
    ]
    assert all(v.runnable() is not None for v in variants)
    with pytest.raises(ValueError, match=r"does not take \['temperature'\] \(it takes min_conf"):
        gl.lab.Variant("{content}", gl.models.FAQModel(), (("temperature", 0.2),))

    class Yours:  # a model of yours that does not list what it takes: it gets them all
        name = "yours"

        async def reply(self, prompt, context=None):
            raise NotImplementedError

        def configure(self, **params):
            return self

    (only,) = gl.lab.grid("{content}", Yours(), anything=1)
    assert only.params == (("anything", 1),)


async def test_run_gives_one_row_per_variant_and_message_and_survives_failures() -> None:
    good = Fixed("good", {"envío": "Llega en 24-48 h"})
    flaky = Fixed("flaky", fail_on="pregunta 3")
    variants = gl.lab.grid("{content}", [good, flaky])
    results = await gl.lab.run(variants, messages(6), progress=False)
    assert len(results) == 12
    assert set(results.columns) >= {
        "variant_id",
        "message_id",
        "reply",
        "latency_ms",
        "tokens_in",
        "tokens_out",
        "cost",
        "error",
    }
    assert any(c.startswith("score_") for c in results.columns)
    failed = results[results["error"].notna()]
    assert len(failed) == 1 and "upstream 500" in failed.iloc[0]["error"]
    assert failed.iloc[0]["message_id"] == "m3" and pd.isna(failed.iloc[0]["reply"])
    assert (results.query("variant == 'prompt · good'")["reply"] == "Llega en 24-48 h").all()
    assert results["tokens_in"].dropna().eq(10).all() and results["cost"].sum() == pytest.approx(
        0.011
    )


async def test_prompt_fields_come_from_the_chat() -> None:
    model = Fixed("spy")
    variant = gl.lab.grid("[{department}] {visitor_name}: {content}\n{history}", model)
    results = await gl.lab.run(variant, gl.load(SAMPLE), limit=40, progress=False)
    with_history = results[results["prompt"].str.contains("commercial: ")]
    assert len(with_history) > 0  # later visitor turns carry the conversation so far
    first = results.iloc[0]
    assert first["prompt"].startswith("[") and first["content"] in first["prompt"]


async def test_builtin_scorers_and_plain_callables() -> None:
    model = Fixed("m", {"0": "Hola, llega mañana", "1": "Hello, it ships today", "2": "x" * 600})
    scorers = [
        gl.lab.length(max_chars=400),
        gl.lab.language_match(),
        gl.lab.contains("llega"),
        gl.lab.regex(r"\bma[ñn]ana\b", name="says_tomorrow"),
        gl.lab.reply_sentiment(),
        gl.lab.latency(max_ms=10_000),
        gl.lab.scorer(lambda t: len(t.reply.split()), name="words"),
    ]
    frame = pd.DataFrame(
        {
            "message_id": ["a", "b", "c"],
            "content": ["0 ¿cuándo llega mi pedido?", "1 when will it ship?", "2 ¿y el envío?"],
        }
    )
    results = (
        await gl.lab.run(gl.lab.grid("{content}", model), frame, scorers=scorers, progress=False)
    ).set_index("message_id")
    assert list(results["score_length_ok"]) == [1.0, 1.0, 0.0]
    assert results.loc["a", "score_language_match"] == 1.0
    assert results.loc["b", "score_language_match"] == 1.0
    assert list(results["score_contains_llega"]) == [1.0, 0.0, 0.0]
    assert list(results["score_says_tomorrow"]) == [1.0, 0.0, 0.0]
    assert results.loc["a", "score_words"] == 3
    assert results["score_latency_under_10000ms"].eq(1.0).all()
    assert results.attrs["scorers"]["words"] is True


async def test_similarity_to_the_human_reply() -> None:
    parrot = Fixed("parrot")
    rec = gl.load(SAMPLE)

    class Copycat(Fixed):
        async def reply(self, prompt: str, context: Context | None = None) -> Reply:
            return Reply(self.reference.get(prompt, ""), self.name, 1.0, 0.1, 1, 1, False, 0.0)

    inputs = gl.lab.inputs.prepare(rec, limit=60)
    copycat = Copycat("copycat")
    keys = inputs["chat_id"] + " " + inputs["message_id"]
    copycat.reference = dict(zip(keys, inputs["reference"].fillna(""), strict=True))
    inputs = inputs.assign(chat_id=keys)  # the prompt below shows the key to the copycat
    results = await gl.lab.run(gl.lab.grid("{chat_id}", [parrot, copycat]), inputs, progress=False)
    sims = results.groupby("model")["score_similarity_to_human"].mean()
    assert sims["copycat"] > 0.95 > 0.2 > sims["parrot"]


async def test_llm_judge_uses_any_model() -> None:
    judge_model = Fixed("judge", {"Hola": "Score: 4", "Bye": "no idea"})
    judge = gl.lab.LLMJudge(judge_model, rubric="polite", scale=(1, 5))
    answers = Fixed("bot", {"0": "Hola, ¿qué tal?", "1": "Bye"})
    frame = pd.DataFrame({"message_id": ["x", "y"], "content": ["0 hola", "1 adiós"]})
    results = await gl.lab.run(
        gl.lab.grid("{content}", answers), frame, scorers=[judge], progress=False
    )
    assert list(results["score_judge"]) == [0.75, None] or (
        results["score_judge"].iloc[0] == 0.75 and np.isnan(results["score_judge"].iloc[1])
    )
    assert "Rubric: polite" in judge_model.calls[0]


def synthetic(deltas: dict[str, float], n: int = 60, seed: int = 1) -> pd.DataFrame:
    """A results table whose variants differ from the baseline by known amounts."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0.5, 0.1, n)
    rows = []
    for vid, delta in deltas.items():
        noise = rng.normal(0, 0.02, n)
        for i in range(n):
            rows.append(
                {
                    "variant_id": vid,
                    "variant": vid,
                    "message_id": f"m{i}",
                    "error": None,
                    "latency_ms": 1.0,
                    "cost": 0.0,
                    "score_quality": base[i] + delta + noise[i],
                }
            )
    frame = pd.DataFrame(rows)
    frame.attrs = {"scorers": {"quality": True}}
    return frame


def test_compare_finds_real_differences_and_says_when_there_are_none() -> None:
    results = synthetic({"base": 0.0, "same": 0.0, "better": 0.05, "worse": -0.05})
    table = gl.lab.compare(results, baseline="base", metric="quality")
    assert table.loc["base", "verdict"] == "baseline"
    assert table.loc["better", "verdict"].startswith("better")
    assert table.loc["worse", "verdict"].startswith("worse")
    assert table.loc["same", "verdict"].startswith("no significant difference")
    assert table.loc["better", "delta"] == pytest.approx(0.05, abs=0.01)
    assert table.loc["better", "delta_ci_low"] > 0 > table.loc["worse", "delta_ci_high"]
    assert table.loc["better", "win_rate"] > 0.9 and table.loc["worse", "win_rate"] < 0.1
    assert (
        table.loc["better", "ci_low"]
        < table.loc["better", "quality"]
        < table.loc["better", "ci_high"]
    )
    assert table.loc["better", "paired_n"] == 60
    assert (table["p_holm"].dropna() >= table["p_value"].dropna()).all()
    lower_is_better = synthetic({"base": 0.0, "better": 0.05})
    lower_is_better.attrs = {"scorers": {"quality": False}}
    flipped = gl.lab.compare(lower_is_better, baseline="base")
    assert flipped.loc["better", "verdict"].startswith("worse")


def test_compare_needs_pairs() -> None:
    tiny = synthetic({"base": 0.0, "other": 0.3}, n=3)
    assert gl.lab.compare(tiny, baseline="base").loc["other", "verdict"].startswith("too few")
    with pytest.raises(KeyError, match="baseline"):
        gl.lab.compare(tiny, baseline="nope")


async def test_runs_save_load_and_combine_with_last_weeks(tmp_path: Path) -> None:
    rec = gl.load(SAMPLE)
    last_week = await gl.lab.run(
        gl.lab.grid("{content}", gl.models.RuleModel()), rec, limit=30, progress=False
    )
    path = gl.lab.save_results(last_week, tmp_path / "last-week.parquet")
    loaded = gl.lab.load_results(path)
    pd.testing.assert_frame_equal(loaded, last_week, check_dtype=False)
    assert loaded.attrs["scorers"] == last_week.attrs["scorers"]
    this_week = await gl.lab.run(
        gl.lab.grid("{content}", gl.models.FAQModel()), rec, limit=30, progress=False
    )
    both = gl.lab.combine(loaded, this_week)
    table = gl.lab.compare(
        both, baseline=loaded["variant_id"].iloc[0], metric="similarity_to_human"
    )
    assert len(table) == 2 and table["paired_n"].dropna().iloc[0] > 0


class Gated(Fixed):
    """Answers the first ``open_for`` prompts at once, then holds every later call until
    it is cancelled: an interruption mid-run, at a known point, on any machine."""

    def __init__(self, open_for: int) -> None:
        super().__init__("gated")
        self.open_for = open_for
        self._never = asyncio.Event()

    async def reply(self, prompt: str, context: Context | None = None) -> Reply:
        if len(self.calls) >= self.open_for:
            self.calls.append(prompt)
            await self._never.wait()
        return await super().reply(prompt, context)


async def test_a_cancelled_run_stops_and_keeps_what_finished() -> None:
    """Cancelled by code (a timeout, task.cancel()): the run stops, CancelledError goes on
    as asyncio wants, and what finished is kept."""
    gated = Gated(open_for=12)
    task = asyncio.ensure_future(
        gl.lab.run(gl.lab.grid("{content}", gated), messages(60), concurrency=2, progress=False)
    )
    # both workers held: the 12 answered calls are recorded, 2 more are in flight
    await wait_for(lambda: len(gated.calls) == 12 + 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    kept = gl.lab.last_results()
    assert len(kept) == 12 and kept.attrs["interrupted"]  # some, not all, finished
    assert kept["reply"].notna().all()  # the calls cut short left no row


class Blocking:
    """A model with a plain, blocking ``reply`` (a synchronous SDK call)."""

    name = "blocking"

    def __init__(self) -> None:
        self.calls = 0

    def reply(self, prompt: str, context: Context | None = None) -> Reply:
        self.calls += 1
        time.sleep(0.5)
        return Reply(text="ok")


async def test_an_interrupt_stops_a_run_of_a_blocking_model_and_fails_the_cell() -> None:
    """As a kernel does: SIGINT cancels the cell's task. The run stops at once though each
    call blocks (they run in worker threads), the cell fails with gl.Interrupted (Run All
    stops), and what finished is reachable."""
    loop = asyncio.get_running_loop()
    model = Blocking()
    task = asyncio.ensure_future(
        gl.lab.run(gl.lab.grid("{content}", model), messages(200), concurrency=4, progress=False)
    )
    previous = signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(task.cancel))
    try:
        await wait_for(lambda: model.calls >= 8)
        signal.raise_signal(signal.SIGINT)
        with pytest.raises(gl.Interrupted, match=r"variant run interrupted; the .* calls"):
            await task  # before, the run went on to the end, then returned as if done
    finally:
        signal.signal(signal.SIGINT, previous)
    kept = gl.lab.last_results()
    assert 0 < len(kept) < 200 and kept.attrs["interrupted"]
    calls = model.calls
    await asyncio.sleep(1.2)
    assert model.calls <= calls + 4  # the workers stopped (threads in flight may finish)


async def test_watch_tries_variants_on_live_messages_without_sending() -> None:
    with gl.launch_simulator("busy_afternoon", seed=4, speed=600) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        watcher = await gl.lab.watch(
            live, gl.lab.grid("{content}", [gl.models.FAQModel(), gl.models.RuleModel()])
        )
        await wait_for(lambda: len(watcher.bot.rows) >= 20, timeout=30)
        results = await watcher.stop()
        await live.close()
    assert set(results["model"]) == {"faq", "rules"}
    assert results.groupby("message_id").size().eq(2).all()
    assert (live.events["direction"] == "out").sum() == 0  # shadow: nothing was sent
    assert results["message_id"].isin(live.messages["message_id"]).all()


async def test_playground_runs_and_keeps_results() -> None:
    rec = gl.load(SAMPLE)
    playground = gl.VariantPlayground(rec, select=2)
    first = await playground.run()
    assert len(first) == 4 and "gl-lab-reply" in playground.output.value
    playground.template.value = "Por favor: {content}"
    playground.model_picker.value = ("echo",)
    second = await playground.run()
    assert len(second) == 2 and len(playground.results) == 6
    assert (
        second["reply"].str.startswith("Has dicho: Por favor:").all()
        or second["reply"].str.startswith("You said: Por favor:").all()
    )
    playground.template.value = "{oops}"
    playground._start_run()  # a bad template shows in the widget, never raises
    await playground._task
    assert "unknown fields" in playground.status.value


async def test_failed_empty_and_slow_calls_are_errors_left_out_of_comparisons() -> None:
    """An empty reply must not win on length, nor a failing variant on latency; a model
    that never answers is cut off by the per-call timeout."""
    good = Fixed("good", {"envío": "Llega en 24-48 h"}, delay=0.01)
    empty = Fixed("empty", {"envío": "   "})
    broken = Fixed("broken", fail_on="pregunta")
    stuck = Fixed("stuck", delay=30)
    variants = gl.lab.grid("{content}", [good, empty, broken, stuck])
    results = await gl.lab.run(variants, messages(8), progress=False, timeout=0.2)
    errors = results.groupby("variant")["error"].agg(lambda e: set(e.dropna().str[:12]))
    assert errors["prompt · good"] == set()
    assert errors["prompt · empty"] == {"empty reply"}
    assert errors["prompt · broken"] == {"RuntimeError"}
    assert errors["prompt · stuck"] == {"TimeoutError"}
    for metric in ("length", "latency_ms"):
        table = gl.lab.compare(results, baseline=variants[0].id, metric=metric)
        assert (table["errors"].tolist(), table["n"].tolist()) == ([0, 8, 8, 8], [8] * 4)
        others = table.iloc[1:]
        assert others["verdict"].eq("too few paired messages to tell").all()
        assert others["win_rate"].isna().all()


async def test_watch_builds_each_chats_history_in_order_whatever_the_model_latency() -> None:
    """Messages are handled several at once: a slow model must not leave a visitor's
    message out of the history of the next one (lab.run reads the same history)."""
    import time

    from guiders_lab._loop import bots_loop
    from guiders_lab.bots.runner import BotRun
    from guiders_lab.lab.runner import _VariantBot
    from guiders_lab.lab.scorers import as_scorers

    def msg(i: int, role: str, text: str) -> dict:
        return {
            "chatId": "c1",
            "messageId": f"m{i}",
            "content": text,
            "type": "user" if role == "visitor" else role,
            "sender": {"id": f"{role}-1", "name": role, "role": role},
            "timestamp": f"2025-01-15T10:00:0{i}Z",
        }

    store = gl.Store()
    session = gl.Session(store, "unit")
    variants = gl.lab.grid("{history}|{content}", [Fixed("slow", delay=0.3)])
    bot = _VariantBot(variants, as_scorers([]))
    run = await BotRun(bot, session, "shadow", bots_loop()).attach()
    talk = [("visitor", "hola"), ("commercial", "Sí, 3 días"), ("visitor", "¿y el coste?")]
    for i, (role, text) in enumerate(talk, 1):
        store.ingest("message:new", (msg(i, role, text),), time.time())
        await asyncio.sleep(0.02)
    await run.drain(10)
    await run.stop()
    watched = {row["message_id"]: row["prompt"] for row in bot.rows}
    offline = await gl.lab.run(variants, session, scorers=[], progress=False)
    assert watched == dict(zip(offline["message_id"], offline["prompt"], strict=True))
    assert watched["m3"] == "visitor: hola\ncommercial: Sí, 3 días|¿y el coste?"


async def test_the_default_comparison_rewards_answering_not_echoing() -> None:
    """Before: the default metric was length (shorter is better), and similarity counted
    the visitor's own words, so an echo model came out "better than baseline"."""
    rec = gl.load(SAMPLE)
    variants = gl.lab.grid("{content}", [gl.models.FAQModel(), gl.models.EchoModel()])
    results = await gl.lab.run(variants, rec, progress=False, limit=150)
    table = gl.lab.compare(results, baseline=variants[0].id).set_index("variant")
    assert "similarity_to_human" in table.columns  # the default metric
    echo = table.loc["prompt · echo"]
    assert echo["verdict"].startswith("worse than baseline"), echo["verdict"]
    # an exact echo of the visitor adds nothing a human answered
    trial = gl.lab.Trial(
        content="¿Cuánto tarda el envío a Sevilla?", reply="¿Cuánto tarda el envío a Sevilla?",
        prompt="", language="es", reference="El envío a Sevilla tarda 48 horas.",
        latency_ms=None, tokens_in=None, tokens_out=None, cost=None, variant="", message_id="m",
    )  # fmt: skip
    assert gl.lab.similarity().fn(trial) == 0.0
