"""Re-running a cell that connects, launches a simulator or starts a bot does not silently
double it (issue 17): the second start warns with what is running and how to stop it, and
gl.running() lists what this kernel has running."""

from __future__ import annotations

import pytest

import guiders_lab as gl


async def test_starting_the_same_thing_twice_warns_and_running_lists_it() -> None:
    with gl.launch_simulator("demo", seed=41, speed=300) as sim:
        with pytest.warns(
            gl.RunningWarning, match=r"another simulator 'demo' seed=41 .*sim\.stop\(\)"
        ):
            again = gl.launch_simulator("demo", seed=41, speed=300)
        again.stop()
        live = await gl.connect(sim, heartbeat_interval=None)
        try:
            with pytest.warns(gl.RunningWarning, match=r"another session to .*\.close\(\)"):
                second = await gl.connect(sim, heartbeat_interval=None)
            await second.close()
            run = await live.run(gl.bots.Copilot())
            with pytest.warns(gl.RunningWarning, match=r"another bot Copilot \(shadow\)"):
                twice = await live.run(gl.bots.Copilot())
            table = gl.running()
            assert {"simulator", "session", "bot"} <= set(table["kind"])
            assert (table["kind"] == "bot").sum() >= 2
            await twice.stop()
            await run.stop()
            assert not (gl.running()["object"].str.contains("Copilot")).any()
        finally:
            await live.close()
    kinds = gl.running()
    assert not kinds["what"].str.contains("seed=41").any()  # stopped: no longer listed


async def test_one_of_each_says_nothing(recwarn: pytest.WarningsRecorder) -> None:
    with gl.launch_simulator("demo", seed=42, speed=300) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        run = await live.run(gl.bots.Copilot())
        await run.stop()
        await live.close()
        live = await gl.connect(sim, heartbeat_interval=None)  # the first was closed
        await live.close()
    assert not [w for w in recwarn if issubclass(w.category, gl.RunningWarning)]
