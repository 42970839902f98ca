"""Tokens never reach reprs, metrics, exceptions or logs."""

from __future__ import annotations

import contextlib
import logging
import pickle
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

import guiders_lab as gl
from guiders_lab.models import Context, ModelError, OpenAIModel
from guiders_lab.secrets import Secret, redact_url, url_secrets

from .conftest import wait_for

TOKEN = "sk-live-7f3a9c2e-super-secret"


def test_secret_never_shows_itself() -> None:
    secret = Secret(TOKEN)
    assert TOKEN not in repr(secret) and TOKEN not in str(secret) and TOKEN not in f"{secret}"
    assert secret.reveal() == TOKEN
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_urls_lose_credentials() -> None:
    url = redact_url(f"wss://user:pw@api.guiders.com/socket.io/?token={TOKEN}&x=1")
    assert TOKEN not in url and "pw" not in url
    assert url.startswith("wss://api.guiders.com/socket.io/") and "x=1" in url


def test_url_secrets_are_what_redact_url_drops() -> None:
    url = "https://lab:p%40ss@llm.local/v1?api_key=k/1&model=x&token=t"
    assert url_secrets(url) == ["p@ss", "k/1", "t", "p%40ss", "k%2F1"]
    assert url_secrets("http://127.0.0.1:8000/v1") == []
    assert url_secrets("https://sk-LIVE-1234567890@proxy.local/v1?sig=abc") == [
        "sk-LIVE-1234567890",
        "abc",
    ]
    assert "abc" not in redact_url("https://proxy.local/v1?sig=abc&code=xyz")


@pytest.mark.parametrize(
    "url",
    [
        "http://h/p?a=1;token=S3CRET-VALUE",  # ``;`` separates too
        "http://h/p?pass=S3CRET-VALUE",
        "http://h/p?pwd=S3CRET-VALUE",
        "http://h/p?bearer=S3CRET-VALUE",
        "http://h/p?private=S3CRET-VALUE",
        "http://h/p?sessionid=S3CRET-VALUE",
        "http://h/p?S3CRET-VALUE",  # a long bare word is a key
        "http://h/p?next=http%3A%2F%2Fx%2F%3Ftoken%3DS3CRET-VALUE",  # a URL inside
    ],
)
def test_unusual_url_forms_lose_their_secret(url: str) -> None:
    assert "S3CRET-VALUE" not in redact_url(url)
    assert "S3CRET-VALUE" in url_secrets(url) or any("S3CRET-VALUE" in s for s in url_secrets(url))


def test_redacted_urls_stay_urls() -> None:
    assert (
        redact_url("http://[::1]:8080/p?token=x&flag=1") == "http://[::1]:8080/p?token=***&flag=1"
    )


@pytest.mark.parametrize("query", ["?t={}", "?access={}", "?x=1;token={}", "?k={}"])
async def test_a_token_in_the_url_under_any_key_is_in_no_file(tmp_path: Path, query: str) -> None:
    """The session knows its token: wherever the URL carries it, it is scrubbed from the
    manifest, the Parquet metadata, reprs and errors."""
    with gl.launch_simulator(seed=1, speed=600, tokens=TOKEN) as sim:
        url = f"{sim.url}/{query.format(TOKEN)}"
        live = await gl.connect(url, TOKEN, record_to=tmp_path / "rec", heartbeat_interval=None)
        await wait_for(lambda: len(live.store) > 20)
        texts = [repr(live), repr(live.transport), live._repr_html_()]
        await live.close()
    assert all(TOKEN not in text for text in texts)
    files = _everything_on_disk(tmp_path)
    assert len(files) > 3
    assert [name for name, data in files.items() if TOKEN.encode() in data] == []


async def test_token_is_nowhere_after_a_session(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with gl.launch_simulator(seed=1, speed=600, tokens=TOKEN) as sim:
        with pytest.raises(gl.AuthenticationError) as refused:
            await gl.connect(sim.url, TOKEN + "-wrong", reconnection_attempts=0)
        live = await gl.connect(f"{sim.url}?token={TOKEN}", TOKEN, heartbeat_interval=0.2)
        await wait_for(lambda: live.metrics()["mean_latency_ms"] is not None)
        sim.drop_connections()
        await wait_for(lambda: live.metrics()["reconnections"] == 1)
        texts = [
            repr(live),
            live._repr_html_(),
            str(live.metrics()),
            repr(live.transport),
            str(refused.value),
            repr(sim),
            sim._repr_html_(),
            caplog.text,
        ]
        await live.close()
    texts.append(live.events.to_csv())
    for text in texts:
        assert TOKEN not in text


API_KEY = "sk-proj-QX9apikey-4b7e1d0c-never-print-me"


def _everything_on_disk(*roots: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file()}


def _chain(exc: BaseException | None) -> list[BaseException]:
    """The exception and everything it drags along (``__cause__``, ``__context__``)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


@contextlib.asynccontextmanager
async def _tattletale_llm() -> AsyncIterator[str]:
    """An OpenAI-compatible server that refuses every key and quotes it back in full."""

    async def refuse(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "")
        return web.json_response({"error": {"message": f"bad key {key}"}}, status=401)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


async def test_no_secret_anywhere_after_a_full_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Token and API key through everything a lab does: a refused token, a recorded live
    session with a reconnection, a shadow bot whose model fails, load, report."""
    caplog.set_level(logging.DEBUG)
    secrets = [TOKEN, API_KEY]
    raised: list[BaseException] = []
    texts: list[str] = []
    recording, refused_dir, report = tmp_path / "rec", tmp_path / "refused", tmp_path / "r.html"
    model = OpenAIModel(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2)
    with pytest.warns(UserWarning, match="api_key="):
        keyed_url = OpenAIModel(
            base_url=f"http://lab:{API_KEY}@127.0.0.1:9/v1?api_key={API_KEY}", max_retries=0
        )
    with gl.launch_simulator(seed=1, speed=600, tokens=TOKEN) as sim:
        with pytest.raises(gl.AuthenticationError) as refused:
            await gl.connect(
                sim.url, TOKEN + "-wrong", record_to=refused_dir, reconnection_attempts=0
            )
        raised.append(refused.value)
        live = await gl.connect(
            f"{sim.url}?token={TOKEN}", TOKEN, record_to=recording, heartbeat_interval=0.2
        )
        bot = gl.bots.ReactiveBot(model, business_hours=(0, 0))  # always "after hours"
        run = await live.run(bot, mode="shadow")
        await wait_for(lambda: run.errors, timeout=30)
        async with _tattletale_llm() as url:
            refused_key = OpenAIModel(api_key=API_KEY, base_url=url, max_retries=0)
            for m in (model, keyed_url, refused_key):
                with pytest.raises(ModelError) as failed:
                    await m.reply("¿Cuánto cuesta el envío?", Context(visitor_name="Ana"))
                raised.append(failed.value)
        await wait_for(lambda: live.metrics()["mean_latency_ms"] is not None)
        sim.drop_connections()
        await wait_for(lambda: live.metrics()["reconnections"] == 1)
        await run.drain(timeout=10)
        texts += [repr(live), live._repr_html_(), str(live.metrics()), repr(live.transport)]
        texts += [repr(run), run._repr_html_(), str(run.stats()), *run.errors, repr(bot)]
        texts += [repr(model), repr(keyed_url), repr(sim), sim._repr_html_()]
        await live.close()
    texts += [repr(live), str(live.metrics()), repr(live.recorder), repr(live.manifest)]
    for name in ("events", "actions", "errors", "messages", "chats"):
        texts.append(live.table(name).to_csv())
    assert live.actions["bot"].eq("ReactiveBot").any()
    loaded = gl.load(recording)
    texts += [repr(loaded), loaded._repr_html_(), str(loaded.metrics())]
    texts.append(loaded.actions.to_csv())
    gl.write_report(loaded, report)
    texts += [text for e in raised for x in _chain(e) for text in (str(x), repr(x))]
    texts.append(caplog.text)
    files = _everything_on_disk(recording, refused_dir)
    files[str(report)] = report.read_bytes()
    assert any(p.endswith("events.jsonl") for p in files) and len(files) > 10
    assert "ModelError" in " ".join(run.errors) and "127.0.0.1:9" in str(raised[1])
    assert "127.0.0.1:9/v1?api_key=***" in str(raised[2])  # still says where, not how
    assert "answered 401 (" in str(raised[3]) and "bad key Bearer ***" in str(raised[3])
    for secret in secrets:
        for text in texts:
            assert secret not in text, text[:300]
        for path, data in files.items():
            assert secret.encode() not in data, path
