"""Bots: their decisions (unit) and the runner on live sessions, replays and recordings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

import guiders_lab as gl
from guiders_lab.bots import BotContext
from guiders_lab.events.records import (
    ChatClosed,
    ChatCreated,
    Message,
    Presence,
    VisitorAction,
)

from .conftest import wait_for

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"
T = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Madrid
NIGHT = datetime(2025, 1, 15, 23, 30, tzinfo=UTC)


def ctx(session: gl.Session | None = None, seq: int = 1, name: str = "message:new") -> BotContext:
    return BotContext(session or gl.Session(gl.Store(), "unit"), "shadow", seq, name)


def message(
    content: str, chat: str = "c1", role: str = "visitor", at: datetime = T, sender: str = "v1"
) -> Message:
    return Message(
        f"m-{abs(hash((content, chat))) % 10**6}",
        chat,
        at,
        at,
        sender,
        role,
        "Ana",
        "user" if role == "visitor" else role,
        content,
        "sales",
        "low",
        "web",
        role == "ai",
        None,
        None,
        None,
    )


def commercial(
    cid: str, status: str, active: int, specialties: str, max_chats: int = 2
) -> Presence:
    return Presence(
        T, T, "commercial", cid, cid, status, None, None, None, active, max_chats, specialties
    )


# ------------------------------------------------------------------ decisions (unit)


async def test_reactive_bot_answers_simple_questions_with_typing_and_metadata() -> None:
    bot = gl.bots.ReactiveBot()
    actions = await bot.on_message(message("¿Cuánto tarda el envío a Canarias?"), ctx())
    assert [a.event for a in actions] == ["typing:start", "message:send", "typing:stop"]
    reply = actions[1].payload()
    assert reply["type"] == "ai-response" and reply["chatId"] == "c1"
    assert set(reply["metadata"]) == {"aiModel", "confidence", "processingTime", "isAutomated"}
    assert reply["metadata"]["aiModel"] == "faq" and reply["metadata"]["isAutomated"] is True
    # an angry visitor, a human-only topic, or a commercial's own message: no answer
    assert (
        await bot.on_message(message("Es la TERCERA vez que os escribo, estoy harto!!!"), ctx())
        == []
    )
    assert await bot.on_message(message("Me habéis cobrado dos veces el pedido"), ctx()) == []
    assert await bot.on_message(message("¿Cuánto tarda el envío?", role="commercial"), ctx()) == []
    welcome = bot.on_chat_created(
        ChatCreated("c2", "v", "Ana", "sales", "pending", T, T, "web", "low", "en"), ctx()
    )
    assert welcome[0].payload()["content"].startswith("Hi!")


async def test_reactive_bot_leaves_assigned_chats_to_humans_in_business_hours() -> None:
    store = gl.Store()
    store.ingest(
        "chat:assigned",
        ({"chatId": "c1", "commercialId": "commercial-ana", "assignedAt": "2025-01-15T09:59:00Z"},),
        T.timestamp(),
    )
    session = gl.Session(store, "unit")
    bot = gl.bots.ReactiveBot()
    question = "¿Cuánto tarda el envío a Canarias?"
    assert await bot.on_message(message(question, at=T), ctx(session)) == []
    night = await bot.on_message(message(question, at=NIGHT), ctx(session))
    assert [a.event for a in night][1] == "message:send"  # after hours the AI steps in
    assert bot.in_business_hours(T) and not bot.in_business_hours(NIGHT)


async def test_reactive_bot_never_processes_a_chat_twice_at_once() -> None:
    class SlowModel(gl.models.FAQModel):
        async def reply(self, prompt, context=None):
            await asyncio.sleep(0.05)
            return await super().reply(prompt, context)

    bot = gl.bots.ReactiveBot(model=SlowModel())
    first, second = await asyncio.gather(
        bot.on_message(message("¿Cuánto tarda el envío?"), ctx()),
        bot.on_message(message("¿Y el envío a Baleares?"), ctx()),
    )
    assert len(first) == 3 and second == [] and bot.skipped_busy == 1


def test_sentiment_monitor_flags_and_notifies_once_per_chat() -> None:
    session = gl.Session(gl.Store(), "unit")
    bot = gl.bots.SentimentMonitor()
    angry = "Es una VERGÜENZA, la tercera vez que me cobráis dos veces!!! Quiero un reembolso YA"
    first = bot.on_message(message(angry), ctx(session))
    assert [a.event for a in first] == ["chat:update", "notification:send"]
    update = first[0].payload()["updates"]
    assert update["priority"] == "high" and update["tags"] == ["urgente", "sentimiento-negativo"]
    notify = first[1].payload()
    assert notify["target"] == "supervisors" and notify["data"]["chatId"] == "c1"
    again = bot.on_message(message(angry + "!!"), ctx(session))
    assert [a.event for a in again] == ["chat:update"]  # supervisors are told once
    assert bot.on_message(message("Gracias, todo perfecto"), ctx(session)) == []
    assert session.store.chats.get("c1").min_sentiment < -0.7
    strict = gl.bots.SentimentMonitor(threshold=1.0)  # intensity never exceeds 1
    assert strict.on_message(message(angry), ctx(session)) == []


def test_load_distributor_scores_queues_and_drains() -> None:
    bot = gl.bots.LoadDistributor()
    c = ctx()
    bot.on_commercial_status(commercial("ana", "available", 0, "sales"), c)
    bot.on_commercial_status(commercial("ben", "available", 0, "support"), c)
    (assign,) = bot.on_chat_created(
        ChatCreated("s1", "v", None, "support", None, T, T, None, None, None), c
    )
    payload = assign.payload()
    assert payload["commercialId"] == "ben"  # the specialist wins at equal load
    assert payload["metadata"]["algorithm"] == "ai_load_balancer_v2"
    assert 0 < payload["metadata"]["assignmentScore"] <= 1 and payload["reason"]
    placed = [
        bot.on_chat_created(ChatCreated(chat, "v", None, "sales", None, T, T, None, None, None), c)
        for chat in ("s2", "s3", "s4", "s5")
    ]
    assert [a[0].payload()["commercialId"] for a in placed[:3]] == ["ana", "ana", "ben"]
    assert placed[3] == [] and list(bot.queue) == ["s5"]  # 2/2 each: the fifth chat waits
    freed = bot.on_chat_closed(ChatClosed("s1", T, T, "ben", "resolved", None, None), c)
    assert [a.payload()["chatId"] for a in freed] == ["s5"] and not bot.queue
    assert bot.on_commercial_status(commercial("ben", "away", 0, "support"), c) == []
    assert bot.on_commercial_status(commercial("ana", "available", 1, "sales"), c) == []
    assert bot.best("support")[0].id == "ana"  # ben is away: ana despite the specialty


def test_conversion_predictor_triggers_once_for_a_hot_visitor() -> None:
    bot = gl.bots.ConversionPredictor()
    c = ctx(name="visitor:action")
    steps = ["page_view", "product_view", "pricing_view", "add_to_cart", "checkout_start"]
    probabilities, triggers = [], []
    for step in steps:
        triggers += bot.on_visitor_action(VisitorAction("v1", None, step, "/p", 120.0, T, T), c)
        probabilities.append(bot.probability("v1"))
    assert probabilities == sorted(probabilities) and probabilities[0] < 0.2
    assert len(triggers) == 1 and triggers[0].payload() == {
        "visitorId": "v1",
        "strategy": "premium_attention",
    }
    assert (
        bot.on_visitor_action(VisitorAction("v1", None, "checkout_start", "/p", None, T, T), c)
        == []
    )
    assert bot.on_visitor_action(VisitorAction("v2", None, "page_view", "/", None, T, T), c) == []


def test_copilot_suggests_privately_to_the_commercial() -> None:
    bot = gl.bots.Copilot()
    c = ctx()
    assert bot.on_message(message("¿Puedo pagar con Bizum?"), c) == []
    (suggest,) = bot.on_message(
        message("Hola, te ayudo", role="commercial", sender="commercial-ana"), c
    )
    payload = suggest.payload()
    assert payload["commercialId"] == "commercial-ana" and payload["private"] is True
    assert "Bizum" in payload["suggestions"][0]["text"]
    assert payload["suggestions"][0]["source"] == "faq:payment-methods"


# ------------------------------------------------------------------ the runner


@pytest.fixture
def busy_sim():
    with gl.launch_simulator(
        "busy_afternoon", seed=5, speed=600, tokens={"ai": "ai", "sup": "supervisor"}
    ) as sim:
        yield sim


ALL_BOTS = (
    gl.bots.ReactiveBot,
    gl.bots.SentimentMonitor,
    gl.bots.LoadDistributor,
    gl.bots.Copilot,
    gl.bots.ConversionPredictor,
)


async def test_shadow_bots_record_everything_and_send_nothing(busy_sim) -> None:
    live = await gl.connect(busy_sim.url, "ai", heartbeat_interval=None)
    runs = [await live.run(bot(), mode="shadow") for bot in ALL_BOTS]
    await wait_for(lambda: all(r.decided > 0 for r in runs), timeout=30)
    await live.close()
    actions = live.actions
    assert set(actions["bot"]) == {bot.__name__ for bot in ALL_BOTS}
    assert (actions["mode"] == "shadow").all() and actions["ok"].isna().all()
    assert actions["trigger_seq"].notna().all() and actions["processing_ms"].notna().all()
    assert actions["decided_at"].notna().all()
    events = set(actions["name"])
    assert {
        "message:send",
        "chat:update",
        "notification:send",
        "chat:assign",
        "assistance:suggestions",
        "trigger:high_conversion_flow",
    } <= events
    assert (live.events["direction"] == "out").sum() == 0  # nothing was sent
    assert not (live.messages["sender_role"] == "ai").any()
    seq = int(actions.iloc[0]["trigger_seq"])
    trigger = live.events.set_index("seq").loc[seq]
    assert trigger["direction"] == "in"


async def test_live_bots_act_through_the_client(busy_sim) -> None:
    live = await gl.connect(busy_sim.url, "ai", heartbeat_interval=None)
    supervisor = await gl.connect(busy_sim.url, "sup", heartbeat_interval=None)
    runs = [
        await live.run(gl.bots.ReactiveBot(), mode="live"),
        await live.run(gl.bots.SentimentMonitor(), mode="live"),
        await live.run(gl.bots.LoadDistributor(), mode="live"),
    ]
    await wait_for(
        lambda: (
            (live.messages["sender_role"] == "ai").sum() >= 3
            and "notification:send" in supervisor.counts()
            and (live.assignments["assigned_by"] == "ai-system").any()
        ),
        timeout=40,
    )
    await live.close()
    await supervisor.close()
    actions = live.actions
    sent = actions[actions["mode"] == "live"]
    assert sent["ok"].all() or sent["ok"].mean() > 0.9
    assert sent["ack_ms"].notna().all()
    ai = live.messages[live.messages["sender_role"] == "ai"]
    assert ai["is_ai"].all() and set(ai["ai_model"]) <= {"faq", "welcome"}
    assert runs[0].errors == [] and runs[2].decided > 0


async def test_a_broken_or_slow_bot_does_not_stop_capture_or_other_bots(busy_sim) -> None:
    class Broken(gl.bots.Bot):
        def on_message(self, m, ctx):
            raise RuntimeError("model exploded")

    class Slow(gl.bots.Bot):
        async def on_visitor_action(self, action, ctx):
            await asyncio.sleep(1.0)

    live = await gl.connect(busy_sim.url, "ai", heartbeat_interval=None)
    broken = await live.run(Broken(), mode="shadow")
    slow = await live.run(Slow(), mode="shadow")
    monitor = await live.run(gl.bots.SentimentMonitor(), mode="shadow")
    await wait_for(
        lambda: len(broken.errors) >= 5 and monitor.decided >= 1 and slow.backlog >= 5, timeout=30
    )
    # capture flows while the slow bot lags behind: 20 more visitor actions captured
    # while the bot (1 s each) gets through far fewer (capture lag in figures:
    # benchmarks/bench_bots.py)
    before, handled = live.counts().get("visitor:action", 0), slow.handled
    await wait_for(lambda: live.counts().get("visitor:action", 0) >= before + 20, timeout=30)
    assert slow.handled - handled < 20
    await live.close()
    errors = live.actions.query("name == 'bot:error'")
    assert (errors["bot"] == "Broken").all() and len(errors) >= 5
    assert errors["error_code"].eq("RuntimeError").all()
    assert "model exploded" in errors.iloc[0]["error_message"]


async def test_bots_keep_working_across_a_reconnect(busy_sim) -> None:
    live = await gl.connect(
        busy_sim.url, "ai", heartbeat_interval=None, reconnection_delay=0.1, randomization_factor=0
    )
    run = await live.run(gl.bots.LoadDistributor(), mode="shadow")
    await wait_for(lambda: run.decided >= 3, timeout=20)
    busy_sim.drop_connections()
    await wait_for(lambda: live.metrics()["reconnections"] == 1, timeout=10)
    decided = run.decided
    await wait_for(lambda: run.decided >= decided + 3, timeout=20)
    await live.close()
    assert run.errors == []


async def test_shadow_bots_on_a_replay_are_deterministic() -> None:
    async def once() -> list:
        session = gl.replay(SAMPLE, speed=float("inf"), start=False)
        await session.run(gl.bots.SentimentMonitor())
        await session.run(gl.bots.LoadDistributor())
        session.start()
        await session.finished()
        for run in session.bots:
            await run.drain()
        await session.close()
        actions = session.actions
        return list(
            zip(
                actions["bot"],
                actions["name"],
                actions["trigger_seq"],
                actions["payload"].map(lambda p: orjson.loads(p).get("chatId")),
                strict=True,
            )
        )

    first, second = await once(), await once()
    assert len(first) > 100 and first == second
    session = gl.replay(SAMPLE, speed=float("inf"), start=False)
    with pytest.raises(gl.ReplayReadOnlyError):
        await session.run(gl.bots.ReactiveBot(), mode="live")


async def test_shadow_bots_over_a_loaded_recording() -> None:
    rec = gl.load(SAMPLE)
    run = await rec.run(gl.bots.LoadDistributor())
    actions = rec.actions.query("bot == 'LoadDistributor'")
    assert len(actions) == run.decided > 0
    assert set(actions["name"]) == {"chat:assign"}
    assert set(actions["chat_id"]) <= set(rec.chats["chat_id"])
    with pytest.raises(gl.ReplayReadOnlyError):
        await rec.run(gl.bots.LoadDistributor(), mode="live")
    inspector = gl.ChatInspector(rec)
    inspector.select(actions.iloc[0]["chat_id"])
    assert (
        "LoadDistributor" in inspector.bot_actions.value and "shadow" in inspector.bot_actions.value
    )


async def _outcomes(bot: gl.bots.Bot | None) -> dict:
    with gl.launch_simulator("busy_afternoon", seed=12, speed=600) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        if bot is not None:
            await live.run(bot, mode="live")
        await wait_for(lambda: live.counts().get("chat:created", 0) >= 120, timeout=60)
        await live.close()
    chats = live.chats.head(100)  # the same first 100 chats in every run (same seed)
    outcomes = gl.analysis.chat_outcomes(chats)
    return {
        "time_to_assign": outcomes["time_to_assign_s"].median(),
        "time_to_first_response": outcomes["time_to_first_response_s"].median(),
        "abandoned": gl.analysis.outcome_summary(outcomes)["abandonment_rate"].iloc[0],
    }


async def test_live_bots_improve_outcomes_on_the_seeded_simulator() -> None:
    baseline = await _outcomes(None)
    distributed = await _outcomes(gl.bots.LoadDistributor())
    reactive = await _outcomes(gl.bots.ReactiveBot())
    assert distributed["time_to_assign"] < baseline["time_to_assign"] / 5
    assert reactive["time_to_first_response"] < baseline["time_to_first_response"]
    assert reactive["abandoned"] < baseline["abandoned"]


def test_bots_receive_records_with_datetimes() -> None:
    store = gl.Store()
    seen = []
    store.subscribe(lambda seq, name, record: seen.append(record))
    store.ingest(
        "message:new",
        (
            {
                "chatId": "c",
                "messageId": "m",
                "content": "hola",
                "sender": {"id": "v", "role": "visitor"},
                "timestamp": "2025-01-15T10:00:00Z",
            },
        ),
        T.timestamp(),
    )
    assert seen[0].sent_at == T and seen[0].received_at == T


async def test_stopping_a_bot_lets_the_replay_it_ran_with_go_on() -> None:
    class Slow(gl.bots.Bot):
        async def on_message(self, m, ctx):
            await asyncio.sleep(0.02)

    session = gl.replay(SAMPLE, speed=float("inf"), start=False, progress=False)
    run = await session.run(Slow())
    session.start()
    await wait_for(lambda: run.handled > 3, timeout=20)
    await run.stop()  # in the middle of an event
    await asyncio.wait_for(session.finished(), 30)
    await asyncio.wait_for(run.drain(), 5)  # nothing to wait for once stopped
    await session.close()
    assert len(session.events) == 3310 and run.handled < 1214


class _Unwritable(gl.bots.Bot):
    """Actions a bot should never decide: too big an int, a payload that raises."""

    def on_chat_created(self, c, ctx):
        return gl.bots.SendMessage(c.chat_id, "hi", {"n": 2**70})

    def on_chat_closed(self, c, ctx):
        class Exploding(gl.bots.BotAction):
            event = "chat:update"

            def payload(self):
                raise ValueError("no payload today")

        return Exploding()


async def test_actions_that_cannot_be_sent_are_recorded_as_failed_and_the_run_goes_on() -> None:
    rec = gl.load(SAMPLE)
    run = await asyncio.wait_for(rec.run(_Unwritable()), 60)
    failed = rec.actions[rec.actions["ok"] == False]  # noqa: E712
    created, closed = len(rec.chats), rec.chats["closed_at"].notna().sum()
    assert run.failed_actions == len(failed) == created + closed
    assert set(failed["error_code"]) == {"PayloadError", "ValueError"}
    assert failed["payload"].notna().all()


async def test_live_bots_record_actions_that_fail_the_payload_check(busy_sim) -> None:
    class Silent(gl.bots.Bot):
        def on_chat_created(self, c, ctx):
            return gl.bots.SendMessage(c.chat_id, "")  # empty text: not a valid message

    live = await gl.connect(busy_sim.url, "ai", heartbeat_interval=None)
    run = await live.run(Silent(), mode="live")
    await wait_for(lambda: run.failed_actions >= 2, timeout=30)
    await live.close()
    failed = live.actions[live.actions["name"] == "message:send"]
    assert len(failed) >= 2 and (failed["error_code"] == "PayloadError").all()
    assert (live.events["direction"] == "out").sum() == 0  # none of them was sent


async def test_a_sentiment_monitor_over_a_recording_notes_into_that_recording() -> None:
    """Recording.run plays the recording through a replay: the bot's notes
    (``chats.min_sentiment``) belong in the recording, as its actions do; its payloads
    carry the event's time, so two runs give the same actions."""
    first, second = gl.load(SAMPLE), gl.load(SAMPLE)
    await first.run(gl.bots.SentimentMonitor())
    await second.run(gl.bots.SentimentMonitor())
    noted = first.chats["min_sentiment"].notna().sum()
    assert noted > 50 and noted == second.chats["min_sentiment"].notna().sum()
    assert first.actions["payload"].tolist() == second.actions["payload"].tolist()
    assert "2025-01-15" in first.actions.query("name == 'chat:update'")["payload"].iloc[0]
