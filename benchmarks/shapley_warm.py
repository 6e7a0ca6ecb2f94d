"""How long exact Shapley shares take: warm Gray-code re-solves of one model against
solving each coalition afresh.

    PYTHONPATH=$PWD python benchmarks/shapley_warm.py [AGENCIES [STREAMS INTERVENTIONS]]
    PYTHONPATH=$PWD python benchmarks/shapley_warm.py --split [AGENCIES [WORKERS]]
        [--local-cluster | --scheduler ADDRESS]

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
With `--local-cluster` (a Dask LocalCluster of WORKERS worker processes, one thread
each, started here) or `--scheduler ADDRESS` (a running Dask cluster) the walk is then
walked a third time by that cluster's workers, timed and compared the same way.
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


def split(agencies: int, workers: int, scheduler: str | None = None) -> None:
    """The exact walk of `agencies` players, by one process against `workers` and, given a
    `scheduler`, against that Dask cluster (module doc)."""
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
    runs = [("1 process", Workers(1)), (f"{workers} processes", Workers(workers))]
    if scheduler is not None:
        runs.append((f"Dask cluster at {scheduler}", Workers(scheduler=scheduler)))
    for name, who in runs:
        s = run(path, ranges=False).scenario("pooled")
        load = os.getloadavg()[0]
        started, processor = time.perf_counter(), cpu()
        found[name] = fair_shares(s, workers=who)
        took[name] = time.perf_counter() - started
        assert found[name].method == "exact"
        print(f"{agencies} agencies, {found[name].solves:,} re-solves, {name}: "
              f"{took[name]:.1f} s, processor {cpu() - processor:.1f} s, load average "
              f"{(load + os.getloadavg()[0]) / 2:.1f}", flush=True)
    one = runs[0][0]
    for name, _ in runs[1:]:
        same = found[one].shares == found[name].shares
        print(f"RATIO {name} / 1 process: {took[name] / took[one]:.2f} (speed-up "
              f"{took[one] / took[name]:.2f}x); shares {'the same' if same else 'DIFFERENT'}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--split":
        import os

        args = sys.argv[2:]
        scheduler = None
        if "--scheduler" in args:
            at = args.index("--scheduler")
            scheduler = args[at + 1]
            del args[at:at + 2]
        cluster = "--local-cluster" in args
        args = [a for a in args if a != "--local-cluster"]
        agencies = int(args[0]) if args else 16
        workers = int(args[1]) if len(args) > 1 else os.cpu_count() or 1
        local = None
        if cluster:
            from dask.distributed import LocalCluster

            local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                 dashboard_address=":0")
            scheduler = local.scheduler_address
        try:
            split(agencies, workers, scheduler)
        finally:
            if local is not None:
                local.close()
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
