"""Sync helpers: plain scripts and notebook cells without ``await``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = """
import asyncio
import guiders_lab as gl

with gl.launch_simulator(seed=2, speed=600) as sim:
    live = gl.connect_sync(sim)                      # a plain script, no event loop
    gl.run(live.wait_for(lambda s: s.store.counts.get("chat:created", 0) > 0, timeout=15))
    assert gl.run(live.ping()) > 0

    async def notebook_cell():
        # inside a running loop (like Jupyter) the same sync helper still works
        return gl.run(live.ping())

    assert asyncio.run(notebook_cell()) > 0
    gl.run(live.close())
    print("events", len(live.events), "chats", len(live.chats))
"""


def test_sync_helpers_in_a_script_and_inside_a_running_loop() -> None:
    # a subprocess: nest-asyncio patches asyncio process-wide, keep it out of pytest
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("events ")
    assert int(done.stdout.split()[3]) > 0
