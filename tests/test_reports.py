"""report.xlsx, report.html and summary.md: every figure matches results.json.

The workbook is read back with openpyxl and every number compared with
results.json (or, for the columns only the CSV tables hold, with those). Every
number on the page carries `data-value` and `data-src` (where results.json holds
it, see optimiser.reports.page); each is evaluated against results.json. A real headless
Chromium opens the page with the network shut off and must show the headline and
the charts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter
import yaml
from positions import check_page as check_positions_page
from positions import check_workbook as check_positions

from optimiser.analyses import run_analyses
from optimiser.analyses.uncertainty import run_uncertainty
from optimiser.inputs.assumptions import comments
from optimiser.pipeline import RunResult, run
from optimiser.reports.story import share
from optimiser.reports.workbook import make_formats, summary_sheet
from optimiser.reports.write import story_of, write_reports

DATA = Path(__file__).parent / "data"
HERE = DATA / "reports"
INSTANCES = Path(__file__).parents[1] / "instances"
REL = 1e-9
DOCUMENTS = ("report.xlsx", "report.html", "summary.md")

def write(path: Path, out: Path) -> RunResult:
    """Solve, run every analysis, write the reports."""
    result = run(path)
    run_analyses(result)
    write_reports(result, out)
    return result


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four-agency place with every scenario kind, and every analysis."""
    out = tmp_path_factory.mktemp("place") / "out"
    write(HERE / "place.yaml", out)
    return out


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-solved toy of test_core, through the command line."""
    out = tmp_path_factory.mktemp("toy") / "out"
    done = subprocess.run([sys.executable, "-m", "optimiser", str(HERE / "toy.yaml"),
                           "--out", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


# place.yaml with three ranges and a harder admissions target, so that the draws move
# the plans and a few leave ring_fenced (and pooled_fair, which protects its positions)
# without a plan: 30 draws, seed 1, in one process.
RANGES = {
    "optimism_bias: 0.2": "optimism_bias: {low: 0.1, central: 0.2, high: 0.9}",
    "unit_cost: 800     # ASSUMPTION": "unit_cost: {low: 600, central: 800, high: 1400}  "
                                       "# ASSUMPTION",
    "savings: {police: 300, acute: 200}": "savings: {police: {low: 100, central: 300, high: 400}, "
                                          "acute: 200}",
    "target: 100 ": "target: 155 ",
}


@pytest.fixture(scope="module")
def ranged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """place.yaml with ranges, every analysis and 30 draws."""
    folder = tmp_path_factory.mktemp("ranged")
    text = (HERE / "place.yaml").read_text()
    for old, new in RANGES.items():
        assert old in text
        text = text.replace(old, new)
    (folder / "ranged.yaml").write_text(text)
    result = run(folder / "ranged.yaml")
    run_analyses(result)
    run_uncertainty(result, 30, 1, workers=1)
    write_reports(result, folder / "out")
    return folder


def results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text())


# ---------------------------------------------------------------- the workbook


def sheet_rows(book: openpyxl.Workbook, name: str, header_row: int = 1,
               first_col: int = 1) -> list[dict[str, Any]]:
    """The table whose header is at `header_row`, down to the first blank row."""
    ws = book[name]
    rows = list(ws.iter_rows(min_row=header_row, min_col=first_col, values_only=True))
    width = rows[0].index(None) if None in rows[0] else len(rows[0])
    header = rows[0][:width]
    out = []
    for row in rows[1:]:
        if all(v is None for v in row[:width]):
            break
        out.append(dict(zip(header, row[:len(header)], strict=True)))
    return out


def find_row(book: openpyxl.Workbook, name: str, first: str, second: str) -> int:
    """The row whose first two cells are `first` and `second` (a table's header)."""
    for n, row in enumerate(book[name].iter_rows(values_only=True), start=1):
        if row[0] == first and row[1] == second:
            return n
    raise AssertionError(f"no header {first}, {second} in {name}")


def approx(value: float) -> Any:
    return pytest.approx(value, rel=REL, abs=1e-9)


def check_workbook(folder: Path) -> openpyxl.Workbook:
    """Every number of every sheet against results.json (and the CSVs for their own columns)."""
    doc = results(folder)
    book = openpyxl.load_workbook(folder / "report.xlsx")
    drawn = ["Uncertainty", "Tornado"] if "uncertainty" in doc else []
    rates = ["Discount rates"] if "discount_sensitivity" in doc else []
    bound = ["Limits"] if "limits" in doc else []
    assert book.sheetnames == ["Summary", "Account", "Allocation", "Funding", "Outcomes",
                               "Agencies", "Who gains", "Agencies by year", "Transfers",
                               "Ring-fence prices", *bound, *rates, *drawn, "Assumptions",
                               "Provenance"]
    if bound:
        listed = [(name, e) for name, body in doc["limits"].items() for e in body["limits"]]
        shown = sheet_rows(book, "Limits")
        assert len(shown) == len(listed)
        for row, (name, e) in zip(shown, listed, strict=True):
            assert (row["Scenario"], row["Limit"], row["Of"]) == (name, e["kind"], e["item"])
            assert row["Gain from one unit more room"] == (
                None if e["gain"] is None else approx(e["gain"]))
            assert row["Loss from one unit less room"] == (
                None if e["loss"] is None else approx(e["loss"]))
            assert row["Pricing"] == e["pricing"]
    if rates:
        sensitivity = doc["discount_sensitivity"]
        shown = sheet_rows(book, "Discount rates")
        assert len(shown) == sum(len(at["scenarios"]) for at in sensitivity["by_rate"].values())
        for row in shown:
            at = sensitivity["by_rate"][f"{row['Discount rate']:.10g}"]
            held = at["scenarios"][row["Scenario"]]
            assert row["Objective"] == (None if held["objective"] is None
                                        else approx(held["objective"]))
            assert row["Net cash (PV)"] == (None if held["account"]["cash_net"] is None
                                            else approx(held["account"]["cash_net"]))
            ranked = at["ranking"]
            assert row["Rank"] == (ranked.index(row["Scenario"]) + 1
                                   if row["Scenario"] in ranked else None)
    start = doc["instance"]["start_year"]
    scenarios = doc["scenarios"]

    allocation = sheet_rows(book, "Allocation")
    csv = pd.read_csv(folder / "allocation.csv")
    assert len(allocation) == len(csv)
    for row, (_, line) in zip(allocation, csv.iterrows(), strict=True):
        units = scenarios[row["Scenario"]]["units"][row["Intervention"]][row["Year"] - start]
        assert row["Units"] == approx(units)
        assert row["Cost (cash)"] == pytest.approx(line["cost"], rel=1e-9, abs=1e-6)

    funding = sheet_rows(book, "Funding")
    assert len(funding) == len(pd.read_csv(folder / "funding.csv"))
    for row in funding:
        money = scenarios[row["Scenario"]]["funding"][row["Stream"]][row["Intervention"]]
        assert row["Amount (cash)"] == approx(money[row["Year"] - start])
        assert 0 <= row["Through the pool"] <= row["Amount (cash)"] * (1 + 1e-12)

    for row in sheet_rows(book, "Outcomes"):
        achieved = scenarios[row["Scenario"]]["outcomes"][row["Outcome"]][row["Year"] - start]
        assert row["Achieved"] == approx(achieved)

    fields = {"Spend": "spend", "Savings": "savings", "Transfers in": "transfers_in",
              "Transfers out": "transfers_out", "Net": "net", "Least position": "position_min",
              "Greatest position": "position_max", "Decided by rule": "decided_by_rule"}
    agencies = sheet_rows(book, "Agencies")
    assert len(agencies) == sum(len(s["agencies"]) for s in scenarios.values())
    for row in agencies:
        held = scenarios[row["Scenario"]]["agencies"][row["Agency"]]
        for header, key in fields.items():
            assert row[header] == (approx(held[key]) if held[key] is not None else None)
        assert row["Position before transfers"] == approx(
            held["net"] - held["transfers_in"] + held["transfers_out"])
        reference = scenarios[row["Scenario"]]["reference"]
        if reference is not None and scenarios[reference]["status"] == "optimal":
            base = scenarios[reference]["agencies"][row["Agency"]]["net"]
            assert row["Change against reference"] == approx(held["net"] - base)

    account = sheet_rows(book, "Account")
    assert [r["Scenario"] for r in account] == list(scenarios)
    labels = {"Costs (PV)": "cost", "Cashable savings (PV)": "cash_savings",
              "Valued outcomes (PV)": "outcome_value", "Net present social value": "net_benefit",
              "Pays for itself in cash by": "payback_year"}
    for row in account:
        held = scenarios[row["Scenario"]]["account"]
        for header, key in labels.items():
            assert row[header] == (approx(held[key]) if held[key] is not None else None)
    by_year = sheet_rows(book, "Agencies by year")
    assert len(by_year) == sum(len(s["agencies"]) * doc["instance"]["years"]
                               for s in scenarios.values() if s["status"] == "optimal")
    for row in by_year:
        cash = scenarios[row["Scenario"]]["agencies"][row["Agency"]]["by_year"]
        assert row["Spend (cash)"] == approx(cash["spend"][row["Year"] - start])
        assert row["Savings arriving (cash)"] == approx(cash["savings"][row["Year"] - start])

    transfers = [t | {"scenario": s} for s, body in scenarios.items() for t in body["transfers"]]
    sheet = sheet_rows(book, "Transfers", header_row=2)
    assert [(r["Scenario"], r["From"], r["To"]) for r in sheet] == [
        (t["scenario"], t["from"], t["to"]) for t in transfers]
    assert [r["Amount"] for r in sheet] == [approx(t["amount"]) for t in transfers]
    assert not check_positions(folder / "report.xlsx", doc)  # tests/positions.py
    check_summary(book, doc)
    check_analyses(book, doc)
    if drawn:
        check_uncertainty_sheets(book, doc)
    assert dict(sheet_rows(book, "Provenance")[2].items())["Value"] == doc["instance"]["sha256"]
    return book


def check_summary(book: openpyxl.Workbook, doc: dict[str, Any]) -> None:
    """The Summary sheet's scenario, outcome and position tables."""
    scenarios = doc["scenarios"]
    top = find_row(book, "Summary", "Scenario", "Description")
    rows = sheet_rows(book, "Summary", top)
    assert [r["Scenario"] for r in rows] == list(scenarios)
    for row in rows:
        body = scenarios[row["Scenario"]]
        assert row["Status"] == body["status"]
        if body["status"] != "optimal":
            assert row["Objective"] is None and row["Why not optimal"] == body["message"]
            continue
        agencies = body["agencies"].values()
        assert row["Objective"] == approx(body["objective"])
        assert row["Spend (PV)"] == approx(sum(a["spend"] for a in agencies))
        assert row["Savings (PV)"] == approx(sum(a["savings"] for a in agencies))
        assert row["Transfers (PV)"] == approx(sum(t["amount"] for t in body["transfers"]))
        if doc["instance"]["objective"] == "net_benefit":
            assert row["Net benefit (PV)"] == approx(body["objective"])
    top = find_row(book, "Summary", "Outcome", "Name")
    for row in sheet_rows(book, "Summary", top):
        for name, body in scenarios.items():
            expected = np.mean(body["outcomes"][row["Outcome"]]) if body["outcomes"] else None
            assert row[name] == (approx(expected) if expected is not None else None)
    top = find_row(book, "Summary", "Agency", "Name")
    for row in sheet_rows(book, "Summary", top):
        for name, body in scenarios.items():
            held = body["agencies"].get(row["Agency"])
            assert row[name] == (approx(held["net"]) if held else None)


def check_analyses(book: openpyxl.Workbook, doc: dict[str, Any]) -> None:
    """Ring-fence prices, settlement and fair shares, when results.json has them."""
    prices = sheet_rows(book, "Ring-fence prices")
    held = doc.get("ring_fence_prices", {})
    assert [r["Stream"] for r in prices] == list(held)
    for row in prices:
        entry = held[row["Stream"]]
        assert row["Rank"] == entry["rank"]
        assert row["Against"] == entry["reference"]
        for header, key in (("Gain from lifting it alone", "lift_gain"),
                            ("Marginal value of one more unit of budget", "marginal_value")):
            assert row[header] == (None if entry[key] is None else approx(entry[key]))
    settlement = sheet_rows(book, "Transfers", 2, 6)
    expected = [(s, p) for s, listed in doc.get("settlement", {}).items() for p in listed]
    assert [(r["Scenario"], r["From"], r["To"], r["Amount"]) for r in settlement] == [
        (s, p["from"], p["to"], approx(p["amount"])) for s, p in expected]
    short = sheet_rows(book, "Transfers", 2, 11)
    assert {r["Scenario"]: r["Shortfall"] for r in short} == {
        k: approx(v) for k, v in doc.get("settlement_shortfall", {}).items()}
    shares = sheet_rows(book, "Transfers", 2, 14)
    expected_shares = [(s, a, v) for s, vs in doc.get("shapley", {}).items()
                       for a, v in vs.items()]
    assert [(r["Scenario"], r["Agency"], r["Share"]) for r in shares] == [
        (s, a, approx(v)) for s, a, v in expected_shares]


def check_uncertainty_sheets(book: openpyxl.Workbook, doc: dict[str, Any]) -> None:
    """Uncertainty and Tornado: every figure against results.json's uncertainty and tornado."""
    spread = {name: entry["committed"] for name, entry in doc["uncertainty"].items()}
    back = {name: entry["hindsight"] for name, entry in doc["uncertainty"].items()}
    start = find_row(book, "Uncertainty", "Scenario", "Reference")
    rows = sheet_rows(book, "Uncertainty", start)
    assert [r["Scenario"] for r in rows] == list(spread)
    fields = {"Mean": "mean", "5th percentile": "p5", "Median": "p50", "95th percentile": "p95",
              "Draws": "draws", "No plan to commit": "no_plan",
              "Every target met": "p_targets_met",
              "Beats the reference": "p_beats_reference", "Reference": "reference"}
    for row in rows:
        entry = spread[row["Scenario"]]
        for header, key in fields.items():
            want = entry[key]
            assert row[header] == (approx(want) if isinstance(want, float) else want), header
        assert row["Every figure central"] == approx(doc["scenarios"][row["Scenario"]][
            "objective"])
    second = next(n for n, row in enumerate(book["Uncertainty"].iter_rows(values_only=True),
                                            start=1)
                  if n > start and row[0] == "Scenario" and row[1] == "Reference")
    rows = sheet_rows(book, "Uncertainty", second)
    assert [r["Scenario"] for r in rows] == list(back)
    fields = {"Mean": "mean", "5th percentile": "p5", "Median": "p50", "95th percentile": "p95",
              "Draws": "draws", "With a plan": "optimal", "Infeasible": "infeasible",
              "Unbounded": "unbounded", "Compared with the reference": "compared",
              "Beats the reference": "p_beats_reference", "Reference": "reference"}
    for row in rows:
        entry = back[row["Scenario"]]
        for header, key in fields.items():
            want = entry[key]
            assert row[header] == (approx(want) if isinstance(want, float) else want), header
    worse = sheet_rows(book, "Uncertainty", find_row(book, "Uncertainty", "Agency", "Name"))
    compared = [n for n, e in spread.items() if e["p_worse_off"]]
    assert [r["Agency"] for r in worse] == list(doc["scenarios"]["ring_fenced"]["agencies"])
    for row in worse:
        assert {n: row[n] for n in compared} == {
            n: approx(spread[n]["p_worse_off"][row["Agency"]]) for n in compared}
    tornado = doc["tornado"]
    rows = sheet_rows(book, "Tornado")
    assert [r["Figure"] for r in rows] == [f["figure"] for f in tornado["figures"]]
    for row, held in zip(rows, tornado["figures"], strict=True):
        assert row["Scenario"] == tornado["scenario"]
        assert row["Every figure central"] == approx(tornado["base"])
        for header, key in (("Low", "low"), ("Central", "central"), ("High", "high"),
                            ("Objective at its low", "objective_low"),
                            ("Objective at its high", "objective_high"), ("Swing", "swing")):
            assert row[header] == (None if held[key] is None else approx(held[key])), header
        assert (row["Status at its low"], row["Status at its high"]) == (
            held["status_low"], held["status_high"])
        assert row["Change at its low"] == approx(held["objective_low"] - tornado["base"])


def test_workbook_figures_match_results(place: Path) -> None:
    book = check_workbook(place)
    prices = sheet_rows(book, "Ring-fence prices")
    assert [r["Rank"] for r in prices] == [1, 2, 3, 4]
    gains = [r["Gain from lifting it alone"] for r in prices]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0


def test_workbook_is_formatted(place: Path) -> None:
    book = openpyxl.load_workbook(place / "report.xlsx")
    assert book["Allocation"].freeze_panes == "A2"
    assert book["Agencies"].freeze_panes == "D2"
    assert book["Summary"].freeze_panes == "A4"
    money_cells = [book["Agencies"].cell(row=2, column=c) for c in range(4, 12)]
    assert all(cell.number_format.startswith('"£"#,##0') for cell in money_cells)
    units = book["Allocation"].cell(row=2, column=5)
    assert units.number_format == "#,##0.00"
    ws = book["Funding"]
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    # Column E holds 'Intervention name' values such as 'Night-time contact service' (26).
    assert widths["E"] == pytest.approx(28, abs=1)
    assert all(w >= len("Year") for w in widths.values())


def test_workbook_in_another_currency(tmp_path: Path) -> None:
    text = (HERE / "toy.yaml").read_text().replace("name: toy", "name: toy\ncurrency: EUR")
    (tmp_path / "eur.yaml").write_text(text)
    write(tmp_path / "eur.yaml", tmp_path / "out")
    book = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    assert book["Agencies"].cell(row=2, column=4).number_format.startswith('"€"#,##0')
    assert "€2,400 of net benefit" in (tmp_path / "out" / "summary.md").read_text()


def test_assumptions_sheet(place: Path) -> None:
    book = openpyxl.load_workbook(place / "report.xlsx")
    rows = {(r["Figure"], r["Kind"]): r for r in sheet_rows(book, "Assumptions")}
    assert rows[("discount_rate", "source")]["Value"] == "0.035"
    assert rows[("discount_rate", "source")]["Source or assumption"] == (
        "HM Treasury Green Book discount rate")
    assert rows[("streams.adult_social_care.budget", "assumption")]["Line"] == 22
    assert rows[("streams.adult_social_care", "source")]["Source or assumption"] == (
        "County budget book 2009-10 (illustrative)")
    assert rows[("interventions.night_contact.deadweight", "assumption")]["Value"] == "0.1"
    assert rows[("outcomes.falls_avoided.value", "source")]["Source or assumption"] == (
        "Source: illustrative value of a fall avoided")
    # The heading comments at the top of the file are working, not sources.
    assert all(r["Line"] > 5 for r in rows.values())


def test_comments_are_found_by_the_yaml_scanner() -> None:
    text = ('name: "A # not a comment"  # the name\n'
            "# ASSUMPTION: on its own line\n"
            "notes: |\n"
            "  # inside a block scalar\n"
            "  text\n"
            "value: 3 # three\n")
    assert comments(text) == {1: ("the name", False), 2: ("ASSUMPTION: on its own line", True),
                              6: ("three", False)}


def test_same_figures_same_bytes(tmp_path: Path) -> None:
    result = run(HERE / "toy.yaml")
    write_reports(result, tmp_path / "one")
    write_reports(result, tmp_path / "two")
    for name in DOCUMENTS:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    again = run(HERE / "toy.yaml")
    write_reports(again, tmp_path / "three")
    for name in ("report.html", "summary.md"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "three" / name).read_bytes()


# ---------------------------------------------------------------- the page


class Figures(HTMLParser):
    """Every element with a data-value, its attributes and text; and every tag and link."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, str]] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._open: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = {k: v or "" for k, v in attrs}
        self.links += [v for k, v in found.items() if k in ("src", "href", "xlink:href")]
        if "data-value" in found:
            found["text"] = ""
            self.figures.append(found)
            self._open.append(found)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("td", "div", "span"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open:
            self._open[-1]["text"] += data


def parse(page: Path) -> Figures:
    parser = Figures()
    parser.feed(page.read_text())
    return parser


def resolve(doc: Any, path: str) -> list[float]:
    """Every figure at a '/'-path of results.json ('*': every key or item; lists flattened)."""
    nodes, wild = [doc], False
    for part in path.split("/"):
        step = []
        for node in nodes:
            if part == "*":
                step += list(node.values()) if isinstance(node, dict) else list(node)
                wild = True
            elif isinstance(node, list):
                step.append(node[int(part)])
            elif part in node or not wild:
                step.append(node[part])
        nodes = step
    flat: list[float] = []
    for node in nodes:
        flat += [float(v) for v in node] if isinstance(node, list) else [float(node)]
    return flat


def evaluate(doc: dict[str, Any], src: str, op: str) -> float:
    """A data-src expression: paths joined by ' + ' and ' - ', each summed or averaged."""
    tokens = re.split(r" ([+-]) ", src)
    total, sign = 0.0, 1.0
    for n, token in enumerate(tokens):
        if n % 2:
            sign = 1.0 if token == "+" else -1.0
            continue
        values = resolve(doc, token)
        total += sign * (float(np.mean(values)) if op == "mean" else sum(values))
    return total


def net_benefit(doc: dict[str, Any], instance: dict[str, Any], scenario: str) -> float:
    """Independently: savings - spend over agencies, plus the present value of outcomes."""
    body = doc["scenarios"][scenario]
    rate = doc["instance"]["discount_rate"]
    money = sum(a["savings"] - a["spend"] for a in body["agencies"].values())
    for k, achieved in body["outcomes"].items():
        value = instance["outcomes"][k].get("value", 0)
        money += sum(value * a / (1 + rate) ** t for t, a in enumerate(achieved))
    return money


def check_page(folder: Path, instance_file: Path) -> Figures:
    """Every figure on the page against results.json; and nothing fetched from anywhere."""
    doc = results(folder)
    instance = yaml.safe_load(instance_file.read_text())
    page = parse(folder / "report.html")
    assert page.figures, "the page shows no figures"
    for fig in page.figures:
        value = float(fig["data-value"])
        if "data-src" in fig:
            assert value == approx(evaluate(doc, fig["data-src"], fig.get("data-op", ""))), fig
        elif "data-instance" in fig:
            _, k, _ = fig["data-instance"].split("/")
            assert value == approx(float(np.mean(instance["outcomes"][k]["target"])))
        else:
            names = fig["data-net-benefit"].split(" - ")
            worked = [net_benefit(doc, instance, n) for n in names]
            assert value == approx(worked[0] - sum(worked[1:])), fig
        assert fig["text"].strip() not in ("", "-"), fig
    # the who-gains tables' changes, ranges and readings (tests/positions.py)
    assert not check_positions_page((folder / "report.html").read_text(encoding="utf-8"), doc)
    computed = [f for f in page.figures if "data-net-benefit" in f]
    assert bool(computed) == (doc["instance"]["objective"] != "net_benefit")
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert all(link.startswith("#") for link in page.links), page.links
    raw = (folder / "report.html").read_text()
    assert not re.search(r"url\((?!#)|@import|@font-face", raw)
    assert not re.findall(r"https?://(?!www\.w3\.org/(2000/svg|1999/xlink))", raw)
    return page


def test_page_figures_match_results(place: Path) -> None:
    for name in DOCUMENTS:
        assert (place / name).stat().st_size > 0
    page = check_page(place, HERE / "place.yaml")
    sources = {f.get("data-src", "") for f in page.figures}
    doc = results(place)
    for scenario, body in doc["scenarios"].items():
        for agency in body["agencies"]:
            assert f"scenarios/{scenario}/agencies/{agency}/net" in sources
    for stream in doc["ring_fence_prices"]:
        assert f"ring_fence_prices/{stream}/lift_gain" in sources
    for scenario, payments in doc["settlement"].items():
        assert {f"settlement/{scenario}/{n}/amount" for n in range(len(payments))} <= sources
    for scenario, short in doc["settlement_shortfall"].items():
        assert (f"settlement_shortfall/{scenario}" in sources) == (short >= 0.5)
    assert "shapley/pooled/acute" in sources
    assert page.tags.count("svg") >= 3


def test_uncertainty_figures_match_results(ranged: Path) -> None:
    out = ranged / "out"
    doc = results(out)
    spread = doc["uncertainty"]
    assert spread["ring_fenced"]["hindsight"]["infeasible"] > 0  # some draws leave no plan
    page = check_page(out, ranged / "ranged.yaml")
    sources = {f.get("data-src", "") for f in page.figures}
    for name, entry in spread.items():
        base = f"uncertainty/{name}/committed"
        committed = entry["committed"]
        assert {f"{base}/{k}" for k in ("mean", "p5", "p50", "p95", "p_targets_met")} <= sources
        assert (f"{base}/p_beats_reference" in sources) == (
            committed["p_beats_reference"] is not None)
        assert {f"{base}/p_worse_off/{a}" for a in committed["p_worse_off"]} <= sources
        base = f"uncertainty/{name}/hindsight"
        assert {f"{base}/{k}" for k in ("mean", "p5", "p50", "p95")} <= sources
        assert f"{base}/infeasible + {base}/unbounded" in sources
    for n, _ in enumerate(doc["tornado"]["figures"]):
        assert {f"tornado/figures/{n}/{k}" for k in ("low", "high", "objective_low",
                                                      "objective_high", "swing")} <= sources
    assert page.tags.count("svg") >= 5  # besides the place's charts: the spread and the tornado
    text = " ".join(" ".join(page.text).split())
    pooled = spread["pooled"]["committed"]
    assert (f"Committed, pooled's plan beats ring_fenced's in {pooled['p_beats_reference']:.0%}"
            f" of the {pooled['compared']} draws.") in text
    back = spread["pooled"]["hindsight"]
    assert (f"pooled beats ring_fenced in {back['p_beats_reference']:.0%} of the "
            f"{back['compared']} draws where both have a plan.") in text
    assert "Falls prevention service: unit cost" in text  # the tornado's top, by name
    check_workbook(out)
    check_uncertainty_summary((out / "summary.md").read_text(), doc)


def money_text(text: str) -> float:
    """Short money back to a number: '-£1.23m' -> -1230000.0, '£45.6k', '£789'."""
    scale = {"k": 1e3, "m": 1e6, "bn": 1e9}
    number = text.replace("£", "").replace(",", "")
    unit = next((u for u in ("bn", "k", "m") if number.endswith(u)), "")
    return float(number.removesuffix(unit)) * scale.get(unit, 1.0)


def check_uncertainty_summary(summary: str, doc: dict[str, Any]) -> None:
    """summary.md's spread table: each figure is results.json's, as shown (short money: to
    three or four figures)."""
    section = summary.split("## How sure are these figures?", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.split("\n")
            if line.startswith("| ") and not line.startswith(("| Scenario", "| ---"))]
    names = list(doc["uncertainty"])
    committed, back = rows[:len(names)], rows[len(names):]
    assert [r[0] for r in committed] == names == [r[0] for r in back]
    for name, mean, p5, p50, p95, met, beats in committed:
        entry = doc["uncertainty"][name]["committed"]
        for shown, key in ((mean, "mean"), (p5, "p5"), (p50, "p50"), (p95, "p95")):
            assert money_text(shown) == pytest.approx(entry[key], rel=5e-3, abs=0.5)
        assert met == share(entry["p_targets_met"])
        p = entry["p_beats_reference"]
        assert beats == share(p)
    for name, mean, p5, p50, p95, no_plan, beats in back:
        entry = doc["uncertainty"][name]["hindsight"]
        for shown, key in ((mean, "mean"), (p5, "p5"), (p50, "p50"), (p95, "p95")):
            assert money_text(shown) == pytest.approx(entry[key], rel=5e-3, abs=0.5)
        assert no_plan == f"{entry['infeasible'] + entry['unbounded']} of {entry['draws']}"
        p = entry["p_beats_reference"]
        assert beats == share(p)


def test_no_uncertainty_without_draws(place: Path) -> None:
    page = (place / "report.html").read_text()
    assert 'id="uncertainty"' not in page and "uncertainty/" not in page
    assert "How sure" not in (place / "summary.md").read_text()


def test_toy_headline_hand_solved(toy: Path) -> None:
    # test_core's toy: ring-fenced 600, pooled 3000 (net benefit); admissions avoided
    # 10 a year ring-fenced, 50 pooled; NHS 800 -> 3200, council -200 either way.
    # Cash: pooled spends 1,000 and saves 4,000 (net +3,000); ring-fenced net +600; no
    # outcome is valued, so all 2,400 is cash. Pooled, the first year (the toy gives no
    # start_year, so it is year 1) nets 2,000 - 500 >= 0.
    expected = ("Pooling buys 40 more admissions avoided a year and saves £2,400 of public "
                "cash: £2,400 more net benefit. Pooled, the plan pays for itself in cash by 1.")
    page = check_page(toy, HERE / "toy.yaml")
    text = " ".join(" ".join(page.text).split())
    assert expected in text
    # equally good plans leave the NHS +2,200 to +2,400 and the council 0 to +200 (below)
    assert ("NHS gains £2,400 (from +£2,200 to +£2,400) and Council is no worse and no "
            "better off (from £0 to +£200)") in text
    headline = [f for f in page.figures if f.get("class") == "big"]
    assert [float(f["data-value"]) for f in headline] == [2400.0, 40.0]
    summary = (toy / "summary.md").read_text()
    assert f"**{expected}**" in summary
    assert "| ring_fenced | optimal | £600 | £200 | £800 | £600 | 10 |" in summary
    # equally good pooled plans leave the council -200 to 0 and the NHS 3,000 to 3,200
    # (which stream's money buys the admissions): the NHS's change +2,200 to +2,400, a gain
    # whichever; the council's 0 to +200, no change as reported
    assert "| NHS | £800 | £3,200* | +£2,400 (+£2,200 to +£2,400) | gain |" in summary
    assert "| Council | -£200 | -£200* | £0 (£0 to +£200) | no change |" in summary
    check_workbook(toy)


def test_summary_sheet_keeps_scenarios_named_like_its_own_columns(tmp_path: Path) -> None:
    """The toy (worked above) with its scenarios called agency (ring-fenced), name and
    target (pooled) and outcome (pooled, no_worse_off with transfers): the Summary sheet's
    blocks keep each scenario's column apart from their own Agency, Name, Outcome and
    Target columns (before, a scenario called 'agency' took the agency ids' place and the
    workbook failed). NHS 800 ring-fenced, 3,200 pooled; council -200 either way;
    admissions avoided 10 a year ring-fenced, 50 pooled, against a target of 5."""
    toy = yaml.safe_load((HERE / "toy.yaml").read_text(encoding="utf-8"))
    toy["scenarios"] = {"agency": {"pooling": False}, "name": {"pooling": True},
                        "target": {"pooling": True},
                        "outcome": {"pooling": True, "incentives": "no_worse_off",
                                    "transfers": True}}
    path = tmp_path / "named.yaml"
    path.write_text(yaml.safe_dump(toy, sort_keys=False), encoding="utf-8")
    result = run(path)
    book_path = tmp_path / "report.xlsx"
    story = story_of(result)
    book = xlsxwriter.Workbook(str(book_path))
    summary_sheet(story, book, make_formats(book, story.currency))
    book.close()
    book = openpyxl.load_workbook(book_path)
    rows = sheet_rows(book, "Summary", find_row(book, "Summary", "Agency", "Name"))
    assert list(rows[0])[:6] == ["Agency", "Name", "agency", "name", "target", "outcome"]
    assert [(r["Agency"], r["Name"], r["agency"], r["name"], r["target"], r["outcome"])
            for r in rows] == [("council", "Council", *map(approx, (-200, -200, -200, -200))),
                               ("nhs", "NHS", *map(approx, (800, 3200, 3200, 3200)))]
    rows = sheet_rows(book, "Summary", find_row(book, "Summary", "Outcome", "Name"))
    assert [(r["Outcome"], r["Name"], r["Target a year"], r["agency"], r["name"], r["target"],
             r["outcome"]) for r in rows] == [("adm", "Admissions avoided",
                                               *map(approx, (5, 10, 50, 50, 50)))]


def test_infeasible_scenarios_are_reported(tmp_path: Path) -> None:
    # tests/data/infeasible.yaml: ring_fenced and pooled_20 cannot meet the target;
    # pooled can (15 units at 10: net benefit -150).
    out = tmp_path / "out"
    write(DATA / "infeasible.yaml", out)
    doc = results(out)
    message = doc["scenarios"]["ring_fenced"]["message"]
    assert message
    page = check_page(out, DATA / "infeasible.yaml")
    text = " ".join(" ".join(page.text).split())
    assert text.count("infeasible") >= 4
    assert message in text
    assert "Only pooling gives a plan that meets every constraint" in text
    assert {f.get("data-src") for f in page.figures} >= {
        "scenarios/ring_fenced/diagnosis/0/shortfall", "scenarios/pooled_20/diagnosis/0/shortfall"}
    book = openpyxl.load_workbook(out / "report.xlsx")
    why = sheet_rows(book, "Summary", find_row(book, "Summary", "Scenario", "Requirement"))
    # ring_fenced reaches 10 of the 15 admissions; pooled_20 reaches 100 + 20 = 120 / 10 = 12.
    assert [(r["Scenario"], r["Of"], r["Achievable"], r["Shortfall"]) for r in why] == [
        ("ring_fenced", "admissions_avoided", 10, 5), ("pooled_20", "admissions_avoided", 12, 3)]
    summary = (out / "summary.md").read_text()
    assert f"| ring_fenced | infeasible: {message} | - |" in summary
    assert "| pooled | optimal | -£150 | £150 | £0 | -£150 | 15 |" in summary
    check_workbook(out)


def instances() -> list[Path]:
    """Every instance the project ships or tests with."""
    found = [*DATA.glob("*.yaml"), *HERE.glob("*.yaml"), *INSTANCES.glob("*.yaml")]
    return sorted(p for p in found if p.name != "expected.yaml")


BOURNEMOUTH = INSTANCES / "bournemouth-dorset-poole.yaml"
CHECKED_ELSEWHERE = {
    BOURNEMOUTH: "tests/test_terminal.py: test_bournemouth_gets_both_reports and "
                 "test_page_prints_to_a4_with_nothing_cut, on its one command run",
    HERE / "place.yaml": "the place fixture: test_workbook_figures_match_results, "
                         "test_page_figures_match_results",
    HERE / "toy.yaml": "the toy fixture: test_toy_headline_hand_solved",
    DATA / "infeasible.yaml": "test_infeasible_scenarios_are_reported",
    DATA / "transfers.yaml": "test_settlement_shortfall_is_reported",
    DATA / "agreement_tie.yaml": "tests/test_positions.py: its summary.md and report.xlsx "
                                 "checked against results.json (check_markdown, "
                                 "check_workbook) without analyses",
    DATA / "agreement_tie_gain.yaml": "tests/test_positions.py, as agreement_tie.yaml",
}
"""Instances whose reports other tests already write (every analysis, every report) and
check as below (every document written, check_page, check_workbook): not written again."""


@pytest.mark.parametrize("instance", [p for p in instances() if p not in CHECKED_ELSEWHERE],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_instance_gets_both_reports(instance: Path, tmp_path: Path) -> None:
    write(instance, tmp_path / "out")
    for name in DOCUMENTS:
        assert (tmp_path / "out" / name).stat().st_size > 0
    check_page(tmp_path / "out", instance)
    check_workbook(tmp_path / "out")


# ---------------------------------------------------------------- in a real browser


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with the network shut off (every host resolves to nothing)."""
    browser = chromium()
    assert browser is not None
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--hide-scrollbars", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def need_chromium() -> None:
    """Skip without Chromium, unless OPTIMISE_REQUIRE_BROWSER says it must be there (CI)."""
    if chromium() is None:
        if os.environ.get("OPTIMISE_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (.ci/run installs it) but is not installed")
        pytest.skip("needs Chromium: apt-get install chromium (.ci/run installs it)")


def test_page_renders_in_a_browser(place: Path, tmp_path: Path) -> None:
    need_chromium()
    from PIL import Image

    page = place / "report.html"
    dom = browse(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    assert "Pooling buys 25 more unplanned admissions avoided" in dom.stdout
    assert dom.stdout.count("<figure") >= 4
    assert dom.stdout.count("<svg") >= 4
    shot = tmp_path / "page.png"
    done = browse(page, tmp_path / "profile", "--window-size=1100,2400", f"--screenshot={shot}")
    assert done.returncode == 0 and shot.exists(), done.stderr
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (2400, 1100)
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert pixels.std() > 30 and colours > 50


def needs(tool: str | None, what: str) -> None:
    """Skip without `tool`, or fail where OPTIMISE_REQUIRE_BROWSER says it must be there."""
    if tool is None:
        if os.environ.get("OPTIMISE_REQUIRE_BROWSER"):
            pytest.fail(f"{what} is required here (.ci/run installs it) but is not installed")
        pytest.skip(f"needs {what} (.ci/run installs it)")


def squeezed(text: str) -> str:
    """Text without any whitespace (a printed page wraps lines anywhere), in NFKC form (no
    ligatures), HTML entities resolved."""
    import html
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", html.unescape(text)))


def pound(value: float) -> str:
    """Whole pounds as the page prints them: -£9,024,364 (independently of the reports)."""
    value = 0.0 if abs(value) < 0.5 else value
    return ("-" if value < 0 else "") + f"£{abs(value):,.0f}"


def test_uncertainty_renders_in_a_browser(ranged: Path, tmp_path: Path) -> None:
    need_chromium()
    dom = browse(ranged / "out" / "report.html", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    assert "How sure are these figures?" in dom.stdout
    for chart in ("spread", "tornado"):
        figure = dom.stdout.split(f'id="figure-{chart}"', 1)[1].split("</figure>", 1)[0]
        assert figure.count("<path") > 5, chart


# ---------------------------------------------------------------- the words


def test_headline_sentences() -> None:
    from optimiser.inputs.schema import Agency, Instance, Outcome
    from optimiser.reports.story import _headline_sentence, count, phrase

    inst = Instance(name="x", start_year=2010, years=5, agencies={"a": Agency(name="A")},
                    outcomes={"adm": Outcome(name="Admissions avoided"),
                              "neet": Outcome(name="NEET young people helped")})
    pays = {"cost": 5e6, "cash_net": 1.0, "payback_year": 2012}
    never = {"cost": 5e6, "cash_net": -1e6, "payback_year": None}
    assert _headline_sentence(inst, 2.25e6 - 1.03e6, {"adm": 688.0, "neet": 0.0}, -1.03e6,
                              2.25e6, pays) == (
        "Pooling buys 688 more admissions avoided a year (valued at £2.25m) for £1.03m more "
        "public cash: £1.22m more net benefit. Pooled, the plan pays for itself in cash by "
        "2012.")
    assert _headline_sentence(inst, -1.5e6, {"adm": -2.5, "neet": 12.25}, -1.2e6, -0.3e6,
                              never) == (
        "Pooling buys 12.2 more NEET young people helped, but 2.5 fewer admissions avoided a "
        "year (worth £300.0k less in all) for £1.20m more public cash: £1.50m less net "
        "benefit. Pooled, the plan does not pay for itself in cash by the end of 2014.")
    assert _headline_sentence(inst, 1e-9, {"adm": 0.0, "neet": 0.0}, 0.0, 0.0, pays) == (
        "Pooling buys the same outcomes for the same public cash: no change in net benefit. "
        "Pooled, the plan pays for itself in cash by 2012.")
    assert phrase("Unplanned admissions") == "unplanned admissions"
    assert phrase("PCT referrals") == "PCT referrals"
    assert [count(v) for v in (1234.4, 40.0, 12.25, 0.125, float("nan"))] == [
        "1,234", "40", "12.2", "0.12", "-"]


def test_settlement_shortfall_is_reported(tmp_path: Path) -> None:
    # tests/data/transfers.yaml: pooled buys street triage (outcomes, no cash savings), so the
    # council loses 150 and the nhs 120 against ring_fenced and nobody gains cash: a
    # settlement without transfers can cover none of it, 270 short.
    write(DATA / "transfers.yaml", tmp_path / "out")
    assert "the settlement falls £270 short" in (tmp_path / "out" / "summary.md").read_text()
    page = check_page(tmp_path / "out", DATA / "transfers.yaml")
    short = [f for f in page.figures if f.get("data-src") == "settlement_shortfall/pooled"]
    assert [float(f["data-value"]) for f in short] == [270.0]
    assert (tmp_path / "out" / "report.xlsx").stat().st_size > 0
    check_workbook(tmp_path / "out")


# ---------------------------------------------------------------- the national roll-up

# Two places, solved by hand (no discounting, no outcome values: net benefit is savings
# less cost).
# north (2 years): the council's 100 a year buys 10 prevention units (cost 10, saving the
#   NHS 40): ring_fenced 2 * 10 * 30 = 600. Pooled, the NHS's money buys all 50:
#   2 * 50 * 30 = 3000. Admissions avoided 10 -> 50 a year. Council -200 either way; NHS
#   800 -> 3200. `fair` is north's alone.
# south (1 year): the county's 200 buys 20 falls units (cost 10, save the PCT 40, cost the
#   hospital 5): ring_fenced 20 * 25 = 500; pooled buys all 30: 750. Admissions 20 -> 30,
#   falls 40 -> 60 a year. County -200 either way; PCT 800 -> 1100; hospital -100 -> -150.
# Added up: ring_fenced 1100, pooled 3750 (+2650); admissions 30 -> 80 a year (+50); falls
# only in south, so not added up; PCTs +2700, acute trusts -50, councils 0.
NORTH = """\
name: North - prevention
years: 2
discount_rate: 0.0
agencies:
  council: {name: North Council, kind: council}
  nhs: {name: North PCT, kind: pct}
streams:
  asc: {agency: council, budget: 100}
  nhs_budget: {agency: nhs, budget: 1000}
interventions:
  prevention: {agency: council, unit_cost: 10, max_units: 50, savings: {nhs: 40},
               effects: {admissions_avoided: 1}}
  beds: {agency: nhs, unit_cost: 100, max_units: 5, savings: {nhs: 50}}
outcomes:
  admissions_avoided: {name: Admissions avoided, target: 5}
scenarios:
  ring_fenced: {pooling: false}
  pooled: {pooling: true}
  fair: {pooling: true, incentives: no_worse_off, transfers: true}
"""
SOUTH = """\
name: South - falls
years: 1
discount_rate: 0.0
agencies:
  county: {name: South County, kind: council}
  pct: {name: South PCT, kind: pct}
  acute: {name: South Hospital, kind: acute_trust}
streams:
  social_care: {agency: county, budget: 200}
  health: {agency: pct, budget: 1000}
interventions:
  falls: {agency: county, unit_cost: 10, max_units: 30, savings: {pct: 40, acute: -5},
          effects: {admissions_avoided: 1, falls_avoided: 2}}
outcomes:
  admissions_avoided: {name: Unplanned admissions avoided}
  falls_avoided: {name: Falls avoided}
"""
ROLLUP_DOCUMENTS = ("report.html", "report.xlsx", "summary.md", "results.json", "rollup.csv")


@pytest.fixture(scope="module")
def rolled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """north and south rolled up through the command line."""
    folder = tmp_path_factory.mktemp("rollup")
    for name, text in (("north", NORTH), ("south", SOUTH)):
        (folder / f"{name}.yaml").write_text(text)
    out = folder / "out"
    done = subprocess.run([sys.executable, "-m", "optimiser", str(folder / "north.yaml"),
                           str(folder / "south.yaml"), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "If these 2 places pooled" in done.stdout  # the roll-up's headline, printed
    return out


def place_documents(out: Path) -> dict[str, dict[str, Any]]:
    """Each place's own results.json, as the roll-up's `places` names them."""
    return {stem: results(out / Path(path).parent) for stem, path in results(out)["places"].items()}


def rollup_figure(out: Path, src: str, op: str) -> float:
    """A roll-up page's data-src: paths into its results.json, or, from `places/<stem>/`
    on, into that place's own."""
    doc, places = results(out), place_documents(out)
    total, sign = 0.0, 1.0
    for n, token in enumerate(re.split(r" ([+-]) ", src)):
        if n % 2:
            sign = 1.0 if token == "+" else -1.0
            continue
        if token.startswith("places/"):
            _, stem, rest = token.split("/", 2)
            total += sign * evaluate(places[stem], rest, op)
        else:
            total += sign * evaluate(doc, token, op)
    return total


def summed(out: Path, scenario: str, measure: str, item: str = "") -> float:
    """Independently of the roll-up: the places' own figures for `scenario` (each place's
    own scenario in that role), added up."""
    doc = results(out)
    total = 0.0
    for stem, place in place_documents(out).items():
        entry = doc["rollup"]["instances"][stem]
        own = entry["scenarios"].get(scenario)
        if own is None or place["scenarios"][own]["status"] != "optimal":
            continue
        body = place["scenarios"][own]
        agencies = body["agencies"]
        if measure == "objective":
            total += body["objective"] if entry["objective"] == item else 0.0
        elif measure in ("spend", "savings"):
            total += sum(a[measure] for a in agencies.values())
        elif measure == "net":
            total += sum(a["savings"] - a["spend"] for a in agencies.values())
        elif measure == "kind_net":
            kinds = yaml.safe_load(Path(entry["file"]).read_text())["agencies"]
            total += sum(a["net"] for k, a in agencies.items()
                         if kinds[k].get("kind", "unclassified") == item)
        elif measure == "outcome" and item in body["outcomes"]:
            total += float(np.mean(body["outcomes"][item]))
    return total


def check_rollup_page(out: Path) -> Figures:
    """Every figure on the roll-up's page against the results.json files; every total the
    sum of the places' own figures; links only to the places' reports."""
    doc = results(out)
    page = parse(out / "report.html")
    assert page.figures
    for fig in page.figures:
        value = float(fig["data-value"])
        assert value == approx(rollup_figure(out, fig["data-src"], fig.get("data-op", ""))), fig
        assert fig["text"].strip() not in ("", "-"), fig
        found = re.fullmatch(r"rollup/scenarios/(\w+)/(objective/\w+|spend|savings|net|"
                             r"outcomes/\w+|agency_kinds/\w+/net)", fig["data-src"])
        if found:
            scenario, path = found.groups()
            measure, _, item = path.partition("/")
            measure = {"outcomes": "outcome", "agency_kinds": "kind_net"}.get(measure, measure)
            item = item.removesuffix("/net")
            assert value == approx(summed(out, scenario, measure, item)), fig
    stems = set(doc["places"])
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert {link for link in page.links if not link.startswith("#")} == {
        f"{stem}/report.html" for stem in stems}
    assert all((out / stem / "report.html").is_file() for stem in stems)
    raw = (out / "report.html").read_text()
    assert not re.findall(r"https?://(?!www\.w3\.org/(2000/svg|1999/xlink))", raw)
    return page


def test_rollup_documents_hand_solved(rolled: Path) -> None:
    for name in ROLLUP_DOCUMENTS:
        assert (rolled / name).stat().st_size > 0
    doc = results(rolled)
    # each place's own results in its own folder, named by the roll-up
    assert doc["places"] == {"north": "north/results.json", "south": "south/results.json"}
    for stem in ("north", "south"):
        assert set(results(rolled / stem)["scenarios"]) >= {"ring_fenced", "pooled"}
    assert doc["rollup"]["scenarios"]["pooled"]["places"] == ["north", "south"]
    assert list(pd.read_csv(rolled / "rollup.csv").columns) == [
        "scenario", "place", "measure", "item", "places", "value", "vs_ring_fenced"]
    assert doc["rollup"]["headline"] == [
        "If these 2 places pooled: £2,650 more net benefit (PV), all of it public cash, "
        "50 more "
        "admissions avoided a year; net position (PV) against ring-fenced: PCTs +£2,700, "
        "acute trusts -£50."]
    page = check_rollup_page(rolled)
    text = " ".join(" ".join(page.text).split())
    lead = ("If these 2 places pooled: £2,650 more net benefit (PV), all of it public cash, "
            "50 more admissions avoided a year.")
    assert lead in text
    assert [float(f["data-value"]) for f in page.figures if f.get("class") == "big"] == [
        2650.0, 50.0]
    sources = {f["data-src"]: float(f["data-value"]) for f in page.figures}
    # figures from the solver: exact to the last few bits (-50 is -50.000000000000014)
    assert sources["rollup/scenarios/ring_fenced/objective/net_benefit"] == approx(1100)
    assert sources["rollup/scenarios/pooled/objective/net_benefit"] == approx(3750)
    assert sources["rollup/scenarios/pooled/outcomes/admissions_avoided"] == approx(80)
    assert sources["rollup/scenarios/pooled/vs_ring_fenced/agency_kinds/pct/net"] == approx(2700)
    assert sources["rollup/scenarios/pooled/vs_ring_fenced/agency_kinds/acute_trust/net"] == (
        approx(-50))
    assert sources["rollup/outcomes_by_place/south/pooled/falls_avoided"] == approx(60)
    assert sources["places/north/scenarios/pooled/objective - "
                   "places/north/scenarios/ring_fenced/objective"] == approx(2400)
    assert "fair (north)" in text  # north's own scenario: reported, not added up
    summary = (rolled / "summary.md").read_text()
    assert f"**{lead}**" in summary
    assert "| pooled | 2 of 2 | net_benefit | £3,750 | £2,650 | £1,300 | £5,050 | £3,750 |" in (
        summary)
    assert "| PCTs | £1,600 | £4,300 | +£2,700 |" in summary
    assert "| [North - prevention](north/report.html) | net_benefit | £600 | £3,000 | £2,400 |" in (
        summary)
    check_rollup_workbook(rolled)


def check_rollup_workbook(out: Path) -> None:
    """Every figure of the roll-up's workbook against its results.json, rollup.csv and the
    places' own results."""
    doc, places = results(out), place_documents(out)
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames == ["Summary", "Places", "Agency kinds", "Outcomes", "Roll-up",
                               "Provenance"]
    scenarios = doc["rollup"]["scenarios"]
    rows = sheet_rows(book, "Summary", find_row(book, "Summary", "Scenario", "Places"))
    assert list(dict.fromkeys(r["Scenario"] for r in rows)) == [
        n for n, e in scenarios.items() if len(e["places"]) >= 2]
    for row in rows:
        entry, kind = scenarios[row["Scenario"]], row["Objective"]
        assert row["Places"] == len(entry["places"])
        assert row["Total"] == approx(entry["objective"][kind])
        assert row["Total"] == approx(summed(out, row["Scenario"], "objective", kind))
        assert row["Change against ring_fenced"] == approx(
            entry["vs_ring_fenced"]["objective"][kind])
        for header, key in (("Spend", "spend"), ("Savings", "savings"),
                            ("Savings less spend", "net")):
            assert row[header] == approx(entry[key]) == approx(summed(out, row["Scenario"], key))
    for row in sheet_rows(book, "Places"):
        own = places[row["Place"]]["scenarios"]
        ring, pooled = (own[row[f"Its {n}"]]["objective"] for n in ("ring_fenced", "pooled"))
        for name, held in (("ring_fenced", ring), ("pooled", pooled)):
            assert row[f"Objective, {name}"] == (None if held is None else approx(held))
        assert row["Gain"] == (None if None in (ring, pooled) else approx(pooled - ring))
        cell = book["Places"].cell(row=list(places).index(row["Place"]) + 2, column=11)
        assert cell.value == "report.html"  # a link, not a formula
        assert cell.hyperlink.target.replace("\\", "/") == f"{row['Place']}/report.html"
    for row in sheet_rows(book, "Agency kinds"):
        held = scenarios[row["Scenario"]]["agency_kinds"][row["Kind"]]
        assert (row["Spend"], row["Savings"], row["Net"]) == (
            approx(held["spend"]), approx(held["savings"]), approx(held["net"]))
        assert row["Net"] == approx(summed(out, row["Scenario"], "kind_net", row["Kind"]))
    for row in sheet_rows(book, "Outcomes"):
        if row["Place"] == "TOTAL":
            assert row["A year"] == approx(scenarios[row["Scenario"]]["outcomes"][row["Outcome"]])
            assert row["A year"] == approx(summed(out, row["Scenario"], "outcome",
                                                  row["Outcome"]))
        else:
            assert row["A year"] == approx(doc["rollup"]["outcomes_by_place"][row["Place"]][
                row["Scenario"]][row["Outcome"]])
    csv = pd.read_csv(out / "rollup.csv")
    sheet = sheet_rows(book, "Roll-up")
    assert len(sheet) == len(csv)
    assert [r["Value"] for r in sheet] == [approx(v) for v in csv["value"]]


def test_rollup_renders_in_a_browser(rolled: Path, tmp_path: Path) -> None:
    need_chromium()
    dom = browse(rolled / "report.html", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    assert "If these 2 places pooled: £2,650 more net benefit (PV)" in dom.stdout
    for chart in ("places", "kinds"):
        figure = dom.stdout.split(f'id="figure-{chart}"', 1)[1].split("</figure>", 1)[0]
        assert figure.count("<path") > 5, chart


def test_table_cells_written_as_the_public_methods_write_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Sheet.table` stores its cells straight into xlsxwriter's table where it can
    (`write_cells`), and `RowsSheet` writes each sheet's rows in one pass (`rows_xml`): the
    same workbook XML, part by part, as xlsxwriter's `write_number`, `write_string`,
    `write_boolean` and `write_blank` a cell at a time and its own row writer
    (`cell_store` None), for tables of every kind of column with blanks, repeated and
    unsafe text, -0.0, rows in several blocks of 16 and columns beyond Z, a second table
    beside the first on the same rows (as the Transfers sheet has them), a non-finite
    number and a text long enough to be cut (both written the public way), and a sheet
    with a row setting of its own (written by xlsxwriter's row writer either way)."""
    import zipfile

    from optimiser.reports import cells, workbook

    frame = pd.DataFrame({
        "id": ["a", "b", None, "a", "=1+1", "b\x1b[31m"] * 4,
        "money": [1.5, -0.0, np.nan, -1234567.891, 2e9, 1 / 3] * 4,
        "number": [0.1, -1e-9, 3.0, np.nan, 1e6, -2.5] * 4,
        "int": [2020, 2021, 2022, 2023, 2024, None] * 4,
        "flag": [True, False, None, True, np.bool_(False), True] * 4,
        "share": [0.5, np.nan, 1.0, 0.0, 0.25, 0.75] * 4,
        "note": ["x", "y\nz", "x", np.nan, "w", "v"] * 4})
    columns = [workbook.Column("Id", "id"), workbook.Column("Money", "money", "money"),
               workbook.Column("Number", "number", "number"),
               workbook.Column("Year", "int", "int"), workbook.Column("Flag", "flag", "bool"),
               workbook.Column("Share", "share", "share"),
               workbook.Column("Missing", "absent", "money"), workbook.Column("Note", "note")]
    names = pd.DataFrame({"id": [f"i{k}" for k in range(40)], "money": np.arange(40.0)})
    long = pd.DataFrame({"id": ["c", "a"], "money": [2.0, 1.0],
                         "note": ["long " * 4000, "short"]})
    infinite = pd.DataFrame({"id": ["c"], "money": [np.inf]})
    hostile = pd.DataFrame({  # text that is markup or a formula elsewhere; extreme numbers
        "id": ["+1", "-1", "@SUM(A1)", "<b>&amp;</b>", "]]>", "_x0041_",
               "".join(map(chr, range(1, 32))) + "\x7f=", "=cmd|' /C calc'!A0" * 2000],
        "money": [1e308, 5e-324, -5e-324, -1e308, np.nan, -0.0, 1.0, 123456789012345678.0],
        "note": ["x" * 40000, "-", "+", " @x", "\uff1dx", "a\u200bb", "\t=1", "\r\n=1"]})
    fast: list[bool] = []  # whether each sheet's rows were written in one pass
    rows_xml = cells.rows_xml

    def recorded(sheet: Any) -> str | None:
        text = rows_xml(sheet)
        fast.append(text is not None)
        return text

    monkeypatch.setattr(cells, "rows_xml", recorded)

    def book(path: Path) -> dict[str, bytes]:
        out = xlsxwriter.Workbook(str(path), {"in_memory": True})
        out.worksheet_class = cells.RowsSheet
        formats = workbook.make_formats(out, "GBP")
        sheet = workbook.Sheet(out.add_worksheet("T"), formats)
        row = sheet.table(0, frame, columns)
        sheet.table(0, frame.iloc[:3], columns[:3], col=30)
        sheet.table(row + 1, long, [columns[0], columns[1], columns[-1]])
        with pytest.raises(TypeError):  # an infinite figure: refused as write_number does
            sheet.table(row + 5, infinite, [columns[0], columns[1]])
        sheet.cell(row + 7, 2, "a note", "prose", fit=False)
        sheet.table(row + 9, hostile, [columns[0], columns[1], columns[-1]])
        sheet.finish(1)
        other = workbook.Sheet(out.add_worksheet("U"), formats)
        other.cell(1, 3, "before the table, to its right", fit=False)
        other.table(3, names, columns[:2])
        other.finish(1)
        own = workbook.Sheet(out.add_worksheet("V"), formats)
        own.table(0, names, columns[:2])
        own.sheet.set_row(5, 30)
        out.close()
        with zipfile.ZipFile(path) as z:
            return {name: z.read(name) for name in z.namelist()}

    ours = book(tmp_path / "ours.xlsx")
    assert fast == [True, True, False]  # the sheet with a row setting: xlsxwriter's writer
    assert cells.cell_store(xlsxwriter.Workbook(str(tmp_path / "x.xlsx")).add_worksheet())
    monkeypatch.setattr(cells, "cell_store", lambda sheet: None)
    fast.clear()
    theirs = book(tmp_path / "theirs.xlsx")
    assert fast == [False, False, False]
    assert ours == theirs
    assert b"long long" in ours["xl/sharedStrings.xml"] and b'r="AE1"' in ours[
        "xl/worksheets/sheet1.xml"]
    for name, part in ours.items():  # every part XML, and no cell a formula
        if name.endswith((".xml", ".rels")):
            assert b"<f>" not in part and b"<f " not in part, name
            ElementTree.fromstring(part)
    shared = ours["xl/sharedStrings.xml"].decode()
    for text in ("'+1", "'-1", "'@SUM(A1)", "&lt;b&gt;&amp;amp;&lt;/b&gt;", "]]&gt;",
                 "_x005F_x0041_", "'=cmd|", "-<", "+<", "' @x", "'\uff1dx"):
        assert f">{text}" in shared, text  # as text, a formula's start behind an apostrophe
    assert "x" * 32767 + "<" in shared  # cut where Excel cuts a cell's text
    assert b"<v>1E+308</v>" in ours["xl/worksheets/sheet1.xml"]
    assert b"<v>4.940656458412465E-324</v>" in ours["xl/worksheets/sheet1.xml"]


def test_cells_leave_an_untested_xlsxwriter_to_its_own_methods(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk paths lean on xlsxwriter's internals, compared only with the versions in
    TESTED_XLSXWRITER: any other version (a later 3.x included) gets no cell store, so
    both paths hand their cells and rows to xlsxwriter's own methods."""
    from optimiser.reports import cells

    sheet = xlsxwriter.Workbook(str(tmp_path / "x.xlsx")).add_worksheet()
    assert cells.cell_store(sheet) is not None  # the version installed here is tested
    monkeypatch.setattr(xlsxwriter, "__version__", "3.4.0")
    assert cells.cell_store(sheet) is None
    assert cells.rows_xml(sheet) is None
