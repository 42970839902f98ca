"""Models: the offline defaults, and the OpenAI-compatible provider against a real local
HTTP server speaking the same API (the test's own, on an ephemeral port)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from aiohttp import web

import guiders_lab as gl
from guiders_lab._loop import LoopThread
from guiders_lab.models import Context


async def test_faq_model_answers_both_languages_and_hands_over() -> None:
    model = gl.models.FAQModel()
    shipping = await model.reply("¿Cuánto tarda el envío?")
    assert shipping.metadata == {"faq_id": "shipping-times", "handoff": False}
    assert "24-48" in shipping.text and shipping.confidence > 0.3
    english = await model.reply("Which payment methods do you accept?")
    assert english.metadata["faq_id"] == "payment-methods" and "PayPal" in english.text
    human = await model.reply("Me habéis cobrado dos veces el mismo pedido")
    assert human.metadata == {"faq_id": "double-charge", "handoff": True}
    assert "persona" in human.text
    nothing = await model.reply("xyzzy")
    assert nothing.metadata["handoff"] and nothing.confidence == 0.0
    assert shipping.tokens_in > 0 and shipping.tokens_estimated and shipping.cost == 0.0


async def test_rule_and_echo_models() -> None:
    rules = gl.models.RuleModel()
    assert (await rules.reply("Hola, buenas")).metadata["rule"] == "greeting"
    assert (await rules.reply("Thanks a lot!")).metadata["rule"] == "thanks"
    angry = await rules.reply("Es la tercera vez, estoy HARTO!!!")
    assert angry.metadata == {"rule": "complaint", "handoff": True}
    echo = await gl.models.EchoModel().reply("hello there", Context(language="en"))
    assert echo.text == "You said: hello there"
    assert isinstance(gl.models.FAQModel(), gl.models.Model)


def test_cost_from_the_price_table() -> None:
    assert gl.models.cost_of("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert gl.models.cost_of("unknown-model", 10, 10) is None
    assert gl.models.estimate_tokens("a" * 400) == 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def compatible_server() -> Iterator[dict]:
    """A small OpenAI-compatible server: /v1/chat/completions, with or without usage."""
    state: dict = {"requests": [], "usage": True, "delay": 0.0}

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        state["requests"].append({"body": body, "auth": request.headers.get("Authorization")})
        await asyncio.sleep(state["delay"])
        if body["model"] == "broken":
            return web.json_response({"error": {"message": "model not loaded"}}, status=503)
        answer = f"Respuesta a: {body['messages'][-1]['content']}"
        payload = {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": answer},
                }
            ],
        }
        if state["usage"]:
            payload["usage"] = {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
        return web.json_response(payload)

    loop = LoopThread("fake-openai")
    port = free_port()

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", completions)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    runner = loop.run_sync(start())
    state["url"] = f"http://127.0.0.1:{port}/v1"
    yield state
    loop.run_sync(runner.cleanup())
    loop.stop()


async def test_openai_compatible_model(compatible_server: dict) -> None:
    model = gl.models.OpenAIModel(
        "gpt-4o-mini", base_url=compatible_server["url"], api_key="sk-test-secret", max_retries=0
    )
    reply = await model.reply("¿Tenéis la talla 42?", Context(language="es", department="sales"))
    assert reply.text == "Respuesta a: ¿Tenéis la talla 42?"
    assert (reply.tokens_in, reply.tokens_out, reply.tokens_estimated) == (42, 7, False)
    assert reply.cost == pytest.approx((42 * 0.15 + 7 * 0.60) / 1e6)
    request = compatible_server["requests"][0]
    assert request["auth"] == "Bearer sk-test-secret"
    assert request["body"]["messages"][0]["role"] == "system"
    assert "department: sales" in request["body"]["messages"][0]["content"]
    compatible_server["usage"] = False  # e.g. an older llama.cpp server
    estimated = await model.reply("hola")
    assert estimated.tokens_estimated and estimated.tokens_in > 0 and estimated.cost > 0
    assert "sk-test-secret" not in repr(model)


async def test_openai_compatible_errors_are_clear(compatible_server: dict) -> None:
    broken = gl.models.OpenAIModel(
        "broken", base_url=compatible_server["url"], api_key="sk-test-secret", max_retries=0
    )
    with pytest.raises(gl.models.ModelError, match="503") as err:
        await broken.reply("hola")
    assert "sk-test-secret" not in str(err.value)
    compatible_server["delay"] = 2.0
    slow = gl.models.OpenAIModel(
        "gpt-4o-mini",
        base_url=compatible_server["url"],
        api_key="sk-test-secret",
        timeout=0.3,
        max_retries=0,
    )
    with pytest.raises(gl.models.ModelError, match="in time"):
        await slow.reply("hola")
    gone = gl.models.OpenAIModel(
        "gpt-4o-mini",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        api_key="sk-test-secret",
        timeout=2,
        max_retries=0,
    )
    with pytest.raises(gl.models.ModelError, match="cannot reach") as err:
        await gone.reply("hola")
    assert "sk-test-secret" not in str(err.value)


async def test_a_bot_can_use_any_model(compatible_server: dict) -> None:
    model = gl.models.OpenAIModel(
        "gpt-4o-mini", base_url=compatible_server["url"], api_key="k", max_retries=0
    )
    bot = gl.bots.ReactiveBot(model=model)
    from guiders_lab.bots import BotContext
    from guiders_lab.events.records import Message

    ctx = BotContext(gl.Session(gl.Store(), "unit"), "shadow", 1, "message:new")
    msg = Message(
        "m1",
        "c1",
        None,
        1.0,
        "v",
        "visitor",
        "Ana",
        "user",
        "¿Cuánto tarda el envío?",
        "sales",
        None,
        None,
        False,
        None,
        None,
        None,
    )
    actions = await bot.on_message(msg, ctx)
    assert actions[1].payload()["content"] == "Respuesta a: ¿Cuánto tarda el envío?"
    assert actions[1].payload()["metadata"]["aiModel"] == "gpt-4o-mini"
