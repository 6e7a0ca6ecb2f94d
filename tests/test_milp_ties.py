"""Which services run among equally good plans is decided by rule, not by branch and bound
(README 'Figures chosen by rule', rules 2a to 2c; docs/contract.md, 'Figures that belong
to the place').

Hand-solved places with a genuine tie, each written in several orders: the same services
run and every figure of results.json agrees (`canonical.differences`); renaming the
services (their ids are part of the place) is what moves the choice. A generated place
whose figures moved with the order before these rules, in two other orders. Places of 26
choices (three blocks of rule 2c): one whose choices the certificate proves unique (no block
of 2c runs on its own), one it does not (2c decides), and that one above a lowered
SWITCH_LIMIT, whose positions are not decided and never read as gains or losses.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from canonical import differences
from gen import extended_instance
from positions import check_markdown, positions
from solved import results_only
from test_ordering import reordered

from optimiser.pipeline import prepare
from optimiser.place.scenarios import place_data
from optimiser.solving.placemodel import PlaceModel


def solved(instance: dict[str, Any], folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    code, document = results_only(path, folder / "out")
    assert code == 0
    return document


def in_orders(instance: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
    """results.json of `instance` as written, with every map reversed, and with only its
    interventions reversed; every figure of the three agrees."""
    only = copy.deepcopy(instance)
    only["interventions"] = dict(reversed(list(only["interventions"].items())))
    found = [solved(inst, tmp / name) for name, inst in (
        ("written", instance), ("reversed", reordered(instance, "reversed")),
        ("interventions", only))]
    for other in found[1:]:
        moved = differences(found[0], other)
        assert not moved, "\n".join(moved[:10])
    return found


WARD = {"agency": "nhs", "unit_cost": 10, "max_units": 100, "setup_cost": 300,
        "min_scale": 20, "savings": {"nhs": 15}}


def two_wards(first: str, second: str) -> dict[str, Any]:
    return {
        "name": "Two identical wards", "start_year": 2010, "years": 2, "discount_rate": 0.0,
        "objective": "net_benefit",
        "agencies": {"nhs": {"name": "NHS"}, "council": {"name": "Council"}},
        "streams": {"health": {"agency": "nhs", "budget": 700},
                    "care": {"agency": "council", "budget": 600}},
        "interventions": {first: dict(WARD), second: dict(WARD)},
        "outcomes": {},
        "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}},
    }


def test_identical_services_the_one_whose_id_sorts_first_runs(tmp_path: Path) -> None:
    # Two wards alike in every figure: 10 a unit, saving the NHS 15 (net 5), set-up 300 a
    # year, 20 to 100 units. Pooled, each year's 700 + 600 = 1,300 pays one ward's set-up
    # and 100 units: 100 * 5 - 300 = 200; both wards would pay 600 of set-up and leave 700
    # for 70 units: 70 * 5 - 600 < 0. So one ward a year, objective 2 * 200 = 400, and the
    # four plans (either ward, either year) are equally good. Rule 2: each pools the
    # council's 600 a year (the NHS's 700 pays inside its fence). Rule 2a: each commits
    # 600 of set-up; rule 2b: each runs 2 service-years. Rule 2c: the choices in the order
    # of the ids are (ward_a 2010, ward_a 2011, ward_b 2010, ward_b 2011), and the
    # greatest vector left is (1, 1, 0, 0): ward_a runs both years.
    # NHS: savings 15 * 200 = 3,000 less 1,400 spent = 1,600; council: -1,200.
    # Ring-fenced: the NHS's 700 buys set-up and 40 units, 40 * 5 - 300 < 0: nothing runs.
    for found in in_orders(two_wards("ward_a", "ward_b"), tmp_path):
        pooled = found["scenarios"]["pooled"]
        assert pooled["objective"] == pytest.approx(400.0, rel=1e-9)
        assert pooled["units"]["ward_a"] == pytest.approx([100.0, 100.0], abs=1e-9)
        assert pooled["units"]["ward_b"] == pytest.approx([0.0, 0.0], abs=1e-9)
        assert pooled["services"]["ward_a"]["runs"] == [True, True]
        assert pooled["services"]["ward_b"]["runs"] == [False, False]
        assert pooled["agencies"]["nhs"]["net"] == pytest.approx(1600.0, rel=1e-9)
        assert pooled["agencies"]["council"]["net"] == pytest.approx(-1200.0, rel=1e-9)
        assert found["scenarios"]["ring_fenced"]["objective"] == pytest.approx(0.0, abs=1e-9)
    # The ids decide: named so that ward_b sorts first, ward_b runs.
    renamed = solved(two_wards("ward_c", "ward_b"), tmp_path / "renamed")
    assert renamed["scenarios"]["pooled"]["units"]["ward_b"] == pytest.approx([100.0, 100.0])
    assert renamed["scenarios"]["pooled"]["units"]["ward_c"] == pytest.approx([0.0, 0.0])


def one_year(interventions: dict[str, Any], budget: float, **fields: Any) -> dict[str, Any]:
    return {"name": "One year", "start_year": 2010, "years": 1, "discount_rate": 0.0,
            "objective": "net_benefit", "agencies": {"nhs": {"name": "NHS"}},
            "streams": {"health": {"agency": "nhs", "budget": budget}},
            "interventions": interventions, "outcomes": {},
            "scenarios": {"as_written": {"pooling": False}}, **fields}


def test_least_set_up_cost_before_the_ids(tmp_path: Path) -> None:
    # With 1,500: ward_a (10 a unit, saves 17, set-up 500) runs 100 units for 1,500:
    # 100 * 7 - 500 = 200; ward_z (saves 15, set-up 300) 100 units for 1,300:
    # 100 * 5 - 300 = 200. Both would pay 800 of set-up and leave 700: at best
    # 70 * 7 - 800 < 0. Two equally good plans; rule 2a takes the one committing the
    # least set-up cost, ward_z (300 against 500), though rule 2c alone would take
    # ward_a. NHS: 1,500 saved less 1,300 spent = 200.
    instance = one_year({
        "ward_z": {**WARD, "setup_cost": 300, "savings": {"nhs": 15}},
        "ward_a": {**WARD, "setup_cost": 500, "savings": {"nhs": 17}}}, 1500)
    for found in in_orders(instance, tmp_path):
        plan = found["scenarios"]["as_written"]
        assert plan["objective"] == pytest.approx(200.0, rel=1e-9)
        assert plan["units"]["ward_z"] == pytest.approx([100.0], abs=1e-9)
        assert plan["units"]["ward_a"] == pytest.approx([0.0], abs=1e-9)
        assert plan["agencies"]["nhs"]["spend"] == pytest.approx(1300.0, rel=1e-9)


def test_fewest_services_run_before_money_is_spread(tmp_path: Path) -> None:
    # Two services alike: 10 a unit, saving 15, no set-up cost but at least 20 units where
    # they run, at most 100. 1,000 buys 100 units in any split (each 0 or at least 20):
    # every split is worth 100 * 5 = 500. Rule 2b runs the fewest services: one, with
    # 100 units; rule 2c: care_a, whose id sorts first (rule 3 alone, with both running,
    # would buy 50 of each).
    care = {"agency": "nhs", "unit_cost": 10, "max_units": 100, "min_scale": 20,
            "savings": {"nhs": 15}}
    instance = one_year({"care_b": dict(care), "care_a": dict(care)}, 1000)
    for found in in_orders(instance, tmp_path):
        plan = found["scenarios"]["as_written"]
        assert plan["objective"] == pytest.approx(500.0, rel=1e-9)
        assert plan["units"]["care_a"] == pytest.approx([100.0], abs=1e-9)
        assert plan["units"]["care_b"] == pytest.approx([0.0], abs=1e-9)


def test_a_band_is_opened_only_where_it_must_be(tmp_path: Path) -> None:
    # The cost objective: the least cost reaching 80 falls prevented. Falls classes prevent
    # 1 a unit in each of their first two bands of 50 (the same scale: the bands are
    # alike) and 0.5 after; walks prevent 1 a unit; both cost 5 a unit. Every plan with
    # 80 units between them, falls' in its first two bands, costs 400: equally good.
    # Falls' second band needs its choice open_2 (the cost objective does not fill bands
    # in order by itself). Rule 2b opens no band it need not: open_2 = 0, so falls buys
    # at most its first 50 units and walks the rest.
    instance = one_year({
        "falls": {"agency": "nhs", "unit_cost": 5, "max_units": 200,
                  "effects": {"prevented": 1},
                  "tiers": [{"units": 50, "scale": 1}, {"units": 50, "scale": 1},
                            {"scale": 0.5}]},
        "walks": {"agency": "nhs", "unit_cost": 5, "max_units": 200,
                  "effects": {"prevented": 1}}}, 1000,
        objective="cost", outcomes={"prevented": {"name": "Falls prevented", "target": 80}})
    for found in in_orders(instance, tmp_path):
        plan = found["scenarios"]["as_written"]
        assert plan["objective"] == pytest.approx(400.0, rel=1e-9)
        falls, walks = plan["units"]["falls"][0], plan["units"]["walks"][0]
        assert falls + walks == pytest.approx(80.0, rel=1e-9)
        assert falls <= 50.0 + 1e-9
    path = tmp_path / "written" / "place.yaml"
    data = place_data(prepare(path).runs[0])
    solution = PlaceModel.build(data).solve(data, ranges=False)
    assert set(solution.values["open"].values()) == {0.0}


def test_a_generated_place_in_other_orders(tmp_path: Path) -> None:
    """Set-up costs, minimum scales, tiers and carry-over on a generated place whose pooled
    positions moved with the order of its lists while branch and bound chose among
    equally good plans (the council's spend by 2,600 in one scenario)."""
    instance = extended_instance(28, n_agencies=3, n_streams=4, n_interventions=5, years=2)
    written = solved(instance, tmp_path / "written")
    for order in ("reversed", "shuffled"):
        other = solved(reordered(instance, order, 28), tmp_path / order)
        moved = differences(written, other)
        assert not moved, "\n".join(moved[:10])


THIRTEEN_YEARS = {"start_year": 2010, "years": 13, "discount_rate": 0.0,
                  "objective": "net_benefit", "outcomes": {}}


def set_up_tie() -> dict[str, Any]:
    """Thirteen years of the tie of `test_least_set_up_cost_before_the_ids`: 26 on/off
    choices (each ward in each year), three blocks of rule 2c."""
    return {"name": "Set-up tie", **THIRTEEN_YEARS, "agencies": {"nhs": {"name": "NHS"}},
            "streams": {"health": {"agency": "nhs", "budget": 1500}},
            "interventions": {"ward_z": {**WARD, "setup_cost": 300, "savings": {"nhs": 15}},
                              "ward_a": {**WARD, "setup_cost": 500, "savings": {"nhs": 17}}},
            "scenarios": {"as_written": {"pooling": False}}}


def whose_ward() -> dict[str, Any]:
    """Two wards alike but for who they save (the NHS's ward_a, the council's ward_b), each
    partner 650 a year, for thirteen years: 26 on/off choices."""
    return {"name": "Whose ward", **THIRTEEN_YEARS,
            "agencies": {"nhs": {"name": "NHS"}, "council": {"name": "Council"}},
            "streams": {"health": {"agency": "nhs", "budget": 650},
                        "care": {"agency": "council", "budget": 650}},
            "interventions": {"ward_a": {**WARD, "savings": {"nhs": 15}},
                              "ward_b": {**WARD, "agency": "council",
                                         "savings": {"council": 15}}},
            "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}}}


class Rules:
    """What `decide_switches` ran: each certificate's answer and rule 2c's later blocks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import optimiser.solving.highs as highs
        self.certificates: list[bool | None] = []
        self.blocks = 0
        only, stage = highs.only_choices, highs._switch_stage

        def certificate(*args: Any) -> bool | None:
            self.certificates.append(only(*args))
            return self.certificates[-1]

        def switch_stage(lp: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            self.blocks += name.endswith("_ids")
            return stage(lp, name, *args, **kwargs)

        monkeypatch.setattr(highs, "only_choices", certificate)
        monkeypatch.setattr(highs, "_switch_stage", switch_stage)


def test_unique_choices_are_certified_without_rule_2c(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each year as in test_least_set_up_cost_before_the_ids: ward_a or ward_z, 200 either
    # way, not both: 2^13 equally good sets of choices, objective 13 * 200 = 2,600. Rule
    # 2a keeps only ward_z in every year (13 * 300 of set-up against 200 more for each year
    # of ward_a), so after rule 2b (13 services run) one set is left. Rule 2c's blocks in
    # the order of the ids: (ward_a 2010-2021), (ward_a 2022, ward_z 2010-2020), (ward_z
    # 2021-2022); the first runs with rule 2b, and the certificate (no other choice of the
    # last 14 meets the rules) proves the rest: no block of rule 2c runs on its own.
    rules = Rules(monkeypatch)
    for found in in_orders(set_up_tie(), tmp_path):
        plan = found["scenarios"]["as_written"]
        assert plan["objective"] == pytest.approx(2600.0, rel=1e-9)
        assert plan["units"]["ward_z"] == pytest.approx([100.0] * 13, abs=1e-9)
        assert plan["units"]["ward_a"] == pytest.approx([0.0] * 13, abs=1e-9)
        assert plan["mip"]["choices"] == 26 and plan["mip"]["services_decided"] is True
    assert rules.certificates == [True] * 3 and rules.blocks == 0


def test_equally_good_choices_go_to_rule_2c(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pooled, each year's 1,300 runs one ward (100 units and its set-up: 1,500 saved for
    # 1,300, worth 200; both wards would lose, as in test_identical_services_...): ward_a
    # or ward_b, and either pools 650 (rules 2, 2a, 2b tie), so 2^13 sets of choices are
    # equally good. Rule 2c's first block (with rule 2b) runs ward_a in 2010-2021; the
    # certificate finds another set (ward_b in 2022), so blocks 2 and 3 run: ward_a in
    # 2022 too. NHS: 13 * (1,500 saved - 650 spent) = 11,050; council 13 * -650 = -8,450.
    # Ring-fenced, 650 buys the set-up and 35 units, 35 * 5 - 300 < 0: nothing runs.
    rules = Rules(monkeypatch)
    for found in in_orders(whose_ward(), tmp_path):
        pooled = found["scenarios"]["pooled"]
        assert pooled["objective"] == pytest.approx(2600.0, rel=1e-9)
        assert pooled["services"]["ward_a"]["runs"] == [True] * 13
        assert pooled["services"]["ward_b"]["runs"] == [False] * 13
        assert pooled["agencies"]["nhs"]["net"] == pytest.approx(11050.0, rel=1e-9)
        assert pooled["agencies"]["council"]["net"] == pytest.approx(-8450.0, rel=1e-9)
        assert pooled["mip"]["services_decided"] is True
        assert found["scenarios"]["ring_fenced"]["objective"] == pytest.approx(0.0, abs=1e-9)
    # each order: ring-fenced, where no ward runs (certified), and pooled (another set)
    assert sorted(rules.certificates, key=str) == [False] * 3 + [True] * 3
    assert rules.blocks == 2 * 3


def test_above_the_limit_positions_are_not_decided(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above SWITCH_LIMIT rule 2c runs its first block only. The wards of
    `test_equally_good_choices_go_to_rule_2c` (26 choices) with the limit at 25: the
    certificate finds another set, so which services run is not decided; ward_b in every
    year would leave the NHS -8,450 and the council +11,050, so neither position is called
    a gain or a loss, in results.json, the tables' words, the who-gains sentence and the
    headline. The set-up tie (26 choices) is certified unique, so decided all the same."""
    import optimiser.solving.highs as highs
    from optimiser.pipeline import run
    from optimiser.reports.story import NOT_DECIDED, reads_as, tell, who_gains
    from optimiser.reports.write import results_document, write_documents

    monkeypatch.setattr(highs, "SWITCH_LIMIT", 25)
    unique = solved(set_up_tie(), tmp_path / "unique")["scenarios"]["as_written"]
    assert unique["mip"]["services_decided"] is True
    assert unique["units"]["ward_z"] == pytest.approx([100.0] * 13, abs=1e-9)
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(whose_ward(), sort_keys=False), encoding="utf-8")
    result = run(path)
    pooled = results_document(result)["scenarios"]["pooled"]
    assert pooled["objective"] == pytest.approx(2600.0, rel=1e-9)
    assert pooled["services"]["ward_a"]["runs"][:12] == [True] * 12  # rule 2c's first block
    assert pooled["mip"] == {**pooled["mip"], "choices": 26, "services_decided": False}
    assert "which services run is not decided" in pooled["message"]
    assert "at most 25 on/off choices; this one has 26" in pooled["message"]
    story = tell(result, {})
    rows = story.gains[story.gains["scenario"] == "pooled"].set_index("agency")
    for agency in ("nhs", "council"):
        r = rows.loc[agency]
        assert reads_as(story, r.gain, r.gain_low, r.gain_high, 1e-6) == NOT_DECIDED
    said = " ".join(who_gains(story))
    assert "NHS gains" not in said and "Council loses" not in said
    assert "Which services run is not decided against ring_fenced" in said
    assert "Which services run is not decided in pooled" in story.headline.sentence
    (tmp_path / "out").mkdir()
    write_documents(result, tmp_path / "out", ("md",))
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    table = [line for line in summary.splitlines() if line.startswith(("| NHS |", "| Council |"))]
    assert len(table) == 2 and all(line.endswith(f"| {NOT_DECIDED} |") for line in table)
    assert not any(f"{who} {verb}" in summary for who in ("NHS", "Council")
                   for verb in ("gains", "loses"))
    document = results_document(result)  # tests/positions.py reads it apart from the reports
    assert [p.decided for p in positions(document)] == [False, False]
    assert not check_markdown(summary, document, {"nhs": "NHS", "council": "Council"})
