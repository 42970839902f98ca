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
