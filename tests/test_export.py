"""`optimise export`: the place as plain YAML, every named figure and table resolved; optimise
gives the same figures on the copy (at the central figures, and in a draw)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from test_committed import with_ranges
from typer.testing import CliRunner

from optimiser.analyses.uncertainty import run_uncertainty
from optimiser.cli import export_app
from optimiser.pipeline import RunResult, run

ROOT = Path(__file__).resolve().parents[1]
BOURNEMOUTH = ROOT / "instances" / "bournemouth-dorset-poole.yaml"


def export(instance: Path, out: Path, *options: str) -> str:
    done = CliRunner().invoke(export_app, [str(instance), "--out", str(out), *options])
    assert done.exit_code == 0, done.output
    return out.read_text(encoding="utf-8")


def same_plans(a: RunResult, b: RunResult) -> None:
    assert [s.name for s in a.scenarios] == [s.name for s in b.scenarios]
    for x, y in zip(a.scenarios, b.scenarios, strict=True):
        assert x.status == y.status
        assert x.objective == pytest.approx(y.objective, rel=1e-9, abs=1e-9)
        assert np.allclose(x.allocation["units"], y.allocation["units"], rtol=1e-9, atol=1e-6)
        assert np.allclose(x.agencies["net"], y.agencies["net"], rtol=1e-9, atol=1e-6)


def test_bournemouth_exported_gives_the_same_plans(tmp_path: Path) -> None:
    text = export(BOURNEMOUTH, tmp_path / "plain.yaml")
    data = yaml.safe_load(text)
    assert "figures" not in data and "figures_from" not in data
    night = data["interventions"]["night_contact"]
    assert night["savings"]["dorset_pct"] == 2592
    assert ("1.5 * older_admission_2009_10 * nhs_dorset_share: older_admission_2009_10 = "
            "2700") in text
    assert "unit-costs.yaml, line" in text  # where the library defines it
    assert "central of the range" in text
    same_plans(run(BOURNEMOUTH, ranges=False), run(tmp_path / "plain.yaml", ranges=False))


def test_tables_and_figures_tables_are_written_inline(tmp_path: Path) -> None:
    (tmp_path / "figures.csv").write_text(
        "name,value,low,high,source\nvisit_cost,20,15,30,reference costs\n", encoding="utf-8")
    (tmp_path / "interventions.csv").write_text(
        "id,agency,unit_cost,max_units,effect.admissions_avoided\n"
        "home_visits,council,visit_cost,,2\n"
        "rapid_response,council,30,10,5\n", encoding="utf-8")
    place = tmp_path / "place.yaml"
    place.write_text("""\
name: Tables
start_year: 2010
years: 2
discount_rate: 0
figures: figures.csv
agencies:
  council: {name: County council}
streams:
  council_budget: {agency: council, budget: 1000}
interventions: interventions.csv
outcomes:
  admissions_avoided: {name: Unplanned admissions avoided, target: [40, 70]}
""", encoding="utf-8")
    text = export(place, tmp_path / "plain.yaml")
    assert "interventions.csv, row 3, column C (unit_cost)" in text
    assert "visit_cost: visit_cost = 20 (reference costs; figures.csv, row 2)" in text
    data = yaml.safe_load(text)
    assert data["interventions"]["home_visits"]["unit_cost"] == 20
    same_plans(run(place, ranges=False), run(tmp_path / "plain.yaml", ranges=False))


@pytest.mark.parametrize("seed", [3, 11])
def test_a_draw_exported_is_that_draw(tmp_path: Path, seed: int) -> None:
    # The copy at draw 4 solves to what --draws re-optimises in draw 4, scenario by
    # scenario (hindsight), and a plain run of it gives the same plans.
    place = tmp_path / "place.yaml"
    place.write_text(yaml.safe_dump(with_ranges(seed), sort_keys=False), encoding="utf-8")
    result = run(place, ranges=False)
    u = run_uncertainty(result, 5, 9, workers=1)
    text = export(place, tmp_path / "draw4.yaml", "--draw", "4", "--seed", "9")
    assert "draw 4 (seed 9) of the range" in text
    drawn = run(tmp_path / "draw4.yaml", ranges=False)
    compared = 0
    for name in u.scenarios:
        status = u.points.status[4, u.column(name)]
        if status == 0 and drawn.scenario(name).status == "optimal":
            assert drawn.scenario(name).objective == pytest.approx(
                u.points.objective[4, u.column(name)], rel=1e-7, abs=1e-6), name
            compared += 1
    assert compared >= 3
    figures = {f.label: f for f in u.figures}
    assert "figures.shared_price" in figures


def test_export_of_a_bad_instance_exits_2(tmp_path: Path) -> None:
    place = tmp_path / "bad.yaml"
    place.write_text("name: x\nagencies: {a: {name: A}}\nfigures: {p: {value: 1}}\n"
                     "streams: {s: {agency: a, budget: q}}\n", encoding="utf-8")
    done = CliRunner().invoke(export_app, [str(place), "--out", str(tmp_path / "o.yaml")])
    assert done.exit_code == 2
    assert "unknown figure 'q'" in done.output and not (tmp_path / "o.yaml").exists()


def test_comments_cannot_break_the_yaml(tmp_path: Path) -> None:
    # A source's text may hold line breaks of every kind: in a comment each would start
    # YAML of its own. The copy parses to the place's own figures.
    place = tmp_path / "place.yaml"
    place.write_text(
        'name: "x: y"\nstart_year: 2010\nyears: 1\nagencies: {a: {name: A}}\n'
        'figures: {p: {value: 5, source: "evil\\nname: hacked\\u2028b: 1\\x85c: 2\\rd: 3"}}\n'
        "streams: {s: {agency: a, budget: 100}}\n"
        "interventions: {i: {agency: a, unit_cost: p, savings: {a: 7}}}\n", encoding="utf-8")
    text = export(place, tmp_path / "plain.yaml")
    data = yaml.safe_load(text)
    assert data["name"] == "x: y"
    assert set(data) == {"name", "start_year", "years", "agencies", "streams", "interventions"}
    assert data["interventions"]["i"]["unit_cost"] == 5
    same_plans(run(place, ranges=False), run(tmp_path / "plain.yaml", ranges=False))
