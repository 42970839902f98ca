"""One plain plotly figure inside a widget, replaced whole when it changes.

A plotly ``FigureWidget`` carries its own copy of plotly.js (5 MB) in its widget state, so
every one of them sends ~7 MB through the kernel's websocket when it opens. A plain figure
is a few KB of JSON drawn by the ``jupyterlab-plotly`` renderer that JupyterLab already has
(plotly.js comes once, as a cached static file). ``PlotView`` puts such a figure in an
``ipywidgets.Output`` and swaps it when its JSON changes: an update costs the figure's JSON,
nothing when nothing changed.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["FigureSpec", "PlotView", "base_layout"]

MIME = "application/vnd.plotly.v1+json"
# the figure follows its output's width (no fixed width): the dashboard reflows
CONFIG = {"responsive": True, "displaylogo": False}

# a figure as plotly.js takes it: {"data": [trace dicts], "layout": {...}}
FigureSpec = dict[str, Any]

# the parts of plotly_white a 2D bar or line chart uses: the full template is 7 KB of polar,
# ternary, 3D and map defaults, sent again with every update
_TEMPLATE_LAYOUT = (
    "autotypenumbers", "colorway", "font", "hovermode", "hoverlabel", "paper_bgcolor",
    "plot_bgcolor", "xaxis", "yaxis", "shapedefaults", "annotationdefaults", "title",
)  # fmt: skip
_TEMPLATE_TRACES = ("bar", "scatter")


@cache
def _slim_template() -> dict[str, Any]:
    full = pio.templates["plotly_white"].to_plotly_json()
    return {
        "layout": {k: v for k, v in full["layout"].items() if k in _TEMPLATE_LAYOUT},
        "data": {k: v for k, v in full["data"].items() if k in _TEMPLATE_TRACES},
    }


def base_layout(figure: go.Figure) -> dict[str, Any]:
    """A styled empty figure's layout (``charts._style.finish``) as a plain dict, with the
    slim template and no fixed width."""
    layout: dict[str, Any] = figure.to_plotly_json()["layout"]
    layout["template"] = _slim_template()
    layout.pop("width", None)
    return layout


# ignore: ipywidgets ships no type information, so its base class is Any to mypy
class PlotView(widgets.Output):  # type: ignore[misc]
    """A plain plotly figure shown in an Output widget; ``show(spec)`` replaces it when its
    JSON differs from what the browser has. ``figure`` rebuilds a ``go.Figure`` from the
    last spec for inspection (``view.data``, ``view.figure.layout``; ``view.layout`` is the
    widget's own)."""

    def __init__(self, height: int) -> None:
        # the height is kept while a new figure replaces the old one: nothing below jumps
        super().__init__(layout=widgets.Layout(min_height=f"{height}px", min_width="0"))
        self._spec: FigureSpec = {"data": [], "layout": {}}
        self._sent = ""
        self.updates = 0
        self.bytes_sent = 0  # JSON of the figures sent so far

    def show(self, spec: FigureSpec) -> bool:
        """Show ``spec`` (traces may hold numpy arrays and datetimes); False when the
        browser already has exactly this figure."""
        text = pio.to_json(spec, validate=False)
        if text == self._sent:
            return False
        self._spec, self._sent = spec, text
        figure = json.loads(text)
        figure["config"] = CONFIG
        title = spec["layout"].get("title", {}).get("text", "")
        self.outputs = (
            {
                "output_type": "display_data",
                "data": {MIME: figure, "text/plain": f"<plotly figure: {title}>"},
                "metadata": {},
            },
        )
        self.updates += 1
        self.bytes_sent += len(text)
        return True

    @property
    def figure(self) -> go.Figure:
        return go.Figure(self._spec)

    @property
    def data(self) -> tuple[Any, ...]:
        return tuple(self.figure.data)
