"""A program that ran a HiGHS of its own before calling optimise still gets its plans.

HiGHS shares one thread scheduler per process, made by the first HiGHS to run; a later
HiGHS asking for another thread count does not run (status 'Not Set'). optimise asks for
one thread, so a caller's default-thread HiGHS run first used to make every solve fail
with a message about the instance's units. Needs a fresh process: the scheduler is global.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """
import highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.addVar(0.0, 1.0)
h.changeColCost(0, -1.0)
h.run()
assert h.modelStatusToString(h.getModelStatus()) == "Optimal"
from pathlib import Path
from optimiser.pipeline import run
result = run(Path("tests/data/ringfence_vs_pooled.yaml"), ranges=False)
print({s.name: (s.status, round(s.objective, 6)) for s in result.scenarios})
"""


def test_a_callers_own_highs_first_does_not_stop_the_solves() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # tests/data/expected.yaml: ring_fenced 220, pooled 310 (hand-solved there).
    assert done.stdout.strip().splitlines()[-1] == (
        "{'ring_fenced': ('optimal', 220.0), 'pooled': ('optimal', 310.0)}")
