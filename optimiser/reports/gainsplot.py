"""The agency graph as a picture: who gains, who loses, and the money between them.

Drawn straight onto a matplotlib `Figure` (no pyplot, so no global state and
no display needed). Agencies sit on a circle in the order the instance
declares them: green where the scenario leaves them better off than its
reference, red where worse off, grey where no different (or nothing to compare
with). Arrows carry money, as wide as the money they carry: blue `funds`,
orange `saves` (the wrong pocket; dotted where the delivery costs the other
agency money), purple gain-share transfers (dashed: the proposed settlement).
Each kind curves by its own amount, so arrows between the same two agencies
stay apart.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib as mpl
import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Patch

from optimiser.analyses.gains import EDGE_KINDS, gains_graph
from optimiser.format import money
from optimiser.pipeline import RunResult
from optimiser.place.scenarios import main_pooled
from optimiser.safe import CHART_STYLE, chart_text, plain_figure

GAINER, LOSER, EVEN = "#1a9850", "#d73027", "#9e9e9e"
"""Node colours: better off, worse off, no different from the reference."""

EDGE_STYLE: dict[str, tuple[str, float, str, str]] = {
    "funds": ("#2166ac", 0.10, "-", "funds: its money pays for what the other delivers"),
    "saves": ("#f1a340", 0.24, "-", "saves: what it delivers saves the other money"),
    "transfers": ("#762a83", 0.38, "-", "gain-share transfer"),
    "settlement": ("#762a83", 0.38, "--", "settlement: proposed payment"),
}
"""Edge kind -> (colour, curvature, line style, legend text)."""

SMALLEST_DRAWN = 0.02
"""Arrows carrying less than this share of the largest are not drawn, to keep it legible;
the text under the picture names them (`_smaller`)."""
MOST_ARROWS = 30
"""At most this many arrows are drawn (the largest), so a place of 10 to 15 agencies reads."""
NAMED_SMALL = 6
"""Payments not drawn that the text under the picture names one by one (the largest)."""


def draw_gains(result: RunResult, scenario: str) -> Figure:
    """The agency graph of one optimal scenario (see the module doc), as a Figure."""
    graph = gains_graph(result, scenario)
    cur = graph.graph["currency"]
    ids = list(graph.nodes)
    n = len(ids)
    angle = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    at = {a: np.array([np.cos(t), np.sin(t)]) for a, t in zip(ids, angle, strict=True)}
    radius = min(0.1, 0.75 * np.sin(np.pi / n)) if n > 1 else 0.1

    fig = Figure(figsize=(13, 13), dpi=100)
    ax = fig.add_axes((0.01, 0.2, 0.98, 0.74))
    ax.set_xlim(-1.85, 1.85)
    ax.set_ylim(-1.5, 1.5)
    ax.set_aspect("equal")
    ax.axis("off")

    arrows = sorted(((abs(d[k]), k, a, b, d[k]) for a, b, d in graph.edges(data=True)
                     for k in EDGE_KINDS if d[k] != 0), key=lambda e: (-e[0], e[1], e[2], e[3]))
    biggest = arrows[0][0] if arrows else 0.0
    drawn = [e for e in arrows[:MOST_ARROWS] if e[0] >= SMALLEST_DRAWN * biggest]
    for _, kind, a, b, amount in drawn:
        _arrow(ax, at[a], at[b], radius, kind, amount, biggest, cur)
    small = arrows[len(drawn):]

    for a, t in zip(ids, angle, strict=True):
        node = graph.nodes[a]
        gap = node.get("change")
        colour = EVEN if gap is None or gap == 0 else GAINER if gap > 0 else LOSER
        ax.add_patch(Circle(tuple(at[a]), radius, facecolor=colour, edgecolor="white",
                            linewidth=2, zorder=3))
        x, y = at[a] * (1 + radius + 0.05)
        ax.text(float(x), float(y), _label(node, cur), fontsize=10,
                ha=_side(np.cos(t), 0.1, "left", "right", "center"),
                va=_side(np.sin(t), 0.3, "bottom", "top", "center"), zorder=4, linespacing=1.25)

    ref = graph.graph["reference"]
    against = f"against {ref}" if ref else "(no reference scenario to compare with)"
    fig.suptitle(f"{result.instance.name}\nScenario {scenario}: who gains and who loses "
                 f"{against}", fontsize=14, y=0.97)
    fig.legend(handles=_legend(graph), loc="lower center", ncol=2, fontsize=10, frameon=False,
               bbox_to_anchor=(0.5, 0.01))
    fig.text(0.5, 0.175, "Present values; each agency's change in net position against the "
             "reference (after any agreement), and its fair (Shapley) share of the pooling gain "
             f"where computed.\nArrow width in proportion to money (widest "
             f"{money(biggest, cur)}), each arrow's amount beside it. "
             + _smaller(small, graph, cur), ha="center", va="top", fontsize=9,
             color="#555555", wrap=True)
    return fig


def _smaller(small: list[tuple[float, str, str, str, float]], graph: nx.DiGraph,
             cur: str) -> str:
    """The money on the arrows not drawn, in words: the largest few by name, the rest as a
    count and a total, so nothing is silently dropped."""
    if not small:
        return "Every payment is drawn."
    named = [f"{chart_text(graph.nodes[a]['name'])} to {chart_text(graph.nodes[b]['name'])} "
             f"{money(amount, cur)} "
             f"({kind})" for _, kind, a, b, amount in small[:NAMED_SMALL]]
    rest = small[NAMED_SMALL:]
    text = "Not drawn: " + "; ".join(named)
    if rest:
        text += (f"; and {len(rest)} more, {money(sum(e[0] for e in rest), cur)} in all, "
                 f"none above {money(rest[0][0], cur)}")
    return text + " (gains.graphml has every one)."


def _side(v: float, margin: float, positive: str, negative: str, middle: str) -> str:
    return positive if v > margin else negative if v < -margin else middle


def _label(node: dict[str, Any], cur: str) -> str:
    """Agency name (wrapped), its change against the reference and its fair share."""
    lines = textwrap.wrap(chart_text(node["name"]), 24)
    gap = node.get("change")
    if isinstance(gap, float):
        lines.append("no change" if gap == 0
                     else "change " + ("+" if gap > 0 else "") + money(gap, cur))
    else:
        lines.append("net " + money(float(node["net"]), cur))
    moved = node.get("agreement_moves")
    if isinstance(moved, float) and moved != 0:
        lines.append("agreement " + ("+" if moved > 0 else "") + money(moved, cur))
    share = node.get("shapley")
    if isinstance(share, float):
        lines.append("fair share " + money(share, cur))
    return "\n".join(lines)


def _arrow(ax: Axes, start: np.ndarray, end: np.ndarray, radius: float, kind: str,
           amount: float, biggest: float, cur: str) -> None:
    """One arrow from the rim of `start`'s node to the rim of `end`'s, its amount at the
    top of its curve."""
    colour, bend, style, _ = EDGE_STYLE[kind]
    if kind == "saves" and amount < 0:
        style = ":"
    way = (end - start) / np.linalg.norm(end - start)
    width = 0.8 + 7.0 * abs(amount) / biggest
    a, b = start + way * radius, end - way * radius
    ax.add_patch(FancyArrowPatch(
        tuple(a), tuple(b),
        connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>", mutation_scale=10 + 2 * width,
        linewidth=width, linestyle=style, color=colour, alpha=0.7, zorder=2,
        shrinkA=0, shrinkB=0))
    # matplotlib's arc3 bends by rad * the chord, to the left of the way from a to b; the
    # curve passes half that far from the chord's middle
    chord = b - a
    middle = (a + b) / 2 + bend / 2 * np.array([chord[1], -chord[0]])
    # on the figure, placed in the axes' coordinates: the axes' own texts are the agencies'
    ax.figure.text(float(middle[0]), float(middle[1]), money(abs(amount), cur),
                   transform=ax.transData, fontsize=7.5,
                   color=colour, ha="center", va="center", zorder=5,
                   bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                         "edgecolor": "none", "alpha": 0.8})


def _legend(graph: nx.DiGraph) -> list[Patch | Line2D]:
    handles: list[Patch | Line2D] = [
        Patch(facecolor=GAINER, label="better off than the reference"),
        Patch(facecolor=LOSER, label="worse off than the reference"),
        Patch(facecolor=EVEN, label="no different"),
    ]
    present = {k for _, _, d in graph.edges(data=True) for k in EDGE_KINDS if d[k] != 0}
    for kind in EDGE_KINDS:
        if kind in present:
            colour, _, style, text = EDGE_STYLE[kind]
            handles.append(Line2D([], [], color=colour, linestyle=style,  # type: ignore[arg-type]
                                  linewidth=3, label=text))
    if any(d["saves"] < 0 for _, _, d in graph.edges(data=True)):
        handles.append(Line2D([], [], color=EDGE_STYLE["saves"][0], linestyle=":", linewidth=3,
                              label="costs: what it delivers costs the other money"))
    return handles


def headline(result: RunResult) -> str | None:
    """The scenario gains.png shows: the place's main pooled scenario (the headline's,
    `optimiser.place.scenarios.main_pooled`, the one rule) where it and its reference are
    optimal; None otherwise (no picture: `missing_picture` says why), never a scenario
    picked by its position."""
    main = main_pooled(result.prepared.runs, [s.name for s in result.scenarios])
    if (main is not None and main.reference is not None
            and result.scenario(main.name).status == "optimal"
            and result.scenario(main.reference).status == "optimal"):
        return main.name
    return None


def missing_picture(result: RunResult) -> str | None:
    """Why there is no picture of the money between the agencies (`headline` is None), in
    words for the page; None where there is one."""
    main = main_pooled(result.prepared.runs, [s.name for s in result.scenarios])
    if main is None or main.reference is None:
        return ("No picture of the money between the agencies: no pooled scenario compares "
                "with a reference over the same horizon and objective, so there is no main "
                "pooled scenario to draw.")
    for name in (main.name, main.reference):
        status = result.scenario(name).status
        if status != "optimal":
            return (f"No picture of the money between the agencies: {name}, which the main "
                    f"pooled scenario {main.name} is drawn from, has no plan ({status}).")
    return None


def write_gains_pictures(result: RunResult, folder: Path) -> None:
    """gains.png: the headline scenario's picture (`draw_gains` draws any other)."""
    first = headline(result)
    if first is not None:
        with mpl.rc_context(CHART_STYLE):  # type: ignore[arg-type]  # keys checked by matplotlib
            _save(draw_gains(result, first), folder / "gains.png")


def _save(fig: Figure, path: Path) -> None:
    plain_figure(fig).savefig(path, dpi=100, metadata={"Software": None})
