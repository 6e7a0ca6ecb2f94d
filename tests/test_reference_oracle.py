"""Tests of the oracle itself: the reference solver, the plan checker and the generator.

None of this imports the optimiser; it runs before the core lands.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from gen import random_instance
from reference import (
    apply_overrides,
    check_plan,
    load_instance,
    objective_of,
    positions_of,
    scenarios_of,
    solve_reference,
)

DATA = Path(__file__).parent / "data"
WORKED_ELSEWHERE = {"agreements.yaml"}
"""Data files worked by hand in their own tests (test_agreements), not in expected.yaml."""
DATA_FILES = sorted(p.name for p in DATA.glob("*.yaml")
                    if p.name != "expected.yaml" and p.name not in WORKED_ELSEWHERE)
EXPECTED: dict[str, dict[str, dict[str, Any]]] = yaml.safe_load(
    (DATA / "expected.yaml").read_text(encoding="utf-8")
)
CASES = [(f, s) for f, scenarios in EXPECTED.items() for s in scenarios]
SEEDS = range(25)


def _solved(name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    instance = load_instance(DATA / name)
    return instance, solve_reference(instance)


def _reference_plan(
    instance: dict[str, Any], solved: dict[str, dict[str, Any]], name: str
) -> dict[str, Any] | None:
    scenario = scenarios_of(instance)[name]
    if scenario.incentives != "no_worse_off":
        return None
    assert scenario.reference is not None
    return solved[scenario.reference]["plan"]


# --------------------------------------------------------------------------- hand-solved data


def test_expected_lists_every_data_file() -> None:
    assert sorted(EXPECTED) == DATA_FILES


@pytest.mark.parametrize("name", DATA_FILES)
def test_expected_lists_every_scenario_in_order(name: str) -> None:
    assert list(scenarios_of(load_instance(DATA / name))) == list(EXPECTED[name])


@pytest.mark.parametrize(("name", "scenario"), CASES)
def test_reference_reproduces_hand_answer(name: str, scenario: str) -> None:
    want = EXPECTED[name][scenario]
    got = _solved(name)[1][scenario]
    assert got["status"] == want["status"]
    if want["objective"] is None:
        assert got["objective"] is None
    else:
        assert got["objective"] == pytest.approx(want["objective"], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", DATA_FILES)
def test_reference_plans_pass_their_own_check(name: str) -> None:
    instance, solved = _solved(name)
    for scenario, result in solved.items():
        if result["status"] != "optimal":
            continue
        plan = result["plan"]
        assert (
            check_plan(
                instance,
                scenario,
                plan,
                reference_result=_reference_plan(instance, solved, scenario),
            )
            == []
        ), scenario
        assert objective_of(instance, scenario, plan["units"]) == pytest.approx(
            result["objective"], rel=1e-9, abs=1e-9
        )


def test_hand_plans_are_the_worked_ones() -> None:
    """A few plans the working by hand pins down, not just their objectives."""
    _, solved = _solved("no_worse_off.yaml")
    units = solved["pooled_nwo"]["plan"]["units"]
    assert units["library"][0] == pytest.approx(12)
    assert units["reablement"][0] == pytest.approx(8)
    assert units["clinic"][0] == pytest.approx(0, abs=1e-9)
    assert solved["pooled_nwo"]["positions"]["nhs"] == pytest.approx(20)

    _, solved = _solved("transfers.yaml")
    fair = solved["pooled_fair"]["plan"]
    assert fair["units"]["street_triage"][0] == pytest.approx(2)
    assert sum(a["net"] for a in fair["agencies"].values()) == pytest.approx(70)
    assert fair["agencies"]["nhs"]["net"] >= 20 - 1e-9

    _, solved = _solved("deadweight_optimism.yaml")
    assert solved["pooled"]["plan"]["outcomes"]["falls_avoided"] == [pytest.approx(12)]

    _, solved = _solved("lag.yaml")
    assert solved["ring_fenced"]["plan"]["units"]["prevention"] == pytest.approx([5, 5, 0])
    assert solved["ring_fenced"]["plan"]["units"]["early_years"] == pytest.approx([1, 0, 0])


def test_no_worse_off_uses_given_reference_positions() -> None:
    instance = load_instance(DATA / "no_worse_off.yaml")
    # Keeping the nhs at 50 (not 20) needs 15R >= 150: R = 10, L = 10, objective 150.
    solved = solve_reference(
        instance, reference_positions={"ring_fenced": {"council": 100.0, "nhs": 50.0}}
    )
    assert solved["pooled_nwo"]["objective"] == pytest.approx(150, rel=1e-8)
    assert solved["ring_fenced"]["objective"] == pytest.approx(120)


# --------------------------------------------------------------------------- the plan checker


def _plan(name: str, scenario: str) -> tuple[dict[str, Any], dict[str, Any]]:
    instance, solved = _solved(name)
    return instance, copy.deepcopy(solved[scenario]["plan"])


def _any(problems: list[str], *words: str) -> bool:
    return any(all(w in p for w in words) for p in problems)


def test_check_flags_units_above_max() -> None:
    instance, plan = _plan("ringfence_vs_pooled.yaml", "pooled")
    plan["units"]["reablement"] = [16.0]
    assert _any(check_plan(instance, "pooled", plan), "max_units")


def test_check_flags_units_below_min() -> None:
    instance, plan = _plan("unit_bounds.yaml", "pooled")
    plan["units"]["bad"] = [1.0, 2.0]
    assert _any(check_plan(instance, "pooled", plan), "min_units")


def test_check_flags_spending_across_a_ring_fence() -> None:
    instance, plan = _plan("ringfence_vs_pooled.yaml", "pooled")
    # a valid pooled plan is not a valid ring-fenced one
    problems = check_plan(instance, "ring_fenced", plan)
    assert _any(problems, "ring-fence", "does not pool")


def test_check_flags_the_pooling_limit() -> None:
    instance, plan = _plan("pool_share.yaml", "pooled_all")
    assert check_plan(instance, "pooled_all", plan) == []
    problems = check_plan(instance, "pooled", plan)
    assert _any(problems, "nhs_budget", "pool_share")


def test_check_flags_funding_that_does_not_cover_cost() -> None:
    instance, plan = _plan("ringfence_vs_pooled.yaml", "ring_fenced")
    plan["funding"]["council_budget"]["reablement"] = [90.0]
    assert _any(check_plan(instance, "ring_fenced", plan), "unit_cost * units")


def test_check_flags_budget_overrun() -> None:
    instance, plan = _plan("ringfence_vs_pooled.yaml", "ring_fenced")
    instance = apply_overrides(instance, {"streams.council_budget.budget": 90})
    assert _any(check_plan(instance, "ring_fenced", plan), "over its budget")


def test_check_flags_a_missed_target() -> None:
    instance, plan = _plan("infeasible.yaml", "pooled")
    assert check_plan(instance, "pooled", plan) == []
    easier = apply_overrides(instance, {"outcomes.admissions_avoided.target": 16})
    assert _any(check_plan(easier, "pooled", plan), "below target")


def test_check_flags_misreported_outcomes_and_agencies() -> None:
    instance, plan = _plan("deadweight_optimism.yaml", "pooled")
    plan["outcomes"]["falls_avoided"] = [20.0]  # the raw effect, not the effective one
    plan["agencies"]["council"]["savings"] += 1.0
    problems = check_plan(instance, "pooled", plan)
    assert _any(problems, "outcomes.falls_avoided")
    assert _any(problems, "agencies.council.savings")
    assert _any(problems, "agencies.council.net")


def test_check_flags_a_missing_agency_or_intervention() -> None:
    instance, plan = _plan("transfers.yaml", "pooled")
    del plan["agencies"]["police"]
    del plan["units"]["clinic"]
    problems = check_plan(instance, "pooled", plan)
    assert _any(problems, "units.clinic", "missing")


def test_check_flags_max_net_cost() -> None:
    instance, plan = _plan("max_net_cost.yaml", "pooled")
    plan["funding"] = {"council_budget": {"reablement": [80.0]}}
    plan["agencies"]["council"].update(spend=80.0, net=-80.0)
    plan["agencies"]["nhs"].update(spend=0.0, savings=240.0, net=240.0)
    problems = check_plan(instance, "pooled", plan)
    assert len(problems) == 1
    assert _any(problems, "council", "max_net_cost")


def test_check_flags_no_worse_off() -> None:
    instance, solved = _solved("no_worse_off.yaml")
    pooled = solved["pooled"]["plan"]
    reference = solved["ring_fenced"]["plan"]
    problems = check_plan(instance, "pooled_nwo", pooled, reference_result=reference)
    assert len(problems) == 1
    assert _any(problems, "nhs", "worse off")
    with pytest.raises(ValueError, match="reference_result"):
        check_plan(instance, "pooled_nwo", pooled)


def test_check_flags_transfers() -> None:
    instance, solved = _solved("transfers.yaml")
    reference = solved["ring_fenced"]["plan"]
    fair = copy.deepcopy(solved["pooled_fair"]["plan"])
    assert check_plan(instance, "pooled_fair", fair, reference_result=reference) == []
    fair["agencies"]["police"]["transfers_in"] += 5.0
    fair["agencies"]["police"]["net"] += 5.0
    assert _any(
        check_plan(instance, "pooled_fair", fair, reference_result=reference), "do not balance"
    )
    nwo = copy.deepcopy(solved["pooled_nwo"]["plan"])
    nwo["agencies"]["nhs"].update(transfers_in=1.0, net=nwo["agencies"]["nhs"]["net"] + 1.0)
    nwo["agencies"]["council"].update(
        transfers_out=1.0, net=nwo["agencies"]["council"]["net"] - 1.0
    )
    problems = check_plan(instance, "pooled_nwo", nwo, reference_result=reference)
    assert _any(problems, "no transfers")


def test_check_flags_a_wrong_objective_and_status() -> None:
    instance, plan = _plan("discounting.yaml", "pooled")
    plan["objective"] = 54.1  # undiscounted
    assert _any(check_plan(instance, "pooled", plan), "objective")
    plan["status"] = "infeasible"
    assert check_plan(instance, "pooled", plan) == ["status is 'infeasible', not 'optimal'"]


def test_check_accepts_small_numerical_noise() -> None:
    instance, plan = _plan("objective_cost.yaml", "pooled")
    plan["units"]["community"] = [u * (1 + 1e-9) for u in plan["units"]["community"]]
    assert check_plan(instance, "pooled", plan) == []


# --------------------------------------------------------------------------- model details


def test_scenario_defaults() -> None:
    instance = load_instance(DATA / "ringfence_vs_pooled.yaml")
    scenarios = scenarios_of(instance)
    assert list(scenarios) == ["ring_fenced", "pooled"]
    assert not scenarios["ring_fenced"].pooling
    assert scenarios["pooled"].pooling
    assert scenarios["pooled"].incentives == "none"
    nwo = scenarios_of(
        {
            "scenarios": {
                "a": {"pooling": True},
                "b": {},
                "c": {"pooling": True, "incentives": "no_worse_off"},
            }
        }
    )
    assert nwo["c"].reference == "b"
    assert not nwo["c"].transfers


def test_overrides_set_nested_and_new_keys_without_touching_the_original() -> None:
    base = {"a": {"b": {"c": 1}}, "l": [1, 2, 3]}
    out = apply_overrides(base, {"a.b.c": 2, "a.b.d": [4], "l.1": 9})
    assert out == {"a": {"b": {"c": 2, "d": [4]}}, "l": [1, 9, 3]}
    assert base == {"a": {"b": {"c": 1}}, "l": [1, 2, 3]}


def test_discount_and_lag_enter_objective_of() -> None:
    instance = load_instance(DATA / "discounting.yaml")
    units = {"bridging": [0.0, 0.0, 1.0], "visits": [0.0, 0.0, 0.0]}
    # delivered in the last year, the saving falls outside the horizon
    assert objective_of(instance, "pooled", units) == pytest.approx(-100 / 1.21)
    units = {"bridging": [1.0, 0.0, 0.0], "visits": [0.0, 1.0, 0.0]}
    assert objective_of(instance, "pooled", units) == pytest.approx(-100 + 120 / 1.1 + 5 / 1.1)


# --------------------------------------------------------------------------- the generator


def _ids_resolve(instance: dict[str, Any]) -> list[str]:
    """Every reference in a generated instance that does not resolve, or is out of range."""
    bad: list[str] = []
    years = instance["years"]
    agencies = set(instance["agencies"])
    streams = instance["streams"]
    interventions = instance["interventions"]
    outcomes = set(instance["outcomes"])

    def per_year_ok(value: Any) -> bool:
        values = value if isinstance(value, list) else [value]
        return (not isinstance(value, list) or len(value) == years) and all(
            isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values
        )

    for a, body in instance["agencies"].items():
        if "max_net_cost" in body and not body["max_net_cost"] >= 0:
            bad.append(f"agencies.{a}.max_net_cost")
    for s, body in streams.items():
        bad += [f"streams.{s}.agency"] if body["agency"] not in agencies else []
        bad += [f"streams.{s}.budget"] if not per_year_ok(body["budget"]) else []
        bad += (
            [f"streams.{s}.ring_fence"]
            if set(body.get("ring_fence", [])) - set(interventions)
            else []
        )
        bad += [f"streams.{s}.pool_share"] if not 0 <= body.get("pool_share", 1) <= 1 else []
    for i, body in interventions.items():
        bad += [f"interventions.{i}.agency"] if body["agency"] not in agencies else []
        bad += [f"interventions.{i}.savings"] if set(body["savings"]) - agencies else []
        bad += [f"interventions.{i}.effects"] if set(body["effects"]) - outcomes else []
        for key in ("unit_cost", "min_units", "max_units"):
            if key in body and not per_year_ok(body[key]):
                bad.append(f"interventions.{i}.{key}")
        lo = body.get("min_units", 0)
        hi = body.get("max_units", math.inf)
        los = lo if isinstance(lo, list) else [lo] * years
        his = hi if isinstance(hi, list) else [hi] * years
        bad += (
            [f"interventions.{i}.min_units"]
            if any(a > b for a, b in zip(los, his, strict=True))
            else []
        )
        for key in ("deadweight", "optimism_bias"):
            bad += [f"interventions.{i}.{key}"] if not 0 <= body.get(key, 0) <= 1 else []
    for name, body in instance["scenarios"].items():
        for s in body.get("pool_share", {}):
            bad += [f"scenarios.{name}.pool_share.{s}"] if s not in streams else []
        if body.get("overrides"):
            try:
                apply_overrides(instance, body["overrides"])
            except (KeyError, IndexError):
                bad.append(f"scenarios.{name}.overrides")
    return bad


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_instance_is_valid_and_reproducible(seed: int) -> None:
    instance = random_instance(seed)
    assert _ids_resolve(instance) == []
    assert random_instance(seed) == instance
    assert yaml.safe_load(yaml.safe_dump(instance, sort_keys=False)) == instance
    scenarios = instance["scenarios"]
    assert scenarios["pooled_fair"] == {
        "pooling": True,
        "incentives": "no_worse_off",
        "transfers": True,
    }
    assert scenarios["pooled_nwo"].get("incentives") == "no_worse_off"
    assert not scenarios["pooled_nwo"].get("transfers", False)
    assert any(body.get("overrides") for body in scenarios.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_plans_of_generated_instances_pass_the_check(seed: int) -> None:
    instance = random_instance(seed)
    solved = solve_reference(instance)
    for name, result in solved.items():
        if result["status"] != "optimal":
            continue
        plan = result["plan"]
        assert (
            check_plan(
                instance, name, plan, reference_result=_reference_plan(instance, solved, name)
            )
            == []
        ), name
        assert objective_of(instance, name, plan["units"]) == pytest.approx(
            result["objective"], rel=1e-7, abs=1e-6
        )


def test_generated_instances_are_varied_and_mostly_feasible() -> None:
    optimal = total = 0
    seen: dict[str, set[Any]] = {"objective": set(), "lag": set(), "share": set()}
    features = {"ring_fence": 0, "max_net_cost": 0, "target": 0, "per_year": 0, "binds": 0}
    for seed in SEEDS:
        instance = random_instance(seed)
        solved = solve_reference(instance)
        total += len(solved)
        optimal += sum(r["status"] == "optimal" for r in solved.values())
        seen["objective"].add(instance["objective"])
        seen["lag"].update(i.get("lag", 0) for i in instance["interventions"].values())
        seen["share"].update(s.get("pool_share") for s in instance["streams"].values())
        features["ring_fence"] += any("ring_fence" in s for s in instance["streams"].values())
        features["max_net_cost"] += any("max_net_cost" in a for a in instance["agencies"].values())
        features["target"] += any("target" in o for o in instance["outcomes"].values())
        features["per_year"] += any(
            isinstance(s["budget"], list) for s in instance["streams"].values()
        )
        if all(solved[n]["status"] == "optimal" for n in ("pooled", "pooled_nwo")):
            features["binds"] += not math.isclose(
                solved["pooled"]["objective"], solved["pooled_nwo"]["objective"], rel_tol=1e-6
            )
    assert optimal >= 0.9 * total
    assert seen["objective"] == {"net_benefit", "outcomes", "cost"}
    assert {0, 1, 2} <= seen["lag"]
    assert len(seen["share"]) >= 4
    assert all(count >= 3 for count in features.values()), features


@pytest.mark.parametrize("seed", SEEDS)
def test_pooling_never_loses_on_generated_instances_in_the_reference(seed: int) -> None:
    instance = random_instance(seed)
    instance.pop("scenarios")
    solved = solve_reference(instance)
    ring, pooled = solved["ring_fenced"], solved["pooled"]
    if ring["status"] != "optimal":
        return
    assert pooled["status"] == "optimal"
    sign = -1.0 if instance["objective"] == "cost" else 1.0
    slack = 1e-7 * max(1.0, abs(ring["objective"]))
    assert sign * pooled["objective"] >= sign * ring["objective"] - slack


def test_generator_honours_its_sizes() -> None:
    small = random_instance(3, n_agencies=2, n_streams=2, n_interventions=3, years=1)
    assert (len(small["agencies"]), len(small["streams"]), len(small["interventions"])) == (
        2,
        2,
        3,
    )
    assert small["years"] == 1
    big = random_instance(4, n_agencies=9, n_streams=12, n_interventions=14, years=5)
    assert len(big["interventions"]) == 14
    assert _ids_resolve(big) == []
    assert all(r["status"] in {"optimal", "infeasible"} for r in solve_reference(big).values())


def test_positions_of_reads_savings_minus_spend() -> None:
    result = {"agencies": {"a": {"spend": 10.0, "savings": 4.0, "net": 99.0}}}
    assert positions_of(result) == {"a": -6.0}
