"""Rules 2 and 3 skipped where stage 1's optimum is proven the only one (`unique_optimum`),
and the parts of rule 3's QP proven to hold one plan left out of it (`settled_parts`); where
the optimum ties, the rules still decide (tests/test_ordering*.py and tests/test_milp_ties.py
keep their answers)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import optimiser.solving.highs
from models.standard import MAXIMIZE, MINIMIZE, StandardForm
from optimiser.solving.highs import (
    CompiledLP,
    _optimise,
    load_standard,
    read_rows,
    solve_loaded,
    unique_optimum,
)


def _lp(objective: list[float], caps: list[int], upper: float = 2.0,
        pooling: list[float] | None = None) -> CompiledLP:
    """max objective . x subject to one row sum_{j in part p} x_j <= 1 for each part p
    (`caps[j]` = p), 0 <= x_j <= `upper`; with `pooling`, a 'least_pooling' objective."""
    n, m = len(objective), max(caps) + 1
    order = np.argsort(caps, kind="stable")
    assert list(order) == list(range(n))  # columns given part by part
    costs = {"objective": np.array(objective, dtype=float)}
    senses = {"objective": MAXIMIZE}
    if pooling is not None:
        costs["least_pooling"] = np.array(pooling, dtype=float)
        senses["least_pooling"] = MINIMIZE
    return load_standard(StandardForm(
        columns=[("x", (j + 1,)) for j in range(n)], col_lower=np.zeros(n),
        col_upper=np.full(n, upper), rows=[("cap", (p,), 1) for p in range(m)],
        rhs=np.ones(m), start=np.arange(n + 1, dtype=np.int32),
        index=np.array(caps, dtype=np.int32), value=np.ones(n), costs=costs,
        senses=senses, offsets={k: 0.0 for k in costs}))


def _plan(solution: Any, n: int) -> list[float]:
    return [solution.values["x"][(j + 1,)] for j in range(n)]


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("rule 2 or 3 ran on a unique optimum")


def test_a_unique_optimum_is_the_plan_without_rules_2_and_3(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # max 2 x1 + x2 subject to x1 + x2 <= 1, 0 <= x <= 2. At the optimum x = (1, 0), z* = 2:
    # x1 = 1 lies inside its bounds, so it is basic; x2 and the row are nonbasic. The row's
    # dual is y = 2 (x1's cost) and x2's reduced cost r2 = 1 - y = -1: both nonzero, so
    # every optimal plan has x2 = 0 and x1 + x2 = 1, i.e. x = (1, 0) only (moving 1 from
    # x1 to x2 loses 2 - 1 = 1). Least pooling (on x2) and rule 3 have nothing to choose.
    lp = _lp([2.0, 1.0], [0, 0], pooling=[0.0, 1.0])
    assert _optimise(lp, "objective")[1] == pytest.approx(2.0)
    assert unique_optimum(lp, read_rows(lp))
    monkeypatch.setattr(optimiser.solving.highs, "_least_pooling", _refuse)
    monkeypatch.setattr(optimiser.solving.highs, "decided_plan", _refuse)
    solution = solve_loaded(_lp([2.0, 1.0], [0, 0], pooling=[0.0, 1.0]), ranges=False,
                            sizes=np.array([1.0, 3.0]))
    assert solution.status == "optimal"
    assert _plan(solution, 2) == [1.0, 0.0]


def test_a_tie_is_still_decided_by_rule_3() -> None:
    # max x1 + x2 subject to x1 + x2 <= 1, 0 <= x <= 2: every x >= 0 with x1 + x2 = 1 is
    # optimal (z* = 1), and whichever vertex HiGHS finds, the column at 0 is nonbasic with
    # reduced cost 1 - y = 0 (y = 1): the certificate fails. Rule 3 minimises
    # x1^2 / 1 + x2^2 / 3 on x1 + x2 = 1: 2 x1 = 2 x2 / 3, so x2 = 3 x1, x = (1/4, 3/4).
    lp = _lp([1.0, 1.0], [0, 0])
    assert _optimise(lp, "objective")[1] == pytest.approx(1.0)
    assert not unique_optimum(lp, read_rows(lp))
    solution = solve_loaded(_lp([1.0, 1.0], [0, 0]), ranges=False, least_pooling=False,
                            sizes=np.array([1.0, 3.0]))
    assert _plan(solution, 2) == pytest.approx([0.25, 0.75], abs=1e-9)


def test_a_part_with_one_plan_keeps_its_values_and_a_tied_part_goes_to_the_qp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Two independent parts. Part 0: max x1 + x2 with x1 + x2 <= 1 ties as above; rule 3
    # gives (1/4, 3/4) with sizes (1, 3). Part 1: max 2 x3 + x4 with x3 + x4 <= 1 has the
    # one optimum (1, 0) as in the first test: x4 is held at 0 (r4 = -1), which leaves x3,
    # basic, alone in its row, held active (y = 2): its part holds one plan, x3 = 1, and is
    # not handed to the QP. The QP's free columns are x1, x2, x3 (x4 is fixed), so the
    # column left out is the third.
    seen: list[np.ndarray] = []
    parts = optimiser.solving.highs.qp_parts

    def spy(*args: Any) -> Any:
        batches, settled = parts(*args)
        seen.append(settled)
        return batches, settled

    monkeypatch.setattr(optimiser.solving.highs, "qp_parts", spy)
    lp = _lp([1.0, 1.0, 2.0, 1.0], [0, 0, 1, 1])
    assert _optimise(lp, "objective")[1] == pytest.approx(3.0)
    assert not unique_optimum(lp, read_rows(lp))
    solution = solve_loaded(_lp([1.0, 1.0, 2.0, 1.0], [0, 0, 1, 1]), ranges=False,
                            least_pooling=False, sizes=np.array([1.0, 3.0, 1.0, 1.0]))
    assert [list(s) for s in seen] == [[2]]
    assert _plan(solution, 4) == pytest.approx([0.25, 0.75, 1.0, 0.0], abs=1e-9)
    assert _plan(solution, 4)[2:] == [1.0, 0.0]
