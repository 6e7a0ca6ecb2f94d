"""What limits the plan, priced from the optimal basis (`basis_rates`, or HiGHS's ranging of
the bounds: `ranged_rates`) where it settles a side, else by the dual simplex's pivots made by
hand (`pivoted_rates`), else by re-solving (`one_sided_rates`): the settled rates against
hand-worked tiny LPs (which also pin HiGHS's conventions: the order of its basic variables,
its row logicals, the signs of its duals, maximising and minimising), and against the
re-solve of every limit on a shipped place and generated ones."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
import yaml
from gen import random_instance

from optimiser.analyses import run_analyses
from optimiser.pipeline import run
from optimiser.solving import highs as highs_module
from optimiser.solving.highs import CompiledLP, new_highs

LIMITS = importlib.import_module("optimiser.analyses.limits")
"""The module (the package exports its function `limits` under the same name)."""
REPO = Path(__file__).resolve().parents[1]
INF = highspy.kHighsInf


def loaded(cost: list[float], lower: list[float], upper: list[float],
           rows: list[tuple[float, float, list[float]]],
           sense: highspy.ObjSense = highspy.ObjSense.kMaximize) -> CompiledLP:
    """A tiny LP maximising (or `sense`) cost . x within the column and row bounds, solved
    (on a HiGHS made as the optimiser makes them: HiGHS's scheduler, shared by the process,
    then has the optimiser's number of threads, which a later solve of a place requires)."""
    h = new_highs()
    n = len(cost)
    h.addVars(n, np.array(lower, dtype=float), np.array(upper, dtype=float))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(cost, dtype=float))
    h.changeObjectiveSense(sense)
    for low, high, a in rows:
        nz = np.flatnonzero(a).astype(np.int32)
        h.addRow(low, high, len(nz), nz, np.array(a, dtype=float)[nz])
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return CompiledLP(highs=h, costs={}, senses={}, offsets={}, columns=[], rows=[],
                      n_rows=len(rows))


def test_every_side_of_a_plain_vertex_is_settled_by_its_basis() -> None:
    # max -4x - 2y + 5u + v,  2 <= x <= 10, 0 <= y <= 5, 0 <= u <= 4, 0 <= v <= 100,
    #   r_t: x + y >= 3 (a target),  r_b: u + y + v <= 8 (a budget).
    # Optimum: u = 4 at its cap, x = 2 at its minimum, y = 1, v = 3 (z = 13); y and v
    # are basic and strictly inside their bounds, every nonbasic reduced cost is nonzero,
    # so the basis is unique and stays optimal a little either way:
    #   x's minimum 2 - e: x = 2 - e, y = 1 + e, v = 3 - e: z + 4e - 2e - e = z + e
    #     -> gain = loss = 1 (its lower bound, more room downwards)
    #   u's cap 4 + e: u = 4 + e, v = 3 - e: z + 5e - e -> gain = loss = 4
    #   target 3 - e: y = 1 - e, v = 3 + e: z + 2e + e -> gain = loss = 3
    #   budget 8 + e: v = 3 + e -> gain = loss = 1
    lp = loaded([-4, -2, 5, 1], [2, 0, 0, 0], [10, 5, 4, 100],
                [(3, INF, [1, 1, 0, 0]), (-INF, 8, [0, 1, 1, 1])])
    vertex = LIMITS.Vertex.of(lp)
    assert vertex is not None
    room = LIMITS.ROOM
    for columns, place, kind, want in [(True, 0, "min_units", 1.0), (True, 2, "max_units", 4.0),
                                       (False, 0, "target", 3.0), (False, 1, "budget", 1.0)]:
        _, upper, more = room[kind]
        gain, loss = LIMITS.basis_rates(vertex, columns, np.array([place]), upper, more, 1.0)
        assert (gain, loss) == (pytest.approx(want, rel=1e-12), pytest.approx(want, rel=1e-12))
        # HiGHS's ranging of the bounds settles them too, without the basis solve
        ranges = LIMITS.BoundRanges.of(vertex)
        assert ranges is not None
        assert LIMITS.ranged_rates(vertex, ranges, columns, np.array([place]), upper, more,
                                   1.0) == (gain, loss)


def test_a_corner_settles_only_the_sides_its_basis_can() -> None:
    # max 3x + 2y, 0 <= x <= 3, y >= 0, r0: x + y <= 4, r1: x + 3y <= 6.
    # Optimum x = 3, y = 1 (z = 11), where x's cap, r0 and r1 all meet: a corner.
    #   cap 3 + e: x = 3 + e, y = 1 - e (r0 binds, r1 = 6 - 2e)  -> gain 1
    #   cap 3 - e: y = min(1 + e, 1 + e/3) = 1 + e/3: z - 3e + 2e/3 -> loss 7/3
    #   r1 6 + e: r0 still holds y at 1 (x is worth more than y)   -> gain 0
    #   r1 6 - e: y = 1 - e/3                                       -> loss 2/3
    #   r0 4 + e: r1 still holds y at 1                             -> gain 0
    #   r0 4 - e: y = 1 - e                                         -> loss 2
    # Each has two rates, so no basis settles both sides of any of them; a side it does
    # settle must be that side's rate (HiGHS 1.16 lands on the basis {r0, y, x - y}
    # logicals, which settles the cap's and r1's losses and r0's gain).
    lp = loaded([3, 2], [0, 0], [3, INF], [(-INF, 4, [1, 1]), (-INF, 6, [1, 3])])
    vertex = LIMITS.Vertex.of(lp)
    assert vertex is not None
    settled = 0
    ranges = LIMITS.BoundRanges.of(vertex)
    assert ranges is not None
    for columns, place, want in [(True, 0, (1.0, 7 / 3)), (False, 1, (0.0, 2 / 3)),
                                 (False, 0, (0.0, 2.0))]:
        rates = LIMITS.basis_rates(vertex, columns, np.array([place]), True, 1.0, 1.0)
        assert None in rates
        # a place the basis holds, or a range that ends at the corner: not by ranging
        assert LIMITS.ranged_rates(vertex, ranges, columns, np.array([place]), True, 1.0,
                                   1.0) is None
        for rate, right in zip(rates, want, strict=True):
            if rate is not None:
                settled += 1
                assert rate == pytest.approx(right, abs=1e-12)
    assert settled >= 1


def test_hand_pivots_price_every_side_of_a_corner() -> None:
    # The corner above (max 3x + 2y, x <= 3, r0: x + y <= 4, r1: x + 3y <= 6; optimum
    # x = 3, y = 1 where all three meet): from HiGHS's optimal basis the hand pivots
    # (`pivoted_rates`, asked for both sides) find every rate worked out there.
    lp = loaded([3, 2], [0, 0], [3, INF], [(-INF, 4, [1, 1]), (-INF, 6, [1, 3])])
    vertex = LIMITS.Vertex.of(lp)
    assert vertex is not None
    tableau = LIMITS.Tableau.of(vertex)
    for columns, place, want in [(True, 0, (1.0, 7 / 3)), (False, 1, (0.0, 2 / 3)),
                                 (False, 0, (0.0, 2.0))]:
        rates = LIMITS.pivoted_rates(vertex, tableau, columns, np.array([place]), True, 1.0,
                                     1.0, (None, None))
        assert rates == (pytest.approx(want[0], abs=1e-12), pytest.approx(want[1], abs=1e-12))


def test_hand_pivots_price_a_minimised_corner_of_lower_bounds() -> None:
    # min 2x + 3y (a cost: G = -1), 0 <= x <= 3, y >= 0, r0: x + y >= 4 (a target),
    # r1: x + 2y >= 5. Optimum x = 3, y = 1 (cost 9), where the cap, r0 and r1 all meet.
    # Moved a little, the optimum is the cheapest of the three pairs' crossings that
    # satisfies the third limit:
    #   cap 3 + e: r0 & r1 still cross at (3, 1) (cost 9); cap & r1 (3 + e, 1 - e/2)
    #              costs 9 + e/2                                       -> gain 0
    #   cap 3 - e: cap & r0 (3 - e, 1 + e), r1 = 5 + e: cost 9 + e     -> loss 1
    #   r0 4 - e:  r0 & r1 (3 - 2e, 1 + e), x under its cap: 9 - e     -> gain 1
    #   r0 4 + e:  cap & r0 (3, 1 + e), r1 = 5 + 2e: cost 9 + 3e       -> loss 3
    #   r1 5 - e:  cap & r0 still at (3, 1), r1 = 5 > 5 - e: cost 9    -> gain 0
    #   r1 5 + e:  r0 & r1 (3 - e, 1 + e): 9 + e (cap & r1's (3, 1 + e/2)
    #              costs 9 + 1.5e)                                     -> loss 1
    # (gain: the fall in cost with more room; a target's room is downwards, more = -1.)
    lp = loaded([2, 3], [0, 0], [3, INF], [(4, INF, [1, 1]), (5, INF, [1, 2])],
                highspy.ObjSense.kMinimize)
    vertex = LIMITS.Vertex.of(lp)
    assert vertex is not None
    tableau = LIMITS.Tableau.of(vertex)
    for columns, place, kind, want in [(True, 0, "max_units", (0.0, 1.0)),
                                       (False, 0, "target", (1.0, 3.0)),
                                       (False, 1, "target", (0.0, 1.0))]:
        _, upper, more = LIMITS.ROOM[kind]
        rates = LIMITS.pivoted_rates(vertex, tableau, columns, np.array([place]), upper, more,
                                     -1.0, (None, None))
        assert rates == (pytest.approx(want[0], abs=1e-12), pytest.approx(want[1], abs=1e-12))


def test_hand_pivots_leave_an_edge_to_the_re_solve() -> None:
    # min x + y, 0 <= x <= 3, 0 <= y <= 1, r0: x + y >= 4: the only plan is x = 3, y = 1.
    #   cap of x 3 + e: nothing moves (cost 4)           -> gain 0
    #   cap of x 3 - e: no plan                           -> loss None ('edge')
    #   r0 4 - e: x + y = 4 - e: cost 4 - e               -> gain 1
    #   r0 4 + e: no plan                                 -> loss None
    # The pivots settle the gains and leave each loss (None) for the re-solve to find.
    lp = loaded([1, 1], [0, 0], [3, 1], [(4, INF, [1, 1])], highspy.ObjSense.kMinimize)
    vertex = LIMITS.Vertex.of(lp)
    assert vertex is not None
    tableau = LIMITS.Tableau.of(vertex)
    for columns, kind, want in [(True, "max_units", 0.0), (False, "target", 1.0)]:
        _, upper, more = LIMITS.ROOM[kind]
        gain, loss = LIMITS.pivoted_rates(vertex, tableau, columns, np.array([0]), upper, more,
                                          -1.0, (None, None))
        assert gain == pytest.approx(want, abs=1e-12)
        assert loss is None


def test_a_cap_fixed_by_its_minimum_gains_nothing_and_is_an_edge() -> None:
    # max y - 2x, 3 <= x <= 3 (a minimum equal to the cap), y >= 0, r0: y - x <= 1.
    # Optimum x = 3, y = 4 (z = -2); z = y - 2x <= 1 - x, so x is worth -1 a unit.
    #   cap 3 + e: x may rise but does not (each unit loses 1): z stays -2  -> gain 0
    #   cap 3 - e: x >= 3 > 3 - e, no plan                                 -> loss None
    # HiGHS's dual of the fixed x (-1) belongs to its minimum, not its cap: no way of
    # pricing the cap may take it for the cap's gain (a negative gain for more room).
    lp = loaded([-2, 1], [3, 0], [3, INF], [(-INF, 1, [-1, 1])])
    lp = dataclasses.replace(lp, costs={"objective": np.array([-2.0, 1.0])},
                             senses={"objective": highs_module.MAXIMIZE},
                             offsets={"objective": 0.0})
    vertex = LIMITS.Vertex.of(lp)
    assert vertex is not None
    _, upper, more = LIMITS.ROOM["max_units"]
    cap = np.array([0])
    for gain, loss in [LIMITS.basis_rates(vertex, True, cap, upper, more, 1.0),
                       LIMITS.pivoted_rates(vertex, LIMITS.Tableau.of(vertex), True, cap,
                                            upper, more, 1.0, (None, None))]:
        assert gain in (None, 0.0) and loss is None  # left to the re-solve, or right
    ranges = LIMITS.BoundRanges.of(vertex)
    assert ranges is not None
    assert LIMITS.ranged_rates(vertex, ranges, True, cap, upper, more, 1.0) in (None, (0.0, None))
    z = lp.highs.getInfo().objective_function_value
    assert LIMITS.one_sided_rates(lp, z, True, cap, upper, more, 1.0) == (0.0, None)


def test_column_states_from_values_are_highs_statuses(tmp_path: Path) -> None:
    """The vertex reads each column's status from its value (a nonbasic column sits
    exactly at the bound its status names) instead of from HiGHS's list: on every optimal
    scenario of a generated place and Worcestershire, each status it reads so is HiGHS's,
    and every nonbasic column it cannot read (-1) is fixed (l = u)."""
    for path in (place_path("generated", tmp_path), place_path("worcestershire", tmp_path)):
        result = run(path, ranges=False)
        checked = 0
        for s in result.scenarios:
            if s.status != "optimal" or s.model is None or s.data is None:
                continue
            s.model.load(s.data)
            lp = s.model.lp
            highs_module.reoptimise(lp, cold=True)
            vertex = LIMITS.Vertex.of(lp)
            assert vertex is not None
            truth = np.array([int(x) for x in lp.highs.getBasis().col_status])
            read = vertex.col_state >= 0
            assert np.array_equal(vertex.col_state[read], truth[read])
            assert np.all(vertex.col_lower[~read] == vertex.col_upper[~read])
            assert np.array_equal(vertex.col_status(np.arange(len(truth))), truth)
            checked += int(read.sum())
        assert checked > 0


def rates(path: Path, monkeypatch: pytest.MonkeyPatch, settle: bool,
          pivot: bool = True) -> list[dict[str, Any]]:
    """Every limit of every scenario of the place at `path`, with the basis and the hand
    pivots settling what they can (`settle`; the pivots only where `pivot`) or every side
    re-solved."""
    if not settle:
        monkeypatch.setattr(LIMITS, "basis_rates", lambda *_: (None, None))
    if not settle or not pivot:  # every side it is asked for left as it was
        monkeypatch.setattr(LIMITS, "pivoted_rates", lambda *args: args[7])
    result = run(path, ranges=False)
    run_analyses(result, ["limits"])
    monkeypatch.undo()
    return [{"scenario": name, **e} for name, body in result.analyses["limits"].items()
            for e in body["limits"]]


def place_path(place: str, tmp_path: Path) -> Path:
    """A shipped place, or a generated one: `generated` (small), `edges` (four limits
    whose tightening leaves no plan: 'edge')."""
    if place in ("generated", "edges"):
        path = tmp_path / f"{place}.yaml"
        path.write_text(yaml.safe_dump(random_instance(11 if place == "generated" else 21,
                                                       n_agencies=4, n_streams=6,
                                                       n_interventions=8), sort_keys=False))
        return path
    return REPO / "instances" / f"{place}.yaml"


@pytest.mark.parametrize("place", ["worcestershire", "generated", "edges"])
def test_settled_rates_are_the_re_solved_rates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               place: str) -> None:
    """Worcestershire has 13 degenerate limits (caps and budgets meeting at corners), the
    generated places are small (one with four edges): each limit's gain, loss and pricing
    agree whichever way they are found, the basis and the hand pivots (made here on models
    smaller than a run makes them on) or re-solving every side (to double precision: two
    re-solves on one basis differ in the last digits). The pivots settle sides the basis
    does not, and leave the edges (tightening leaves no plan) to the re-solve."""
    path = place_path(place, tmp_path)
    resolved: list[int] = []
    pivoted: list[int] = []
    real, real_pivots = LIMITS.one_sided_rates, LIMITS.pivoted_rates

    def counted(*args: Any, **kwargs: Any) -> tuple[float | None, float | None]:
        resolved.append(1)
        return real(*args, **kwargs)

    def counted_pivots(*args: Any) -> tuple[float | None, float | None]:
        found = real_pivots(*args)
        pivoted.extend(1 for was, now in zip(args[7], found, strict=True)
                       if was is None and now is not None)
        return found

    monkeypatch.setattr(LIMITS, "one_sided_rates", counted)
    monkeypatch.setattr(LIMITS, "pivoted_rates", counted_pivots)
    monkeypatch.setattr(LIMITS, "PIVOT_COLUMNS", 0)  # the pivots on these small models too
    settled = rates(path, monkeypatch, settle=True)
    monkeypatch.setattr(LIMITS, "one_sided_rates", counted)
    every = len(resolved)
    assert pivoted  # the hand pivots settled sides the basis did not
    everything = rates(path, monkeypatch, settle=False)
    assert len(resolved) - every == len(everything)  # the comparison re-solved them all
    assert len(settled) == len(everything) > every
    for mine, theirs in zip(settled, everything, strict=True):
        assert (mine["scenario"], mine["kind"], mine["item"], mine["pricing"]) == (
            theirs["scenario"], theirs["kind"], theirs["item"], theirs["pricing"])
        for side in ("gain", "loss"):
            assert (mine[side] is None) == (theirs[side] is None)
            if mine[side] is not None:
                assert mine[side] == pytest.approx(theirs[side], rel=1e-12, abs=1e-12)
    if place == "worcestershire":
        assert sum(e["pricing"] == "degenerate" for e in settled) == 13
    edges = sum(e["pricing"] == "edge" for e in settled)
    assert edges == (4 if place == "edges" else 0)
    assert every >= edges  # an edge is found by re-solving


def test_stage_one_basis_is_the_cold_solves_and_prices_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits start from the basis stage 1 of the scenario's solve ended on
    (`first_basis`) instead of solving cold again: it is the basis a cold solve of the same
    LP ends on (compared status by status), it is not offered once the LP differs (a bound
    moved), and every limit's rates are the same to the bit either way."""
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(random_instance(11, n_agencies=4, n_streams=6,
                                                   n_interventions=8), sort_keys=False))
    result = run(path)  # with the position ranges: a run whose scenarios are reported
    optimal = [s for s in result.scenarios if s.status == "optimal" and s.model is not None]
    assert optimal
    for s in optimal:
        assert s.model is not None and s.data is not None
        s.model.load(s.data)
        lp = s.model.lp
        saved = highs_module.first_basis(lp)
        assert saved is not None
        status, _, _ = highs_module.reoptimise(lp, cold=True)
        assert status == "optimal"
        cold = lp.highs.getBasis()
        assert list(cold.col_status) == list(saved.col_status)
        assert list(cold.row_status) == list(saved.row_status)
        model = lp.highs.getLp()
        lower, upper = np.array(model.col_lower_[:1]), np.array(model.col_upper_[:1])
        highs_module.set_column_bounds(lp, np.array([0]), lower, upper + 1.0)
        assert highs_module.first_basis(lp) is None  # another LP: solved cold
        highs_module.set_column_bounds(lp, np.array([0]), lower, upper)
    run_analyses(result, ["limits"])
    warm = result.analyses["limits"]
    monkeypatch.setattr(LIMITS, "first_basis", lambda lp: None)  # every scenario cold
    cold_result = run(path)
    run_analyses(cold_result, ["limits"])
    assert cold_result.analyses["limits"] == warm


def test_limits_split_over_copies_give_the_same_rates_to_the_bit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Worcestershire's 26 limits the basis cannot settle (the hand pivots off) are
    re-solved from the optimal basis, each putting it back: split over two copies of the
    model in threads (as a big place's are), every gain, loss and pricing is the one the
    single model gives, exactly."""
    path = REPO / "instances" / "worcestershire.yaml"
    alone = rates(path, monkeypatch, settle=True, pivot=False)
    asked: list[int] = []

    def two(_lp: CompiledLP, solves: int) -> int:
        asked.append(solves)
        return 2 if solves >= 2 else 1

    monkeypatch.setattr(LIMITS, "parts", two)
    split_up = rates(path, monkeypatch, settle=True, pivot=False)
    assert max(asked) >= 2  # a scenario's limits were split
    assert len(alone) == len(split_up) > 0
    assert [(e["scenario"], e["kind"], e["item"], e["gain"], e["loss"], e["pricing"])
            for e in split_up] == [
        (e["scenario"], e["kind"], e["item"], e["gain"], e["loss"], e["pricing"])
        for e in alone]
