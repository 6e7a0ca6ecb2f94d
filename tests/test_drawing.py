"""The SVG drawing module (optimiser.reports.drawing) and the page's charts drawn with it:
round ticks worked by hand, estimated text widths, escaping, the same bytes for the same
figures, and the charts showing the figures of the tables beside them."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import pytest

from optimiser.pipeline import run
from optimiser.reports import charts
from optimiser.reports.drawing import (
    Drawing,
    Frame,
    Key,
    fitting_ticks,
    nice_ticks,
    number,
    padded,
    text_width,
    wrap_to,
)
from optimiser.reports.story import Story, tell
from optimiser.reports.write import RULES

SVG = "{http://www.w3.org/2000/svg}"
TOY = Path(__file__).parent / "data" / "reports" / "toy.yaml"


def test_nice_ticks_by_hand() -> None:
    # 0 to 3.8m in at most 8 steps: 3.8m / 8 = 475k; of 100k x (1, 2, 2.5, 5) the first
    # at least 475k is 500k: 0, 0.5m, ..., 3.5m (4m is past the end)
    assert nice_ticks(0, 3.8e6, 8) == [k * 5e5 for k in range(8)]
    # -1.6 to 1.6 in at most 4: 0.8 a step; of 0.1 x (1, 2, 2.5, 5, 10) the first at least
    # 0.8 is 1: -1, 0, 1 (symmetric about zero, as the change panels need)
    assert nice_ticks(-1.6, 1.6, 4) == [-1.0, 0.0, 1.0]
    # -0.5 to 7 in at most 5: 1.5 a step -> 2: 0, 2, 4, 6
    assert nice_ticks(-0.5, 7, 5) == [0.0, 2.0, 4.0, 6.0]
    # 0.25 steps: 0 to 1 in at most 4 -> 0.25 (2.5 x 0.1)
    assert nice_ticks(0, 1, 4) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0, 0, 5) == [0.0]
    assert str(nice_ticks(-1, 0, 2)[-1]) == "0.0"  # never -0.0


def test_ticks_thin_out_until_their_labels_fit() -> None:
    # a 20-character label of x (500 thousandths each) at 8 pt: 20 * 0.5 * 8 * 1.15 = 92 pt.
    # 300 pt for 0 to 10: at most 300 // 50 = 6 steps -> 2 apart = 60 pt, too close for
    # 92 + 12; 5 steps -> 2 again; 4 steps -> 2.5 apart = 75 pt, too close; 3 steps -> 5
    # apart = 150 pt: 0, 5, 10
    wide = fitting_ticks(0, 10, 300, lambda v: "x" * 20, 8)
    assert wide == [0.0, 5.0, 10.0]
    assert fitting_ticks(0, 10, 300, lambda v: "1", 8) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert fitting_ticks(0, 10, 300, lambda v: "1", 8, most=4) == [0.0, 2.5, 5.0, 7.5, 10.0]


def test_text_widths_are_estimated_per_character() -> None:
    # H 722 + i 222 = 944 thousandths; at 10 pt with 15% headroom: 10.856 pt
    assert text_width("Hi", 10) == pytest.approx(9.44 * 1.15)
    assert text_width("Hi\nHiHi", 10) == pytest.approx(2 * 9.44 * 1.15)  # the widest line
    assert text_width("中", 10) == pytest.approx(10 * 1.15)  # wide characters: a full em
    assert text_width("e\u0301", 10) == text_width("e", 10)  # a combining accent adds nothing
    assert text_width("Hi", 10, bold=True) > text_width("Hi", 10)
    text = wrap_to("Reablement after a hospital stay for people over eighty", 100, 9.5)
    assert all(text_width(line, 9.5) <= 100 for line in text.split("\n"))
    assert text.replace("\n", " ") == "Reablement after a hospital stay for people over eighty"


def test_numbers_in_the_markup() -> None:
    assert [number(v) for v in (2.5, 2.0, -0.001, 1 / 3, 1234.5678)] == [
        "2.5", "2", "0", "0.33", "1234.57"]


def test_frame_maps_values_and_rows() -> None:
    frame = Frame(100, 10, 200, 40, -1.0, 1.0, 2)
    d = Drawing(300, 60)
    frame.bar(d, 0, 0.0, float("nan"), "#000000")  # no figure, no bar (nor 'nan' markup)
    frame.bar(d, 1, -1.0, 0.5, "#000000")
    assert [s.values for s in d.of("bar")] == [(-1.0, 0.5)]
    # row 1 centred at 10 + 1.5 * 20 = 40, 0.7 * 20 = 14 high: from 33; x from 100 to 250
    assert d.of("bar")[0].attr("d") == "M100 33h150v14h-150z"
    assert [frame.x(v) for v in (-1.0, 0.0, 0.5, 1.0)] == [100, 200, 250, 300]
    assert (frame.y(0), frame.y(1), frame.band) == (20, 40, 20)
    assert padded(0, 10) == (0, 10.5)  # bars start at zero: no margin on that side
    assert padded(-4, 6) == (-4.5, 6.5)
    assert padded(0, 0) == (0, 1.0)


def test_shapes_are_written_as_drawn() -> None:
    d = Drawing(200, 100)
    d.rect(10, 0, -5, 2, "#123456", hatch=True, role="bar", values=(1, 2))
    d.text(5, 50, 'a <b>&"c"\nline two', 9)
    text = d.svg("p")
    assert '<path d="M5 0h5v2h-5z" fill="#123456"/>' in text  # a negative width turned round
    assert 'fill="url(#p-hatch)"' in text and '<pattern id="p-hatch"' in text
    root = ElementTree.fromstring(text)
    spans = [s.text for s in root.iter(f"{SVG}tspan")]
    assert spans == ['a <b>&"c"', "line two"]
    assert "<b>" not in text
    assert d.of("bar")[0].values == (1.0, 2.0)
    assert Drawing(200, 100, list(d.shapes)).svg("p") == text


def test_legend_rows_do_not_overlap() -> None:
    d = Drawing(300)
    keys = [Key(f"scenario number {k}", "#000000") for k in range(6)]
    bottom = d.legend(keys, 10, 0, 280, 8.5)
    labels = d.of("legend")
    boxes = [(float(t.attr("x") or 0), float(t.attr("y") or 0),
              text_width(t.lines[0], 8.5)) for t in labels]
    rows = sorted({y for _, y, _ in boxes})
    assert len(rows) > 1 and bottom > rows[-1]
    for y in rows:
        line = sorted((x, w) for x, yy, w in boxes if yy == y)
        assert line[-1][0] + line[-1][1] <= 10 + 280 + 1
        assert all(a + w < b for (a, w), (b, _) in pairwise(line))
    # in columns: down the first column, then the second
    d = Drawing(300)
    d.legend(keys[:3], 0, 0, 300, 8.5, columns=2)
    xs = [float(t.attr("x") or 0) for t in d.of("legend")]
    assert xs[0] == xs[1] < xs[2]


@pytest.fixture(scope="module")
def story() -> Story:
    return tell(run(TOY), RULES)


def test_spending_chart_shows_the_spending_table(story: Story) -> None:
    drawing = charts.spending_chart(story)
    assert drawing is not None
    names = charts.compared(story)
    palette = charts.colours(story.scenarios["scenario"].tolist())
    used, _ = charts.charted_interventions(story)
    table = story.spending.set_index(["scenario", "intervention"])
    want = []
    for n in names:
        for i in used:
            fenced, pooled = float(table.at[(n, i), "fenced"]), float(table.at[(n, i), "pooled"])
            if fenced:
                want.append(("bar", (0.0, fenced), palette[n]))
            if pooled:
                want.append(("pool-bar", (fenced, fenced + pooled), palette[n]))
    assert want
    got = [(s.role, s.values, s.attr("fill")) for s in drawing.shapes
           if s.role in ("bar", "pool-bar")]
    assert got == [(r, pytest.approx(v), c) for r, v, c in want]
    assert [" ".join(t.lines) for t in drawing.of("row-label")] == [
        story.name("interventions", i) for i in used]
    again = charts.spending_chart(story)
    assert again is not None and again.svg("spend") == drawing.svg("spend")  # same bytes


def test_gains_chart_colours_gains_and_losses(story: Story) -> None:
    drawing = charts.gains_chart(story)
    assert drawing is not None
    gains = story.gains.dropna(subset=["gain"])
    bars = drawing.of("bar")
    assert bars and len(bars) == int((gains["gain"] != 0).sum())
    for bar in bars:
        gain = bar.values[1]
        assert bar.values[0] == 0.0
        assert bar.attr("fill") in ((charts.GAIN if gain > 0 else charts.LOSS), charts.MUTED)
    agencies = list(story.instance.agencies)
    values = [t.lines[0] for t in drawing.of("value")]
    assert values == [story.money(v) for n in charts.optimal_names(story)
                      if n in set(gains["scenario"])
                      for v in gains[gains["scenario"] == n].set_index("agency")["gain"]
                      .reindex(agencies).fillna(0.0)]
