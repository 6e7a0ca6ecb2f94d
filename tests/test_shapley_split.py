"""Exact fair shares with the Gray-code walk cut into parts and spread over processes: the
same shares as one walk in one process, and as every coalition solved afresh."""

from __future__ import annotations

import itertools
import pathlib

import pytest
import yaml
from gen import random_instance
from test_shapley import brute_force_shapley, coalition_scenarios, solve_place

import optimiser.solving.highs
from optimiser.analyses import run_analyses
from optimiser.analyses.shapley import (
    WALK_PART,
    fair_shares,
    game_scenarios,
    gray_walk,
    pooling_game,
    walk_parts,
)
from optimiser.pipeline import run
from optimiser.solving.highs import parts
from optimiser.workers import Workers


def test_gray_walk_visits_every_coalition_one_agency_at_a_time() -> None:
    walk = gray_walk(5)
    assert sorted(walk) == list(range(32))
    assert walk[:4] == [0, 1, 3, 2]
    assert all(bin(a ^ b).count("1") == 1 for a, b in itertools.pairwise(walk))


def test_walk_parts_depend_on_the_players_not_the_workers(tmp_path: pathlib.Path) -> None:
    s = solve_place(tmp_path, random_instance(2, n_agencies=5, n_streams=6,
                                              n_interventions=8)).scenario("pooled")
    game, _ = pooling_game(s)
    # 93 columns: 2^5 coalitions x 93 < WALK_SPLIT (200,000), one part; 2^12 x 93 is
    # more, two parts (PARTS); past WALK_PART = 2^12, one per 2^12 coalitions
    assert len(game.lp.columns) == 93
    assert walk_parts(game.lp, 5) == 1
    assert walk_parts(game.lp, 12) == 2
    assert walk_parts(game.lp, 14) == 4
    assert walk_parts(game.lp, 16) == (1 << 16) // WALK_PART == 16
    # parts run side by side in threads from PARALLEL_WORK (200,000): 2^5 x 93 = 2,976
    # re-solves x columns is less (in turn, were the walk cut), 2^12 x 93 = 380,928 more
    assert parts(game.lp, 1 << 5) == 1
    assert parts(game.lp, 1 << 12) == 2


def test_parts_walked_in_turn_equal_parts_in_threads(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    place = random_instance(2, n_agencies=5, n_streams=6, n_interventions=8)
    turn = fair_shares(solve_place(tmp_path, place).scenario("pooled"), split_in=2)
    monkeypatch.setattr(optimiser.solving.highs, "PARALLEL_WORK", 1)  # threads
    threads = fair_shares(solve_place(tmp_path, place, "again.yaml").scenario("pooled"),
                          split_in=2)
    assert turn.method == threads.method == "exact" and turn.gain is not None
    assert turn.gain > 0 and turn.solves == threads.solves
    assert turn.shares == threads.shares  # each part from the same start: the same bits


def test_shares_do_not_depend_on_the_analyses_before(tmp_path: pathlib.Path) -> None:
    # The walk starts at ring-fencing from the basis the ring-fenced scenario's cold solve
    # ended on and runs on fresh copies of the model, so the ring-fence prices' re-solves
    # on the same model before it (its HiGHS left at another basis, with a history of its
    # own) leave the shares the very same to the bit. Solved with the position ranges, as
    # the command solves a place: stage 1's bases are kept for the scenarios it reports.
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(random_instance(1, n_agencies=4, n_streams=6,
                                                   n_interventions=8, years=3),
                                   sort_keys=False))
    alone = fair_shares(run(path).scenario("pooled"))
    after = run(path)
    run_analyses(after, ["ring_fence_prices"])
    then = fair_shares(after.scenario("pooled"))
    assert alone.method == then.method == "exact"
    assert alone.gain is not None and alone.gain > 0
    assert then.solves == alone.solves
    assert then.shares == alone.shares


def test_split_over_two_processes_equals_one_process(tmp_path: pathlib.Path) -> None:
    place = random_instance(2, n_agencies=6, n_streams=8, n_interventions=10)
    path_result = solve_place(tmp_path, place)
    one = fair_shares(path_result.scenario("pooled"))  # one walk, this process
    assert one.method == "exact" and len(one.players) >= 5
    assert one.gain is not None and one.gain > 0
    s = solve_place(tmp_path, place, "again.yaml").scenario("pooled")
    two = fair_shares(s, split_in=2, workers=Workers(2))
    assert two.solves == one.solves
    assert two.gain == pytest.approx(one.gain, rel=1e-9)
    for a, share in one.shares.items():
        assert two.shares[a] == pytest.approx(share, rel=1e-9, abs=1e-9 * one.gain), a
    # the same cut walked by one process: the very same figures, whoever walks the parts
    s = solve_place(tmp_path, place, "third.yaml").scenario("pooled")
    here = fair_shares(s, split_in=2, workers=Workers(1))
    assert here.shares == two.shares


def test_split_walk_matches_every_coalition_solved_afresh(tmp_path: pathlib.Path) -> None:
    # Every coalition solved again from scratch as a scenario of its own (pool_share 0
    # outside it), and Shapley's formula over every joining order (test_shapley).
    place = random_instance(0, n_agencies=4, n_streams=5, n_interventions=6)
    mine = solve_place(tmp_path, place, "mine.yaml")
    s = game_scenarios(mine)[0]
    found = fair_shares(s, split_in=3, workers=Workers(2))
    place["scenarios"] = coalition_scenarios(place, s.name)
    fresh = solve_place(tmp_path, place, "fresh.yaml")
    ids = list(place["agencies"])
    values = {}
    for mask in range(1 << len(ids)):
        solved = fresh.scenario(f"c{mask}")
        assert solved.status == "optimal"
        values[frozenset(a for n, a in enumerate(ids) if mask >> n & 1)] = solved.objective
    sign = -1.0 if place["objective"] == "cost" else 1.0
    expected = brute_force_shapley(values, ids, sign)
    gain = sign * (values[frozenset(ids)] - values[frozenset()])
    assert found.method == "exact"
    assert gain > 1000
    assert found.gain == pytest.approx(gain, rel=1e-6)
    for a in ids:
        assert found.shares[a] == pytest.approx(expected[a], rel=1e-6, abs=1e-6 * gain), a


def test_sampled_shares_are_the_same_on_one_and_two_processes(tmp_path: pathlib.Path) -> None:
    # Sampled (the exact limit lowered to 5 for 6 agencies): each antithetic pair is
    # drawn from (seed, its number) and walked on its own copy of the model from the
    # same start, so the very same shares whoever walks which pair. Each run solves the
    # place afresh, so both start from the same model.
    place = random_instance(2, n_agencies=6, n_streams=8, n_interventions=10)
    one = fair_shares(solve_place(tmp_path, place).scenario("pooled"), exact_limit=5,
                      workers=Workers(1))
    two = fair_shares(solve_place(tmp_path, place, "again.yaml").scenario("pooled"),
                      exact_limit=5, workers=Workers(2))
    assert one.method == two.method == "sampled"
    assert one.gain is not None and one.gain > 0
    assert two.shares == one.shares
    assert two.standard_error == one.standard_error
    assert two.sampling == one.sampling
    assert two.solves == one.solves
    other = fair_shares(solve_place(tmp_path, place, "third.yaml").scenario("pooled"),
                        exact_limit=5, workers=Workers(1), seed=1)
    assert other.shares != one.shares  # another seed, other orders


def test_milp_shares_do_not_depend_on_the_analyses_before(tmp_path: pathlib.Path) -> None:
    # A MILP (set-up costs on every other intervention) has no first basis to start the
    # walk from: ring-fencing is solved there from scratch, so the ring-fence prices'
    # re-solves on the same model before the walk (its HiGHS left with their history)
    # leave the shares the very same to the bit. Seed 5 is a place where the walk
    # carried on from whatever HiGHS held gave other last digits.
    place = random_instance(5, n_agencies=4, n_streams=6, n_interventions=8, years=3)
    for k, body in enumerate(place["interventions"].values()):
        if k % 2 == 0:
            body["setup_cost"] = 5000 * (k + 1)
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(place, sort_keys=False))
    first = run(path)
    pooled = first.scenario("pooled")
    assert pooled.lp is not None and pooled.lp.is_mip
    alone = fair_shares(pooled)
    after = run(path)
    run_analyses(after, ["ring_fence_prices"])
    then = fair_shares(after.scenario("pooled"))
    assert alone.method == then.method == "exact"
    assert alone.gain is not None and alone.gain > 0
    assert then.shares == alone.shares
