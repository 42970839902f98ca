"""The simulator: determinism, realistic dynamics, and the effect of client actions."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

import guiders_lab as gl
from guiders_lab.sim import Simulation, get_scenario, texts
from guiders_lab.sim.model import SimError

from .conftest import wait_for

START = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


def run_engine(
    scenario: str = "demo", seed: int = 7, hours: float | None = None, on_event: Any = None
) -> list[tuple[str, dict, str]]:
    out: list[tuple[str, dict, str]] = []
    config = get_scenario(scenario)
    if hours is not None:
        config = config.with_(hours=hours)

    def emit(event: str, payload: dict, room: str) -> None:
        out.append((event, payload, room))
        if on_event:
            on_event(sim, event, payload)

    sim = Simulation(config, seed, START, emit)
    sim.begin()
    sim.run_until(config.hours * 3600 + 7200)
    return out


def test_same_seed_same_sequence_and_different_seed_differs() -> None:
    a = run_engine(seed=7, hours=1)
    b = run_engine(seed=7, hours=1)
    c = run_engine(seed=8, hours=1)
    assert len(a) > 500
    assert orjson.dumps(a) == orjson.dumps(b)
    assert orjson.dumps(a) != orjson.dumps(c)


def test_a_day_has_every_event_and_realistic_mix() -> None:
    events = run_engine("demo")
    counts = Counter(name for name, _, _ in events)
    for name in (
        "message:new",
        "chat:created",
        "chat:assigned",
        "chat:closed",
        "visitor:online",
        "commercial:status",
        "visitor:action",
        "typing:start",
        "typing:stop",
    ):
        assert counts[name] > 0, name
    assert counts["typing:start"] == counts["typing:stop"]  # every indicator is closed
    messages = [p for name, p, _ in events if name == "message:new"]
    assert all(
        set(p) >= {"chatId", "messageId", "content", "type", "sender", "timestamp", "metadata"}
        for p in messages
    )
    assert all(set(p["metadata"]) >= {"department", "urgency", "source"} for p in messages)
    visitor_texts = [p["content"] for p in messages if p["sender"]["role"] == "visitor"]
    spanish = sum(any(ch in t for ch in "¿¡áéíóúñ") for t in visitor_texts)
    assert 0.3 < spanish / len(visitor_texts) < 0.95  # both languages, mostly Spanish
    reasons = Counter(p["reason"] for name, p, _ in events if name == "chat:closed")
    assert reasons["resolved"] > reasons["abandoned"] > 0
    converted = sum(p["metadata"]["converted"] for name, p, _ in events if name == "chat:closed")
    assert 0 < converted < reasons["resolved"]
    typing_rooms = {room for name, _, room in events if name.startswith("typing:")}
    assert all(room.startswith("chat:") for room in typing_rooms)
    assert len(set(visitor_texts)) > 400  # varied text, not a few templates


def test_ignored_visitors_get_angrier_and_leave() -> None:
    events = run_engine("unattended", hours=2)
    closed = [p for name, p, _ in events if name == "chat:closed"]
    assert closed and all(p["reason"] == "abandoned" for p in closed)
    urgencies = Counter(
        p["metadata"]["urgency"]
        for name, p, _ in events
        if name == "message:new" and p["sender"]["role"] == "visitor"
    )
    assert urgencies["high"] > 0
    angry = [
        p["content"].lower()
        for name, p, _ in events
        if name == "message:new"
        and p["metadata"]["urgency"] == "high"
        and p["sender"]["role"] == "visitor"
    ]
    escalation = ("reembolso", "supervisor", "responsable", "tercera", "refund", "manager", "third")
    assert any(word in text for text in angry for word in escalation)


def _answer_every_chat_at_once(sim: Simulation, event: str, payload: dict) -> None:
    """A bot that replies to every visitor message immediately (at the same sim time)."""
    if event == "message:new" and payload["sender"]["role"] == "visitor":
        sim.act_message(
            {
                "chatId": payload["chatId"],
                "content": "¡Hola! Te ayudo ahora mismo.",
                "type": "ai-response",
            },
            {"id": "ai", "name": "IA", "role": "ai"},
        )


def test_fast_answers_mean_fewer_abandoned_chats() -> None:
    def abandonment(events: list) -> float:
        reasons = [p["reason"] for name, p, _ in events if name == "chat:closed"]
        return reasons.count("abandoned") / len(reasons)

    ignored = abandonment(run_engine("unattended", seed=3, hours=3))
    answered = abandonment(
        run_engine("unattended", seed=3, hours=3, on_event=_answer_every_chat_at_once)
    )
    assert ignored == 1.0
    assert answered < 0.5


def test_assignment_and_conversion_trigger_change_outcomes() -> None:
    out: list = []
    sim = Simulation(get_scenario("unattended"), 4, START, lambda e, p, r: out.append((e, p)))
    sim.begin()
    sim.run_until(3600)
    chat = next(c for c in sim.chats.values() if c.open)
    before = sim.conversion_probability(chat)
    sim.act_trigger({"visitorId": chat.visitor.id, "strategy": "premium_attention"})
    assert sim.conversion_probability(chat) > before
    free = next(c for c in sim.commercials.values() if c.can_take)
    sim.act_assign({"chatId": chat.id, "commercialId": free.id}, "ai-system")
    assert chat.commercial is free
    sim.run_until(sim.now + 600)
    answers = [
        p
        for e, p in out
        if e == "message:new" and p["chatId"] == chat.id and p["sender"]["role"] == "commercial"
    ]
    assert answers and answers[0]["sender"]["id"] == free.id


def test_actions_are_refused_with_codes() -> None:
    sim = Simulation(get_scenario("demo"), 1, START, lambda *a: None)
    sim.begin()
    sim.run_until(1800)
    with pytest.raises(SimError) as err:
        sim.act_assign({"chatId": "chat-nope", "commercialId": "commercial-lucia"}, "x")
    assert err.value.code == "CHAT_NOT_FOUND"
    closed = next(c for c in sim.chats.values() if not c.open)
    with pytest.raises(SimError, match="closed"):
        sim.act_message({"chatId": closed.id, "content": "hola"}, {"id": "ai"})


async def test_idempotency_keys_make_retries_harmless() -> None:
    import socketio

    with gl.launch_simulator("unattended", seed=2, speed=600) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        await wait_for(lambda: len(live.store.chats) > 0)
        chat = live.chats["chat_id"].iloc[0]
        raw = socketio.AsyncClient(reconnection=False)
        await raw.connect(sim.url, auth={"token": sim.token}, transports=["websocket"])
        payload = {"chatId": chat, "content": "hola", "idempotencyKey": "k-1"}
        first = await raw.call("message:send", payload, timeout=5)
        again = await raw.call("message:send", payload, timeout=5)
        other = await raw.call("message:send", {**payload, "idempotencyKey": "k-2"}, timeout=5)
        await raw.disconnect()
        await wait_for(lambda: (live.messages["message_id"] == other["messageId"]).any())
        await live.close()
    assert again["messageId"] == first["messageId"] and again["duplicate"]
    assert other["messageId"] != first["messageId"]
    ai = live.messages[live.messages["content"] == "hola"]
    assert len(ai) == 2  # the retry did not post the message again


def test_texts_are_deterministic_and_cover_both_languages() -> None:
    import random

    for lang in texts.LANGUAGES:
        for dept in texts.DEPARTMENTS:
            for mood in texts.MOODS:
                a = texts.opening(random.Random(5), lang, dept, mood)
                assert a == texts.opening(random.Random(5), lang, dept, mood)
                assert "{" not in a and a.strip()


async def test_same_seed_same_sequence_over_the_socket() -> None:
    scenario = get_scenario("demo").with_(hours=0.5)

    async def capture(seed: int) -> list[tuple[str, str]]:
        with gl.launch_simulator(scenario, seed=seed, speed=math.inf) as sim:
            live = await gl.connect(sim, heartbeat_interval=3600)
            await wait_for(
                lambda: (
                    live.counts().get("chat:closed", 0) >= 5 and sim.snapshot()["open_chats"] == 0
                ),
                timeout=30,
            )
            await wait_for(
                lambda: (
                    sum(live.counts().values()) - live.counts().get("pong", 0) == sim.server.seq
                ),
                timeout=10,
            )
            await live.close()
        events = live.events
        events = events[(events["direction"] == "in") & (events["name"] != "pong")]
        return list(zip(events["name"], events["payload"], strict=True))

    first, second, other = await capture(7), await capture(7), await capture(8)
    assert len(first) > 300
    assert first == second
    assert first != other


async def test_flood_mode_delivers_every_event() -> None:
    with gl.launch_simulator("demo", seed=1, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, heartbeat_interval=3600)
        report = sim.flood(3000)
        assert report["events"] == 3000 and report["events_per_s"] > 0
        await wait_for(lambda: live.counts().get("message:new", 0) == 3000, timeout=30)
        await live.close()
    assert live.messages["message_id"].is_unique and len(live.messages) == 3000


def test_agents_finishing_their_shift_are_busy_not_available() -> None:
    reports: list[dict] = []
    sim = Simulation(
        get_scenario("busy_afternoon").with_(hours=1),
        3,
        START,
        lambda e, p, r: reports.append(p) if e == "commercial:status" else None,
    )
    sim.begin()
    sim.run_until(3600 + 1)  # just past the end of the shift
    finishing = [c for c in sim.commercials.values() if c.active]
    assert finishing  # someone is still finishing chats
    assert all(c.status == "busy" for c in finishing)
    sim.run_until(4 * 3600)
    assert all(c.status == "offline" for c in sim.commercials.values())


def test_repeated_launches_leak_no_file_descriptors() -> None:
    import os

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    with gl.launch_simulator(seed=1) as warm:
        warm.snapshot()
    before = open_fds()
    for _ in range(8):
        with gl.launch_simulator(seed=1) as sim:
            sim.snapshot()
    assert open_fds() <= before + 2


async def test_the_pacing_loop_stops_when_cancelled_as_it_wakes() -> None:
    """A stop that lands in the same loop turn as a wake-up (a client's action) must still
    stop the simulated world: Python 3.11's ``wait_for`` would swallow it and the server
    would never shut down."""
    from guiders_lab.sim.server import SimServer

    server = SimServer("demo", seed=1, speed=0.001)
    pacing = asyncio.create_task(server._pace())
    server.begin()
    await asyncio.sleep(0.05)  # waiting, with a timeout, for the next simulated event
    assert not pacing.done()
    server._wake.set()
    pacing.cancel()
    done, _ = await asyncio.wait({pacing}, timeout=2)
    assert pacing in done and pacing.cancelled()


def test_every_client_event_has_exactly_one_handler() -> None:
    from guiders_lab.dialects.ai_api.wire import CLIENT_EVENTS
    from guiders_lab.sim.handlers import HANDLERS

    assert set(HANDLERS) == set(CLIENT_EVENTS)


def test_behaviour_knobs_are_reachable_through_with_() -> None:
    demo = get_scenario("demo")
    calm = demo.with_(hours=1, visitors={"patience_spread": 0.1}, staff={"load_slowdown": 0.0})
    assert calm.hours == 1 and calm.visitors.patience_spread == 0.1
    assert calm.staff.load_slowdown == 0.0
    assert calm.visitors.nudges_before_leaving == demo.visitors.nudges_before_leaving
    assert demo.visitors.patience_spread == 0.4  # the preset is untouched
    with pytest.raises(TypeError, match=r"no field .patiense.; its fields: .*patience_spread"):
        demo.with_(visitors={"patiense": 3})
    with pytest.raises(ValueError, match=r"break_s must be \(low, high\)"):
        demo.with_(staff={"break_s": (900.0, 300.0)})


def test_behaviour_knobs_change_what_happens() -> None:
    """A knob is read where it matters: visitors who never give up abandon nothing, and
    visitors who leave at once abandon more, on the same seed."""

    def abandoned(scenario: Any) -> int:
        out: list[tuple[str, dict]] = []
        sim = Simulation(scenario, 3, START, lambda e, p, r: out.append((e, p)))
        sim.begin()
        sim.run_until(scenario.hours * 3600 + 7200)
        return sum(p["reason"] == "abandoned" for e, p in out if e == "chat:closed")

    base = get_scenario("unattended").with_(hours=1, idle_timeout_s=10 * 3600)
    stubborn = base.with_(visitors={"nudges_before_leaving": 1000})
    hasty = base.with_(visitors={"nudges_before_leaving": 0})
    assert abandoned(stubborn) == 0 < abandoned(base) <= abandoned(hasty)


def test_phrase_files_load_for_every_language() -> None:
    from guiders_lab.sim import phrasebook

    for lang in texts.LANGUAGES:
        book = phrasebook.phrases(lang)
        assert set(book.openings) == {(d, m) for d in texts.DEPARTMENTS for m in texts.MOODS}
        assert set(book.follow_ups) == {1, 2, 3}
    assert set(phrasebook.shared().pages) == set(texts.DEPARTMENTS)


def test_the_sample_command_is_deterministic(tmp_path) -> None:
    """``guiders-lab sample`` twice on the same seed, 20 simulated minutes over the real
    socket: the same journal, line for line, apart from wall-clock fields (the receive
    time ``t`` and ``meta.serverTime``)."""
    import subprocess
    import sys

    def journal(name: str) -> list[dict]:
        out = tmp_path / name
        command = [sys.executable, "-m", "guiders_lab.cli", "sample", str(out)]
        done = subprocess.run(
            [*command, "--seed", "5", "--hours", "0.34"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        lines = []
        for raw in (out / "events.jsonl").read_bytes().splitlines():
            entry = orjson.loads(raw)
            entry.pop("t", None)
            entry.get("meta", {}).pop("serverTime", None)
            lines.append(entry)
        return lines

    first = journal("a")
    assert len(first) > 100
    assert first == journal("b")
