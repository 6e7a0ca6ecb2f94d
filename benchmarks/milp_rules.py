"""What deciding which services run costs, and what the MILP options save, on the first-hour place.

    python benchmarks/milp_rules.py [--repeats N] [--instance PATH]

The default run of instances/bournemouth-dorset-poole.yaml (every scenario and every
analysis, no reports), timed in CPU seconds (threads included), variants in turn within
one process, medians of N:

- before: without rules 2a to 2c (branch and bound chooses which services run), with
  HiGHS's own options for branch and bounds handed a plan to start from, and a second
  LP for every re-solve settled by its relaxation;
- the rules, with rule 2c run block by block (no certificate: `only_choices` answers
  'not proven' without a branch and bound, as before the certificate);
- the rules;
- the rules with `WARM_MIP_OPTIONS`;
- and a relaxation whose binaries are whole taken as it is (`INTEGRAL`: as shipped).

`--generated` instead times the scenarios (no analyses) of a generated place
(`benchmarks/milp.py`'s set-up costs, on a third of `--interventions` interventions over
5 years: 5 on/off choices each) without the rules (as before they ran above
SWITCH_LIMIT), with rule 2c block by block (as before the certificate: at most
SWITCH_LIMIT choices) and as shipped, saying whether each scenario's choices are decided.
`--skip-threads` leaves out the comparison of HiGHS's threads.

Then HiGHS's thread count, which one process cannot change once HiGHS has run: each
count in a fresh process, in turn. Every ratio is against the first variant, and every
variant's figures are compared with the shipped one's (results.json, relative).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's optimiser
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

FIRST_HOUR = ROOT / "instances" / "bournemouth-dorset-poole.yaml"


def default_run(path: Path) -> tuple[float, dict[Any, Any]]:
    """CPU seconds of a default run without reports, and its figures by path."""
    from canonical import canonical

    from optimiser.analyses import run_analyses
    from optimiser.pipeline import run
    from optimiser.reports.write import results_document

    started = time.process_time()
    result = run(path)
    run_analyses(result, None)
    spent = time.process_time() - started
    return spent, canonical(json.loads(json.dumps(results_document(result), default=str)))


def worst(a: dict[Any, Any], b: dict[Any, Any]) -> float:
    """The largest relative difference between two runs' figures."""
    out = 0.0
    for key, value in a.items():
        other = b.get(key)
        if isinstance(value, float) and isinstance(other, float):
            out = max(out, abs(value - other) / max(1.0, abs(value)))
    return out


def in_process(path: Path, repeats: int) -> None:
    import optimiser.solving.highs as highs
    import optimiser.solving.placemodel as placemodel

    shipped = dict(highs.WARM_MIP_OPTIONS)
    whole = highs.INTEGRAL
    switches = placemodel.switches
    certificate = highs.only_choices
    variants: dict[str, tuple[dict[str, Any], Any, float, Any]] = {
        "before: no rules 2a-2c, HiGHS's options": ({}, lambda lp, data: None, -1.0,
                                                     certificate),
        "rules 2a-2c, no certificate, options, whole": (shipped, switches, whole, unproven),
        "rules 2a-2c": ({}, switches, -1.0, certificate),
        "rules, WARM_MIP_OPTIONS": (shipped, switches, -1.0, certificate),
        "rules, options, whole relaxations (shipped)": (shipped, switches, whole, certificate),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    figures: dict[str, dict[Any, Any]] = {}
    default_run(path)  # imports and first-use costs out of the way
    for _ in range(repeats):
        for name, (options, chooser, integral, certify) in variants.items():
            highs.WARM_MIP_OPTIONS.clear()
            highs.WARM_MIP_OPTIONS.update(options)
            placemodel.switches = chooser
            highs.INTEGRAL = integral
            highs.only_choices = certify
            spent, figures[name] = default_run(path)
            times[name].append(spent)
    highs.WARM_MIP_OPTIONS.update(shipped)
    placemodel.switches = switches
    highs.INTEGRAL = whole
    highs.only_choices = certificate
    base = statistics.median(next(iter(times.values())))
    last = list(variants)[-1]
    print(f"== Default run of {path.name}, CPU seconds, medians of {repeats} in turn "
          f"(threads: {highs.HIGHS_THREADS})")
    for name, spent in times.items():
        middle = statistics.median(spent)
        print(f"{name:44s} {middle:7.2f}  RATIO {middle / base:5.3f}  "
              f"worst figure difference from shipped {worst(figures[last], figures[name]):.1e}")


def unproven(lp: Any, x: Any, columns: Any) -> bool | None:
    """`only_choices` as if HiGHS proved nothing, without a branch and bound: rule 2c then
    runs every block, as before the certificate."""
    return None


def generated(interventions: int, repeats: int) -> None:
    """The scenarios of a generated place without the rules, with rule 2c block by block,
    and as shipped: CPU seconds, medians of `repeats` in turn."""
    import tempfile

    import yaml
    from canonical import canonical
    from generate import generate_place
    from milp import with_setup_costs

    import optimiser.solving.highs as highs
    from optimiser.pipeline import run
    from optimiser.reports.write import results_document

    decide, certificate = highs.decide_switches, highs.only_choices

    def none(lp: Any, z: float, x: Any, switches: Any, pooling: bool) -> Any:
        return x, "", False

    place = with_setup_costs(generate_place(n_agencies=4, n_streams=12,
                                            n_interventions=interventions, n_outcomes=3,
                                            years=5, seed=0), 0)
    variants = {"no rules (before, above the limit)": (none, certificate),
                "rules, 2c block by block (before, up to the limit)": (decide, unproven),
                "rules with the certificate (shipped)": (decide, certificate)}
    times: dict[str, list[float]] = {name: [] for name in variants}
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "place.yaml"
        path.write_text(yaml.safe_dump(place, sort_keys=False), encoding="utf-8")
        run(path)  # imports and first-use costs out of the way
        for _ in range(repeats):
            for name, (chooser, certify) in variants.items():
                highs.decide_switches = chooser
                highs.only_choices = certify
                started = time.process_time()
                result = run(path)
                times[name].append(time.process_time() - started)
                found[name] = result
    highs.decide_switches, highs.only_choices = decide, certificate
    base = statistics.median(next(iter(times.values())))
    print(f"== Scenarios of a generated place (SWITCH_LIMIT {highs.SWITCH_LIMIT}), "
          f"{interventions} interventions, 5 years, CPU seconds, medians of {repeats} in turn")
    for name, result in found.items():
        mips = {s.name: s.extra.get("mip") or {} for s in result.scenarios}
        print(f"{name}: choices and decided: " + ", ".join(
            f"{n} {m.get('choices')} "
            f"{'decided' if m.get('services_decided') else 'NOT decided'}"
            for n, m in mips.items()))
    docs = {n: canonical(json.loads(json.dumps(results_document(r), default=str)))
            for n, r in found.items()}
    for name, spent in times.items():
        middle = statistics.median(spent)
        print(f"{name:52s} {middle:7.2f}  RATIO {middle / base:5.3f}  worst figure "
              f"difference from shipped {worst(docs[list(variants)[-1]], docs[name]):.1e}")


def threads(path: Path, repeats: int) -> None:
    runs: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(repeats):
        for count in runs:
            done = subprocess.run([sys.executable, __file__, "--child", str(count),
                                   "--instance", str(path)], capture_output=True, text=True,
                                  check=True)
            runs[count].append(float(done.stdout.split()[-1]))
    base = statistics.median(runs[0])
    print(f"== HiGHS's threads, each in a fresh process, medians of {repeats} in turn")
    for count, spent in runs.items():
        label = "HiGHS's default (the machine's cores)" if count == 0 else f"{count} (shipped)"
        middle = statistics.median(spent)
        print(f"threads {label:40s} {middle:7.2f}  RATIO {middle / base:5.3f}")


def child(path: Path, count: int) -> None:
    import optimiser.solving.highs as highs

    highs.HIGHS_THREADS = count
    spent, _ = default_run(path)
    print(f"{spent:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--instance", type=Path, default=FIRST_HOUR)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip-threads", action="store_true")
    parser.add_argument("--generated", action="store_true")
    parser.add_argument("--interventions", type=int, default=90)
    args = parser.parse_args()
    if args.child is not None:
        child(args.instance, args.child)
        return
    if args.generated:
        generated(args.interventions, args.repeats)
        return
    in_process(args.instance, args.repeats)
    if not args.skip_threads:
        threads(args.instance, args.repeats)


if __name__ == "__main__":
    main()
