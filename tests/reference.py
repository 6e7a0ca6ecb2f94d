"""An independent, deliberately naive implementation of docs/contract.md's model: the oracle.

It never imports `optimiser` or `models`. Every scenario is one LP in the contract's own
variables, solved with `scipy.optimize.linprog(method="highs")`:

- `x_it` in `[min_units_it, max_units_it]`, the units of intervention `i` in year `t`;
- `f_sit >= 0` for every stream/intervention/year pair the scenario allows (only `i` in
  `R(s)` when not pooling, every `i` when pooling);
- `z_ab >= 0` for every ordered pair of distinct agencies when the scenario allows transfers.

Readings of the contract that the optimiser must share (see the report that came with this file):

- `P_a` (what `max_net_cost` floors and what `no_worse_off` protects) excludes transfers; the
  protected `Pref_a` is `savings - spend` of the reference scenario's plan.
- An outcome's weight in the `outcomes` objective is its `value` when the key is given (even 0)
  and 1 when it is absent.
- `budget`, `unit_cost`, `min_units`, `max_units` and `target` may be given per year; every other
  number is one figure.
- A `no_worse_off` scenario whose reference scenario has no optimal plan has no optimal plan
  either; it is reported `infeasible` with `reference_unsolved: True`.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml
from scipy.optimize import linprog

DEFAULT_SCENARIOS: dict[str, dict[str, Any]] = {
    "ring_fenced": {"pooling": False},
    "pooled": {"pooling": True},
}
DEFAULT_DISCOUNT_RATE = 0.035
MAXIMISE = {"net_benefit": True, "outcomes": True, "cost": False}


# --------------------------------------------------------------------------- instance handling


def load_instance(path: str | Path) -> dict[str, Any]:
    """Read an instance file with `yaml.safe_load`."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: an instance is a mapping")
    return _named_figures(data, Path(path).parent)


_TEXT_KEYS = {"name", "description", "agency", "unit", "source", "currency", "objective",
              "incentives", "reference", "ring_fence", "kind"}


def _named_figures(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """The instance with its named figures (README, 'Named figures') written out as numbers:
    libraries first, the instance's own entries after them; a use is a product of
    numbers and names; a use of ranged figures becomes {low, central, high} over the
    corners of their ranges."""
    if "figures" not in data and "figures_from" not in data:
        return data
    entries: dict[str, Any] = {}
    for name in data.get("figures_from") or []:
        with open(base / name, encoding="utf-8") as handle:
            entries.update(yaml.safe_load(handle)["figures"])
    own = data.get("figures") or {}
    if isinstance(own, str):  # a CSV table: name, value, low, high, ...
        import csv

        with open(base / own, encoding="utf-8") as handle:
            own = {row["name"]: {k: v for k, v in row.items() if v not in (None, "")}
                   for row in csv.DictReader(handle)}
    entries.update(own)

    def figure(name: str) -> tuple[float, float, float]:
        entry = entries[name]
        entry = entry if isinstance(entry, dict) else {"value": entry}
        value = entry["value"]
        if isinstance(value, str) and not _is_float(value):
            central = product(value)
            return central, central, central
        value = float(str(value).replace("£", "").replace(",", ""))
        return (float(entry.get("low", value)), value, float(entry.get("high", value)))

    def product(text: str) -> float:
        return product_range(text)[1]

    def product_range(text: str) -> tuple[float, float, float]:
        corners, central = [1.0], 1.0
        for part in text.split("*"):
            part = part.strip()
            if _is_float(part):
                factor = (float(part),) * 3
            else:
                sign = -1.0 if part.startswith("-") else 1.0
                low, mid, high = figure(part.lstrip("-").strip())
                factor = (sign * low, sign * mid, sign * high)
            corners = [c * f for c in corners for f in (factor[0], factor[2])]
            central *= factor[1]
        return min(corners), central, max(corners)

    def walk(value: Any, key: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key not in _TEXT_KEYS and all(
                _is_float(p.strip()) or p.strip().lstrip("-").strip() in entries
                for p in value.split("*")):
            low, central, high = product_range(value)
            return central if low == high else {"low": low, "central": central, "high": high}
        return value

    rest = {k: v for k, v in data.items() if k not in ("figures", "figures_from")}
    return walk(rest, None)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def apply_overrides(instance: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict:
    """Return a deep copy of `instance` with each dotted path set to its value."""
    out: dict[str, Any] = copy.deepcopy(dict(instance))
    for dotted, value in (overrides or {}).items():
        parts = str(dotted).split(".")
        node: Any = out
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = copy.deepcopy(value)
        else:
            node[last] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class Scenario:
    """One scenario, with the contract's defaults filled in."""

    name: str
    pooling: bool
    pool_share: dict[str, float]
    incentives: str
    reference: str | None
    transfers: bool
    overrides: dict[str, Any]
    agreement: bool = False
    """An `agreement:` settles cash between partners after the plan: it moves money, no row."""


def scenarios_of(instance: Mapping[str, Any]) -> dict[str, Scenario]:
    """The instance's scenarios in file order (the contract's two by default)."""
    raw: Mapping[str, Any] = instance.get("scenarios") or DEFAULT_SCENARIOS
    first_unpooled = next(
        (name for name, body in raw.items() if not bool((body or {}).get("pooling", False))),
        None,
    )
    out: dict[str, Scenario] = {}
    for name, body in raw.items():
        body = body or {}
        incentives = str(body.get("incentives") or "none")
        reference = body.get("reference")
        if reference is None and incentives == "no_worse_off":
            reference = first_unpooled
        out[str(name)] = Scenario(
            name=str(name),
            pooling=bool(body.get("pooling", False)),
            pool_share={str(k): float(v) for k, v in (body.get("pool_share") or {}).items()},
            incentives=incentives,
            reference=None if reference is None else str(reference),
            transfers=bool(body.get("transfers", False)),
            overrides=dict(body.get("overrides") or {}),
            agreement=body.get("agreement") is not None,
        )
    return out


def _central(value: Any) -> Any:
    """An uncertain figure `{low, central, high}` counts as its central value."""
    return value["central"] if isinstance(value, dict) else value


def _per_year(value: Any, years: int, default: float) -> list[float]:
    """One figure for every year, or a list with one figure per year."""
    value = _central(value)
    if value is None:
        return [default] * years
    if isinstance(value, list):
        if len(value) != years:
            raise ValueError(f"per-year list of length {len(value)}, expected {years}")
        return [math.inf if v is None else float(_central(v)) for v in value]
    return [float(value)] * years


@dataclass(frozen=True)
class Data:
    """The instance after a scenario's overrides, as numbers (effects and savings effective)."""

    years: int
    discount: list[float]
    objective: str
    agencies: list[str]
    max_net_cost: dict[str, float]
    streams: list[str]
    stream_agency: dict[str, str]
    budget: dict[str, list[float]]
    fence: dict[str, frozenset[str]]
    pool_share: dict[str, float]
    interventions: list[str]
    unit_cost: dict[str, list[float]]
    min_units: dict[str, list[float]]
    max_units: dict[str, list[float]]
    lag: dict[str, int]
    effects: dict[str, dict[str, float]]
    savings: dict[str, dict[str, float]]
    outcomes: list[str]
    weight: dict[str, float]
    value: dict[str, float]
    target: dict[str, list[float]]

    def saving_discount(self, i: str, t: int) -> float:
        """`d_(t+lag_i)` when the saving of year-`t` delivery lands in the horizon, else 0."""
        arrival = t + self.lag[i]
        return self.discount[arrival] if arrival < self.years else 0.0


def prepare(instance: Mapping[str, Any], scenario: Scenario) -> Data:
    """Apply the scenario's overrides and pool shares and turn the instance into numbers."""
    inst = apply_overrides(instance, scenario.overrides)
    years = int(inst["years"])
    rate = float(inst.get("discount_rate", DEFAULT_DISCOUNT_RATE))
    discount = [(1.0 + rate) ** -t for t in range(years)]
    agencies_raw: Mapping[str, Any] = inst.get("agencies") or {}
    streams_raw: Mapping[str, Any] = inst.get("streams") or {}
    interventions_raw: Mapping[str, Any] = inst.get("interventions") or {}
    outcomes_raw: Mapping[str, Any] = inst.get("outcomes") or {}

    agencies = [str(a) for a in agencies_raw]
    max_net_cost = {
        str(a): float(body["max_net_cost"])
        for a, body in agencies_raw.items()
        if (body or {}).get("max_net_cost") is not None
    }
    interventions = [str(i) for i in interventions_raw]
    streams = [str(s) for s in streams_raw]
    stream_agency: dict[str, str] = {}
    budget: dict[str, list[float]] = {}
    fence: dict[str, frozenset[str]] = {}
    pool_share: dict[str, float] = {}
    for s, body in streams_raw.items():
        stream_agency[s] = str(body["agency"])
        budget[s] = _per_year(body.get("budget"), years, 0.0)
        if body.get("ring_fence") is None:
            fence[s] = frozenset(
                i for i, ib in interventions_raw.items() if str(ib["agency"]) == stream_agency[s]
            )
        else:
            fence[s] = frozenset(str(i) for i in body["ring_fence"])
        share = body.get("pool_share")
        pool_share[s] = 1.0 if share is None else float(share)
    pool_share.update(scenario.pool_share)

    unit_cost: dict[str, list[float]] = {}
    min_units: dict[str, list[float]] = {}
    max_units: dict[str, list[float]] = {}
    lag: dict[str, int] = {}
    effects: dict[str, dict[str, float]] = {}
    savings: dict[str, dict[str, float]] = {}
    for i, body in interventions_raw.items():
        m = (1.0 - float(_central(body.get("deadweight")) or 0.0)) * (
            1.0 - float(_central(body.get("optimism_bias")) or 0.0)
        )
        unit_cost[i] = _per_year(body.get("unit_cost"), years, 0.0)
        min_units[i] = _per_year(body.get("min_units"), years, 0.0)
        max_units[i] = _per_year(body.get("max_units"), years, math.inf)
        lag[i] = int(body.get("lag") or 0)
        effects[i] = {str(k): m * float(_central(v))
                      for k, v in (body.get("effects") or {}).items()}
        savings[i] = {str(a): m * float(_central(v))
                      for a, v in (body.get("savings") or {}).items()}

    outcomes = [str(k) for k in outcomes_raw]
    weight: dict[str, float] = {}
    value: dict[str, float] = {}
    target: dict[str, list[float]] = {}
    for k, body in outcomes_raw.items():
        body = body or {}
        given = body.get("value")
        value[k] = 0.0 if given is None else float(given)
        weight[k] = 1.0 if given is None else float(given)
        if body.get("target") is not None:
            target[k] = _per_year(body["target"], years, 0.0)

    return Data(
        years=years,
        discount=discount,
        objective=str(inst.get("objective") or "net_benefit"),
        agencies=agencies,
        max_net_cost=max_net_cost,
        streams=streams,
        stream_agency=stream_agency,
        budget=budget,
        fence=fence,
        pool_share=pool_share,
        interventions=interventions,
        unit_cost=unit_cost,
        min_units=min_units,
        max_units=max_units,
        lag=lag,
        effects=effects,
        savings=savings,
        outcomes=outcomes,
        weight=weight,
        value=value,
        target=target,
    )


# --------------------------------------------------------------------------- objective


def _objective_coefficient(data: Data, i: str, t: int) -> float:
    """The objective's coefficient of `x_it`, in its natural sense (maximised or minimised)."""
    d = data.discount[t]
    cost = data.unit_cost[i][t]
    if data.objective == "net_benefit":
        outcome_value = sum(data.value[k] * e for k, e in data.effects[i].items())
        saved = sum(data.savings[i].values())
        return d * (outcome_value - cost) + data.saving_discount(i, t) * saved
    if data.objective == "outcomes":
        return d * sum(data.weight[k] * e for k, e in data.effects[i].items())
    if data.objective == "cost":
        return d * cost
    raise ValueError(f"unknown objective {data.objective!r}")


def _objective_terms(data: Data, units: Mapping[str, Sequence[float]]) -> tuple[float, float]:
    """The objective of `units`, and the sum of the absolute values of its terms."""
    total = 0.0
    gross = 0.0
    for i in data.interventions:
        series = units.get(i) or [0.0] * data.years
        for t in range(data.years):
            term = _objective_coefficient(data, i, t) * float(series[t])
            total += term
            gross += abs(term)
    return total, gross


def objective_of(
    instance: Mapping[str, Any], scenario_name: str, units: Mapping[str, Sequence[float]]
) -> float:
    """The scenario's objective for the given units (intervention -> one figure per year)."""
    data = prepare(instance, scenarios_of(instance)[scenario_name])
    return _objective_terms(data, units)[0]


# --------------------------------------------------------------------------- the LP


class _Lp:
    """Columns and sparse rows of one LP, built by name."""

    def __init__(self) -> None:
        self.columns: dict[tuple[Any, ...], int] = {}
        self.lower: list[float] = []
        self.upper: list[float | None] = []
        self.ub_rows: list[dict[int, float]] = []
        self.ub_rhs: list[float] = []
        self.eq_rows: list[dict[int, float]] = []
        self.eq_rhs: list[float] = []

    def column(self, key: tuple[Any, ...], lower: float, upper: float) -> None:
        self.columns[key] = len(self.lower)
        self.lower.append(lower)
        self.upper.append(None if math.isinf(upper) else upper)

    def at_most(self, row: dict[int, float], rhs: float) -> None:
        self.ub_rows.append(row)
        self.ub_rhs.append(rhs)

    def equal(self, row: dict[int, float], rhs: float) -> None:
        self.eq_rows.append(row)
        self.eq_rhs.append(rhs)

    def _matrix(self, rows: list[dict[int, float]]) -> sp.csr_matrix | None:
        if not rows:
            return None
        r, c, v = [], [], []
        for n, row in enumerate(rows):
            for col, val in row.items():
                r.append(n)
                c.append(col)
                v.append(val)
        return sp.csr_matrix((v, (r, c)), shape=(len(rows), len(self.lower)))

    def solve(self, cost: np.ndarray) -> Any:
        """`linprog` with HiGHS: minimise `cost @ v` over the rows and bounds."""
        a_ub = self._matrix(self.ub_rows)
        a_eq = self._matrix(self.eq_rows)
        return linprog(
            cost,
            A_ub=a_ub,
            b_ub=np.array(self.ub_rhs) if a_ub is not None else None,
            A_eq=a_eq,
            b_eq=np.array(self.eq_rhs) if a_eq is not None else None,
            bounds=list(zip(self.lower, self.upper, strict=True)),
            method="highs",
        )


def _position_row(lp: _Lp, data: Data, a: str, sign: float = 1.0) -> dict[int, float]:
    """`sign * P_a` as a row: discounted savings of `a` minus what its streams spend."""
    row: dict[int, float] = {}
    for i in data.interventions:
        g = data.savings[i].get(a, 0.0)
        if g == 0.0:
            continue
        for t in range(data.years):
            coef = data.saving_discount(i, t) * g
            if coef:
                col = lp.columns[("x", i, t)]
                row[col] = row.get(col, 0.0) + sign * coef
    for key, col in lp.columns.items():
        if key[0] == "f" and data.stream_agency[key[1]] == a:
            row[col] = row.get(col, 0.0) - sign * data.discount[key[3]]
    return row


def _build(
    data: Data, scenario: Scenario, pref: Mapping[str, float] | None
) -> tuple[_Lp, np.ndarray]:
    """The scenario's LP and its objective vector (for minimisation)."""
    lp = _Lp()
    years = range(data.years)
    for i in data.interventions:
        for t in years:
            lp.column(("x", i, t), data.min_units[i][t], data.max_units[i][t])
    for s in data.streams:
        allowed = data.interventions if scenario.pooling else sorted(data.fence[s])
        for i in allowed:
            for t in years:
                lp.column(("f", s, i, t), 0.0, math.inf)
    transfers = scenario.transfers
    if transfers:
        for a in data.agencies:
            for b in data.agencies:
                if a != b:
                    lp.column(("z", a, b), 0.0, math.inf)

    # 1. funding: sum_s f_sit = unit_cost_it * x_it
    for i in data.interventions:
        for t in years:
            row = {lp.columns[("x", i, t)]: -data.unit_cost[i][t]}
            for s in data.streams:
                col = lp.columns.get(("f", s, i, t))
                if col is not None:
                    row[col] = 1.0
            lp.equal(row, 0.0)
    for s in data.streams:
        for t in years:
            # 2. budget: sum_i f_sit <= budget_st
            row = {
                col: 1.0 for key, col in lp.columns.items() if key[:2] == ("f", s) and key[3] == t
            }
            if row:
                lp.at_most(row, data.budget[s][t])
            # 3. pooling limit: sum_{i not in R(s)} f_sit <= pool_share_s * budget_st
            if scenario.pooling:
                out = {
                    col: 1.0
                    for key, col in lp.columns.items()
                    if key[:2] == ("f", s) and key[3] == t and key[2] not in data.fence[s]
                }
                if out:
                    lp.at_most(out, data.pool_share[s] * data.budget[s][t])
    # 4. targets: sum_i e_ik x_it >= target_kt
    for k, target in data.target.items():
        for t in years:
            row = {
                lp.columns[("x", i, t)]: -data.effects[i][k]
                for i in data.interventions
                if data.effects[i].get(k, 0.0) != 0.0
            }
            lp.at_most(row, -target[t])
    # 5. floors: P_a >= -max_net_cost_a
    for a, floor in data.max_net_cost.items():
        lp.at_most(_position_row(lp, data, a, sign=-1.0), floor)
    # 6. no_worse_off: P_a + sum_b z_ba - sum_b z_ab >= Pref_a
    if scenario.incentives == "no_worse_off":
        assert pref is not None
        for a in data.agencies:
            row = _position_row(lp, data, a, sign=-1.0)
            if transfers:
                for b in data.agencies:
                    if b != a:
                        row[lp.columns[("z", b, a)]] = -1.0
                        row[lp.columns[("z", a, b)]] = 1.0
            lp.at_most(row, -float(pref.get(a, 0.0)))

    cost = np.zeros(len(lp.lower))
    sense = -1.0 if MAXIMISE[data.objective] else 1.0
    for i in data.interventions:
        for t in years:
            cost[lp.columns[("x", i, t)]] = sense * _objective_coefficient(data, i, t)
    return lp, cost


def _plan(data: Data, lp: _Lp, v: np.ndarray, objective: float) -> dict[str, Any]:
    """The solution in results.json's shape, with the positions `P_a` alongside."""
    years = range(data.years)
    units = {i: [float(v[lp.columns[("x", i, t)]]) for t in years] for i in data.interventions}
    funding: dict[str, dict[str, list[float]]] = {}
    for s in data.streams:
        for i in data.interventions:
            cols = [lp.columns.get(("f", s, i, t)) for t in years]
            if cols[0] is None:
                continue
            series = [max(0.0, float(v[c])) for c in cols if c is not None]
            if any(x > 0.0 for x in series):
                funding.setdefault(s, {})[i] = series
    outcomes = {
        k: [
            sum(data.effects[i].get(k, 0.0) * units[i][t] for i in data.interventions)
            for t in years
        ]
        for k in data.outcomes
    }
    agencies: dict[str, dict[str, float]] = {}
    for a in data.agencies:
        spend = _spend(data, funding, a)
        saved = _savings(data, units, a)
        t_in = sum(float(v[c]) for key, c in lp.columns.items() if key[0] == "z" and key[2] == a)
        t_out = sum(float(v[c]) for key, c in lp.columns.items() if key[0] == "z" and key[1] == a)
        agencies[a] = {
            "spend": spend,
            "savings": saved,
            "transfers_in": t_in,
            "transfers_out": t_out,
            "net": saved - spend + t_in - t_out,
        }
    return {
        "status": "optimal",
        "objective": objective,
        "units": units,
        "funding": funding,
        "outcomes": outcomes,
        "agencies": agencies,
    }


def _spend(data: Data, funding: Mapping[str, Mapping[str, Sequence[float]]], a: str) -> float:
    """Present value of what agency `a`'s streams spend."""
    return sum(
        data.discount[t] * float(series[t])
        for s, by_i in funding.items()
        if data.stream_agency.get(s) == a
        for series in by_i.values()
        for t in range(data.years)
    )


def _savings(data: Data, units: Mapping[str, Sequence[float]], a: str) -> float:
    """Present value of the savings agency `a` receives within the horizon."""
    return sum(
        data.saving_discount(i, t) * data.savings[i].get(a, 0.0) * float(units[i][t])
        for i in data.interventions
        if i in units
        for t in range(data.years)
    )


def _classify(lp: _Lp, cost: np.ndarray) -> tuple[str, Any]:
    """Solve, and tell infeasible from unbounded by a zero-objective re-solve when needed."""
    res = lp.solve(cost)
    if res.status == 0:
        return "optimal", res
    feas = lp.solve(np.zeros_like(cost))
    if feas.status == 0:
        return "unbounded", res
    if feas.status == 2:
        return "infeasible", res
    raise RuntimeError(f"HiGHS could not classify the LP: {res.message} / {feas.message}")


def solve_scenario(
    instance: Mapping[str, Any], scenario: Scenario, pref: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Solve one scenario; `pref` are the reference positions when it is `no_worse_off`."""
    data = prepare(instance, scenario)
    lp, cost = _build(data, scenario, pref)
    status, res = _classify(lp, cost)
    if status != "optimal":
        return {"status": status, "objective": None}
    objective = float(res.fun) * (-1.0 if MAXIMISE[data.objective] else 1.0)
    plan = _plan(data, lp, np.asarray(res.x), objective)
    positions = {a: body["savings"] - body["spend"] for a, body in plan["agencies"].items()}
    return {"status": "optimal", "objective": objective, "positions": positions, "plan": plan}


def positions_of(result: Mapping[str, Any]) -> dict[str, float]:
    """`P_a = savings - spend` of every agency in one scenario entry of results.json."""
    return {
        str(a): float(body["savings"]) - float(body["spend"])
        for a, body in (result.get("agencies") or {}).items()
    }


def solve_reference(
    instance: Mapping[str, Any],
    reference_positions: Mapping[str, Mapping[str, float]] | None = None,
    pref_slack: float = 1e-9,
) -> dict[str, dict[str, Any]]:
    """Solve every scenario: {scenario: {"status", "objective", "positions"?, "plan"?}}.

    For `no_worse_off`, `Pref_a` is `reference_positions[reference][a]` when given (relaxed by
    `pref_slack` times the largest position, to absorb the other solver's tolerances), else the
    position in this solver's own plan of the reference scenario.
    """
    scenarios = scenarios_of(instance)
    results: dict[str, dict[str, Any]] = {}
    in_progress: set[str] = set()

    def solve(name: str) -> dict[str, Any]:
        if name in results:
            return results[name]
        if name in in_progress:
            raise ValueError(f"scenario references form a cycle through {name!r}")
        in_progress.add(name)
        scenario = scenarios[name]
        pref: dict[str, float] | None = None
        if scenario.incentives == "no_worse_off":
            ref = scenario.reference
            if ref is None or ref not in scenarios:
                raise ValueError(f"scenario {name!r}: reference {ref!r} is not a scenario")
            ref_result = solve(ref)
            if reference_positions is not None and ref in reference_positions:
                given = {a: float(p) for a, p in reference_positions[ref].items()}
                slack = pref_slack * max([1.0, *(abs(p) for p in given.values())])
                pref = {a: p - slack for a, p in given.items()}
            elif ref_result["status"] == "optimal":
                pref = dict(ref_result["positions"])
            else:
                results[name] = {
                    "status": "infeasible",
                    "objective": None,
                    "reference_unsolved": True,
                }
                in_progress.discard(name)
                return results[name]
        results[name] = solve_scenario(instance, scenario, pref)
        in_progress.discard(name)
        return results[name]

    for name in scenarios:
        solve(name)
    return {name: results[name] for name in scenarios}


# --------------------------------------------------------------------------- checking a plan


def _near(a: float, b: float, tol: float, scale: float) -> bool:
    """`a == b` within `tol` relative to `scale` (and at least `tol` absolute)."""
    return abs(a - b) <= tol * max(1.0, abs(scale), abs(a), abs(b))


def _at_most(lhs: float, rhs: float, tol: float, scale: float) -> bool:
    """`lhs <= rhs` within `tol` relative to `scale`."""
    return lhs - rhs <= tol * max(1.0, abs(scale), abs(lhs), abs(rhs))


def _series_map(
    raw: Any, what: str, years: int, known: Sequence[str], problems: list[str]
) -> dict[str, list[float]]:
    """Read {id: [one figure per year]} from a result, noting what is malformed."""
    out: dict[str, list[float]] = {}
    if not isinstance(raw, Mapping):
        problems.append(f"{what}: not a mapping")
        return out
    for key, series in raw.items():
        if key not in known:
            problems.append(f"{what}.{key}: unknown id")
            continue
        if not isinstance(series, list) or len(series) != years:
            problems.append(f"{what}.{key}: expected a list of {years} figures")
            continue
        out[str(key)] = [float(x) for x in series]
    return out


def check_plan(
    instance: Mapping[str, Any],
    scenario_name: str,
    result: Mapping[str, Any],
    tol: float = 1e-6,
    reference_result: Mapping[str, Any] | None = None,
) -> list[str]:
    """Every constraint of docs/contract.md that one scenario entry of results.json violates.

    `reference_result` is the reference scenario's entry, needed for `no_worse_off`.
    Tolerances are relative to the gross money (or units) involved in each check.
    """
    scenario = scenarios_of(instance)[scenario_name]
    data = prepare(instance, scenario)
    status = result.get("status")
    if status != "optimal":
        return [f"status is {status!r}, not 'optimal'"]
    problems: list[str] = []
    years = range(data.years)
    units = _series_map(result.get("units"), "units", data.years, data.interventions, problems)
    for i in data.interventions:
        if i not in units:
            problems.append(f"units.{i}: missing")
            units[i] = [0.0] * data.years
    funding: dict[str, dict[str, list[float]]] = {}
    raw_funding = result.get("funding")
    if not isinstance(raw_funding, Mapping):
        problems.append("funding: not a mapping")
        raw_funding = {}
    for s, by_i in raw_funding.items():
        if s not in data.stream_agency:
            problems.append(f"funding.{s}: unknown stream")
            continue
        funding[s] = _series_map(by_i, f"funding.{s}", data.years, data.interventions, problems)
    if problems:
        return problems

    # units within bounds
    for i in data.interventions:
        for t in years:
            x = units[i][t]
            lo, hi = data.min_units[i][t], data.max_units[i][t]
            if not _at_most(lo, x, tol, lo):
                problems.append(f"units.{i}[{t}] = {x} < min_units {lo}")
            if not math.isinf(hi) and not _at_most(x, hi, tol, hi):
                problems.append(f"units.{i}[{t}] = {x} > max_units {hi}")
    # funding from allowed streams, non-negative
    for s, by_i in funding.items():
        for i, series in by_i.items():
            for t in years:
                amount = series[t]
                scale = data.budget[s][t] + data.unit_cost[i][t] * abs(units[i][t])
                if not _at_most(0.0, amount, tol, scale):
                    problems.append(f"funding.{s}.{i}[{t}] = {amount} is negative")
                if (
                    not scenario.pooling
                    and i not in data.fence[s]
                    and not _at_most(amount, 0.0, tol, scale)
                ):
                    problems.append(
                        f"funding.{s}.{i}[{t}] = {amount}: {i} is outside {s}'s ring-fence "
                        "and the scenario does not pool"
                    )
    # 1. funding equals cost
    for i in data.interventions:
        for t in years:
            paid = [funding[s][i][t] for s in funding if i in funding[s]]
            cost = data.unit_cost[i][t] * units[i][t]
            scale = abs(cost) + sum(abs(p) for p in paid)
            if not _near(sum(paid), cost, tol, scale):
                problems.append(
                    f"funding of {i} in year {t} is {sum(paid)}, but unit_cost * units is {cost}"
                )
    for s in data.streams:
        for t in years:
            spent = [series[t] for series in funding.get(s, {}).values()]
            # 2. budgets
            if not _at_most(sum(spent), data.budget[s][t], tol, sum(abs(x) for x in spent)):
                problems.append(
                    f"stream {s} spends {sum(spent)} in year {t}, over its budget "
                    f"{data.budget[s][t]}"
                )
            # 3. pooling limit
            if scenario.pooling:
                out = sum(
                    series[t] for i, series in funding.get(s, {}).items() if i not in data.fence[s]
                )
                limit = data.pool_share[s] * data.budget[s][t]
                if not _at_most(out, limit, tol, data.budget[s][t]):
                    problems.append(
                        f"stream {s} spends {out} outside its ring-fence in year {t}, over "
                        f"pool_share * budget = {limit}"
                    )
    # 4. targets and reported outcomes
    reported_outcomes = _series_map(
        result.get("outcomes"), "outcomes", data.years, data.outcomes, problems
    )
    for k in data.outcomes:
        for t in years:
            terms = [data.effects[i].get(k, 0.0) * units[i][t] for i in data.interventions]
            got = sum(terms)
            gross = sum(abs(x) for x in terms)
            if k in data.target and not _at_most(data.target[k][t], got, tol, gross):
                problems.append(
                    f"outcome {k} in year {t} is {got}, below target {data.target[k][t]}"
                )
            if k not in reported_outcomes:
                problems.append(f"outcomes.{k}: missing")
            elif not _near(reported_outcomes[k][t], got, tol, gross):
                problems.append(
                    f"outcomes.{k}[{t}] reported {reported_outcomes[k][t]}, recomputed {got}"
                )
    # 5. agency positions, floors, 6. no_worse_off, transfers
    reported_agencies = result.get("agencies") or {}
    pref: dict[str, float] | None = None
    if scenario.incentives == "no_worse_off":
        if reference_result is None:
            raise ValueError(f"scenario {scenario_name!r} is no_worse_off: pass reference_result")
        pref = positions_of(reference_result)
    total_in = total_out = 0.0
    for a in data.agencies:
        body = reported_agencies.get(a)
        if not isinstance(body, Mapping):
            problems.append(f"agencies.{a}: missing")
            continue
        try:
            rep = {
                k: float(body[k])
                for k in ("spend", "savings", "transfers_in", "transfers_out", "net")
            }
        except (KeyError, TypeError, ValueError):
            problems.append(
                f"agencies.{a}: lacks spend, savings, transfers_in, transfers_out or net"
            )
            continue
        spend = _spend(data, funding, a)
        saved = _savings(data, units, a)
        spend_gross = sum(
            data.discount[t] * abs(series[t])
            for s, by_i in funding.items()
            if data.stream_agency[s] == a
            for series in by_i.values()
            for t in years
        )
        saved_gross = sum(
            abs(data.saving_discount(i, t) * data.savings[i].get(a, 0.0) * units[i][t])
            for i in data.interventions
            for t in years
        )
        if not _near(rep["spend"], spend, tol, spend_gross):
            problems.append(f"agencies.{a}.spend reported {rep['spend']}, recomputed {spend}")
        if not _near(rep["savings"], saved, tol, saved_gross):
            problems.append(f"agencies.{a}.savings reported {rep['savings']}, recomputed {saved}")
        scale = spend_gross + saved_gross + abs(rep["transfers_in"]) + abs(rep["transfers_out"])
        net = rep["savings"] - rep["spend"] + rep["transfers_in"] - rep["transfers_out"]
        if not _near(rep["net"], net, tol, scale):
            problems.append(f"agencies.{a}.net reported {rep['net']}, but the identity gives {net}")
        for k in ("transfers_in", "transfers_out"):
            if not _at_most(0.0, rep[k], tol, scale):
                problems.append(f"agencies.{a}.{k} = {rep[k]} is negative")
            if not (scenario.transfers or scenario.agreement) and not _near(
                    rep[k], 0.0, tol, scale):
                problems.append(f"agencies.{a}.{k} = {rep[k]}, but the scenario has no transfers")
        total_in += rep["transfers_in"]
        total_out += rep["transfers_out"]
        position = saved - spend
        floor = data.max_net_cost.get(a)
        if floor is not None and not _at_most(-floor, position, tol, spend_gross + saved_gross):
            problems.append(f"agency {a} position {position} is below -max_net_cost = {-floor}")
        if pref is not None:
            after = position + rep["transfers_in"] - rep["transfers_out"]
            want = pref.get(a, 0.0)
            if not _at_most(want, after, tol, scale + abs(want)):
                problems.append(
                    f"agency {a} ends at {after}, worse off than in {scenario.reference} ({want})"
                )
    if not _near(total_in, total_out, tol, total_in + total_out):
        problems.append(f"transfers in ({total_in}) and out ({total_out}) do not balance")
    # the objective
    objective = result.get("objective")
    recomputed, gross = _objective_terms(data, units)
    if not isinstance(objective, int | float):
        problems.append(f"objective is {objective!r}, not a number")
    elif not _near(float(objective), recomputed, tol, gross):
        problems.append(f"objective reported {objective}, recomputed from units {recomputed}")
    return problems


# --------------------------------------------------------------------------- the account


def account_of(instance: Mapping[str, Any], scenario_name: str,
               result: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's `account` of one optimal scenario entry of results.json, recomputed from its
    `units` and `funding` and the instance alone, term by term as the contract words it, and each
    agency's `by_year` cash: {"account": {...}, "by_year": {agency: {"spend", "savings"}}}.

    cost = sum_t d_t sum_i (unit_cost_it x_it + setup_cost_it y_it); cash_savings = the savings
    arriving within the horizon (d_(t+lag_i) g_ia E_it); outcome_value = sum_t d_t sum_k value_k
    sum_i e_ik E_it; where y_it says the service runs (`services`, else x_it > 0) and E_it is
    x_it, or with tiers the reported bands weighted by their scales (reference_milp.py).
    payback_year: the first year by whose end sum_(t'<=t) d_t' (savings_t' - spend_t') >= 0
    (within 1e-9 of the plan's cost), with spend_t the plan's cost in year t.
    """
    data = prepare(instance, scenarios_of(instance)[scenario_name])
    start = int(instance["start_year"])
    units = {i: [float(v) for v in result["units"].get(i, [0.0] * data.years)]
             for i in data.interventions}
    h = data.years
    from reference_milp import _effective, _extensions  # it imports this module
    ext = _extensions(instance, scenarios_of(instance)[scenario_name], h)
    services = result.get("services") or {}
    setup = {i: [ext["setup"][i][t] if (services[i]["runs"][t] if i in services
                                        else units[i][t] > 0) else 0.0 for t in range(h)]
             for i in ext["setup"]}
    effective = _effective(data, ext, units, result)
    spend_t = [sum(data.unit_cost[i][t] * units[i][t] + (setup[i][t] if i in setup else 0.0)
                   for i in data.interventions)
               for t in range(h)]
    agency_savings = {a: [0.0] * h for a in data.agencies}
    for i in data.interventions:
        for t in range(h):
            arrival = t + data.lag[i]
            if arrival >= h:
                continue
            for a, g in data.savings[i].items():
                agency_savings[a][arrival] += g * effective[i][t]
    agency_spend = {a: [0.0] * h for a in data.agencies}
    for s, by_i in (result.get("funding") or {}).items():
        for money in by_i.values():
            for t in range(h):
                agency_spend[data.stream_agency[s]][t] += float(money[t])
    savings_t = [sum(agency_savings[a][t] for a in data.agencies) for t in range(h)]
    cost = sum(data.discount[t] * spend_t[t] for t in range(h))
    saved = sum(data.discount[t] * savings_t[t] for t in range(h))
    value = sum(data.discount[t] * data.value[k] * data.effects[i].get(k, 0.0) * effective[i][t]
                for t in range(h) for k in data.outcomes for i in data.interventions)
    payback = None
    running = 0.0
    for t in range(h):
        running += data.discount[t] * (savings_t[t] - spend_t[t])
        if running >= -1e-9 * max(1.0, cost):
            payback = start + t
            break
    account = {
        "cost": cost, "cash_savings": saved, "cash_net": saved - cost, "outcome_value": value,
        "net_benefit": value + saved - cost,
        "financial_return": saved / cost if cost > 0 else None,
        "public_value_return": (saved + value) / cost if cost > 0 else None,
        "payback_year": payback,
    }
    by_year = {a: {"spend": agency_spend[a], "savings": agency_savings[a]}
               for a in data.agencies}
    return {"account": account, "by_year": by_year, "discount": data.discount, "scale": cost}


def check_account(instance: Mapping[str, Any], scenario_name: str, result: Mapping[str, Any],
                  tol: float = 1e-6) -> list[str]:
    """Where one optimal scenario entry's `account` and agencies' `by_year` differ from the
    contract's definitions (`account_of`) by more than `tol` relative, and where an agency's
    by-year cash does not discount to its present-value spend and savings."""
    want = account_of(instance, scenario_name, result)
    got = result.get("account") or {}
    gross = max(1.0, abs(want["scale"]), abs(want["account"]["cash_savings"]))
    problems = []
    for key, value in want["account"].items():
        have = got.get(key, "missing")
        if value is None or key == "payback_year":
            if have != value:
                problems.append(f"account.{key}: {have!r}, by definition {value!r}")
            continue
        # ratios are compared relative to themselves; money relative to the money involved
        scale = max(1.0, abs(value)) if key.endswith("_return") else max(gross, abs(value))
        if not isinstance(have, int | float) or abs(have - value) > tol * scale:
            problems.append(f"account.{key}: {have!r}, by definition {value!r}")
    d = want["discount"]
    for a, cash in want["by_year"].items():
        entry = result["agencies"][a]
        by_year = entry.get("by_year") or {}
        for part in ("spend", "savings"):
            series = by_year.get(part)
            if series is None or len(series) != len(d):
                problems.append(f"agencies.{a}.by_year.{part}: {series!r}")
                continue
            pv = sum(dt * v for dt, v in zip(d, series, strict=True))
            if abs(pv - entry[part]) > tol * max(gross, abs(entry[part])):
                problems.append(f"agencies.{a}.by_year.{part} discounts to {pv}, not "
                                f"{entry[part]}")
            for t, (v, w) in enumerate(zip(series, cash[part], strict=True)):
                if abs(v - w) > tol * max(gross, abs(w)):
                    problems.append(f"agencies.{a}.by_year.{part}[{t}]: {v}, by definition {w}")
    return problems


def figure_uniforms(seed: int, label: str, draws: int) -> np.ndarray:
    """(draws,) the uniform numbers of the figure at dotted path `label` in draws 0 .. draws-1,
    as docs/contract.md states the rule: its own stream, numpy's default generator (PCG64)
    seeded with SeedSequence(seed, spawn_key=(k,)), k = the first 16 bytes of SHA-256 of the
    label (UTF-8) as a big-endian integer; draw d takes the stream's (d + 1)-th number."""
    k = int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:16], "big")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,))).random(draws)
