"""A seeded generator of small, valid, varied instances (plain dicts, ready for `yaml.safe_dump`).

It uses only the standard library's `random.Random(seed)`, so a seed gives the same instance on
every run and machine. Figures are round-ish: budgets in tens of thousands, unit costs from a
short list, shares in quarters. Targets are set from what the ring-fenced plan can surely reach,
so they are usually feasible.
"""

from __future__ import annotations

import math
import random
from typing import Any

AGENCY_IDS = ["council", "nhs", "police", "fire", "probation", "dwp", "housing", "schools"]
INTERVENTION_IDS = [
    "reablement",
    "falls_service",
    "virtual_ward",
    "alcohol_team",
    "drug_treatment",
    "night_contact",
    "family_support",
    "street_triage",
    "home_safety",
    "employment_support",
    "crisis_cafe",
    "befriending",
]
OUTCOME_IDS = ["admissions_avoided", "falls_avoided", "crimes_avoided", "wellbeing"]
UNIT_COSTS = [200, 250, 400, 500, 750, 1000, 1200, 1500, 2000, 2500, 4000]
BUDGETS = [40_000, 60_000, 80_000, 100_000, 150_000, 200_000, 300_000]


def _nice(x: float) -> float:
    """Round down to two significant figures (an int when whole)."""
    if x <= 0:
        return 0
    step = 10 ** (math.floor(math.log10(x)) - 1)
    value = math.floor(x / step) * step
    return int(value) if value >= 1 else round(value, 6)


def _per_year(rng: random.Random, base: float, years: int, step: float) -> Any:
    """One figure, or (sometimes) a list rising or falling by `step` a year."""
    if years > 1 and rng.random() < 0.25:
        sign = rng.choice([1, -1])
        return [max(step, base + sign * step * t) for t in range(years)]
    return base


def _years(value: Any, years: int) -> list[float]:
    """A per-year figure as a list."""
    return list(value) if isinstance(value, list) else [value] * years


def random_instance(
    seed: int, n_agencies: int = 3, n_streams: int = 4, n_interventions: int = 6, years: int = 3
) -> dict[str, Any]:
    """A valid instance with ring-fences, pool shares, lags, targets, floors and scenarios."""
    rng = random.Random(seed)
    agencies = [AGENCY_IDS[k] if k < len(AGENCY_IDS) else f"agency_{k}" for k in range(n_agencies)]
    rng.shuffle(agencies)
    intervention_ids = [
        INTERVENTION_IDS[k] if k < len(INTERVENTION_IDS) else f"intervention_{k}"
        for k in range(n_interventions)
    ]
    rng.shuffle(intervention_ids)
    outcome_ids = OUTCOME_IDS[: rng.choice([2, 3])]

    interventions: dict[str, dict[str, Any]] = {}
    for i in intervention_ids:
        cost = rng.choice(UNIT_COSTS)
        body: dict[str, Any] = {
            "name": i.replace("_", " ").capitalize(),
            "agency": rng.choice(agencies),
            "unit": "person-year",
            "unit_cost": _per_year(rng, cost, years, 50),
        }
        if rng.random() < 0.5:
            body["max_units"] = _per_year(
                rng, rng.choice([20, 40, 50, 80, 100, 150, 200]), years, 10
            )
        effects = rng.sample(outcome_ids, rng.choice([1, 1, 2]))
        body["effects"] = {k: rng.choice([0.05, 0.1, 0.2, 0.25, 0.5, 1, 2]) for k in effects}
        gainers = rng.sample(agencies, rng.choice([1, 1, 2]))
        savings = {
            a: round(cost * rng.choice([0.3, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5]) / 10) * 10
            for a in gainers
        }
        losers = [a for a in agencies if a not in gainers]
        if losers and rng.random() < 0.25:
            savings[rng.choice(losers)] = -round(cost * rng.choice([0.1, 0.2, 0.3]) / 10) * 10
        body["savings"] = savings
        lag = min(rng.choice([0, 0, 0, 1, 1, 2]), years)  # a lag is at most the plan
        if lag:
            body["lag"] = lag
        if rng.random() < 0.3:
            body["deadweight"] = rng.choice([0.1, 0.2, 0.3])
        if rng.random() < 0.3:
            body["optimism_bias"] = rng.choice([0.1, 0.15, 0.25, 0.4])
        interventions[i] = body

    streams: dict[str, dict[str, Any]] = {}
    for k in range(n_streams):
        agency = agencies[k] if k < n_agencies else rng.choice(agencies)
        sid = f"{agency}_budget_{k}"
        body = {"agency": agency, "budget": _per_year(rng, rng.choice(BUDGETS), years, 10_000)}
        if rng.random() < 0.4:
            body["ring_fence"] = sorted(
                rng.sample(intervention_ids, rng.choice([0, 1, 1, 2, 2, 3]))
            )
        if rng.random() < 0.6:
            body["pool_share"] = rng.choice([0, 0.25, 0.5, 0.5, 0.75, 1])
        streams[sid] = body

    def fence(sid: str) -> list[str]:
        body = streams[sid]
        if "ring_fence" in body:
            return list(body["ring_fence"])
        return [i for i in intervention_ids if interventions[i]["agency"] == body["agency"]]

    # min_units: a few fenced interventions, costing at most a tenth of a fencing stream
    spare = {s: min(_years(streams[s]["budget"], years)) for s in streams}
    for i in intervention_ids:
        payers = [s for s in streams if i in fence(s)]
        if payers and rng.random() < 0.2:
            s = rng.choice(payers)
            top_cost = max(_years(interventions[i]["unit_cost"], years))
            units = math.floor(0.1 * spare[s] / top_cost)
            cap = min(_years(interventions[i].get("max_units", math.inf), years))
            units = min(units, rng.choice([1, 2, 5, 10]), cap)
            if units >= 1:
                interventions[i]["min_units"] = units
                spare[s] -= units * top_cost

    # targets: a share of what one ring-fenced stream can surely reach on its spare budget
    outcomes: dict[str, dict[str, Any]] = {}
    targeted = [k for k in outcome_ids if rng.random() < 0.4]
    for k in outcome_ids:
        body = {"name": k.replace("_", " ").capitalize()}
        if rng.random() < 0.7:
            body["value"] = rng.choice([50, 100, 200, 400, 1000])
        if k in targeted:
            reach = 0.0
            for s in streams:
                for i in fence(s):
                    e = interventions[i]["effects"].get(k, 0.0)
                    m = (1 - interventions[i].get("deadweight", 0)) * (
                        1 - interventions[i].get("optimism_bias", 0)
                    )
                    cost = max(_years(interventions[i]["unit_cost"], years))
                    cap = min(_years(interventions[i].get("max_units", math.inf), years))
                    reach = max(reach, m * e * min(cap, spare[s] / cost))
            target = _nice(reach * rng.choice([0.2, 0.3, 0.4]) / len(targeted))
            if target > 0:
                body["target"] = target
        outcomes[k] = body
    has_target = any("target" in body for body in outcomes.values())

    agency_map: dict[str, dict[str, Any]] = {}
    for a in agencies:
        body = {"name": a.replace("_", " ").title()}
        held = sum(min(_years(b["budget"], years)) for b in streams.values() if b["agency"] == a)
        if rng.random() < 0.25:
            body["max_net_cost"] = _nice(held * years * rng.choice([0.25, 0.5, 1.0])) if held else 0
        agency_map[a] = body

    roll = rng.random()
    objective = (
        "net_benefit"
        if roll < 0.7 or (roll >= 0.85 and not has_target)
        else ("outcomes" if roll < 0.85 else "cost")
    )

    scenarios: dict[str, dict[str, Any]] = {
        "ring_fenced": {"pooling": False},
        "pooled": {"pooling": True},
        "pooled_fair": {"pooling": True, "incentives": "no_worse_off", "transfers": True},
        "pooled_nwo": {"pooling": True, "incentives": "no_worse_off"},
    }
    sid = rng.choice(sorted(streams))
    scenarios["half_pooled"] = {"pooling": True, "pool_share": {sid: rng.choice([0, 0.25, 0.5])}}
    i = rng.choice(intervention_ids)
    low = max(_years(interventions[i].get("min_units", 0), years))
    kind = rng.choice(["max_units", "unit_cost", "budget"])
    if kind == "max_units":
        override: dict[str, Any] = {
            f"interventions.{i}.max_units": max(low, rng.choice([10, 30, 60]))
        }
    elif kind == "unit_cost":
        cost = max(_years(interventions[i]["unit_cost"], years))
        override = {f"interventions.{i}.unit_cost": _nice(cost * rng.choice([0.5, 0.75]))}
    else:
        override = {f"streams.{sid}.budget": rng.choice(BUDGETS) * 2}
    scenarios["what_if"] = {"pooling": rng.random() < 0.5, "overrides": override}

    return {
        "name": f"Generated place {seed}",
        "currency": "GBP",
        "start_year": 2010,
        "years": years,
        "discount_rate": rng.choice([0, 0.015, 0.035, 0.035, 0.05]),
        "objective": objective,
        "agencies": agency_map,
        "streams": streams,
        "interventions": interventions,
        "outcomes": outcomes,
        "scenarios": scenarios,
    }


def extended_instance(seed: int, **sizes: int) -> dict[str, Any]:
    """`random_instance(seed)` with set-up costs, minimum scales, tiers and carry-over on some
    of its interventions and streams (a second generator, seeded apart, draws them)."""
    instance = random_instance(seed, **sizes)
    rng = random.Random(1_000_003 * (seed + 1))
    years = instance["years"]
    for body in instance["interventions"].values():
        cap = min(_years(body.get("max_units", math.inf), years))
        cost = min(_years(body["unit_cost"], years))
        roll = rng.random()
        if roll < 0.45:
            body["setup_cost"] = _nice(cost * rng.choice([2, 5, 10, 20, 40]))
        if roll < 0.2 or 0.45 <= roll < 0.6:
            scale = rng.choice([2, 5, 10, 20, 40])
            if scale <= cap:
                body["min_scale"] = scale
        if rng.random() < 0.35:
            n = rng.choice([2, 2, 3])
            scales = sorted(rng.sample([1, 0.9, 0.75, 0.6, 0.5, 0.3, 0.1, 0], n), reverse=True)
            widths = rng.sample([5, 10, 20, 30, 50], n - 1)
            body["tiers"] = [{"units": w, "scale": s} for w, s in zip(widths, scales, strict=False)]
            body["tiers"].append({"scale": scales[-1]})
    for body in instance["streams"].values():
        if rng.random() < 0.35:
            body["carry_over"] = True
    for scenario in instance["scenarios"].values():  # no override may undercut a min_scale
        for key, value in (scenario.get("overrides") or {}).items():
            parts = key.split(".")
            if parts[0] == "interventions" and parts[-1] == "max_units":
                body = instance["interventions"][parts[1]]
                if body.get("min_scale", 0) > min(_years(value, years)):
                    del body["min_scale"]
    return instance
