"""Committed plans: every committed figure against an independent recomputation from
draw_figures.csv and the plan, written here from SPEC's formula ('Committed plans under
uncertainty'), on generated instances the project has never seen."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from gen import random_instance
from reference import apply_overrides, load_instance

from optimiser.analyses.uncertainty import run_uncertainty
from optimiser.pipeline import RunResult, run
from optimiser.reports.write import write_uncertainty

BEATS, WORSE, TARGET_TOL = 1e-7, 1e-6, 1e-6
"""The rules results.json's uncertainty_method states."""


def with_ranges(seed: int) -> dict[str, Any]:
    """A generated place with ranges on unit costs, savings, deadweight and optimism bias,
    and a named figure with a range used by two interventions' savings."""
    data = random_instance(seed, n_agencies=3, n_streams=4, n_interventions=5, years=3)
    rng = random.Random(seed)
    touched = {key.split(".")[1] for body in data["scenarios"].values()
               for key in body.get("overrides", {}) if key.startswith("interventions.")}
    free = [i for i in data["interventions"] if i not in touched]
    data["figures"] = {"shared_price": {"value": 100, "low": 40, "high": 190,
                                        "source": "made up for the test"}}
    for n, i in enumerate(free):
        body = data["interventions"][i]
        cost = body["unit_cost"]
        if not isinstance(cost, list) and rng.random() < 0.7:
            body["unit_cost"] = {"low": cost * 0.7, "central": cost, "high": cost * 1.6}
        elif isinstance(cost, list):
            body["unit_cost"] = [cost[0], {"low": cost[1] * 0.8, "central": cost[1],
                                           "high": cost[1] * 1.3}, *cost[2:]]
        if rng.random() < 0.6:
            body["optimism_bias"] = {"low": 0.0, "central": 0.2, "high": 0.9}
        if rng.random() < 0.4:
            body["deadweight"] = {"low": 0.05, "central": 0.1, "high": 0.3}
        agency = next(iter(body["savings"]))
        saving = body["savings"][agency]
        if n < 2:  # the shared price moves both interventions' savings together
            body["savings"][agency] = f"{saving / 100:g} * shared_price"
        elif rng.random() < 0.5:
            body["savings"][agency] = {"low": saving * 0.5, "central": saving,
                                       "high": saving * 1.2}
    return data


def place(tmp_path: Path, seed: int) -> Path:
    path = tmp_path / f"place{seed}.yaml"
    path.write_text(yaml.safe_dump(with_ranges(seed), sort_keys=False), encoding="utf-8")
    return path


def read_draws(path: Path) -> list[dict[str, float]]:
    """draw_figures.csv as one {figure: value} per draw."""
    draws: list[dict[str, float]] = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            d = int(row["draw"])
            while len(draws) <= d:
                draws.append({})
            draws[d][row["figure"]] = float(row["value"])
    return draws


def central(value: Any) -> float:
    return float(value["central"]) if isinstance(value, dict) else float(value)


def per_year(value: Any, years: int, default: float) -> list[float]:
    if value is None:
        return [default] * years
    if isinstance(value, list):
        return [central(v) for v in value]
    return [central(value)] * years


def recompute(inst: dict[str, Any], name: str, plan: dict[str, Any],
              draws: list[dict[str, float]]) -> list[tuple[float, dict[str, float], bool]]:
    """(objective, net by agency, every target met) of the scenario's committed plan in each
    draw, from SPEC's words, one loop at a time."""
    scenario = inst["scenarios"][name]
    body = apply_overrides(inst, scenario.get("overrides"))
    years, rate = body["years"], body.get("discount_rate", 0.035)
    disc = [(1 + rate) ** -t for t in range(years)]
    agencies = list(body["agencies"])
    stream_agency = {s: b["agency"] for s, b in body["streams"].items()}
    units, funding, transfers = plan["units"], plan["funding"], plan["transfers"]
    out = []
    for values in draws:
        objective = 0.0
        spend = dict.fromkeys(agencies, 0.0)
        savings = dict.fromkeys(agencies, 0.0)
        outcome = {k: [0.0] * years for k in body["outcomes"]}
        for i, item in body["interventions"].items():
            at = f"interventions.{i}"
            written = per_year(item["unit_cost"], years, 0.0)
            cost = [values.get(f"{at}.unit_cost", values.get(f"{at}.unit_cost[{t}]", c))
                    for t, c in enumerate(written)]
            cap = per_year(item.get("max_units"), years, math.inf)
            dead = values.get(f"{at}.deadweight", central(item.get("deadweight", 0)))
            bias = values.get(f"{at}.optimism_bias", central(item.get("optimism_bias", 0)))
            m = (1 - dead) * (1 - bias)
            effects = {k: m * values.get(f"{at}.effects.{k}", central(v))
                       for k, v in item.get("effects", {}).items()}
            saves = {a: m * values.get(f"{at}.savings.{a}", central(v))
                     for a, v in item.get("savings", {}).items()}
            lag = item.get("lag", 0)
            for t in range(years):
                money = units[i][t] * written[t]
                x = units[i][t] if cost[t] == 0 else min(cap[t], money / cost[t])
                spent = cost[t] * x
                used = spent / money if money > 0 else 0.0
                for s, paid in funding.items():
                    spend[stream_agency[s]] += disc[t] * paid.get(i, [0.0] * years)[t] * used
                for k, e in effects.items():
                    outcome[k][t] += e * x
                if t + lag < years:
                    for a, g in saves.items():
                        savings[a] += disc[t + lag] * g * x
                if body.get("objective", "net_benefit") == "cost":
                    objective += disc[t] * spent
                elif body.get("objective", "net_benefit") == "net_benefit":
                    objective -= disc[t] * spent
        for k, spec in body["outcomes"].items():
            value = spec.get("value")
            kind = body.get("objective", "net_benefit")
            if kind == "net_benefit":
                objective += sum(disc[t] * (value or 0) * outcome[k][t] for t in range(years))
            elif kind == "outcomes":
                weight = 1.0 if value is None else value
                objective += sum(disc[t] * weight * outcome[k][t] for t in range(years))
        if body.get("objective", "net_benefit") == "net_benefit":
            objective += sum(savings.values())
        met = all(outcome[k][t] >= target - TARGET_TOL * max(1.0, abs(target))
                  for k, spec in body["outcomes"].items() if spec.get("target") is not None
                  for t, target in enumerate(per_year(spec["target"], years, 0.0)))
        net = {a: savings[a] - spend[a] + transfers.get(a, 0.0) for a in agencies}
        out.append((objective, net, met))
    return out


def plan_of(result: RunResult, name: str) -> dict[str, Any] | None:
    """The scenario's published plan: units per intervention and year, each stream's money,
    and the transfers agreed (in minus out), as results.json lists them."""
    s = result.scenario(name)
    if s.status != "optimal":
        return None
    years = sorted(s.allocation["year"].unique())
    units = {i: [float(v) for v in group.sort_values("year")["units"]]
             for i, group in s.allocation.groupby("intervention")}
    funding: dict[str, dict[str, list[float]]] = {}
    for row in s.funding.itertuples(index=False):
        funding.setdefault(row.stream, {}).setdefault(row.intervention, [0.0] * len(years))
        funding[row.stream][row.intervention][years.index(row.year)] += row.amount
    transfers: dict[str, float] = {}
    for payer, payee, amount in zip(s.transfers["from"], s.transfers["to"],
                                    s.transfers["amount"], strict=True):
        transfers[payee] = transfers.get(payee, 0.0) + amount
        transfers[payer] = transfers.get(payer, 0.0) - amount
    return {"units": units, "funding": funding, "transfers": transfers}


@pytest.mark.parametrize("seed", [3, 27])
def test_committed_figures_match_an_independent_recomputation(tmp_path: Path,
                                                              seed: int) -> None:
    path = place(tmp_path, seed)
    result = run(path, ranges=False)
    n = 80
    run_uncertainty(result, n, seed, workers=1)
    write_uncertainty(result, tmp_path)
    draws = read_draws(tmp_path / "draw_figures.csv")
    assert len(draws) == n
    assert all("figures.shared_price" in d for d in draws)
    inst = load_instance(path)
    maximise = inst.get("objective", "net_benefit") != "cost"
    worked = {}
    for name in inst["scenarios"]:
        plan = plan_of(result, name)
        worked[name] = None if plan is None else recompute(inst, name, plan, draws)
    doc = result.analyses["uncertainty"]
    checked = 0
    for name, entry in doc.items():
        committed = entry["committed"]
        mine = worked[name]
        if mine is None:
            assert committed["mean"] is None and committed["no_plan"] == n
            continue
        objective = np.array([o for o, _, _ in mine])
        assert committed["mean"] == pytest.approx(math.fsum(objective) / n, rel=1e-6, abs=1e-6)
        for key, q in (("p5", 5), ("p50", 50), ("p95", 95)):
            assert committed[key] == pytest.approx(np.percentile(objective, q), rel=1e-6,
                                                   abs=1e-6)
        assert committed["p_targets_met"] == sum(m for _, _, m in mine) / n
        reference = committed["reference"]
        theirs = worked.get(reference) if reference else None
        if theirs is None:
            assert committed["p_beats_reference"] is None
            continue
        ref = np.array([o for o, _, _ in theirs])
        margin = BEATS * np.maximum(1.0, np.abs(ref))
        better = objective > ref + margin if maximise else objective < ref - margin
        assert committed["p_beats_reference"] == better.sum() / n
        for a in inst["agencies"]:
            worse = 0
            for (_, net, _), (_, ref_net, _) in zip(mine, theirs, strict=True):
                scale = max(1.0, max(abs(v) for v in net.values()),
                            max(abs(v) for v in ref_net.values()))
                worse += net[a] < ref_net[a] - WORSE * scale
            assert committed["p_worse_off"][a] == worse / n, (name, a)
        checked += 1
    assert checked >= 2


def test_a_named_range_moves_every_use_in_draw_figures(tmp_path: Path) -> None:
    path = place(tmp_path, 3)
    result = run(path, ranges=False)
    run_uncertainty(result, 30, 1, workers=1)
    write_uncertainty(result, tmp_path)
    draws = read_draws(tmp_path / "draw_figures.csv")
    uses = {k: v for k, v in result.prepared.source.uses.items() if v.factors}
    assert len(uses) == 2
    for d in draws:
        price = d["figures.shared_price"]
        assert 40 <= price <= 190
        for path, use in uses.items():
            label = ".".join(str(p) for p in path)
            assert d[label] == pytest.approx(use.coefficient * price, rel=1e-12)


def one_year(interventions: dict[str, Any], budget: float) -> dict[str, Any]:
    return {"name": "Hand-solved", "start_year": 2010, "years": 1, "discount_rate": 0.0,
            "agencies": {"nhs": {"name": "NHS"}},
            "streams": {"health": {"agency": "nhs", "budget": budget}},
            "interventions": interventions, "outcomes": {"falls": {"name": "Falls"}},
            "scenarios": {"as_written": {"pooling": False}}}


@pytest.mark.parametrize(("body", "budget", "expected"), [
    # Ward: 10 a unit (8 to 12.5), saves 14 a unit, set-up 200, at most 100. Centrally
    # 1000 pays the set-up and 80 units: 80 * 14 - 1000 = 120. Committed, the 800 left
    # after the set-up buys 800 / c units: at 8, 100 (the cap): 1400 - 800 - 200 = 400;
    # at 12.5, 64: 896 - 1000 = -104.
    ({"unit_cost": {"low": 8, "central": 10, "high": 12.5}, "max_units": 100,
      "setup_cost": 200, "savings": {"nhs": 14}}, 1000, [400, -104, 120]),
    # Falls: 5 a unit (4 to 10); the first 50 units save 8 each, the next 50 4 each, the
    # rest 0.8. Centrally 50 units, 250: 400 - 250 = 150. Committed, 250 buys at 4 62.5
    # units, 50 + 12.5 * 0.5 = 56.25 effective: 450 - 250 = 200; at 10, 25: 200 - 250 = -50.
    ({"unit_cost": {"low": 4, "central": 5, "high": 10}, "max_units": 300,
      "tiers": [{"units": 50, "scale": 1}, {"units": 50, "scale": 0.5}, {"scale": 0.1}],
      "savings": {"nhs": 8}, "effects": {"falls": 1}}, 1000, [200, -50, 150]),
])
def test_committed_set_up_costs_and_tiers_by_hand(tmp_path: Path, body: dict[str, Any],
                                                  budget: float, expected: list[float]
                                                  ) -> None:
    from optimiser.analyses.committed import commitment, evaluate
    from optimiser.analyses.uncertainty import make_plan

    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(one_year({"x": {"agency": "nhs", **body}}, budget)),
                    encoding="utf-8")
    result = run(path, ranges=False)
    scenario = make_plan(result).scenarios[0]
    promise = commitment(result.scenario("as_written"), scenario.data)
    assert promise is not None
    got = evaluate(promise, scenario.data, scenario.slots, np.array([[0.0], [1.0], [np.nan]]))
    assert got.objective == pytest.approx(expected, rel=1e-9)
    assert got.objective[2] == pytest.approx(result.scenario("as_written").objective, rel=1e-9)
