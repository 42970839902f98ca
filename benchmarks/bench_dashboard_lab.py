"""The LiveDashboard as a JupyterLab user gets it (issue 17): a real JupyterLab server and
Debian's Chromium driven by Playwright, at a laptop's width.

    python benchmarks/bench_dashboard_lab.py

* Opening: the dashboard on the sample session; bytes the kernel's websocket carries to
  the browser until its four charts are drawn (target <= 1 MB), and the time from the
  cell's start to the last chart drawn (target <= 2 s), against one plain plotly chart of
  the same data opened the same way (the baseline of this run).
* Following: a live capture of the simulator with a 0.2 s heartbeat; the capture's ping
  round trip for 8 s without a dashboard, then while one opens and follows it in the
  browser (the dashboard must not slow capture), and the bytes per second its updates
  cost.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lab_page import open_notebook, run_all, wait_all_ran, write_notebook  # noqa: E402
from tests.servers import free_port, serving  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SAMPLE = ROOT / "data" / "sample-session"

OPEN_CELLS = {
    "dashboard": [
        f"import time\nimport guiders_lab as gl\nrec = gl.load({str(SAMPLE)!r})",
        "print('OPENED', time.time())\ndashboard = gl.LiveDashboard(rec)\ndashboard",
    ],
    "one chart": [
        f"import time\nimport guiders_lab as gl\nrec = gl.load({str(SAMPLE)!r})",
        "print('OPENED', time.time())\ngl.charts.message_volume(rec.messages)",
    ],
}
FOLLOW_CELLS = [
    "import asyncio, json, time\nimport guiders_lab as gl\n"
    "sim = gl.launch_simulator('busy_afternoon', seed=7, speed=300)\n"
    "live = await gl.connect(sim, heartbeat_interval=0.2)\n"
    "await live.wait_for(lambda s: len(s.store.tables['messages']) >= 100, timeout=60)",
    "t0 = time.time()\nawait asyncio.sleep(8)\nt1 = time.time()",
    "t2 = time.time()\ndashboard = gl.LiveDashboard(live, interval=1.0)\ndashboard",
    "await asyncio.sleep(8)\nt3 = time.time()",
    "import pandas as pd\n"
    "pings = live.latency.query('kind == \"ping\"')\n"
    "at = (pings['at'] - pd.Timestamp(0, tz='UTC')).dt.total_seconds()\n"
    "def stats(a, b):\n"
    "    v = pings['value_ms'][(at >= a) & (at < b)]\n"
    "    return {'n': len(v), 'p50': v.median(), 'p99': v.quantile(0.99), 'max': v.max()}\n"
    "print('RESULT', json.dumps({'without': stats(t0, t1), 'with': stats(t2, t3),\n"
    "    'bytes_sent': dashboard.bytes_sent, 'redraws': dashboard.redraws, 'seconds': t3 - t2}))",
]


def lab_server(work: Path) -> tuple[Any, dict[str, Any]]:
    port, token = free_port(), secrets.token_hex(16)
    settings = work.parent / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(work.parent / "settings")}
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root",
    ]  # fmt: skip
    server = serving("jupyter lab", cmd, port, work.parent / "lab.log", env=env)
    return server, {"url": f"http://127.0.0.1:{port}", "token": token, "dir": work}


def counting(page: Page) -> list[int]:
    """Bytes of each frame the kernel's websocket brings to the page."""
    received: list[int] = []

    def on_socket(ws: Any) -> None:
        if "/api/kernels/" in ws.url:
            ws.on("framereceived", lambda f: received.append(len(f) if f else 0))

    page.on("websocket", on_socket)
    return received


def open_figures(browser: Any, lab: dict[str, Any], what: str, cells: list[str]) -> dict:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    received = counting(page)
    name = what.replace(" ", "-") + ".ipynb"
    write_notebook(lab["dir"] / name, cells)
    open_notebook(page, lab, name)
    before = sum(received)
    charts = 4 if what == "dashboard" else 1
    run_all(page)
    page.wait_for_function(
        f"document.querySelectorAll('.jp-Notebook .js-plotly-plot .main-svg').length >= {charts}"
        " && [...document.querySelectorAll('.jp-Notebook .js-plotly-plot')].every("
        "  (gd) => gd._fullLayout !== undefined)",
        timeout=60_000,
    )
    drawn_at = page.evaluate("Date.now() / 1000")
    opened_bytes = sum(received) - before
    wait_all_ran(page, len(cells))
    out = page.locator(".jp-OutputArea-output", has_text="OPENED").first
    opened_at = float(out.inner_text().split()[1])
    page.context.close()
    return {"bytes": opened_bytes, "first_paint_s": drawn_at - opened_at}


def follow(browser: Any, lab: dict[str, Any]) -> dict:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    received = counting(page)
    write_notebook(lab["dir"] / "follow.ipynb", FOLLOW_CELLS)
    open_notebook(page, lab, "follow.ipynb")
    run_all(page)
    wait_all_ran(page, len(FOLLOW_CELLS), timeout_s=180)
    out = page.locator(".jp-OutputArea-output", has_text="RESULT").first
    result: dict = json.loads(out.inner_text().split("RESULT", 1)[1])
    result["websocket_bytes"] = sum(received)
    page.context.close()
    return result


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-lab-")) / "work"
    work.mkdir()
    server, lab = lab_server(work)
    report: dict[str, Any] = {}
    with server, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        open_figures(browser, lab, "one chart", OPEN_CELLS["one chart"])  # warm the kernel
        for _ in range(3):  # interleaved rounds
            for what, cells in OPEN_CELLS.items():
                report.setdefault(what, []).append(open_figures(browser, lab, what, cells))
        report["follow"] = follow(browser, lab)
        browser.close()
    for what in OPEN_CELLS:
        rounds = report[what]
        paint = sorted(r["first_paint_s"] for r in rounds)[len(rounds) // 2]
        sent = sorted(r["bytes"] for r in rounds)[len(rounds) // 2]
        report[f"{what} median"] = {"first_paint_s": paint, "bytes": sent}
        print(f"open {what:9}: {sent / 1000:,.0f} KB on the websocket, first paint {paint:.2f} s")
    paints = [report[f"{what} median"]["first_paint_s"] for what in OPEN_CELLS]
    ratio = paints[0] / paints[1]
    report["dashboard_vs_one_chart_paint"] = ratio
    print(f"dashboard / one chart, time to paint: {ratio:.2f}")
    f = report["follow"]
    print(
        f"capture ping without dashboard: p50 {f['without']['p50']:.2f} ms, "
        f"p99 {f['without']['p99']:.2f} ms ({f['without']['n']} pings); with the dashboard "
        f"opening and following: p50 {f['with']['p50']:.2f} ms, p99 {f['with']['p99']:.2f} ms "
        f"({f['with']['n']} pings); updates {f['bytes_sent'] / f['seconds'] / 1000:.1f} KB/s "
        f"of figures over {f['redraws']} redraws"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dashboard_lab.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
