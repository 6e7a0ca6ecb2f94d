"""Property-based tests (hypothesis), deterministic and modest in size.

1. Generated valid places: every plan the command reports passes the independent
   feasibility check (`reference.check_plan`); every infeasible scenario's least
   shortfall, applied to the instance, makes it feasible for the reference solver,
   and relaxing a little less leaves it infeasible.
2. Valid places mutated into invalid ones: each is rejected with exit 2, one message
   naming the file and a line, no traceback, nothing written.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from gen import random_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import check_plan, positions_of, scenarios_of, solve_scenario
from solved import results_only
from typer.testing import CliRunner

from optimiser.cli import app

Instance = dict[str, Any]
PROPERTY = settings(derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

places = st.builds(
    lambda seed, agencies, streams, interventions, years, harder: _harder(
        random_instance(seed, agencies, streams, interventions, years), harder),
    seed=st.integers(0, 10**6), agencies=st.integers(2, 4), streams=st.integers(1, 5),
    interventions=st.integers(3, 7), years=st.integers(1, 3),
    harder=st.sampled_from([1, 10, 100]),
)


def _harder(instance: Instance, factor: float) -> Instance:
    """Targets and minimum units times `factor`, so some scenarios become infeasible."""
    for body in instance["outcomes"].values():
        if "target" in body:
            body["target"] = _scaled(body["target"], factor)
    for body in instance["interventions"].values():
        if "min_units" in body:
            body["min_units"] = _scaled(body["min_units"], factor)
            cap = body.get("max_units")
            if cap is not None:  # keep min_units <= max_units, which validation demands
                body["max_units"] = _scaled(cap, factor)
    for scenario in instance["scenarios"].values():
        for key in list(scenario.get("overrides", {})):
            if key.endswith(".max_units"):  # an override may not undercut the new minimum
                item = instance["interventions"][key.split(".")[1]]
                least = max(_years(item.get("min_units", 0), instance["years"]))
                scenario["overrides"][key] = max(scenario["overrides"][key], least)
    return instance


def _scaled(value: Any, factor: float) -> Any:
    return [v * factor for v in value] if isinstance(value, list) else value * factor


def _years(value: Any, years: int) -> list[float]:
    return list(value) if isinstance(value, list) else [value] * years


def run_cli(instance: Instance, tmp: Path) -> tuple[int, dict[str, Any]]:
    """The command's exit status and results.json for the place (no analyses); only
    results.json is written, the one file these tests read."""
    path = tmp / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    return results_only(path, tmp / "out")


@settings(PROPERTY, max_examples=16)
@given(instance=places)
def test_every_reported_plan_is_feasible(instance: Instance, tmp_path_factory: Any) -> None:
    code, results = run_cli(instance, tmp_path_factory.mktemp("place"))
    tool = results["scenarios"]
    scenarios = scenarios_of(instance)
    assert code == (0 if all(e["status"] == "optimal" for e in tool.values()) else 1)
    for name, entry in tool.items():
        reference = scenarios[name].reference if scenarios[name].incentives == (
            "no_worse_off") else None
        if entry["status"] == "optimal":
            ref_entry = tool[reference] if reference else None
            assert check_plan(instance, name, entry, 1e-6, ref_entry) == [], name
        elif entry["status"] == "infeasible" and "diagnosis" in entry:
            pref = positions_of(tool[reference]) if reference else None
            _least_shortfall_is_feasible(instance, name, entry["diagnosis"], pref)


def _least_shortfall_is_feasible(instance: Instance, name: str, diagnosis: list[dict[str, Any]],
                                 pref: dict[str, float] | None) -> None:
    """Relaxing each requirement by its shortfall makes the scenario feasible, and the
    shortfalls are the least: relaxing each by 99.9% of it leaves the scenario
    infeasible (a plan that fit would fall short by less in total, weighted as the
    elastic model weighs it)."""
    assert diagnosis, f"{name}: infeasible but no shortfall named"
    if any(entry["constraint"] == "no_worse_off" for entry in diagnosis):
        return  # reference positions are not in the instance, so cannot be relaxed there
    for entry in diagnosis:
        assert entry["shortfall"] > 0
        assert math.isclose(entry["required"] - entry["shortfall"], entry["achievable"],
                            rel_tol=1e-9, abs_tol=1e-9)
    scenario = scenarios_of(instance)[name]
    slack = 1e-7
    relaxed = _relax(instance, diagnosis, 1 + slack)
    assert solve_scenario(relaxed, scenario, pref)["status"] == "optimal", (name, diagnosis)
    if all(e["shortfall"] >= 1e-3 * max(1.0, abs(e["required"])) for e in diagnosis):
        short = _relax(instance, diagnosis, 0.999)  # 1e-6 of the requirement: past tolerances
        assert solve_scenario(short, scenario, pref)["status"] == "infeasible", (name, diagnosis)


def _relax(instance: Instance, diagnosis: list[dict[str, Any]], share: float) -> Instance:
    """The instance with each requirement in `diagnosis` relaxed by `share` of its shortfall."""
    out = copy.deepcopy(instance)
    start, years = out["start_year"], out["years"]
    for entry in diagnosis:
        give = share * entry["shortfall"]
        if entry["constraint"] == "max_net_cost":
            agency = out["agencies"][entry["item"]]
            agency["max_net_cost"] = agency["max_net_cost"] + give
            continue
        section, field = (("outcomes", "target") if entry["constraint"] == "target"
                          else ("interventions", "min_units"))
        body = out[section][entry["item"]]
        series = _years(body[field], years)
        series[entry["year"] - start] = max(0.0, series[entry["year"] - start] - give)
        body[field] = series
    return out


# --------------------------------------------------------------------------- mutations

Mutation = Callable[[Instance, int], str]
"""Break a valid instance in place (the int picks which element); the message to expect."""


def _pick(mapping: dict[str, Any], n: int) -> str:
    keys = sorted(mapping)
    return keys[n % len(keys)]


def drop_name(inst: Instance, n: int) -> str:
    del inst["name"]
    return "name: is required but missing"


def drop_unit_cost(inst: Instance, n: int) -> str:
    del inst["interventions"][_pick(inst["interventions"], n)]["unit_cost"]
    return "unit_cost: is required but missing"


def misspell_field(inst: Instance, n: int) -> str:
    body = inst["interventions"][_pick(inst["interventions"], n)]
    body["unti_cost"] = body.pop("unit_cost")
    return "unknown field 'unti_cost' (misspelt?); did you mean 'unit_cost'?"


def misspell_top_field(inst: Instance, n: int) -> str:
    inst["discount_rte"] = inst.pop("discount_rate")
    return "did you mean 'discount_rate'?"


def negative_budget(inst: Instance, n: int) -> str:
    inst["streams"][_pick(inst["streams"], n)]["budget"] = -1000
    return "must not be negative (got -1000)"


def negative_cost(inst: Instance, n: int) -> str:
    inst["interventions"][_pick(inst["interventions"], n)]["unit_cost"] = -5.5
    return "must not be negative (got -5.5)"


def share_above_one(inst: Instance, n: int) -> str:
    inst["streams"][_pick(inst["streams"], n)]["pool_share"] = 1.5
    return "must be a share between 0 and 1 (got 1.5)"


def deadweight_above_one(inst: Instance, n: int) -> str:
    inst["interventions"][_pick(inst["interventions"], n)]["deadweight"] = 2
    return "must be a share between 0 and 1 (got 2)"


def unknown_stream_agency(inst: Instance, n: int) -> str:
    inst["streams"][_pick(inst["streams"], n)]["agency"] = "treasury"
    return "unknown agency 'treasury'"


def unknown_effect_outcome(inst: Instance, n: int) -> str:
    inst["interventions"][_pick(inst["interventions"], n)]["effects"]["happiness"] = 1
    return "unknown outcome 'happiness'"


def unknown_pool_share_stream(inst: Instance, n: int) -> str:
    inst["scenarios"]["half_pooled"]["pool_share"] = {"no_such_stream": 0.5}
    return "unknown stream 'no_such_stream'"


def unknown_override_id(inst: Instance, n: int) -> str:
    inst["scenarios"]["what_if"]["overrides"] = {"interventions.no_such_thing.max_units": 5}
    return "there is no 'no_such_thing' in interventions"


def nan_saving(inst: Instance, n: int) -> str:
    body = inst["interventions"][_pick(inst["interventions"], n)]
    body["savings"][_pick(body["savings"], n)] = math.nan
    return "not NaN or infinity (got .nan)"


def infinite_budget(inst: Instance, n: int) -> str:
    inst["streams"][_pick(inst["streams"], n)]["budget"] = math.inf
    return "not NaN or infinity (got .inf)"


def wrong_list_length(inst: Instance, n: int) -> str:
    inst["streams"][_pick(inst["streams"], n)]["budget"] = [1000] * (inst["years"] + 1)
    return f"has {inst['years'] + 1} figures; give one figure, or a list of {inst['years']}"


def fractional_lag(inst: Instance, n: int) -> str:
    inst["interventions"][_pick(inst["interventions"], n)]["lag"] = 1.5
    return "must be a whole number of years (got 1.5)"


def min_above_max(inst: Instance, n: int) -> str:
    body = inst["interventions"][_pick(inst["interventions"], n)]
    body["max_units"], body["min_units"] = 3, 4
    return "min_units 4 is above max_units 3"


def unknown_objective(inst: Instance, n: int) -> str:
    inst["objective"] = "maximum_welfare"
    return "must be one of: net_benefit, outcomes, cost (got 'maximum_welfare')"


def unknown_incentives(inst: Instance, n: int) -> str:
    inst["scenarios"]["pooled_fair"]["incentives"] = "fair"
    return "must be one of: none, no_worse_off (got 'fair')"


def odd_id(inst: Instance, n: int) -> str:
    old = _pick(inst["agencies"], n)
    inst["agencies"]["Agency " + old.upper()] = inst["agencies"].pop(old)
    return f"'Agency {old.upper()}' is not a valid id"


def discount_rate_minus_one(inst: Instance, n: int) -> str:
    inst["discount_rate"] = -1 - (n % 3)
    return "must be above -1"


MUTATIONS: list[Mutation] = [
    drop_name, drop_unit_cost, misspell_field, misspell_top_field, negative_budget,
    negative_cost, share_above_one, deadweight_above_one, unknown_stream_agency,
    unknown_effect_outcome, unknown_pool_share_stream, unknown_override_id, nan_saving,
    infinite_budget, wrong_list_length, fractional_lag, min_above_max, unknown_objective,
    unknown_incentives, odd_id, discount_rate_minus_one,
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.__name__ for m in MUTATIONS])
@settings(PROPERTY, max_examples=3)
@given(seed=st.integers(0, 10**6), which=st.integers(0, 20))
def test_mutated_instances_are_rejected(mutation: Mutation, seed: int, which: int,
                                        tmp_path_factory: Any) -> None:
    instance = random_instance(seed)
    expected = mutation(instance, which)
    tmp = tmp_path_factory.mktemp("bad")
    path = tmp / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    done = CliRunner().invoke(app, [str(path), "--out", str(tmp / "out")])
    assert done.exit_code == 2, (mutation.__name__, done.output)
    assert "Traceback" not in done.output
    assert done.stderr.startswith("optimise: ") and f"{path}, line " in done.stderr
    assert expected in done.stderr, done.stderr
    assert not (tmp / "out").exists()
