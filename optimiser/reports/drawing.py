"""Charts drawn straight as SVG text: shapes, text, axes, legends and hatching, no plotting
library.

A `Drawing` collects shapes in the order they are drawn (each with the figures it shows,
so tests can read a chart's data back) and writes them as SVG markup: numbers to two
decimals, ids prefixed, every text through `optimiser.safe.svg_text`, so the same figures
give the same bytes and nothing from the input becomes markup. Text is laid out with
an estimated width (`text_width`: a fixed table of a sans font's advance widths), which is
enough to keep labels apart without measuring fonts. `Frame` is a plot area with a linear
horizontal scale and rows (horizontal bars); `nice_ticks` chooses round tick values.
Units are points, as on the page (a chart 684 pt wide fills its text column).
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from optimiser.safe import chart_text, svg_text

FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
        "'Liberation Sans', sans-serif")
"""The page's font: the charts' text takes whatever sans font the reader's system has."""
INK, MUTED, RULE, GRID = "#1B1F24", "#5F6B7A", "#C9CFD6", "#E6E9ED"
"""Text, secondary text, axis lines, grid lines."""
HATCH = "url(#hatch)"
"""The fill of a hatched overlay: the picture's hatch pattern (its id prefixed when written)."""
LINE_GAP = 1.25
"""Baseline to baseline of a label's lines, in font sizes."""

_ASCII_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # sp to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0 to ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P to _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` to o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584)  # p to ~
"""Helvetica's advance widths (thousandths of the font size) of the printable ASCII
characters, space to tilde: the same as Arial's and Liberation Sans's, near enough to
Roboto's and Segoe UI's."""
_OTHER_WIDTHS = {"£": 556, "€": 556, "–": 556, "—": 1000, "‘": 222, "’": 222, "“": 333,
                 "”": 333, "…": 1000, "•": 350, "×": 584, "−": 584, "\u00a0": 278}
WIDE = 1.15
"""Headroom on every estimated width: the reader's font may run wider (DejaVu Sans, the
usual sans font on Linux, runs 10-14% wider than Helvetica)."""
BOLD = 1.08
"""Bold text runs this much wider than regular."""


def char_width(char: str) -> float:
    """The advance width of one character in thousandths of the font size: Helvetica's
    for ASCII and common symbols, 1000 for wide (East Asian) characters, 0 for combining
    marks, otherwise 600 (a generous average)."""
    code = ord(char)
    if 32 <= code <= 126:
        return _ASCII_WIDTHS[code - 32]
    if char in _OTHER_WIDTHS:
        return _OTHER_WIDTHS[char]
    if unicodedata.combining(char):
        return 0
    return 1000 if unicodedata.east_asian_width(char) in ("W", "F") else 600


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The estimated width of the widest line of `text` at font `size` (points):
    width = size * sum(char_width) / 1000 * WIDE (* BOLD)."""
    widest = max((sum(char_width(c) for c in line) for line in text.split("\n")), default=0)
    return widest * size / 1000 * WIDE * (BOLD if bold else 1.0)


def wrap_to(text: str, width: float, size: float, bold: bool = False) -> str:
    """`text` on as many lines as it needs to fit `width` points at `size` (long words
    are kept whole)."""
    lines = []
    for line in chart_text(text).split("\n"):
        chars = len(line)
        while chars > 8 and any(text_width(piece, size, bold) > width for piece in
                                textwrap.wrap(line, chars, break_long_words=False)):
            chars -= max(1, chars // 12)
        lines.extend(textwrap.wrap(line, chars, break_long_words=False) or [""])
    return "\n".join(lines)


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values across [lo, hi]: the smallest step of 1, 2, 2.5 or 5 times a
    power of ten that needs at most `most` intervals; the multiples of it inside the range
    (with one part in a million of slack), zero written as 0."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [0.0] if lo == hi == 0 else [lo]
    raw = (hi - lo) / max(most, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 2.5, 5, 10, 20) if s * power >= raw * (1 - 1e-9))
    slack = (hi - lo) * 1e-6
    first = math.ceil((lo - slack) / step)
    last = math.floor((hi + slack) / step)
    return [round(k * step, 10) + 0.0 for k in range(first, last + 1)]


def fitting_ticks(lo: float, hi: float, length: float, label: Callable[[float], str],
                  size: float, most: int = 0) -> list[float]:
    """`nice_ticks` over an axis `length` points long, at most `most` intervals (or one
    every 50 points), with as many as fit their labels side by side (at least a label's
    width and 12 points between tick centres)."""
    most = max(2, min(most or 1000, int(length // 50)))
    while True:
        ticks = nice_ticks(lo, hi, most)
        if most <= 2 or len(ticks) < 2:
            return ticks
        gap = length * (ticks[1] - ticks[0]) / (hi - lo)
        if gap >= max(text_width(label(t), size) for t in ticks) + 12:
            return ticks
        most -= 1


def number(value: float) -> str:
    """A coordinate for the markup: two decimals at most, no trailing zeros, never -0."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Shape:
    """One element: its SVG tag and attributes (text: its lines), what it shows (`role`,
    such as 'bar', 'node', 'label') and the figures it stands for (`values`)."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    lines: tuple[str, ...] = ()
    role: str = ""
    values: tuple[float, ...] = ()

    def attr(self, name: str) -> str | None:
        """The value of attribute `name`, if set."""
        return dict(self.attrs).get(name)


@dataclass(frozen=True)
class Key:
    """A legend entry: a swatch (`patch`, `line` or a marker: `dot`, `diamond`, `stroke`)
    in `colour`, then `label`."""

    label: str
    colour: str
    kind: str = "patch"
    hatch: bool = False
    opacity: float | None = None
    dash: str | None = None


def _style(fill: str | None = None, stroke: str | None = None, width: float | None = None,
           opacity: float | None = None, dash: str | None = None) -> list[tuple[str, str]]:
    attrs = [("fill", fill or "none")]
    if stroke is not None:
        attrs += [("stroke", stroke), ("stroke-width", number(width or 1.0))]
    if dash is not None:
        attrs.append(("stroke-dasharray", dash))
    if opacity is not None:
        attrs.append(("opacity", number(opacity)))
    return attrs


@dataclass
class Drawing:
    """An SVG picture `width` by `height` points, drawn shape by shape; its top left
    corner at (`left`, `top`) of the coordinates it is drawn in."""

    width: float
    height: float = 0.0
    shapes: list[Shape] = field(default_factory=list)
    left: float = 0.0
    top: float = 0.0

    def add(self, tag: str, attrs: list[tuple[str, str]], role: str = "",
            values: Sequence[float] = ()) -> Shape:
        """Add one element as it is (attribute values are escaped when written)."""
        shape = Shape(tag, tuple(attrs), (), role, tuple(float(v) for v in values))
        self.shapes.append(shape)
        return shape

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *,
             opacity: float | None = None, hatch: bool = False, role: str = "",
             values: Sequence[float] = (), radius: float = 0.0) -> None:
        """A rectangle (a bar, a swatch) from its top left corner, any sign of `w` or `h`;
        `hatch` lays white diagonal lines over it."""
        x, w = (x + w, -w) if w < 0 else (x, w)
        y, h = (y + h, -h) if h < 0 else (y, h)
        box = [f"M{number(x)} {number(y)}h{number(w)}v{number(h)}h{number(-w)}z"]
        if radius:
            r = number(radius)
            box = [f"M{number(x + radius)} {number(y)}h{number(w - 2 * radius)}"
                   f"a{r} {r} 0 0 1 {r} {r}v{number(h - 2 * radius)}a{r} {r} 0 0 1 -{r} {r}"
                   f"h{number(2 * radius - w)}a{r} {r} 0 0 1 -{r} -{r}"
                   f"v{number(2 * radius - h)}a{r} {r} 0 0 1 {r} -{r}z"]
        self.add("path", [("d", box[0]), *_style(fill, opacity=opacity)], role, values)
        if hatch:
            self.add("path", [("d", box[0]), ("fill", HATCH)], "hatch")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str,
             width: float = 1.0, dash: str | None = None, role: str = "",
             values: Sequence[float] = ()) -> None:
        """A straight line."""
        self.add("path", [("d", f"M{number(x1)} {number(y1)}L{number(x2)} {number(y2)}"),
                          *_style(None, stroke, width, dash=dash)], role, values)

    def path(self, d: str, *, fill: str | None = None, stroke: str | None = None,
             width: float = 1.0, opacity: float | None = None, dash: str | None = None,
             role: str = "", values: Sequence[float] = ()) -> None:
        """Any path (`d` in SVG's path syntax, built by the caller from numbers)."""
        self.add("path", [("d", d), *_style(fill, stroke if stroke else None,
                                            width if stroke else None, opacity, dash)],
                 role, values)

    def circle(self, x: float, y: float, r: float, fill: str, stroke: str | None = None,
               width: float = 1.0, role: str = "", values: Sequence[float] = ()) -> None:
        """A circle (a node, a dot)."""
        self.add("circle", [("cx", number(x)), ("cy", number(y)), ("r", number(r)),
                            *_style(fill, stroke, width if stroke else None)], role, values)

    def marker(self, kind: str, x: float, y: float, size: float, colour: str,
               role: str = "", values: Sequence[float] = ()) -> None:
        """A marker centred at (x, y), `size` points across: `dot` (filled), `diamond`
        (white, outlined) or `stroke` (a thick upright line)."""
        half = size / 2
        if kind == "dot":
            self.circle(x, y, half, colour, role=role, values=values)
        elif kind == "diamond":
            self.path(f"M{number(x)} {number(y - half)}L{number(x + half)} {number(y)}"
                      f"L{number(x)} {number(y + half)}L{number(x - half)} {number(y)}z",
                      fill="#FFFFFF", stroke=colour, width=1.1, role=role, values=values)
        else:
            self.path(f"M{number(x)} {number(y - half)}L{number(x)} {number(y + half)}",
                      stroke=colour, width=2.6, role=role, values=values)

    def text(self, x: float, y: float, text: str, size: float = 9.5, fill: str = INK,
             anchor: str = "start", bold: bool = False, middle: bool = False,
             role: str = "") -> None:
        """Text at (x, y): `y` is the first line's baseline, or with `middle` the
        vertical middle of all its lines; `anchor` start, middle or end."""
        lines = tuple(chart_text(text).split("\n"))
        if middle:
            y += size * 0.35 - (len(lines) - 1) * size * LINE_GAP / 2
        attrs = [("x", number(x)), ("y", number(y)), ("font-size", number(size)),
                 ("fill", fill)]
        if anchor != "start":
            attrs.append(("text-anchor", anchor))
        if bold:
            attrs.append(("font-weight", "bold"))
        self.shapes.append(Shape("text", tuple(attrs), lines, role))

    def legend(self, keys: Sequence[Key], x: float, y: float, width: float,
               size: float = 8.5, columns: int = 0) -> float:
        """The keys left to right from (x, y) (the top of the first row), a new row when
        the next would pass `width`; or with `columns`, down columns of equal width, each
        as long as needed; returns the y under the last row."""
        row = size * 1.7
        at, top, bottom = x, y, y + row
        deep = -(-len(keys) // columns) if columns else 0
        for n, key in enumerate(keys):
            span = 22 + text_width(key.label, size) + 14
            if columns:
                at, top = x + (n // deep) * width / columns, y + (n % deep) * row
            elif at > x and at + span - 14 > x + width:
                at, top = x, top + row
            self.swatch(key, at, top + row / 2, size)
            self.text(at + 22, top + row / 2, key.label, size, INK, middle=True,
                      role="legend")
            at += span
            bottom = max(bottom, top + row)
        return bottom

    def swatch(self, key: Key, x: float, y: float, size: float) -> None:
        """A legend key's sample, 16 points wide, centred on `y`."""
        if key.kind == "patch":
            self.rect(x, y - size * 0.4, 16, size * 0.8, key.colour, opacity=key.opacity,
                      hatch=key.hatch, role="swatch")
        elif key.kind == "line":
            self.line(x, y, x + 16, y, key.colour, 2.5, key.dash, role="swatch")
        else:
            self.marker(key.kind, x + 8, y, 7 if key.kind != "stroke" else 12, key.colour,
                        role="swatch")

    def of(self, role: str) -> list[Shape]:
        """The shapes drawn as `role`, in drawing order."""
        return [s for s in self.shapes if s.role == role]

    def svg(self, prefix: str = "chart", standalone: bool = False) -> str:
        """The picture as SVG markup: inline (`role="img"`, class "chart") or, with
        `standalone`, a file of its own with its XML declaration. Ids take `prefix`."""
        body = []
        hatched = any(s.role == "hatch" for s in self.shapes)
        if hatched:
            body.append(f'<defs><pattern id="{svg_text(prefix)}-hatch" '
                        'patternUnits="userSpaceOnUse" width="6" height="6">'
                        '<path d="M-1 1l2-2M0 6l6-6M5 7l2-2" stroke="#FFFFFF" '
                        'stroke-width="1.2"/></pattern></defs>')
        hatch = f"url(#{prefix}-hatch)"
        for shape in self.shapes:
            attrs = "".join(f' {name}="{svg_text(hatch if value == HATCH else value)}"'
                            for name, value in shape.attrs)
            if shape.tag != "text":
                body.append(f"<{shape.tag}{attrs}/>")
            elif len(shape.lines) == 1:
                body.append(f"<text{attrs}>{svg_text(shape.lines[0])}</text>")
            else:
                x = shape.attr("x") or "0"
                size = float(shape.attr("font-size") or 10)
                spans = "".join(
                    f'<tspan x="{svg_text(x)}"'
                    + (f' dy="{number(size * LINE_GAP)}"' if k else "")
                    + f">{svg_text(line)}</tspan>" for k, line in enumerate(shape.lines))
                body.append(f"<text{attrs}>{spans}</text>")
        w, h = number(self.width), number(self.height)
        x, y = number(self.left), number(self.top)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
                f'viewBox="{x} {y} {w} {h}" font-family="{svg_text(FONT)}"')
        if standalone:
            return ('<?xml version="1.0" encoding="utf-8"?>\n' + head + ">\n"
                    f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#FFFFFF"/>\n'
                    + "\n".join(body) + "\n</svg>\n")
        return head + ' role="img" class="chart">\n' + "\n".join(body) + "\n</svg>"


@dataclass
class Frame:
    """A plot area: `lo` to `hi` on a linear scale across [left, left + width], and
    `rows` bands of equal height from `top` down (row 0 at the top)."""

    left: float
    top: float
    width: float
    height: float
    lo: float
    hi: float
    rows: int

    @property
    def band(self) -> float:
        """The height of one row."""
        return self.height / max(self.rows, 1)

    def x(self, value: float) -> float:
        """Where `value` falls across the frame: left + width * (value - lo) / (hi - lo)."""
        span = self.hi - self.lo or 1.0
        return self.left + self.width * (value - self.lo) / span

    def y(self, row: float) -> float:
        """The middle of row `row` (fractions between rows)."""
        return self.top + (row + 0.5) * self.band

    def bar(self, d: Drawing, row: float, start: float, end: float, fill: str,
            thickness: float = 0.7, *, opacity: float | None = None, hatch: bool = False,
            role: str = "bar") -> None:
        """A horizontal bar from `start` to `end` across row `row`, `thickness` of the row
        high (its figures kept as the shape's values); none where either end is not a
        finite number."""
        if not (math.isfinite(start) and math.isfinite(end)):
            return
        high = self.band * thickness
        d.rect(self.x(start), self.y(row) - high / 2, self.x(end) - self.x(start), high,
               fill, opacity=opacity, hatch=hatch, role=role, values=(start, end))

    def grid(self, d: Drawing, ticks: Sequence[float]) -> None:
        """Light upright lines at the ticks (drawn first, under the bars)."""
        for t in ticks:
            d.line(self.x(t), self.top, self.x(t), self.top + self.height, GRID, 0.8,
                   role="grid")

    def x_axis(self, d: Drawing, ticks: Sequence[float], label: Callable[[float], str],
               size: float = 8.0) -> float:
        """The bottom and left edges, the ticks and their labels under the frame; returns
        the y under the labels."""
        bottom = self.top + self.height
        d.line(self.left, self.top, self.left, bottom, RULE, 0.8, role="axis")
        d.line(self.left, bottom, self.left + self.width, bottom, RULE, 0.8, role="axis")
        for t in ticks:
            d.line(self.x(t), bottom, self.x(t), bottom + 3.5, MUTED, 0.8, role="tick")
            d.text(self.x(t), bottom + 5 + size, label(t), size, MUTED, "middle",
                   role="tick-label")
        return bottom + 5 + size * 1.3

    def row_labels(self, d: Drawing, labels: Sequence[str], size: float = 9.5) -> None:
        """A label right-aligned left of each row."""
        for k, text in enumerate(labels):
            d.line(self.left - 3.5, self.y(k), self.left, self.y(k), INK, 0.8, role="tick")
            d.text(self.left - 7, self.y(k), text, size, INK, "end", middle=True,
                   role="row-label")


def labels_width(labels: Iterable[str], size: float) -> float:
    """The widest of `labels` at `size`, and room for its tick (at least 20 points)."""
    return max([text_width(t, size) for t in labels] + [10.0]) + 10


def padded(lo: float, hi: float, margin: float = 0.05) -> tuple[float, float]:
    """A range around [lo, hi] with `margin` of its span added on each side that is not
    zero (bars start at zero: the axis starts there too), never empty."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = hi - lo or 1.0
    return (lo - margin * span if lo < 0 else lo, hi + margin * span if hi > 0 else hi + (
        span if lo == hi else 0.0))


def bar_rows(d: Drawing, labels: Sequence[str], top: float,
             series: Sequence[tuple[str, str, Sequence[float]]], axis: Callable[[float], str],
             size: float, band: float, pad: float = 8.0, tick: float = 8.0) -> float:
    """Grouped horizontal bars from zero across the drawing (`pad` from its edges): a row
    per label, a bar per series (its name, colour and a value per row), ticks labelled by
    `axis`; returns the y under the tick labels."""
    left = pad + labels_width(labels, size)
    values = [float(v) for _, _, vs in series for v in vs if math.isfinite(v)]
    lo, hi = padded(min(values, default=0.0), max(values, default=0.0))
    frame = Frame(left, top, d.width - left - 2 * pad, band * len(labels), lo, hi,
                  len(labels))
    ticks = fitting_ticks(lo, hi, frame.width, axis, tick)
    frame.grid(d, ticks)
    share = 0.8 / max(len(series), 1)
    for k, (_, colour, vs) in enumerate(series):
        for row, v in enumerate(vs):
            if v:
                frame.bar(d, row - 0.4 + share * (k + 0.5), 0.0, float(v), colour,
                          share * 0.95)
    frame.row_labels(d, labels, size)
    return frame.x_axis(d, ticks, axis, tick)
