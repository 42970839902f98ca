"""Work around jupyter/nbclient#312: cell execution can stall until the cell timeout (or
for ever without one) when output is captured into an ipywidgets.Output while nbclient
executes it. Poll the kernel sockets in 0.2 s slices so a missed wake-up costs at most
0.2 s. Imported in the pytest process (nbmake) by the root conftest.py. The kit's own
widgets never capture into an Output (the dashboard's charts set its ``outputs``); this is
the safety net the recipe in ../shared/recipes/browser-testing.md recommends."""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.channels import AsyncZMQSocketChannel

SLICE = 0.2


async def _get_msg(self, timeout=None):
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = SLICE if deadline is None else max(0.0, min(SLICE, deadline - time.monotonic()))
        if await self.socket.poll(int(step * 1000)):
            return await self._recv()
        if deadline is not None and time.monotonic() >= deadline:
            raise Empty


AsyncZMQSocketChannel.get_msg = _get_msg
