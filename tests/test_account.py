"""The Treasury's account (docs/contract.md#the-account-a-treasury-reviewer-reads): each
figure against the working by hand in tests/data/account.yaml, for every objective; a plan
that spends nothing; an infeasible scenario. The roll-up adding accounts across places is
tested in tests/test_instances.py. Every shipped and generated instance
is checked against the definitions in tests/test_instances.py and
tests/test_against_reference.py (`reference.check_account`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from optimiser.pipeline import run
from optimiser.reports.write import results_document

DATA = Path(__file__).parent / "data"

# In 121ths: d = 121/121, 110/121, 100/121 (see the comment in tests/data/account.yaml).
WANT: dict[str, dict[str, Any]] = {
    # x = [5, 5, 1]
    "net_benefit": {
        "units": [5, 5, 1], "objective": 94750 / 121,
        "cost": 125500 / 121, "cash_savings": 157500 / 121, "cash_net": 32000 / 121,
        "outcome_value": 62750 / 121, "net_benefit": 94750 / 121,
        "financial_return": 157500 / 125500, "public_value_return": 220250 / 125500,
        "payback_year": 2012,
        "council": [500, 500, 100], "nhs": [0, 750, 750]},
    # least cost: the minimum, x = [1, 1, 1]; cost 100 * 331/121; savings 150 in 2011 and
    # 2012; cumulative cash net -100, -54.5, -13.2: never pays back.
    "cost": {
        "units": [1, 1, 1], "objective": 33100 / 121,
        "cost": 33100 / 121, "cash_savings": 31500 / 121, "cash_net": -1600 / 121,
        "outcome_value": 16550 / 121, "net_benefit": 14950 / 121,
        "financial_return": 31500 / 33100, "public_value_return": 48050 / 33100,
        "payback_year": None,
        "council": [100, 100, 100], "nhs": [0, 150, 150]},
    # most outcomes: the cap, x = [5, 5, 5]; cumulative -500, -272.7, -66.1: never.
    "outcomes": {
        "units": [5, 5, 5], "objective": 82750 / 121,  # falls weighted by value 100
        "cost": 165500 / 121, "cash_savings": 157500 / 121, "cash_net": -8000 / 121,
        "outcome_value": 82750 / 121, "net_benefit": 74750 / 121,
        "financial_return": 157500 / 165500, "public_value_return": 240250 / 165500,
        "payback_year": None,
        "council": [500, 500, 500], "nhs": [0, 750, 750]},
}


def _solve(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    instance = yaml.safe_load((DATA / "account.yaml").read_text(encoding="utf-8"))
    instance.update(changes)
    path = tmp_path / "account.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    return results_document(run(path, ranges=False))["scenarios"]["ring_fenced"]


@pytest.mark.parametrize("objective", list(WANT))
def test_account_as_worked_by_hand(objective: str, tmp_path: Path) -> None:
    entry = _solve(tmp_path, objective=objective)
    want = WANT[objective]
    assert entry["units"]["visits"] == pytest.approx(want["units"], rel=1e-9)
    assert entry["objective"] == pytest.approx(want["objective"], rel=1e-9)
    account = entry["account"]
    for key in ("cost", "cash_savings", "cash_net", "outcome_value", "net_benefit",
                "financial_return", "public_value_return"):
        assert account[key] == pytest.approx(want[key], rel=1e-9), key
    assert account["payback_year"] == want["payback_year"]
    agencies = entry["agencies"]
    assert agencies["council"]["by_year"] == {
        "spend": pytest.approx(want["council"]), "savings": pytest.approx([0, 0, 0])}
    assert agencies["nhs"]["by_year"] == {
        "spend": pytest.approx([0, 0, 0]), "savings": pytest.approx(want["nhs"])}


def test_a_plan_that_spends_nothing_has_no_returns(tmp_path: Path) -> None:
    """No minimum and nothing worth buying: cost 0, both returns null (the contract), and the
    cumulative cash net is 0 from the first year, which is the contract's payback year."""
    instance = yaml.safe_load((DATA / "account.yaml").read_text(encoding="utf-8"))
    instance["interventions"]["visits"].update(min_units=0, savings={"nhs": 10})
    path = tmp_path / "nothing.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    account = results_document(run(path, ranges=False))["scenarios"]["ring_fenced"]["account"]
    assert account["cost"] == 0 and account["cash_savings"] == 0
    assert account["financial_return"] is None and account["public_value_return"] is None
    assert account["payback_year"] == 2010


def test_an_infeasible_scenario_has_a_null_account(tmp_path: Path) -> None:
    instance = yaml.safe_load((DATA / "account.yaml").read_text(encoding="utf-8"))
    instance["outcomes"]["falls_avoided"]["target"] = 10  # 5 units give 2.5 at most
    path = tmp_path / "infeasible.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    entry = results_document(run(path, ranges=False))["scenarios"]["ring_fenced"]
    assert entry["status"] == "infeasible"
    assert set(entry["account"]) == {"cost", "cash_savings", "cash_net", "outcome_value",
                                     "net_benefit", "financial_return", "public_value_return",
                                     "payback_year"}
    assert all(v is None for v in entry["account"].values())


def test_discount_sensitivity_as_worked_by_hand(tmp_path: Path) -> None:
    """tests/data/discount_rates.yaml: invest loses at its own 10% and wins at 3.5% and 1.5%."""
    from optimiser.analyses import run_analyses

    result = run(DATA / "discount_rates.yaml", ranges=False)
    run_analyses(result, ["discount_sensitivity"])
    entry = results_document(result)["discount_sensitivity"]
    assert entry["own_rate"] == 0.1 and entry["rates"] == [0.035, 0.015, 0.1]
    want = {"0.1": -100 + 104 / 1.1, "0.035": -100 + 104 / 1.035, "0.015": -100 + 104 / 1.015}
    for key, invest in want.items():
        at = entry["by_rate"][key]
        assert at["scenarios"]["invest"]["objective"] == pytest.approx(invest, rel=1e-9)
        assert at["scenarios"]["wait"]["objective"] == pytest.approx(0, abs=1e-9)
        assert at["scenarios"]["invest"]["account"]["net_benefit"] == pytest.approx(
            invest, rel=1e-9)
        assert at["ranking"] == (["wait", "invest"] if key == "0.1" else ["invest", "wait"])
    account = entry["by_rate"]["0.035"]["scenarios"]["invest"]["account"]
    assert account["cost"] == pytest.approx(100)
    assert account["cash_savings"] == pytest.approx(104 / 1.035)
    assert account["payback_year"] == 2011
    assert entry["ranking_changes"] is True
    assert entry["reversals"] == [{"rate": 0.035, "better": "invest", "worse": "wait"},
                                  {"rate": 0.015, "better": "invest", "worse": "wait"}]


def test_discount_sensitivity_keeps_a_steady_ranking(tmp_path: Path) -> None:
    """tests/data/account.yaml has one scenario: nothing to rank against, no change."""
    from optimiser.analyses import run_analyses

    result = run(DATA / "account.yaml", ranges=False)
    run_analyses(result, ["discount_sensitivity"])
    entry = result.analyses["discount_sensitivity"]
    assert entry["rates"] == [0.035, 0.015, 0.1] and entry["ranking_changes"] is False
    # at 3.5% the same plan (x = [5, 5, 1]) is optimal: objective by the working's formula
    d = [1, 1 / 1.035, 1 / 1.035**2]
    units = [5, 5, 1]
    objective = sum(d[t] * units[t] * (50 - 100) for t in range(3)) + sum(
        d[t + 1] * 150 * units[t] for t in range(2))
    assert entry["by_rate"]["0.035"]["scenarios"]["ring_fenced"]["objective"] == pytest.approx(
        objective, rel=1e-9)


def test_what_limits_the_plan_as_worked_by_hand(tmp_path: Path) -> None:
    """tests/data/account.yaml: the cap binds in 2010 and 2011, the minimum in 2012; their
    shadow prices against the working, and against solving again with one unit more room."""
    from optimiser.analyses import run_analyses

    result = run(DATA / "account.yaml", ranges=False)
    run_analyses(result, ["limits"])
    body = result.analyses["limits"]["ring_fenced"]
    found = {e["kind"]: e for e in body["limits"]}
    assert set(found) == {"max_units", "min_units"}  # the budget never binds
    cap, low = found["max_units"], found["min_units"]
    assert cap["years"] == [2010, 2011] and low["years"] == [2012]
    assert cap["gain"] == pytest.approx((-50 + 150 / 1.1) + (-50 / 1.1 + 150 / 1.21), rel=1e-9)
    assert low["gain"] == pytest.approx(50 / 1.21, rel=1e-9)
    assert cap["basis"] == "assumption" and low["basis"] == "source"
    assert (body["at_cap"], body["bought"], body["caps_assumed"]) == (1, 1, 1)
    assert body["mostly_caps"] is True
    # One unit more cap in every year changes the plan only where the cap binds: the
    # objective rises by exactly the cap's price (the LP is linear there).
    instance = yaml.safe_load((DATA / "account.yaml").read_text(encoding="utf-8"))
    instance["interventions"]["visits"]["max_units"] = 6
    path = tmp_path / "wider.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    wider = run(path, ranges=False).scenarios[0].objective
    assert wider - result.scenarios[0].objective == pytest.approx(cap["gain"], rel=1e-9)
    instance["interventions"]["visits"].update(max_units=5, min_units=[1, 1, 0])
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    lower = run(path, ranges=False).scenarios[0].objective
    assert lower - result.scenarios[0].objective == pytest.approx(low["gain"], rel=1e-9)



def test_a_minimum_equal_to_its_cap_is_listed_beside_it(tmp_path: Path) -> None:
    """tests/data/account.yaml with the 2012 minimum raised to the cap (5): x = [5, 5, 5].
    The cap binds every year: one unit more gains 86.3636 + 78.5124 in 2010 and 2011 and
    nothing in 2012 (a unit there loses 50/1.21, so it is not bought); one unit less
    leaves 2012 no plan (cap 4 < minimum 5): 'edge'. The 2012 minimum binds too: one unit
    less gains 50/1.21 = 41.3223 (the unit that loses money is no longer bought); one
    unit more leaves no plan: 'edge'. Both are listed, each with its own price."""
    from optimiser.analyses import run_analyses

    instance = yaml.safe_load((DATA / "account.yaml").read_text(encoding="utf-8"))
    instance["interventions"]["visits"]["min_units"] = [1, 1, 5]
    path = tmp_path / "fixed.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    result = run(path, ranges=False)
    run_analyses(result, ["limits"])
    found = {e["kind"]: e for e in result.analyses["limits"]["ring_fenced"]["limits"]}
    assert set(found) == {"max_units", "min_units"}
    cap, low = found["max_units"], found["min_units"]
    assert cap["years"] == [2010, 2011, 2012] and low["years"] == [2012]
    assert cap["gain"] == pytest.approx((-50 + 150 / 1.1) + (-50 / 1.1 + 150 / 1.21), rel=1e-9)
    assert cap["loss"] is None and cap["pricing"] == "edge"
    assert low["gain"] == pytest.approx(50 / 1.21, rel=1e-9)
    assert low["loss"] is None and low["pricing"] == "edge"

# A degenerate limit, by hand (H = 1, r = 0, net benefit = savings - cost). One NHS trust:
#   a: 10 a unit, saves 15 (+5 a unit), at most 10 units, paid only from `small` (budget 100)
#   b: 1 a unit, saves 3 (+2 a unit), at most 5 units, paid only from `big` (budget 1000)
# The plan buys 10 of a and 5 of b: objective 10 * 5 + 5 * 2 = 60. At x_a = 10 a's cap and
# small's budget both bind (100 / 10 = 10 units): a corner where HiGHS's duals may put a's
# price on the cap (5) or on the budget (0.5 a pound), or split it. The rates do not:
#   a's cap one unit wider (11): small still buys only 10       -> gain 0
#   a's cap one unit narrower (9): 1 unit of a lost              -> loss 5
#   small's budget 1 more (101): the cap still stops a at 10     -> gain 0
#   small's budget 1 less (99): 9.9 units of a, 0.1 unit lost    -> loss 0.5
# so both are 'degenerate'. b's cap binds alone: one unit either way moves 2 -> 'binding'.
#   c: 1 a unit, saves 0.5 (-0.5 a unit), one visit each, at most 4, paid from `big`; the
#   target of 4 visits makes the plan buy all 4 (objective 60 - 2 = 58). A target one
#   lower saves 0.5 (gain 0.5); one higher cannot be met (loss None) -> 'edge'. c's cap:
#   one more unit is not bought (gain 0), one fewer misses the target -> 'edge'.
# big's budget is not reached (it spends 5 + 4 of 1000).
DEGENERATE = {
    "name": "A cap and a budget that meet", "start_year": 2010, "years": 1,
    "discount_rate": 0.0, "objective": "net_benefit",
    "agencies": {"nhs": {"name": "NHS trust"}},
    "streams": {"small": {"agency": "nhs", "budget": 100, "ring_fence": ["a"]},
                "big": {"agency": "nhs", "budget": 1000, "ring_fence": ["b", "c"]}},
    "interventions": {
        "a": {"agency": "nhs", "unit_cost": 10, "max_units": 10, "savings": {"nhs": 15}},
        "b": {"agency": "nhs", "unit_cost": 1, "max_units": 5, "savings": {"nhs": 3}},
        "c": {"agency": "nhs", "unit_cost": 1, "max_units": 4, "savings": {"nhs": 0.5},
              "effects": {"visits": 1}},
    },
    "outcomes": {"visits": {"name": "Visits", "target": 4}},
    "scenarios": {"ring_fenced": {"pooling": False}},
}


def test_a_degenerate_limit_has_two_rates_as_worked_by_hand(tmp_path: Path) -> None:
    from optimiser.analyses import run_analyses

    path = tmp_path / "corner.yaml"
    path.write_text(yaml.safe_dump(DEGENERATE, sort_keys=False), encoding="utf-8")
    result = run(path, ranges=False)
    assert result.scenarios[0].objective == pytest.approx(58)
    run_analyses(result, ["limits"])
    found = {(e["kind"], e["item"]): e for e in
             result.analyses["limits"]["ring_fenced"]["limits"]}
    assert set(found) == {("max_units", "a"), ("budget", "small"), ("max_units", "b"),
                          ("max_units", "c"), ("target", "visits")}
    cap, budget, other = found["max_units", "a"], found["budget", "small"], found[
        "max_units", "b"]
    assert (cap["gain"], cap["loss"]) == (pytest.approx(0, abs=1e-9), pytest.approx(5))
    assert (budget["gain"], budget["loss"]) == (pytest.approx(0, abs=1e-9),
                                                pytest.approx(0.5))
    assert cap["pricing"] == budget["pricing"] == "degenerate"
    assert (other["gain"], other["loss"], other["pricing"]) == (
        pytest.approx(2), pytest.approx(2), "binding")
    target, needed = found["target", "visits"], found["max_units", "c"]
    assert (target["gain"], target["loss"], target["pricing"]) == (
        pytest.approx(0.5), None, "edge")
    assert (needed["gain"], needed["loss"], needed["pricing"]) == (
        pytest.approx(0, abs=1e-9), None, "edge")


def test_a_degenerate_limit_reads_the_same_in_every_document(tmp_path: Path) -> None:
    """DEGENERATE (worked above) through summary.md, report.html, report.xlsx and
    `--detail`: each limit's gain and loss as results.json holds them, and the degenerate
    cap of `a` in words: one more is worth £0.00, one fewer costs £5.00, because another
    limit (small's budget) binds at the same point. With no pooled scenario there is no
    main pooled scenario: no gains picture, and the page says why."""
    import re

    import openpyxl

    from optimiser.analyses import run_analyses
    from optimiser.reports.story import tell
    from optimiser.reports.terminal import limit_lines
    from optimiser.reports.write import (
        RULES,
        write_book_documents,
        write_gains_pictures,
        write_json,
        write_page_document,
    )

    path = tmp_path / "corner.yaml"
    path.write_text(yaml.safe_dump(DEGENERATE, sort_keys=False), encoding="utf-8")
    result = run(path, ranges=False)
    run_analyses(result, ["limits"])
    out = tmp_path / "out"
    out.mkdir()
    for writer in (write_json, write_page_document, write_book_documents,
                   write_gains_pictures):
        writer(result, out)
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    listed = doc["limits"]["ring_fenced"]["limits"]
    by = {(e["kind"], e["item"]): e for e in listed}
    assert (by["max_units", "a"]["gain"], by["max_units", "a"]["loss"]) == (
        pytest.approx(0, abs=1e-9), pytest.approx(5))
    assert (by["budget", "small"]["gain"], by["budget", "small"]["loss"]) == (
        pytest.approx(0, abs=1e-9), pytest.approx(0.5))
    corner = ("One more unit a year of a is worth £0.00 of net benefit; one fewer costs "
              "£5.00 of net benefit: the two differ because another limit binds at the "
              "same point.")
    budget = ("£1 more a year in small is worth £0.00 of net benefit; £1 less costs £0.50 "
              "of net benefit: the two differ because another limit binds at the same point.")
    # summary.md: the row of a's cap and of small's budget, both rates and the words
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| cap | a | 2010 | £0.00 | £5.00 | " + corner + " |" in summary
    assert "| budget | small | 2010 | £0.00 | £0.50 | " + budget + " |" in summary
    assert "| cap | b | 2010 | £2.00 | £2.00 |" in summary
    assert "| target | Visits | 2010 | £0.50 | no plan |" in summary
    # report.html: every gain and loss cell holds results.json's figure at its data-src
    page = (out / "report.html").read_text(encoding="utf-8")
    cells = re.findall(r'data-value="([^"]+)" data-src="limits/ring_fenced/limits/(\d+)/'
                       r'(gain|loss)"', page)
    assert len(cells) == 2 * len(listed) - 2  # the two edge limits have no loss
    for value, n, side in cells:
        assert float(value) == pytest.approx(listed[int(n)][side], abs=1e-9)
    assert corner in page.replace("&#x27;", "'") and 'id="limits-table" class="wide"' in page
    assert "no pooled scenario compares with a reference" in page
    assert not (out / "gains.svg").exists()
    # report.xlsx: both rates, the pricing and the words
    sheet = openpyxl.load_workbook(out / "report.xlsx")["Limits"]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    body = [dict(zip(head, r, strict=True)) for r in rows[1:1 + len(listed)]]
    for row, e in zip(body, listed, strict=True):
        assert (row["Limit"], row["Of"], row["Pricing"]) == (e["kind"], e["item"],
                                                             e["pricing"])
        for side, name in (("gain", "Gain from one unit more room"),
                           ("loss", "Loss from one unit less room")):
            assert row[name] == (None if e[side] is None else
                                 pytest.approx(e[side], abs=1e-9))
    assert corner in [r["What it means"] for r in body]
    # --detail: largest gain first (b 2, the target 0.5, then a's cap and small's budget
    # at 0 by their loss, 5 and 0.5, and c's cap last), both rates
    lines = limit_lines(tell(result, RULES), 100)
    rows_shown = [line.split() for line in lines if re.match(r"(cap|target|budget) ", line)]
    assert rows_shown == [["cap", "of", "b", "£2.00", "£2.00"],
                          ["target", "of", "Visits", "£0.50", "no", "plan"],
                          ["cap", "of", "a", "£0.00", "£5.00"],
                          ["budget", "of", "small", "£0.00", "£0.50"],
                          ["cap", "of", "c", "£0.00", "no", "plan"]]
    assert any("another limit binds at the same point" in line for line in lines)
