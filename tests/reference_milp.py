"""An independent, deliberately naive MILP of the contract's set-up costs, tiers and carry-over.

It never imports `optimiser` or `models`: it reads the instance with `reference.py`'s plain
YAML handling and builds one `scipy.optimize.milp` per scenario, straight from
docs/contract.md ('The model' and 'Set-up costs, diminishing returns and carried-over
money'), in the contract's own variables:

- `x_it` in `[min_units_it, max_units_it]`;
- `y_it` in {0, 1} for every year of every intervention that gives `setup_cost` or
  `min_scale` (`y_it = 1` where `min_units_it > 0`), with
  `min_scale_it y_it <= x_it <= U_it y_it`; `U_it` is `max_units_it`, or where it has
  none every budget of every year over the unit cost (a bound no plan can pass);
- for a tiered intervention, band units `w_itb` in `[0, u_b]` (the last in `[0, U_it]`)
  with `x_it = sum_b w_itb`, and always a binary `z_itb` per band after the first:
  `w_it,b-1 >= u_b-1 z_itb`, `w_itb <= cap_b z_itb` (bands fill in order; this file
  never asks whether the LP would do it anyway). Effects and savings act on
  `E_it = sum_b s_b w_itb`;
- `f_sit >= 0` (the fence, or every intervention when pooling), `c_st >= 0` for a stream
  with `carry_over` (every year, the last's carried money going nowhere), `z_ab >= 0`.

Rows: funding `sum_s f_sit = unit_cost_it x_it + setup_cost_it y_it`; budget
`sum_i f_sit + c_st - c_s,t-1 <= budget_st`; pooling limit
`sum_{i not in R(s)} f_sit <= pool_share_s budget_st`; targets on `E`; floors and
no_worse_off on `P_a` (savings from `E`). Objective: net_benefit
`sum_t d_t (sum_i value.e_i E_it - unit_cost_it x_it - setup_cost_it y_it) + savings`,
outcomes `sum_t d_t sum_i w.e_i E_it`, cost `sum_t d_t (unit_cost_it x_it + setup_cost_it y_it)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from reference import MAXIMISE, Data, Scenario, apply_overrides, prepare, scenarios_of
from scipy.optimize import Bounds, LinearConstraint, milp


def _per_year(value: Any, years: int) -> list[float]:
    if value is None:
        return [0.0] * years
    if isinstance(value, list):
        return [float(v) for v in value]
    return [float(value)] * years


class _Milp:
    """Columns with bounds and integrality, rows as dicts, built by name."""

    def __init__(self) -> None:
        self.columns: dict[tuple[Any, ...], int] = {}
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.rows: list[dict[int, float]] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []

    def column(self, key: tuple[Any, ...], lower: float, upper: float,
               integer: bool = False) -> int:
        self.columns[key] = len(self.lower)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return self.columns[key]

    def row(self, coefficients: dict[int, float], lower: float, upper: float) -> None:
        self.rows.append(coefficients)
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def solve(self, cost: np.ndarray) -> Any:
        n = len(self.lower)
        r, c, v = [], [], []
        for k, row in enumerate(self.rows):
            for col, val in row.items():
                r.append(k)
                c.append(col)
                v.append(val)
        constraints = []
        if self.rows:
            a = sp.csr_matrix((v, (r, c)), shape=(len(self.rows), n))
            constraints.append(LinearConstraint(a, self.row_lower, self.row_upper))
        return milp(cost, constraints=constraints, integrality=np.array(self.integer),
                    bounds=Bounds(self.lower, self.upper),
                    options={"mip_rel_gap": 1e-9, "presolve": True})


def _extensions(instance: Mapping[str, Any], scenario: Scenario, years: int) -> dict[str, Any]:
    """The new fields of the instance after the scenario's overrides, as plain numbers."""
    inst = apply_overrides(instance, scenario.overrides)
    setup: dict[str, list[float]] = {}
    scale: dict[str, list[float]] = {}
    tiers: dict[str, list[tuple[float, float]]] = {}
    for i, body in (inst.get("interventions") or {}).items():
        if "setup_cost" in body or "min_scale" in body:
            setup[i] = _per_year(body.get("setup_cost"), years)
            scale[i] = _per_year(body.get("min_scale"), years)
        if body.get("tiers"):
            tiers[i] = [(math.inf if band.get("units") is None else float(band["units"]),
                         float(band["scale"])) for band in body["tiers"]]
    carry = [s for s, body in (inst.get("streams") or {}).items() if body.get("carry_over")]
    return {"setup": setup, "scale": scale, "tiers": tiers, "carry": carry}


def _biggest(data: Data, i: str, t: int) -> float:
    """U_it: max_units, or everything every stream could ever spend over the unit cost."""
    if math.isfinite(data.max_units[i][t]):
        return data.max_units[i][t]
    money = sum(sum(b) for b in data.budget.values())
    return money / data.unit_cost[i][t]


def solve_milp_scenario(instance: Mapping[str, Any], scenario: Scenario,
                        pref: Mapping[str, float] | None = None) -> dict[str, Any]:
    """One scenario: {"status", "objective"}, and "positions" and "units" when optimal."""
    data = prepare(instance, scenario)
    ext = _extensions(instance, scenario, data.years)
    model = _Milp()
    years = range(data.years)
    inf = math.inf
    effective: dict[tuple[str, int], dict[int, float]] = {}
    for i in data.interventions:
        for t in years:
            x = model.column(("x", i, t), data.min_units[i][t], data.max_units[i][t])
            effective[i, t] = {x: 1.0}
            if i in ext["setup"]:
                must = data.min_units[i][t] > 0
                y = model.column(("y", i, t), 1.0 if must else 0.0, 1.0, integer=True)
                model.row({x: 1.0, y: -_biggest(data, i, t)}, -inf, 0.0)
                model.row({x: 1.0, y: -ext["scale"][i][t]}, 0.0, inf)
            if i in ext["tiers"]:
                bands = ext["tiers"][i]
                w = [model.column(("w", i, t, b), 0.0,
                                  units if math.isfinite(units) else _biggest(data, i, t))
                     for b, (units, _) in enumerate(bands)]
                model.row({x: 1.0, **{col: -1.0 for col in w}}, 0.0, 0.0)
                for b in range(1, len(bands)):
                    z = model.column(("z", i, t, b), 0.0, 1.0, integer=True)
                    model.row({w[b - 1]: 1.0, z: -bands[b - 1][0]}, 0.0, inf)
                    model.row({w[b]: 1.0, z: -model.upper[w[b]]}, -inf, 0.0)
                effective[i, t] = {col: scale for col, (_, scale) in zip(w, bands, strict=True)}
    for s in data.streams:
        allowed = data.interventions if scenario.pooling else sorted(data.fence[s])
        for i in allowed:
            for t in years:
                model.column(("f", s, i, t), 0.0, inf)
        if s in ext["carry"]:
            for t in years:
                model.column(("c", s, t), 0.0, inf)
    if scenario.transfers:
        for a in data.agencies:
            for b in data.agencies:
                if a != b:
                    model.column(("t", a, b), 0.0, inf)
    col = model.columns

    # funding: sum_s f_sit - unit_cost_it x_it - setup_cost_it y_it = 0
    for i in data.interventions:
        for t in years:
            row = {col[("x", i, t)]: -data.unit_cost[i][t]}
            if ("y", i, t) in col:
                row[col[("y", i, t)]] = -ext["setup"][i][t]
            for s in data.streams:
                if ("f", s, i, t) in col:
                    row[col[("f", s, i, t)]] = 1.0
            model.row(row, 0.0, 0.0)
    for s in data.streams:
        for t in years:
            row = {c: 1.0 for key, c in col.items() if key[:2] == ("f", s) and key[3] == t}
            if ("c", s, t) in col:
                row[col[("c", s, t)]] = 1.0
                if t > 0:
                    row[col[("c", s, t - 1)]] = -1.0
            model.row(row, -inf, data.budget[s][t])
            if scenario.pooling:
                out = {c: 1.0 for key, c in col.items()
                       if key[:2] == ("f", s) and key[3] == t and key[2] not in data.fence[s]}
                if out:
                    model.row(out, -inf, data.pool_share[s] * data.budget[s][t])
    for k, target in data.target.items():
        for t in years:
            row: dict[int, float] = {}
            for i in data.interventions:
                e = data.effects[i].get(k, 0.0)
                for c, scale in effective[i, t].items():
                    row[c] = row.get(c, 0.0) + e * scale
            model.row(row, target[t], inf)

    def position(a: str) -> dict[int, float]:
        row: dict[int, float] = {}
        for i in data.interventions:
            g = data.savings[i].get(a, 0.0)
            for t in years:
                for c, scale in effective[i, t].items():
                    row[c] = row.get(c, 0.0) + g * scale * data.saving_discount(i, t)
        for key, c in col.items():
            if key[0] == "f" and data.stream_agency[key[1]] == a:
                row[c] = row.get(c, 0.0) - data.discount[key[3]]
        return row

    for a, floor in data.max_net_cost.items():
        model.row(position(a), -floor, inf)
    if scenario.incentives == "no_worse_off":
        assert pref is not None
        for a in data.agencies:
            row = position(a)
            if scenario.transfers:
                for b in data.agencies:
                    if b != a:
                        row[col[("t", b, a)]] = 1.0
                        row[col[("t", a, b)]] = -1.0
            model.row(row, float(pref.get(a, 0.0)), inf)

    objective = np.zeros(len(model.lower))
    for i in data.interventions:
        for t in years:
            d = data.discount[t]
            cost = data.unit_cost[i][t]
            setup = ext["setup"].get(i, [0.0] * data.years)[t]
            if data.objective == "net_benefit":
                per_effective = (d * sum(data.value[k] * e for k, e in data.effects[i].items())
                                 + data.saving_discount(i, t) * sum(data.savings[i].values()))
                per_unit, per_setup = -d * cost, -d * setup
            elif data.objective == "outcomes":
                per_effective = d * sum(data.weight[k] * e for k, e in data.effects[i].items())
                per_unit, per_setup = 0.0, 0.0
            else:
                per_effective, per_unit, per_setup = 0.0, d * cost, d * setup
            objective[col[("x", i, t)]] += per_unit
            if ("y", i, t) in col:
                objective[col[("y", i, t)]] += per_setup
            for c, scale in effective[i, t].items():
                objective[c] += per_effective * scale
    sign = -1.0 if MAXIMISE[data.objective] else 1.0
    res = model.solve(sign * objective)
    if res.status != 0:
        feasible = model.solve(np.zeros_like(objective))
        status = "unbounded" if feasible.status == 0 else "infeasible"
        if feasible.status not in (0, 2):
            raise RuntimeError(f"scipy milp could not classify: {res.message}")
        return {"status": status, "objective": None}
    v = np.asarray(res.x)
    positions = {a: float(sum(c * v[k] for k, c in position(a).items())) for a in data.agencies}
    units = {i: [float(v[col[("x", i, t)]]) for t in years] for i in data.interventions}
    return {"status": "optimal", "objective": float(objective @ v), "positions": positions,
            "units": units}


def solve_milp_reference(instance: Mapping[str, Any],
                         reference_positions: Mapping[str, Mapping[str, float]] | None = None,
                         pref_slack: float = 1e-9) -> dict[str, dict[str, Any]]:
    """Every scenario, references first (no_worse_off protects the tool's own reference
    positions when given, relaxed by `pref_slack` of the largest, as in `reference.py`)."""
    scenarios = scenarios_of(instance)
    results: dict[str, dict[str, Any]] = {}

    def solve(name: str) -> dict[str, Any]:
        if name in results:
            return results[name]
        scenario = scenarios[name]
        pref = None
        if scenario.incentives == "no_worse_off":
            ref = scenario.reference
            assert ref is not None
            mine = solve(ref)
            if reference_positions is not None and ref in reference_positions:
                given = reference_positions[ref]
                slack = pref_slack * max([1.0, *(abs(p) for p in given.values())])
                pref = {a: p - slack for a, p in given.items()}
            elif mine["status"] == "optimal":
                pref = mine["positions"]
            else:
                results[name] = {"status": "infeasible", "objective": None,
                                 "reference_unsolved": True}
                return results[name]
        results[name] = solve_milp_scenario(instance, scenario, pref)
        return results[name]

    for name in scenarios:
        solve(name)
    return results


def check_extended_plan(instance: Mapping[str, Any], name: str, got: Mapping[str, Any],
                        tol: float = 1e-6) -> list[str]:
    """Every constraint of the contract on the plan a results.json scenario reports: units
    within bounds, set-up costs paid, minimum scales kept, bands in order, money (with what
    is carried) within every budget and pool limit, targets met. Problems, in words."""
    scenario = scenarios_of(instance)[name]
    data = prepare(instance, scenario)
    ext = _extensions(instance, scenario, data.years)
    years = range(data.years)
    units = got["units"]
    funding = got.get("funding") or {}
    services = got.get("services") or {}
    problems: list[str] = []

    def near_le(a: float, b: float) -> bool:
        return a <= b + tol * max(1.0, abs(a), abs(b))

    runs: dict[str, list[bool]] = {}
    for i in data.interventions:
        x = units[i]
        for t in years:
            if not near_le(data.min_units[i][t], x[t]) or not near_le(x[t], data.max_units[i][t]):
                problems.append(f"{i} {t}: {x[t]} units outside its bounds")
        if i in ext["setup"]:
            runs[i] = ([bool(v) for v in services[i]["runs"]] if i in services
                       else [v > 0 for v in x])
            for t in years:
                on = runs[i][t]
                if not on and x[t] > tol:
                    problems.append(f"{i} {t}: delivers {x[t]} units but does not run")
                if on and not near_le(ext["scale"][i][t], x[t]):
                    problems.append(f"{i} {t}: runs below its minimum scale ({x[t]})")
                if data.min_units[i][t] > 0 and not on:
                    problems.append(f"{i} {t}: min_units but not running")
        if i in ext["tiers"]:
            bands = got["bands"][i]
            for t in years:
                if abs(sum(b[t] for b in bands) - x[t]) > tol * max(1.0, x[t]):
                    problems.append(f"{i} {t}: bands do not add up to the units")
                for b in range(1, len(bands)):
                    width = ext["tiers"][i][b - 1][0]
                    if bands[b][t] > tol and bands[b - 1][t] < width - tol * max(1.0, width):
                        problems.append(f"{i} {t}: band {b} used before band {b - 1} is full")
    for i in data.interventions:
        for t in years:
            paid = sum(by.get(i, [0.0] * data.years)[t] for by in funding.values())
            setup = ext["setup"][i][t] if i in ext["setup"] and runs[i][t] else 0.0
            need = data.unit_cost[i][t] * units[i][t] + setup
            if abs(paid - need) > tol * max(1.0, need):
                problems.append(f"{i} {t}: funded {paid}, costs {need} (set-up {setup})")
    for s in data.streams:
        carried = 0.0
        spent_all = [sum(series[t] for series in (funding.get(s) or {}).values()) for t in years]
        for t in years:
            available = data.budget[s][t] + (carried if s in ext["carry"] else 0.0)
            if not near_le(spent_all[t], available):
                problems.append(f"{s} {t}: spends {spent_all[t]} of {available}")
            carried = max(0.0, available - spent_all[t])
            if scenario.pooling:
                out = sum(series[t] for i, series in (funding.get(s) or {}).items()
                          if i not in data.fence[s])
                if not near_le(out, data.pool_share[s] * data.budget[s][t]):
                    problems.append(f"{s} {t}: pools {out}, above its limit")
            elif any(i not in data.fence[s] for i in (funding.get(s) or {})):
                problems.append(f"{s}: pays outside its ring-fence without pooling")
    effective = _effective(data, ext, units, got)
    for k, target in data.target.items():
        for t in years:
            achieved = sum(data.effects[i].get(k, 0.0) * effective[i][t]
                           for i in data.interventions)
            if not near_le(target[t], achieved):
                problems.append(f"target {k} {t}: {achieved} below {target[t]}")
    return problems


def _effective(data: Data, ext: dict[str, Any], units: Mapping[str, list[float]],
               got: Mapping[str, Any]) -> dict[str, list[float]]:
    """E_it from the reported bands (x_it where the intervention has no tiers)."""
    out = {}
    for i in data.interventions:
        if i in ext["tiers"]:
            bands = got["bands"][i]
            out[i] = [sum(scale * bands[b][t] for b, (_, scale) in enumerate(ext["tiers"][i]))
                      for t in range(data.years)]
        else:
            out[i] = list(units[i])
    return out


def objective_of_plan(instance: Mapping[str, Any], name: str, got: Mapping[str, Any]) -> float:
    """The scenario's objective recomputed from the reported units, runs and bands."""
    scenario = scenarios_of(instance)[name]
    data = prepare(instance, scenario)
    ext = _extensions(instance, scenario, data.years)
    units = got["units"]
    effective = _effective(data, ext, units, got)
    services = got.get("services") or {}
    total = 0.0
    for i in data.interventions:
        for t in range(data.years):
            d = data.discount[t]
            on = services[i]["runs"][t] if i in services else units[i][t] > 0
            setup = ext["setup"][i][t] if i in ext["setup"] and on else 0.0
            e = effective[i][t]
            if data.objective == "net_benefit":
                total += (d * sum(data.value[k] * v for k, v in data.effects[i].items()) * e
                          + data.saving_discount(i, t) * sum(data.savings[i].values()) * e
                          - d * (data.unit_cost[i][t] * units[i][t] + setup))
            elif data.objective == "outcomes":
                total += d * sum(data.weight[k] * v for k, v in data.effects[i].items()) * e
            else:
                total += d * (data.unit_cost[i][t] * units[i][t] + setup)
    return total
