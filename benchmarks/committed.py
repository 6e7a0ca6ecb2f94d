"""Time committed draws against re-optimised ones on the shipped Bournemouth instance.

    PYTHONPATH=. python benchmarks/committed.py [--committed 10000] [--hindsight 1000]

Committed: every scenario's central plan evaluated in each draw (array arithmetic, no
solve: `optimiser.analyses.committed`), the draws' uniforms included. With hindsight:
every scenario re-optimised in each draw on one process's persistent models
(`optimiser.analyses.uncertainty.run_points`, workers=1).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from optimiser.analyses.committed import commitment, evaluate
from optimiser.analyses.uncertainty import make_plan, run_points
from optimiser.inputs.ranges import draw_uniforms
from optimiser.pipeline import run

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "bournemouth-dorset-poole.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--committed", type=int, default=10_000)
    parser.add_argument("--hindsight", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(INSTANCE, ranges=False)
    plan = make_plan(result)
    labels = [f.label for f in plan.figures]
    started = time.perf_counter()
    u = draw_uniforms(args.seed, labels, args.committed)
    drawn = time.perf_counter()
    means = {}
    for scenario in plan.scenarios:
        promise = commitment(result.scenario(scenario.name), scenario.data)
        if promise is not None:
            means[scenario.name] = evaluate(promise, scenario.data, scenario.slots,
                                            u).objective.mean()
    done = time.perf_counter()
    print(f"committed: {args.committed:,} draws x {len(plan.scenarios)} scenarios in "
          f"{done - started:.2f} s ({drawn - started:.2f} s drawing the uniforms, "
          f"{done - drawn:.2f} s evaluating)")
    started = time.perf_counter()
    u = draw_uniforms(args.seed, labels, args.hindsight)
    run_points(plan, u, workers=1)
    seconds = time.perf_counter() - started
    print(f"with hindsight: {args.hindsight:,} draws x {len(plan.scenarios)} scenarios "
          f"re-optimised in {seconds:.1f} s on 1 process "
          f"({1000 * seconds / args.hindsight / len(plan.scenarios):.2f} ms a scenario-draw)")
    for name, mean in means.items():
        print(f"  {name}: committed mean {mean:,.0f}")


if __name__ == "__main__":
    main()
