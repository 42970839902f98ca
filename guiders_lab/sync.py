"""Run guiders-lab coroutines from synchronous code: scripts, or a notebook cell without
``await``. Inside a running loop (Jupyter) nest-asyncio makes the loop re-entrant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["run"]

T = TypeVar("T")


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def run(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` and return its result, with or without a running loop.

    >>> live = gl.run(gl.connect(sim))            # doctest: +SKIP
    >>> gl.run(live.send_message("chat-1", "Hola"))  # doctest: +SKIP
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    import nest_asyncio

    nest_asyncio.apply(loop)
    return loop.run_until_complete(_await(awaitable))
