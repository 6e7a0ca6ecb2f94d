"""Named figures: defined once (`figures:`, a library, a table), used by name wherever a
number goes; located errors; a ranged figure drawn once a draw for every use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from optimiser.analyses.uncertainty import make_plan
from optimiser.cli import app
from optimiser.errors import InstanceError
from optimiser.inputs.assumptions import assumptions
from optimiser.inputs.ranges import draw_uniforms, sample_place
from optimiser.pipeline import prepare, run

# Working by hand (H = 2, r = 0; net_benefit with no savings or values, so the objective
# is minus the cost). Target admissions_avoided [40, 70].
#   home_visits: 20 a unit for 2 avoided -> 10 an admission
#   rapid_response: 30 a unit for 5 avoided (cap 10) -> 6 an admission
#   year 0: 8 rapid_response units = 240; year 1: 10 of them (300) and 10 home visits
#   (200): 740 in all; objective -740 in both scenarios.
PLACE = """\
name: Target forces spending
start_year: 2010
years: 2
discount_rate: 0
objective: net_benefit
{figures}
agencies:
  council: {{name: County council}}
streams:
  council_budget: {{agency: council, budget: {budget}}}
interventions:
  home_visits:
    agency: council
    unit_cost: {visit}
    effects: {{admissions_avoided: {per_visit}}}
  rapid_response:
    agency: council
    unit_cost: {response}
    max_units: 10
    effects: {{admissions_avoided: {per_response}}}
outcomes:
  admissions_avoided:
    name: Unplanned admissions avoided
    target: [40, 70]
"""
LIBRARY = """\
figures:
  visit_cost: {value: 20, low: 15, high: 30, source: "library source"}
  response_cost:
    value: 30
    source: "made up too"
"""
FIGURES = """\
figures_from: [lib/costs.yaml]
figures:
  per_visit: {value: 2, assumption: "two an episode"}
  five: {value: "2.5 * per_visit"}"""
NAMED = dict(figures=FIGURES, budget=1000, visit="visit_cost", response="response_cost",
             per_visit="per_visit", per_response='"0.5 * five * 2"')


def place(tmp_path: Path, **changes: object) -> Path:
    (tmp_path / "lib").mkdir(exist_ok=True)
    (tmp_path / "lib" / "costs.yaml").write_text(LIBRARY, encoding="utf-8")
    path = tmp_path / "place.yaml"
    path.write_text(PLACE.format(**{**NAMED, **changes}), encoding="utf-8")
    return path


def problem(path: Path) -> str:
    with pytest.raises(InstanceError) as caught:
        prepare(path)
    assert len(caught.value.problems) == 1, caught.value
    return str(caught.value)


def test_named_figures_give_the_hand_solved_plan(tmp_path: Path) -> None:
    result = run(place(tmp_path), ranges=False)
    assert [s.objective for s in result.scenarios] == pytest.approx([-740, -740], abs=1e-6)
    instance = result.instance
    assert instance.interventions["home_visits"].unit_cost.central == 20  # a ranged figure
    assert instance.interventions["rapid_response"].unit_cost == 30
    assert instance.interventions["rapid_response"].effects["admissions_avoided"] == 5


def test_assumptions_list_named_figures_with_sources(tmp_path: Path) -> None:
    prepared = prepare(place(tmp_path))
    table = assumptions(prepared.path, prepared.source, prepared.instance)
    rows = table.set_index("path")
    assert rows.loc["figures.visit_cost", "value"] == "20 (15 to 30)"
    assert "library source" in rows.loc["figures.visit_cost", "note"]
    assert "lib/costs.yaml" in rows.loc["figures.visit_cost", "note"]
    assert rows.loc["figures.per_visit", "kind"] == "assumption"
    assert "= 2.5 * per_visit" in rows.loc["figures.five", "note"]
    lines = prepared.path.read_text(encoding="utf-8").splitlines()
    assert lines[int(rows.loc["figures.per_visit", "line"]) - 1].startswith("  per_visit:")


@pytest.mark.parametrize(("changes", "fragment", "at"), [
    ({"visit": "visit_cots"}, "unknown figure 'visit_cots'; did you mean 'visit_cost'?",
     "unit_cost: visit_cots"),
    ({"per_response": '"0.5 * fiv"'}, "unknown figure 'fiv'; did you mean 'five'?", "0.5 * fiv"),
    ({"budget": "visit_cost"}, "figure 'visit_cost' has a range (15 to 30), and "
     "streams.council_budget.budget takes none", "budget: visit_cost"),
    ({"figures": FIGURES + "\n  visit_cost: 25"}, "figure 'visit_cost' is defined twice",
     "visit_cost: 25"),
    ({"figures": FIGURES.replace('"2.5 * per_visit"', '"2.5 * per_visit * six"')
      + "\n  six: {value: five}"}, "figures go round in a circle: five -> six -> five",
     "five: {value"),
    ({"figures": FIGURES + "\n  bad: {value: 3, low: 4, high: 5}"},
     "the range must hold the value: low 4 <= value 3 <= high 5", "bad:"),
    ({"figures": FIGURES + "\n  bad: {value: 3, low: 1}"}, "a range needs both low and high",
     "bad:"),
    ({"figures": FIGURES + "\n  bad: {valeu: 3}"}, "unknown field 'valeu' of a figure; did "
     "you mean 'value'?", "bad:"),
    ({"figures": FIGURES + "\n  per_response: {value: 2, override: true}"},
     "no library defines 'per_response', so there is nothing to override", "per_response:"),
])
def test_bad_figures_are_located(tmp_path: Path, changes: dict[str, object], fragment: str,
                                 at: str) -> None:
    path = place(tmp_path, **changes)
    message = problem(path)
    assert fragment in message
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if at in text)
    assert f"line {line}," in message


def test_an_unquoted_product_reads_as_a_product(tmp_path: Path) -> None:
    result = run(place(tmp_path, budget="1000 * per_visit"), ranges=False)
    assert result.instance.streams["council_budget"].budget == 2000


def test_a_library_and_the_instance_may_not_both_define_a_figure_unless_told(
        tmp_path: Path) -> None:
    twice = FIGURES + "\n  response_cost: {value: 30, source: mine}"
    message = problem(place(tmp_path, figures=twice))
    assert "defined twice: here and in" in message and "costs.yaml, line 3" in message
    told = FIGURES + "\n  response_cost: {value: 31, source: mine, override: true}"
    result = run(place(tmp_path, figures=told), ranges=False)
    assert result.instance.interventions["rapid_response"].unit_cost == 31


def test_a_product_without_figures_names_the_missing_one(tmp_path: Path) -> None:
    path = place(tmp_path, figures="", visit=20, response=30, per_visit=2,
                 per_response='"2.5 * per_visit"')
    assert "unknown figure 'per_visit'; none are defined" in problem(path)


def test_bad_figures_exit_2_with_one_message(tmp_path: Path) -> None:
    path = place(tmp_path, visit="visit_cots")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "did you mean 'visit_cost'" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_a_ranged_figure_is_drawn_once_a_draw_for_every_use(tmp_path: Path) -> None:
    # Both interventions cost a visit_cost each (the response 1.5 of them): in every
    # draw the two unit costs move together, 1 : 1.5, and the draws have one figure.
    path = place(tmp_path, response='"1.5 * visit_cost"')
    result = run(path, ranges=False)
    plan = make_plan(result)
    assert [f.label for f in plan.figures] == ["figures.visit_cost"]
    scenario = plan.scenarios[0]
    seen = set()
    for d in range(20):
        u = draw_uniforms(3, [f.label for f in plan.figures], 1, first=d)[0]
        cost = sample_place(scenario.data, scenario.slots, u).cost
        assert cost[1, 0] == pytest.approx(1.5 * cost[0, 0], rel=1e-12)
        assert (cost[:, 0] == cost[:, 1]).all()  # one figure for every year
        assert 15 <= cost[0, 0] <= 30
        seen.add(round(float(cost[0, 0]), 9))
    assert len(seen) == 20


def test_a_figures_table(tmp_path: Path) -> None:
    (tmp_path / "figures.csv").write_text(
        "name,value,low,high,source\n"
        "visit_cost,20,15,30,reference costs\n"
        "response_cost,\"£30\",,,tender\n"
        "per_visit,2,,,trial\n"
        "five,2.5 * per_visit,,,derived\n", encoding="utf-8")
    path = place(tmp_path, figures="figures: figures.csv")
    result = run(path, ranges=False)
    assert [s.objective for s in result.scenarios] == pytest.approx([-740, -740], abs=1e-6)
    assert result.prepared.source.figures["visit_cost"].low == 15
    (tmp_path / "figures.csv").write_text(
        "name,value,low,high,source\nvisit_cost,20,15,30,x\nvisit_cost,2,,,y\n",
        encoding="utf-8")
    message = problem(path)
    assert "figures.csv, row 3" in message and "defined twice" in message


def test_spreadsheet_cells_may_name_figures(tmp_path: Path) -> None:
    (tmp_path / "interventions.csv").write_text(
        "id,agency,unit_cost,max_units,effect.admissions_avoided\n"
        "home_visits,council,visit_cost,,per_visit\n"
        "rapid_response,council,response_cost,10,five\n", encoding="utf-8")
    text = place(tmp_path).read_text(encoding="utf-8")
    head, _, rest = text.partition("interventions:\n")
    path = tmp_path / "place.yaml"
    path.write_text(head + "interventions: interventions.csv\noutcomes:\n"
                    + rest.partition("outcomes:\n")[2], encoding="utf-8")
    result = run(path, ranges=False)
    assert [s.objective for s in result.scenarios] == pytest.approx([-740, -740], abs=1e-6)
    (tmp_path / "interventions.csv").write_text(
        "id,agency,unit_cost,max_units,effect.admissions_avoided\n"
        "home_visits,council,visit_cots,,per_visit\n", encoding="utf-8")
    message = problem(path)
    assert "interventions.csv, row 2, column C (unit_cost)" in message
    assert "did you mean 'visit_cost'" in message


BOURNEMOUTH = Path(__file__).resolve().parents[1] / "instances" / "bournemouth-dorset-poole.yaml"


def test_shipped_bournemouth_uses_named_figures_and_keeps_its_objectives(tmp_path: Path) -> None:
    # The objectives the instance gave before its shared prices became named figures
    # (the same figures, written as numbers).
    before = {"ring_fenced": 15762797.386767944, "pooled": 16985170.043843463,
              "pooled_fair": 16572389.48767012, "half_pooled": 16851765.782443523,
              "virtual_wards_2024": 18448276.56327381}
    # Without the set-up costs, minimum scales, tiers and carry-over added since (issue 17).
    plain = yaml.safe_load(BOURNEMOUTH.read_text(encoding="utf-8"))
    for body in plain["interventions"].values():
        for key in ("setup_cost", "min_scale", "tiers"):
            body.pop(key, None)
    for body in plain["streams"].values():
        body.pop("carry_over", None)
    copy = tmp_path / BOURNEMOUTH.name
    copy.write_text(yaml.safe_dump(plain, sort_keys=False), encoding="utf-8")
    (tmp_path / "figures").mkdir()  # the shared prices, beside it as shipped
    (tmp_path / "figures" / "unit-costs.yaml").write_text(
        (BOURNEMOUTH.parent / "figures" / "unit-costs.yaml").read_text(encoding="utf-8"),
        encoding="utf-8")
    assert {s.name: s.objective for s in run(copy, ranges=False).scenarios} == pytest.approx(
        before, rel=1e-9)
    result = run(BOURNEMOUTH, ranges=False)
    source = result.prepared.source
    assert {"older_admission_2009_10", "older_admission_acute_net_loss_2009_10",
            "reablement_episode_2009_10", "nhs_dorset_share"} <= set(source.figures)
    uses = [use for use in source.uses.values() if "older_admission_2009_10" in use.names]
    assert len(uses) >= 8
    saving = result.instance.interventions["night_contact"].savings["dorset_pct"]
    assert saving == pytest.approx(1.5 * 2700 * 0.64)
    assert np.isclose(result.instance.outcomes["admissions_avoided"].value, 700)
