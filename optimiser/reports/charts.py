"""The report's charts, drawn as SVG (`optimiser.reports.drawing`) and inlined in the page.

Every chart is a `Drawing`: text kept as text in the page's font, ids prefixed so
several charts share a page, the same figures giving the same bytes, and no fonts or
scripts from anywhere.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from optimiser.reports.drawing import (
    INK,
    MUTED,
    Drawing,
    Frame,
    Key,
    fitting_ticks,
    labels_width,
    padded,
    wrap_to,
)
from optimiser.reports.gainsplot import draw_gains
from optimiser.reports.story import Story, by_key, change_tolerance, ranged, reading
from optimiser.reports.story import optimal_names as story_optimal_names
from optimiser.reports.uncertaintyplot import draw_tornado
from optimiser.safe import chart_text


class Tells(Protocol):
    """A story that formats money: the place's or the roll-up's."""

    def money(self, value: float | None) -> str:
        """Money in the story's currency, short."""
        ...


WIDTH = 684.0
"""Chart width in points: the page's text column."""
PALETTE = ["#1F3B73", "#2A9D8F", "#E09F3E", "#8E5EA2", "#6C757D", "#C8553D", "#3D8FD1"]
GAIN, LOSS = "#2A9D8F", "#C8553D"
POOL_KEY = "#9AA5B1"
"""The legend's grey for money paid through the pool (hatched) and for ranges."""
SIZE, SMALL, TICK = 9.5, 8.5, 8.0
"""Font sizes: labels and titles, legends and captions, tick labels."""
PAD = 8.0
"""Space around a chart's edges."""


def colours(names: list[str]) -> dict[str, str]:
    """A fixed colour per scenario, in declared order."""
    return {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(names)}


def svg(draw: Callable[[], Drawing | None], prefix: str) -> str:
    """Draw a chart and return its SVG markup, ready to inline (ids prefixed with
    `prefix`); empty where there is nothing to draw."""
    drawing = draw()
    return "" if drawing is None else drawing.svg(prefix)


def short_money(story: Tells, value: float) -> str:
    """Money for a tick label: short, without a trailing .0 or .00 (£1.2m, £600k)."""
    return story.money(value).replace(".0k", "k").replace(".00m", "m")


def money_axis(story: Tells) -> Callable[[float], str]:
    """Tick labels in short money (£1.2m)."""
    return lambda v: short_money(story, v)


def counts(value: float) -> str:
    """A count for a tick label: whole, with thousands separators."""
    return f"{value:,.0f}"


def objective_axis(story: Story) -> Callable[[float], str]:
    """Tick labels for objective values: short money, or counts for the outcomes objective."""
    if story.instance.objective == "outcomes":
        return counts
    return money_axis(story)


def optimal_names(story: Story) -> list[str]:
    """The scenarios with a plan, in declared order (`optimiser.reports.story.optimal_names`)."""
    return story_optimal_names(story)


def wrap(text: str, width: int = 30) -> str:
    """A label on as many lines of `width` characters as it needs."""
    return textwrap.fill(chart_text(text), width, break_long_words=False)


def lines(text: str) -> int:
    """How many lines `text` takes."""
    return text.count("\n") + 1


def compared(story: Story) -> list[str]:
    """The headline's two scenarios when both have plans; otherwise every one with a plan."""
    head = story.headline
    if head.net_benefit is not None:
        return [str(head.baseline), str(head.pooled)]
    return optimal_names(story)


MOST_BARS = 30
"""Interventions the spending chart shows at most: those with the most spend (a chart of
hundreds of bars is too tall to read; the table beside it has every one)."""


def charted_interventions(story: Story) -> tuple[list[str], int]:
    """The interventions the spending chart shows, in the instance's order (those with
    spend in the compared scenarios, the MOST_BARS with the most), and how many have spend."""
    spend = story.spending
    names = compared(story)
    if spend.empty or not names:
        return [], 0
    shown = spend[spend["scenario"].isin(names)]
    grouped = shown.groupby("intervention", sort=False)["amount"].sum()
    total = dict(zip(grouped.index.tolist(), grouped.to_numpy(), strict=True))
    used = [i for i in story.instance.interventions if total.get(i, 0.0) > 0]
    if len(used) > MOST_BARS:
        most = set(sorted(used, key=lambda i: -total[i])[:MOST_BARS])
        return [i for i in used if i in most], len(used)
    return used, len(used)


def caption(d: Drawing, text: str, top: float, size: float = SMALL) -> float:
    """A line (or lines) of muted text centred under the chart from `top`; returns the
    y under it."""
    text = wrap_to(text, d.width - 2 * PAD, size)
    d.text(d.width / 2, top + size, text, size, MUTED, "middle", role="caption")
    return top + size * (1.3 + 1.25 * (lines(text) - 1))


def spending_chart(story: Story) -> Drawing | None:
    """Cash over the plan on each intervention, ring-fenced against pooled; pool money hatched
    (at most MOST_BARS interventions: `charted_interventions`)."""
    names = compared(story)
    spend = story.spending
    if spend.empty or not names:
        return None
    used, _ = charted_interventions(story)
    fenced = spend.pivot(index="intervention", columns="scenario", values="fenced")
    pooled = spend.pivot(index="intervention", columns="scenario", values="pooled")
    fenced = fenced.reindex(index=used, columns=names).fillna(0.0)
    pooled = pooled.reindex(index=used, columns=names).fillna(0.0)
    n, m = len(used), len(names)
    palette = colours(story.scenarios["scenario"].tolist())
    labels = [wrap(story.name("interventions", i)) for i in used]
    d = Drawing(WIDTH)
    keys = [Key(name, palette[name]) for name in names]
    keys.append(Key("paid through the pool", POOL_KEY, hatch=True))
    top = d.legend(keys, PAD, PAD, WIDTH - 2 * PAD, SMALL) + 6
    left = PAD + labels_width(labels, SIZE)
    band = max(m * 15.84 + 21.6, max((lines(t) for t in labels), default=1) * SIZE * 1.25 + 6)
    totals = (fenced + pooled).to_numpy()
    lo, hi = padded(float(totals.min(initial=0.0)), float(totals.max(initial=0.0)))
    frame = Frame(left, top, WIDTH - left - 2 * PAD, n * band, lo, hi, n)
    ticks = fitting_ticks(lo, hi, frame.width, money_axis(story), SIZE)
    frame.grid(d, ticks)
    share = 0.8 / m
    for k, name in enumerate(names):
        offset = -0.4 + share * (k + 0.5)
        for row, i in enumerate(used):
            own, pool = float(fenced.at[i, name]), float(pooled.at[i, name])
            if own:
                frame.bar(d, row + offset, 0.0, own, palette[name], share * 0.9)
            if pool:
                frame.bar(d, row + offset, own, own + pool, palette[name], share * 0.9,
                          opacity=0.55, hatch=True, role="pool-bar")
    frame.row_labels(d, labels, SIZE)
    bottom = frame.x_axis(d, ticks, money_axis(story), SIZE)
    d.height = caption(d, "Spend over the plan (cash, constant prices)", bottom, SIZE) + PAD
    return d


def outcomes_chart(story: Story) -> Drawing | None:
    """Each outcome a year (mean) in every scenario, against its target: a panel per
    outcome, three to a row, the scenarios named left of each row of panels."""
    names = optimal_names(story)
    targets = story.targets
    outcomes = list(story.instance.outcomes)
    if targets.empty or not names or not outcomes:
        return None
    cols = min(3, len(outcomes))
    palette = colours(story.scenarios["scenario"].tolist())
    achieved = by_key(targets, ["scenario", "outcome"], "achieved")
    aims = by_key(targets, ["scenario", "outcome"], "target")
    labels = [chart_text(name) for name in names]
    left = PAD + labels_width(labels, SIZE)
    gap = 16.0
    width = (WIDTH - left - PAD - gap * (cols - 1)) / cols
    band = max(0.3 * 72, max(lines(t) for t in labels) * SIZE * 1.25 + 4)
    d = Drawing(WIDTH)
    top = PAD
    for first in range(0, len(outcomes), cols):
        row = outcomes[first:first + cols]
        titles = []
        for k in row:
            target = aims[(names[0], k)]
            aim = "" if pd.isna(target) else f"\ntarget {float(target):,.4g} a year"
            titles.append(wrap_to(wrap(story.name("outcomes", k), 34), width, SIZE, True)
                          + aim)
        title_height = max(lines(t) for t in titles) * SIZE * 1.25 + 4
        bottom = top
        for c, (k, title) in enumerate(zip(row, titles, strict=True)):
            x = left + c * (width + gap)
            d.text(x, top + SIZE, title, SIZE, INK, bold=True, role="title")
            values = [float(achieved[(n, k)]) for n in names]
            target = aims[(names[0], k)]
            goal = None if pd.isna(target) else float(target)
            most = max([*values, 0.0 if goal is None else goal]) or 1.0
            least = min([*values, 0.0])
            lo, hi = least * 1.3, most * 1.3
            frame = Frame(x, top + title_height, width, band * len(names), lo, hi, len(names))
            ticks = fitting_ticks(lo, hi, width, counts, TICK, most=4)
            frame.grid(d, ticks)
            for y, (n, v) in enumerate(zip(names, values, strict=True)):
                if v:
                    frame.bar(d, y, 0.0, v, palette[n], 0.7)
                shown = f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}"
                d.text(frame.x(v) + (width * 0.02 / 1.3 if v >= 0 else -width * 0.02 / 1.3),
                       frame.y(y), shown, SMALL, INK, "start" if v >= 0 else "end",
                       middle=True, role="value")
            if goal is not None:
                d.line(frame.x(goal), frame.top, frame.x(goal), frame.top + frame.height, INK,
                       1.1, "4.4 3.3", role="target", values=(goal,))
            if c == 0:
                frame.row_labels(d, labels, SIZE)
            bottom = max(bottom, frame.x_axis(d, ticks, counts, TICK))
        top = bottom + 10
    d.height = caption(d, "a year, mean over the plan; dashed: the target", top - 4) + PAD
    return d


def gains_chart(story: Story) -> Drawing | None:
    """Each agency's gain or loss in net position against the scenario's reference."""
    gains = story.gains.dropna(subset=["gain"])
    names = [n for n in optimal_names(story) if n in set(gains["scenario"])]
    if not names:
        return None
    agencies = list(story.instance.agencies)
    panels = []
    for name in names:
        rows_of = gains[gains["scenario"] == name].set_index("agency").reindex(agencies)
        tol = change_tolerance(rows_of["gain"].dropna())
        shown = [(float(r.gain), float(r.gain_low), float(r.gain_high)) if pd.notna(r.gain)
                 else (0.0, 0.0, 0.0) for r in rows_of.itertuples()]
        panels.append(Panel(f"{name} against {rows_of['reference'].dropna().iloc[0]}",
                            np.array([v for v, _, _ in shown]),
                            np.array([ranged(lo, hi, tol) for _, lo, hi in shown]),
                            np.array([reading(v, lo, hi, tol) in ("either", "undecided")
                                      for v, lo, hi in shown])))
    return change_panels(story, [wrap(story.name("agencies", a), 28) for a in agencies],
                         panels, "change in net position after any agreement (PV); hatched: "
                         "equally good plans could change it; grey: they could make it a "
                         "gain or a loss")


@dataclass(frozen=True)
class Panel:
    """One comparison of `change_panels`: its title, a change per row, rows to hatch."""

    title: str
    values: np.ndarray
    hatched: np.ndarray
    either: np.ndarray | None = None
    """Rows whose change equally good plans could make a gain or a loss (`reading`):
    drawn grey, neither gain nor loss."""


def change_panels(story: Tells, labels: list[str], panels: list[Panel],
                  text: str) -> Drawing:
    """Gains (green) and losses (red) either side of zero, each labelled in money (grey
    where it could be either: `Panel.either`): a panel per comparison, two to a row, the
    same rows and scale in every panel, the rows named left of each row of panels; `text`
    under them."""
    cols = min(2, len(panels))
    labels = [chart_text(label) for label in labels]
    left = PAD + labels_width(labels, SIZE)
    gap = 16.0
    width = (WIDTH - left - PAD - gap * (cols - 1)) / cols
    band = max(0.3 * 72, max((lines(t) for t in labels), default=1) * SIZE * 1.25 + 4)
    scale = max(float(np.abs(p.values).max(initial=0.0)) for p in panels) or 1.0
    lo, hi = -scale * 1.6, scale * 1.6
    axis = money_axis(story)
    ticks = fitting_ticks(lo, hi, width, axis, TICK, most=4)
    d = Drawing(WIDTH)
    top = PAD
    for first in range(0, len(panels), cols):
        row = panels[first:first + cols]
        titles = [wrap_to(p.title, width, SIZE, True) for p in row]
        title_height = max(lines(t) for t in titles) * SIZE * 1.25 + 4
        bottom = top
        for c, (panel, title) in enumerate(zip(row, titles, strict=True)):
            x = left + c * (width + gap)
            d.text(x, top + SIZE, title, SIZE, INK, bold=True, role="title")
            frame = Frame(x, top + title_height, width, band * len(labels), lo, hi,
                          len(labels))
            frame.grid(d, ticks)
            either = panel.either if panel.either is not None else np.zeros(len(labels), bool)
            for y, (v, e, h) in enumerate(zip(panel.values, either, panel.hatched,
                                              strict=True)):
                v = float(v)
                if v:
                    frame.bar(d, y, 0.0, v, MUTED if e else GAIN if v >= 0 else LOSS, 0.65,
                              hatch=bool(h))
                d.text(frame.x(v + (scale * 0.04 if v >= 0 else -scale * 0.04)), frame.y(y),
                       story.money(v), TICK, INK, "start" if v >= 0 else "end", middle=True,
                       role="value")
            d.line(frame.x(0.0), frame.top, frame.x(0.0), frame.top + frame.height, INK, 0.8,
                   role="zero")
            if c == 0:
                frame.row_labels(d, labels, SIZE)
            bottom = max(bottom, frame.x_axis(d, ticks, axis, TICK))
        top = bottom + 10
    d.height = caption(d, text, top - 4) + PAD
    return d


def gains_graph(story: Story, scenario: str) -> Drawing | None:
    """The agency gains graph of one scenario (optimiser.reports.gainsplot)."""
    return draw_gains(story.result, scenario)


def spread_chart(story: Story) -> Drawing | None:
    """Each scenario's objective over the draws: a bar from the 5th to the 95th percentile,
    the median a stroke across it, the mean a dot, the plan at central figures a diamond."""
    u = story.uncertainty
    if u is None:
        return None
    rows = u.spread.dropna(subset=["p5"])
    if rows.empty:
        return None
    names = rows["scenario"].tolist()
    palette = colours(story.scenarios["scenario"].tolist())
    central = story.scenarios.set_index("scenario")["objective"].reindex(names)
    labels = [chart_text(name) for name in names]
    d = Drawing(WIDTH)
    keys = [Key("5th to 95th percentile", POOL_KEY, opacity=0.5),
            Key("median", MUTED, "stroke"), Key("mean", INK, "dot"),
            Key("every figure central", INK, "diamond")]
    top = d.legend(keys, PAD, PAD, WIDTH - 2 * PAD, SMALL) + 6
    left = PAD + labels_width(labels, SIZE)
    shown = np.concatenate([rows[["p5", "p50", "p95", "mean"]].to_numpy(float).ravel(),
                            central.to_numpy(float)])
    shown = shown[np.isfinite(shown)]
    lo, hi = float(shown.min()), float(shown.max())
    span = hi - lo or abs(hi) or 1.0
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    band = max(0.45 * 72, max(lines(t) for t in labels) * SIZE * 1.25 + 6)
    frame = Frame(left, top, WIDTH - left - 2 * PAD, band * len(names), lo, hi, len(names))
    axis = objective_axis(story)
    ticks = fitting_ticks(lo, hi, frame.width, axis, SIZE)
    frame.grid(d, ticks)
    for y, r in enumerate(rows.itertuples(index=False)):
        tone = palette[r.scenario]
        frame.bar(d, y, float(r.p5), float(r.p95), tone, 0.55, opacity=0.4)
        d.marker("stroke", frame.x(float(r.p50)), frame.y(y), frame.band * 0.6, tone,
                 role="median", values=(float(r.p50),))
        d.marker("dot", frame.x(float(r.mean)), frame.y(y), 5.4, INK, role="mean",
                 values=(float(r.mean),))
        plan = float(central.iloc[y])
        if np.isfinite(plan):
            d.marker("diamond", frame.x(plan), frame.y(y), 7.0, INK, role="central",
                     values=(plan,))
    frame.row_labels(d, labels, SIZE)
    bottom = frame.x_axis(d, ticks, axis, SIZE)
    d.height = caption(d, f"objective over the {u.draws:,} draws (draws with a plan)", bottom,
                       SIZE) + PAD
    return d


def tornado_chart(story: Story) -> Drawing | None:
    """The tornado of the run's draws (optimiser.reports.uncertaintyplot), its axis in the
    report's money."""
    return draw_tornado(story.result, axis=objective_axis(story))
