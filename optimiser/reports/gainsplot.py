"""The agency graph as a picture: who gains, who loses, and the money between them.

Drawn as SVG (`optimiser.reports.drawing`). Agencies sit on a circle in the order the
instance declares them: green where the scenario leaves them better off than its
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

import networkx as nx
import numpy as np

from optimiser.analyses.gains import EDGE_KINDS, gains_graph
from optimiser.format import money
from optimiser.pipeline import RunResult
from optimiser.place.scenarios import main_pooled
from optimiser.reports.drawing import Drawing, Key, number, text_width, wrap_to
from optimiser.safe import chart_text

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
SIDE = 936.0
"""The picture's width in points (13 inches)."""
UNIT = 231.0
"""Points per unit of the layout: the agencies' circle has radius 1."""
TOP = 60.0
"""Where the layout's area (1.5 units above and below the circle's centre) begins."""


def dashes(style: str, width: float) -> str | None:
    """SVG dashes for a line style ('-' solid, '--' dashed, ':' dotted) of `width`,
    in proportion to the width: dashed 3.7 on, 1.6 off; dotted 1 on, 1.65 off (times
    the width)."""
    if style == "--":
        return f"{number(3.7 * width)} {number(1.6 * width)}"
    if style == ":":
        return f"{number(width)} {number(1.65 * width)}"
    return None


def draw_gains(result: RunResult, scenario: str) -> Drawing:
    """The agency graph of one optimal scenario (see the module doc), as a Drawing cropped
    to what it shows."""
    graph = gains_graph(result, scenario)
    cur = graph.graph["currency"]
    ids = list(graph.nodes)
    n = len(ids)
    angle = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    at = {a: np.array([np.cos(t), np.sin(t)]) for a, t in zip(ids, angle, strict=True)}
    radius = min(0.1, 0.75 * np.sin(np.pi / n)) if n > 1 else 0.1
    d = Drawing(SIDE)
    boxes: list[tuple[float, float, float, float]] = []

    arrows = sorted(((abs(e[k]), k, a, b, e[k]) for a, b, e in graph.edges(data=True)
                     for k in EDGE_KINDS if e[k] != 0), key=lambda x: (-x[0], x[1], x[2], x[3]))
    biggest = arrows[0][0] if arrows else 0.0
    drawn = [e for e in arrows[:MOST_ARROWS] if e[0] >= SMALLEST_DRAWN * biggest]
    amounts = [_arrow(d, at[a], at[b], radius, kind, amount, biggest)
               for _, kind, a, b, amount in drawn]
    small = arrows[len(drawn):]

    for a, t in zip(ids, angle, strict=True):
        node = graph.nodes[a]
        gap = node.get("change")
        colour = EVEN if gap is None or gap == 0 else GAINER if gap > 0 else LOSER
        x, y = _page(at[a])
        r = radius * UNIT
        d.circle(x, y, r, colour, "#FFFFFF", 2, role="node",
                 values=() if not isinstance(gap, float) else (gap,))
        boxes.append((x - r, y - r, x + r, y + r))
        boxes.append(_node_label(d, at[a] * (1 + radius + 0.05), np.cos(t), np.sin(t),
                                 _label(node, cur)))
    for place, amount, colour in amounts:  # over the nodes' labels
        boxes.append(_amount(d, place, money(abs(amount), cur), colour))

    left = min(b[0] for b in boxes) - 16
    right = max(b[2] for b in boxes) + 16
    if right - left < 560:
        left, right = (left + right) / 2 - 280, (left + right) / 2 + 280
    middle = (left + right) / 2
    ref = graph.graph["reference"]
    against = f"against {ref}" if ref else "(no reference scenario to compare with)"
    title = wrap_to(f"{result.instance.name}\nScenario {scenario}: who gains and who loses "
                    f"{against}", right - left - 20, 14)
    top = min(b[1] for b in boxes) - 16 - 17.5 * (title.count("\n") + 1)
    d.text(middle, top + 20, title, 14, "#000000", "middle", role="title")
    text = wrap_to("Present values; each agency's change in net position against the "
                   "reference (after any agreement), and its fair (Shapley) share of the "
                   f"pooling gain where computed.\nArrow width in proportion to money (widest "
                   f"{money(biggest, cur)}), each arrow's amount beside it. "
                   + _smaller(small, graph, cur), right - left - 20, 9)
    below = max(b[3] for b in boxes) + 20
    d.text(middle, below + 9, text, 9, "#555555", "middle", role="caption")
    below += 9 * 1.25 * (text.count("\n") + 1) + 10
    bottom = d.legend(_legend(graph), left + 20, below, right - left - 40, 10, columns=2)
    d.left, d.top, d.width, d.height = left, top, right - left, bottom + 12 - top
    return d


def _page(point: np.ndarray) -> tuple[float, float]:
    """A point of the layout (y up, the circle's centre at 0) on the page (points, y down)."""
    return SIDE / 2 + UNIT * float(point[0]), TOP + UNIT * (1.5 - float(point[1]))


def _node_label(d: Drawing, point: np.ndarray, cos: float, sin: float,
                text: str) -> tuple[float, float, float, float]:
    """An agency's label beside its node, away from the circle's centre; returns the box
    it takes (left, top, right, bottom)."""
    x, y = _page(point)
    anchor = _side(cos, 0.1, "start", "end", "middle")
    where = _side(sin, 0.3, "above", "below", "middle")
    size = 10.0
    count = text.count("\n") + 1
    tall = (count - 1) * size * 1.25 + size
    if where == "above":
        first = y - tall + size * 0.75
    elif where == "below":
        first = y + size * 0.9
    else:
        first = y + size * 0.35 - (count - 1) * size * 1.25 / 2
    d.text(x, first, text, size, "#000000", anchor, role="node-label")
    wide = text_width(text, size)
    start = x if anchor == "start" else x - wide if anchor == "end" else x - wide / 2
    return start, first - size * 0.8, start + wide, first - size * 0.8 + tall


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


def _arrow(d: Drawing, start: np.ndarray, end: np.ndarray, radius: float, kind: str,
           amount: float, biggest: float) -> tuple[tuple[float, float], float, str]:
    """One arrow from the rim of `start`'s node to the rim of `end`'s: a quadratic Bezier
    whose control point is the chord's middle plus `bend` times the chord turned right,
    its head a triangle growing with its width; returns where its
    amount goes (the top of its curve: half way to the control point), the amount and
    the colour."""
    colour, bend, style, _ = EDGE_STYLE[kind]
    if kind == "saves" and amount < 0:
        style = ":"
    way = (end - start) / np.linalg.norm(end - start)
    width = 0.8 + 7.0 * abs(amount) / biggest
    a, b = start + way * radius, end - way * radius
    chord = b - a
    control = (a + b) / 2 + bend * np.array([chord[1], -chord[0]])
    (ax, ay), (cx, cy), (bx, by) = _page(a), _page(control), _page(b)
    scale = 10 + 2 * width  # the head: 0.4 of this long (plus the line's width), 0.4 wide
    length, half = 0.4 * scale + width, 0.2 * scale + width / 2
    tangent = np.array([bx - cx, by - cy])
    tangent /= np.linalg.norm(tangent) or 1.0
    base = np.array([bx, by]) - tangent * length
    across = np.array([-tangent[1], tangent[0]]) * half
    d.path(f"M{number(ax)} {number(ay)}Q{number(cx)} {number(cy)} "
           f"{number(base[0])} {number(base[1])}", stroke=colour, width=width, opacity=0.7,
           dash=dashes(style, width), role="arrow", values=(amount,))
    left, right = base + across, base - across
    d.path(f"M{number(bx)} {number(by)}L{number(left[0])} {number(left[1])}"
           f"L{number(right[0])} {number(right[1])}z", fill=colour, opacity=0.7,
           role="arrow-head")
    middle = (a + b) / 2 + bend / 2 * np.array([chord[1], -chord[0]])
    return _page(middle), amount, colour


def _amount(d: Drawing, middle: tuple[float, float], text: str,
            colour: str) -> tuple[float, float, float, float]:
    """An arrow's amount on a white box at the top of its curve; returns the box."""
    size = 7.5
    w, h = text_width(text, size) + 4, size * 1.5
    x, y = middle[0] - w / 2, middle[1] - h / 2
    d.rect(x, y, w, h, "#FFFFFF", opacity=0.8, radius=2, role="amount-box")
    d.text(middle[0], middle[1], text, size, colour, "middle", middle=True, role="amount")
    return x, y, x + w, y + h


def _legend(graph: nx.DiGraph) -> list[Key]:
    keys = [Key("better off than the reference", GAINER),
            Key("worse off than the reference", LOSER),
            Key("no different", EVEN)]
    present = {k for _, _, d in graph.edges(data=True) for k in EDGE_KINDS if d[k] != 0}
    for kind in EDGE_KINDS:
        if kind in present:
            colour, _, style, text = EDGE_STYLE[kind]
            keys.append(Key(text, colour, "line", dash=dashes(style, 2.5)))
    if any(d["saves"] < 0 for _, _, d in graph.edges(data=True)):
        keys.append(Key("costs: what it delivers costs the other money",
                        EDGE_STYLE["saves"][0], "line", dash=dashes(":", 2.5)))
    return keys


def headline(result: RunResult) -> str | None:
    """The scenario gains.svg shows: the place's main pooled scenario (the headline's,
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
    """gains.svg: the headline scenario's picture (`draw_gains` draws any other)."""
    first = headline(result)
    if first is not None:
        (folder / "gains.svg").write_text(draw_gains(result, first).svg("gains", True),
                                          encoding="utf-8")
