"""Tokens never reach reprs, metrics, exceptions or logs."""

from __future__ import annotations

import logging
import pickle

import pytest

import guiders_lab as gl
from guiders_lab.secrets import Secret, redact_url

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
