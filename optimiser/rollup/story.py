"""The story of a national roll-up, as tidy tables: one source for the roll-up's
report.xlsx, report.html and summary.md, so they agree with each other, with the roll-up's
results.json and with each place's own.

Read from the roll-up's results.json entry (`optimiser.rollup.rollup_document`) and each
place's results (never from a model). Every table keeps, beside each figure, where the
results.json files hold it (`src`, see optimiser.rollup.documents):

- the Treasury's sentence for pooling and the key figures behind it;
- the totals of every scenario that two or more places ran, and those only one ran;
- outcomes a year, added up where places share the outcome's id, and the rest per place;
- net positions by kind of agency, and their change against ring-fenced;
- each place: its objective ring-fenced and pooled, the gain, and its own headline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimiser.format import money
from optimiser.reports.story import headline_of, scenario_table, snap, whole
from optimiser.rollup.totals import (
    KIND_NAMES,
    POOLED,
    RING_FENCED,
    Rollup,
    kind_reading,
    rollup_document,
    scenario_sentence,
)

OBJECTIVE_NAMES = {"net_benefit": "Net benefit", "cost": "Cost", "outcomes": "Weighted outcomes"}


@dataclass
class RollupStory:
    """Everything the roll-up's documents show."""

    rollup: Rollup
    document: dict[str, Any]
    """The `rollup` entry of the roll-up's results.json."""
    lead: str
    """The Treasury's sentence for pooling (or for the first scenario that adds up)."""
    totals: pd.DataFrame
    """scenario, places, of, objective_kind, objective, objective_change, spend, savings, net,
    net_change, src (the scenario's path in results.json), positions (how many of the places
    add their spend, savings and net: `positions_left_out`): a row per scenario that two
    or more places ran and objective kind"""
    single: pd.DataFrame
    """place, scenario, own, objective_kind, objective, objective_change: the scenarios only
    one place ran"""
    outcomes: pd.DataFrame
    """outcome, name, places, scenario, value, change: outcomes two or more places share"""
    unshared: pd.DataFrame
    """place, outcome, name, scenario, value: outcomes found in one place only"""
    kinds: pd.DataFrame
    """kind, name, scenario, spend, savings, net, change (net against ring-fenced),
    change_min, change_max (its range among equally good plans, `kind_change_ranges`),
    reads (`kind_reading`: 'either' where that range spans zero)"""
    places: pd.DataFrame
    """place, name, objective_kind, solved, scenarios, ring_fenced, pooled (the place's own
    scenario names), ring_fenced_value, pooled_value, gain, headline, sha256, file"""

    @property
    def currency(self) -> str:
        """The one currency every place counts in."""
        return self.rollup.currency

    @property
    def shared(self) -> list[str]:
        """Scenarios two or more places ran, in roll-up order."""
        return list(dict.fromkeys(self.totals["scenario"]))

    def money(self, value: float | None) -> str:
        """Short money for sentences: £1.23m."""
        return money(snap(value), self.currency)

    def full(self, value: float | None) -> str:
        """Money in whole units for tables: £1,234,567."""
        return whole(value, self.currency)

    def objective_text(self, value: float | None, kind: str, full: bool = False) -> str:
        """An objective's value: money (short, or `full`), or a count for 'outcomes'."""
        if kind == "outcomes":
            return "-" if value is None or pd.isna(value) else f"{value:,.1f}"
        return self.full(value) if full else self.money(value)


def tell_rollup(rollup: Rollup) -> RollupStory:
    """Build the roll-up's story from its results.json entry and the places' results."""
    document = rollup_document(rollup)
    names = rollup.scenarios()
    shared = [n for n in names if len(document["scenarios"][n]["places"]) >= 2]
    outcomes = outcomes_table(rollup, document, shared)
    lead = next((s for s in (scenario_sentence(rollup, n, who=False,
                                               outcomes=leading_outcomes(outcomes, n))
                             for n in [POOLED, *names] if n in names and n != RING_FENCED)
                 if s is not None),
                "No scenario is solved, with a ring-fenced plan beside it, in two or more "
                "places: nothing adds up across them.")
    return RollupStory(
        rollup=rollup, document=document, lead=lead,
        totals=totals_table(document, shared, len(rollup.places)),
        single=single_table(rollup, document, [n for n in names if n not in shared]),
        outcomes=outcomes,
        unshared=unshared_table(rollup, document),
        kinds=kinds_table(rollup, document, shared),
        places=places_table(rollup),
    )


def totals_table(document: dict[str, Any], shared: list[str], of: int) -> pd.DataFrame:
    """A row per scenario (and objective kind) that two or more places ran: its totals."""
    rows = []
    for name in shared:
        entry = document["scenarios"][name]
        change = entry["vs_ring_fenced"]
        for kind, value in entry["objective"].items():
            rows.append({
                "scenario": name, "places": len(entry["places"]), "of": of,
                "objective_kind": kind, "objective": value,
                "objective_change": change["objective"].get(kind),
                "spend": entry["spend"], "savings": entry["savings"], "net": entry["net"],
                "net_change": change["net"], "src": f"rollup/scenarios/{name}",
                "positions": len(entry["places"]) - len(entry["positions_left_out"]),
            })
    columns = ["scenario", "places", "of", "objective_kind", "objective", "objective_change",
               "spend", "savings", "net", "net_change", "src", "positions"]
    return pd.DataFrame(rows, columns=columns)


def single_table(rollup: Rollup, document: dict[str, Any], names: list[str]) -> pd.DataFrame:
    """The scenarios only one place ran (their figures are that place's own)."""
    rows = []
    for name in names:
        entry = document["scenarios"][name]
        for place in entry["places"]:
            for kind, value in entry["objective"].items():
                rows.append({"place": place, "scenario": name,
                             "own": rollup.roles[place][name], "objective_kind": kind,
                             "objective": value,
                             "objective_change": entry["vs_ring_fenced"]["objective"].get(kind)})
    columns = ["place", "scenario", "own", "objective_kind", "objective", "objective_change"]
    return pd.DataFrame(rows, columns=columns)


def outcome_names(rollup: Rollup) -> dict[str, str]:
    """Outcome id -> its name in the first place that names it (the id, spaced, otherwise)."""
    names: dict[str, str] = {}
    for result in rollup.places.values():
        for key, spec in result.instance.outcomes.items():
            if spec.name and key not in names:
                names[key] = spec.name
    return names


def outcomes_table(rollup: Rollup, document: dict[str, Any], shared: list[str]) -> pd.DataFrame:
    """Outcomes a year that two or more places share, added up, per scenario."""
    names = outcome_names(rollup)
    table = rollup.table
    counted = (table[(table["measure"] == "outcome") & (table["place"] == "TOTAL")]
               .set_index(["scenario", "item"])["places"])
    rows = [{"outcome": k, "name": _outcome_label(k, names), "places": int(counted[name, k]),
             "scenario": name, "value": v,
             "change": document["scenarios"][name]["vs_ring_fenced"]["outcomes"].get(k)}
            for name in shared for k, v in document["scenarios"][name]["outcomes"].items()]
    columns = ["outcome", "name", "places", "scenario", "value", "change"]
    return pd.DataFrame(rows, columns=columns)


LEADING = 2
"""Outcomes the headline names: those the most places count."""


def leading_outcomes(outcomes: pd.DataFrame, scenario: str) -> list[str]:
    """The outcome ids the headline names for `scenario`: the LEADING outcomes that the most
    places count and that change against ring-fenced (ties by id)."""
    mine = outcomes[(outcomes["scenario"] == scenario) & (outcomes["change"].abs() >= 0.5)]
    return mine.sort_values(["places", "outcome"], ascending=[False, True],
                            kind="mergesort")["outcome"].head(LEADING).tolist()


def _outcome_label(key: str, names: dict[str, str]) -> str:
    return names.get(key) or key.replace("_", " ").capitalize()


def unshared_table(rollup: Rollup, document: dict[str, Any]) -> pd.DataFrame:
    """Outcomes found in one place only, a year: they are reported, not added up."""
    names = outcome_names(rollup)
    rows = [{"place": place, "outcome": k, "name": _outcome_label(k, names),
             "scenario": name, "value": v}
            for place, by_scenario in document["outcomes_by_place"].items()
            for name, values in by_scenario.items() for k, v in values.items()]
    return pd.DataFrame(rows, columns=["place", "outcome", "name", "scenario", "value"])


def kinds_table(rollup: Rollup, document: dict[str, Any], shared: list[str]) -> pd.DataFrame:
    """Net positions by kind of agency in each shared scenario, and the change against
    ring-fenced (over the places with both plans), with its range among equally good
    plans and how it reads (`kind_reading`)."""
    rows = []
    for name in shared:
        entry = document["scenarios"][name]
        read = kind_reading(rollup, name)
        for kind, figures in entry["agency_kinds"].items():
            change = entry["vs_ring_fenced"]["agency_kinds"].get(kind, {})
            rows.append({"kind": kind, "name": kind_name(kind), "scenario": name, **figures,
                         "change": change.get("net"), "change_min": change.get("net_min"),
                         "change_max": change.get("net_max"), "reads": read.get(kind)})
    columns = ["kind", "name", "scenario", "spend", "savings", "net", "change", "change_min",
               "change_max", "reads"]
    return pd.DataFrame(rows, columns=columns)


def kind_change_text(story: RollupStory, change: float, low: float | None,
                     high: float | None, reads: str | None) -> str:
    """A kind's change in a table, in whole units: '+£1,234', or where equally good plans
    could make it a gain or a loss (`kind_reading` 'either') 'could gain or lose,
    -£1,234 to +£5,678' (never a gain or a loss)."""
    if reads == "either" and low is not None and high is not None:
        return (f"could gain or lose, {signed_full(story, low)} to "
                f"{signed_full(story, high)}")
    return signed_full(story, change)


def signed_full(story: RollupStory, value: float) -> str:
    """'+£1,234' for a change at or above half a unit, else the figure as it is."""
    return ("+" if value >= 0.5 else "") + story.full(value)


def places_cell(places: int, of: int, positions: int) -> str:
    """'2 of 3', and where some places' positions are not added up (`positions_left_out`)
    '2 of 3 (positions: 1)'."""
    cell = f"{places} of {of}"
    return cell if positions == places else f"{cell} (positions: {positions})"


def kind_name(kind: str) -> str:
    """'acute_trust' -> 'Acute trusts'."""
    name = KIND_NAMES.get(kind, kind)
    return name[0].upper() + name[1:]


def places_table(rollup: Rollup) -> pd.DataFrame:
    """Each place: its objective ring-fenced and pooled (its own scenarios in those roles),
    the gain, how many scenarios solved, and its own headline."""
    rows = []
    for stem, result in rollup.places.items():
        roles = rollup.roles[stem]
        objective = {s.name: s.objective for s in result.scenarios}
        ring, pooled = roles.get(RING_FENCED), roles.get(POOLED)
        ring_value = objective.get(ring) if ring else None
        pooled_value = objective.get(pooled) if pooled else None
        gain = (pooled_value - ring_value
                if ring_value is not None and pooled_value is not None else None)
        rows.append({
            "place": stem, "name": result.instance.name,
            "objective_kind": result.instance.objective,
            "solved": sum(s.status == "optimal" for s in result.scenarios),
            "scenarios": len(result.scenarios), "ring_fenced": ring, "pooled": pooled,
            "ring_fenced_value": ring_value, "pooled_value": pooled_value, "gain": gain,
            "headline": headline_of(result, scenario_table(result)).sentence,
            "sha256": result.prepared.sha256, "file": result.prepared.path.name,
        })
    return pd.DataFrame(rows)


def not_optimal(story: RollupStory) -> list[str]:
    """Each place's scenarios without a plan, with the reason: they add nothing to the totals."""
    said = []
    for stem, result in story.rollup.places.items():
        said += [f"{result.instance.name} ({stem}): {s.name} is {s.status}: "
                 f"{s.message.rstrip('.')}." for s in result.scenarios if s.status != "optimal"]
    return said


def lent(story: RollupStory) -> list[str]:
    """Places whose own scenario stands in for ring_fenced or pooled, in words."""
    said = []
    for stem, roles in story.rollup.roles.items():
        said += [f"{stem}: its '{own}' counts as {name}" for name, own in roles.items()
                 if name != own]
    return said
