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
    # The benchmark checks its own answers: HiGHS alone reaches the run's optima.
    assert "HiGHS alone's optima match the run's" in done.stdout
