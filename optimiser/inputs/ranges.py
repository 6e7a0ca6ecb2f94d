"""Uncertain figures: find the ranges in an instance, take their central values, sample them.

A unit cost, effect, saving, deadweight or optimism bias may be written `{low: a,
central: b, high: c}`, a triangular distribution. A plain run uses the central
values (`central_instance`). A draw is a vector `u` of uniform numbers in [0, 1],
one per uncertain figure: figure j's number in draw d depends on (seed, d, the
figure's dotted path) alone (`draw_uniforms`), never on where the figure is written
or which other figures there are; each figure's value is the triangular
distribution's quantile at its `u` (`triangular`), so every scenario of a draw sees
the same quantile of every figure even where a scenario's overrides change the
range. `NaN` in `u` means "central" (the tornado's points).

Deadweight and optimism bias are not figures of the model's data but factors
of m_i = (1 - deadweight_i)(1 - optimism_bias_i), which scales every effect
and every saving of intervention i (docs/contract.md): a draw of either moves all of them
together, so what an intervention achieves and the money it saves stay
coherent. Where the figures land in a scenario's `PlaceData` is a
`PlaceSlots` (`place_slots`); `sample_place` writes a draw's values there.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from models.data import PlaceData
from optimiser.inputs.named import Use
from optimiser.inputs.schema import Instance, Intervention, Range
from optimiser.inputs.yamlsource import dotted
from optimiser.recent import Recent

FigurePath = tuple[str | int, ...]
ARRAYS = ("cost", "effect", "saving")
"""The PlaceData arrays uncertain figures land in: unit costs, effects, savings."""
FACTORS = ("deadweight", "optimism_bias")
"""The intervention fields whose ranges scale its effects and savings through m_i."""


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
    """Where uncertain figures land in one array (flat positions), in the units written.

    A slot's value is `coefficient * prod_j triangular(u[figure_j]; low_j, central_j,
    high_j)`: an inline range is one factor with coefficient 1; a use of named figures
    (`0.4 * admission_cost`) has a factor per ranged figure it names (`figure` -1 pads).
    """

    figure: np.ndarray  # (n, J) positions in the run's figure list; -1 = no factor
    index: np.ndarray  # (n,) flat position in the array
    coefficient: np.ndarray  # (n,)
    low: np.ndarray  # (n, J)
    central: np.ndarray  # (n, J)
    high: np.ndarray  # (n, J)

    def values(self, u: np.ndarray) -> np.ndarray:
        """(..., n) each slot's value at the uniforms `u` (..., F)."""
        if not len(self.index):
            return np.zeros((*u.shape[:-1], 0))
        padded = np.concatenate([u, np.zeros((*u.shape[:-1], 1))], axis=-1)
        drawn = triangular(padded[..., self.figure], self.low, self.central, self.high)
        drawn = np.where(self.figure >= 0, drawn, 1.0)
        return self.coefficient * np.prod(drawn, axis=-1)

    def fill(self, values: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A copy of `values` with each slot at its value at the draw `u`."""
        out = np.array(values, dtype=float)
        out.flat[self.index] = self.values(u)
        return out


@dataclass(frozen=True)
class PlaceSlots:
    """Where a draw's figures land in one scenario's PlaceData.

    `slots["cost"]` lands in the (I, H) unit costs. The rest land in the
    intervention's figures as written (`written`): effects (I, K) and savings
    (I, A) before m_i, and deadweight and optimism bias (I,), all at their
    central values. A draw rebuilds the effect and saving rows of every
    intervention in `rows` (those with any uncertain effect, saving or factor):
    e_ik = m_i * effects_ik, g_ia = m_i * savings_ia with
    m_i = (1 - deadweight_i)(1 - optimism_bias_i), each at the draw's values.
    """

    slots: dict[str, Slots]
    written: dict[str, np.ndarray]
    rows: np.ndarray  # (n,) intervention positions

    def moved(self, name: str) -> np.ndarray:
        """Flat positions in the PlaceData array `name` ('effect' or 'saving') that a draw
        may change: every figure of a rebuilt row that is written non-zero or is a range."""
        written = self.written[name]
        changes = np.zeros(written.shape, dtype=bool)
        changes[self.rows] = written[self.rows] != 0
        changes.flat[self.slots[name].index] = True
        return np.flatnonzero(changes)


def ranges_of(iid: str, item: Intervention) -> list[tuple[FigurePath, Range]]:
    """Every range among an intervention's figures, with its path in the instance.

    A unit cost written as one range is one figure for every year (the same
    draw each year); a per-year list has one figure for each range in it.
    """
    unit_cost = item.unit_cost
    where: list[tuple[FigurePath, Any]] = (
        [(("interventions", iid, "unit_cost", t), v) for t, v in enumerate(unit_cost)]
        if isinstance(unit_cost, list) else [(("interventions", iid, "unit_cost"), unit_cost)])
    where += [(("interventions", iid, "effects", k), v) for k, v in item.effects.items()]
    where += [(("interventions", iid, "savings", a), v) for a, v in item.savings.items()]
    where += [(("interventions", iid, name), getattr(item, name)) for name in FACTORS]
    return [(path, v) for path, v in where if isinstance(v, Range)]


Uses = dict[FigurePath, Use]
"""Numbers written with named figures, by path (`optimiser.inputs.yamlsource.Source.uses`)."""


def figure_factors(path: FigurePath, r: Range, uses: Uses
                   ) -> tuple[float, list[tuple[FigurePath, float, float, float]]]:
    """(coefficient, factors) of the range at `path`: a use of ranged named figures gives
    one factor (`("figures", name)`, low, value, high) per figure; an inline range
    itself, with coefficient 1."""
    use = uses.get(path)
    if use is not None and use.factors:
        return use.coefficient, [(("figures", f.name), f.low, f.value, f.high)
                                 for f in use.factors]
    return 1.0, [(path, r.low, r.central, r.high)]


def uncertain_figures(instances: Iterable[tuple[Instance, Uses]]) -> list[Figure]:
    """Every uncertain figure of the instances, each once, sorted by its dotted path
    (`Figure.label`), so the list is the same however the place is written.

    Pass the instance as written first, then each scenario's (overrides may add
    ranges) in a fixed order (`optimiser.analyses.uncertainty.figures_of`: by name),
    each with its uses of named figures; a figure's range is taken from the first
    instance that has it. A named figure with a range is one figure (`figures.x`),
    however many numbers use it.
    """
    found: dict[FigurePath, Figure] = {}
    for instance, uses in instances:
        for iid, item in instance.interventions.items():
            for path, r in ranges_of(iid, item):
                for at, low, central, high in figure_factors(path, r, uses)[1]:
                    found.setdefault(at, Figure(at, low, central, high))
    return sorted(found.values(), key=lambda f: f.label)


def central(value: Any) -> Any:
    """A figure's central value: a range's `central`, anything else unchanged (lists too)."""
    if isinstance(value, list):
        return [central(v) for v in value]
    return value.central if isinstance(value, Range) else value


_CENTRAL: Recent[Instance] = Recent()
"""What `central_instance` made of the last few instances (instances are frozen: the same
object always gives the same central instance)."""


def central_instance(instance: Instance) -> Instance:
    """The instance with every range replaced by its central value (what a plain run uses):
    made once for the same instance (every scenario of a run that shares it asks)."""
    made = _CENTRAL.get(instance)
    if made is None:
        made = _central(instance)
        _CENTRAL.keep(made, instance)
    return made


def central_at_rate(instance: Instance, rate: float) -> Instance:
    """The instance at discount rate `rate` (nothing else changed), known to
    `central_instance` as the central instance at that rate, which is this instance's
    own central instance at that rate: the ranges are not made central again."""
    at_rate = instance.model_copy(update={"discount_rate": rate})
    _CENTRAL.keep(central_instance(instance).model_copy(update={"discount_rate": rate}),
                  at_rate)
    return at_rate


def _central(instance: Instance) -> Instance:
    changed = {
        iid: item.model_copy(update={
            "unit_cost": central(item.unit_cost),
            "effects": {k: central(v) for k, v in item.effects.items()},
            "savings": {a: central(v) for a, v in item.savings.items()},
            **{name: central(getattr(item, name)) for name in FACTORS},
        })
        for iid, item in instance.interventions.items() if ranges_of(iid, item)
    }
    if not changed:
        return instance
    return instance.model_copy(update={"interventions": {**instance.interventions, **changed}})


def place_slots(instance: Instance, figures: list[Figure], uses: Uses | None = None
                ) -> PlaceSlots:
    """Where each of `figures` lands in the PlaceData built from `instance` (one scenario's,
    with its uses of named figures).

    Figures the instance does not hold as ranges (a scenario may override one
    with a number) land nowhere.
    """
    uses = uses or {}
    position = {f.path: n for n, f in enumerate(figures)}
    years = instance.years
    k_pos = {k: n for n, k in enumerate(instance.outcomes)}
    a_pos = {a: n for n, a in enumerate(instance.agencies)}
    rows: dict[str, list[tuple[int, float, list[tuple[int, float, float, float]]]]] = {
        a: [] for a in (*ARRAYS, *FACTORS)}
    scaled: list[int] = []
    for n, (iid, item) in enumerate(instance.interventions.items()):
        for path, r in ranges_of(iid, item):
            coefficient, found = figure_factors(path, r, uses)
            factors = [(position[at], low, c, high) for at, low, c, high in found]
            kind = str(path[2])
            if kind == "unit_cost":
                years_hit = [int(path[3])] if len(path) == 4 else list(range(years))
                rows["cost"] += [(n * years + t, coefficient, factors) for t in years_hit]
                continue
            if kind == "effects":
                array, at = "effect", n * len(k_pos) + k_pos[str(path[3])]
            elif kind == "savings":
                array, at = "saving", n * len(a_pos) + a_pos[str(path[3])]
            else:
                array, at = kind, n
            rows[array].append((at, coefficient, factors))
            scaled.append(n)
    return PlaceSlots({name: _slots(found) for name, found in rows.items()},
                      written_figures(central_instance(instance)),
                      np.unique(np.array(scaled, dtype=int)))


def written_figures(instance: Instance) -> dict[str, np.ndarray]:
    """The interventions' figures as written (ranges must be central already), by position:
    `effect` (I, K) and `saving` (I, A) before m_i; `deadweight` and `optimism_bias` (I,)."""
    items = list(instance.interventions.values())
    k_pos = {k: n for n, k in enumerate(instance.outcomes)}
    a_pos = {a: n for n, a in enumerate(instance.agencies)}
    effect = np.zeros((len(items), len(k_pos)))
    saving = np.zeros((len(items), len(a_pos)))
    for n, v in enumerate(items):
        for k, e in v.effects.items():
            effect[n, k_pos[k]] = cast(float, e)  # central: no ranges left
        for a, g in v.savings.items():
            saving[n, a_pos[a]] = cast(float, g)
    factors = {name: np.array([getattr(v, name) for v in items], dtype=float)
               for name in FACTORS}
    return {"effect": effect, "saving": saving, **factors}


def multiplier(written: dict[str, np.ndarray]) -> np.ndarray:
    """(I,) m_i = (1 - deadweight_i)(1 - optimism_bias_i), which scales effects and savings."""
    return (1 - written["deadweight"]) * (1 - written["optimism_bias"])


def _slots(rows: list[tuple[int, float, list[tuple[int, float, float, float]]]]) -> Slots:
    width = max((len(factors) for _, _, factors in rows), default=1)
    figure = np.full((len(rows), width), -1, dtype=int)
    bounds = np.zeros((3, len(rows), width))
    for n, (_, _, factors) in enumerate(rows):
        for j, (f, low, central, high) in enumerate(factors):
            figure[n, j] = f
            bounds[:, n, j] = (low, central, high)
    return Slots(figure, np.array([at for at, _, _ in rows], dtype=int),
                 np.array([c for _, c, _ in rows], dtype=float), *bounds)


def figure_key(label: str) -> int:
    """The key a figure's random numbers are drawn by: the first 16 bytes of the SHA-256
    digest of its dotted path (`Figure.label`, UTF-8), read as a big-endian integer.

    key(label) = int.from_bytes(sha256(label.encode("utf-8")).digest()[:16], "big")
    """
    return int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:16], "big")


def draw_uniforms(seed: int, labels: Sequence[str], draws: int, first: int = 0) -> np.ndarray:
    """(draws, F) uniform numbers of draws first .. first + draws - 1, one per figure.

    Each figure has its own stream of numbers,
    `Generator(PCG64(SeedSequence(seed, spawn_key=(figure_key(label),))))`, and

        u[d, j] = the (first + d + 1)-th number `.random()` gives on figure j's stream

    so a figure's number in draw d depends on (seed, d, its dotted path) alone: not on
    where the place lists it, nor on which other figures the place has, nor on which
    worker solves the draw. One generator per figure covers every draw at once.
    """
    u = np.empty((draws, len(labels)))
    for j, label in enumerate(labels):
        stream = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(figure_key(label),)))
        stream.advance(first)  # .random() takes one 64-bit step a number
        u[:, j] = np.random.Generator(stream).random(draws)
    return u


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


def sample_place(data: PlaceData, slots: PlaceSlots, u: np.ndarray) -> PlaceData:
    """The scenario's PlaceData with every uncertain figure at its quantile `u[figure]`.

    Unit costs land as drawn. For each intervention i in `slots.rows`, its
    effects and savings are rebuilt from the figures as written, at the draw:
    e_ik = m_i * effects_ik, g_ia = m_i * savings_ia, with
    m_i = (1 - deadweight_i)(1 - optimism_bias_i).
    """
    arrays: dict[str, Any] = {}
    if len(slots.slots["cost"].index):
        arrays["cost"] = slots.slots["cost"].fill(data.cost, u)
    rows = slots.rows
    if len(rows):
        drawn = {name: slots.slots[name].fill(slots.written[name], u)
                 for name in ("effect", "saving", *FACTORS)}
        m = multiplier(drawn)
        for name in ("effect", "saving"):
            values = np.array(getattr(data, name), dtype=float)
            values[rows] = drawn[name][rows] * m[rows, None]
            arrays[name] = values
    return dataclasses.replace(data, **arrays) if arrays else data


def tornado_uniforms(n_figures: int) -> np.ndarray:
    """(2F, F) points: row 2j puts figure j at its low, row 2j + 1 at its high, others central."""
    u = np.full((2 * n_figures, n_figures), np.nan)
    figures = np.arange(n_figures)
    u[2 * figures, figures] = 0.0
    u[2 * figures + 1, figures] = 1.0
    return u
