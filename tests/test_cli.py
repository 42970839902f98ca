"""The ``guiders-lab`` command: demo and simulate, as a newcomer runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import guiders_lab as gl
from guiders_lab.cli import main


def test_demo_runs_and_summarises(capsys, tmp_path) -> None:
    report = tmp_path / "demo.html"
    assert main(["demo", "--seconds", "4", "--speed", "300", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert f"HTML report: {report.resolve()}" in out
    assert report.stat().st_size > 1_000_000 and b"Plotly.newPlot" in report.read_bytes()
    for heading in (
        "Events by type",
        "message:new",
        "chat:created",
        "Chats",
        "Assignments",
        "Median time to assign",
        "Median time to first response",
        "Ping round trip",
    ):
        assert heading in out
    chats = int(re.search(r"^Chats\s+(\d+)", out, re.M).group(1))
    assert chats > 0
    assert re.search(r"Ping round trip \(mean / median\)\s+\d+\.\d ms", out)


def interruptible() -> None:
    """In the child before it starts: SIGINT back to its default. A runner started in the
    background by a shell (``nohup pytest &``) ignores SIGINT, and an ignored signal stays
    ignored across exec, so the simulator would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_simulate_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guiders_lab.cli",
            "simulate",
            "--seed",
            "3",
            "--speed",
            "600",
            "--token",
            "cli-token",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"listening on (http://\S+)", line).group(1)
        assert proc.stdout.readline().strip() == "token: cli-token"
        live = gl.connect_sync(url, "cli-token")
        gl.run(live.wait_for(lambda s: s.counts().get("message:new", 0) > 0, timeout=15))
        gl.run(live.close())
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_demo_speaks_guiders_v2(capsys) -> None:
    assert main(["demo", "--dialect", "guiders-v2", "--seconds", "4", "--report", ""]) == 0
    out = capsys.readouterr().out
    assert "(guiders-v2)" in out and "chat:commercial-assigned" in out
    assert int(re.search(r"^Messages\s+(\d+)", out, re.M).group(1)) > 0
    # the heartbeat is the gateway's health-check, its answer a ping row
    assert re.search(r"Ping round trip \(mean / median\)\s+\d+\.\d ms", out)
    # lag only from the answers' wall clock, never from the simulator's compressed day
    p95 = float(re.search(r"^Event lag \(p50 / p95\)\s+\S+ ms / (\S+) ms", out, re.M).group(1))
    assert 0 <= p95 < 1000


def test_record_and_replay_a_guiders_v2_simulator_from_the_command_line(tmp_path) -> None:
    sim = subprocess.Popen(
        [sys.executable, "-m", "guiders_lab.cli", "simulate", "--dialect", "guiders-v2",
         "--seed", "3", "--speed", "600"],
        stdout=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=interruptible,
    )  # fmt: skip
    out = tmp_path / "rec"
    try:
        url = re.search(r"listening on (http://\S+)", sim.stdout.readline()).group(1)
        said = dict(sim.stdout.readline().strip().split(": ", 1) for _ in range(4))
        assert said["api"] == f"{url}/api"
        recorded = subprocess.run(
            [sys.executable, "-m", "guiders_lab.cli", "record", url, "--dialect", "guiders-v2",
             "--email", said["email"], "--password-env", "GL_TEST_PASSWORD",
             "--out", str(out), "--seconds", "4"],
            env={**os.environ, "GL_TEST_PASSWORD": said["password"]},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert recorded.returncode == 0, recorded.stderr
    finally:
        os.killpg(sim.pid, signal.SIGINT)
        assert sim.wait(timeout=10) == 0
    rec = gl.load(out)
    assert rec.manifest.dialect == "guiders-v2" and len(rec.messages) > 0
    for path in out.iterdir():  # the password never reaches the disk
        assert said["password"].encode() not in path.read_bytes(), path.name
    wrong = subprocess.run(
        [sys.executable, "-m", "guiders_lab.cli", "replay", str(out), "--dialect", "ai-api"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert wrong.returncode == 2 and "guiders-v2" in wrong.stderr
    replayed = subprocess.run(
        [sys.executable, "-m", "guiders_lab.cli", "replay", str(out), "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    assert f"Messages                         {len(rec.messages)}" in replayed.stdout
