"""A big place end to end: wall time, CPU time, peak memory and output sizes, stage by stage.

    PYTHONPATH=. python benchmarks/big.py [--scale S] [--only whole|stages] [--quick]

The place is generated (`generate.py`): 50 agencies, 1,000 streams, 3,000
interventions, 12 outcomes, 10 years, two scenarios (ring-fenced and pooled);
`--scale 0.25` keeps the 50 agencies and takes a quarter of the streams and
interventions. Two measurements, each in a fresh process:

1. the stages of a default run, in one process as the command runs them:
   loading and validating, the scenarios (build, solve, the rules' stages,
   position ranges), each analysis, the reports; for each its wall time, its
   CPU time (every thread, any process the run starts and waits for, and the
   tasks run on its local worker processes, which the operating system counts
   to the process that forks them: `optimiser.workers.spent`) and the peak
   resident memory so far;
2. the default command itself (`python -m optimiser PLACE --out DIR`): wall
   time, CPU time, peak resident memory (of the run, or of a process it starts
   if that was larger), and the size of every file written. Its CPU time leaves
   out tasks run on local worker processes (the sampled Shapley pairs): those
   are forked by a server the run leaves behind, not waited for by the run.

The machine is shared, so wall time depends on its load (printed before and
after); CPU time much less. Nothing is asserted: `--quick` runs a tiny place to
show that the benchmark works.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# numpy's OpenBLAS on one thread in this process and the processes it starts, as the
# command itself runs it (`optimiser/__main__.py`): the stages' process imports the
# project as a library, where the command's own setting is not made
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_place

REPO = Path(__file__).resolve().parents[1]
FULL = (50, 1000, 3000, 12, 10)
"""agencies, streams, interventions, outcomes, years of the big place."""
QUICK = (4, 8, 20, 3, 3)


def size_at(scale: float) -> tuple[int, int, int, int, int]:
    """The big place's sizes with streams and interventions scaled (agencies, outcomes and
    years kept)."""
    agencies, streams, items, outcomes, years = FULL
    return agencies, max(agencies, round(streams * scale)), max(1, round(items * scale)), \
        outcomes, years


def _cpu(who: int) -> float:
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def stages(path: Path, out: Path, skip: list[str]) -> list[dict[str, Any]]:
    """A default run of `path` in this process (without the analyses in `skip`), stage by
    stage, its reports written to `out`: each stage's wall and CPU seconds and the peak
    memory so far."""
    from optimiser.workers import spent

    rows: list[dict[str, Any]] = []

    def used() -> float:
        return _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) + spent()

    def stage(name: str, work: Callable[[], Any]) -> Any:
        wall = time.perf_counter()
        cpu = used()
        done = work()
        rows.append({
            "stage": name, "wall": time.perf_counter() - wall,
            "cpu": used() - cpu,
            "peak_mb": max(_peak_mb(resource.RUSAGE_SELF), _peak_mb(resource.RUSAGE_CHILDREN))})
        return done

    def imports() -> Any:  # garbage collection off while they load, as the command has it
        gc.disable()
        from optimiser.analyses import ANALYSES, run_analyses
        from optimiser.analyses.discounting import other_rates
        from optimiser.cli import run_collection
        from optimiser.pipeline import prepare, run_prepared
        from optimiser.reports.write import write_reports
        gc.freeze()
        gc.enable()
        return (ANALYSES, run_analyses, other_rates, prepare, run_prepared, write_reports,
                run_collection)

    analyses, run_analyses, other_rates, prepare, run_prepared, write_reports, collection = (
        stage("imports", imports))
    with collection():  # the command's garbage collection while it runs
        prepared = stage("load and validate", lambda: prepare(path))
        rates = [] if "discount_sensitivity" in skip else other_rates(prepared.instance)
        result = stage("scenarios (and at the other discount rates)",
                       lambda: run_prepared(prepared, rates=rates))
        for name in [a for a in analyses if a not in skip]:
            stage(f"analysis: {name}", lambda name=name: run_analyses(result, [name]))
        stage("reports", lambda: write_reports(result, out))
    return rows


def files(folder: Path) -> dict[str, int]:
    """Each file's size in bytes."""
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def whole(path: Path, out: Path, skip: list[str]) -> dict[str, Any]:
    """The default command in a fresh process (with `--analyses` leaving out `skip`, if
    any): wall, CPU and peak memory (its own, or a process it starts if larger)."""
    probe = ("import resource, subprocess, sys, time; started = time.perf_counter(); "
             "done = subprocess.run([sys.executable, '-m', 'optimiser', *sys.argv[1:]], "
             "capture_output=True); wall = time.perf_counter() - started; "
             "used = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(done.returncode, wall, used.ru_utime + used.ru_stime, used.ru_maxrss)")
    command = [str(path), "--out", str(out)]
    if skip:
        from optimiser.analyses import ANALYSES
        command += ["--analyses", ",".join(a for a in ANALYSES if a not in skip)]
    done = subprocess.run([sys.executable, "-c", probe, *command],
                          capture_output=True, text=True, check=True, env=_env())
    code, wall, cpu, peak = done.stdout.split()
    return {"exit": int(code), "wall": float(wall), "cpu": float(cpu),
            "peak_mb": int(peak) / 1024}


def print_files(sizes: dict[str, int]) -> None:
    """Every file written and its size, largest first, and the total."""
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {size / 1e6:10.2f} MB")
    print(f"  {'all files':28s} {sum(sizes.values()) / 1e6:10.2f} MB")


def machine() -> str:
    """The machine and its load, in one line."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
            f"average {load} (1, 5, 15 min); Python {platform.python_version()}")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="streams and interventions as a share of the big place's")
    parser.add_argument("--only", choices=("whole", "stages"), default=None)
    parser.add_argument("--quick", action="store_true", help="a tiny place: a smoke run")
    parser.add_argument("--skip", default="",
                        help="analyses to leave out, comma-separated (e.g. shapley)")
    parser.add_argument("--stages", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    skip = [a for a in args.skip.split(",") if a]
    if args.stages:
        print(json.dumps(stages(*args.stages, skip)))
        return
    size = QUICK if args.quick else size_at(args.scale)
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "place.yaml"
        path.write_text(yaml.safe_dump(generate_place(*size), sort_keys=False))
        if skip:
            print(f"analyses left out: {', '.join(skip)}")
        print(f"place: {size[0]} agencies, {size[1]} streams, {size[2]} interventions, "
              f"{size[3]} outcomes, {size[4]} years ({path.stat().st_size / 1e6:.2f} MB of YAML)")
        if args.only in (None, "stages"):
            print("\n== Stages of a default run (one fresh process)")
            done = subprocess.run([sys.executable, __file__, "--stages", str(path),
                                   str(folder / "staged"), "--skip", args.skip],
                                  capture_output=True, text=True, check=False, env=_env())
            if done.returncode:
                sys.exit(f"the stages' process failed:\n{done.stderr}")
            rows = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"  {'stage':52s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s}")
            for row in rows:
                print(f"  {row['stage']:52s} {row['wall']:8.2f} {row['cpu']:8.2f} "
                      f"{row['peak_mb']:8.0f}")
            print(f"  {'all stages':52s} {sum(r['wall'] for r in rows):8.2f} "
                  f"{sum(r['cpu'] for r in rows):8.2f}")
            print_files(files(folder / "staged"))
            print(f"  ({machine()})")
        if args.only in (None, "whole"):
            print("\n== The default command, from the command to the prompt (a fresh process)")
            found = whole(path, folder / "report", skip)
            print(f"  exit {found['exit']}; wall {found['wall']:.1f} s; CPU {found['cpu']:.1f} s; "
                  f"peak memory {found['peak_mb']:.0f} MB")
            print_files(files(folder / "report"))
            print(f"  ({machine()})")


if __name__ == "__main__":
    main()
