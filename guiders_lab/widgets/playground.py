"""``gl.VariantPlayground``: pick messages, edit a prompt, choose models, run, compare."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol, cast

import ipywidgets as widgets
import pandas as pd

from .. import lab
from ..lab.inputs import MessageSource, prepare
from ..lab.scorers import ScorerLike
from ..models import EchoModel, FAQModel, Model, RuleModel
from ._follow import Following

__all__ = ["VariantPlayground"]

log = logging.getLogger(__name__)
# JupyterLab's error color, readable in its Light and Dark themes
_ERROR = "var(--jp-error-color1, #c62828)"


class _InputRow(Protocol):
    """A row of ``gl.lab.inputs.prepare``'s frame, as the message list shows it."""

    message_id: str
    chat_id: str | None
    content: str


def _default_models() -> dict[str, Model]:
    return {"faq": FAQModel(), "rules": RuleModel(), "echo": EchoModel()}


# ignore: ipywidgets ships no type information, so its base class is Any to mypy
class VariantPlayground(Following, widgets.VBox):  # type: ignore[misc]
    """Try a prompt template on chosen messages with several models, side by side.

    Every run is appended to ``.results`` (the lab's tidy table: one row per variant and
    message, with latency, tokens, cost and scores), so nothing you try is lost. On a live
    session, "follow" keeps the newest visitor messages selected as they arrive.
    """

    def __init__(
        self,
        source: MessageSource,
        *,
        models: Mapping[str, Model] | Iterable[Model] | None = None,
        template: str = "{content}",
        scorers: Iterable[ScorerLike] | None = None,
        max_messages: int = 200,
        select: int = 3,
        follow: bool | None = None,
        interval: float = 2.0,
    ) -> None:
        self.source = source
        if models is None:
            self.models = _default_models()
        elif isinstance(models, Mapping):
            self.models = dict(models)
        else:
            self.models = {m.name: m for m in models}
        self.scorers = scorers
        self.max_messages = max_messages
        self.select_newest = select
        self.results = pd.DataFrame()
        self.last_run: pd.DataFrame | None = None
        self._inputs = pd.DataFrame()
        self._task: asyncio.Task[None] | None = None

        self.messages = widgets.SelectMultiple(
            options=[], rows=7, layout=widgets.Layout(width="100%")
        )
        self.follow = widgets.Checkbox(
            description="follow the live stream", value=False, indent=False
        )
        self.template = widgets.Textarea(
            value=template,
            rows=3,
            layout=widgets.Layout(width="100%"),
            placeholder="fields: " + ", ".join("{" + f + "}" for f in lab.FIELDS),
        )
        self.model_picker = widgets.SelectMultiple(
            options=list(self.models), value=tuple(list(self.models)[:2]), rows=3
        )
        self.run_button = widgets.Button(
            description="Run variants", button_style="primary", icon="play"
        )
        self.status = widgets.HTML()
        self.output = widgets.HTML()
        self.run_button.on_click(lambda _: self._start_run())
        controls = widgets.HBox(
            [
                widgets.VBox([widgets.HTML("<b>Models</b>"), self.model_picker]),
                widgets.VBox([self.run_button, self.follow, self.status]),
            ]
        )
        super().__init__(
            [
                widgets.HTML("<b>Messages</b>"),
                self.messages,
                widgets.HTML("<b>Prompt template</b>"),
                self.template,
                controls,
                self.output,
            ]
        )
        self.add_class("guiders-variant-playground")
        self.refresh()
        live = getattr(source, "kind", "") in ("live", "replay", "background")
        self.follow.layout.display = None if live else "none"
        if follow:
            self.follow.value = True
        self.follower = self._follow(self._follow_tick, interval) if live else None

    # ------------------------------------------------------------------ messages
    def refresh(self) -> None:
        """Re-read the source's visitor messages (newest first)."""
        inputs = prepare(self.source)
        self._inputs = inputs.iloc[::-1].head(self.max_messages).reset_index(drop=True)
        options = [
            (f"{(row.chat_id or '')[-8:]}  {row.content[:90]}", row.message_id)
            for row in cast(Iterator[_InputRow], self._inputs.itertuples())
        ]
        chosen = [v for v in self.messages.value if v in {o[1] for o in options}]
        self.messages.options = options
        if self.follow.value or not chosen:
            chosen = [value for _, value in options[: self.select_newest]]
        self.messages.value = tuple(chosen)

    def _follow_tick(self) -> None:
        if self.follow.value:
            self.refresh()

    # ------------------------------------------------------------------ running
    def variants(self) -> list[lab.Variant]:
        chosen = [self.models[name] for name in self.model_picker.value]
        if not chosen:
            raise ValueError("choose at least one model")
        return lab.grid({"playground": self.template.value}, chosen)

    async def run(self) -> pd.DataFrame:
        """Run the current template and models on the selected messages."""
        inputs = self._inputs[self._inputs["message_id"].isin(self.messages.value)]
        if inputs.empty:
            raise ValueError("select at least one message")
        variants = self.variants()
        self.status.value = f"<i>running {len(variants) * len(inputs)} calls…</i>"
        results = await lab.run(variants, inputs, scorers=self.scorers, progress=False)
        self.last_run = results
        self.results = (
            results if self.results.empty else pd.concat([self.results, results], ignore_index=True)
        )
        self.output.value = self._render(results, variants)
        errors = int(results["error"].notna().sum())
        self.status.value = (
            f"{len(results)} replies"
            + (f", {errors} errors" if errors else "")
            + f" · {len(self.results)} kept in <code>.results</code>"
        )
        return results

    def _start_run(self) -> None:
        async def go() -> None:
            try:
                await self.run()
            except Exception as exc:  # show it where the user clicked, keep the kernel fine
                self.status.value = f"<span style='color:{_ERROR}'>{html.escape(str(exc))}</span>"
                log.info("playground run failed: %s", exc)

        self._task = asyncio.ensure_future(go())

    def _render(self, results: pd.DataFrame, variants: list[lab.Variant]) -> str:
        score_columns = [
            c for c in results.columns if c.startswith("score_") and c != "score_errors"
        ]
        head = "".join(f"<th>{html.escape(v.name)}</th>" for v in variants)
        body = []
        for message_id, rows in results.groupby("message_id", sort=False):
            by_variant = rows.set_index("variant_id")
            cells = []
            for v in variants:
                r = cast(pd.Series, by_variant.loc[v.id])  # one row per variant
                if r["error"] is not None and not pd.isna(r["error"]):
                    cells.append(
                        f"<td class='gl-lab-error' style='color:{_ERROR}'>"
                        f"{html.escape(str(r['error']))}</td>"
                    )
                    continue
                scores = " · ".join(
                    f"{c[6:]} {r[c]:.2f}" for c in score_columns if not pd.isna(r[c])
                )
                cost = "" if pd.isna(r["cost"]) else f" · ${r['cost']:.5f}"
                cells.append(
                    f"<td class='gl-lab-reply' style='vertical-align:top'>"
                    f"{html.escape(str(r['reply']))}<br><small>"
                    f"{r['latency_ms']:.1f} ms{cost}<br>{html.escape(scores)}</small>"
                    "</td>"
                )
            content = rows["content"].iloc[0]
            body.append(
                f"<tr><td style='vertical-align:top'><b>{html.escape(content)}</b>"
                f"<br><small>{html.escape(str(message_id))}</small></td>" + "".join(cells) + "</tr>"
            )
        return (
            f"<table class='gl-lab-grid' style='border-collapse:collapse'><tr><th>message"
            f"</th>{head}</tr>{''.join(body)}</table>"
        )

    def __repr__(self) -> str:
        return (
            f"<VariantPlayground {len(self.messages.value)} messages selected, "
            f"{len(self.results)} results kept>"
        )
