"""The price of each ring-fence: lift gains and marginal values, by hand and against re-solves."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from reference import load_instance, solve_reference
from reference_milp import solve_milp_reference

from optimiser.analyses import run_analyses
from optimiser.analyses.prices import price_sentences, price_table
from optimiser.pipeline import RunResult, run
from optimiser.reports.write import write_json, write_reports, write_ring_fence_prices

# Two years, r = 0.25, so d = (1, 0.8) and sum_t d_t = 1.8.
#
# reablement (council) costs 10 and saves the NHS 30: +20 a unit, +2 a pound; cap 15.
# clinic (nhs) costs 10 and saves the NHS 12: +2 a unit, +0.2 a pound; no cap.
# Ring-fenced, every year: the council's 100 -> 10 reablement (+200), the NHS's
# 100 -> 10 clinic (+20): 220 a year, z(R) = 220 * 1.8 = 396.
#
# Lift nhs_budget alone (pool_share 0.3): 30 a year leaves the NHS fence for 3
# more reablement (+60) instead of 3 clinic (-6): +54 a year, lift_gain 54 * 1.8 = 97.2.
# Lift council_budget alone (pool_share 1): its money could buy clinic, but
# reablement is better and still under its cap: lift_gain 0.
#
# Marginal values (one more pound a year, both years): council 2 * 1.8 = 3.6
# (0.1 more reablement each year); nhs 0.2 * 1.8 = 0.36 (0.1 more clinic).
# Ranked: nhs_budget 1 (lift_gain 97.2), council_budget 2 (lift_gain 0).
HAND = """\
name: hand
start_year: 2010
years: 2
discount_rate: 0.25
agencies:
  council: {name: County council}
  nhs: {name: Acute trust}
streams:
  council_budget: {agency: council, budget: 100, name: Adult social care}
  nhs_budget: {agency: nhs, budget: 100, pool_share: 0.3, name: Acute budget}
interventions:
  reablement: {agency: council, unit_cost: 10, max_units: 15, savings: {nhs: 30}}
  clinic: {agency: nhs, unit_cost: 10, savings: {nhs: 12}}
"""

# The cost objective (tests/data/objective_cost.yaml): H = 2, r = 0.1, sum_t d_t = 2.1/1.1.
# Target 10 admissions avoided a year; bed_based (council) 10 an admission, community
# (nhs) 4 an admission, cap 6; council 100 a year, nhs 10 a year.
# Ring-fenced: 2.5 community + 7.5 bed_based = 85 a year, z(R) = 85 * 2.1/1.1.
# Lift council_budget: council money buys all 6 community: 64 a year, gain
# 21 * 2.1/1.1 = 40.0909...; lift nhs_budget: nhs money has nothing cheaper to buy: 0.
# A pound more a year for nhs buys 0.25 community instead of 0.25 bed_based:
# cost falls 2.5 - 1 = 1.5 a year, marginal value 1.5 * 2.1/1.1 = 2.8636...;
# the council spends 75 of its 100: marginal value 0.
COST = Path(__file__).parent / "data" / "objective_cost.yaml"


def solved(path: Path) -> RunResult:
    result = run(path, ranges=False)
    run_analyses(result, ["ring_fence_prices"])
    return result


def write(tmp_path: Path, text: str, name: str = "place.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_hand_solved_net_benefit(tmp_path: Path) -> None:
    result = solved(write(tmp_path, HAND))
    assert result.scenario("ring_fenced").objective == pytest.approx(396)
    prices = result.analyses["ring_fence_prices"]
    assert list(prices) == ["nhs_budget", "council_budget"]
    assert prices["nhs_budget"] == pytest.approx(
        {"lift_gain": 97.2, "marginal_value": 0.36, "rank": 1, "reference": "ring_fenced"})
    assert prices["council_budget"] == pytest.approx(
        {"lift_gain": 0.0, "marginal_value": 3.6, "rank": 2, "reference": "ring_fenced"})
    sentences = price_sentences(result)
    assert sentences["nhs_budget"].startswith(
        "The Acute budget ring-fence costs £97 of net benefit against 'ring_fenced'")
    assert "is worth £0.36 of net benefit" in sentences["nhs_budget"]
    assert sentences["council_budget"].startswith(
        "The Adult social care ring-fence costs nothing")


def test_hand_solved_cost() -> None:
    prices = solved(COST).analyses["ring_fence_prices"]
    assert list(prices) == ["council_budget", "nhs_budget"]
    assert prices["council_budget"]["lift_gain"] == pytest.approx(21 * 2.1 / 1.1)
    assert prices["council_budget"]["marginal_value"] == pytest.approx(0.0, abs=1e-9)
    assert prices["nhs_budget"]["lift_gain"] == pytest.approx(0.0, abs=1e-9)
    assert prices["nhs_budget"]["marginal_value"] == pytest.approx(1.5 * 2.1 / 1.1)


def test_without_an_unpooled_scenario_the_reference_is_the_instance_fenced(
        tmp_path: Path) -> None:
    result = solved(write(tmp_path, HAND + "scenarios:\n  pooled: {pooling: true}\n"))
    prices = result.analyses["ring_fence_prices"]
    assert prices["nhs_budget"]["lift_gain"] == pytest.approx(97.2)
    assert prices["council_budget"]["marginal_value"] == pytest.approx(3.6)
    assert {e["reference"] for e in prices.values()} == {"ring_fenced"}


def test_reference_is_the_first_unpooled_scenario_with_its_overrides(tmp_path: Path) -> None:
    # cheap_clinic: clinic costs 5, so it is worth 12 - 5 = 7 a unit, 1.4 a pound, and
    # lifting the NHS fence moves 30 a year into reablement: 3 units (+60) for 6 clinic
    # units (-42): +18 a year, 32.4 in all.
    text = HAND + """\
scenarios:
  pooled: {pooling: true}
  cheap_clinic: {overrides: {interventions.clinic.unit_cost: 5}}
  ring_fenced: {pooling: false}
"""
    prices = solved(write(tmp_path, text)).analyses["ring_fence_prices"]
    assert prices["nhs_budget"]["reference"] == "cheap_clinic"
    assert prices["nhs_budget"]["lift_gain"] == pytest.approx(18 * 1.8)
    assert prices["nhs_budget"]["marginal_value"] == pytest.approx(1.4 * 1.8)


def test_unsolved_reference_gives_no_prices_and_null_json(tmp_path: Path) -> None:
    text = HAND.replace("savings: {nhs: 12}}", "savings: {nhs: 12}, min_units: 100}")
    result = solved(write(tmp_path, text))
    assert result.scenario("ring_fenced").status == "infeasible"
    prices = result.analyses["ring_fence_prices"]
    assert all(e["lift_gain"] is None and e["rank"] is None for e in prices.values())
    write_reports(result, tmp_path / "out", [write_json, write_ring_fence_prices])
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["ring_fence_prices"]["nhs_budget"]["lift_gain"] is None
    assert "unknown" in price_sentences(result)["nhs_budget"]


def test_csv_is_tidy_and_ranked(tmp_path: Path) -> None:
    result = solved(write(tmp_path, HAND))
    write_reports(result, tmp_path / "out", [write_json, write_ring_fence_prices])
    lines = (tmp_path / "out" / "ring_fence_prices.csv").read_text().splitlines()
    assert lines == ["rank,stream,agency,reference,lift_gain,marginal_value",
                     "1,nhs_budget,nhs,ring_fenced,97.2,0.36",
                     "2,council_budget,council,ring_fenced,0,3.6"]
    assert price_table(result)["stream"].tolist() == ["nhs_budget", "council_budget"]


def random_instance(seed: int) -> dict[str, Any]:
    """A random place whose ring-fenced plan is feasible, with binding budgets."""
    rng = np.random.default_rng(seed)
    objective = ["net_benefit", "outcomes", "cost"][seed % 3]
    years = int(rng.integers(1, 4))
    agencies = [f"a{n}" for n in range(3)]
    interventions = {}
    for n in range(6):
        cost = rng.uniform(5, 50, size=years).round(2).tolist()
        interventions[f"i{n}"] = {
            "agency": agencies[n % 3],
            "unit_cost": cost,
            "max_units": float(rng.integers(5, 40)),
            "effects": {"k0": round(float(rng.uniform(0, 2)), 3),
                        "k1": round(float(rng.uniform(0, 1)), 3)},
            "savings": {agencies[int(rng.integers(0, 3))]: round(float(rng.uniform(0, 60)), 2)},
            "lag": int(rng.integers(0, 2)),
            "deadweight": round(float(rng.uniform(0, 0.3)), 2),
        }
    streams = {
        f"s{n}": {"agency": agencies[n % 3],
                  "budget": rng.uniform(100, 400, size=years).round(0).tolist(),
                  "pool_share": float(rng.choice([1.0, 0.5, 0.25]))}
        for n in range(4)
    }
    streams["s3"]["ring_fence"] = ["i0", "i4"]
    outcomes = {"k0": {"value": round(float(rng.uniform(5, 40)), 1)}, "k1": {}}
    if objective == "cost":  # a target that the cheapest fenced options cannot meet alone
        outcomes["k0"]["target"] = 8.0
        for body in streams.values():
            body["budget"] = [round(b / 4) for b in body["budget"]]
    return {"name": f"random {seed}", "years": years, "discount_rate": 0.035,
            "objective": objective, "agencies": {a: {"name": a} for a in agencies},
            "streams": streams, "interventions": interventions, "outcomes": outcomes,
            "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}}}


def gain(instance: dict[str, Any], lifted: float, base: float) -> float:
    return (base - lifted) if instance["objective"] == "cost" else (lifted - base)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 11, 12])
def test_lift_gain_matches_an_independent_resolve(tmp_path: Path, seed: int) -> None:
    """Each lift_gain against a fresh LP (the test oracle) with every other stream's share 0."""
    instance = random_instance(seed)
    prices = solved(write(tmp_path, yaml.safe_dump(instance))).analyses["ring_fence_prices"]
    streams = list(instance["streams"])
    check = dict(instance, scenarios={"ring_fenced": {"pooling": False}, **{
        f"lift_{s}": {"pooling": True, "pool_share": {o: 0.0 for o in streams if o != s}}
        for s in streams}})
    oracle = solve_reference(check)
    base = oracle["ring_fenced"]["objective"]
    assert base is not None
    for s in streams:
        expected = gain(instance, oracle[f"lift_{s}"]["objective"], base)
        assert prices[s]["lift_gain"] == pytest.approx(expected, rel=1e-6,
                                                       abs=1e-7 * max(1.0, abs(base)))
    assert any(e["lift_gain"] > 1e-6 for e in prices.values())
    ranked = sorted(prices.values(), key=lambda e: e["rank"])
    assert [e["lift_gain"] for e in ranked] == sorted((e["lift_gain"] for e in ranked),
                                                      reverse=True)


SHIPPED = sorted((Path(__file__).parent.parent / "instances").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_lift_gains_match_an_independent_resolve(path: Path) -> None:
    """The shipped places' prices against the test oracle, scenario by scenario."""
    instance = load_instance(path)  # named figures written out, libraries beside the file
    result = solved(path)
    prices = result.analyses["ring_fence_prices"]
    reference = next(iter(prices.values()))["reference"]
    body = instance["scenarios"][reference]
    lifts = {f"lift_{s}": {**body, "pooling": True, "pool_share": {
        **body.get("pool_share", {}), **{o: 0.0 for o in instance["streams"] if o != s}}}
        for s in instance["streams"]}
    extended = any(k in item for item in instance["interventions"].values()
                   for k in ("setup_cost", "min_scale", "tiers")) or any(
        s.get("carry_over") for s in instance["streams"].values())
    oracle = (solve_milp_reference if extended else solve_reference)(
        dict(instance, scenarios={reference: body, **lifts}))
    base = oracle[reference]["objective"]
    assert base == pytest.approx(result.scenario(reference).objective, rel=1e-9)
    for s in instance["streams"]:
        expected = gain(instance, oracle[f"lift_{s}"]["objective"], base)
        assert prices[s]["lift_gain"] == pytest.approx(expected, rel=1e-6,
                                                       abs=1e-7 * max(1.0, abs(base)))
    assert sum(e["lift_gain"] > 0 for e in prices.values()) >= 2


@pytest.mark.parametrize("seed", [2, 3, 7, 11])
def test_marginal_value_matches_finite_differences(tmp_path: Path, seed: int) -> None:
    """The dual is a supergradient of the gain: the pound after is worth at most the marginal
    value, the pound before at least it (equal away from kinks, as on these instances)."""
    instance = random_instance(seed)
    prices = solved(write(tmp_path, yaml.safe_dump(instance))).analyses["ring_fence_prices"]
    delta = 1.0  # one pound a year, every year
    scenarios: dict[str, Any] = {"ring_fenced": {"pooling": False}}
    for s, body in instance["streams"].items():
        for name, step in (("up", delta), ("down", -delta)):
            budget = [b + step for b in body["budget"]]
            scenarios[f"{name}_{s}"] = {"overrides": {f"streams.{s}.budget": budget}}
    result = run(write(tmp_path, yaml.safe_dump(dict(instance, scenarios=scenarios)),
                       "fd.yaml"), ranges=False)
    z = {s.name: s.objective for s in result.scenarios}
    scale = 1e-7 * max(1.0, abs(z["ring_fenced"]))
    for s in instance["streams"]:
        after = gain(instance, z[f"up_{s}"], z["ring_fenced"]) / delta
        before = gain(instance, z["ring_fenced"], z[f"down_{s}"]) / delta
        marginal = prices[s]["marginal_value"]
        assert after <= marginal + scale
        assert marginal <= before + scale
        assert marginal == pytest.approx(after, rel=1e-6, abs=scale)
    assert any(abs(e["marginal_value"]) > 1e-6 for e in prices.values())


def test_persistent_model_is_left_as_built(tmp_path: Path) -> None:
    """Pricing restores every pool cap: the pooled objective is unchanged by a re-solve after."""
    from models.pooling import build_model
    from optimiser.analyses.prices import price_ring_fences, reference_run
    from optimiser.place.scenarios import place_data
    from optimiser.solving.highs import compile_lp, reoptimise

    result = solved(write(tmp_path, HAND))
    run_ = reference_run(result.prepared)
    pooled = dataclasses.replace(run_, scenario=run_.scenario.model_copy(update={"pooling": True}))
    data = place_data(pooled)
    lp = compile_lp(build_model(data))
    priced = price_ring_fences(lp, data)
    assert priced is not None
    status, z, _ = reoptimise(lp)
    # Fully pooled (pool_share.yaml's 'pooled'): the council's 100 and the NHS's poolable 30
    # buy 13 reablement (+260), the NHS's other 70 buy 7 clinic (+14): 274 a year.
    assert status == "optimal"
    assert z == pytest.approx(274 * 1.8)
    assert not math.isnan(priced[0].sum())


def _counting_lifts(monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[int, float]], list[int]]:
    """Record what `gains_by_bound_flips` settles and how many lifts are re-solved."""
    from optimiser.analyses import prices as module

    flipped: list[dict[int, float]] = []
    re_solved: list[int] = []
    flips, widened = module.gains_by_bound_flips, module.widened_columns

    def counted_flips(*args: Any) -> dict[int, float]:
        flipped.append(flips(*args))
        return flipped[-1]

    def counted_widened(*args: Any) -> Any:
        re_solved.append(1)
        return widened(*args)

    monkeypatch.setattr(module, "gains_by_bound_flips", counted_flips)
    monkeypatch.setattr(module, "widened_columns", counted_widened)
    return flipped, re_solved


def test_a_lift_the_reference_basis_settles_is_not_re_solved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # HAND, lifting nhs_budget: p[nhs, t] has reduced cost 2 - 0.2 = 1.8 a pound (the pool
    # buys reablement, +2 a pound, with money the NHS spent on clinic, +0.2). Moving p to
    # its cap, 30 a year, with the reference's basis kept: the pool buys 3 more reablement
    # (10 -> 13, within its cap 15) and the NHS 3 fewer clinic (10 -> 7, above 0). Every
    # basic variable stays within its bounds, so the basis is optimal for the lifted model
    # and lift_gain = sum_t 1.8 * 30 * d_t = 54 * 1.8 = 97.2, with no re-solve.
    flipped, re_solved = _counting_lifts(monkeypatch)
    prices = solved(write(tmp_path, HAND)).analyses["ring_fence_prices"]
    assert prices["nhs_budget"]["lift_gain"] == pytest.approx(97.2, rel=1e-12)
    assert flipped == [{1: pytest.approx(97.2, rel=1e-12)}]
    assert re_solved == []  # council_budget prices out (reablement is under its cap)

    # Reablement capped at 12: the same move would take it to 13 units, past its cap, so the
    # basis does not settle the lift and it is re-solved. The pool then buys 2 reablement
    # (+40) with 20 of the NHS's money that bought 2 clinic (-4); the other 10 buys clinic
    # either way: +36 a year, lift_gain 36 * 1.8 = 64.8.
    flipped.clear()
    capped = HAND.replace("max_units: 15", "max_units: 12")
    prices = solved(write(tmp_path, capped, "capped.yaml")).analyses["ring_fence_prices"]
    assert flipped == [{}]
    assert re_solved == [1]
    assert prices["nhs_budget"]["lift_gain"] == pytest.approx(64.8, rel=1e-9)


def test_lifts_settled_by_the_reference_basis_gain_what_their_re_solves_gain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random places and Croydon, priced with the lifts the reference's basis settles left
    unsolved and with every lift re-solved: the same gains (to rounding) and ranking, and
    some lifts settled."""
    paths = [write(tmp_path, yaml.safe_dump(random_instance(seed)), f"r{seed}.yaml")
             for seed in (1, 2, 3, 4)] + [Path(__file__).parent.parent / "instances"
                                          / "croydon.yaml"]
    flipped, _ = _counting_lifts(monkeypatch)
    settled = [solved(p).analyses["ring_fence_prices"] for p in paths]
    from optimiser.analyses import prices as module
    monkeypatch.setattr(module, "gains_by_bound_flips", lambda *args: {})
    every = [solved(p).analyses["ring_fence_prices"] for p in paths]
    assert sum(len(f) for f in flipped) >= 3
    for mine, theirs in zip(settled, every, strict=True):
        assert list(mine) == list(theirs)  # the same ranking
        for stream, entry in theirs.items():
            assert mine[stream]["lift_gain"] == pytest.approx(entry["lift_gain"], rel=1e-9,
                                                              abs=1e-6)
            assert mine[stream]["marginal_value"] == entry["marginal_value"]


def test_the_reference_solved_from_its_kept_basis_prices_as_solved_cold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the reference was solved as a scenario on the same model (a run with the
    position ranges keeps the basis its cold solve ended on), prices start from that
    basis instead of solving the reference again from scratch: every gain and marginal
    value the same to the bit as from the cold solve, and the kept basis used."""
    from optimiser.analyses import prices as module

    root = Path(__file__).parent.parent / "instances"
    paths = [root / "croydon.yaml", root / "worcestershire.yaml",
             write(tmp_path, yaml.safe_dump(random_instance(2)), "r2.yaml")]
    kept, used = module.first_basis, []

    def counted(lp: Any) -> Any:
        used.append(kept(lp))
        return used[-1]

    monkeypatch.setattr(module, "first_basis", counted)
    warm = [run(p) for p in paths]
    for result in warm:
        run_analyses(result, ["ring_fence_prices"])
    monkeypatch.setattr(module, "first_basis", lambda lp: None)
    cold = [run(p) for p in paths]
    for result in cold:
        run_analyses(result, ["ring_fence_prices"])
    assert len(used) == 3 and all(b is not None for b in used)
    for a, b in zip(warm, cold, strict=True):
        assert a.analyses["ring_fence_prices"] == b.analyses["ring_fence_prices"]


@pytest.mark.parametrize("seed", [2, 4])
def test_lifts_split_in_two_price_as_in_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    # Every lift starts from the reference's optimal basis whatever was lifted before it,
    # so the lifts cut in two parts, each on its own copy of the model solving beside the
    # other, give the very same figures as one part on the model itself. (Places of 8
    # streams whose reference basis settles only 2 of the lifts: 6 re-solved.)
    from gen import random_instance as generated

    from optimiser.analyses import prices as module

    text = yaml.safe_dump(generated(seed, n_agencies=4, n_streams=8, n_interventions=8,
                                    years=3), sort_keys=False)
    copies: list[Any] = []
    clone = module.clone

    def counted_clone(lp: Any) -> Any:
        copies.append(lp)
        return clone(lp)

    monkeypatch.setattr(module, "clone", counted_clone)
    one = solved(write(tmp_path, text)).analyses["ring_fence_prices"]
    assert copies == []  # a few lifts of a small model: one part
    monkeypatch.setattr(module, "LIFT_SPLIT", 1)
    two = solved(write(tmp_path, text, "again.yaml")).analyses["ring_fence_prices"]
    assert len(copies) == 1  # two parts: the model and one copy
    assert two == one
    assert any(e["lift_gain"] > 1e-6 for e in one.values())


def test_lifts_split_only_from_lift_split(tmp_path: Path) -> None:
    from optimiser.analyses.prices import LIFT_SPLIT, lift_parts

    lp = solved(write(tmp_path, HAND)).scenario("pooled").lp
    assert lp is not None
    columns = len(lp.columns)
    # lifts x columns from LIFT_SPLIT (4,000,000), and at least two lifts a part
    assert LIFT_SPLIT == 4_000_000
    enough = -(-LIFT_SPLIT // columns)  # the fewest lifts that make the work
    assert lift_parts(lp, enough) == 2
    assert lift_parts(lp, enough - 1) == 1
    assert lift_parts(lp, 3) == 1
