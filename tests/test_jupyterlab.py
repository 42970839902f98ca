"""In JupyterLab itself (issue 17), in the Light and the Dark theme, at a normal notebook
width, with Debian's Chromium driven by Playwright: every notebook of ``notebooks/`` run
from Lab's own "Run All Cells"; the ChatInspector's click and filters; the LiveDashboard
following a live capture (what it sends to the browser, that it updates); the variant
playground's button; an interrupt from Lab's menu during a lab run. Every widget and chart
must sit inside its output area, and our widgets' text must read at a contrast of at
least 4.5:1 against what is really behind it (computed in the page). Screenshots are kept
in ``screenshots/``.

On CI (``CI=true``) these run: a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
THEMES = ["JupyterLab Light", "JupyterLab Dark"]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
WIDTH = 1280  # a laptop browser: the notebook's output is ~1,070 px wide
OPEN_BUDGET = 1_000_000  # bytes the dashboard may send when it opens (issue 17)

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing on CI: .ci/run must apt-get install chromium")
    pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from .lab_page import (  # noqa: E402
    CONTRAST_JS,
    FIT_JS,
    open_notebook,
    run_all,
    shot,
    wait_all_ran,
    write_notebook,
)
from .servers import free_port, serving  # noqa: E402

LOAD = "import guiders_lab as gl\nrec = gl.load('data/sample-session')"


@pytest.fixture(scope="module", params=THEMES)
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A JupyterLab server in the given theme, serving a scratch folder with copies of the
    notebooks (Lab saves what it runs) and the sample data beside them."""
    theme: str = request.param
    home = tmp_path_factory.mktemp("lab")
    for plugin, values in {
        "apputils-extension/themes": {"theme": theme},
        "apputils-extension/notification": {"fetchNews": "false"},  # no news popup
        # every cell in the page (the default renders only those near the viewport)
        "notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = home / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    work = home / "work"
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    (work / "data").symlink_to(ROOT / "data")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root",
    ]  # fmt: skip
    with serving("jupyter lab", cmd, port, home / "lab.log", env=env):
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "dir": work, "theme": theme,
               "slug": theme.split()[-1].lower()}  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
    yield pg
    context.close()


def run_scratch(page: Page, lab: dict[str, Any], name: str, cells: list[str]) -> None:
    write_notebook(lab["dir"] / name, cells)
    open_notebook(page, lab, name)
    run_all(page)
    wait_all_ran(page, len(cells))


def assert_fits(page: Page) -> int:
    """Every widget and chart inside its output area, nothing clipped; how many were seen."""
    result = page.locator(".jp-Notebook").first.evaluate(FIT_JS)
    assert result["bad"] == [], json.dumps(result["bad"], indent=1)
    return int(result["seen"])


def assert_readable(target: Any) -> None:
    worst = target.evaluate(CONTRAST_JS)
    assert worst and worst[0]["ratio"] >= 4.5, json.dumps(worst, indent=1)


def assert_no_errors(page: Page) -> None:
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.all_inner_texts()
    assert page.get_by_text("Error displaying widget").count() == 0
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_in_lab(page: Page, lab: dict[str, Any], notebook: str) -> None:
    nb = nbformat.read(lab["dir"] / "notebooks" / notebook, as_version=4)
    n_code = sum(cell.cell_type == "code" for cell in nb.cells)
    open_notebook(page, lab, f"notebooks/{notebook}")
    try:
        run_all(page)
        wait_all_ran(page, n_code)
        page.wait_for_timeout(1_000)  # charts and widgets drawn
        plots = page.locator(".jp-Notebook .js-plotly-plot")
        for i in range(plots.count()):  # every chart drawn, with its data
            plot = plots.nth(i)
            plot.scroll_into_view_if_needed()
            expect(plot.locator(".main-svg").first).to_be_visible()
        seen = assert_fits(page)
        assert seen >= 1, page.locator(".jp-OutputArea-output").all_inner_texts()
        assert_no_errors(page)
        for widget in page.locator(".jp-Notebook [class*='guiders-']").all():
            widget.scroll_into_view_if_needed()
            assert_readable(widget)
    finally:
        shot(page, f"lab-{lab['slug']}-{notebook.removesuffix('.ipynb')}")


def test_inspector_click_filters_theme_and_fit(page: Page, lab: dict[str, Any]) -> None:
    run_scratch(
        page,
        lab,
        "inspector.ipynb",
        [
            LOAD,
            "inspector = gl.ChatInspector(rec, scorer=gl.sentiment.score)\n"
            "chat = rec.chats.sort_values('n_messages').chat_id.iloc[-1]  # both sides talk\n"
            "inspector.select(chat)\n"
            "inspector",
        ],
    )
    inspector = page.locator(".guiders-chat-inspector")
    expect(inspector.locator(".gl-transcript .gl-message").first).to_be_visible()
    page.wait_for_timeout(500)  # fonts and styles settled
    assert page.evaluate("document.body.dataset.jpThemeName") == lab["theme"]
    shot(inspector, f"lab-{lab['slug']}-inspector")
    assert_readable(inspector)
    assert_fits(page)
    # the chat list is not squeezed: its rows show the chat id, visitor and status
    chooser = inspector.locator("select").last
    width = chooser.evaluate("e => e.closest('.widget-vbox').getBoundingClientRect().width")
    assert width >= 370, width

    # a click on another chat: the kernel redraws the transcript
    transcript = inspector.locator(".gl-transcript")
    first = transcript.get_attribute("data-chat")
    chooser.select_option(index=3)
    expect(transcript).not_to_have_attribute("data-chat", first or "", timeout=30_000)
    assert transcript.locator(".gl-message").count() > 0
    # the sentiment filter, scored in the kernel: fewer chats, each with a negative message
    count = inspector.locator(".widget-html", has_text=" chats").last
    total = int(count.inner_text().split(" of ")[1].split()[0].replace(",", ""))
    inspector.locator("select").nth(3).select_option("negative")
    expect(count).not_to_contain_text(f"{total:,} of {total:,}", timeout=30_000)
    shown = int(count.inner_text().split(" of ")[0].replace(",", ""))
    assert 0 < shown < total
    assert_no_errors(page)


DASHBOARD_CELLS = [
    "import guiders_lab as gl\n"
    "sim = gl.launch_simulator('busy_afternoon', seed=7, speed=300)\n"
    "live = await gl.connect(sim, heartbeat_interval=1)\n"
    "await live.wait_for(lambda s: len(s.store.tables['messages']) >= 100, timeout=60)",
    "dashboard = gl.LiveDashboard(live, interval=1.0)\ndashboard",
]
# what the charts' traces add up to (the dashboard's bars and points), read from the page
PLOTTED_JS = """
(board) => [...board.querySelectorAll('.js-plotly-plot')].map(
  (gd) => (gd.data || []).reduce((n, t) => n + (t.y ? t.y.length : 0), 0))
"""


def test_dashboard_is_light_fits_and_follows_live(page: Page, lab: dict[str, Any]) -> None:
    received: list[int] = []

    def on_socket(ws: Any) -> None:
        if "/api/kernels/" in ws.url:  # the kernel's channel: widget state and outputs
            ws.on("framereceived", lambda f: received.append(len(f) if f else 0))

    page.on("websocket", on_socket)
    write_notebook(lab["dir"] / "dashboard.ipynb", DASHBOARD_CELLS)
    open_notebook(page, lab, "dashboard.ipynb")
    run_all(page)
    board = page.locator(".guiders-live-dashboard")
    expect(board.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=90_000)
    for i in range(4):
        expect(board.locator(".js-plotly-plot").nth(i).locator(".main-svg").first).to_be_visible()
    opened = sum(received)
    assert opened <= OPEN_BUDGET, f"{opened:,} bytes sent on opening"
    box = board.bounding_box()
    assert box is not None and box["width"] <= 1_001
    assert_fits(page)
    shot(board, f"lab-{lab['slug']}-dashboard")

    # live: counters and charts move, with small updates
    events = board.locator(".gl-counter[data-name='events']")
    before_events = int(events.inner_text().replace(",", ""))
    before_points = board.evaluate(PLOTTED_JS)
    mark = len(received)
    page.wait_for_timeout(5_000)
    assert int(events.inner_text().replace(",", "")) > before_events
    after_points = board.evaluate(PLOTTED_JS)
    assert after_points != before_points and sum(after_points) > sum(before_points)
    per_second = sum(received[mark:]) / 5
    assert per_second < 200_000, f"{per_second:,.0f} bytes/s while following"
    assert_readable(board.locator(".gl-counters"))
    assert_no_errors(page)


def test_playground_click_runs_variants(page: Page, lab: dict[str, Any]) -> None:
    run_scratch(
        page,
        lab,
        "playground.ipynb",
        [
            LOAD,
            "playground = gl.VariantPlayground(rec, template='Cliente: {content}')\nplayground",
        ],
    )
    playground = page.locator(".guiders-variant-playground")
    expect(playground).to_be_visible()
    expect(playground.locator(".gl-lab-reply")).to_have_count(0)
    playground.get_by_role("button", name="Run variants").click()  # runs in the kernel
    expect(playground.locator(".gl-lab-reply").first).to_be_visible(timeout=60_000)
    assert playground.locator(".gl-lab-reply").count() >= 2  # messages x models, side by side
    expect(playground).to_contain_text("kept in")
    assert_fits(page)
    assert_readable(playground)
    shot(playground, f"lab-{lab['slug']}-playground")
    assert_no_errors(page)


def test_interrupt_from_lab_stops_a_lab_run(page: Page, lab: dict[str, Any]) -> None:
    if lab["slug"] != "light":
        pytest.skip("the kernel's behaviour does not depend on the theme")
    cells = [
        LOAD + "\nimport time\n"
        "class Blocking:  # a synchronous SDK call that does not yield\n"
        "    name = 'blocking'\n"
        "    def reply(self, prompt, context=None):\n"
        "        time.sleep(0.5)\n"
        "        return gl.models.Reply(text='ok')\n"
        "variants = gl.lab.grid('{content}', Blocking())",
        "results = await gl.lab.run(variants, rec)",
        "print('the next cell ran')",
    ]
    write_notebook(lab["dir"] / "interrupt.ipynb", cells)
    open_notebook(page, lab, "interrupt.ipynb")
    run_all(page)
    # the run is under way: its progress bar counts calls
    progress = page.locator(".jp-OutputArea-output", has_text="variants").first
    try:
        expect(progress).to_be_visible(timeout=60_000)
    finally:
        shot(page, "lab-interrupt-running")
    page.wait_for_timeout(1_000)
    # the notebook toolbar's stop button (Kernel > Interrupt Kernel does the same)
    page.locator("[data-command='notebook:interrupt-kernel']").first.click()
    error = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(error.first).to_contain_text("Interrupted", timeout=10_000)
    expect(error.first).to_contain_text("gl.lab.last_results()")
    assert "CancelledError" not in error.first.inner_text()
    idle = page.locator(".jp-StatusBar-TextItem", has_text="| Idle")
    expect(idle.first).to_be_visible(timeout=10_000)
    page.wait_for_timeout(1_000)
    ran = page.locator(".jp-OutputArea-output", has_text="the next cell ran")
    assert ran.count() == 0  # Run All stopped there
    shot(page, "lab-interrupt")
