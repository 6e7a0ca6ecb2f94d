"""Time `optimise --draws` on the shipped Bournemouth, Dorset and Poole instance.

    PYTHONPATH=. python benchmarks/uncertainty.py [--draws 1000] [--workers N] [--scheduler ADDR]

The instance carries its own ranges, each with its source beside it (optimism
bias and deadweight where the evidence of an intervention is spread, a few unit
costs); this runs the draws with a progress bar and prints the time taken and
the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from rich.console import Console

from optimiser.analyses.uncertainty import run_uncertainty, total_points
from optimiser.pipeline import run
from optimiser.progress import RunProgress
from optimiser.reports.terminal import print_uncertainty

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "bournemouth-dorset-poole.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--scheduler", default=None)
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    progress = RunProgress(Console(stderr=True))
    result = run(INSTANCE, progress=progress)
    plain = time.perf_counter() - started
    progress.stage("Draws", total_points(result, args.draws))
    run_uncertainty(result, args.draws, args.seed, args.workers, args.scheduler,
                    progress.advance)
    progress.close()
    total = time.perf_counter() - started
    u = result.uncertainty
    assert u is not None
    print_uncertainty(result, console)
    scenarios = len(result.scenarios)
    console.print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}: plain run {plain:.1f} s; {args.draws} draws x "
        f"{scenarios} scenarios + {2 * len(u.figures)} tornado points in {u.seconds:.1f} s "
        f"({u.where}); {1000 * u.seconds / (args.draws * scenarios):.2f} ms a scenario-draw; "
        f"whole run {total:.1f} s", markup=False, highlight=False)


if __name__ == "__main__":
    main()
