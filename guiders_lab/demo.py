"""The demo: simulator + live capture + summary, ending by itself."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from .report import write_report
from .session import connect
from .sim import launch_simulator
from .summary import format_summary, summarize

__all__ = ["run_demo"]


async def run_demo(
    seconds: float = 20.0,
    *,
    scenario: str = "demo",
    seed: int = 7,
    speed: float = 120.0,
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
    report: str | None = "guiders-lab-demo-report.html",
) -> dict:
    """Capture ``seconds`` of a simulated account and print what happened."""
    with launch_simulator(scenario, seed=seed, speed=speed) as sim:
        if progress:
            print(f"Simulator '{scenario}' (seed {seed}, {speed:g}x) on {sim.url}", file=progress)
        live = await connect(sim, heartbeat_interval=max(1.0, min(30.0, seconds / 5)))
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                await asyncio.sleep(min(2.0, seconds - elapsed))
                if progress:
                    m = live.metrics()
                    print(
                        f"  {time.monotonic() - started:5.1f} s  {m['events_received']:>6,} events"
                        f"  {m['chats']:>4} chats  {m['messages_received']:>5} messages",
                        file=progress,
                    )
        finally:
            await live.close()
        summary = summarize(live)
    print(format_summary(summary), file=out)
    if report:
        path = write_report(live, report, title="guiders-lab demo")
        print(f"\nHTML report: {path.resolve()}", file=out)
    return summary
