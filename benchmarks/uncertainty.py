"""Time `optimise --draws` on the Bournemouth, Dorset and Poole instance with ranges.

    PYTHONPATH=. python benchmarks/uncertainty.py [--draws 1000] [--workers N] [--scheduler ADDR]

The shipped instance gives single figures; this copies it with ranges on the
figures whose published evidence is spread (../shared/FIGURES.md), each range
around the instance's own figure (so the plain run is unchanged), then runs the
draws with a progress bar and prints the time taken and the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from optimiser.pipeline import run
from optimiser.progress import progress_bar
from optimiser.terminal import print_uncertainty
from optimiser.uncertainty import run_uncertainty, total_points

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "bournemouth-dorset-poole.yaml"


def rng(low: float, central: float, high: float) -> dict[str, float]:
    return {"low": low, "central": central, "high": high}


RANGES: dict[str, Any] = {
    # Virtual wards: Nuffield Trust 2013, no fall in emergency admissions; NHS England
    # South East 2024, one avoided in 2.5. The money follows the admissions.
    "virtual_ward.effects.admissions_avoided": rng(0.0, 0.4, 0.4),
    "virtual_ward.savings.dorset_pct": rng(0, 691, 691),
    "virtual_ward.savings.bp_pct": rng(0, 389, 389),
    "virtual_ward.savings.acute": rng(-432, -432, 0),
    "virtual_ward.unit_cost": rng(400, 500, 700),
    # Rapid response is judged as the virtual ward.
    "rapid_response.effects.admissions_avoided": rng(0.0, 0.4, 0.4),
    # Falls exercise: rate of falls ratio 0.77, 95% CI 0.71-0.83 (Cochrane 2019).
    "falls_exercise.effects.falls_prevented": rng(0.255, 0.345, 0.435),
    "falls_exercise.effects.admissions_avoided": rng(0.016, 0.022, 0.028),
    # Hip fracture GBP 10,749-14,440 (PharmacoEconomics 2018) in the PCT's saving.
    "falls_exercise.savings.dorset_pct": rng(60, 66, 72),
    # 'Betty': one case study; about 7 admissions a year at most, none at least.
    "night_contact.effects.admissions_avoided": rng(0.0, 1.5, 7.0),
    # 'Joe': one case study.
    "joe_case_management.savings.dorset_cc": rng(20000, 82400, 82400),
    # Reablement: later social care 60% lower, mostly offsetting the episode
    # (Glendinning 2010); the episode cost ASSUMED +-15%.
    "reablement_dorset.savings.dorset_cc": rng(1200, 2100, 2600),
    "reablement_dorset.unit_cost": rng(1800, 2088, 2400),
    # Telecare: mixed evidence (ASSUMED spread).
    "telecare.effects.admissions_avoided": rng(0.0, 0.15, 0.3),
    # Intermediate care: care-home weeks at GBP 538 (Laing 2008/09), ASSUMED spread.
    "intermediate_care.unit_cost": rng(1900, 2214, 2600),
    "supported_discharge.effects.bed_days_saved": rng(3, 6, 9),
}


def ranged_copy(folder: Path) -> Path:
    """The shipped instance with RANGES, written into `folder`."""
    data = yaml.safe_load(INSTANCE.read_text())
    for path, spread in RANGES.items():
        item, *rest = path.split(".")
        node = data["interventions"][item]
        for part in rest[:-1]:
            node = node[part]
        node[rest[-1]] = spread
    out = folder / "bournemouth-ranges.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--scheduler", default=None)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        path = ranged_copy(Path(folder))
        started = time.perf_counter()
        result = run(path)
        plain = time.perf_counter() - started
        with progress_bar(total_points(result, args.draws), "Draws", Console(stderr=True)) as bar:
            run_uncertainty(result, args.draws, args.seed, args.workers, args.scheduler, bar)
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
