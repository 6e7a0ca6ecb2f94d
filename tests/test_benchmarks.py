"""The speed benchmark runs end to end on tiny places (a smoke test: no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_speed_benchmark_quick_prints_its_tables() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "speed.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    for heading in ("== Stages of a default run", "== Model build against its nonzeros",
                    "== The target", "RATIO whole run / HiGHS alone warm",
                    "HiGHS alone, warm", "HiGHS alone, cold", "write the reports"):
        assert heading in done.stdout
    # The benchmark checks its own answers: HiGHS alone, warm and cold, reaches the run's
    # optima on the same LPs, and replaying every LP the run solved reaches its optima too.
    found = re.search(r"OPTIMA GAP warm (\S+) cold (\S+) replay (\S+)", done.stdout)
    assert found, done.stdout
    gaps = [float(g) for g in found.groups()]
    assert all(0.0 <= g <= 1e-9 for g in gaps), gaps


def test_milp_benchmark_quick_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "milp.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    for heading in ("== Place:", "== Time (seconds, wall)", "== Figures", "POOLING GAIN"):
        assert heading in done.stdout
    # Set-up costs only add costs: the MILP's ring-fenced objective is at most the LP's.
    row = next(line for line in done.stdout.splitlines() if line.startswith("ring_fenced"))
    lp, milp = (float(v.replace(",", "")) for v in row.split()[1:3])
    assert milp <= lp + 1e-6 * abs(lp)
