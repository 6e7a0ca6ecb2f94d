"""How long exact Shapley shares take: warm Gray-code re-solves of one model against
solving each coalition afresh.

    PYTHONPATH=$PWD python benchmarks/shapley_warm.py [AGENCIES [STREAMS INTERVENTIONS]]
    PYTHONPATH=$PWD python benchmarks/shapley_warm.py --split [AGENCIES [WORKERS]]

Prints seconds and HiGHS simplex iterations per coalition for: the Gray-code walk
used by optimiser.analyses.shapley (one agency's bounds change per re-solve); the same
re-solves in plain binary order (several agencies change at once); and a sample of
coalitions built and solved from scratch (a fresh Pyomo model and HiGHS each),
extrapolated to all 2^n.

`--split` times the exact shares of a larger partnership (16 agencies, 65,536
coalitions, by default), its walk cut in parts of 4,096 coalitions: walked by one
process, then by WORKERS local processes (default: the machine's cores), in turn, each
on the scenario solved afresh. Prints both times, their ratio, the processor time of
all the processes together, the load average, and whether the shares are the same.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys
import tempfile
import time

import numpy as np
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from generate import generate_place

from models.pooling import build_model
from optimiser.analyses.shapley import exact_shapley, fair_shares, pooling_game
from optimiser.pipeline import run
from optimiser.solving.highs import solve


def split(agencies: int, workers: int) -> None:
    """The exact walk of `agencies` players, by one process against `workers` (module doc)."""
    import os
    import resource

    from optimiser.workers import Workers, spent

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return own.ru_utime + own.ru_stime + spent()

    path = pathlib.Path(tempfile.mkdtemp()) / "place.yaml"
    path.write_text(yaml.safe_dump(generate_place(agencies, 2 * agencies, 5 * agencies, 6,
                                                  5)))
    found, took = {}, {}
    for count in (1, workers):
        s = run(path, ranges=False).scenario("pooled")
        load = os.getloadavg()[0]
        started, processor = time.perf_counter(), cpu()
        found[count] = fair_shares(s, workers=Workers(count))
        took[count] = time.perf_counter() - started
        assert found[count].method == "exact"
        print(f"{agencies} agencies, {found[count].solves:,} re-solves, {count} "
              f"process{'es' if count > 1 else ''}: {took[count]:.1f} s, processor "
              f"{cpu() - processor:.1f} s, load average {(load + os.getloadavg()[0]) / 2:.1f}",
              flush=True)
    same = found[1].shares == found[workers].shares
    print(f"RATIO {workers} processes / 1 process: {took[workers] / took[1]:.2f} "
          f"(speed-up {took[1] / took[workers]:.2f}x); shares "
          f"{'the same' if same else 'DIFFERENT'}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--split":
        import os

        split(int(sys.argv[2]) if len(sys.argv) > 2 else 16,
              int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count() or 1)
        return
    agencies = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    streams = int(sys.argv[2]) if len(sys.argv) > 2 else 2 * agencies
    items = int(sys.argv[3]) if len(sys.argv) > 3 else 5 * agencies
    path = pathlib.Path(tempfile.mkdtemp()) / "place.yaml"
    path.write_text(yaml.safe_dump(generate_place(agencies, streams, items, 6, 5)))
    result = run(path, ranges=False)
    s = result.scenario("pooled")
    lp = s.lp
    assert lp is not None and s.data is not None
    print(f"{agencies} agencies: {len(lp.columns)} columns, {lp.n_rows} rows")

    started = time.perf_counter()
    shares = fair_shares(s)
    gray = time.perf_counter() - started
    print(f"Gray-code walk (analyses.shapley): {shares.solves} re-solves in {gray:.2f} s, "
          f"{1e3 * gray / shares.solves:.2f} ms each")

    game, _ = pooling_game(s)
    iterations = 0
    started = time.perf_counter()
    for mask in range(1 << game.players):
        game.value(mask)
        iterations += int(lp.highs.getInfo().simplex_iteration_count)
    binary = time.perf_counter() - started
    game.restore()
    print(f"binary order, same model:           {game.solves} re-solves in {binary:.2f} s, "
          f"{1e3 * binary / game.solves:.2f} ms and {iterations / game.solves:.1f} "
          "iterations each")

    game, _ = pooling_game(s)
    iterations = 0
    started = time.perf_counter()
    for k in range(1 << game.players):
        game.value(k ^ (k >> 1))
        iterations += int(lp.highs.getInfo().simplex_iteration_count)
    print(f"Gray order again, iterations:       {iterations / game.solves:.1f} each")
    exact_shapley(game)
    game.restore()

    rng = np.random.default_rng(0)
    sample = rng.integers(0, 1 << game.players, size=40).tolist()
    held = np.array([a in shares.players for a in s.data.agencies])
    started = time.perf_counter()
    for mask in sample:
        inside = np.zeros(len(s.data.agencies), bool)
        inside[np.flatnonzero(held)] = [(mask >> n) & 1 for n in range(game.players)]
        share = np.where(inside[s.data.stream_agency], s.data.pool_share, 0.0)
        data = dataclasses.replace(s.data, pool_share=share)
        solve(build_model(data), ranges=False)
    cold = (time.perf_counter() - started) / len(sample)
    print(f"fresh model per coalition:          {1e3 * cold:.1f} ms each, "
          f"{cold * (1 << game.players):.1f} s for all {1 << game.players} "
          f"({cold * (1 << game.players) / gray:.0f}x the Gray-code walk)")


if __name__ == "__main__":
    main()
