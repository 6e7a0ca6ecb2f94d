"""The core path: `optimise instance.yaml` end to end, on a hand-solved place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyomo.environ as pyo
import pytest

from models.pooling import build_model
from optimiser.pipeline import prepare, run
from optimiser.place.scenarios import place_data

# A council and the NHS, two years, no discounting.
#
# Ring-fenced: the council's 100 a year buys prevention (10 a unit) only up to
# 10 units; each unit saves the NHS 40, so the net benefit is 10 * (40 - 10) = 300
# a year, 600 over two years. The NHS's own beds cost 100 and save it 50: never
# worth buying. Targets: 1 admission avoided per prevention unit, target 5 a year
# (met by 10).
#
# Pooled: the NHS's 1000 a year may pay for prevention too, so all 50 units are
# bought (cost 500): 50 * 30 = 1500 a year, 3000 in all.
#
# Least pooling decides who pays: the council's 100 stays inside its fence on
# its own prevention, and the pool (NHS money) pays the other 400 a year.
# Positions: council -200 (spend 2 * 100, no savings), NHS 2 * (50*40 - 400) = 3200.
# Fair (no_worse_off against ring-fenced, council -200 and NHS 800): already met.
TOY = """\
name: toy
years: 2
discount_rate: 0.0
agencies:
  council: {name: Council}
  nhs: {name: NHS}
streams:
  asc: {agency: council, budget: 100}
  nhs_budget: {agency: nhs, budget: 1000}
interventions:
  prevention: {agency: council, unit_cost: 10, max_units: 50, savings: {nhs: 40},
               effects: {adm: 1}}
  beds: {agency: nhs, unit_cost: 100, max_units: 5, savings: {nhs: 50}}
outcomes:
  adm: {name: Admissions avoided, target: 5}
scenarios:
  ring_fenced: {pooling: false}
  pooled: {pooling: true}
  fair: {pooling: true, incentives: no_worse_off, transfers: true}
"""


def write(tmp_path: Path, text: str, name: str = "place.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, check=False)


def test_toy_hand_solved(tmp_path: Path) -> None:
    result = run(write(tmp_path, TOY))
    objectives = {s.name: s.objective for s in result.scenarios}
    assert objectives == pytest.approx({"ring_fenced": 600, "pooled": 3000, "fair": 3000})
    pooled = result.scenario("pooled")
    units = pooled.allocation.set_index("intervention")["units"]
    assert units["prevention"].tolist() == pytest.approx([50, 50])
    assert units["beds"].tolist() == pytest.approx([0, 0])
    net = pooled.agencies.set_index("agency")["net"]
    assert net["council"] == pytest.approx(-200)
    assert net["nhs"] == pytest.approx(3200)
    funding = pooled.funding.groupby("stream")["amount"].sum()
    assert funding["asc"] == pytest.approx(200)
    assert funding["nhs_budget"] == pytest.approx(800)
    assert pooled.funding.groupby("stream")["pooled"].sum()["asc"] == pytest.approx(0)


def test_cli_writes_the_contract(tmp_path: Path) -> None:
    done = cli(write(tmp_path, TOY), "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["instance"]["name"] == "toy"
    assert len(doc["instance"]["sha256"]) == 64
    ring = doc["scenarios"]["ring_fenced"]
    assert ring["status"] == "optimal"
    assert ring["units"]["prevention"] == pytest.approx([10, 10])
    assert ring["funding"] == {"asc": {"prevention": pytest.approx([100, 100])}}
    assert ring["outcomes"]["adm"] == pytest.approx([10, 10])
    for entry in ring["agencies"].values():
        assert set(entry) >= {"spend", "savings", "transfers_in", "transfers_out", "net"}
    for name in ("allocation", "funding", "outcomes", "agencies", "transfers"):
        assert (tmp_path / "out" / f"{name}.csv").is_file()
    assert "ring_fenced" in done.stdout and "pooled" in done.stdout


def test_two_runs_are_identical(tmp_path: Path) -> None:
    place = write(tmp_path, TOY)
    for out in ("a", "b"):
        assert cli(place, "--out", tmp_path / out).returncode == 0
    for name in ("results.json", "agencies.csv", "funding.csv", "allocation.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_infeasible_and_unbounded_are_results(tmp_path: Path) -> None:
    # A target of 60 a year cannot be met: at most 50 units of prevention.
    # Free outreach (no cost, a value, no max_units) makes the objective unbounded.
    text = TOY.replace("target: 5", "target: 60").replace(
        "  beds:", "  outreach: {agency: council, unit_cost: 0, effects: {adm: 0}}\n  beds:")
    done = cli(write(tmp_path, text), "--out", tmp_path / "out")
    assert done.returncode == 1
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    for entry in doc["scenarios"].values():
        assert entry["status"] == "infeasible"
        assert entry["objective"] is None
    text = TOY.replace("outcomes:\n  adm: {name: Admissions avoided, target: 5}",
                       "outcomes:\n  adm: {name: Admissions avoided, value: 5}").replace(
        "  beds:", "  outreach: {agency: council, unit_cost: 0, effects: {adm: 1}}\n  beds:")
    done = cli(write(tmp_path, text), "--out", tmp_path / "out2")
    assert done.returncode == 1
    doc = json.loads((tmp_path / "out2" / "results.json").read_text())
    assert doc["scenarios"]["pooled"]["status"] == "unbounded"


def test_invalid_input_exit_2_nothing_written(tmp_path: Path) -> None:
    bad = write(tmp_path, TOY.replace("agency: council, budget", "agency: counci, budget"))
    done = cli(bad, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "place.yaml, line 8, at streams.asc.agency" in done.stderr
    assert "did you mean 'council'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    (tmp_path / "file").write_text("x")
    done = cli(write(tmp_path, TOY), "--out", tmp_path / "file")
    assert done.returncode == 2
    assert "is a file" in done.stderr


def test_accounts_add_up(tmp_path: Path) -> None:
    """net_benefit = outcome value + sum of agency positions; transfers net to zero."""
    text = TOY.replace("adm: {name: Admissions avoided, target: 5}",
                       "adm: {name: Admissions avoided, target: 5, value: 3}")
    result = run(write(tmp_path, text))
    values = {"adm": 3.0}
    for s in result.scenarios:
        value = sum(values[r.outcome] * r.achieved for r in s.outcomes.itertuples())
        assert s.objective == pytest.approx(value + s.agencies["net"].sum())
        assert s.agencies["transfers_in"].sum() == pytest.approx(s.agencies["transfers_out"].sum())


def test_pooled_model_has_one_pool_not_pairs(tmp_path: Path) -> None:
    """Pooled: x, in-fence f, p per stream-year, q per intervention-year; no stream-item pairs."""
    prepared = prepare(write(tmp_path, TOY))
    run_ = next(r for r in prepared.runs if r.name == "pooled")
    model = build_model(place_data(run_))
    counts = {v.name: len(v) for v in model.component_objects(pyo.Var)}
    # 2 interventions, 2 streams (each fencing one intervention), 2 years.
    assert counts == {"x": 4, "f": 4, "p": 4, "q": 4}


def test_agencies_may_go_unnamed(tmp_path: Path) -> None:
    """The contract requires only the instance's name: an agency with no name goes by its id."""
    text = TOY.replace("  council: {name: Council}\n  nhs: {name: NHS}\n",
                       "  council:\n  nhs: {max_net_cost: 0}\n")
    result = run(write(tmp_path, text))
    assert result.instance.agencies["council"].name == "council"
    assert result.instance.agencies["nhs"].max_net_cost == 0
    assert result.scenario("pooled").objective == pytest.approx(3000)
