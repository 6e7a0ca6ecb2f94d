"""Scenarios: apply each scenario to the instance and turn it into the model's plain data.

A scenario is overrides on the instance (docs/contract.md: `overrides` are applied before
the model is built, then `pool_share`, `pooling`, `incentives`, `transfers`).
Scenarios are solved in an order where every reference comes before the
scenarios that protect its positions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.data import UNCLASSIFIED, PlaceData
from optimiser.errors import InstanceError, Problem
from optimiser.inputs.figures import scenario_uses
from optimiser.inputs.named import Use
from optimiser.inputs.ranges import central_instance, multiplier, written_figures
from optimiser.inputs.schema import DEFAULT_SCENARIOS, Instance, RiskShare, Scenario
from optimiser.inputs.validate import check_references, check_schema, per_year, suggest
from optimiser.inputs.yamlsource import Source, dotted
from optimiser.recent import Recent


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario ready to build: the instance as it modifies it, and its reference."""

    name: str
    scenario: Scenario
    instance: Instance
    reference: str | None
    """The scenario whose positions it is compared with (and protects, for no_worse_off)."""
    uses: dict[tuple[str | int, ...], Use] = field(default_factory=dict)
    """Its numbers written with named figures, by path (`optimiser.inputs.figures`)."""


def scenario_runs(instance: Instance, source: Source) -> list[ScenarioRun]:
    """Every scenario with its overrides applied and validated, references first.

    Raises `InstanceError` listing every override that does not resolve or
    that makes the instance invalid, and any scenario without a reference
    that its incentives need.
    """
    declared = instance.scenarios
    scenarios = (
        declared if declared is not None
        else {k: Scenario.model_validate(v) for k, v in DEFAULT_SCENARIOS.items()}
    )
    problems: list[Problem] = []
    runs: dict[str, ScenarioRun] = {}
    first_unpooled = default_reference(scenarios)
    for name, scenario in scenarios.items():
        changed = instance
        if scenario.overrides:
            try:
                changed = apply_overrides(source, name, scenario.overrides)
            except InstanceError as err:
                problems.extend(err.problems)
                continue
        reference = scenario.reference or (first_unpooled if first_unpooled != name else None)
        if scenario.incentives == "no_worse_off" and reference is None:
            problems.append(source.problem(
                ("scenarios", name, "incentives"),
                "no_worse_off needs a reference scenario: add one with pooling: false, "
                "or name it with reference:"))
        elif scenario.agreement is not None and reference is None:
            problems.append(source.problem(
                ("scenarios", name, "agreement"),
                "an agreement shares what pooling gains or costs against a reference "
                "scenario: add one with pooling: false, or name it with reference:"))
        runs[name] = ScenarioRun(name, scenario, changed, reference,
                                 scenario_uses(source.uses, name, list(scenario.overrides)))
    if problems:
        raise InstanceError(problems)
    return _reference_order(runs, source)


def default_reference(scenarios: dict[str, Scenario]) -> str | None:
    """The place's reference scenario: the first declared with `pooling: false` (None if
    every scenario pools). The one rule behind `no_worse_off`'s default reference, the
    ring-fence prices' reference and the roll-up's `ring_fenced` role."""
    return next((name for name, s in scenarios.items() if not s.pooling), None)


def comparable(run: ScenarioRun, reference: ScenarioRun) -> bool:
    """Whether a scenario's figures compare with its reference's as like with like: the
    same horizon (start year and years), discount rate and objective (an override may
    change any of them)."""
    a, b = run.instance, reference.instance
    return (a.years, a.start_year, a.discount_rate, a.objective) == (
        b.years, b.start_year, b.discount_rate, b.objective)


def main_pooled(runs: list[ScenarioRun], declared: list[str]) -> ScenarioRun | None:
    """The place's main pooled scenario, the one the headline, the tornado, the roll-up's
    `pooled` and the reports' gains picture speak of: among the pooled scenarios of
    `declared` with a reference they compare with (`comparable`), the one named
    'pooled'; else, of those that pool everything they may (no incentives, agreement,
    pool_share or overrides of their own), the one whose name sorts first; else of
    those without incentives or overrides; else of them all. A tie goes to the name
    that sorts first, never to the order the scenarios are written in. None where no
    pooled scenario compares with its reference."""
    by_name = {r.name: r for r in runs}
    pooled = [by_name[n] for n in sorted(declared)
              if n in by_name and by_name[n].scenario.pooling]
    fit = [r for r in pooled if r.reference is not None and r.reference in by_name
           and comparable(r, by_name[r.reference])]
    named = [r for r in fit if r.name == "pooled"]
    plain = [r for r in fit if r.scenario.incentives == "none" and not r.scenario.overrides]
    full = [r for r in plain if not r.scenario.pool_share and r.scenario.agreement is None
            and not r.scenario.transfers]
    for choice in (named, full, plain, fit):
        if choice:
            return choice[0]
    return None


def _reference_order(runs: dict[str, ScenarioRun], source: Source) -> list[ScenarioRun]:
    """Order runs so each reference is solved before a scenario that protects its positions
    or settles an agreement against them."""
    ordered: list[ScenarioRun] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*chain, name])
            raise InstanceError([source.problem(
                ("scenarios", chain[0], "reference"), f"references go round in a circle: {cycle}")])
        state[name] = "visiting"
        run = runs[name]
        needs = run.scenario.incentives == "no_worse_off" or run.scenario.agreed() is not None
        if needs and run.reference is not None:
            visit(run.reference, [*chain, name])
        state[name] = "done"
        ordered.append(run)

    for name in runs:
        visit(name, [])
    return ordered


def apply_overrides(source: Source, name: str, overrides: dict[str, Any]) -> Instance:
    """The instance with a scenario's dotted-path overrides applied, validated again.

    `interventions.night_contact.max_units: 3000` sets that field; a path may end
    in a field the file leaves to its default, but every id on the way must exist.
    """
    data = copy.deepcopy(source.data)
    problems: list[Problem] = []
    for key, value in overrides.items():
        at = ("scenarios", name, "overrides", key)
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
        if parts[0] in ("scenarios", "name") or len(parts) < 1:
            problems.append(source.problem(at, f"'{key}' cannot be overridden by a scenario"))
            continue
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            ok = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node))
            if not ok:
                hint = suggest(str(part), set(node)) if isinstance(node, dict) else ""
                where = dotted(parts[:depth]) or "the instance"
                problems.append(source.problem(
                    at, f"override path '{key}': there is no '{part}' in {where}{hint}"))
                break
            node = node[part]
        else:
            last = parts[-1]
            in_list = isinstance(node, list) and isinstance(last, int) and last < len(node)
            if in_list or (isinstance(node, dict) and isinstance(last, str)):
                node[last] = value
            else:
                problems.append(source.problem(at, f"override path '{key}' does not name a field"))
    if problems:
        raise InstanceError(problems)
    try:
        changed = check_schema(data, source)
        late = check_references(changed, source)
    except InstanceError as err:
        late = err.problems
    if late:
        raise InstanceError([_blame_override(source, name, list(overrides), p) for p in late])
    return changed


def _blame_override(source: Source, name: str, keys: list[str], late: Problem) -> Problem:
    """A problem the overrides caused, placed at the override that caused it.

    The override whose path is the problem's path, or leads to it, or lies within
    it; else the only override; else the scenario's `overrides` as a whole.
    """
    near = [k for k in keys if late.path == k or late.path.startswith((k + ".", k + "["))
            or k.startswith((late.path + ".", late.path + "["))]
    key = near[0] if near else (keys[0] if len(keys) == 1 else None)
    at: tuple[str, ...] = ("scenarios", name, "overrides") + ((key,) if key else ())
    if key == late.path:
        return source.problem(at, f"this override is not valid: {late.message}")
    return source.problem(at, f"with this override, {late.path} is not valid: {late.message}")


def place_data(
    run: ScenarioRun, reference_positions: dict[str, float] | None = None
) -> PlaceData:
    """The model's plain data for one scenario.

    `reference_positions` (agency -> P_a in the reference scenario's solution)
    is needed when the scenario's incentives are no_worse_off. Uncertain
    figures take their central values (`optimiser.ranges.sample_place` draws them).
    """
    inst, sc = central_instance(run.instance), run.scenario
    agencies = list(inst.agencies)
    streams = list(inst.streams)
    reference = np.full(len(agencies), np.nan)
    if sc.incentives == "no_worse_off":
        if reference_positions is None:
            raise ValueError(f"scenario {run.name} needs its reference's positions")
        reference = np.array([reference_positions[a] for a in agencies], dtype=float)

    return PlaceData(
        discount=(1.0 + inst.discount_rate) ** -np.arange(inst.years, dtype=float),
        objective=inst.objective,
        **place_tables(inst),
        pool_share=np.array([sc.pool_share.get(s, inst.streams[s].pool_share) for s in streams],
                            dtype=float),
        pooling=sc.pooling,
        reference=reference,
        transfers=sc.agreed() is not None,
        agreement=sc.agreed(),
        agreement_shares=(np.array([sc.agreement.risk_share.get(a, 0.0) for a in agencies],
                                   dtype=float)
                          if isinstance(sc.agreement, RiskShare) else None),
    )


_TABLES: Recent[dict[str, Any]] = Recent()
"""`place_tables` of the last few places, by the objects they were made from."""


def place_tables(inst: Instance) -> dict[str, Any]:
    """The PlaceData fields that depend on the place alone (its years, agencies, streams,
    interventions and outcomes), not on the scenario or the discount rate: made once for
    the same (frozen) parts of an instance, every scenario and every discount rate of a
    run sharing them, and handed out as copies (no scenario's data shares an array with
    another's). `inst` has its central figures (`central_instance`)."""
    parts = (inst.years, inst.agencies, inst.streams, inst.interventions, inst.outcomes)
    tables = _TABLES.get(*parts)
    if tables is None:
        tables = _place_tables(inst)
        _TABLES.keep(tables, *parts)
    return {k: v.copy() if isinstance(v, np.ndarray) else
            [list(f) for f in v] if k == "fence" else
            list(v) if isinstance(v, list) else v for k, v in tables.items()}


def _place_tables(inst: Instance) -> dict[str, Any]:
    years = inst.years
    agencies = list(inst.agencies)
    interventions = list(inst.interventions)
    outcomes = list(inst.outcomes)
    streams = list(inst.streams)
    a_pos = {a: n for n, a in enumerate(agencies)}
    i_pos = {i: n for n, i in enumerate(interventions)}

    items = list(inst.interventions.values())
    written = written_figures(inst)
    m = multiplier(written)[:, None]

    def table(values: list[Any]) -> np.ndarray:
        return np.array([per_year(v, years) for v in values], dtype=float).reshape(
            len(values), years)

    def fence_of(sid: str) -> list[int]:
        stream = inst.streams[sid]
        if stream.ring_fence is None:
            return [n for n, v in enumerate(items) if v.agency == stream.agency]
        return sorted({i_pos[i] for i in stream.ring_fence})

    return dict(
        years=years,
        interventions=interventions,
        cost=table([v.unit_cost for v in items]),
        min_units=table([v.min_units for v in items]),
        max_units=table([v.max_units for v in items]),
        lag=np.array([v.lag for v in items], dtype=int),
        outcomes=outcomes,
        effect=written["effect"] * m,
        value=np.array([o.value or 0.0 for o in inst.outcomes.values()], dtype=float),
        weight=np.array([1.0 if o.value is None else o.value for o in inst.outcomes.values()],
                        dtype=float),
        target=np.array([per_year(o.target, years) if o.target is not None
                         else [np.nan] * years for o in inst.outcomes.values()],
                        dtype=float).reshape(len(outcomes), years),
        agencies=agencies,
        saving=written["saving"] * m,
        streams=streams,
        stream_agency=np.array([a_pos[s.agency] for s in inst.streams.values()], dtype=int),
        budget=table([s.budget for s in inst.streams.values()]),
        fence=[fence_of(s) for s in streams],
        floor=np.array([-a.max_net_cost if a.max_net_cost is not None else np.nan
                        for a in inst.agencies.values()], dtype=float),
        setup_cost=table([v.setup_cost for v in items]),
        min_scale=table([v.min_scale for v in items]),
        tiers=tier_tables(inst),
        carry_over=np.array([s.carry_over for s in inst.streams.values()], dtype=bool),
        agency_kind=tuple(a.kind or UNCLASSIFIED for a in inst.agencies.values()),
    )


def tier_tables(inst: Instance) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Every intervention's bands ((units, scale), ..., (inf, scale)); () for one without
    tiers, and () for the whole when none has any (the model is then today's LP)."""
    if not any(v.tiers for v in inst.interventions.values()):
        return ()
    return tuple(
        tuple((float("inf") if b.units is None else float(b.units), float(b.scale))
              for b in (v.tiers or []))
        for v in inst.interventions.values())
