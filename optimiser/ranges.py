"""Uncertain figures: find the ranges in an instance, take their central values, sample them.

A unit cost, effect or saving may be written `{low: a, central: b, high: c}`,
a triangular distribution. A plain run uses the central values
(`central_instance`). A draw is a vector `u` of uniform numbers in [0, 1], one
per uncertain figure, derived from (seed, draw index) alone (`draw_uniforms`);
each figure's value is the triangular distribution's quantile at its `u`
(`triangular`), so every scenario of a draw sees the same quantile of every
figure even where a scenario's overrides change the range. `NaN` in `u` means
"central" (the tornado's points).

Where the figures land in a scenario's `PlaceData` is a `Slots` table per array
(`place_slots`); `sample_place` writes a draw's values there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.pooling import PlaceData
from optimiser.schema import Instance, Intervention, Range
from optimiser.yamlsource import dotted

FigurePath = tuple[str | int, ...]
ARRAYS = ("cost", "effect", "saving")
"""The PlaceData arrays uncertain figures land in: unit costs, effects, savings."""


@dataclass(frozen=True)
class Figure:
    """One uncertain figure of the instance: where it is, and its range."""

    path: FigurePath
    low: float
    central: float
    high: float

    @property
    def label(self) -> str:
        """The figure's dotted path, as people read it: interventions.x.unit_cost[2]."""
        return dotted(self.path)


@dataclass(frozen=True)
class Slots:
    """Where uncertain figures land in one PlaceData array (flat positions).

    Ranges are in the array's units: effects and savings already carry the
    intervention's m_i = (1 - deadweight)(1 - optimism_bias).
    """

    figure: np.ndarray  # (n,) position in the run's figure list
    index: np.ndarray  # (n,) flat position in the array
    low: np.ndarray  # (n,)
    central: np.ndarray  # (n,)
    high: np.ndarray  # (n,)


def ranges_of(
    iid: str, unit_cost: Any, effects: dict[str, Any], savings: dict[str, Any]
) -> list[tuple[FigurePath, Range]]:
    """Every range among an intervention's figures, with its path in the instance.

    A unit cost written as one range is one figure for every year (the same
    draw each year); a per-year list has one figure for each range in it.
    """
    where: list[tuple[FigurePath, Any]] = (
        [(("interventions", iid, "unit_cost", t), v) for t, v in enumerate(unit_cost)]
        if isinstance(unit_cost, list) else [(("interventions", iid, "unit_cost"), unit_cost)])
    where += [(("interventions", iid, "effects", k), v) for k, v in effects.items()]
    where += [(("interventions", iid, "savings", a), v) for a, v in savings.items()]
    return [(path, v) for path, v in where if isinstance(v, Range)]


def _intervention_ranges(iid: str, item: Intervention) -> list[tuple[FigurePath, Range]]:
    return ranges_of(iid, item.unit_cost, item.effects, item.savings)


def uncertain_figures(instances: Iterable[Instance]) -> list[Figure]:
    """Every uncertain figure of the instances, each once, in order of first appearance.

    Pass the instance as written first, then each scenario's (overrides may add
    ranges); a figure's range is taken from the first instance that has it.
    """
    found: dict[FigurePath, Figure] = {}
    for instance in instances:
        for iid, item in instance.interventions.items():
            for path, r in _intervention_ranges(iid, item):
                found.setdefault(path, Figure(path, r.low, r.central, r.high))
    return list(found.values())


def central(value: Any) -> Any:
    """A figure's central value: a range's `central`, anything else unchanged (lists too)."""
    if isinstance(value, list):
        return [central(v) for v in value]
    return value.central if isinstance(value, Range) else value


def central_instance(instance: Instance) -> Instance:
    """The instance with every range replaced by its central value (what a plain run uses)."""
    changed = {
        iid: item.model_copy(update={
            "unit_cost": central(item.unit_cost),
            "effects": {k: central(v) for k, v in item.effects.items()},
            "savings": {a: central(v) for a, v in item.savings.items()},
        })
        for iid, item in instance.interventions.items() if _intervention_ranges(iid, item)
    }
    if not changed:
        return instance
    return instance.model_copy(update={"interventions": {**instance.interventions, **changed}})


def place_slots(instance: Instance, figures: list[Figure]) -> dict[str, Slots]:
    """Where each of `figures` lands in the PlaceData built from `instance` (one scenario's).

    Figures the instance does not hold as ranges (a scenario may override one
    with a number) land nowhere.
    """
    position = {f.path: n for n, f in enumerate(figures)}
    years = instance.years
    k_pos = {k: n for n, k in enumerate(instance.outcomes)}
    a_pos = {a: n for n, a in enumerate(instance.agencies)}
    rows: dict[str, list[tuple[int, int, float, float, float]]] = {a: [] for a in ARRAYS}
    for n, (iid, item) in enumerate(instance.interventions.items()):
        m = (1 - item.deadweight) * (1 - item.optimism_bias)
        for path, r in _intervention_ranges(iid, item):
            f = position[path]
            if path[2] == "unit_cost":
                years_hit = [int(path[3])] if len(path) == 4 else list(range(years))
                rows["cost"] += [(f, n * years + t, r.low, r.central, r.high) for t in years_hit]
            elif path[2] == "effects":
                at = n * len(k_pos) + k_pos[str(path[3])]
                rows["effect"].append((f, at, m * r.low, m * r.central, m * r.high))
            else:
                at = n * len(a_pos) + a_pos[str(path[3])]
                rows["saving"].append((f, at, m * r.low, m * r.central, m * r.high))
    return {name: _slots(found) for name, found in rows.items()}


def _slots(rows: list[tuple[int, int, float, float, float]]) -> Slots:
    table = np.array(rows, dtype=float).reshape(len(rows), 5)
    return Slots(table[:, 0].astype(int), table[:, 1].astype(int),
                 table[:, 2], table[:, 3], table[:, 4])


def draw_uniforms(seed: int, draw: int, n_figures: int) -> np.ndarray:
    """(n_figures,) uniform numbers of one draw, from (seed, draw index) alone.

    Each draw has its own generator, `PCG64(SeedSequence(seed, spawn_key=(draw,)))`,
    so a draw's numbers do not depend on which worker solves it, nor on which
    draws it solved before.
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(draw,))
    return np.random.Generator(np.random.PCG64(sequence)).random(n_figures)


def triangular(
    u: np.ndarray, low: np.ndarray, central: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """The triangular distribution's quantile at `u` (NaN in `u` gives the central value).

    With span = high - low and F_c = (central - low) / span:
    u <  F_c:  low + sqrt(u * span * (central - low))
    u >= F_c:  high - sqrt((1 - u) * span * (high - central))
    so u = 0 gives low, u = 1 gives high, and low = central = high gives that value.
    """
    span = high - low
    split = np.divide(central - low, span, out=np.zeros_like(span), where=span > 0)
    left = low + np.sqrt(u * span * (central - low))
    right = high - np.sqrt((1 - u) * span * (high - central))
    return np.where(np.isnan(u), central, np.where(u < split, left, right))


def sample_place(data: PlaceData, slots: dict[str, Slots], u: np.ndarray) -> PlaceData:
    """The scenario's PlaceData with every uncertain figure at its quantile `u[figure]`."""
    arrays = {}
    for name, s in slots.items():
        if len(s.index) == 0:
            continue
        values = np.array(getattr(data, name), dtype=float)
        values.flat[s.index] = triangular(u[s.figure], s.low, s.central, s.high)
        arrays[name] = values
    return dataclasses.replace(data, **arrays) if arrays else data


def tornado_uniforms(n_figures: int) -> np.ndarray:
    """(2F, F) points: row 2j puts figure j at its low, row 2j + 1 at its high, others central."""
    u = np.full((2 * n_figures, n_figures), np.nan)
    figures = np.arange(n_figures)
    u[2 * figures, figures] = 0.0
    u[2 * figures + 1, figures] = 1.0
    return u
