"""The pooled LP of `models.pooling`, built straight from the plain data in standard form.

`models.pooling.build_model` is the readable statement of the model; compiling it
with Pyomo's standard-form compiler costs about 3 microseconds a nonzero (the
objects of the build, then walking them). A place's run solves one model, so
this module writes the same LP directly as arrays, with numpy: the same columns
in the same order, the same rows in the same order, the same coefficients,
bounds and objective costs, bit for bit (tests/test_standard_form.py compares the
two on every test and shipped instance and on generated places). HiGHS is then
handed the very same LP, so every figure is the same.

What Pyomo's compiler does, and this module does the same way:

- objectives first (`objective`, `least_pooling` when pooling, then
  `position_objective[a]` for every agency), then the constraints in the order
  the model declares them (`funding`, `budget`, `pool_balance`, `target`,
  `floor`), each family in the order of its index; rows with no term that hold
  are left out (a term-less row that fails raises, as Pyomo does);
- a variable's component (x, f, p, q, and `nothing` for a target no intervention
  moves) gets its columns, every index in order, when the first of its
  variables is met in that walk; columns with no coefficient in any row or
  objective are then dropped;
- rows: `==` is kind 0, `<=` kind 1 and `>=` kind -1, the right-hand side the
  bound; the matrix is column-wise with each column's rows in order.

Only what `optimiser.solving.placemodel` builds is covered: the pooled or ring-fenced
model of a scenario without incentive rows, not the elastic model of a diagnosis.
`supports(data)` says when the direct build applies (data with any field this
module does not know, set to anything but its empty value, goes to Pyomo).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from models.data import PlaceData, affordable_units, objective_coefficients

KNOWN_FIELDS = frozenset({
    "years", "discount", "objective", "interventions", "cost", "min_units", "max_units", "lag",
    "outcomes", "effect", "value", "weight", "target", "agencies", "saving", "streams",
    "stream_agency", "budget", "fence", "pool_share", "pooling", "floor", "reference",
    "transfers", "reference_allowance", "fenced_by", "agreement", "agreement_shares",
    "agency_kind"})
"""The PlaceData fields the direct build reads or knows to be irrelevant to it."""

MINIMIZE, MAXIMIZE = 1, -1


@dataclass
class StandardForm:
    """An LP as Pyomo's standard-form compiler gives it (`mixed_form`, senses kept)."""

    columns: list[tuple[str, tuple[int, ...]]]
    col_lower: np.ndarray  # -inf where none
    col_upper: np.ndarray  # +inf where none
    rows: list[tuple[str, tuple[int, ...], int]]  # name, index, kind (0 ==, 1 <=, -1 >=)
    rhs: np.ndarray
    start: np.ndarray  # column-wise matrix: column j's entries are start[j]:start[j+1]
    index: np.ndarray  # their rows
    value: np.ndarray  # their coefficients
    costs: dict[str, np.ndarray]  # objective name -> dense cost of every column
    senses: dict[str, int]  # objective name -> MINIMIZE or MAXIMIZE
    offsets: dict[str, float]
    blocks: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    """Variable name -> (its columns' positions, their indices as the rows of an array):
    `columns` by variable, in column order (None: read off `columns` where needed)."""


def _empty(value: Any) -> bool:
    """Whether a field holds its 'nothing asked for' value (None, empty, all zero)."""
    if value is None:
        return True
    if isinstance(value, np.ndarray):
        return not value.any()
    if isinstance(value, (tuple, list, dict, set, frozenset)):
        return len(value) == 0
    return not value


def supports(data: PlaceData) -> bool:
    """Whether `build_standard_form` builds `data`'s model: no incentive rows (NaN
    references), and every field it does not know at its empty value."""
    if not np.all(np.isnan(data.reference)):
        return False
    return all(_empty(getattr(data, f.name)) for f in dataclasses.fields(data)
               if f.name not in KNOWN_FIELDS)


class _Rows:
    """Rows gathered family by family: (row, component, index in component, value)."""

    def __init__(self) -> None:
        self.names: list[tuple[str, tuple[int, ...], int]] = []
        self.rhs: list[float] = []
        self.parts: list[tuple[np.ndarray, str, np.ndarray, np.ndarray]] = []

    def add(self, row: np.ndarray, var: str, at: np.ndarray, value: np.ndarray) -> None:
        """Terms: row numbers (relative to the family's first), a variable, its indices, values."""
        self.parts.append((np.asarray(row, dtype=np.int64), var, np.asarray(at, dtype=np.int64),
                           np.asarray(value, dtype=float)))


def build_standard_form(data: PlaceData, implied_bounds: bool = True) -> StandardForm:
    """The LP `compile_lp(build_model(data, implied_bounds=...))` would give (module doc)."""
    if not supports(data):
        raise ValueError("the direct build covers models without incentive rows and "
                         "without fields it does not know")
    h = data.years
    n_i, n_s, n_a = len(data.interventions), len(data.streams), len(data.agencies)
    pairs = [(s, i) for s, members in enumerate(data.fence) for i in members]
    n_f = len(pairs)
    pair_i = np.array([i for _, i in pairs], dtype=np.int64)
    by_item: list[list[int]] = [[] for _ in range(n_i)]
    by_stream: list[list[int]] = [[] for _ in range(n_s)]
    for k, (s, i) in enumerate(pairs):
        by_item[i].append(k)
        by_stream[s].append(k)
    sizes = {"x": n_i * h, "f": n_f * h, "p": n_s * h if data.pooling else 0,
             "q": n_i * h if data.pooling else 0, "nothing": 1}
    met: list[str] = []  # components in the order the compiler meets them

    def meet(*names: str) -> None:
        for name in names:
            if name not in met:
                met.append(name)

    # Objectives: (name, sense, {component: (indices, values)} in the order of their terms).
    objectives: list[tuple[str, int, list[tuple[str, np.ndarray, np.ndarray]]]] = []
    coef = objective_coefficients(data).ravel()
    at = np.flatnonzero(coef)
    objectives.append(("objective", MINIMIZE if data.objective == "cost" else MAXIMIZE,
                       [("x", at, coef[at])] if len(at) else []))
    if data.pooling:
        objectives.append(("least_pooling", MINIMIZE,
                           [("p", np.arange(n_s * h), np.tile(data.discount, n_s))]
                           if n_s * h else []))
    positions = [_position_terms(data, a, by_stream) for a in range(n_a)]
    for a in range(n_a):
        objectives.append((f"position_objective[{a}]", MINIMIZE, positions[a]))
    for _, _, terms in objectives:
        meet(*[var for var, idx, _ in terms if len(idx)])

    rows = _Rows()
    _funding(data, rows, meet, by_item, pair_i)
    _budgets(data, rows, meet, by_stream)
    if data.pooling:
        _pool_balance(data, rows, meet)
    _targets(data, rows, meet)
    _floors(data, rows, meet, positions)

    # Columns: each component met, every index in order; then the unused ones dropped.
    first = {}
    n_cols = 0
    for name in met:
        first[name] = n_cols
        n_cols += sizes[name]
    cost_rows = [np.zeros(n_cols) for _ in objectives]
    for n, (_, _, terms) in enumerate(objectives):
        for var, idx, val in terms:
            cost_rows[n][first[var] + idx] = val
    if rows.parts:
        r = np.concatenate([p[0] for p in rows.parts])
        c = np.concatenate([first[p[1]] + p[2] for p in rows.parts])
        v = np.concatenate([p[3] for p in rows.parts])
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    used = np.zeros(n_cols, dtype=bool)
    used[c] = True
    for costs in cost_rows:
        used |= costs != 0
    kept = np.flatnonzero(used)
    new = np.full(n_cols, -1, dtype=np.int64)
    new[kept] = np.arange(len(kept))
    c = new[c]
    order = np.lexsort((r, c))
    counts = np.bincount(c, minlength=len(kept))
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)

    names, lower, upper, indices = _column_table(data, met, sizes, implied_bounds, n_f, pairs)
    blocks = {}
    for name in met:
        placed = new[first[name] + np.arange(sizes[name])]
        here = placed >= 0
        blocks[name] = (placed[here], indices[name][here])
    # The costs as rows of one (objectives, columns) array, as Pyomo's compiler gives them
    # (`c.toarray()`): numpy's dot products of a cost row with a plan depend, in their last
    # digits, on where the row sits in memory, and the figures must not change.
    dense = np.zeros((len(objectives), len(kept)))
    for n, costs in enumerate(cost_rows):
        dense[n] = costs[kept]
    return StandardForm(
        columns=names if len(kept) == len(names) else list(map(names.__getitem__, kept.tolist())),
        col_lower=lower[kept], col_upper=upper[kept],
        rows=rows.names, rhs=np.array(rows.rhs, dtype=float),
        start=start, index=r[order].astype(np.int32), value=v[order],
        costs={name: dense[n] for n, (name, _, _) in enumerate(objectives)},
        senses={name: sense for name, sense, _ in objectives},
        offsets={name: 0.0 for name, _, _ in objectives}, blocks=blocks)


def _position_terms(data: PlaceData, a: int, by_stream: list[list[int]]
                    ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """P_a = savings_a - spend_a (`models.pooling.add_positions`) as terms by component,
    in the order the compiler meets them: x (savings), then f and p (spend) as each
    held stream's years list them."""
    h = data.years
    w = data.savings_weight()
    terms: list[tuple[str, np.ndarray, np.ndarray]] = []
    coefficient = data.saving[:, a][:, None] * w * np.ones(data.cost.shape)
    i, t = np.nonzero((data.saving[:, a][:, None] != 0) & (w > 0))
    if len(i):
        terms.append(("x", i * h + t, coefficient[i, t]))
    streams = np.flatnonzero(data.stream_agency == a).tolist()
    years = np.arange(h, dtype=np.int64)
    spent = -data.discount  # each year's spend counts -d_t
    f_at: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    f_val: list[np.ndarray] = [np.zeros(0)]
    for s in streams:  # each held stream's years in turn, each year its pairs in turn
        pairs = np.array(by_stream[s], dtype=np.int64)
        if h and len(pairs):
            f_at.append((years[:, None] + pairs[None, :] * h).ravel())
            f_val.append(np.repeat(spent, len(pairs)))
    with_pairs = [s for s in streams if by_stream[s]]
    spend_order: list[str] = []
    if with_pairs and h:
        spend_order.append("f")
    if data.pooling and streams and h:  # met in the first stream's years, after its pairs
        spend_order.insert(0 if with_pairs and with_pairs[0] != streams[0] else len(
            spend_order), "p")
    pooled = np.array(streams, dtype=np.int64) if data.pooling else np.zeros(0, np.int64)
    found = {"f": (np.concatenate(f_at), np.concatenate(f_val)),
             "p": ((pooled[:, None] * h + years[None, :]).ravel(), np.tile(spent, len(pooled)))}
    terms += [(name, *found[name]) for name in spend_order]
    return terms


def _funding(data: PlaceData, rows: _Rows, meet: Any, by_item: list[list[int]],
             pair_i: np.ndarray) -> None:
    """`add_funding_balance`: sum_{s: i in R(s)} f_sit + q_it - cost_it x_it = 0."""
    h, n_i = data.years, len(data.interventions)
    fenced = np.array([len(k) > 0 for k in by_item], dtype=bool)[:, None] & np.ones(
        (1, h), dtype=bool)
    has_cost = data.cost != 0
    kept = has_cost | fenced | data.pooling  # (I, H): rows present, in (i, t) order
    number = np.full((n_i, h), -1, dtype=np.int64)
    number[kept] = len(rows.names) + np.arange(int(kept.sum()))
    i, t = np.nonzero(kept)
    rows.names += zip(repeat("funding"), zip(i.tolist(), t.tolist(), strict=True), repeat(0))
    rows.rhs += [0.0] * len(i)
    # components met, as a row lists them: f (its pairs), q, x
    firsts = []
    if (kept & fenced).any():
        firsts.append((int(number[kept & fenced][0]), 0, "f"))
    if data.pooling and kept.any():
        firsts.append((int(number[kept][0]), 1, "q"))
    if has_cost.any():
        firsts.append((int(number[has_cost][0]), 2, "x"))
    meet(*[name for _, _, name in sorted(firsts)])
    if len(pair_i):
        k = np.repeat(np.arange(len(pair_i)), h)
        t = np.tile(np.arange(h), len(pair_i))
        rows.add(number[pair_i[k], t], "f", k * h + t, np.ones(len(k)))
    if data.pooling:
        rows.add(number.ravel(), "q", np.arange(n_i * h), np.ones(n_i * h))
    i, t = np.nonzero(has_cost)
    sign = np.where(fenced[i, t] | data.pooling, -1.0, 1.0)
    rows.add(number[i, t], "x", i * h + t, sign * data.cost[i, t])


def _budgets(data: PlaceData, rows: _Rows, meet: Any, by_stream: list[list[int]]) -> None:
    """`add_budget_limits`: sum_{i in R(s)} f_sit + p_st <= budget_st."""
    h, n_s = data.years, len(data.streams)
    fenced = np.array([len(k) > 0 for k in by_stream], dtype=bool)
    kept = np.repeat(fenced | data.pooling, h).reshape(n_s, h)
    number = np.full((n_s, h), -1, dtype=np.int64)
    number[kept] = len(rows.names) + np.arange(int(kept.sum()))
    s, t = np.nonzero(kept)
    rows.names += zip(repeat("budget"), zip(s.tolist(), t.tolist(), strict=True), repeat(1))
    rows.rhs += data.budget[s, t].tolist()
    firsts = []
    if fenced.any():
        firsts.append((int(np.flatnonzero(fenced)[0]), 0, "f"))
    if data.pooling and n_s:
        firsts.append((0, 1, "p"))
    meet(*[name for _, _, name in sorted(firsts)])
    ks = [(k, s) for s in range(n_s) for k in by_stream[s]]
    if ks:
        k = np.repeat(np.array([k for k, _ in ks], dtype=np.int64), h)
        s = np.repeat(np.array([s for _, s in ks], dtype=np.int64), h)
        t = np.tile(np.arange(h), len(ks))
        rows.add(number[s, t], "f", k * h + t, np.ones(len(k)))
    if data.pooling:
        rows.add(number.ravel(), "p", np.arange(n_s * h), np.ones(n_s * h))


def _pool_balance(data: PlaceData, rows: _Rows, meet: Any) -> None:
    """`add_pool_balance`: sum_i q_it - sum_s p_st = 0 for every t."""
    h, n_i, n_s = data.years, len(data.interventions), len(data.streams)
    base = len(rows.names)
    for t in range(h):
        rows.names.append(("pool_balance", (t,), 0))
        rows.rhs.append(0.0)
    if not n_i and not n_s:  # rows with no terms (0 == 0): left out
        del rows.names[base:], rows.rhs[base:]
        return
    meet(*(["q"] if n_i else []), *(["p"] if n_s else []))
    years = np.arange(h)
    rows.add(base + np.tile(years, n_i), "q", np.arange(n_i * h), np.ones(n_i * h))
    rows.add(base + np.tile(years, n_s), "p", np.arange(n_s * h), -np.ones(n_s * h))


def _targets(data: PlaceData, rows: _Rows, meet: Any) -> None:
    """`add_targets`: sum_i e_ik x_it >= target_kt (the row `nothing >= target` when no
    intervention moves k)."""
    h = data.years
    index = [(k, t) for k in range(len(data.outcomes)) for t in range(h)
             if not np.isnan(data.target[k, t])]
    for k, t in index:
        items = np.flatnonzero(data.effect[:, k])
        number = len(rows.names)
        rows.names.append(("target", (k, t), -1))
        rows.rhs.append(float(data.target[k, t]))
        if len(items):
            meet("x")
            rows.add(np.full(len(items), number), "x", items * h + t,
                     data.effect[items, k] * np.ones(len(items)))
        else:
            meet("nothing")
            rows.add(np.array([number]), "nothing", np.array([0]), np.array([1.0]))


def _floors(data: PlaceData, rows: _Rows, meet: Any,
            positions: list[list[tuple[str, np.ndarray, np.ndarray]]]) -> None:
    """`add_floors`: P_a >= -max_net_cost_a; a term-less row is left out if it holds."""
    for a in range(len(data.agencies)):
        if np.isnan(data.floor[a]):
            continue
        terms = [(var, idx, val) for var, idx, val in positions[a] if len(idx)]
        if not terms:
            if data.floor[a] <= 0.0:
                continue
            from pyomo.common.errors import InfeasibleConstraintException

            raise InfeasibleConstraintException(  # as Pyomo's compiler raises it
                f"model contains a trivially infeasible constraint, 'floor[{a}]'")
        number = len(rows.names)
        rows.names.append(("floor", (a,), -1))
        rows.rhs.append(float(data.floor[a]))
        meet(*[var for var, _, _ in terms])
        for var, idx, val in terms:
            rows.add(np.full(len(idx), number), var, idx, val)


def _column_table(data: PlaceData, met: list[str], sizes: dict[str, int],
                  implied_bounds: bool, n_f: int, pairs: list[tuple[int, int]]
                  ) -> tuple[list[tuple[str, tuple[int, ...]]], np.ndarray, np.ndarray,
                             dict[str, np.ndarray]]:
    """Every column of the components met, in order: names and bounds (`add_variables`),
    and each component's indices as the rows of an array, in the order of its names."""
    h = data.years
    names: list[tuple[str, tuple[int, ...]]] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    indices: dict[str, np.ndarray] = {}
    inf = np.inf
    for name in met:
        if name == "nothing":
            indices[name] = np.zeros((1, 0), dtype=np.int64)
        elif name == "f":
            at = np.array(pairs, dtype=np.int64).reshape(n_f, 2)
            indices[name] = np.column_stack([np.repeat(at, h, axis=0),
                                             np.tile(np.arange(h, dtype=np.int64), n_f)])
        else:  # (item, year): x and q by intervention, p by stream
            indices[name] = np.column_stack(np.divmod(np.arange(sizes[name], dtype=np.int64), h))
        if name != "nothing":  # each index a tuple of Python ints, as the walk gives them
            names += zip(repeat(name), zip(*indices[name].T.tolist(), strict=True))
        if name == "x":
            hi = np.minimum(data.max_units, affordable_units(data)) if implied_bounds \
                else data.max_units
            lower.append(data.min_units.ravel().astype(float))
            upper.append(np.where(np.isfinite(hi), hi, inf).ravel().astype(float))
        elif name == "f":
            lower.append(np.zeros(n_f * h))
            upper.append(np.full(n_f * h, inf))
        elif name == "p":
            poolable = data.pool_share[:, None] * data.budget
            lower.append(np.zeros(sizes["p"]))
            upper.append(np.where(np.isfinite(poolable), poolable, inf).ravel().astype(float))
        elif name == "q":
            lower.append(np.zeros(sizes["q"]))
            upper.append(np.full(sizes["q"], inf))
        else:
            names.append(("nothing", ()))
            lower.append(np.zeros(1))
            upper.append(np.zeros(1))
    if not lower:
        return names, np.zeros(0), np.zeros(0), indices
    return names, np.concatenate(lower), np.concatenate(upper), indices
