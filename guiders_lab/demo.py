"""The demo: simulator, live capture, the page's bots, a summary and an HTML report.

``guiders-lab demo`` runs the bots in shadow mode (they decide, nothing is sent) and
prints what happened and what they would have done. ``guiders-lab demo --bots`` runs the
same seeded day three times, with no bots, with shadow bots and with live bots, and prints
the outcomes side by side.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

import pandas as pd

from .analysis import chat_outcomes, outcome_summary
from .bots import (
    Bot,
    ConversionPredictor,
    Copilot,
    LoadDistributor,
    ReactiveBot,
    SentimentMonitor,
)
from .connect import LiveSession, connect
from .report import write_report
from .sim import launch_simulator
from .summary import Summary, format_summary, summarize

__all__ = ["compare_bots", "run_demo"]


def _bots() -> list[Bot]:
    return [ReactiveBot(), SentimentMonitor(), LoadDistributor(), Copilot(), ConversionPredictor()]


async def _capture(
    seconds: float,
    *,
    scenario: str,
    seed: int,
    speed: float,
    mode: str | None,
    progress: TextIO | None,
    label: str,
    dialect: str = "ai-api",
) -> LiveSession:
    """One simulated run of ``seconds``, with the page's bots in ``mode`` (or none)."""
    with launch_simulator(scenario, seed=seed, speed=speed, dialect=dialect) as sim:
        if progress:
            print(
                f"{label}: simulator '{scenario}' (seed {seed}, {speed:g}x) on {sim.url}",
                file=progress,
            )
        heartbeat = max(1.0, min(30.0, seconds / 5))
        live = await connect(sim, dialect=dialect, heartbeat_interval=heartbeat)
        if mode is not None:
            for bot in _bots():
                await live.run(bot, mode=mode)
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                await asyncio.sleep(min(2.0, seconds - elapsed))
                if progress:
                    m = live.metrics()
                    print(
                        f"  {time.monotonic() - started:5.1f} s  {m['events_received']:>6,} "
                        f"events  {m['chats']:>4} chats  {m['messages_received']:>5} messages"
                        f"  {len(live.store.tables['actions']):>5} bot actions",
                        file=progress,
                    )
        finally:
            await live.close()
    return live


def _bot_summary(live: LiveSession) -> str:
    actions = live.actions
    actions = actions[actions["bot"].notna()]
    if actions.empty:
        return "No bot actions."
    table = actions.groupby(["bot", "name"]).size().rename("actions").reset_index()
    lines = [
        "Bot actions (shadow: decided, not sent)"
        if (actions["mode"] == "shadow").all()
        else "Bot actions"
    ]
    lines += [f"  {r.bot:<20} {r.name:<30} {r.actions:>6,}" for r in table.itertuples()]
    return "\n".join(lines)


def _outcome_row(live: LiveSession) -> dict[str, int | str]:
    """One column of the comparison, every figure as the glossary defines it (README,
    "Metrics"): rates over closed chats, timings from chat creation."""
    outcomes = chat_outcomes(live.chats)
    overall = outcome_summary(outcomes).iloc[0] if len(outcomes) else None
    actions = live.actions
    sent = actions[(actions["mode"] == "live") & (actions["ok"] == True)]  # noqa: E712

    def rate(column: str) -> str:
        value = None if overall is None else overall[column]
        return "–" if value is None or pd.isna(value) else f"{value:.0%}"

    def median(column: str) -> pd.Timedelta:
        return pd.to_timedelta(float(outcomes[column].median()), unit="s")

    return {
        "chats": len(outcomes),
        "closed": int(outcomes["closed"].sum()),
        "abandoned (of closed)": rate("abandonment_rate"),
        "converted (of closed)": rate("conversion_rate"),
        "median time to assign": _duration(median("time_to_assign_s")),
        "median time to first response": _duration(median("time_to_first_response_s")),
        "AI replies": int(live.messages["is_ai"].sum()),
        "bot actions decided": int(actions["bot"].notna().sum()),
        "bot actions sent": len(sent),
    }


def _duration(value: pd.Timedelta) -> str:
    if pd.isna(value):
        return "–"
    seconds = value.total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


async def compare_bots(
    seconds: float = 20.0,
    *,
    scenario: str = "busy_afternoon",
    seed: int = 7,
    speed: float = 300.0,
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
    dialect: str = "ai-api",
) -> pd.DataFrame:
    """The same seeded day three times: no bots, shadow bots, live bots."""
    columns = {}
    for label, mode in (("no bots", None), ("shadow bots", "shadow"), ("live bots", "live")):
        live = await _capture(
            seconds,
            scenario=scenario,
            seed=seed,
            speed=speed,
            mode=mode,
            progress=progress,
            label=label,
            dialect=dialect,
        )
        columns[label] = _outcome_row(live)
    table = pd.DataFrame(columns)
    print(
        f"\nThe page's bots on the '{scenario}' scenario (seed {seed}, {seconds:g} s each):\n",
        file=out,
    )
    print(table.to_string(), file=out)
    return table


async def run_demo(
    seconds: float = 20.0,
    *,
    scenario: str = "demo",
    seed: int = 7,
    speed: float = 120.0,
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
    report: str | None = "guiders-lab-demo-report.html",
    dialect: str = "ai-api",
) -> Summary:
    """Capture ``seconds`` of a simulated account with shadow bots and report on it
    (``dialect="guiders-v2"``: the simulator plays the deployed backend)."""
    live = await _capture(
        seconds,
        scenario=scenario,
        seed=seed,
        speed=speed,
        mode="shadow",
        progress=progress,
        label="demo",
        dialect=dialect,
    )
    summary = summarize(live)
    print(format_summary(summary), file=out)
    print("\n" + _bot_summary(live), file=out)
    if report:
        path = write_report(live, report, title="guiders-lab demo")
        print(f"\nHTML report: {path.resolve()}", file=out)
    return summary
