"""The speed benchmark runs end to end on tiny places (a smoke test: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_speed_benchmark_quick_prints_its_tables() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "speed.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    for heading in ("== Stages of a default run", "== Model build against its nonzeros",
                    "== The target", "RATIO whole run / HiGHS alone"):
        assert heading in done.stdout
    # HiGHS alone, given the same LPs, reaches the run's optima (scenarios and fence lifts).
    gap_line = next(line for line in done.stdout.splitlines() if "OPTIMA GAP" in line)
    gap, lps = gap_line.split("OPTIMA GAP ")[1].split(" over ")
    assert int(lps.split()[0]) > 2
    assert float(gap) <= 1e-6
