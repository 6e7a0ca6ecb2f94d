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
    # optima on the same LPs, and HiGHS alone on every model the run solved (its stages'
    # LPs and rule 3's QPs, handed over as the run held them) reaches the run's optima.
    found = re.search(r"OPTIMA GAP warm (\S+) cold (\S+) replay (\S+) case order (\S+)",
                      done.stdout)
    assert found, done.stdout
    warm, cold, replay, in_order = (float(g) for g in found.groups())
    assert 0.0 <= warm <= 1e-9 and 0.0 <= cold <= 1e-9, (warm, cold)
    assert 0.0 <= in_order <= 1e-9, in_order
    assert 0.0 <= replay <= 1e-7, replay
