"""What deciding which services run costs in re-optimised (hindsight) draws of a MILP place.

    PYTHONPATH=. python benchmarks/milp_draws.py [--draws N] [--repeats N] [--seed S]
                                                 [--instance PATH]

Each draw of a scenario with set-up costs, minimum scales or tiers re-solves its MILP;
since rules 2 to 2c apply to draws too (`optimiser.solving.highs.resolve` with the
draw's `switches`), each proven draw then runs the rules' branch and bounds as well
(README 'Figures chosen by rule'). This times the draws (one process, CPU seconds,
threads included) without the rules (which services run is the plan branch and bound
found) and with them, the two in turn within one process, medians of N, and prints
the ratio. The default place is a small generated one (`tests/gen.extended_instance`,
seeds 3 and 11) with ranges on every unit cost; `--instance` times a place file with
its own ranges instead. The objectives' means must agree (the rules only choose among
equally good plans); the positions may not, which is why the rules are there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's optimiser
sys.path.insert(0, str(ROOT / "tests"))


def generated(seed: int, folder: Path) -> Path:
    """A small generated MILP place with every unit cost a range (0.7 to 1.6 of it)."""
    from gen import extended_instance

    instance = extended_instance(seed, n_agencies=3, n_streams=4, n_interventions=6, years=3)
    for body in instance["interventions"].values():
        cost = body["unit_cost"]
        if not isinstance(cost, list):
            body["unit_cost"] = {"low": cost * 0.7, "central": cost, "high": cost * 1.6}
    path = folder / f"generated-{seed}.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    return path


def draws_time(path: Path, draws: int, seed: int, rules: bool) -> tuple[float, dict[str, Any]]:
    """CPU seconds of the draws of the place at `path` (after its plain run), and each
    scenario's hindsight mean."""
    from optimiser.analyses import uncertainty
    from optimiser.pipeline import run

    result = run(path)
    patch = (mock.patch.object(uncertainty, "switches", return_value=None) if not rules
             else mock.patch.object(uncertainty, "switches", uncertainty.switches))
    with patch:
        started = time.process_time()
        outcome = uncertainty.run_uncertainty(result, draws, seed, workers=1)
        spent = time.process_time() - started
    means = {name: outcome.summary(name)["mean"] for name in outcome.scenarios}
    return spent, means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instance", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        places = ([args.instance] if args.instance is not None
                  else [generated(s, Path(folder)) for s in (3, 11)])
        for path in places:
            times: dict[bool, list[float]] = {False: [], True: []}
            means: dict[bool, dict[str, Any]] = {}
            for _ in range(args.repeats):
                for rules in (False, True):
                    spent, means[rules] = draws_time(path, args.draws, args.seed, rules)
                    times[rules].append(spent)
            worst = max((abs(a - b) / max(1.0, abs(a))
                         for name, a in means[False].items()
                         if a is not None and (b := means[True][name]) is not None),
                        default=0.0)
            without, with_rules = (statistics.median(times[r]) for r in (False, True))
            print(f"{path.name}: {args.draws} draws, CPU s (median of {args.repeats}): "
                  f"without the rules {without:.2f}, with them {with_rules:.2f}, ratio "
                  f"{with_rules / without:.2f}; objective means agree to {worst:.1e}")


if __name__ == "__main__":
    main()
