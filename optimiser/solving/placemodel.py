"""One model per place: built and compiled once, switched between scenarios in memory.

Scenarios that differ only in `pooling`, `pool_share`, `incentives` and
`transfers` share one compiled pooled model, loaded in HiGHS, and so do the
analyses that re-solve them (ring-fence prices, Shapley coalitions):

- a stream's pool contribution p_st has the upper bound pool_share_s * budget_st
  when the scenario pools and 0 when it does not; with every p_st at 0 the pool
  balance forces every q_it to 0, which leaves exactly the ring-fenced plans;
- `no_worse_off` rows (`models.pooling.add_incentives`) are appended for the
  scenario that protects positions and removed when another is loaded. Their
  coefficients are those of P_a, compiled once as the objective
  `position_objective[a]`, so the rows are the ones the Pyomo model would have.

A scenario whose `overrides` change the model's data (costs, budgets, fences,
...) gets a model of its own. Every scenario's first stage is solved from
scratch (`optimiser.solve.solve_loaded`), so its plan depends on its own data,
never on what the model solved before.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from models.data import PlaceData, decided_sizes, kind_groups, setup_committed, switch_order
from models.standard import build_standard_form, supports
from optimiser.solving.highs import (
    FIRST_BASES,
    CompiledLP,
    Solution,
    Switches,
    add_rows,
    clone,
    column_blocks,
    compile_lp,
    load_standard,
    remove_rows,
    set_column_bounds,
    solve_loaded,
)

SCENARIO_FIELDS = frozenset(
    {"pooling", "pool_share", "reference", "transfers", "reference_allowance", "fenced_by",
     "agreement", "agreement_shares"})
"""PlaceData fields a loaded model switches by bounds and rows; the others are its data."""


@dataclass
class PlaceModel:
    """A place's pooled model, compiled once and loaded in HiGHS.

    `pool[s, t]` is the column of p_st; `base_rows` the rows compiled (rows after
    them are the loaded scenario's incentive rows); `loaded` the scenario data whose
    bounds and rows HiGHS holds.
    """

    data: PlaceData
    lp: CompiledLP
    pool: np.ndarray
    base_rows: int
    timings: dict[str, float]
    loaded: PlaceData | None = None

    @classmethod
    def build(cls, data: PlaceData) -> PlaceModel:
        """Build and compile the pooled model of `data`'s place (without incentive rows)."""
        started = time.perf_counter()
        plain = dataclasses.replace(
            data, pooling=True, reference=np.full(len(data.agencies), np.nan),
            transfers=False, reference_allowance=0.0, agreement=None, agreement_shares=None)
        if supports(plain):  # straight to standard form: the same LP, without Pyomo
            with gc_paused():
                form = build_standard_form(plain, implied_bounds=True)
            built = time.perf_counter()
            lp = load_standard(form)
        else:
            from models.pooling import build_model  # Pyomo: imported only where it builds

            model = build_model(plain, implied_bounds=True)
            built = time.perf_counter()
            lp = compile_lp(model)
        timings = {"build": built - started, "compile": time.perf_counter() - built}
        return cls(plain, lp, pool_columns(lp, data), lp.n_rows, timings, loaded=plain)

    def copy(self) -> PlaceModel:
        """A second model of the place, holding what this one holds (`clone`: the same LP,
        options and basis, in a HiGHS of its own), to solve a scenario beside it: nothing
        a solve changes is shared (the rules' objectives come and go: `decide_switches`)."""
        lp = clone(self.lp)
        lp.senses, lp.offsets = dict(lp.senses), dict(lp.offsets)
        return dataclasses.replace(self, lp=lp, timings={})

    def adopt(self, copies: list[PlaceModel], before: dict[bytes, highspy.HighsBasis]) -> None:
        """Take in what `copies` of this model (`copy`), each having solved one scenario
        before the one this model solved beside them, keep for later analyses, as if it
        had solved them all one after another: the stage-1 bases (`CompiledLP.first_bases`,
        newest last, at most FIRST_BASES; `before`: this model's before the copies were
        made)."""
        if not copies:
            return
        lp = self.lp
        mine = {k: b for k, b in lp.first_bases.items() if before.get(k) is not b}
        kept = dict(before)
        for found in [c.lp.first_bases for c in copies] + [mine]:
            for key, basis in found.items():
                kept.pop(key, None)
                kept[key] = basis
        while len(kept) > FIRST_BASES:
            del kept[next(iter(kept))]
        lp.first_bases.clear()
        lp.first_bases.update(kept)

    def fits(self, data: PlaceData) -> bool:
        """Whether `data` is this model's place, up to what `load` switches."""
        return same_model(self.data, data)

    def load(self, data: PlaceData) -> None:
        """Give HiGHS `data`'s pool caps and incentive rows (`data` must fit)."""
        if self.loaded is data:
            return
        caps = data.pool_share[:, None] * data.budget if data.pooling else np.zeros_like(
            data.budget)
        set_column_bounds(self.lp, self.pool.ravel(), np.zeros(self.pool.size), caps.ravel())
        remove_rows(self.lp, self.base_rows)
        add_rows(self.lp, *incentive_rows(self.lp, data))
        self.loaded = data

    def solve(self, data: PlaceData, ranges: bool = True) -> Solution:
        """Load `data`'s scenario and solve it lexicographically (`solve_loaded`)."""
        self.load(data)
        solution = solve_loaded(self.lp, ranges, least_pooling=data.pooling,
                                sizes=column_sizes(self.lp, data),
                                switches=switches(self.lp, data),
                                total=data.pooling and data.agreement is not None,
                                groups=kind_groups(data))
        if solution.status == "optimal":
            solution.lp = self.lp
        return solution


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's garbage collector off within (on again after, where it was on), as the
    Pyomo build pauses it: the direct build makes tens of thousands of small tuples (the
    columns' and rows' names), none of them garbage, which would otherwise set off
    collections, a full one among them (about 20 ms on a Birmingham-sized run)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def pool_columns(lp: CompiledLP, data: PlaceData) -> np.ndarray:
    """(S, H): the column of p[s, t], the money stream s puts into the pool in year t, in a
    compiled pooled model (`models.pooling.add_variables`). The one lookup of the pool's
    columns, for the place model's switches, the ring-fence lifts and the fair-share game."""
    out = np.full((len(data.streams), data.years), -1, dtype=np.int64)
    at, index = column_blocks(lp).get("p", (np.zeros(0, dtype=np.int64),
                                            np.zeros((0, 2), dtype=np.int64)))
    out[index[:, 0], index[:, 1]] = at
    if (out < 0).any():
        s, t = (int(v) for v in np.argwhere(out < 0)[0])
        raise KeyError(("p", (s, t)))
    return out


def column_sizes(lp: CompiledLP, data: PlaceData) -> np.ndarray:
    """Each column's size in rule 3 (`models.data.decided_sizes`), in column order: a
    band of a tiered service's units (`band`) as the service's units, money carried over
    (`carry`) as the stream's budget; 1 for the set-up binaries (fixed at their optimum
    by then) and any other column."""
    sizes = decided_sizes(data)
    out = np.ones(len(lp.columns))
    for name, (at, index) in column_blocks(lp).items():
        if name in ("x", "p", "q"):
            out[at] = sizes[name][tuple(index.T)]
        elif name in ("f", "carry"):
            out[at] = sizes["f"][index[:, 0], index[:, -1]]
        elif name == "band":
            out[at] = sizes["x"][index[:, 0], index[:, 1]]
    return out


def switches(lp: CompiledLP, data: PlaceData) -> Switches | None:
    """The on/off choices of a MILP as rules 2a and 2c see them (`Switches`: the set-up cost
    each commits, `models.data.setup_committed`; its place in the order of the ids,
    `models.data.switch_order`), or None for an LP."""
    if not len(lp.integer):
        return None
    committed = setup_committed(data)
    setup = np.zeros(len(lp.integer))
    keys = []
    for n, column in enumerate(lp.integer.tolist()):
        name, index = lp.columns[column]
        if name == "on":
            setup[n] = committed[index[0], index[1]]
        keys.append(switch_order(data, name, index))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return Switches(setup, rank)


def same_model(a: PlaceData, b: PlaceData) -> bool:
    """Whether two scenarios' data differ only in what a loaded model switches."""
    for f in dataclasses.fields(PlaceData):
        if f.name in SCENARIO_FIELDS:
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                return False
        elif x != y:
            return False
    return True


def incentive_rows(
    lp: CompiledLP, data: PlaceData
) -> tuple[list[tuple[str, tuple[int, ...], int]], np.ndarray, np.ndarray]:
    """The no_worse_off rows of `data` (`models.pooling.add_incentives`): names, lower
    bounds and dense coefficients, each row's P_a from `position_objective[a]`.

    Without transfers: P_a >= Pref_a - eps_a for each protected agency.
    With transfers: sum_a P_a >= sum_a (Pref_a - eps_a) over the protected agencies.
    A row with no terms that holds (0 >= a bound <= 0) is left out, as the Pyomo
    compiler leaves it out.
    """
    protected = [a for a in range(len(data.agencies)) if not np.isnan(data.reference[a])]
    none: tuple[list[tuple[str, tuple[int, ...], int]], np.ndarray, np.ndarray] = (
        [], np.zeros(0), np.zeros((0, len(lp.columns))))
    if not protected:
        return none
    eps: np.ndarray = data.reference_allowance * np.maximum(1.0, np.abs(data.reference))
    position = [lp.costs[f"position_objective[{a}]"] for a in protected]
    offset = [lp.offsets[f"position_objective[{a}]"] for a in protected]
    if data.transfers:
        total = position[0].copy()
        for row in position[1:]:
            total += row
        pooled = float(sum(data.reference[a] - eps[a] for a in protected)) - sum(offset)
        if not total.any() and pooled <= 0:
            return none
        return [("no_worse_off_pooled", (), -1)], np.array([pooled]), total[None, :]
    lower = np.array([float(data.reference[a] - eps[a]) - o
                      for a, o in zip(protected, offset, strict=True)])
    kept = [n for n, row in enumerate(position) if row.any() or lower[n] > 0]
    names: list[tuple[str, tuple[int, ...], int]] = [
        ("no_worse_off", (protected[n],), -1) for n in kept]
    return names, lower[kept], np.array([position[n] for n in kept]).reshape(
        len(kept), len(lp.columns))


class PlaceModels:
    """The models of one place's run, one per distinct model data, built on first use."""

    def __init__(self) -> None:
        self.models: list[PlaceModel] = []

    def for_data(self, data: PlaceData) -> PlaceModel:
        """The model `data` fits, built and compiled the first time it is needed."""
        for model in self.models:
            if model.fits(data):
                return model
        model = PlaceModel.build(data)
        self.models.append(model)
        return model
