"""Agreements: how the partners of a pooled scenario share what pooling gains or costs.

The rules by hand (optimiser.solving.results), then on a small place whose every
agreement is settled against the ring-fenced positions: each agency's position as the
plan leaves it, what the agreement moves, and where it ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimiser.analyses import run_analyses
from optimiser.pipeline import run
from optimiser.reports.story import (
    agreed_range,
    agreement_sentences,
    change_tolerance,
    gains_table,
    reading,
    tell,
)
from optimiser.reports.write import results_document
from optimiser.solving.results import decided_surplus, gain_share_payments, shared_payments

HERE = Path(__file__).resolve().parent


def test_risk_share_by_hand() -> None:
    # Positions 10, -5, 0 against references 0: the surplus S = 5. Shares 0.5, 0.5, 0:
    # agency 0 is to end at 2.5, agency 1 at 2.5, agency 2 at 0, so agency 0 pays 7.5
    # to agency 1.
    pay = shared_payments(np.array([10.0, -5.0, 0.0]), np.zeros(3), np.array([0.5, 0.5, 0.0]))
    assert pay.tolist() == [[0.0, 7.5, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_risk_share_of_a_deficit_by_hand() -> None:
    # Positions -6, 2 against 0, 0: a deficit S = -4, shared 0.25, 0.75: ends -1 and -3;
    # agency 1 pays 5 to agency 0.
    pay = shared_payments(np.array([-6.0, 2.0]), np.zeros(2), np.array([0.25, 0.75]))
    assert pay.tolist() == [[0.0, 0.0], [5.0, 0.0]]


def test_gain_share_by_hand() -> None:
    # Surpluses 6 and 2 cover shortfalls 4 and 0: the gainers pay 3 and 1.
    pay = gain_share_payments(np.array([6.0, 2.0, -4.0]), np.zeros(3))
    assert pay[:, 2].tolist() == [3.0, 1.0, 0.0]
    assert pay.sum() == 4.0


def test_gain_share_short_of_gains_pays_every_loser_in_proportion() -> None:
    # Surplus 2 against shortfalls 4 and 4: all of the surplus moves, each loser gets 1.
    pay = gain_share_payments(np.array([2.0, -4.0, -4.0]), np.zeros(3))
    assert pay.tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


@pytest.fixture(scope="module")
def document() -> dict:
    result = run(HERE / "data" / "agreements.yaml")
    run_analyses(result, ["shapley"])
    return results_document(result)


def _positions(entry: dict) -> tuple[dict, dict, dict, dict]:
    rows = entry["agreement"]["positions"]
    return ({a: r["plan"] for a, r in rows.items()}, {a: r["reference"] for a, r in rows.items()},
            {a: r["moves"] for a, r in rows.items()}, {a: r["ends"] for a, r in rows.items()})


def test_every_agreement_moves_money_between_partners_only(document: dict) -> None:
    ring = document["scenarios"]["ring_fenced"]["agencies"]
    for name in ("gain", "s75", "fair", "old"):
        entry = document["scenarios"][name]
        plan, reference, moves, ends = _positions(entry)
        assert entry["agreement"]["reference"] == "ring_fenced"
        assert sum(moves.values()) == pytest.approx(0.0, abs=1e-9)
        for a, figures in entry["agencies"].items():
            assert reference[a] == pytest.approx(ring[a]["net"], abs=1e-9)
            assert figures["net"] == pytest.approx(ends[a], abs=1e-9)
            assert ends[a] == pytest.approx(plan[a] + moves[a], abs=1e-9)
            assert moves[a] == pytest.approx(figures["transfers_in"] - figures["transfers_out"])
        paid = sum(t["amount"] for t in entry["transfers"])
        assert paid == pytest.approx(sum(m for m in moves.values() if m > 0), abs=1e-9)


def test_risk_share_ends_at_reference_plus_share_of_surplus(document: dict) -> None:
    entry = document["scenarios"]["s75"]
    plan, reference, _, ends = _positions(entry)
    surplus = sum(plan.values()) - sum(reference.values())
    assert entry["agreement"]["surplus"] == pytest.approx(surplus)
    for a, share in {"council": 0.5, "nhs": 0.3, "police": 0.2}.items():
        assert ends[a] == pytest.approx(reference[a] + share * surplus)


def test_gain_share_keeps_everyone_whole(document: dict) -> None:
    for name in ("gain", "old"):  # agreement: gain_share, and the old transfers: true
        _, reference, _, ends = _positions(document["scenarios"][name])
        assert all(ends[a] >= reference[a] - 1e-9 for a in ends)
    # Here the surpluses cover the shortfalls unprotected, so no_worse_off changes no plan.
    gain, old = (document["scenarios"][n]["agencies"] for n in ("gain", "old"))
    assert {a: f["net"] for a, f in gain.items()} == pytest.approx(
        {a: f["net"] for a, f in old.items()})


def test_fair_shares_end_at_reference_plus_scaled_shapley_share(document: dict) -> None:
    entry = document["scenarios"]["fair"]
    plan, reference, _, ends = _positions(entry)
    shapley = document["shapley"]["pooled"]  # the same place and pooling game as 'fair'
    gain = sum(shapley.values())
    surplus = sum(plan.values()) - sum(reference.values())
    assert entry["agreement"]["gain"] == pytest.approx(gain)
    assert entry["agreement"]["cash_gap"] == pytest.approx(gain - surplus)
    for a in ends:
        assert ends[a] == pytest.approx(reference[a] + shapley[a] / gain * surplus)


def test_risk_share_surplus_is_decided_where_the_plan_is(document: dict) -> None:
    # In agreements.yaml no two services are equally good (net benefit per unit of money:
    # prevention (5 + 25 - 10) / 10 = 2, patrol (40 + 30 - 50) / 50 = 0.4, beds -0.1), so
    # the units are unique, and with them every agency's savings and the total spend (the
    # budgets spent): the total position, and so the surplus, is a point.
    # results.json states that one figure, not the solver's two readings of it (they
    # differ in their last digits): the range is the point itself, exactly.
    agreed = document["scenarios"]["s75"]["agreement"]
    assert agreed["surplus_min"] == agreed["surplus"] == agreed["surplus_max"]
    plan, reference, _, _ = _positions(document["scenarios"]["s75"])
    assert agreed["surplus"] == pytest.approx(sum(plan.values()) - sum(reference.values()))


def test_risk_share_over_a_tie_between_cash_and_valued_outcomes() -> None:
    # agreement_tie.yaml, one year (d_0 = 1). Council's budget 10 buys wellbeing visits
    # (10 a unit, up to 2, each a wellbeing outcome valued 20: net benefit 10, no cash);
    # the NHS's budget 10 buys a discharge team (10 a unit, up to 2, each saving the NHS 20
    # in cash: net benefit 10). Ring-fenced each buys one unit of its own: council
    # P = -10, NHS P = 20 - 10 = 10, total Pref = 0.
    # Pooled, both budgets may go to either service: c discharge units and w visit units
    # with c + w = 2 (all 20 spent) are all exactly as good (objective 10 (c + w) = 20),
    # for any c in [0, 2]. Every budget is spent whatever the split, so the total position
    # T = 20 c - 20 lies in [-20, 20], and the surplus S = T - 0 in [-20, 20].
    # Risk share council 0.75, NHS 0.25: each ends at Pref + share * S, so its change
    # lies in share * [-20, 20]: council [-15, 15], NHS [-5, 5] -- neither a gain nor a loss.
    result = run(HERE / "data" / "agreement_tie.yaml")
    agreed = result.scenario("s75").extra["agreement"]
    assert isinstance(agreed, dict)
    assert agreed["surplus_min"] == pytest.approx(-20.0, abs=1e-6)
    assert agreed["surplus_max"] == pytest.approx(20.0, abs=1e-6)
    # the plan's own S (council's visit and the NHS's team, as ring-fenced: T = 0) is
    # zero as a figure, not a rounding beside it; the range stays the tie's
    assert agreed["surplus"] == 0.0
    gains = gains_table(result).set_index(["scenario", "agency"])
    tol = change_tolerance(gains.loc["s75", "gain"])
    for agency, share in {"council": 0.75, "nhs": 0.25}.items():
        row = gains.loc[("s75", agency)]
        assert row["gain_low"] == pytest.approx(share * -20.0, abs=1e-6)
        assert row["gain_high"] == pytest.approx(share * 20.0, abs=1e-6)
        assert reading(row["gain"], row["gain_low"], row["gain_high"], tol) == "either"
    said = " ".join(agreement_sentences(tell(result, {}), "s75"))
    assert "could gain anywhere from -£20 to +£20 in cash" in said


TIE_GAIN = """agreement_tie_gain.yaml, one year (d_0 = 1). Wellbeing visits (council's, 10 a unit,
up to 3, each a wellbeing outcome valued 20, no cash) and a discharge team (the NHS's, 10 a
unit, up to 2, each saving the NHS 20 in cash) are equally good: net benefit 10 a unit.
Budgets of 10 each; the police have no service of their own.
Ring-fenced: council one visit (P = -10), NHS one team (P = 20 - 10 = 10), the police
spend nothing (P = 0); objective 20; Pref sums to 0.
Pooled: the police's 10 buys a third unit of either (objective 30); least pooling pools
exactly that 10. With c team units and 3 - c visit units, c in [0, 2] (visits <= 3,
teams <= 2) are all as good. Council spends its 10 whatever (P = -10: no change), the
police its 10 into the pool (P = -10: change -10), the NHS P = 20 c - 10 (change
g = 20 c - 20 in [-20, 20]); the cash surplus S = 20 c - 30 in [-30, 10].
Rule 3 (proportional shares) picks c: the pool's 10 paying q_d to teams and 10 - q_d to
visits, x_d = 1 + q_d / 10, x_v = 2 - q_d / 10, minimises
(10 - q)^2 / (10 * 3) + q^2 / (10 * 2) + 10 x_v^2 / 3 + 10 x_d^2 / 2, whose derivative
-1 + q / 3 is 0 at q = 3: c = 1.3, so NHS g = +6, police g = -10 and S = -4."""


def _tie_gain_rows(name: str) -> tuple[dict, dict[str, tuple[float, float, float, str]]]:
    result = run(HERE / "data" / "agreement_tie_gain.yaml")
    run_analyses(result, [])  # settles fair shares (playing the pooling game)
    agreed = result.scenario(name).extra["agreement"]
    assert isinstance(agreed, dict)
    gains = gains_table(result)
    mine = gains[gains["scenario"] == name].set_index("agency")
    tol = change_tolerance(mine["gain"])
    return agreed, {a: (r["gain"], r["gain_low"], r["gain_high"],
                        reading(r["gain"], r["gain_low"], r["gain_high"], tol))
                    for a, r in mine.iterrows()}


def test_gain_share_over_a_tie_where_pooling_gains() -> None:
    # TIE_GAIN. At the plan S = -4 < 0: the police fall short by 10, the NHS is 6 above:
    # all its 6 moves to the police, which end at -4; the NHS at 0, the council at 0.
    # Over equally good plans (c in [0, 2]):
    #   c >= 1.5 (S in [0, 10]): the NHS (g = S + 10) makes the police whole and ends at S;
    #   c in [1, 1.5) (S in [-10, 0)): the NHS pays all its g to the police, ends at 0,
    #     the police at g_police + g_nhs = S;
    #   c < 1 (S < -10): nobody is above: nothing moves, the NHS ends at 20 c - 20.
    # So the NHS ends anywhere in [-20, 10] (could gain or lose), the police in [-10, 0]
    # (a loss at the plan, never a gain), the council at 0. The documented bounds
    # (story.agreed_range, g in [(0, -20, -10), (0, 20, -10)], S in [-30, 10]) give the same:
    # S >= 0: [0, min(g_hi+, 10)] = NHS [0, 10], police [0, 0]; S < 0: [max(g_lo-, -30),
    # g_hi- * 0 / 30] = NHS [-20, 0], police [-10, 0]; their union as above.
    agreed, rows = _tie_gain_rows("gain")
    assert agreed["kind"] == "gain_share"
    assert (agreed["surplus_min"], agreed["surplus"], agreed["surplus_max"]) == pytest.approx(
        (-30.0, -4.0, 10.0), abs=1e-6)
    plan = {a: r["plan"] for a, r in agreed["positions"].items()}
    ends = {a: r["ends"] for a, r in agreed["positions"].items()}
    assert plan == pytest.approx({"council": -10.0, "nhs": 16.0, "police": -10.0}, abs=1e-6)
    assert ends == pytest.approx({"council": -10.0, "nhs": 10.0, "police": -4.0}, abs=1e-6)
    expected = {"council": (0.0, 0.0, 0.0, "none"), "nhs": (0.0, -20.0, 10.0, "either"),
                "police": (-4.0, -10.0, 0.0, "loss")}
    for agency, (change, low, high, read) in expected.items():
        assert rows[agency][:3] == pytest.approx((change, low, high), abs=1e-6), agency
        assert rows[agency][3] == read, agency


def test_fair_shares_over_a_tie_where_pooling_gains() -> None:
    # TIE_GAIN. The pooling game: only the police have money the ring-fences leave idle,
    # so any coalition with the police gains 10 (a third unit) and any without gains 0:
    # Shapley phi = police 10, council 0, NHS 0 (the police add 10 in every order);
    # G = 10, shares 1, 0, 0. Each ends at Pref + w S: the police at S (-4 at the plan;
    # anywhere in [-30, 10] over equally good plans: could gain or lose), the council and
    # the NHS at their references whatever the plan (no change, no range). The NHS's +6
    # moves to the police. cash_gap = G - S = 10 - (-4) = 14: the visits' value, which no
    # budget receives, and the cash the plan costs.
    agreed, rows = _tie_gain_rows("fair")
    assert agreed["kind"] == "fair_shares"
    assert agreed["shapley"] == pytest.approx({"council": 0.0, "nhs": 0.0, "police": 10.0},
                                              abs=1e-6)
    assert agreed["shares"] == pytest.approx({"council": 0.0, "nhs": 0.0, "police": 1.0})
    assert agreed["gain"] == pytest.approx(10.0) and agreed["cash_gap"] == pytest.approx(14.0)
    ends = {a: r["ends"] for a, r in agreed["positions"].items()}
    assert ends == pytest.approx({"council": -10.0, "nhs": 10.0, "police": -4.0}, abs=1e-6)
    expected = {"council": (0.0, 0.0, 0.0, "none"), "nhs": (0.0, 0.0, 0.0, "none"),
                "police": (-4.0, -30.0, 10.0, "either")}
    for agency, (change, low, high, read) in expected.items():
        assert rows[agency][:3] == pytest.approx((change, low, high), abs=1e-6), agency
        assert rows[agency][3] == read, agency


def test_decided_surplus_by_hand() -> None:
    # tol 1e-6 (a scale of 1): a surplus of 4e-9 between -4e-9 and 1.5e-8 is zero, and so
    # is its range (narrower than tol); 1474.6 read as 1474.6 +- 7e-13 is the point.
    assert decided_surplus(4e-9, -4e-9, 1.5e-8, 1e-6) == (0.0, 0.0, 0.0)
    assert decided_surplus(1474.6, 1474.6 - 7e-13, 1474.6 + 2e-13, 1e-6) == (
        1474.6, 1474.6, 1474.6)
    # a tie: S = 3e-9 in [-20 - 1e-9, 20 + 2e-9]: S is 0, the ends are the tie's
    assert decided_surplus(3e-9, -20 - 1e-9, 20 + 2e-9, 1e-6) == (0.0, -20 - 1e-9, 20 + 2e-9)
    # ends within tol of S or of 0 are S or 0: S = 5 in [5 - 1e-7, 9], [-1e-7, 5]
    assert decided_surplus(5.0, 5.0 - 1e-7, 9.0, 1e-6) == (5.0, 5.0, 9.0)
    assert decided_surplus(5.0, -1e-7, 5.0, 1e-6) == (5.0, 0.0, 5.0)
    # a range not found stays unfound; wider than tol and away from 0 and S, kept
    assert decided_surplus(2.0, None, None, 1e-6) == (2.0, None, None)
    assert decided_surplus(2.0, -3.0, 4.0, 1e-6) == (2.0, -3.0, 4.0)


def test_agreed_range_by_hand() -> None:
    # Risk share 0.6 / 0.4 of a surplus between -10 and 30: [-6, 18] and [-4, 12].
    low, high = agreed_range("risk_share", np.array([0.6, 0.4]), np.zeros(2), np.zeros(2),
                             (-10.0, 30.0))
    assert low.tolist() == pytest.approx([-6.0, -4.0]) and high.tolist() == pytest.approx(
        [18.0, 12.0])
    # Gain share, plan changes within [4, 8] and [-2, 0], surplus within [2, 6] (>= 0):
    # agency 0 ends at g S / U >= 4 * 2 / 8 = 1 and <= min(8, 6) = 6; agency 1 ends at 0.
    low, high = agreed_range("gain_share", None, np.array([4.0, -2.0]), np.array([8.0, 0.0]),
                             (2.0, 6.0))
    assert low.tolist() == pytest.approx([1.0, 0.0]) and high.tolist() == pytest.approx(
        [6.0, 0.0])
    # The same with the surplus within [-1, 6]: for S < 0 agency 1 ends at -2 (-S) / 2
    # >= max(-2, -1) = -1; agency 0 at 0; the union: agency 0 [0, 6], agency 1 [-1, 0].
    low, high = agreed_range("gain_share", None, np.array([4.0, -2.0]), np.array([8.0, 0.0]),
                             (-1.0, 6.0))
    assert low.tolist() == pytest.approx([0.0, -1.0]) and high.tolist() == pytest.approx(
        [6.0, 0.0])
