"""Real browser: Debian's Chromium, driven by Playwright, against notebooks served by Voila
and against the HTML report opened as a file.

On CI (``CI=true``) these tests must run: a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

import guiders_lab as gl

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))
CELL_TIMEOUT = 120
VOILA_MAIN = "import nbclient_stall_patch; from voila.app import main; main()"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing on CI: .ci/run must apt-get install chromium")
    pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from .servers import free_port, serving  # noqa: E402

expect.set_options(timeout=90_000)  # a Voila page executes its notebook before it shows


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    cmd = [
        sys.executable,
        "-c",
        VOILA_MAIN,
        str(NOTEBOOKS),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        f"--VoilaExecutor.timeout={CELL_TIMEOUT}",
        "--show_tracebacks=True",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])
        ),
    }
    with serving("voila", cmd, port, log, env=env, cwd=NOTEBOOKS, wait=60):
        yield f"http://127.0.0.1:{port}/voila/render/"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_chat_inspector_and_charts_in_voila(page, voila) -> None:
    page.goto(voila + "02_offline_analysis.ipynb", timeout=CELL_TIMEOUT * 1000 + 60_000)
    inspector = page.locator(".guiders-chat-inspector")
    expect(inspector).to_be_visible()
    plot = page.locator(".js-plotly-plot").first
    expect(plot).to_be_visible()
    assert page.locator(".js-plotly-plot .trace").count() > 0  # the chart has data drawn
    expect(page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)

    transcript = inspector.locator(".gl-transcript")
    expect(transcript).to_be_visible()
    first = transcript.get_attribute("data-chat")
    assert first and first.startswith("chat-")
    chooser = inspector.locator("select").last  # the chat list (after the filters)
    options = chooser.locator("option")
    assert options.count() > 10
    started = time.monotonic()
    chooser.select_option(index=7)  # a kernel round trip re-renders the transcript
    expect(transcript).not_to_have_attribute("data-chat", first, timeout=30_000)
    round_trip = time.monotonic() - started
    second = transcript.get_attribute("data-chat")
    assert second.startswith("chat-") and second != first
    assert transcript.locator(".gl-message").count() > 0
    expect(inspector.locator(".gl-timeline")).to_contain_text("created")
    shot(page, "voila-02-page")
    SHOTS.mkdir(parents=True, exist_ok=True)
    inspector.screenshot(path=str(SHOTS / "voila-02-inspector.png"))
    assert page.errors == [], page.errors
    assert round_trip < 30


def test_live_dashboard_in_voila(page, voila) -> None:
    page.goto(voila + "01_live_capture.ipynb", timeout=CELL_TIMEOUT * 1000 + 60_000)
    dashboard = page.locator(".guiders-live-dashboard")
    expect(dashboard).to_be_visible()
    events = dashboard.locator(".gl-counter[data-name='events']")
    expect(events).to_be_visible()
    assert int(events.inner_text().replace(",", "")) > 0
    expect(dashboard.locator(".js-plotly-plot")).to_have_count(4)
    expect(dashboard.locator(".js-plotly-plot g.point").first).to_be_visible()  # bars drawn
    assert dashboard.locator(".js-plotly-plot g.point").count() > 10
    expect(page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    dashboard.screenshot(path=str(SHOTS / "voila-01-dashboard.png"))
    assert page.errors == [], page.errors


def test_html_report_renders_offline(page, tmp_path: Path) -> None:
    rec = gl.load(ROOT / "data" / "sample-session")
    path = gl.write_report(rec, tmp_path / "report.html")
    page.goto(path.as_uri())
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    n_plots = page.locator(".js-plotly-plot").count()
    assert n_plots >= 7
    for i in range(n_plots):  # every chart was drawn, with data
        expect(page.locator(".js-plotly-plot").nth(i).locator(".main-svg").first).to_be_visible()
    assert page.locator(".js-plotly-plot .trace").count() >= n_plots
    expect(page.locator("h1")).to_contain_text("guiders-lab report")
    shot(page, "report")
    assert page.errors == [], page.errors


def test_variant_playground_click_runs_variants(page, voila) -> None:
    page.goto(voila + "04_variant_lab.ipynb", timeout=CELL_TIMEOUT * 1000 + 60_000)
    playground = page.locator(".guiders-variant-playground")
    expect(playground).to_be_visible()
    expect(playground.locator(".gl-lab-reply")).to_have_count(0)
    playground.get_by_role("button", name="Run variants").click()  # runs in the kernel
    expect(playground.locator(".gl-lab-reply").first).to_be_visible(timeout=60_000)
    replies = playground.locator(".gl-lab-reply").count()
    assert replies >= 2  # the selected messages x the chosen models, side by side
    expect(playground).to_contain_text("kept in")
    expect(page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    playground.screenshot(path=str(SHOTS / "voila-04-playground.png"))
    assert page.errors == [], page.errors
