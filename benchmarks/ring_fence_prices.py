"""How long the ring-fence prices take: one persistent model re-solved warm, against a fresh
model built and solved cold for every stream. Prints figures; asserts nothing about speed.

    PYTHONPATH=. python benchmarks/ring_fence_prices.py [N_STREAMS ...]
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from generate import generate_place

from models.pooling import build_model
from optimiser.analyses.prices import pool_columns, price_ring_fences, reference_run
from optimiser.pipeline import prepare
from optimiser.place.scenarios import place_data
from optimiser.solving.highs import compile_lp, reoptimise


def measure(n_streams: int) -> None:
    place = generate_place(n_streams=n_streams, n_interventions=4 * n_streams, years=5)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "place.yaml"
        path.write_text(yaml.safe_dump(place, sort_keys=False))
        prepared = prepare(path)
    run = reference_run(prepared)
    pooled = dataclasses.replace(run, scenario=run.scenario.model_copy(update={"pooling": True}))
    data = place_data(pooled)

    started = time.perf_counter()
    lp = compile_lp(build_model(data))
    built = time.perf_counter()
    priced = price_ring_fences(lp, data)
    warm = time.perf_counter()
    assert priced is not None

    cold_streams = min(n_streams, 10)
    cold_started = time.perf_counter()
    cold = []
    for s in range(cold_streams):
        share = np.zeros(len(data.streams))
        share[s] = data.pool_share[s]
        lifted = dataclasses.replace(data, pool_share=share)
        fresh = compile_lp(build_model(lifted))
        cold.append(reoptimise(fresh)[1])
    cold_each = (time.perf_counter() - cold_started) / cold_streams
    cols = pool_columns(lp, data)
    print(f"{n_streams} streams, {len(data.interventions)} interventions, {data.years} years, "
          f"{len(lp.columns)} columns, {cols.size} pool columns")
    print(f"  build + compile once: {built - started:.2f} s; all {n_streams} prices warm: "
          f"{warm - built:.2f} s ({(warm - built) / n_streams * 1000:.1f} ms a stream)")
    print(f"  cold (build, compile, solve) a stream: {cold_each * 1000:.1f} ms "
          f"-> {cold_each * n_streams:.2f} s for all")


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [20, 120]:
        measure(n)
