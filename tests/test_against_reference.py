"""The optimiser's CLI against the independent reference solver in `reference.py`.

Every hand-solved instance in `data/` and a batch of generated ones are run through
`python -m optimiser INSTANCE --out DIR`; the statuses and objectives in results.json must
match the reference's, every optimal plan must satisfy the contract's constraints as `check_plan`
recomputes them, and the exit status must say whether every scenario was optimal.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from gen import random_instance
from reference import (
    check_account,
    check_plan,
    load_instance,
    positions_of,
    scenarios_of,
    solve_reference,
)
from solved import results_only

DATA = Path(__file__).parent / "data"
DATA_FILES = sorted(p.name for p in DATA.glob("*.yaml") if p.name != "expected.yaml")
REFERENCE_ONLY = {"agreements.yaml"}
"""Data files whose objectives are not in expected.yaml (their own tests work them by hand)."""
EXPECTED: dict[str, dict[str, dict[str, Any]]] = yaml.safe_load(
    (DATA / "expected.yaml").read_text(encoding="utf-8")
)
SEEDS = range(25)
INVARIANT_SEEDS = range(100, 125)


def run_cli(path: Path, out: Path) -> tuple[int, dict[str, Any]]:
    """Solve one instance file as the command does, in this process; its exit status and
    results.json.

    In-process, without analyses and writing only results.json, to keep the suite fast:
    the analyses are tested on their own, the reports by tests/test_reports.py, and
    tests/test_core.py runs the real console command.
    """
    return results_only(path, out)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= max(1e-6, 1e-6 * max(abs(a), abs(b)))


def compare_with_reference(instance: dict[str, Any], path: Path, out: Path) -> dict[str, Any]:
    """Run the CLI and assert it agrees with the reference; return the tool's scenarios."""
    code, results = run_cli(path, out)
    tool: dict[str, Any] = results["scenarios"]
    scenarios = scenarios_of(instance)
    assert set(tool) == set(scenarios)
    positions = {
        name: positions_of(entry) for name, entry in tool.items() if entry["status"] == "optimal"
    }
    reference = solve_reference(instance, reference_positions=positions)
    failures: list[str] = []
    for name, want in reference.items():
        got = tool[name]
        scenario = scenarios[name]
        if want.get("reference_unsolved"):
            if got["status"] == "optimal":
                failures.append(
                    f"{name}: optimal, but its reference {scenario.reference} has no optimal plan"
                )
            continue
        if got["status"] != want["status"]:
            failures.append(f"{name}: status {got['status']}, reference {want['status']}")
            continue
        if want["status"] != "optimal":
            if got.get("objective") is not None:
                failures.append(f"{name}: {got['status']} but objective {got['objective']}")
            continue
        if not _same(float(got["objective"]), want["objective"]):
            failures.append(f"{name}: objective {got['objective']}, reference {want['objective']}")
        ref_entry = None
        if scenario.incentives == "no_worse_off":
            assert scenario.reference is not None
            ref_entry = tool[scenario.reference]
        failures += [f"{name}: {p}" for p in check_plan(instance, name, got, 1e-6, ref_entry)]
        failures += [f"{name}: {p}" for p in check_account(instance, name, got)]
    all_optimal = all(tool[name]["status"] == "optimal" for name in scenarios)
    if code != (0 if all_optimal else 1):
        failures.append(f"exit status {code} with statuses {[e['status'] for e in tool.values()]}")
    assert not failures, "\n".join(failures)
    return tool


@pytest.mark.parametrize("name", DATA_FILES)
def test_hand_solved_instance(name: str, tmp_path: Path) -> None:
    path = DATA / name
    assert name in EXPECTED or name in REFERENCE_ONLY, f"{name}: add its hand-solved objectives"
    tool = compare_with_reference(load_instance(path), path, tmp_path / "out")
    # agreements.yaml's figures are worked by hand in tests/test_agreements.py; here its
    # plans are held to the independent reference only.
    for scenario, want in EXPECTED.get(name, {}).items():
        got = tool[scenario]
        assert got["status"] == want["status"], scenario
        if want["objective"] is not None:
            assert _same(float(got["objective"]), float(want["objective"])), scenario


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_generated_instance(seed: int, tmp_path: Path) -> None:
    instance = random_instance(seed)
    path = tmp_path / f"generated_{seed}.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    compare_with_reference(instance, path, tmp_path / "out")


@pytest.mark.slow
@pytest.mark.parametrize("seed", INVARIANT_SEEDS)
def test_pooling_is_never_worse(seed: int, tmp_path: Path) -> None:
    instance = random_instance(seed)
    del instance["scenarios"]  # the defaults: ring_fenced and pooled, no incentives
    path = tmp_path / f"generated_{seed}.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    _, results = run_cli(path, tmp_path / "out")
    tool = results["scenarios"]
    assert set(tool) == {"ring_fenced", "pooled"}
    ring, pooled = tool["ring_fenced"], tool["pooled"]
    if ring["status"] != "optimal":
        return
    assert pooled["status"] == "optimal"
    sign = -1.0 if instance["objective"] == "cost" else 1.0
    slack = max(1e-6, 1e-6 * abs(ring["objective"]))
    assert sign * pooled["objective"] >= sign * ring["objective"] - slack


def test_results_name_the_instance_and_its_hash(tmp_path: Path) -> None:
    path = DATA / "ringfence_vs_pooled.yaml"
    _, results = run_cli(path, tmp_path / "out")
    assert results["instance"]["name"] == load_instance(path)["name"]
    assert results["instance"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
