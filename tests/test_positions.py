"""Who gains and who loses in the documents a finance lead prints (summary.md, report.xlsx):
each agency's position three ways where an agreement moves money, the range of every
change that equally good plans could move, never a gain or a loss where that range spans
zero, what each agreement does in words, and the fair-share notes. Each place is solved
once (module fixture); the documents are written without the page (tests/test_reports.py
prints the page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from positions import check_markdown, check_workbook, positions, pounds, workbook_rows

from optimiser.analyses import run_analyses
from optimiser.pipeline import run
from optimiser.reports.write import results_document, write_documents

DATA = Path(__file__).parent / "data"

# One year, no discounting. The council's prevention saves the PCT 15 a unit for a cost
# of 10; the NHS's beds save it 120 for 100 (5 at most); the PCT holds no budget.
# Ring-fenced: the council's 100 buys 10 preventions, the NHS's 1000 buys the 5 beds and
# 500 is left. Positions (savings - spend): council -100, NHS 600 - 500 = 100, PCT 150.
# Pooled: the NHS's spare money buys the other 40 preventions (5 net a unit: the pooling
# gain G = 200); council -100, NHS 600 - 900 = -300, PCT 750. So the plan leaves the
# council 0, the NHS -400 and the PCT +600 (S = 200 = G: nothing is valued but cash).
# Shapley: only the NHS's money makes the gain (the council's 100 buys preventions either
# way), so the NHS's share is 200 and the council's and the PCT's 0 (the PCT has no money
# to pool). Fair shares: each ends at its reference plus its share, so the PCT passes on
# its whole 600, the NHS ends +200 and the council 0.
FAIR_PLACE = {
    "name": "Fair shares", "start_year": 2010, "years": 1, "discount_rate": 0.0,
    "objective": "net_benefit",
    "agencies": {"council": {"name": "Council"}, "nhs": {"name": "NHS"},
                 "pct": {"name": "Primary care trusts"}},
    "streams": {"asc": {"agency": "council", "budget": 100},
                "nhs_budget": {"agency": "nhs", "budget": 1000}},
    "interventions": {
        "prevention": {"agency": "council", "unit_cost": 10, "max_units": 50,
                       "savings": {"pct": 15}},
        "beds": {"agency": "nhs", "unit_cost": 100, "max_units": 5, "savings": {"nhs": 120}}},
    "outcomes": {},
    "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True},
                  "fair": {"pooling": True, "agreement": "fair_shares"}},
}


# FAIR_PLACE where the PCTs hold 10 a year they may pool (they deliver nothing, so
# ring-fenced it stays unspent). Pooling game: alone, their 10 buys one more prevention
# (+5); the NHS's spare money alone buys the other 40 (+200); together still 40 (the cap);
# the council adds nothing. Shapley: the PCTs' 5 counts only in the orders where they come
# before the NHS (half of them): 2.50; the NHS 197.50. Their gain from pooling is 600 of
# savings less what their 10 puts into the pool (rule 3 decides it: a gain whichever), so
# their fair share is far below it: fair shares would have them keep 2.50 (S = G, nothing
# but cash is valued) and pass the rest on.
FAR_PLACE = {**FAIR_PLACE,
             "streams": {**FAIR_PLACE["streams"],
                         "pct_budget": {"agency": "pct", "budget": 10}},
             "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}}}


def _written(path: Path, folder: Path, analyses: list[str]) -> dict[str, Any]:
    result = run(path)
    run_analyses(result, analyses)
    folder.mkdir(parents=True, exist_ok=True)
    write_documents(result, folder, ("xlsx", "md"))
    return {"result": result, "doc": results_document(result), "folder": folder,
            "summary": (folder / "summary.md").read_text(encoding="utf-8"),
            "names": {a: spec.name or a for a, spec in result.instance.agencies.items()}}


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """tests/data/agreements.yaml (every kind of agreement) and the fair-shares place,
    solved once with their Shapley shares, and tests/data/agreement_tie.yaml and
    agreement_tie_gain.yaml (without analyses), summary.md and report.xlsx written."""
    root = tmp_path_factory.mktemp("positions")
    fair = root / "fair.yaml"
    fair.write_text(yaml.safe_dump(FAIR_PLACE), encoding="utf-8")
    far = root / "far.yaml"
    far.write_text(yaml.safe_dump(FAR_PLACE), encoding="utf-8")
    return {"agreements": _written(DATA / "agreements.yaml", root / "agreements", ["shapley"]),
            "fair": _written(fair, root / "fair", ["shapley"]),
            "far": _written(far, root / "far", ["shapley"]),
            "tie": _written(DATA / "agreement_tie.yaml", root / "tie", []),
            "tie_gain": _written(DATA / "agreement_tie_gain.yaml", root / "tie_gain", [])}


@pytest.mark.parametrize("place", ["agreements", "fair", "far", "tie", "tie_gain"])
def test_documents_hold_every_position_three_ways(places: dict[str, dict[str, Any]],
                                                  place: str) -> None:
    """summary.md's and report.xlsx's tables against results.json: the reference, where the
    plan leaves each agency, what the agreement moves, where it ends, each range, and a
    range spanning zero never read as a gain or a loss."""
    p = places[place]
    assert not check_workbook(p["folder"] / "report.xlsx", p["doc"])
    assert not check_markdown(p["summary"], p["doc"], p["names"])


def test_agreements_hand_solved(places: dict[str, dict[str, Any]]) -> None:
    """tests/data/agreements.yaml (worked in tests/test_agreements.py): pooled, the plan
    leaves the NHS +1,671 and the police -197, but equally good plans could leave the NHS
    anything from -1,278 and the police up to +786: both could gain or lose. Under the
    risk share (50/30/20 of the cash surplus S = 1,474.64) each ends at w_a S exactly
    whatever the plan's split (council +737, NHS +442, police +295): gains, no range."""
    p = places["agreements"]
    rows = workbook_rows(p["folder"] / "report.xlsx")
    nhs, police = rows[("pooled", "nhs")], rows[("pooled", "police")]
    assert nhs["reads"] == "could gain or lose, -£1,278 to +£1,671"
    assert police["reads"] == "could gain or lose, -£197 to +£786"
    surplus = 1474.6376811594207
    for agency, share in (("council", 0.5), ("nhs", 0.3), ("police", 0.2)):
        row = rows[("s75", agency)]
        assert row["ends"] == pytest.approx(share * surplus, rel=1e-9)
        assert row["ends_low"] == pytest.approx(row["ends_high"], rel=1e-9)
        assert row["reads"] == "gain"
    summary = p["summary"]
    # the headline's sentence and table agree: neither calls the NHS's change a gain
    assert "NHS gains" not in summary and "Police loses" not in summary
    assert "| NHS | £4,915 | £6,587* | +£1,671 (-£1,278 to +£1,671) | could gain or lose" \
        in summary
    # fair shares: G = 1,966.18 (Shapley), S = 1,474.64 in cash; the gap, 491.55, is the
    # admissions' value (50 a year x 5 x 2 years, discounted: 491.55) no budget receives
    assert "The pooling gain is £1,966, but the £1,475 the plan gains in cash against " \
           "ring_fenced is £492 less: that much of the gain is the value of outcomes that no " \
           "budget receives." in summary
    assert "would need £492 more" in summary
    assert "risk share (a section 75 pooled fund's agreed shares): the £1,475 the plan gains " \
           "in cash against ring_fenced is shared Council 50%, NHS 30% and Police 20%" in summary


def test_risk_share_over_a_tie_reads_as_either(places: dict[str, dict[str, Any]]) -> None:
    """tests/data/agreement_tie.yaml (worked in tests/test_agreements.py): equally good
    plans could make the cash surplus anything in [-20, 20], so under the 75/25 risk share
    the council could end anywhere in [-15, 15] and the NHS in [-5, 5]: neither is called
    a gain or a loss, in the workbook or the summary."""
    p = places["tie"]
    rows = workbook_rows(p["folder"] / "report.xlsx")
    assert rows[("s75", "council")]["reads"] == "could gain or lose, -£15 to +£15"
    assert rows[("s75", "nhs")]["reads"] == "could gain or lose, -£5 to +£5"
    assert "Council gains" not in p["summary"] and "NHS gains" not in p["summary"]
    assert "could gain anywhere from -£20 to +£20 in cash against ring_fenced" in p["summary"]


def test_gain_share_and_fair_shares_over_a_tie_read_as_either(
        places: dict[str, dict[str, Any]]) -> None:
    """tests/data/agreement_tie_gain.yaml (worked in tests/test_agreements.py, TIE_GAIN):
    equally good plans could make the cash surplus anything in [-30, 10]; the plan's is -4.
    Gain share: the NHS could end anywhere in [-20, 10] (could gain or lose), the police
    in [-10, 0] (-4 at the plan: a loss). Fair shares (all to the police, the only partner
    with idle money): the police end at S, in [-30, 10]; the others at their references.
    The workbook and the summary say the same, and call nothing that spans zero a gain."""
    p = places["tie_gain"]
    rows = workbook_rows(p["folder"] / "report.xlsx")
    assert rows[("gain", "nhs")]["reads"] == "could gain or lose, -£20 to +£10"
    assert rows[("gain", "police")]["reads"] == "loss"
    assert (rows[("gain", "police")]["ends_low"], rows[("gain", "police")]["ends_high"]) == (
        pytest.approx(-10), pytest.approx(0, abs=1e-9))
    assert rows[("fair", "police")]["reads"] == "could gain or lose, -£30 to +£10"
    assert rows[("fair", "nhs")]["reads"] == "no change"
    assert rows[("fair", "council")]["reads"] == "no change"
    summary = p["summary"]
    assert "| NHS | £10 | +£6 (-£20 to +£20) | -£6 | £0 (-£20 to +£10) | could gain or lose, " \
           "-£20 to +£10 |" in summary
    assert "| Police | £0 | -£10 | +£6 | -£4 (-£30 to +£10) | could gain or lose, " \
           "-£30 to +£10 |" in summary
    assert "NHS gains" not in summary and "Police gains" not in summary
    # fair shares' cash gap: G = 10 against S = -4 in cash
    assert "paying every partner its whole share in cash would need £14 more" in summary


def test_fair_share_note_in_every_document(places: dict[str, dict[str, Any]]) -> None:
    """The fair-shares place (worked above): the PCT gains 600 from pooling with a fair
    share of 0, in the summary and the workbook in the same words; under the fair-shares
    agreement it passes on all 600 and ends where ring-fencing left it."""
    p = places["fair"]
    shares = p["doc"]["shapley"]["pooled"]
    assert shares == pytest.approx({"council": 0.0, "nhs": 200.0, "pct": 0.0}, abs=1e-6)
    ends = {x.agency: x for x in positions(p["doc"]) if x.scenario == "fair"}
    assert ends["pct"].plan == pytest.approx(600) and ends["pct"].ends == pytest.approx(0)
    assert ends["nhs"].ends == pytest.approx(200)
    summary = p["summary"]
    assert ("Primary care trusts gain £600 from pooling, but their fair (Shapley) share of "
            "the gain is £0: they have no money they may put into the pool") in summary
    assert "pass on their gain of £600 to the partners whose money made it" in summary
    assert "This scenario's agreement does so: it moves £600." in summary
    sheet = [str(c) for row in openpyxl.load_workbook(
        p["folder"] / "report.xlsx")["Who gains"].iter_rows(values_only=True) for c in row
        if c is not None]
    said = [c for c in sheet if "share of the gain is" in c]
    assert len(said) == 2  # pooled and fair, the same words as the summary's
    assert all(s in summary for s in said)
    assert pounds(600) == "+£600"


def test_fair_share_far_below_the_gain(places: dict[str, dict[str, Any]]) -> None:
    """The PCTs' fair share (2.50, worked above FAR_PLACE) is far below their gain: the
    note gives it to the penny, what they gain, and what fair shares would have them pass
    on and keep."""
    p = places["far"]
    assert p["doc"]["shapley"]["pooled"] == pytest.approx(
        {"council": 0.0, "nhs": 197.5, "pct": 2.5}, abs=1e-6)
    gain = next(x.plan for x in positions(p["doc"]) if (x.scenario, x.agency) == ("pooled",
                                                                                 "pct"))
    assert 590 <= gain <= 600  # 600 of savings less what their 10 put into the pool
    note = (f"Primary care trusts gain {pounds(gain, sign=False)} from pooling, but their "
            "fair (Shapley) share of the gain is only £2.50: what the money they may pool "
            "adds, on average, to what each group of partners achieves without it.")
    assert note in p["summary"]
    assert (f"would ask them to pass on {pounds(gain - 2.5, sign=False)} of their gain to the "
            "partners whose money made it, keeping £2.50.") in p["summary"]
