"""Fair shares of the pooling gain: the Shapley value of the pooling game.

The players are the agencies. A coalition C's value v(C) is the objective of a
pooled scenario with the pool_share of every stream held outside C set to 0:
v(empty) is ring-fencing (the scenario's own instance and overrides, nothing
pooled), v(all) the scenario itself. The game is the gain over ring-fencing,

    u(C) = sign * (v(C) - v(empty)),  sign = +1 (net_benefit, outcomes), -1 (cost),

and agency i's fair share is its Shapley value

    phi_i = sum_{C not containing i} |C|! (n - |C| - 1)! / n! * (u(C + i) - u(C)),

which add up to the gain u(all).

Every coalition is solved on the scenario's own model, still loaded in HiGHS:
a stream outside C gets the upper bound 0 on its pool contributions p_st, which
is exactly pool_share_s = 0. Up to EXACT_LIMIT players all 2^n coalitions are
solved in Gray-code order, so each re-solve changes one agency's bounds and
starts from the last basis. The walk starts at ring-fencing from the basis its cold
solve ended on where a scenario solved it on this model (`PoolingGame.hold_first_basis`),
else (a MILP) from ring-fencing solved cold (`PoolingGame.cold_value`), and every
part is walked on a fresh copy of the model: the shares depend on the model alone,
not on what other analyses solved on it before (whether the ring-fence prices ran,
how their lifts were split). The walk is cut into consecutive parts (`walk_parts`:
how many depends on the model and n alone, never on the machine), each walked on
its own copy of the model from the same start, and the values put together in the
walk's order, so the shares are the same however many workers walk the parts: up
to WALK_PART coalitions in one part or, on a large model, two (side by side in
threads where that is work enough, `parts`, else in turn); longer walks in parts
of WALK_PART coalitions, spread over local processes or a Dask cluster
(`optimiser.workers`, as `--workers` and `--scheduler` say), each part's copy of the
model sent as plain arrays (`optimiser.solving.portable`).

Beyond EXACT_LIMIT players the shares are estimated from antithetic pairs of random
permutations (`walk_pair`): pair k draws an order pi_k from (SEED, k) alone
(`pair_order`), walks down from full pooling taking the agencies out in that order
(the marginals of the reversed order, each agency joining last first) and, from full
pooling again, taking them out in the reversed order (the coalitions of pi_k's
marginals, each agency joining in turn), one agency's bounds changed a re-solve: a
re-solve that takes money out of the pool is a few dual simplex iterations, where one
adding money to a small pool is hundreds.
The estimate is the mean of the pairs' mean marginals, with its standard error over
the pairs; each permutation's marginals add up to u(all), so the shares do too.
Pairs are drawn in rounds until `sampling_stops` (every standard error at most
SAMPLE_PRECISION of the gain, or the budget `sample_budget`, tied to the model's
size, spent); each pair is walked on its own copy of the model from the same start,
by the same workers as the exact walk's parts, so the shares depend on the seed and
the model alone, never on how many workers walk the pairs. The bounds are restored
(and the scenario re-solved) afterwards.

Agencies that can put nothing into the pool (no stream, or pool_share * budget
= 0 in every year) change no coalition's value: their share is 0 and they are
left out of the enumeration.

Feasibility: adding an agency to a coalition only raises upper bounds, so the
feasible set only grows with C. If ring-fencing is feasible every coalition is,
and each is bounded because full pooling (a larger set) has an optimum. If
ring-fencing is infeasible the game has no baseline: the scenario gets no
shares and results.json says why.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import highspy
import numpy as np

from optimiser.pipeline import RunResult
from optimiser.solving.highs import (
    PARTS,
    CompiledLP,
    basis,
    clone,
    first_basis,
    in_parallel,
    parts,
    reoptimise,
    set_basis,
    set_column_bounds,
    split,
)
from optimiser.solving.placemodel import pool_columns
from optimiser.solving.portable import PortableLP, portable, rebuilt
from optimiser.solving.results import ScenarioResult
from optimiser.workers import Workers, chosen, on_workers

EXACT_LIMIT = 16
"""Most players for which every coalition is solved (2^16 = 65,536 re-solves)."""

WALK_PART = 1 << 12
"""Coalitions in each part of a Gray-code walk longer than this (each part on its own
copy of the model, run by the chosen workers); shorter walks are walked here."""

PRELOAD = ["optimiser.analyses.shapley"]
"""What a local worker process imports once, before it walks its parts."""

SAMPLE_PRECISION = 0.001
"""Sampling stops once every share's standard error is at most this fraction of the gain."""

MIN_PAIRS = 16
"""Antithetic pairs drawn before the standard errors may stop sampling. Fewer can miss
whole kinds of order: where only three agencies' money interacts, a pair's mean
depends only on which of the three comes between the others, and four pairs all of
one kind (1 in 27) would show a standard error of 0 with the shares wrong."""

FEWEST_PAIRS = 2
"""The fewest pairs any budget draws: two give a standard error."""

SAMPLE_WORK = 100_000_000
"""The sampling budget in re-solves x the model's columns (`sample_budget`): about 40 s of
one core's time on the 50-agency place of benchmarks/big.py (156,420 columns; a minute
when half of each pair's re-solves walked up from nobody)."""

SAMPLE_SOLVES = 16_384
"""Most re-solves sampling spends, whatever the model's size (`sample_budget`)."""

SPREAD_WORK = 10_000_000
"""A round of sampled pairs worth at least this many re-solves x columns (some 5 s of one
core) goes to the chosen workers; a smaller one is walked here (starting processes
would cost more). Where pairs are walked never changes the shares."""

SHARE_TOL = 1e-9
"""Shares smaller than this fraction of the gain are solver noise, reported as 0."""

SEED = 0
"""Seed of the permutation sampler: the same shares on every run (`pair_order`)."""


class GameError(RuntimeError):
    """A coalition of the pooling game has no optimum."""


@dataclass
class PoolingGame:
    """The pooling game of one scenario, played on its model loaded in HiGHS.

    `columns[n]` are player n's p columns, `upper[n]` their bounds under full
    pooling; `current` is the coalition (bit n = player n) whose bounds HiGHS holds.
    """

    lp: CompiledLP
    columns: list[np.ndarray]
    upper: list[np.ndarray]
    sign: float
    current: int
    values: dict[int, float] = field(default_factory=dict)
    solves: int = 0
    progress: Callable[[int], None] | None = None
    """Told of every re-solve (the run's progress bar)."""
    pooled_basis: highspy.HighsBasis | None = None
    """The optimal basis full pooling was last solved to here, where it was (`restore`)."""

    @property
    def players(self) -> int:
        """Number of players."""
        return len(self.columns)

    @property
    def everyone(self) -> int:
        """The grand coalition's bit mask."""
        return (1 << self.players) - 1

    def value(self, coalition: int) -> float:
        """v(C), the scenario's objective with only C's streams pooling (solved once)."""
        if coalition not in self.values:
            self.values[coalition] = self._solve(coalition)
        return self.values[coalition]

    def gain(self, coalition: int) -> float:
        """u(C) = sign * (v(C) - v(empty))."""
        return self.sign * (self.value(coalition) - self.value(0))

    def hold_first_basis(self, coalition: int) -> bool:
        """Give HiGHS `coalition`'s bounds and, where a scenario's first stage solved that
        very LP on this model (ring-fencing and full pooling are the scenarios' own LPs),
        the basis its cold solve ended on (`first_basis`), without solving: the next
        re-solve then starts from a basis that depends on the model alone, not on what HiGHS
        solved before (another analysis's re-solves on the same model; HiGHS keeps more of
        those than the basis, so the walk re-solves on fresh copies, `copy`). False where
        there is none (a MILP, or an LP no scenario solved here with its position ranges)."""
        self._bound(coalition)
        kept = first_basis(self.lp)
        if kept is not None:
            set_basis(self.lp, kept)
        return kept is not None

    def first_value(self, coalition: int) -> float:
        """v(C), solved (where not yet known) from the basis a cold solve of C's LP ends on
        where there is one (`hold_first_basis`), else cold (`cold_value`)."""
        if coalition not in self.values and not self.hold_first_basis(coalition):
            return self.cold_value(coalition)
        return self.value(coalition)

    def cold_value(self, coalition: int) -> float:
        """v(C), solved (where not yet known) from scratch (`reoptimise`'s `cold`: HiGHS
        handed its model again, nothing kept of earlier solves), so that where no first
        basis is held (a MILP) the walk from C still depends on the model alone, not on
        what other analyses solved on it before."""
        if coalition not in self.values:
            self._bound(coalition)
            status, z, _ = reoptimise(self.lp, values=False, cold=True)
            self.solves += 1
            if self.progress is not None:
                self.progress(1)
            if status != "optimal" or z is None:
                raise GameError(f"{status} when pooling only {self.describe(coalition)}")
            if coalition == self.everyone:
                self.pooled_basis = basis(self.lp)
            self.values[coalition] = z
        return self.values[coalition]

    def _solve(self, coalition: int) -> float:
        status, z = self._move_to(coalition)
        if status != "optimal" or z is None:
            raise GameError(f"{status} when pooling only {self.describe(coalition)}")
        return z

    def _move_to(self, coalition: int) -> tuple[str, float | None]:
        """Give HiGHS `coalition`'s p bounds (only players that differ change) and solve."""
        self._bound(coalition)
        status, z, _ = reoptimise(self.lp, values=False)
        self.solves += 1
        if coalition == self.everyone and status == "optimal":
            self.pooled_basis = basis(self.lp)
        if self.progress is not None:
            self.progress(1)
        return status, z

    def _bound(self, coalition: int) -> None:
        """Give HiGHS `coalition`'s p bounds, without solving: only the players that differ
        from the coalition it holds change, all in one call."""
        moved = [n for n in range(self.players) if (self.current ^ coalition) >> n & 1]
        if moved:
            columns = np.concatenate([self.columns[n] for n in moved])
            upper = np.concatenate([self.upper[n] if coalition >> n & 1
                                    else np.zeros(len(self.upper[n])) for n in moved])
            set_column_bounds(self.lp, columns, np.zeros(len(columns)), upper)
        self.current = coalition

    def restart(self, start: highspy.HighsBasis | None) -> None:
        """Hold full pooling again, from `start`, the simplex basis full pooling was solved
        with, where there is one (no solve: the next re-solve starts from there)."""
        self._bound(self.everyone)
        if start is not None:
            set_basis(self.lp, start)

    def restore(self) -> None:
        """Put every player's bounds back (full pooling) and re-solve the scenario, from
        the basis full pooling was solved to in the walk where there is one (a few
        pivots at most, where the last coalition's basis is hundreds away)."""
        if self.current != self.everyone:
            if self.pooled_basis is not None:
                self._bound(self.everyone)
                set_basis(self.lp, self.pooled_basis)
            self._move_to(self.everyone)

    def copy(self) -> PoolingGame:
        """The same game on a copy of the model (`clone`), for coalitions solved beside
        this one's; its values start as this one's."""
        return PoolingGame(clone(self.lp), self.columns, self.upper, self.sign, self.current,
                           dict(self.values), 0, self.progress)

    def describe(self, coalition: int) -> str:
        """Which players a coalition holds, for messages."""
        held = [str(n) for n in range(self.players) if coalition >> n & 1]
        return "players " + ", ".join(held) if held else "nobody (ring-fencing)"


@dataclass(frozen=True)
class FairShares:
    """The Shapley shares of one pooled scenario's gain, and how they were found."""

    scenario: str
    method: str  # exact | sampled | skipped
    shares: dict[str, float]
    standard_error: dict[str, float] | None
    gain: float | None
    ring_fenced_objective: float | None
    pooled_objective: float | None
    players: list[str]
    solves: int
    permutations: int | None
    note: str
    sampling: dict[str, Any] | None = None
    """How a sampled estimate was drawn and why it stopped (`Sample.document`)."""

    def document(self) -> dict[str, Any]:
        """Its entry in results.json (the scenario's `pooling_game`)."""
        return {
            "method": self.method, "gain": self.gain,
            "ring_fenced_objective": self.ring_fenced_objective,
            "pooled_objective": self.pooled_objective, "players": self.players,
            "re_solves": self.solves, "permutations": self.permutations,
            "standard_error": self.standard_error, "note": self.note,
            "sampling": self.sampling,
        }


def game_scenarios(result: RunResult) -> list[ScenarioResult]:
    """Optimal pooled scenarios without incentives whose model is still loaded."""
    return [s for s in result.scenarios
            if s.status == "optimal" and s.data is not None and s.data.pooling
            and bool(np.all(np.isnan(s.data.reference))) and s.lp is not None]


def expected_solves(s: ScenarioResult) -> int:
    """At most how many re-solves `fair_shares` makes for `s`: 2^n + 1 exact, else the
    sampling budget's pairs (`most_pairs`) of 2n re-solves and the 2 ends."""
    assert s.data is not None and s.lp is not None
    data = s.data
    poolable = (data.pool_share[:, None] * data.budget > 0).any(axis=1)
    n = len(np.unique(data.stream_agency[poolable]))
    if n <= EXACT_LIMIT:
        return (1 << n) + 1
    return 2 * n * most_pairs(sample_budget(s.lp), n) + 2


def pooling_game(s: ScenarioResult) -> tuple[PoolingGame, list[str]]:
    """The game of a pooled scenario, and its players (agencies with poolable money, in
    the order of their ids, so that sampled permutations do not depend on how the
    instance lists them), on the scenario's model loaded with its bounds."""
    assert s.data is not None and s.lp is not None
    data, lp = s.data, s.lp
    if s.model is not None:
        s.model.load(data)
    pool = pool_columns(lp, data)
    poolable = data.pool_share[:, None] * data.budget  # (S, H): p_st's upper bound in the model
    columns, bounds, players = [], [], []
    for a, agency in sorted(enumerate(data.agencies), key=lambda pair: pair[1]):
        held = [(st, t) for st in np.flatnonzero(data.stream_agency == a)
                for t in range(data.years)]
        cols = np.array([pool[st, t] for st, t in held], dtype=np.int64)
        upper = np.array([poolable[st, t] for st, t in held], dtype=float)
        if np.any(upper > 0):
            columns.append(cols)
            bounds.append(upper)
            players.append(agency)
    sign = -1.0 if data.objective == "cost" else 1.0
    game = PoolingGame(lp, columns, bounds, sign, current=(1 << len(players)) - 1)
    return game, players


def fair_shares(s: ScenarioResult, exact_limit: int = EXACT_LIMIT,
                sample_solves: int | None = None, seed: int = SEED,
                progress: Callable[[int], None] | None = None,
                split_in: int | None = None, workers: Workers | None = None,
                precision: float = SAMPLE_PRECISION) -> FairShares:
    """The Shapley shares of scenario `s` (module doc): exact or sampled; `progress(n)`
    after n re-solves. `split_in` and `workers`: how an exact walk is cut and who walks
    it (`exact_shapley`), and who walks sampled pairs (`sampled_shapley`).
    `sample_solves` (default `sample_budget`), `seed` and `precision`: the sampling's
    budget in re-solves, seed and target (`sampling_stops`)."""
    assert s.data is not None
    game, players = pooling_game(s)
    game.progress = progress
    agencies = s.data.agencies
    n = game.players
    permutations = None
    error = None
    sampling = None
    try:
        if n <= exact_limit:
            if not game.hold_first_basis(0):
                game.cold_value(0)  # solved here afresh: the walk starts from its optimum
            phi = exact_shapley(game, split_in, workers)
            method = "exact"
        else:
            game.first_value(0)
            game.first_value(game.everyone)  # full pooling solved: where every pair starts
            budget = sample_budget(game.lp) if sample_solves is None else sample_solves
            target = precision * max(abs(game.gain(game.everyone)), 1.0)
            sample = sampled_shapley(game, seed, most_pairs(budget, n), target, workers)
            phi = sample.shares
            method = "sampled"
            permutations = 2 * sample.pairs
            error = dict(zip(agencies, [0.0] * len(agencies), strict=True))
            error.update(zip(players, sample.standard_error.tolist(), strict=True))
            sampling = sample.document(seed, precision, budget)
        ring_fenced, pooled = game.value(0), game.value(game.everyone)
    except GameError as err:
        why = ("ring-fencing this scenario's instance has no feasible plan, so pooling has no "
               "baseline to gain on" if 0 not in game.values else f"the solver found {err}")
        return FairShares(s.name, "skipped", {}, None, None, None, None, players,
                          game.solves, permutations, why)
    finally:
        game.restore()
    gain = game.sign * (pooled - ring_fenced) + 0.0
    shares = dict.fromkeys(agencies, 0.0)
    shares.update(zip(players, _clean(phi, gain).tolist(), strict=True))
    null = [a for a in agencies if a not in players]
    note = f"nothing to put into the pool, so a share of 0: {', '.join(null)}" if null else ""
    return FairShares(s.name, method, shares, error, gain, ring_fenced, pooled, players,
                      game.solves, permutations, note, sampling)


def _clean(phi: np.ndarray, gain: float) -> np.ndarray:
    """Shares within the solver's tolerance of zero (a billionth of the gain) as 0.0."""
    return np.where(np.abs(phi) <= SHARE_TOL * max(1.0, abs(gain)), 0.0, phi)


def _walk(game: PoolingGame, masks: list[int]) -> list[float]:
    """One part of the Gray-code walk: each coalition's value, in turn, on `game`'s model."""
    return [game.value(m) for m in masks]


def gray_walk(n: int) -> list[int]:
    """The 2^n coalitions in Gray-code order: g(k) = k XOR (k >> 1), for k = 0 .. 2^n - 1."""
    k = np.arange(1 << n)
    return (k ^ (k >> 1)).tolist()


WALK_SPLIT = 200_000
"""Coalitions x model columns from which a walk of up to WALK_PART coalitions is cut in
PARTS (`walk_parts`). Each part starts from the same basis, so the cut decides which
basis every re-solve starts from, and the shares' last digits with it: the cut is a rule
of its own, apart from whether the parts run side by side (`parts`, PARALLEL_WORK), so
moving that threshold never moves the shares."""


def walk_parts(lp: CompiledLP, n: int) -> int:
    """How many consecutive parts the walk of 2^n coalitions is cut into: one for every
    WALK_PART coalitions of a longer walk, else PARTS (2) where 2^n >= 2 * PARTS and
    2^n x columns >= WALK_SPLIT, else 1. It depends on the model and n alone, never on
    the workers, so neither do the shares. Parts of a short walk run side by side in
    threads only where `parts` splits that much work (else in turn, as the shares are
    the same either way)."""
    walk = 1 << n
    cut = PARTS if walk >= 2 * PARTS and walk * len(lp.columns) >= WALK_SPLIT else 1
    return max(cut, walk // WALK_PART)


@dataclass(frozen=True)
class WalkStart:
    """Where every part of a walk spread over workers starts: the model as it stands
    (portable), the players' columns and bounds, and the values already known."""

    lp: PortableLP
    columns: list[np.ndarray]
    upper: list[np.ndarray]
    sign: float
    current: int
    values: dict[int, float]


def walk_start(game: PoolingGame) -> WalkStart:
    """Where the parts of a walk (or the sampled pairs) start: `game`'s model as it stands,
    portable, with its main objective's costs alone (a walk solves nothing else; on the
    big place of benchmarks/big.py the other 51 objectives' costs are 65 of the 78 MB a
    worker is sent), the players and the values known."""
    form = portable(game.lp)
    fields = dict(form.fields)
    fields["costs"] = {"objective": fields["costs"]["objective"]}
    return WalkStart(dataclasses.replace(form, fields=fields), game.columns, game.upper,
                     game.sign, game.current, dict(game.values))


def walk_part(start: WalkStart, masks: list[int]) -> tuple[list[float], int]:
    """A worker's task: the values of `masks`, walked in turn on a copy of `start`'s
    model, and the number of re-solves that took."""
    game = PoolingGame(rebuilt(start.lp), start.columns, start.upper, start.sign,
                       start.current, dict(start.values))
    return _walk(game, masks), game.solves


def exact_shapley(game: PoolingGame, split_in: int | None = None,
                  workers: Workers | None = None) -> np.ndarray:
    """Every player's Shapley value from all 2^n coalitions, visited in Gray-code order.

    Coalition k of the walk is g(k) = k XOR (k >> 1); g(k) and g(k+1) differ in one
    player, so each re-solve changes one agency's bounds. The walk is cut in
    `walk_parts` consecutive parts (`split_in` parts when given), each walked on its
    own copy of the model (a fresh HiGHS: nothing carried over from earlier solves on
    `game`'s) from the basis `game`'s holds: up to WALK_PART coalitions (and no
    `workers` given) here, side by side in threads where `parts` splits that much work
    and else in turn, longer walks by the chosen workers
    (`workers`, else the command line's: `optimiser.workers.chosen`).
    """
    n = game.players
    walk = gray_walk(n)
    chunks = split(walk, walk_parts(game.lp, n) if split_in is None else split_in)
    if len(walk) <= WALK_PART and workers is None:
        # a walk from a first basis held (not solved) on fresh copies only; one from
        # ring-fencing solved here (no first basis) carries on from its optimum here
        games = ([game] if 0 in game.values else [game.copy()]) + [
            game.copy() for _ in chunks[1:]]
        tasks: list[Callable[[], list[float]]] = [
            partial(_walk, g, c) for g, c in zip(games, chunks, strict=True)]
        in_parallel(tasks, together=parts(game.lp, len(walk)) > 1)  # else in turn
        for other in games:
            if other is game:
                continue
            game.values.update(other.values)
            game.solves += other.solves
            if other.pooled_basis is not None:
                game.pooled_basis = other.pooled_basis
    else:
        _walk_apart(game, chunks, workers or chosen())
    return shapley_values(n, [game.gain(m) for m in range(1 << n)])


def _walk_apart(game: PoolingGame, chunks: list[list[int]], workers: Workers) -> None:
    """Walk every part on the workers; their values into `game`, in the walk's order."""
    start = walk_start(game)
    found: dict[int, tuple[list[float], int]] = {}
    for k, answer in on_workers(walk_part, start, chunks, workers.processes,
                                workers.scheduler, PRELOAD):
        found[k] = answer
        if game.progress is not None:
            game.progress(answer[1])
    for k, chunk in enumerate(chunks):
        values, solves = found[k]
        game.values.update(zip(chunk, values, strict=True))
        game.solves += solves


def shapley_values(n: int, u: list[float]) -> np.ndarray:
    """phi_i = sum over C without i of |C|! (n - |C| - 1)! / n! * (u(C + i) - u(C)), from
    u(C) for every coalition C (bit i of C's number: player i in C)."""
    masks = np.arange(1 << n)
    gains = np.asarray(u, dtype=float)
    size = np.zeros(len(masks), dtype=int)
    for i in range(n):
        size += (masks >> i) & 1
    weight = np.array([math.factorial(c) * math.factorial(n - c - 1) / math.factorial(n)
                       for c in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = np.sum(weight[size[without]] * (gains[without | (1 << i)] - gains[without]))
    return phi


def sample_budget(lp: CompiledLP) -> int:
    """The most re-solves sampling spends on a model of `lp`'s size:

        B = min(SAMPLE_SOLVES, SAMPLE_WORK // columns)

    A warm re-solve's time grows about with the model's columns (13 ms at 37,850 columns,
    some 65 ms at 156,420, benchmarks/big.py's quarter and full places, about half of it
    HiGHS's own work on every run, whatever changed), so B bounds the time (about 40 s of
    one core) and not just the count; it depends on the model alone,
    never on the machine, so neither do the shares."""
    return min(SAMPLE_SOLVES, SAMPLE_WORK // max(1, len(lp.columns)))


def most_pairs(budget: int, n: int) -> int:
    """Antithetic pairs a budget of `budget` re-solves buys for n players, each pair 2n
    re-solves, and never fewer than FEWEST_PAIRS: max(FEWEST_PAIRS, budget // 2n)."""
    return max(FEWEST_PAIRS, budget // (2 * n))


def sampling_stops(standard_error: np.ndarray, target: float, pairs: int, most: int) -> bool:
    """The stopping rule of sampled shares, checked at the end of each round of pairs:

        stop  <=>  m >= most,  or  m >= MIN_PAIRS and max_i SE_i <= target

    m the pairs drawn, SE_i share i's standard error over them, `target` SAMPLE_PRECISION
    x max(|gain|, 1) and `most` the budget's pairs (`most_pairs`)."""
    if pairs >= most:
        return True
    return pairs >= MIN_PAIRS and float(np.max(standard_error, initial=0.0)) <= target


def next_round(standard_error: np.ndarray, target: float, pairs: int, most: int) -> int:
    """How many pairs to have drawn at the next check: as many as the standard errors
    so far predict the target needs (SE falls as 1/sqrt(m)), at least one more, at most
    twice as many, within the budget:

        m' = min(most, max(m + 1, min(2m, ceil(m (max_i SE_i / target)^2))))"""
    worst = float(np.max(standard_error, initial=0.0))
    need = math.ceil(pairs * (worst / target) ** 2) if target > 0 else most
    return min(most, max(pairs + 1, min(2 * pairs, need)))


def pair_order(seed: int, pair: int, n: int) -> list[int]:
    """Pair `pair`'s order of the n players: a permutation drawn from
    `Generator(PCG64(SeedSequence(seed, spawn_key=(pair,))))`, so it depends on the seed
    and the pair's number alone, never on which worker walks it or in what order."""
    stream = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(pair,)))
    return np.random.Generator(stream).permutation(n).tolist()


def walk_pair(start: WalkStart, task: tuple[int, int]) -> tuple[np.ndarray, int]:
    """A worker's task: the marginals of antithetic pair `task` = (seed, k), walked on a
    copy of `start`'s model (full pooling, every player in), and the re-solves it took.

    With pi = pair_order(seed, k, n): down from everyone taking pi_1, pi_2, ... out,
    row 0 holds u(C) - u(C - pi_j) (reversed pi: pi_1 joins last); row 1 holds
    u(C + pi_j) - u(C) (pi: pi_1 joins first). Each row adds up to u(all) - u(empty),
    the values of both ends being `start`'s.

    Row 1's coalitions {pi_1 .. pi_j} are valued by a second walk down from everyone,
    restarted from the start's basis, taking pi_n, pi_n-1, ... out (`walk_down`): taking
    an agency's money out of the pool moves the optimum a little (tens of dual simplex
    iterations a re-solve on benchmarks/big.py's quarter place), where adding it to a
    small pool moves it far (about a thousand). Each value is the optimum whatever the
    start, the same to about 1e-16 relative as when walked up from nobody."""
    seed, k = task
    game = PoolingGame(rebuilt(start.lp), start.columns, start.upper, start.sign,
                       start.current, dict(start.values))
    first = basis(game.lp)
    order = pair_order(seed, k, game.players)
    walk_down(game, order)
    game.restart(first)
    walk_down(game, order[::-1])
    marginals = np.zeros((2, game.players))
    coalition = game.everyone
    for i in order:
        before = game.gain(coalition)
        coalition &= ~(1 << i)
        marginals[0, i] = before - game.gain(coalition)
    for i in order:
        before = game.gain(coalition)
        coalition |= 1 << i
        marginals[1, i] = game.gain(coalition) - before
    return marginals, game.solves


def walk_down(game: PoolingGame, order: list[int]) -> None:
    """Value the coalitions everyone - {order_1 .. order_j}, j = 1 .. n - 1, in turn, from
    full pooling: each re-solve takes one more agency's money out of the pool."""
    coalition = game.everyone
    for i in order[:-1]:
        coalition &= ~(1 << i)
        game.value(coalition)


@dataclass(frozen=True)
class Sample:
    """A sampled estimate: shares, standard errors, and the pairs it took."""

    shares: np.ndarray
    standard_error: np.ndarray
    pairs: int
    most: int
    target: float
    marginals: np.ndarray
    """(pairs, 2, n): each pair's marginals, down (reversed order) then up."""

    @property
    def stopped_by(self) -> str:
        """Why sampling stopped: 'precision' (every standard error on target) or 'budget'."""
        worst = float(np.max(self.standard_error, initial=0.0))
        return "precision" if worst <= self.target else "budget"

    def document(self, seed: int, precision: float, budget: int) -> dict[str, Any]:
        """results.json's `pooling_game.sampling`."""
        return {"seed": seed, "antithetic_pairs": self.pairs, "most_pairs": self.most,
                "budget_re_solves": budget, "precision": precision,
                "target_standard_error": self.target,
                "largest_standard_error": float(np.max(self.standard_error, initial=0.0)),
                "stopped_by": self.stopped_by}


def sampled_shapley(game: PoolingGame, seed: int, most: int, target: float,
                    workers: Workers | None = None) -> Sample:
    """Shares estimated from antithetic pairs of permutations (`walk_pair`) and their
    standard errors: phi_i = (1/m) sum_k d_ki, SE_i = sd_k(d_ki) / sqrt(m), d_ki the mean
    of pair k's two marginals of player i.

    `game` must hold full pooling solved, and u(empty) and u(all) known. Pairs
    0 .. m-1 are drawn in rounds (MIN_PAIRS, then `next_round`) until `sampling_stops`;
    each is walked from the same start on its own copy of the model, by `workers` (else
    a round of SPREAD_WORK or more by the command line's, a smaller one here), and put
    together in order, so the shares depend on the seed and the model alone."""
    assert game.current == game.everyone and {0, game.everyone} <= set(game.values)
    start = walk_start(game)
    drawn: list[np.ndarray] = []
    wanted = min(MIN_PAIRS, most)
    while True:
        tasks = [(seed, k) for k in range(len(drawn), wanted)]
        work = len(tasks) * 2 * game.players * len(game.lp.columns)
        who = workers or (chosen() if work >= SPREAD_WORK else Workers(1))
        found: dict[int, np.ndarray] = {}
        for k, (marginals, solves) in on_workers(walk_pair, start, tasks, who.processes,
                                                  who.scheduler, PRELOAD):
            found[k] = marginals
            game.solves += solves
            if game.progress is not None:
                game.progress(solves)
        drawn += [found[k] for k in range(len(tasks))]
        pairs = np.stack(drawn).mean(axis=1)  # (m, n): d_ki
        m = len(drawn)
        se = pairs.std(axis=0, ddof=1) / math.sqrt(m) if m > 1 else np.zeros(game.players)
        if sampling_stops(se, target, m, most):
            return Sample(pairs.mean(axis=0), se, m, most, target, np.stack(drawn))
        wanted = next_round(se, target, m, most)


def shapley(result: RunResult) -> dict[str, dict[str, float]]:
    """results.json `shapley`: {scenario: {agency: share}} for each pooled scenario
    without incentives; how each was found goes in the scenario's `pooling_game`."""
    out: dict[str, dict[str, float]] = {}
    games = game_scenarios(result)
    result.progress.expect(sum(expected_solves(s) for s in games))
    for s in games:
        found = fair_shares(s, progress=result.progress.advance)
        s.extra["pooling_game"] = found.document()
        if found.method != "skipped":
            out[s.name] = found.shares
    return out
