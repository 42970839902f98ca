"""Driving a JupyterLab page with Playwright, for ``tests/test_jupyterlab.py``: open and run
a notebook from Lab's own menus, wait for its cells, and the in-page checks (contrast,
things that fit their output area) that a user's eye would make."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Page, expect

__all__ = [
    "CONTRAST_JS",
    "FIT_JS",
    "SHOTS",
    "open_notebook",
    "run_all",
    "shot",
    "wait_all_ran",
    "write_notebook",
]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "screenshots"))

# For every element of ``root`` with text of its own: its color against the first opaque
# background behind it (ancestors' backgrounds, then the page's), as WCAG 2 defines
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
    if (el.closest('svg')) continue;  // plotly draws its own (themed) chart
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

# Every widget and chart in the notebook against its cell's output area and the notebook's
# width: what sticks out, what is clipped inside a box, and charts drawn wider than their
# place. Returns the offenders (an empty list when everything fits) and what was looked at.
FIT_JS = """
(notebook) => {
  const page = notebook.getBoundingClientRect();
  const bad = [];
  const things = notebook.querySelectorAll(
    '.jp-Cell-outputArea .js-plotly-plot, .jp-Cell-outputArea .jupyter-widgets.widget-box,' +
    '.jp-Cell-outputArea .widget-gridbox, .jp-Cell-outputArea [class*="guiders-"]');
  let seen = 0;
  for (const el of things) {
    if (el.offsetParent === null) continue;
    seen += 1;
    const area = el.closest('.jp-Cell-outputArea').getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const name = (el.className.baseVal ?? el.className).toString().slice(0, 60);
    if (r.left < area.left - 1 || r.right > area.right + 1)
      bad.push({name, why: 'outside its output area', left: r.left, right: r.right,
                area: [area.left, area.right]});
    if (r.right > page.right + 1) bad.push({name, why: 'wider than the notebook'});
    const style = getComputedStyle(el);
    if (style.overflowX !== 'auto' && style.overflowX !== 'scroll'
        && el.scrollWidth > el.clientWidth + 2)
      bad.push({name, why: 'content clipped', scroll: el.scrollWidth, client: el.clientWidth});
    const svg = el.querySelector(':scope .main-svg');
    if (svg && svg.getBoundingClientRect().width > r.width + 1)
      bad.push({name, why: 'chart wider than its place', svg: svg.getBoundingClientRect().width,
                place: r.width});
  }
  return {bad, seen};
}
"""


def shot(target: Any, name: str) -> None:
    """A screenshot kept as a test artefact (``screenshots/``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SHOTS / f"{name}.png"))


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def open_notebook(page: Page, lab: dict[str, Any], name: str) -> None:
    """Open ``name`` (relative to Lab's root) and wait until its kernel is idle."""
    # reset: one notebook open, not every notebook of the earlier tests (Lab keeps them)
    page.goto(f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}")
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=90_000)
    status = page.locator(".jp-StatusBar-TextItem", has_text="| Idle")  # the kernel is up
    expect(status.first).to_be_visible(timeout=90_000)


def run_all(page: Page) -> None:
    """Lab's Run > Run All Cells, as a user would (retried: a run asked for while the
    kernel's session settles can be dropped)."""
    started = page.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[(\*|\d+)\]"))
    for _ in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            expect(started.first).to_be_visible(timeout=20_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    raise AssertionError("JupyterLab never ran the cells")


def wait_all_ran(page: Page, n_code_cells: int, timeout_s: float = 240) -> None:
    """Wait until every code cell shows an execution count (none queued or running)."""
    done = page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text=re.compile(r"\[\d+\]"))
    expect(done).to_have_count(n_code_cells, timeout=timeout_s * 1000)
    idle = page.locator(".jp-StatusBar-TextItem", has_text="| Idle")
    expect(idle.first).to_be_visible(timeout=30_000)
