"""Interrupts in a real IPython kernel (ipykernel, via jupyter_client), as a notebook user
meets them: top-level ``await`` cells, the kernel's own interrupt (SIGINT), then the next
cell. The cell fails with ``Interrupted`` (so Run All stops), the work stops, and the
kernel goes on."""

from __future__ import annotations

import queue
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent


class Kernel:
    def __init__(self, km: KernelManager) -> None:
        self.km = km
        self.client = km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 120) -> dict[str, Any]:
        """Execute a cell; its reply content (``status``, ``ename``...) plus its stdout."""
        msg_id = self.client.execute(code)
        return self.reply(msg_id, timeout)

    def start(self, code: str) -> str:
        return self.client.execute(code)

    def reply(self, msg_id: str, timeout: float = 120) -> dict[str, Any]:
        out = []
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no output from the kernel in {timeout} s") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        content = self.client.get_shell_msg(timeout=timeout)["content"]
        return {**content, "stdout": "".join(out)}

    def interrupted(self, code: str) -> dict[str, Any]:
        """Run a cell that prints ``started`` before its long await, interrupt the kernel
        once it has, and return the cell's reply; it must have failed with Interrupted and
        no CancelledError in its traceback."""
        msg_id = self.start("print('started', flush=True)\n" + code)
        self.wait_busy("started")
        self.km.interrupt_kernel()
        reply = self.reply(msg_id)
        assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
        assert "CancelledError" not in "".join(reply["traceback"])
        return reply

    def wait_busy(self, marker: str, timeout: float = 60) -> None:
        """Wait for the running cell to print ``marker`` (its work has begun)."""
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["msg_type"] == "stream" and marker in msg["content"]["text"]:
                return


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(ROOT), extra_arguments=["--HistoryManager.enabled=False"])
    k = Kernel(km)
    setup = k.run("import asyncio, time\nimport guiders_lab as gl\nprint('ready')")
    assert setup["status"] == "ok" and "ready" in setup["stdout"], setup
    yield k
    k.client.stop_channels()
    km.shutdown_kernel(now=True)


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_interrupting_a_lab_run_of_a_blocking_model(kernel: Kernel) -> None:
    kernel.run(
        "class Blocking:\n"
        "    name = 'blocking'\n"
        "    def reply(self, prompt, context=None):\n"
        "        time.sleep(0.5)\n"
        "        return gl.models.Reply(text='ok')\n"
        "variants = gl.lab.grid('{content}', Blocking())\n"
    )
    reply = kernel.interrupted(
        "results = await gl.lab.run(variants, gl.load('data/sample-session'), progress=False)\n"
    )
    assert "gl.lab.last_results()" in reply["evalue"]
    after = kernel.run("print(len(gl.lab.last_results()), 'results' in dir())")
    n, assigned = after["stdout"].split()
    assert 0 <= int(n) < 603 and assigned == "False"  # stopped early; the cell failed


def test_interrupting_a_replays_wait_stops_it(kernel: Kernel) -> None:
    kernel.run("s = gl.replay('data/sample-session', speed=1, progress=False)")
    reply = kernel.interrupted("await s.finished()\n")
    assert "the replay stopped" in reply["evalue"]
    after = kernel.run(
        "n = len(s.store)\nawait asyncio.sleep(0.6)\nprint(n, len(s.store), s.transport.state)"
    )
    before, later, _state = after["stdout"].split()
    assert before == later and int(later) < 3310, after  # no playback behind the cell
    assert kernel.run("print(1 + 1)")["stdout"].strip() == "2"  # the kernel goes on
