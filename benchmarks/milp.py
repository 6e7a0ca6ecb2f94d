"""What set-up costs cost: the MILP against the LP on a Birmingham-sized place.

    python benchmarks/milp.py [--quick] [--seed N] [--time-limit S] [--no-analyses]

A generated place of Birmingham's size (6 agencies, 120 streams, 400 interventions,
12 outcomes, 10 years: `benchmarks/generate.py`) is solved twice, ring-fenced and
pooled: as generated (the LP), and with set-up costs on a third of its services
(every third intervention: a set-up cost of 20, 50 or 150 units' worth a year, and for
half of those a minimum scale of a tenth of its max_units), which makes it a MILP.
Printed (nothing asserted): the model's size and binaries, the time of each stage
(build and compile, solve with its lexicographic stages, the ring-fence lifts and the
Shapley coalitions), branch-and-bound nodes and gap, and the figures the set-up costs
change: each objective, the services that no longer run, and the pooling gain.
`--quick` runs a small place (a smoke test, seconds).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's optimiser

from generate import generate_place

from optimiser.analyses import run_analyses
from optimiser.pipeline import RunResult, run
from optimiser.solving.highs import set_mip_limits

BIRMINGHAM = {"n_agencies": 6, "n_streams": 120, "n_interventions": 400, "n_outcomes": 12,
              "years": 10}
QUICK = {"n_agencies": 3, "n_streams": 8, "n_interventions": 24, "n_outcomes": 3, "years": 3}


def with_setup_costs(place: dict[str, Any], seed: int) -> dict[str, Any]:
    """The place with set-up costs on every third intervention (min scales on half of them)."""
    rng = np.random.default_rng(seed + 1)
    out = copy.deepcopy(place)
    for n, body in enumerate(out["interventions"].values()):
        if n % 3:
            continue
        body["setup_cost"] = float(round(body["unit_cost"] * rng.choice([20, 50, 150])))
        if n % 6 == 0:
            body["min_scale"] = float(round(body["max_units"] / 10))
    return out


def timed_run(path: Path, label: str, analyses: bool) -> tuple[RunResult, dict[str, float]]:
    """Solve the place (scenarios, then the price and Shapley analyses), timing each."""
    started = time.perf_counter()
    result = run(path)
    times = {"scenarios (build, compile, solve, stages)": time.perf_counter() - started}
    print(f"{label}: scenarios solved in {times[next(iter(times))]:.1f} s", flush=True)
    for name in ("ring_fence_prices", "shapley") if analyses else ():
        begun = time.perf_counter()
        run_analyses(result, [name])
        times[name] = time.perf_counter() - begun
        print(f"{label}: {name} in {times[name]:.1f} s", flush=True)
    return result, times


def _percent(gap: Any) -> str:
    return "-" if gap is None else f"{100 * float(gap):.4f}%"


def table(head: list[str], rows: list[list[Any]]) -> None:
    def cell(v: Any) -> str:
        return f"{v:,.2f}" if isinstance(v, float) else str(v)
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) for k, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for r in cells:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--no-analyses", action="store_true",
                        help="time the scenarios only (not the lifts and coalitions)")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else BIRMINGHAM
    set_mip_limits(None, args.time_limit)
    place = generate_place(seed=args.seed, **size)
    mixed = with_setup_costs(place, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, inst in (("LP", place), ("MILP", mixed)):
            paths[name] = Path(tmp) / f"{name}.yaml"
            paths[name].write_text(yaml.safe_dump(inst, sort_keys=False), encoding="utf-8")
        runs = {name: timed_run(path, name, not args.no_analyses)
                for name, path in paths.items()}
    lp, milp = runs["LP"][0], runs["MILP"][0]
    switched = sum("setup_cost" in b for b in mixed["interventions"].values())
    print(f"== Place: {size['n_interventions']} interventions, {size['n_streams']} streams, "
          f"{size['n_agencies']} agencies, {size['years']} years; set-up costs on "
          f"{switched} interventions")
    pooled_model = milp.scenario("pooled").lp
    binaries = 0 if pooled_model is None else len(pooled_model.integer)
    columns = 0 if pooled_model is None else len(pooled_model.columns)
    print(f"MILP model: {columns} columns, {binaries} binaries")
    print()
    print("== Time (seconds, wall)")
    stages = list(runs["LP"][1])
    table(["stage", "LP", "MILP", "MILP / LP"],
          [[s, runs["LP"][1][s], runs["MILP"][1][s],
            runs["MILP"][1][s] / max(runs["LP"][1][s], 1e-9)] for s in stages])
    print()
    print("== Figures")
    rows = []
    for s in ("ring_fenced", "pooled"):
        a, b = lp.scenario(s), milp.scenario(s)
        mip = b.extra.get("mip", {})
        services = b.extra.get("services", {})
        off = sum(1 for v in services.values() if not any(v["runs"]))  # type: ignore[union-attr]
        paid = sum(sum(v["setup_cost"]) for v in services.values())  # type: ignore[union-attr]
        rows.append([s, a.objective or float("nan"), b.objective or float("nan"),
                     (b.objective or 0.0) - (a.objective or 0.0), b.reported_status,
                     mip.get("nodes", "-"), _percent(mip.get("gap")), off, paid])
    table(["scenario", "LP objective", "MILP objective", "difference", "MILP status",
           "nodes", "gap", "never run", "set-up paid (cash)"], rows)
    gain_lp = (lp.scenario("pooled").objective or 0) - (lp.scenario("ring_fenced").objective or 0)
    gain_milp = ((milp.scenario("pooled").objective or 0)
                 - (milp.scenario("ring_fenced").objective or 0))
    print(f"POOLING GAIN LP {gain_lp:,.2f} MILP {gain_milp:,.2f}")


if __name__ == "__main__":
    main()
