"""What limits the plan: every binding cap, minimum, target, floor and budget, with its price.

A plan sits where its limits put it. For every scenario with a plan this lists each limit
the plan reaches and what relaxing it by one unit would gain, from HiGHS's duals at the
scenario's optimum (the machinery of `optimiser.analyses.prices`):

- `max_units` (cap) of intervention i, binding in the years where x_it = max_units_it:
  gain = G * sum_t y_it over those years, y_it the column dual of x_it (d z* / d max_units_it);
- `min_units` (minimum), where x_it = min_units_it > 0: gain = -G * sum_t y_it (lowering the
  minimum by one unit a year);
- `target` of outcome k, where sum_i e_ik x_it = target_kt: gain = -G * sum_t y_kt, y_kt the
  target row's dual (lowering the target by one unit a year);
- `max_net_cost` (floor) of agency a, where P_a = -max_net_cost_a: gain = -G * y_a (letting the
  agency lose one unit more, present value: not a year);
- `budget` of stream s, where it spends all of budget_st: gain = G * sum_t y_st (one more
  unit of money a year).

G is +1 for the maximised objectives and -1 for `cost`, so a gain is a rise in net benefit or
weighted outcomes, or a fall in cost, in the objective's own units. HiGHS's row and column
duals are d z* / d (bound) in the objective's sense (`optimiser.solving.highs.row_duals`);
where the optimum is degenerate the dual is one of the valid rates. Each limit says whether
the figure behind it is sourced or an assumption (`figure_basis`): a comment beside it in
the instance, or the named figure it is written with. A plan with set-up decisions (binary
variables) is priced with them fixed at its optimum: which services run stays as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.pooling import PlaceData
from optimiser.inputs.assumptions import assumptions
from optimiser.inputs.yamlsource import Source
from optimiser.pipeline import RunResult
from optimiser.solving.highs import column_lookup, fixed_integers, reoptimise, row_duals
from optimiser.solving.results import ScenarioResult

BIND_TOL = 1e-7
"""A plan is at a limit within this relative distance of it (of the limit, or 1)."""
MOSTLY_CAPS = 0.5
"""The plan is 'mostly the caps' when more than this share of the interventions it buys
sit at their cap in some year."""
LIMIT_COLUMNS = ["scenario", "kind", "item", "years", "gain", "unit", "figure", "basis",
                 "note"]


def limits(result: RunResult) -> dict[str, Any]:
    """The analysis registered as `limits`: scenario -> {"limits": [...], "interventions",
    "bought", "at_cap", "caps_assumed", "mostly_caps", "priced"}; each limit: kind
    (max_units | min_units | target | max_net_cost | budget), item (id), years (calendar
    years it binds), gain (objective gained by relaxing it one unit a year; None without
    duals), unit (what one unit is), figure (the dotted path of its figure), basis (source |
    assumption | arithmetic on assumptions | arithmetic | unstated) and note (the source
    or assumption as written)."""
    prepared = result.prepared
    table = assumptions(prepared.path, prepared.source, prepared.instance)
    out: dict[str, Any] = {}
    optimal = [s for s in result.scenarios if s.status == "optimal" and s.data is not None]
    result.progress.expect(max(1, len(optimal)))
    for s in result.scenarios:
        if s.status != "optimal" or s.data is None:
            continue
        out[s.name] = scenario_limits(s, result, table, prepared.source)
        result.progress.advance()
    return out


def scenario_limits(s: ScenarioResult, result: RunResult, table: pd.DataFrame,
                    source: Source) -> dict[str, Any]:
    """One scenario's binding limits, their prices and how many interventions sit at a cap."""
    data = s.data
    assert data is not None
    inst = result.instance
    start = inst.start_year
    duals = _duals(s)
    gain_sign = -1.0 if data.objective == "cost" else 1.0
    shape = (len(data.interventions), data.years)
    x = s.allocation["units"].to_numpy(dtype=float).reshape(shape)
    found: list[dict[str, Any]] = []

    def add(kind: str, item: str, years: np.ndarray, duals_: np.ndarray | None,
            direction: float, unit: str, path: tuple[str, ...]) -> None:
        if not years.any():
            return
        gain = None if duals_ is None else float(gain_sign * direction * duals_[years].sum())
        basis, note = figure_basis(table, source, path)
        found.append({"kind": kind, "item": item,
                      "years": [int(start + t) for t in np.flatnonzero(years)],
                      "gain": None if gain is None else gain + 0.0, "unit": unit,
                      "figure": ".".join(path), "basis": basis, "note": note})

    col = duals["columns"] if duals else None
    for i, item in enumerate(data.interventions):
        unit = inst.interventions[item].unit or "unit"
        finite = np.isfinite(data.max_units[i])
        cap = np.where(finite, data.max_units[i], 0.0)
        at_cap = finite & (x[i] >= cap - BIND_TOL * np.maximum(1.0, np.abs(cap)))
        add("max_units", item, at_cap, None if col is None else col[i], 1.0,
            f"{unit} a year", ("interventions", item, "max_units"))
        low = data.min_units[i]
        at_min = (low > 0) & (x[i] <= low + BIND_TOL * np.maximum(1.0, low)) & ~at_cap
        add("min_units", item, at_min, None if col is None else col[i], -1.0,
            f"{unit} a year", ("interventions", item, "min_units"))
    achieved = s.outcomes["achieved"].to_numpy(dtype=float).reshape(len(data.outcomes),
                                                                      data.years)
    for k, outcome in enumerate(data.outcomes):
        target = data.target[k]
        row = duals["target"][k] if duals else None
        met = ~np.isnan(target) & (achieved[k] <= np.nan_to_num(target) + BIND_TOL * np.maximum(
            1.0, np.abs(np.nan_to_num(target))))
        if row is not None:
            met |= ~np.isnan(target) & (np.abs(row) > 0)
        add("target", outcome, met, row, -1.0, "a year",
            ("outcomes", outcome, "target"))
    position = dict(zip(s.agencies["agency"], s.agencies["position"], strict=True))
    money = max(1.0, float(np.abs(s.agencies[["spend", "savings"]].to_numpy()).max(initial=0)))
    for a, agency in enumerate(data.agencies):
        floor = data.floor[a]
        if np.isnan(floor):
            continue
        on = position[agency] <= floor + BIND_TOL * money
        row = None
        if duals:
            row = np.zeros(data.years)
            row[0] = duals["floor"][a]
            on = on or bool(abs(row[0]) > 0)
        before = len(found)
        add("max_net_cost", agency, np.array([on] + [False] * (data.years - 1)), row, -1.0,
            f"{inst.currency} of loss (present value, once)", ("agencies", agency,
                                                              "max_net_cost"))
        if len(found) > before:
            found[-1]["years"] = []  # a floor holds over the whole plan, not a year
    spent = _stream_spend(s, data)
    for n, stream in enumerate(data.streams):
        budget = data.budget[n]
        full = spent[n] >= budget - BIND_TOL * np.maximum(1.0, budget)
        row = duals["budget"][n] if duals else None
        if row is not None:
            full |= np.abs(row) > 0
        add("budget", stream, full, row, 1.0, f"{inst.currency} a year",
            ("streams", stream, "budget"))
    bought = [i for i in range(len(data.interventions)) if x[i].any()]
    capped = [e for e in found if e["kind"] == "max_units"]
    assumed = [e for e in capped if e["basis"] != "source"]
    return {
        "limits": found,
        "priced": duals is not None,
        "interventions": len(data.interventions),
        "bought": len(bought),
        "at_cap": len(capped),
        "caps_assumed": len(assumed),
        "mostly_caps": bool(bought) and len(capped) > MOSTLY_CAPS * len(bought),
    }


def _duals(s: ScenarioResult) -> dict[str, np.ndarray] | None:
    """The scenario's duals at its optimum: `columns` (I, H) of x_it, `target` (K, H),
    `floor` (A,), `budget` (S, H); None where the model cannot be re-solved. A plan with
    set-up decisions is priced with its binaries fixed at the optimum (which services run
    stays as it is): the prices are then those of the LP that remains."""
    data, model = s.data, s.model
    if data is None or model is None:
        return None
    model.load(data)
    lp = model.lp
    status, _, x = reoptimise(lp, cold=True)
    if status != "optimal":
        return None
    with fixed_integers(lp, x):
        if len(lp.integer):
            status, _, _ = reoptimise(lp, cold=True, values=False)
        if status != "optimal":
            return None
        rows = row_duals(lp)
        cols = np.asarray(lp.highs.getSolution().col_dual, dtype=float)
    lookup = column_lookup(lp)
    shape = (len(data.interventions), data.years)
    columns = np.zeros(shape)
    for i in range(shape[0]):
        for t in range(shape[1]):
            at = lookup.get(("x", (i, t)))
            if at is not None:
                columns[i, t] = cols[at]
    target = np.zeros((len(data.outcomes), data.years))
    floor = np.zeros(len(data.agencies))
    budget = np.zeros((len(data.streams), data.years))
    for n, (name, index, _) in enumerate(lp.rows):
        if name == "target":
            target[index] = rows[n]
        elif name == "floor":
            floor[index] = rows[n]
        elif name == "budget":
            budget[index] = rows[n]
    clean = {"columns": columns, "target": target, "floor": floor, "budget": budget}
    return {k: np.where(np.abs(v) > 1e-12, v, 0.0) for k, v in clean.items()}


def _stream_spend(s: ScenarioResult, data: PlaceData) -> np.ndarray:
    """(S, H) what each stream spends a year in the reported plan (its funding, in-fence
    and pooled)."""
    out = np.zeros((len(data.streams), data.years))
    if s.funding.empty:
        return out
    spent = s.funding.groupby(["stream", "year"])["amount"].sum()
    first = int(s.allocation["year"].min())
    for (stream, year), v in spent.items():
        out[data.streams.index(stream), int(year) - first] = v
    return out


def figure_basis(table: pd.DataFrame, source: Source,
                 path: tuple[str, ...]) -> tuple[str, str]:
    """Whether the figure at `path` is sourced or an assumption: (its basis, the note as
    written); the basis is the kind `optimiser.inputs.assumptions` gives its note (the
    weakest where it has several), or 'unstated'. From the comment beside it in the instance (an
    ASSUMPTION marker makes it an assumption), else from the named figures it is written
    with (an assumption where any of them is one)."""
    if not table.empty:
        mine = table[table["path"] == ".".join(path)]
        if mine.empty:
            use = source.uses.get(path)
            names = list(getattr(use, "names", []) or [])
            mine = table[table["path"].isin([f"figures.{n}" for n in names])]
        if not mine.empty:
            return _weakest(mine["kind"].tolist()), "; ".join(str(n) for n in mine["note"])
    return "unstated", ""


def _weakest(kinds: list[str]) -> str:
    """The weakest basis among a figure's notes: an assumption, then arithmetic on
    assumptions, then arithmetic, then a source."""
    for kind in ("assumption", "arithmetic on assumptions", "arithmetic"):
        if kind in kinds:
            return kind
    return "source"


def limits_table(entry: dict[str, Any] | None) -> pd.DataFrame:
    """results.json's `limits` as a table (LIMIT_COLUMNS plus `src`), scenario by scenario."""
    rows = [{"scenario": name, **{k: e[k] for k in LIMIT_COLUMNS[1:]},
             "years": ", ".join(str(y) for y in e["years"]),
             "src": f"limits/{name}/limits/{n}"}
            for name, body in (entry or {}).items() for n, e in enumerate(body["limits"])]
    return pd.DataFrame(rows, columns=[*LIMIT_COLUMNS, "src"])
