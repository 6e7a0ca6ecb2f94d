"""Tests for optimiser.analyses.shapley: fair shares of the pooling gain."""

from __future__ import annotations

import copy
import itertools
import pathlib

import highspy
import numpy as np
import pytest
import yaml
from gen import random_instance

from optimiser.analyses.shapley import (
    MIN_PAIRS,
    SAMPLE_PRECISION,
    fair_shares,
    game_scenarios,
    most_pairs,
    next_round,
    pair_order,
    pooling_game,
    sampling_stops,
    shapley,
    walk_pair,
    walk_start,
)
from optimiser.pipeline import RunResult, run
from optimiser.solving.highs import column_lookup, reoptimise
from optimiser.workers import Workers

# Three agencies with money but nothing of their own to buy, and a hospital (d)
# whose one intervention x (cost 1, saves d 3: net benefit 2 a unit, at most 180
# units) only d's 30 may pay for behind the ring-fences.
#   v(empty) = 2 * 30 = 60.
# Pooling lets a put in 60, b 100, c 80 (half of 160); x can take 150 more units:
#   u(C) = 2 * min(150, pooled money of C)
#   u(a) = 120, u(b) = 200, u(c) = 160, u(ab) = 300, u(ac) = 280, u(bc) = 300, u(abc) = 300.
# d's money can only buy x, which it buys anyway: d changes nothing, phi_d = 0.
# Shapley over a, b, c (weights 1/3 alone, 1/6 joining one, 1/3 joining both):
#   phi_a = 120/3 + (300-200)/6 + (280-160)/6 + (300-300)/3 = 40 + 16.67 + 20     = 230/3
#   phi_b = 200/3 + (300-120)/6 + (300-160)/6 + (300-280)/3 = 66.67 + 30 + 23.33 + 6.67 = 380/3
#   phi_c = 160/3 + (280-120)/6 + (300-200)/6 + (300-300)/3 = 53.33 + 26.67 + 16.67 = 290/3
#   sum = 900/3 = 300 = u(abc).
THREE = """\
name: three agencies and a hospital
years: 1
discount_rate: 0.0
agencies:
  a: {name: County council}
  b: {name: Primary care trust}
  c: {name: Police}
  d: {name: Hospital}
streams:
  a_money: {agency: a, budget: 60}
  b_money: {agency: b, budget: 100}
  c_money: {agency: c, budget: 160, pool_share: 0.5}
  d_money: {agency: d, budget: 30}
interventions:
  x: {agency: d, unit_cost: 1, max_units: 180, savings: {d: 3}}
"""

# The cost objective: ten people must be helped. The hospital (d) helps one for 1
# (at most 10) with its 4; the council (a) helps one for 3, fenced to its own.
#   Ring-fenced: 4 cheap + 6 dear = 4 + 18 = 22.
#   {a}: a's money buys the cheap ones: 10 cheap = 10, gain 12.
#   {b}: b's 3 buys 3 more cheap: 7 cheap + 3 dear = 16, gain 6.
#   {a, b}: 10, gain 12. d changes nothing (it already buys cheap).
#   phi_a = 12/2 + (12 - 6)/2 = 9, phi_b = 6/2 + (12 - 12)/2 = 3, phi_d = 0; sum 12.
COST = """\
name: cheaper together
years: 1
discount_rate: 0.0
objective: cost
agencies:
  a: {name: Council}
  b: {name: Fire}
  d: {name: Hospital}
streams:
  a_money: {agency: a, budget: 100}
  b_money: {agency: b, budget: 3}
  d_money: {agency: d, budget: 4}
interventions:
  cheap: {agency: d, unit_cost: 1, max_units: 10, effects: {helped: 1}}
  dear: {agency: a, unit_cost: 3, effects: {helped: 1}}
outcomes:
  helped: {target: 10}
"""


def solve_text(tmp_path: pathlib.Path, text: str) -> RunResult:
    path = tmp_path / "place.yaml"
    path.write_text(text)
    return run(path, ranges=False)


def solve_place(tmp_path: pathlib.Path, place: dict, name: str = "place.yaml") -> RunResult:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(place, sort_keys=False))
    return run(path, ranges=False)


def test_three_agencies_by_hand(tmp_path: pathlib.Path) -> None:
    result = solve_text(tmp_path, THREE)
    found = fair_shares(result.scenario("pooled"))
    assert found.method == "exact"
    assert found.ring_fenced_objective == pytest.approx(60)
    assert found.pooled_objective == pytest.approx(360)
    assert found.gain == pytest.approx(300)
    assert found.shares == pytest.approx({"a": 230 / 3, "b": 380 / 3, "c": 290 / 3, "d": 0.0})
    assert found.players == ["a", "b", "c", "d"]
    assert found.solves == 2 ** 4 + 1  # every coalition once, then the restore
    # the restore re-solved full pooling from the basis the walk solved it to: no pivot
    lp = result.scenario("pooled").lp
    assert lp is not None
    assert lp.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert lp.highs.getInfo().simplex_iteration_count == 0
    assert lp.highs.getInfo().objective_function_value + lp.offsets["objective"] == (
        pytest.approx(360))


def test_a_pairs_marginals_by_hand(tmp_path: pathlib.Path) -> None:
    # THREE's game (u by hand above; players a, b, c, d = 0, 1, 2, 3; d adds 0). Pair 0
    # of seed 0 orders them b, a, d, c. Row 0 takes them out of everyone in that order
    # (the reversed order joining): b joins acd last, adding u(abcd) - u(ac) = 300 - 280
    # = 20; a joins cd: u(ac) - u(c) = 280 - 160 = 120; d joins c: 0; c first: 160.
    # Row 1 adds them to nobody in it: b u(b) = 200, a u(ab) - u(b) = 300 - 200 = 100,
    # d 0, c u(abcd) - u(ab) = 300 - 300 = 0. Both rows add up to u(abcd) = 300. Row 1's
    # coalitions b, ab, abd are valued by a second walk down from everyone (abd, then
    # ab, then b): the same optima as walking up from nobody.
    s = solve_text(tmp_path, THREE).scenario("pooled")
    game, players = pooling_game(s)
    game.value(0)
    game.value(game.everyone)
    assert players == ["a", "b", "c", "d"] and pair_order(0, 0, 4) == [1, 0, 3, 2]
    marginals, solves = walk_pair(walk_start(game), (0, 0))
    assert solves == 2 * (4 - 1)  # the two ends known: 3 coalitions each way
    assert marginals[0] == pytest.approx([120, 20, 160, 0], abs=1e-9)
    assert marginals[1] == pytest.approx([100, 200, 0, 0], abs=1e-9)


def test_cost_objective_gains_are_falls_in_cost(tmp_path: pathlib.Path) -> None:
    result = solve_text(tmp_path, COST)
    found = fair_shares(result.scenario("pooled"))
    assert found.ring_fenced_objective == pytest.approx(22)
    assert found.pooled_objective == pytest.approx(10)
    assert found.gain == pytest.approx(12)
    assert found.shares == pytest.approx({"a": 9.0, "b": 3.0, "d": 0.0})


def test_agencies_with_nothing_to_pool_get_nothing_and_are_not_played(
        tmp_path: pathlib.Path) -> None:
    text = THREE + "  y: {agency: e, unit_cost: 1, max_units: 0}\n"
    text = text.replace("  d: {name: Hospital}\n",
                        "  d: {name: Hospital}\n  e: {name: Probation}\n")
    text = text.replace("  c_money: {agency: c, budget: 160, pool_share: 0.5}",
                        "  c_money: {agency: c, budget: 160, pool_share: 0.5}\n"
                        "  e_money: {agency: e, budget: 50, pool_share: 0}")
    found = fair_shares(solve_text(tmp_path, text).scenario("pooled"))
    assert found.players == ["a", "b", "c", "d"]
    assert found.shares["e"] == 0.0
    assert found.shares["b"] == pytest.approx(380 / 3)
    assert found.note.endswith(": e")


def test_model_is_left_as_it_was(tmp_path: pathlib.Path) -> None:
    s = solve_text(tmp_path, THREE).scenario("pooled")
    assert s.lp is not None
    before = np.array(s.lp.highs.getLp().col_upper_)
    fair_shares(s, exact_limit=0, sample_solves=40)
    fair_shares(s)
    assert np.array_equal(np.array(s.lp.highs.getLp().col_upper_), before)
    status, z, _ = reoptimise(s.lp)
    assert status == "optimal"
    assert z == pytest.approx(s.objective)
    assert ("p", (0, 0)) in column_lookup(s.lp)


def test_ring_fencing_infeasible_is_skipped_and_said(tmp_path: pathlib.Path) -> None:
    # Only pooled money reaches the 100 units x needs.
    text = THREE.replace("savings: {d: 3}}", "savings: {d: 3}, effects: {done: 1}}")
    text += "outcomes:\n  done: {target: 100}\n"
    result = solve_text(tmp_path, text)
    assert result.scenario("ring_fenced").status == "infeasible"
    found = fair_shares(result.scenario("pooled"))
    assert found.method == "skipped"
    assert "ring-fencing" in found.note
    assert shapley(result) == {}
    assert result.scenario("pooled").extra["pooling_game"]["method"] == "skipped"


def coalition_scenarios(place: dict, scenario: str) -> dict[str, dict]:
    """One scenario per coalition: `scenario` with pool_share 0 for every stream held
    outside it (its own pool_share overrides kept inside)."""
    base = place["scenarios"][scenario]
    agencies = list(place["agencies"])
    out = {}
    for mask in range(1 << len(agencies)):
        inside = {a for n, a in enumerate(agencies) if mask >> n & 1}
        sc = copy.deepcopy(base)
        shares = dict(sc.get("pool_share", {}))
        for sid, stream in place["streams"].items():
            if stream["agency"] not in inside:
                shares[sid] = 0.0
        sc["pool_share"] = shares
        out[f"c{mask}"] = sc
    return out


def brute_force_shapley(values: dict[frozenset[str], float], agencies: list[str],
                        sign: float) -> dict[str, float]:
    """Average marginal contribution over every order the agencies can join in."""
    total = dict.fromkeys(agencies, 0.0)
    orders = list(itertools.permutations(agencies))
    for order in orders:
        joined: frozenset[str] = frozenset()
        for a in order:
            total[a] += sign * (values[joined | {a}] - values[joined])
            joined = joined | {a}
    return {a: v / len(orders) for a, v in total.items()}


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_exact_matches_solving_every_coalition_afresh(tmp_path: pathlib.Path, seed: int) -> None:
    # Generated places (tests/gen.py) with net_benefit (0), outcomes (1) and cost (5)
    # objectives, each with several pooled scenarios: plain, a pool_share override,
    # and (0, 5) an override of the instance. Every coalition of every one is solved
    # again from scratch, as a scenario of its own, through the pipeline.
    place = random_instance(seed, n_agencies=4, n_streams=5, n_interventions=6)
    mine = solve_place(tmp_path, place, "mine.yaml")
    games = game_scenarios(mine)
    assert len(games) >= 2
    found = {s.name: fair_shares(s) for s in games}

    place["scenarios"] = {f"{s.name}_{key}": sc for s in games
                          for key, sc in coalition_scenarios(place, s.name).items()}
    fresh = solve_place(tmp_path, place, "fresh.yaml")
    ids = list(place["agencies"])
    sign = -1.0 if place["objective"] == "cost" else 1.0
    gains = []
    for s in games:
        values = {}
        for mask in range(1 << len(ids)):
            solved = fresh.scenario(f"{s.name}_c{mask}")
            assert solved.status == "optimal"
            values[frozenset(a for n, a in enumerate(ids) if mask >> n & 1)] = solved.objective
        expected = brute_force_shapley(values, ids, sign)
        gain = sign * (values[frozenset(ids)] - values[frozenset()])
        gains.append(gain)
        assert found[s.name].method == "exact"
        assert found[s.name].gain == pytest.approx(gain, rel=1e-6, abs=1e-6)
        for a in ids:
            assert found[s.name].shares[a] == pytest.approx(
                expected[a], rel=1e-6, abs=1e-6 * max(1.0, gain)), (s.name, a)
        assert sum(found[s.name].shares.values()) == pytest.approx(gain, rel=1e-9, abs=1e-6)
    assert max(gains) > 1000  # pooling gains something, so the shares can be told apart


def test_shares_add_up_to_the_gain_and_land_in_results(tmp_path: pathlib.Path) -> None:
    result = solve_place(tmp_path, random_instance(2, n_agencies=5, n_streams=6,
                                                   n_interventions=8))
    shares = shapley(result)
    assert list(shares) == [s.name for s in game_scenarios(result)]
    assert "pooled" in shares and "pooled_fair" not in shares and "pooled_nwo" not in shares
    game = result.scenario("pooled").extra["pooling_game"]
    assert game["method"] == "exact"
    assert game["ring_fenced_objective"] == pytest.approx(
        result.scenario("ring_fenced").objective, rel=1e-9)
    assert game["pooled_objective"] == pytest.approx(result.scenario("pooled").objective,
                                                     rel=1e-9)
    assert sum(shares["pooled"].values()) == pytest.approx(game["gain"], rel=1e-9)
    assert game["gain"] > 0


def test_sampled_shares_are_within_their_standard_errors(tmp_path: pathlib.Path) -> None:
    # Six agencies, so exact Shapley is known; sampled by lowering the exact limit to 5.
    # Each share is the mean of m pair-means d_k, so (phi_hat - phi) / SE is about
    # Student's t with m - 1 degrees of freedom: m = MIN_PAIRS = 16 here, and
    # P(|t_15| > 4) = 0.0012, so for the 6 shares P(any beyond 4 SE) <= 6 x 0.0012 < 1%
    # for a sampler without bias (the seed is fixed, so the test is the same every run).
    # 1e-6 of the gain allows for the solver's tolerance where a share's SE is 0.
    place = random_instance(3, n_agencies=6, n_streams=8, n_interventions=10)
    s = solve_place(tmp_path, place).scenario("pooled")
    exact = fair_shares(s)
    assert exact.method == "exact" and len(exact.players) == 6
    assert exact.gain is not None and exact.gain > 1e6
    sampled = fair_shares(s, exact_limit=5, workers=Workers(1))
    assert sampled.method == "sampled"
    assert sampled.sampling is not None and sampled.standard_error is not None
    # 0.001 of the gain was reached at the first check, after MIN_PAIRS pairs
    assert sampled.sampling["antithetic_pairs"] == MIN_PAIRS
    assert sampled.sampling["stopped_by"] == "precision"
    assert sampled.sampling["target_standard_error"] == pytest.approx(
        SAMPLE_PRECISION * exact.gain, rel=1e-9)
    largest = max(sampled.standard_error.values())
    assert 0 < largest <= SAMPLE_PRECISION * exact.gain
    assert sampled.sampling["largest_standard_error"] == largest
    assert sampled.permutations == 2 * MIN_PAIRS
    # 1 to ring-fence, 1 to pool fully, then each pair 2 x (6 - 1) re-solves
    assert sampled.solves == 2 + MIN_PAIRS * 10
    for a, share in exact.shares.items():
        se = sampled.standard_error[a]
        assert abs(sampled.shares[a] - share) <= 4 * se + 1e-6 * exact.gain, a
    # efficiency: every permutation's marginals add up to u(all), so the shares do
    assert sum(sampled.shares.values()) == pytest.approx(exact.gain, rel=1e-12)


def test_sampling_stops_at_the_budget(tmp_path: pathlib.Path) -> None:
    place = random_instance(3, n_agencies=6, n_streams=8, n_interventions=10)
    s = solve_place(tmp_path, place).scenario("pooled")
    # a precision no sample reaches: 120 re-solves buy 120 // (2 x 6) = 10 pairs
    found = fair_shares(s, exact_limit=5, sample_solves=120, precision=1e-12,
                        workers=Workers(1))
    assert found.sampling is not None
    assert found.sampling["antithetic_pairs"] == found.sampling["most_pairs"] == 10
    assert found.sampling["stopped_by"] == "budget"
    assert found.sampling["budget_re_solves"] == 120
    assert found.solves == 2 + 10 * 10
    assert found.gain is not None
    assert sum(found.shares.values()) == pytest.approx(found.gain, rel=1e-12)


def test_sampling_error_shrinks_with_more_permutations(tmp_path: pathlib.Path) -> None:
    # 8 pairs (96 re-solves of 2 x 6) against 72 (864), the precision out of reach:
    # SE ~ 1/sqrt(m), so nine times the pairs, a third of the standard errors
    place = random_instance(3, n_agencies=6, n_streams=8, n_interventions=10)
    s = solve_place(tmp_path, place).scenario("pooled")
    few = fair_shares(s, exact_limit=5, sample_solves=96, precision=0.0, workers=Workers(1))
    many = fair_shares(s, exact_limit=5, sample_solves=864, precision=0.0, workers=Workers(1))
    assert few.standard_error is not None and many.standard_error is not None
    assert many.permutations == 9 * few.permutations == 144
    ratio = sum(many.standard_error.values()) / sum(few.standard_error.values())
    assert ratio == pytest.approx(1 / 3, rel=0.35)


def test_stopping_rule_by_hand() -> None:
    # stop at the budget, or after MIN_PAIRS (16) pairs once every SE is on target
    assert sampling_stops(np.array([1.0, 2.0]), 2.0, 16, 100)
    assert not sampling_stops(np.array([1.0, 2.0]), 2.0, 15, 100)  # too few pairs to trust
    assert not sampling_stops(np.array([1.0, 2.01]), 2.0, 40, 100)
    assert sampling_stops(np.array([9.0]), 2.0, 6, 6)  # the budget
    # next check: m (SE / target)^2 pairs predicted, at most 2m, at least m + 1, <= budget
    assert next_round(np.array([3.0]), 2.0, 16, 100) == 32  # 16 x 2.25 = 36, capped at 32
    assert next_round(np.array([2.2, 1.0]), 2.0, 20, 100) == 25  # ceil(20 x 1.21) = 25
    assert next_round(np.array([2.01]), 2.0, 16, 100) == 17  # ceil(16.16) = 17
    assert next_round(np.array([3.0]), 2.0, 80, 100) == 100  # the budget
    # the budget: 1e8 re-solves x columns, at most 16,384 re-solves, 2n re-solves a pair
    assert most_pairs(16_384, 18) == 455
    assert most_pairs(100_000_000 // 156_420, 50) == 6  # 639 re-solves
    assert most_pairs(10, 50) == 2


def test_pair_orders_depend_on_the_seed_and_the_pair_alone() -> None:
    orders = [pair_order(0, k, 7) for k in range(40)]
    assert all(sorted(o) == list(range(7)) for o in orders)
    assert len({tuple(o) for o in orders}) > 30  # 5,040 orders: few repeats
    assert pair_order(0, 39, 7) == orders[39]  # drawn alone, the same
    assert pair_order(1, 0, 7) != orders[0]


def test_results_json_holds_shares_per_scenario(tmp_path: pathlib.Path) -> None:
    from typer.testing import CliRunner

    from optimiser.cli import app

    path = tmp_path / "place.yaml"
    path.write_text(THREE)
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [str(path), "--out", str(out), "--detail"])
    assert done.exit_code == 0, done.output
    document = yaml.safe_load((out / "results.json").read_text())
    assert document["shapley"]["pooled"] == pytest.approx(
        {"a": 230 / 3, "b": 380 / 3, "c": 290 / 3, "d": 0.0})
    assert document["scenarios"]["pooled"]["pooling_game"]["method"] == "exact"
    # --detail's who-gains table has a Shapley-share column (its header may wrap onto two
    # lines): each agency's row carries its share to the pound, 230/3 -> £77, 380/3 -> £127,
    # 290/3 -> £97 and the hospital's £0.
    assert "Shapley" in done.output
    rows = {line.split("  ")[0]: line for line in done.output.splitlines()}
    for agency, share in (("County council", "£77"), ("Primary care trust", "£127"),
                          ("Police", "£97"), ("Hospital", "£0")):
        assert f" {share} " in rows[agency], rows[agency]
