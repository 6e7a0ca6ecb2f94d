"""The nation: a roll-up of 150 generated places, on both cores and on a Dask cluster.

    PYTHONPATH=. python benchmarks/national.py [--places N] [--workers N]
        [--scheduler ADDRESS | --local-cluster] [--one-process] [--quick]

Generates N places (150) of the sizes the shipped instances have (instances/*.yaml and
instances/bcf/*.yaml: 6-14 agencies of which 4-10 have money they may pool, 7-24
streams, 7-29 interventions, 4-13 outcomes, 4-5 years; four scenarios each:
ring-fenced, pooled, pooled with no agency worse off, and half the partners pooling)
and runs the roll-up as `optimise place_000.yaml ... place_149.yaml` does: every place
validated, solved, analysed (every analysis) and written, the places side by side on
`--workers` local processes (default: the machine's cores), then the totals and the
roll-up's own documents. Prints each stage's wall time and the load average of the
machine (shared machines make wall time a poor measure alone), and the processor time
(user and system) of every process the run used: this one, the local workers and the
fork server they come from, a local Dask cluster's processes (read from /proc; where it
cannot be read, this process, its finished children and the workers' tasks). Of that,
the part spent while the places were on the workers (the places' own tasks, this
process, the fork server's start-up); from them, an estimate of the wall time on free
cores (`free_cores_estimate`: the serial part plus the parallel part over the cores).

`--breakdown K` first times K of the places in this process, stage by stage (validate,
solve, analyses, reports; processor seconds, on average a place).
`--scheduler ADDRESS` runs the places on that Dask cluster too; `--local-cluster`
starts a local one (2 worker processes, 1 thread each) for the purpose. `--one-process`
runs them in this process in turn as well. Every run's rollup.csv must be the same
bytes as the first's (the figures are the same wherever the places are solved):
the benchmark says so, or stops with an error, and prints its SHA-256 to compare runs
of separate invocations (`--skip-local` leaves out the run on local processes).
`--quick` is the smoke test: 4 tiny places, local processes against one process
against a local Dask cluster.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_place

from optimiser.progress import RunProgress

PLACES = 150
SIZES = {"agencies": (6, 14), "players": (4, 10), "streams": (7, 24),
         "interventions": (7, 29), "outcomes": (4, 13), "years": (4, 5)}
"""The shipped instances' range (inclusive) of each size."""
LOCAL_CLUSTER = "local cluster"
"""The scheduler of the run on a local Dask cluster, started when that run comes."""
QUICK = {"agencies": (3, 4), "players": (2, 3), "streams": (4, 5),
         "interventions": (4, 6), "outcomes": (2, 3), "years": (2, 2)}


def national_place(seed: int, sizes: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """A generated place of sizes drawn from `sizes`, with four scenarios."""
    rng = np.random.default_rng(seed)

    def draw(name: str, low: int | None = None) -> int:
        a, b = sizes[name]
        return int(rng.integers(max(a, low or a), max(b, low or a) + 1))

    agencies = draw("agencies")
    players = min(draw("players"), agencies)
    streams = draw("streams", agencies)
    place = generate_place(agencies, streams, draw("interventions"), draw("outcomes"),
                           draw("years"), seed=seed)
    partners = sorted(place["agencies"])[:players]
    for stream in place["streams"].values():
        if stream["agency"] not in partners:
            stream["pool_share"] = 0.0
    half = partners[: max(1, players // 2)]
    place["name"] = f"Place {seed:03d}"
    place["scenarios"] = {
        "ring_fenced": {"pooling": False},
        "pooled": {"pooling": True},
        "pooled_fair": {"pooling": True, "incentives": "no_worse_off", "transfers": True},
        "half_pooled": {"pooling": True, "pool_share": {
            sid: 0.0 for sid, s in place["streams"].items() if s["agency"] not in half}},
    }
    return place


def write_places(folder: Path, count: int, sizes: dict[str, tuple[int, int]]) -> list[Path]:
    """`count` places as YAML files in `folder`."""
    paths = []
    for seed in range(count):
        path = folder / f"place_{seed:03d}.yaml"
        path.write_text(yaml.safe_dump(national_place(seed, sizes), sort_keys=False))
        paths.append(path)
    return paths


def processor_seconds() -> float:
    """User and system seconds of this process and of every process it started, living or
    done: the local worker processes and the server they are forked from, a local Dask
    cluster's processes (`tree_seconds`); without /proc, this process, its finished
    children and its workers' tasks."""
    tree = tree_seconds()
    if tree is not None:
        return sum(tree.values())
    from optimiser.workers import spent

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + spent()


def own_seconds() -> float:
    """User and system seconds of this process alone."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def tree_seconds() -> dict[int, float] | None:
    """Process id -> user and system seconds, for this process and every descendant alive,
    each with the seconds of its own finished children (so a worker that has ended counts
    in its parent's); None where /proc cannot be read."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        try:
            text = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        parents[int(name)] = int(fields[1])
        seconds[int(name)] = sum(int(f) for f in fields[11:15]) / tick
    if os.getpid() not in seconds:
        return None
    tree, grown = {os.getpid()}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return {pid: seconds[pid] for pid in tree}


def forkserver_seconds() -> float:
    """User and system seconds of the multiprocessing fork server (importing the solver
    stack once for the local workers), its workers' apart."""
    tick = os.sysconf("SC_CLK_TCK")
    for pid in tree_seconds() or {}:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in command:
            return (int(fields[11]) + int(fields[12])) / tick
    return 0.0


class Phases(RunProgress):
    """A progress that notes the processor seconds of every process (`processor_seconds`)
    and of this one when the places go to the workers (`stage('Places')`) and when the
    last comes back."""

    def __init__(self) -> None:
        super().__init__()
        self.spread: tuple[float, float] | None = None
        self.back: tuple[float, float] | None = None
        self.left = 0

    def stage(self, description: str, total: int = 1) -> None:
        if description == "Places":
            self.spread, self.left = (processor_seconds(), own_seconds()), total
        super().stage(description, total)

    def advance(self, n: int = 1) -> None:
        self.left -= n
        if self.spread is not None and self.left == 0:
            self.back = (processor_seconds(), own_seconds())
        super().advance(n)


def roll_up_once(paths: list[Path], out: Path, workers: int | None,
                 scheduler: str | None) -> dict[str, float]:
    """One roll-up as the command runs it: seconds of each stage; processor seconds of
    every process (`processor_seconds`), in all and in the part spent while the places
    were on the workers (`parallel`) and this process's share of it (`here`); the fork
    server's start-up."""
    from optimiser.analyses import ANALYSES
    from optimiser.cli import solve_places
    from optimiser.rollup.write import write_rollup
    from optimiser.workers import spent

    load = os.getloadavg()[0]
    tasks = spent()
    phases = Phases()
    started_server = forkserver_seconds()
    cpu, started = processor_seconds(), time.perf_counter()
    rollup = solve_places(paths, list(ANALYSES), workers=workers, scheduler=scheduler,
                          progress=phases)
    solved = time.perf_counter()
    write_rollup(rollup, out)
    done = time.perf_counter()
    total = processor_seconds() - cpu
    spread, back = phases.spread, phases.back
    parallel = back[0] - spread[0] if spread and back else 0.0
    here = back[1] - spread[1] if spread and back else 0.0
    return {"solve": solved - started, "write": done - solved, "total": done - started,
            "cpu": total, "parallel": parallel, "here": here, "tasks": spent() - tasks,
            "server": forkserver_seconds() - started_server,
            "load": (load + os.getloadavg()[0]) / 2, "places": len(rollup.places)}


def free_cores_estimate(took: dict[str, float], cores: int = 2) -> float:
    """Seconds the roll-up would take on `cores` free cores, from its processor seconds:
    the part done while the places were on the workers shared out over the cores, except
    the fork server's start-up, which comes before any worker starts; the rest (validating,
    the place solved first to judge whether to start workers, putting the places together,
    writing the roll-up) one after another:

        serial + server + (parallel - server) / cores,  serial = cpu - parallel

    A lower bound in so far as the last places may leave a core idle."""
    serial = took["cpu"] - took["parallel"]
    return serial + took["server"] + (took["parallel"] - took["server"]) / cores


def breakdown(paths: list[Path], out: Path) -> None:
    """Processor seconds of each stage for `paths`, one place at a time, here: the mean."""
    from optimiser.analyses import ANALYSES, run_analyses
    from optimiser.pipeline import prepare, run_prepared
    from optimiser.reports.write import write_all

    stages = {"validate": 0.0, "solve": 0.0, "analyses": 0.0, "reports": 0.0}
    for path in paths:
        clock = time.process_time()
        prepared = prepare(path)
        stages["validate"] += time.process_time() - clock
        clock = time.process_time()
        result = run_prepared(prepared)
        stages["solve"] += time.process_time() - clock
        clock = time.process_time()
        run_analyses(result, list(ANALYSES))
        stages["analyses"] += time.process_time() - clock
        folder = out / path.stem
        folder.mkdir(parents=True)
        clock = time.process_time()
        write_all(result, folder)
        stages["reports"] += time.process_time() - clock
    each = {k: v / len(paths) for k, v in stages.items()}
    total = sum(each.values())
    print(f"a place, on average over {len(paths)} in this process (processor seconds): "
          + ", ".join(f"{k} {v:.2f}" for k, v in each.items()) + f"; all {total:.2f}",
          flush=True)


def machine() -> str:
    """The machine, in words."""
    from optimiser.solving.highs import highs_version

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, HiGHS {highs_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=PLACES)
    parser.add_argument("--workers", type=int, default=None)
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", default=None)
    cluster.add_argument("--local-cluster", action="store_true")
    parser.add_argument("--one-process", action="store_true")
    parser.add_argument("--skip-local", action="store_true",
                        help="leave out the run on local processes")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--breakdown", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.places, args.one_process, args.local_cluster = 4, True, True
        args.workers = args.workers or 2
    sizes = QUICK if args.quick else SIZES
    folder = Path(tempfile.mkdtemp(prefix="national-"))
    paths = write_places(folder, args.places, sizes)
    print(f"{args.places} places in {folder}; {machine()}", flush=True)
    if args.breakdown:
        breakdown(paths[: args.breakdown], folder / "breakdown")
    runs: list[tuple[str, int | None, str | None]] = [] if args.skip_local else [
        (f"local processes ({args.workers or os.cpu_count()})", args.workers, None)]
    if args.one_process:
        runs.append(("one process", 1, None))
    if args.local_cluster:
        runs.append(("Dask cluster", None, LOCAL_CLUSTER))
    elif args.scheduler:
        runs.append((f"Dask cluster at {args.scheduler}", None, args.scheduler))
    first: bytes | None = None
    cores = args.workers or os.cpu_count() or 1
    local = None
    try:
        for n, (name, workers, scheduler) in enumerate(runs):
            if scheduler == LOCAL_CLUSTER:  # started only now: idle, it would still tick
                from dask.distributed import LocalCluster

                local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0")
                scheduler = local.scheduler_address
                name = f"Dask cluster at {scheduler} (local, 2 worker processes)"
            out = folder / f"out{n}"
            took = roll_up_once(paths, out, workers, scheduler)
            table = (out / "rollup.csv").read_bytes()
            same = first is None or table == first
            first = first or table
            print(f"{name}: {took['places']} places in {took['total']:.1f} s of wall time "
                  f"(solved and written by the workers {took['solve']:.1f} s, roll-up "
                  f"written {took['write']:.1f} s) at load average {took['load']:.1f}; "
                  f"processor {took['cpu']:.1f} s, every process's user and system time "
                  f"({took['parallel']:.1f} s while the places were on the workers, "
                  f"{took['tasks']:.1f} s of it the places' own tasks, {took['here']:.1f} s "
                  f"this process and {took['server']:.1f} s starting the fork server; "
                  f"{took['cpu'] - took['parallel']:.1f} s before and after); on {cores} "
                  f"free cores about {free_cores_estimate(took, cores):.1f} s (estimate "
                  f"from processor time); rollup.csv "
                  f"{'the same bytes' if same else 'DIFFERENT'} (SHA-256 "
                  f"{hashlib.sha256(table).hexdigest()[:16]})", flush=True)
            if not same:
                raise SystemExit(f"{name}: rollup.csv differs from the first run's")
    finally:
        if local is not None:
            local.close()


if __name__ == "__main__":
    main()
