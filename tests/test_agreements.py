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
from optimiser.reports.write import results_document
from optimiser.solving.results import gain_share_payments, shared_payments

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
