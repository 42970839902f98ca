"""Everything above the seam works unchanged on a guiders-v2 session (issue 16, item 7):
the five bots (live actions over REST where the backend has them, shadow rows otherwise),
the lab's ``watch``, ChatInspector, LiveDashboard, every chart, the report and a Dataset,
live, recorded, loaded and replayed, on the guiders-v2 simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab import charts

from .conftest import wait_for

KEY = {
    "messages": "message_id",
    "chats": "chat_id",
    "assignments": ["chat_id", "commercial_id", "assigned_at"],
}


def five_bots() -> list[gl.bots.Bot]:
    return [
        gl.bots.ReactiveBot(business_hours=(0, 24)),  # answers at any simulated hour
        gl.bots.SentimentMonitor(threshold=0.2),
        gl.bots.Copilot(),
        gl.bots.LoadDistributor(),
        gl.bots.ConversionPredictor(),
    ]


def same_rows(
    a: pd.DataFrame, b: pd.DataFrame, key: str | list[str], but: tuple[str, ...] = ()
) -> None:
    """The same rows, whatever the order they were appended in."""
    columns = [c for c in a.columns if c not in ("received_at", *but)]  # a replay receives anew
    pd.testing.assert_frame_equal(
        a[columns].sort_values(key).reset_index(drop=True),
        b[columns].sort_values(key).reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[gl.LiveSession, Path]:
    """A live guiders-v2 session with the five bots live, the lab watching and both widgets
    following, recorded; returns it (closed) and the recording's directory."""
    out = tmp_path_factory.mktemp("v2") / "session"

    async def capture() -> gl.LiveSession:
        with gl.launch_simulator(
            "busy_afternoon", dialect="guiders-v2", seed=3, speed=600.0, high_intent=True
        ) as sim:
            live = await gl.connect(sim, record_to=out, close_poll_interval=0.5)
            try:
                runs = [await live.run(bot, mode="live") for bot in five_bots()]
                watcher = await gl.lab.watch(live, gl.lab.grid("{content}", [gl.models.FAQModel()]))
                inspector = gl.ChatInspector(live, interval=0.2)
                dashboard = gl.LiveDashboard(live, interval=0.2)
                await wait_for(lambda: len(live.store.tables["messages"]) >= 150, timeout=60)
                await wait_for(lambda: len(live.store.chats) >= 10, timeout=30)
                if inspector.new_chats.description:  # announced while following: show them
                    inspector.new_chats.click()
                listed = {value for _, value in inspector.chat_list.options}
                await wait_for(lambda: dashboard.redraws >= 3, timeout=10)
                volume = sum(sum(trace.y) for trace in dashboard.volume.data)
                results = await watcher.stop()
                for run in runs:
                    await run.stop()
                sent = await live.send_message(live.chats["chat_id"].iloc[0], "¿Sigue ahí? (kit)")
                inspector.close()
                dashboard.close()
                await wait_for(
                    lambda: (live.messages["content"] == "¿Sigue ahí? (kit)").any(), timeout=10
                )
            finally:
                await live.close()
        live.watch_results = results  # type: ignore[attr-defined]
        live.widget_view = (listed, volume, sent)  # type: ignore[attr-defined]
        return live

    return asyncio.run(capture()), out


def test_bots_act_over_rest_and_keep_what_the_backend_lacks_as_shadow_rows(
    recorded: tuple[gl.LiveSession, Path],
) -> None:
    live, _ = recorded
    actions = live.actions
    by_bot = actions.groupby("bot")["name"].agg(set).to_dict()
    assert {"ReactiveBot", "Copilot", "SentimentMonitor"} <= set(by_bot)
    replies = actions.query("bot == 'ReactiveBot' and name == 'message:send' and mode == 'live'")
    assert len(replies) > 0 and replies["ok"].all()  # over REST, acknowledged
    unsupported = actions[actions["error_code"] == "UNSUPPORTED_ACTION"]
    assert len(unsupported) > 0
    assert (unsupported["mode"] == "shadow").all()
    assert set(unsupported["name"]) <= {
        "chat:update",
        "notification:send",
        "assistance:suggestions",
        "trigger:high_conversion_flow",
    }
    assert not (
        live.events["name"].isin(set(unsupported["name"])) & (live.events["direction"] == "out")
    ).any()
    # a message the kit sent comes back as message:new and is counted once
    assert (live.messages["content"] == "¿Sigue ahí? (kit)").sum() == 1
    assert not live.messages["message_id"].duplicated().any()


def test_the_lab_and_widgets_follow_it(recorded: tuple[gl.LiveSession, Path]) -> None:
    live, _ = recorded
    results = live.watch_results  # type: ignore[attr-defined]
    assert len(results) > 0 and results["message_id"].isin(live.messages["message_id"]).all()
    listed, volume, _ = live.widget_view  # type: ignore[attr-defined]
    assert len(listed) >= 10 and listed <= set(live.chats["chat_id"])
    assert volume > 0


def test_loaded_equals_live_and_every_view_draws_it(
    recorded: tuple[gl.LiveSession, Path], tmp_path: Path
) -> None:
    live, out = recorded
    loaded = gl.load(out)
    assert loaded.manifest.dialect == "guiders-v2"
    for table, key in KEY.items():
        same_rows(getattr(loaded, table), getattr(live, table), key)
    rebuilt = gl.load(out, rebuild_tables=True)  # from the journal, event by event
    for table, key in KEY.items():
        same_rows(getattr(rebuilt, table), getattr(live, table), key)
    scored = gl.analysis.add_sentiment(loaded.messages, lambda text: -0.5 if "?" in text else 0.5)
    figures = [
        charts.event_lag(loaded.events),
        charts.time_to_assign(loaded.chats),
        charts.time_to_first_response(loaded.chats),
        charts.workload(loaded.assignments, loaded.chats),
        charts.reassignments(loaded.chats),
        charts.close_reasons(loaded.chats),
        charts.abandonment_conversion(loaded.chats),
        charts.message_volume(loaded.messages),
        charts.sentiment_timeline(scored),
        charts.sentiment_distribution(scored),
        charts.urgent_flags(loaded.chats),
        charts.processing_time(loaded.actions),
    ]
    for figure in figures:
        assert figure.layout.title.text
    drawn = charts.workload(loaded.assignments, loaded.chats)
    assert sum(len(t.x) for t in drawn.data if t.mode == "markers") == len(loaded.assignments)
    inspector = gl.ChatInspector(loaded)
    chat = loaded.chats.sort_values("n_messages").chat_id.iloc[-1]
    inspector.select(chat)
    n_messages = int(loaded.chats.set_index("chat_id").loc[chat, "n_messages"])
    assert inspector.transcript.value.count("class='gl-message") == n_messages
    dashboard = gl.LiveDashboard(loaded)
    assert sum(sum(trace.y) for trace in dashboard.volume.data) == len(loaded.messages)
    report = gl.write_report(loaded, tmp_path / "report.html").read_text()
    assert "guiders-v2" in report and str(len(loaded.chats)) in report
    ds = gl.open_dataset([out])
    outcomes = gl.analysis.chat_outcomes(ds.chats)
    assert len(outcomes) == len(loaded.chats)
    summary = gl.analysis.outcome_summary(outcomes, by="department")
    assert summary["chats"].sum() == len(loaded.chats)


async def test_a_replay_gives_the_same_tables_and_runs_the_bots_in_shadow(
    recorded: tuple[gl.LiveSession, Path],
) -> None:
    live, out = recorded
    session = gl.replay(out, speed=float("inf"), progress=False, start=False)
    runs = [await session.run(bot, mode="shadow") for bot in five_bots()]
    session.start()
    await session.finished()
    for run in runs:
        await run.stop()
    for table, key in KEY.items():
        # the replay's SentimentMonitor also scores what came after the live one stopped
        same_rows(getattr(session, table), getattr(live, table), key, but=("min_sentiment",))
    replayed = session.actions  # the recorded actions, then the replay's bots' decisions
    assert (replayed["mode"] == "live").sum() == (live.actions["mode"] == "live").sum()
    decided = replayed.query("mode == 'shadow' and name == 'message:send'")
    assert len(decided) > 0  # the live ReactiveBot's replies were live: these are new
    await session.close()
