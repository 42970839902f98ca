"""Real browser: Debian's Chromium, driven by Playwright, against the HTML report opened as
a file (no server, no kernel). The notebooks and widgets are checked in JupyterLab itself,
``tests/test_jupyterlab.py``.

On CI (``CI=true``) these tests must run: a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import guiders_lab as gl

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing on CI: .ci/run must apt-get install chromium")
    pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

expect.set_options(timeout=30_000)


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
