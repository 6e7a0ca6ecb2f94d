"""The national roll-up: several places' results added up the way the Treasury reads them.

'If these 7 places pooled: GBP x more net benefit, y more admissions avoided a year.' Built
from each place's tidy tables, never from a model. One long, tidy table holds every figure,
a row per scenario, place (or TOTAL) and measure:

- `objective` (item: the objective's kind; only the same kind adds up);
- `spend`, `savings`, `net` (item `all`: every agency of the place; net = savings - spend);
- `kind_spend`, `kind_savings`, `kind_net` (item: the agencies' `kind`, or `unclassified`;
  net includes transfers, which cancel within a place);
- `outcome` (item: the outcome id): the effective outcome a year, averaged over the
  place's horizon. Only outcomes with the same id in two or more places get a TOTAL row;
- `account` (item: cost, cash_savings, cash_net, outcome_value, net_benefit): the place's
  Treasury account (`optimiser.solving.account`), cash and valued outcomes apart, so that a
  TOTAL says how much of the national gain is public cash and how much is value no budget
  receives. Its returns are recomputed from the totals (`account_totals`), never added.

Money is present value, at each place's own discount rate over its own horizon. A TOTAL
row is the sum of the place rows with the same scenario, measure and item (`places` says
how many), and so is its `vs_ring_fenced`, the change from each place's ring-fenced plan.

Positions are added only where they are decided (`positions_left_out`): a place whose
scenario, or the ring-fenced plan it is compared with, leaves which services run undecided
(equally good sets of services left, results.json's `mip.services_decided` false) adds its
objective, outcomes and account to that scenario's totals but not its agencies' figures
(`spend`, `savings`, `net` and the `kind_` measures); `coverage` says which places were
left out of which totals and why.

Scenarios are matched by name. A place with no scenario named `ring_fenced` lends its
reference scenario (the first without pooling) to that name, and one with no `pooled`
lends its first fully pooled scenario (pooling, no incentives, shares or overrides).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimiser.errors import UsageError
from optimiser.format import money
from optimiser.pipeline import Prepared, RunResult
from optimiser.place.scenarios import default_reference, main_pooled
from optimiser.reports.story import change_tolerance, gains_table, reading, services_decided

TOTAL = "TOTAL"
"""The `place` of a row that adds up the places."""
RING_FENCED, POOLED = "ring_fenced", "pooled"
COLUMNS = ["scenario", "place", "measure", "item", "places", "value", "vs_ring_fenced"]
MEASURES = ["objective", "spend", "savings", "net", "kind_spend", "kind_savings", "kind_net",
            "outcome", "account"]
POSITIONS = ("spend", "savings", "net", "kind_spend", "kind_savings", "kind_net")
"""The measures made of the agencies' positions: a place's are added to a scenario's totals
only where decided (`positions_left_out`)."""
ACCOUNT_MONEY = ["cost", "cash_savings", "cash_net", "outcome_value", "net_benefit"]
"""The account's figures that add up across places (present values)."""
UNCLASSIFIED = "unclassified"
KIND_NAMES = {
    "council": "councils", "pct": "PCTs", "icb": "ICBs", "acute_trust": "acute trusts",
    "mental_health_trust": "mental health trusts", "community_trust": "community trusts",
    "ambulance_trust": "ambulance trusts", "police": "police", "fire": "fire and rescue",
    "probation": "probation", "jcp": "Jobcentre Plus",
    "central_government": "central government", "voluntary": "voluntary sector",
    "other": "other agencies", UNCLASSIFIED: "unclassified agencies",
}


@dataclass
class Rollup:
    """Several places' results and their figures added up."""

    places: dict[str, RunResult]
    """Instance file stem -> that place's results, in the order given."""
    roles: dict[str, dict[str, str]]
    """Stem -> roll-up scenario name -> the place's own scenario name."""
    table: pd.DataFrame
    """The long table (COLUMNS), sorted: what rollup.csv holds."""
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """Stem -> the place's report files, for places whose worker wrote them
    (`optimiser.rollup.places`); the others' are written with the roll-up's."""
    left_out: dict[str, dict[str, str]] = field(default_factory=dict)
    """Stem -> roll-up scenario -> why that place's positions are not in the scenario's
    totals (`positions_left_out`); places whose positions all add up are not named."""
    ranges: dict[str, dict[str, tuple[float, float]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    """Roll-up scenario -> its kinds' change ranges once worked out (`kind_change_ranges`,
    which results.json, the documents, the headline and the terminal all read)."""

    @property
    def currency(self) -> str:
        """The one currency every place counts in."""
        return next(iter(self.places.values())).instance.currency

    @property
    def all_optimal(self) -> bool:
        """True when every scenario of every place solved to optimality."""
        return all(r.all_optimal for r in self.places.values())

    def scenarios(self) -> list[str]:
        """Roll-up scenario names: ring_fenced and pooled first, then the rest as found."""
        names: list[str] = []
        for roles in self.roles.values():
            names += [n for n in roles if n not in names]
        first = [n for n in (RING_FENCED, POOLED) if n in names]
        return first + [n for n in names if n not in first]


def check_addable(prepared: list[Prepared]) -> None:
    """`UsageError` unless the places can be added up: distinct stems, one currency."""
    stems = [p.path.stem for p in prepared]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise UsageError(f"two instance files share the name {', '.join(twice)}: their "
                         "reports would share a folder; rename one")
    if TOTAL in stems:
        raise UsageError(f"an instance file cannot be called {TOTAL}: the roll-up uses that "
                         "name for its totals")
    for path in (p.path for p in prepared):
        problem = folder_name_problem(path.stem)
        if problem:
            raise UsageError(f"{path}: {problem}; rename the file (each place's report goes "
                             "in a folder named after it)")
    currencies = {p.instance.currency for p in prepared}
    if len(currencies) > 1:
        by = {c: [p.path.name for p in prepared if p.instance.currency == c]
              for c in sorted(currencies)}
        listed = "; ".join(f"{c}: {', '.join(files)}" for c, files in by.items())
        raise UsageError(f"cannot add up places that count in different currencies ({listed})")


ROLLUP_FILES = frozenset({"results.json", "rollup.csv", "report.html", "report.xlsx",
                          "summary.md", ".optimise-manifest.json"})
"""The roll-up's own files, beside the places' folders."""


def folder_name_problem(stem: str) -> str | None:
    """Why a file's stem cannot name a place's folder in a roll-up, or None."""
    if not stem or stem.startswith("."):
        return "its name starts with a dot (a hidden folder, or '.' and '..')"
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in stem):
        return "its name has a control character"
    if stem in ROLLUP_FILES:
        return f"the roll-up writes a file called {stem}"
    return None


def roll_up(places: dict[str, RunResult]) -> Rollup:
    """Add up the places' results (stem -> results), scenario by scenario."""
    roles = {stem: scenario_roles(result) for stem, result in places.items()}
    left_out = {stem: positions_left_out(result, roles[stem]) for stem, result in places.items()}
    frames = [place_rows(stem, result, roles[stem], left_out[stem])
              for stem, result in places.items()]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    rows = _with_change(rows)
    table = pd.concat([rows, _totals(rows)], ignore_index=True)
    rollup = Rollup(places, roles, table,
                    left_out={stem: why for stem, why in left_out.items() if why})
    rollup.table = _sorted(table, rollup.scenarios(), list(places))
    return rollup


def scenario_roles(result: RunResult) -> dict[str, str]:
    """Roll-up scenario name -> the place's scenario: its own names, and the two roles.

    `ring_fenced`: the scenario of that name, else the place's reference scenario (the
    first without pooling). `pooled`: the place's main pooled scenario
    (`optimiser.place.scenarios.main_pooled`, the one its own headline speaks of).
    """
    runs = {r.name: r for r in result.prepared.runs}
    names = [s.name for s in result.scenarios]
    roles = {n: n for n in names}
    if RING_FENCED not in roles:
        ref = default_reference({n: runs[n].scenario for n in names})
        if ref is not None:
            roles[RING_FENCED] = ref
    main = main_pooled(result.prepared.runs, names)
    if main is not None:
        roles[POOLED] = main.name
    elif POOLED in roles:
        del roles[POOLED]  # a 'pooled' that does not compare with its reference
    return roles


def positions_left_out(result: RunResult, roles: dict[str, str]) -> dict[str, str]:
    """Roll-up scenario -> why this place's positions are not added to its totals.

    A place's positions in roll-up scenario X (its own scenario o = roles[X]) are added
    only where decided: added(X) = D(o) and D(r), r the place's own ring-fenced plan
    (roles['ring_fenced'], where it has one; the change against it is part of each
    position), D(s) = which services run in s is decided by the rules (results.json's
    `mip.services_decided`; always for a linear programme). Where not, equally good sets
    of services reach the same objective but could move every agency's spending, savings
    and net position by amounts not found, so none of them is added up; the objective,
    which they share, still is. Scenarios without a plan are left to `coverage`."""
    optimal = {s.name for s in result.scenarios if s.status == "optimal"}
    ring = roles.get(RING_FENCED)
    out = {}
    for name, own in roles.items():
        if own not in optimal:
            continue
        open_ = [s for s in dict.fromkeys([own, ring]) if s in optimal
                 and not services_decided(result, s)]
        if open_:
            where = " and ".join(f"'{s}'" for s in open_)
            out[name] = (f"which services run is not decided in its "
                         f"{'scenario' if len(open_) == 1 else 'scenarios'} {where}: "
                         "equally good sets of services could change its agencies' positions")
    return out


def place_rows(stem: str, result: RunResult, roles: dict[str, str],
               left_out: Collection[str] = ()) -> pd.DataFrame:
    """One place's rows of the long table, for its optimal scenarios under every role; no
    POSITIONS rows for the roll-up scenarios in `left_out` (`positions_left_out`)."""
    inst = result.instance
    kinds = {a: spec.kind or UNCLASSIFIED for a, spec in inst.agencies.items()}
    optimal = {s.name for s in result.scenarios if s.status == "optimal"}
    alias = pd.DataFrame([(own, name) for name, own in roles.items() if own in optimal],
                         columns=["own", "rollup"])
    objective = pd.DataFrame({
        "own": [s.name for s in result.scenarios if s.name in optimal],
        "measure": "objective", "item": inst.objective,
        "value": [s.objective for s in result.scenarios if s.name in optimal],
    })
    agencies = result.table("agencies").rename(columns={"scenario": "own"})
    agencies = agencies[agencies["own"].isin(optimal)]
    totals = agencies.groupby("own", sort=False)[["spend", "savings"]].sum()
    totals["net"] = totals["savings"] - totals["spend"]
    money = totals.reset_index().melt(id_vars="own", var_name="measure", value_name="value")
    money["item"] = "all"
    by_kind = (agencies.assign(item=agencies["agency"].map(kinds))
               .groupby(["own", "item"], sort=False)[["spend", "savings", "net"]].sum()
               .reset_index()
               .melt(id_vars=["own", "item"], var_name="measure", value_name="value"))
    by_kind["measure"] = "kind_" + by_kind["measure"]
    outcomes = result.table("outcomes").rename(columns={"scenario": "own", "outcome": "item"})
    outcomes = (outcomes[outcomes["own"].isin(optimal)]
                .groupby(["own", "item"], sort=False)["achieved"].mean().reset_index()
                .rename(columns={"achieved": "value"}))
    outcomes["measure"] = "outcome"
    account = pd.DataFrame(
        [(s.name, key, s.account[key]) for s in result.scenarios if s.name in optimal
         for key in ACCOUNT_MONEY], columns=["own", "item", "value"])
    account["measure"] = "account"
    rows = pd.concat([objective, money, by_kind, outcomes, account], ignore_index=True)
    rows = rows.merge(alias, on="own").drop(columns="own").rename(columns={"rollup": "scenario"})
    if left_out:
        rows = rows[~(rows["measure"].isin(POSITIONS)
                      & rows["scenario"].isin(list(left_out)))].reset_index(drop=True)
    rows["place"] = stem
    rows["places"] = 1
    rows["value"] = rows["value"].astype(float)
    return rows[["scenario", "place", "measure", "item", "places", "value"]]


def _with_change(rows: pd.DataFrame) -> pd.DataFrame:
    """Add vs_ring_fenced: each row's value less the same place's ring-fenced figure."""
    keys = ["place", "measure", "item"]
    base = (rows[rows["scenario"] == RING_FENCED][[*keys, "value"]]
            .rename(columns={"value": "base"}))
    out = rows.merge(base, on=keys, how="left")
    out["vs_ring_fenced"] = out["value"] - out["base"]
    return out.drop(columns="base")


def _totals(rows: pd.DataFrame) -> pd.DataFrame:
    """TOTAL rows: the sum over places of every (scenario, measure, item).

    Outcomes add up only where two or more places share the outcome's id.
    """
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    per_place = rows[rows["measure"] == "outcome"].groupby("item")["place"].nunique()
    shared = set(per_place[per_place >= 2].index)
    addable = rows[(rows["measure"] != "outcome") | rows["item"].isin(shared)]
    grouped = addable.groupby(["scenario", "measure", "item"], sort=False)
    totals = grouped.agg(places=("place", "nunique"), value=("value", "sum"),
                         vs_ring_fenced=("vs_ring_fenced", lambda v: v.sum(min_count=1)))
    totals = totals.reset_index()
    totals["place"] = TOTAL
    return totals[COLUMNS]


def _sorted(table: pd.DataFrame, scenarios: list[str], places: list[str]) -> pd.DataFrame:
    """Rows in a fixed order: scenario (as `Rollup.scenarios`), the places in the order
    given then TOTAL, measure (as MEASURES), item."""
    table = table[COLUMNS].copy()
    keys = {
        "_s": table["scenario"].map({s: n for n, s in enumerate(scenarios)}),
        "_p": table["place"].map({p: n for n, p in enumerate([*places, TOTAL])}),
        "_m": table["measure"].map({m: n for n, m in enumerate(MEASURES)}),
    }
    table = table.assign(**keys).sort_values(["_s", "_p", "_m", "item"], kind="mergesort")
    return table.drop(columns=list(keys)).reset_index(drop=True)


def totals(rollup: Rollup, scenario: str, measure: str) -> dict[str, float]:
    """TOTAL values of one scenario and measure: item -> value."""
    t = rollup.table
    hit = t[(t["scenario"] == scenario) & (t["measure"] == measure) & (t["place"] == TOTAL)]
    return dict(zip(hit["item"], hit["value"].astype(float), strict=True))


def changes(rollup: Rollup, scenario: str, measure: str) -> dict[str, float]:
    """TOTAL vs_ring_fenced of one scenario and measure: item -> change (where known)."""
    t = rollup.table
    hit = t[(t["scenario"] == scenario) & (t["measure"] == measure) & (t["place"] == TOTAL)]
    hit = hit[hit["vs_ring_fenced"].notna()]
    return dict(zip(hit["item"], hit["vs_ring_fenced"].astype(float), strict=True))


def coverage(rollup: Rollup, scenario: str) -> dict[str, Any]:
    """Which places a scenario's totals cover, which lack it, which did not solve it, and
    which of those covered add their objective but not their positions (stem -> why:
    `positions_left_out`)."""
    covered, missing, not_optimal = [], [], {}
    for stem, result in rollup.places.items():
        own = rollup.roles[stem].get(scenario)
        if own is None:
            missing.append(stem)
            continue
        status = result.scenario(own).status
        if status == "optimal":
            covered.append(stem)
        else:
            not_optimal[stem] = status
    compared = [s for s in covered
                if RING_FENCED in rollup.roles[s]
                and rollup.places[s].scenario(rollup.roles[s][RING_FENCED]).status == "optimal"]
    left_out = {s: rollup.left_out[s][scenario] for s in covered
                if scenario in rollup.left_out.get(s, {})}
    return {"places": covered, "missing": missing, "not_optimal": not_optimal,
            "compared_with_ring_fenced": compared, "positions_left_out": left_out}


def left_out_sentences(rollup: Rollup) -> list[str]:
    """Which places' positions each scenario's totals leave out, and why
    (`positions_left_out`): 'pooled: the agencies' figures of birmingham (which services
    run ...) are not added up; its objective is.'"""
    said = []
    for name in rollup.scenarios():
        for stem, why in coverage(rollup, name)["positions_left_out"].items():
            said.append(f"{name}: the agencies' spending, savings and net positions of {stem} "
                        f"are not added to the totals ({why}); its objective, outcomes and "
                        "account are.")
    return said


def place_kind_net_ranges(result: RunResult, scenario: str) -> dict[str, tuple[float, float]]:
    """Kind -> the least and greatest net position N_k = sum_{a of kind k} net_a the kind
    of agency could have in one place's `scenario` among its equally good plans.

    Without an agreement net_a = P_a, and the range is the solve's exact range of
    T_k = sum_a P_a over the optimal face (results.json `kinds`), never the sum of the
    agencies' ranges (only a bound: money moving between two councils moves neither
    end of the councils' range). With an agreement, net_a = P_a + what the agreement
    moves, which depends on the plan through the agreement's rule: the range is then the
    sum over the kind's agencies of each one's range where the agreement leaves it
    (`gains_table`'s gain_low, gain_high, from its reference's net position) - a bound
    that contains the exact range. A range not found is the plan's figure alone."""
    s = result.scenario(scenario)
    agencies = s.agencies
    net = dict(zip(agencies["agency"], agencies["net"].astype(float), strict=True))
    kinds = s.extra.get("kinds")
    if not isinstance(kinds, dict):
        return {}
    agreed = isinstance(s.extra.get("agreement"), dict)
    if agreed:
        gains = gains_table(result)
        gains = gains[gains["scenario"] == scenario].set_index("agency")
    out = {}
    for kind, entry in kinds.items():
        members = list(entry["agencies"])
        total = math.fsum(net[a] for a in members)
        if agreed:
            low = math.fsum(float(gains.at[a, "reference_net"] + gains.at[a, "gain_low"])
                            for a in members)
            high = math.fsum(float(gains.at[a, "reference_net"] + gains.at[a, "gain_high"])
                             for a in members)
        elif entry["position_min"] is None or entry["position_max"] is None:
            low = high = total
        else:
            moved = total - float(entry["position"])  # no agreement: 0
            low, high = float(entry["position_min"]) + moved, float(entry["position_max"]) + moved
        if not (math.isfinite(low) and math.isfinite(high)):
            low = high = total
        out[kind] = (min(low, total), max(high, total))
    return out


def kind_change_ranges(rollup: Rollup, scenario: str) -> dict[str, tuple[float, float]]:
    """Kind -> the least and greatest change in its net position against ring-fenced,
    added over the places whose positions the scenario's totals add
    (`changes(rollup, scenario, 'kind_net')`): for each place
    [min N_k(s) - max N_k(r), max N_k(s) - min N_k(r)] (s its own scenario, r its
    ring-fenced plan, N_k's ranges `place_kind_net_ranges`; [0, 0] where s is r), summed
    over the places. The
    places are separate problems, each plan chosen independently of the others', so the
    sum of exact ranges is the exact range of the sum. Worked out once a roll-up and
    scenario (`Rollup.ranges`)."""
    if scenario not in rollup.ranges:
        rollup.ranges[scenario] = _kind_change_ranges(rollup, scenario)
    return dict(rollup.ranges[scenario])


def _kind_change_ranges(rollup: Rollup, scenario: str) -> dict[str, tuple[float, float]]:
    """`kind_change_ranges`, worked out."""
    out: dict[str, tuple[float, float]] = {}
    for stem, result in rollup.places.items():
        roles = rollup.roles[stem]
        own, ring = roles.get(scenario), roles.get(RING_FENCED)
        if own is None or ring is None or scenario in rollup.left_out.get(stem, {}):
            continue
        if any(result.scenario(n).status != "optimal" for n in (own, ring)):
            continue
        mine, base = place_kind_net_ranges(result, own), place_kind_net_ranges(result, ring)
        for kind, (low, high) in mine.items():
            if kind not in base:
                continue
            was = out.get(kind, (0.0, 0.0))
            if own == ring:  # the same plan on both sides: no change, whatever the plan
                out[kind] = was
            else:
                out[kind] = (was[0] + low - base[kind][1], was[1] + high - base[kind][0])
    return out


def kind_reading(rollup: Rollup, scenario: str) -> dict[str, str]:
    """Kind -> how the roll-up may word its change against ring-fenced
    (`optimiser.reports.story.reading`, with the change's range `kind_change_ranges`):
    'either' where equally good plans could make it a gain or a loss (never called
    either), else 'gain', 'loss' or 'none'; tol = `change_tolerance` of the scenario's
    kinds' changes."""
    change = changes(rollup, scenario, "kind_net")
    spread = kind_change_ranges(rollup, scenario)
    tol = change_tolerance(pd.Series(list(change.values()), dtype=float))
    return {k: reading(v, *spread.get(k, (v, v)), tol) for k, v in change.items()}


def headline(rollup: Rollup) -> list[str]:
    """The Treasury's sentences: each scenario against ring-fenced, added over the places
    that have both (scenarios of a single place among several are left to its own report)."""
    said = [scenario_sentence(rollup, scenario) for scenario in rollup.scenarios()
            if scenario != RING_FENCED]
    return [s for s in said if s is not None]


def scenario_sentence(rollup: Rollup, scenario: str, who: bool = True,
                      outcomes: Collection[str] | None = None) -> str | None:
    """'If these 7 places pooled: GBP x more net benefit (PV), y more admissions avoided a
    year; net position (PV) against ring-fenced: PCTs +GBP z, ...' (the part after ';' only
    when `who`; only the `outcomes` named, when given). None when fewer than two places (or
    the only place) have both plans."""
    cur = rollup.currency
    cover = coverage(rollup, scenario)
    n, of = len(cover["compared_with_ring_fenced"]), len(rollup.places)
    if n == 0 or (n == 1 < of):
        return None
    took = "pooled" if scenario == POOLED else f"took '{scenario}'"
    places = "place" if n == 1 else "places"
    lead = (f"If these {n} places {took}" if n == of
            else f"If the {n} {places} (of {of}) with both plans "
                 f"({', '.join(cover['compared_with_ring_fenced'])}) {took}")
    parts = [_objective_phrase(kind, v, cur)
             for kind, v in changes(rollup, scenario, "objective").items()]
    parts += _account_phrase(changes(rollup, scenario, "account"), cur)
    names = outcome_display_names(rollup)
    parts += [f"{abs(v):,.0f} {_word(v, 'more', 'fewer')} {names.get(item, item)} a year"
              for item, v in changes(rollup, scenario, "outcome").items()
              if abs(v) >= 0.5 and (outcomes is None or item in outcomes)]
    kinds = changes(rollup, scenario, "kind_net")
    read, spread = kind_reading(rollup, scenario), kind_change_ranges(rollup, scenario)
    gainers = [f"{KIND_NAMES.get(k, k)} " + (
        f"could gain or lose ({_signed_money(spread[k][0], cur)} to "
        f"{_signed_money(spread[k][1], cur)})" if read[k] == "either"
        else _signed_money(v, cur))
        for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])
        if abs(v) >= 0.5 or read[k] == "either"]
    text = f"{lead}: " + ", ".join(parts)
    left = [s for s in cover["compared_with_ring_fenced"] if s in cover["positions_left_out"]]
    if who and gainers:
        over = ""
        if left:
            k = n - len(left)
            over = (f" over the {k} {'place' if k == 1 else 'places'} whose positions are "
                    f"decided (not {', '.join(left)}: which services run is not decided there)")
        text += f"; net position (PV) against ring-fenced{over}: " + ", ".join(gainers)
    elif who and left and len(left) == n:
        text += (f"; no net position is added up: which services run is not decided in "
                 f"{', '.join(left)}")
    return text + "."


def outcome_display_names(rollup: Rollup) -> dict[str, str]:
    """Outcome id -> its name inside a sentence, from the first place that names it
    ('Unplanned admissions avoided' -> 'unplanned admissions avoided'); the id, spaced,
    where no place names it."""
    names: dict[str, str] = {}
    for result in rollup.places.values():
        for key, spec in result.instance.outcomes.items():
            if spec.name and key not in names:
                first = spec.name.split(" ", 1)[0]
                lower = len(first) > 1 and first[1:].islower()
                names[key] = spec.name[0].lower() + spec.name[1:] if lower else spec.name
    return {**{k: k.replace("_", " ") for k in _outcome_ids(rollup)}, **names}


def _outcome_ids(rollup: Rollup) -> list[str]:
    return [k for result in rollup.places.values() for k in result.instance.outcomes]


def _account_phrase(change: dict[str, float], currency: str) -> list[str]:
    """Both halves of the change in net benefit: 'GBP 31.2m more in valued outcomes and
    GBP 4.6m less net public cash (PV)' (nothing when the accounts are missing)."""
    if "outcome_value" not in change or "cash_net" not in change:
        return []
    value, cash = change["outcome_value"], change["cash_net"]
    if abs(value) < 0.5 and abs(cash) < 0.5:
        return []
    if abs(value) < 0.5:
        return ["all of it public cash"]
    if abs(cash) < 0.5:
        return ["all of it valued outcomes, with no change in public cash"]
    return [f"made of {money(abs(value), currency)} {_word(value, 'more', 'less')} in valued "
            f"outcomes and {money(abs(cash), currency)} {_word(cash, 'more', 'less')} net "
            "public cash (PV)"]


def _objective_phrase(kind: str, change: float, currency: str) -> str:
    """'GBP 1.2m more net benefit (PV)', 'GBP 3k less cost (PV)', '12 more weighted outcomes'."""
    if kind == "net_benefit":
        return f"{money(abs(change), currency)} {_word(change, 'more', 'less')} net benefit (PV)"
    if kind == "cost":
        return f"{money(abs(change), currency)} {_word(change, 'more', 'less')} cost (PV)"
    return f"{abs(change):,.0f} {_word(change, 'more', 'fewer')} weighted outcomes (PV)"


def _word(change: float, up: str, down: str) -> str:
    return up if change >= 0 else down


def _signed_money(value: float, currency: str) -> str:
    return ("+" if value >= 0 else "-") + money(abs(value), currency)


def rollup_document(rollup: Rollup) -> dict[str, Any]:
    """The `rollup` entry of the roll-up's results.json."""
    scenarios = {}
    for name in rollup.scenarios():
        kinds: dict[str, dict[str, float]] = {}
        kind_changes: dict[str, dict[str, float]] = {}
        for part in ("spend", "savings", "net"):
            for kind, v in totals(rollup, name, f"kind_{part}").items():
                kinds.setdefault(kind, {})[part] = v
            for kind, v in changes(rollup, name, f"kind_{part}").items():
                kind_changes.setdefault(kind, {})[part] = v
        for kind, (low, high) in kind_change_ranges(rollup, name).items():
            if kind in kind_changes:
                kind_changes[kind].update({"net_min": low, "net_max": high})
        entry: dict[str, Any] = coverage(rollup, name)
        entry.update({
            "objective": totals(rollup, name, "objective"),
            "account": account_totals(totals(rollup, name, "account")),
            **{m: totals(rollup, name, m).get("all") for m in ("spend", "savings", "net")},
            "outcomes": totals(rollup, name, "outcome"),
            "agency_kinds": kinds,
            "vs_ring_fenced": {
                "objective": changes(rollup, name, "objective"),
                **{m: changes(rollup, name, m).get("all") for m in ("spend", "savings", "net")},
                "outcomes": changes(rollup, name, "outcome"),
                "account": changes(rollup, name, "account"),
                "agency_kinds": kind_changes,
            },
        })
        scenarios[name] = _finite(entry)
    return {
        "currency": rollup.currency,
        "money": "present value, at each place's own discount rate over its own horizon",
        "outcomes": "effective outcome a year, averaged over each place's horizon; only "
                    "outcomes with the same id in two or more places are added up",
        "instances": {stem: _instance_entry(r, rollup.roles[stem])
                      for stem, r in rollup.places.items()},
        "scenarios": scenarios,
        "outcomes_by_place": _unshared_outcomes(rollup),
        "headline": headline(rollup),
    }


def account_totals(money: dict[str, float]) -> dict[str, float | None]:
    """The places' accounts added up: each money figure the sum over places (cash and valued
    outcomes apart), then financial_return = cash_savings / cost and public_value_return =
    (cash_savings + outcome_value) / cost of the sums (None when nothing is spent). Payback
    years do not add up and are left to each place's report."""
    if not money:
        return {}
    out: dict[str, float | None] = {k: money.get(k) for k in ACCOUNT_MONEY}
    cost, saved, value = money.get("cost", 0.0), money.get("cash_savings", 0.0), money.get(
        "outcome_value", 0.0)
    out["financial_return"] = saved / cost if cost > 0 else None
    out["public_value_return"] = (saved + value) / cost if cost > 0 else None
    return out


def _instance_entry(result: RunResult, roles: dict[str, str]) -> dict[str, Any]:
    inst = result.instance
    return {
        "name": inst.name, "file": str(result.prepared.path), "sha256": result.prepared.sha256,
        "objective": inst.objective, "start_year": inst.start_year, "years": inst.years,
        "discount_rate": inst.discount_rate,
        "scenarios": dict(roles),
        "status": {s.name: s.status for s in result.scenarios},
    }


def _unshared_outcomes(rollup: Rollup) -> dict[str, dict[str, dict[str, float]]]:
    """Outcomes found in one place only: stem -> scenario -> outcome -> a year."""
    t = rollup.table
    outcomes = t[t["measure"] == "outcome"]
    shared = set(outcomes[outcomes["place"] == TOTAL]["item"])
    alone = outcomes[(outcomes["place"] != TOTAL) & ~outcomes["item"].isin(shared)]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in alone.itertuples(index=False):
        out.setdefault(row.place, {}).setdefault(row.scenario, {})[row.item] = float(row.value)
    return out


def _finite(value: Any) -> Any:
    """NaN to None, recursively, for JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value
