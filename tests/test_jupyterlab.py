"""In JupyterLab itself (issue 17): a notebook run from Lab's own "Run All Cells", in the
Light and the Dark theme, at a normal notebook width; the ChatInspector's text must read
at a contrast of at least 4.5:1 against what is really behind it (computed in the page),
and its output must fit the notebook. Screenshots go to ``screenshots/``.

On CI (``CI=true``) these run: a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))
THEMES = ["JupyterLab Light", "JupyterLab Dark"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing on CI: .ci/run must apt-get install chromium")
    pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from .servers import free_port, serving  # noqa: E402

INSPECTOR_CELLS = [
    f"import guiders_lab as gl\nrec = gl.load({str(ROOT / 'data' / 'sample-session')!r})",
    "inspector = gl.ChatInspector(rec, scorer=gl.sentiment.score)\n"
    "chat = rec.chats.sort_values('n_messages').chat_id.iloc[-1]  # visitor and commercial\n"
    "inspector.select(chat)\n"
    "inspector",
]

# For every element of the inspector with text of its own: its color against the first
# opaque background behind it (ancestors' backgrounds, then the page's), as WCAG 2 defines
# contrast; returns the worst few.
CONTRAST_JS = """
(root) => {
  const rgba = (s) => { const m = s.match(/[\\d.]+/g).map(Number);
    const k = s.startsWith('color(') ? 255 : 1;  // color-mix() computes to color(srgb 0..1)
    return [m[0] * k, m[1] * k, m[2] * k, m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const blend = (top, under) => [0, 1, 2].map(
    (i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const behind = (el) => { const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let color = [255, 255, 255, 1];
    if (layers.length && layers[layers.length - 1][3] >= 1) color = layers.pop();
    else color = rgba(getComputedStyle(document.body).backgroundColor);
    for (const c of layers.reverse()) color = blend(c, color);
    return color; };
  const out = [];
  for (const el of root.querySelectorAll('*')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own.length || el.offsetParent === null) continue;
    const bg = behind(el);
    const fg = blend(rgba(getComputedStyle(el).color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({ratio: (a + 0.05) / (b + 0.05), text: own[0].textContent.trim().slice(0, 40),
              tag: el.tagName, color: getComputedStyle(el).color,
              background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'});
  }
  out.sort((x, y) => x.ratio - y.ratio);
  return out.slice(0, 8);
}
"""


@pytest.fixture(scope="module", params=THEMES)
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A JupyterLab server in the given theme, serving a scratch folder."""
    theme: str = request.param
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    (home / "work").mkdir()
    port, token = free_port(), secrets.token_hex(16)
    log = home / "lab.log"
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home / 'work'}",
        "--allow-root",
    ]  # fmt: skip
    with serving("jupyter lab", cmd, port, log, env=env):
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "dir": home / "work",
               "theme": theme}  # fmt: skip


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


def open_and_run(page: Page, lab: dict[str, Any], name: str, cells: list[str]) -> None:
    """Write a notebook, open it in Lab, wait for its kernel, run all cells from Lab."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, lab["dir"] / name)
    page.goto(f"{lab['url']}/lab/tree/{name}?token={lab['token']}")
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=90_000)
    status = page.locator(".jp-StatusBar-TextItem", has_text="| Idle")  # the kernel is up
    expect(status.first).to_be_visible(timeout=90_000)
    counts = page.locator(".jp-InputArea-prompt", has_text="[1]")
    for _ in range(3):  # a run asked for while the kernel's session settles can be dropped
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            expect(counts.first).to_be_visible(timeout=20_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    raise AssertionError("JupyterLab never ran the cells")


def test_inspector_reads_in_the_theme_and_fits_the_notebook(
    browser: Any, lab: dict[str, Any]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        open_and_run(page, lab, "inspector.ipynb", INSPECTOR_CELLS)
        inspector = page.locator(".guiders-chat-inspector")
        try:
            expect(inspector).to_be_visible(timeout=90_000)
        except AssertionError:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "lab-inspector-failed.png"), full_page=True)
            outputs = page.locator(".jp-OutputArea").all_inner_texts()
            raise AssertionError(f"no inspector; outputs: {outputs}") from None
        expect(inspector.locator(".gl-transcript .gl-message").first).to_be_visible()
        page.wait_for_timeout(500)  # fonts and styles settled
        theme = page.evaluate("document.body.dataset.jpThemeName")
        assert theme == lab["theme"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        slug = lab["theme"].split()[-1].lower()
        inspector.screenshot(path=str(SHOTS / f"lab-inspector-{slug}.png"))
        worst = inspector.evaluate(CONTRAST_JS)
        assert worst and worst[0]["ratio"] >= 4.5, json.dumps(worst, indent=1)
        # inside its output area: nothing wider than the notebook's output
        area = page.locator(".jp-OutputArea-output").filter(has=inspector).first.bounding_box()
        box = inspector.bounding_box()
        assert area is not None and box is not None
        assert (
            box["x"] >= area["x"] - 1 and box["x"] + box["width"] <= area["x"] + area["width"] + 1
        )
        # the chat list is not squeezed: its rows show the chat id, visitor and status
        shown = inspector.locator("select").last.evaluate(
            "e => e.closest('.widget-vbox').getBoundingClientRect().width"
        )
        assert shown >= 370, shown
    finally:
        context.close()
