"""The report's charts, drawn with matplotlib and returned as inline SVG text.

Every chart is a `matplotlib.figure.Figure` (no pyplot state), saved as SVG
with its text kept as text and a fixed hash salt, so the same figures give the
same markup and the page needs no fonts or scripts from anywhere.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from optimiser.reports.gainsplot import draw_gains
from optimiser.reports.story import Story, change_tolerance, ranged, reading
from optimiser.reports.uncertaintyplot import draw_tornado
from optimiser.safe import CHART_STYLE, chart_text, plain_figure


class Tells(Protocol):
    """A story that formats money: the place's or the roll-up's."""

    def money(self, value: float | None) -> str:
        """Money in the story's currency, short."""
        ...


WIDTH = 9.5
"""Chart width in inches: 684 pt, the page's text column at 96 dpi."""
PALETTE = ["#1F3B73", "#2A9D8F", "#E09F3E", "#8E5EA2", "#6C757D", "#C8553D", "#3D8FD1"]
GAIN, LOSS, INK, MUTED = "#2A9D8F", "#C8553D", "#1B1F24", "#5F6B7A"
FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
        "'Liberation Sans', sans-serif")
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "optimise",
    "font.size": 9.5,
    "axes.edgecolor": "#C9CFD6",
    "axes.labelcolor": MUTED,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "legend.frameon": False,
    "hatch.color": "#FFFFFF",
    "hatch.linewidth": 1.2,
    **CHART_STYLE,
}


def colours(names: list[str]) -> dict[str, str]:
    """A fixed colour per scenario, in declared order."""
    return {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(names)}


def svg(draw: Callable[[], Figure | None], prefix: str) -> str:
    """Draw a figure in the report's style and return its SVG markup, ready to inline.

    Ids are prefixed with `prefix` so several charts can share a page; the XML
    prolog, doctype and metadata are dropped; text takes the page's font.
    """
    with mpl.rc_context(STYLE):  # type: ignore[arg-type]  # keys are checked by matplotlib
        fig = draw()
        if fig is None:
            return ""
        plain_figure(fig)
        buffer = io.StringIO()
        if fig.get_layout_engine() is not None:
            # Drawn once: `Figure.draw` runs the layout engine itself, whereas `savefig`
            # first draws the whole figure without output to lay it out and then draws it
            # again (the same bytes either way; a quarter to a third less work).
            FigureCanvasSVG(fig).print_svg(buffer, metadata={"Date": None})
        else:
            fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    for ident in set(re.findall(r'id="([^"]+)"', text)):
        text = text.replace(f'id="{ident}"', f'id="{prefix}-{ident}"')
        text = text.replace(f"#{ident})", f"#{prefix}-{ident})")
        text = text.replace(f'href="#{ident}"', f'href="#{prefix}-{ident}"')
    text = re.sub(r"font-family: [^;\"]*", f"font-family: {FONT}", text)
    return text.replace("<svg ", '<svg role="img" class="chart" ', 1)


def money_axis(story: Tells) -> FuncFormatter:
    """Tick labels in short money (£1.2m)."""
    return FuncFormatter(lambda v, _pos: story.money(v).replace(".0k", "k").replace(".00m", "m"))


def objective_axis(story: Story) -> FuncFormatter:
    """Tick labels for objective values: short money, or counts for the outcomes objective."""
    if story.instance.objective == "outcomes":
        return FuncFormatter(lambda v, _pos: f"{v:,.0f}")
    return money_axis(story)


def optimal_names(story: Story) -> list[str]:
    """The scenarios with a plan, in declared order."""
    table = story.scenarios
    return table.loc[table["status"] == "optimal", "scenario"].tolist()


def wrap(text: str, width: int = 30) -> str:
    """A label on as many lines of `width` characters as it needs."""
    return textwrap.fill(chart_text(text), width, break_long_words=False)


def compared(story: Story) -> list[str]:
    """The headline's two scenarios when both have plans; otherwise every one with a plan."""
    head = story.headline
    if head.net_benefit is not None:
        return [str(head.baseline), str(head.pooled)]
    return optimal_names(story)


MOST_BARS = 30
"""Interventions the spending chart shows at most: those with the most spend (a chart of
hundreds of bars is too tall to read and slow to draw; the table beside it has every one)."""


def charted_interventions(story: Story) -> tuple[list[str], int]:
    """The interventions the spending chart shows, in the instance's order (those with
    spend in the compared scenarios, the MOST_BARS with the most), and how many have spend."""
    spend = story.spending
    names = compared(story)
    if spend.empty or not names:
        return [], 0
    shown = spend[spend["scenario"].isin(names)]
    total = shown.groupby("intervention", sort=False)["amount"].sum()
    used = [i for i in story.instance.interventions if total.get(i, 0.0) > 0]
    if len(used) > MOST_BARS:
        most = set(sorted(used, key=lambda i: -total[i])[:MOST_BARS])
        return [i for i in used if i in most], len(used)
    return used, len(used)


def spending_chart(story: Story) -> Figure | None:
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
    height = 0.8 / m
    fig = Figure(figsize=(WIDTH, 1.2 + n * (0.22 * m + 0.3)), layout="constrained")
    ax = fig.subplots()
    palette = colours(story.scenarios["scenario"].tolist())
    rows = np.arange(n)
    for k, name in enumerate(names):
        y = rows - 0.4 + height * (k + 0.5)
        ax.barh(y, fenced[name], height * 0.9, color=palette[name], label=name)
        ax.barh(y, pooled[name], height * 0.9, left=fenced[name], color=palette[name],
                alpha=0.55, hatch="///", edgecolor=palette[name], linewidth=0)
    ax.set_yticks(rows, [wrap(story.name("interventions", i)) for i in used])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(money_axis(story))
    ax.set_xlabel("Spend over the plan (cash, constant prices)")
    ax.grid(axis="x", color="#E6E9ED", linewidth=0.8)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(facecolor="#9AA5B1", hatch="///", edgecolor="#9AA5B1", linewidth=0))
    labels.append("paid through the pool")
    fig.legend(handles, labels, loc="outside upper left", ncols=min(len(labels), 5),
               fontsize=8.5, handlelength=1.6)
    return fig


def outcomes_chart(story: Story) -> Figure | None:
    """Each outcome a year (mean) in every scenario, against its target."""
    names = optimal_names(story)
    targets = story.targets
    outcomes = list(story.instance.outcomes)
    if targets.empty or not names or not outcomes:
        return None
    cols = min(3, len(outcomes))
    rows = -(-len(outcomes) // cols)
    fig = Figure(figsize=(WIDTH, 0.5 + rows * (0.8 + 0.3 * len(names))), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, sharey=True)).ravel()
    palette = colours(story.scenarios["scenario"].tolist())
    table = targets.set_index(["scenario", "outcome"])
    for ax, k in zip(axes, outcomes, strict=False):
        values = [float(table.loc[(n, k), "achieved"]) for n in names]
        target = table.loc[(names[0], k), "target"]
        ax.barh(range(len(names)), values, color=[palette[n] for n in names], height=0.7)
        ax.set_yticks(range(len(names)), [chart_text(name) for name in names])
        goal = "" if pd.isna(target) else f"\ntarget {float(target):,.4g} a year"
        ax.set_title(wrap(story.name("outcomes", k), 34) + goal, fontsize=9.5)
        top = max([*values, 0.0 if pd.isna(target) else float(target)]) or 1.0
        ax.set_xlim(0, top * 1.3)
        for y, v in enumerate(values):
            ax.text(v + top * 0.02, y, f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}",
                    va="center", fontsize=8.5, color=INK)
        if pd.notna(target):
            ax.axvline(float(target), color=INK, linestyle=(0, (4, 3)), linewidth=1.1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        _sparse_axis(ax)
    axes[0].invert_yaxis()
    for ax in axes[len(outcomes):]:
        ax.set_visible(False)
    fig.supxlabel("a year, mean over the plan; dashed: the target", fontsize=8.5, color=MUTED)
    return fig


def _sparse_axis(ax: Axes) -> None:
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#E6E9ED", linewidth=0.8)
    ax.set_axisbelow(True)


def gains_chart(story: Story) -> Figure | None:
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
                  caption: str) -> Figure:
    """Gains (green) and losses (red) either side of zero, each labelled in money (grey
    where it could be either: `Panel.either`): a panel per comparison, two to a row, the
    same rows and scale in every panel."""
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(WIDTH, rows * (0.9 + 0.3 * len(labels))), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, sharex=True,
                                      squeeze=False)).ravel()
    scale = max(float(np.abs(p.values).max()) for p in panels) or 1.0
    y = np.arange(len(labels))
    for ax, panel in zip(axes, panels, strict=False):
        values = panel.values
        either = panel.either if panel.either is not None else np.zeros(len(values), bool)
        ax.barh(y, values, color=[MUTED if e else GAIN if v >= 0 else LOSS
                                  for v, e in zip(values, either, strict=True)], height=0.65,
                hatch=["///" if h else "" for h in panel.hatched], linewidth=0)
        ax.axvline(0, color=INK, linewidth=0.8)
        ax.set_xlim(-scale * 1.6, scale * 1.6)
        for yy, v in zip(y, values, strict=True):
            ax.text(v + (scale * 0.04 if v >= 0 else -scale * 0.04), yy, story.money(v),
                    va="center", ha="left" if v >= 0 else "right", fontsize=8, color=INK)
        ax.set_title(panel.title, fontsize=9.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
        ax.xaxis.set_major_formatter(money_axis(story))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_yticks(y, [chart_text(label) for label in labels])
    axes[0].invert_yaxis()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.supxlabel(caption, fontsize=8.5, color=MUTED)
    return fig


def gains_graph(story: Story, scenario: str) -> Figure | None:
    """The agency gains graph of one scenario (optimiser.reports.gainsplot)."""
    return draw_gains(story.result, scenario)


def spread_chart(story: Story) -> Figure | None:
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
    fig = Figure(figsize=(WIDTH, 1.0 + 0.45 * len(names)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(names))
    tones = [palette[n] for n in names]
    ax.barh(y, rows["p95"] - rows["p5"], left=rows["p5"], height=0.55, color=tones, alpha=0.4,
            linewidth=0)
    ax.scatter(rows["p50"], y, marker="|", s=380, c=tones, linewidths=2.6, zorder=3)
    ax.scatter(rows["mean"], y, marker="o", s=26, color=INK, zorder=4)
    ax.scatter(central, y, marker="D", s=30, facecolor="white", edgecolor=INK, linewidth=1.1,
               zorder=5)
    ax.set_yticks(y, [chart_text(name) for name in names])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(objective_axis(story))
    ax.grid(axis="x", color="#E6E9ED", linewidth=0.8)
    ax.set_axisbelow(True)
    handles = [Patch(color="#9AA5B1", alpha=0.5, linewidth=0),
               Line2D([], [], marker="|", markersize=14, markeredgewidth=2.4, color=MUTED,
                      linestyle="none"),
               Line2D([], [], marker="o", markersize=5, color=INK, linestyle="none"),
               Line2D([], [], marker="D", markersize=5, markerfacecolor="white",
                      markeredgecolor=INK, linestyle="none")]
    fig.legend(handles, ["5th to 95th percentile", "median", "mean",
                         "every figure central"], loc="outside upper left", ncols=4,
               fontsize=8.5, handlelength=1.6)
    ax.set_xlabel(f"objective over the {u.draws:,} draws (draws with a plan)")
    return fig


def tornado_chart(story: Story) -> Figure | None:
    """The tornado of the run's draws (optimiser.reports.uncertaintyplot), its axis in the report's
    money."""
    fig = draw_tornado(story.result)
    if fig is not None:
        fig.axes[0].xaxis.set_major_formatter(objective_axis(story))
    return fig
