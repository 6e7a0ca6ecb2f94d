"""Set-up costs, minimum scales, tiers and carried-over money (docs/contract.md, the
section of that name), through the command line.

Hand-solved places (the working in comments), generated places against the independent
MILP in `reference_milp.py` (statuses and objectives to 1e-5 relative, every reported
plan keeping every constraint), and places without the fields giving today's LP exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from gen import extended_instance, random_instance
from reference_milp import check_extended_plan, objective_of_plan, solve_milp_reference
from test_against_reference import run_cli

from models.data import is_mixed_integer, tiers_fill_in_order
from models.pooling import build_model
from optimiser.pipeline import prepare
from optimiser.place.scenarios import place_data
from optimiser.solving.highs import compile_lp

REL = 1e-5


def place(**fields: Any) -> dict[str, Any]:
    """A one-agency, one-stream, one-year place (no discounting) with `fields` merged in."""
    base: dict[str, Any] = {
        "name": "Hand-solved", "start_year": 2010, "years": 1, "discount_rate": 0.0,
        "objective": "net_benefit",
        "agencies": {"nhs": {"name": "NHS"}},
        "streams": {"health": {"agency": "nhs", "budget": 1000}},
        "interventions": {}, "outcomes": {},
        "scenarios": {"as_written": {"pooling": False}},
    }
    for key, value in fields.items():
        base[key] = value
    return base


def solved(instance: dict[str, Any], tmp: Path) -> tuple[int, dict[str, Any]]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    code, results = run_cli(path, tmp / "out")
    return code, results["scenarios"]


def test_setup_cost_decides_whether_a_service_runs(tmp_path: Path) -> None:
    # Virtual ward: 10 a unit, saves the NHS 14 a unit (net 4), set-up 300, at most 100.
    # With 1000: running costs 300, leaving 700 for 70 units: 70 * 4 - 300 = -20 < 0,
    # so it does not run (objective 0). The LP relaxation (y = x / 100) would buy
    # 1000 / 13 = 76.9 units and claim 76.9: the binary matters.
    # Set-up 200: 800 buys 80 units, 80 * 4 - 200 = 120 > 0: it runs, objective 120.
    instance = place(
        interventions={"ward": {"agency": "nhs", "unit_cost": 10, "max_units": 100,
                                "setup_cost": 300, "savings": {"nhs": 14}}},
        scenarios={"as_written": {"pooling": False},
                   "cheaper": {"pooling": False,
                               "overrides": {"interventions.ward.setup_cost": 200}}})
    code, got = solved(instance, tmp_path)
    assert code == 0
    assert got["as_written"]["objective"] == pytest.approx(0.0, abs=1e-6)
    assert got["as_written"]["units"]["ward"] == [0.0]
    assert got["as_written"]["services"]["ward"]["runs"] == [False]
    assert got["cheaper"]["objective"] == pytest.approx(120.0, rel=1e-9)
    assert got["cheaper"]["units"]["ward"] == pytest.approx([80.0])
    assert got["cheaper"]["services"]["ward"] == {
        "runs": [True], "setup_cost": [200.0], "setup_paid_by": {"health": [200.0]}}
    assert got["cheaper"]["agencies"]["nhs"]["spend"] == pytest.approx(1000.0)
    assert got["as_written"]["mip"]["proven_optimal"] is True


def test_min_scale(tmp_path: Path) -> None:
    # Night-time contact: 10 a unit, saves 15 (net 5), runs at 120 units or not at all.
    # 1000 buys 100 units < 120: it cannot run, objective 0 (the LP without the scale: 500).
    # With min_units 1 it must run and cannot: infeasible (exit 1).
    # With a budget of 1500: 150 units, 150 * 5 = 750.
    instance = place(
        interventions={"night": {"agency": "nhs", "unit_cost": 10, "min_scale": 120,
                                 "savings": {"nhs": 15}}},
        scenarios={"as_written": {"pooling": False},
                   "must_run": {"pooling": False,
                                "overrides": {"interventions.night.min_units": 1}},
                   "richer": {"pooling": False,
                              "overrides": {"streams.health.budget": 1500}}})
    code, got = solved(instance, tmp_path)
    assert code == 1
    assert got["as_written"]["objective"] == pytest.approx(0.0, abs=1e-6)
    assert got["must_run"]["status"] == "infeasible"
    assert got["must_run"]["diagnosis"], "the elastic re-solve names what falls short"
    assert got["must_run"]["diagnosis"][0]["constraint"] == "min_units"
    assert got["richer"]["objective"] == pytest.approx(750.0, rel=1e-9)
    assert got["richer"]["units"]["night"] == pytest.approx([150.0])


def test_tiers_fill_in_order(tmp_path: Path) -> None:
    # Falls exercise: 5 a unit; the first 50 units a year save the NHS 8 each (scale 1),
    # the next 50 4 each (scale 0.5), the rest 0.8 (scale 0.1). Net: +3, -1, -4.2 a unit,
    # so it buys exactly the first band: 50 units, 150 (the LP fills in order by itself:
    # every saving is positive and valued).
    # Cost objective with a target of 60 falls avoided (1 a unit, scaled): the first band
    # gives 50, the second 0.5 a unit, so 20 more units: 70 units, cost 350 (binaries
    # order the bands here, as the cost objective does not see them).
    tiers = [{"units": 50, "scale": 1}, {"units": 50, "scale": 0.5}, {"scale": 0.1}]
    falls = {"agency": "nhs", "unit_cost": 5, "max_units": 300, "tiers": tiers,
             "savings": {"nhs": 8}, "effects": {"falls": 1}}
    code, got = solved(place(interventions={"falls": falls},
                             outcomes={"falls": {"name": "Falls avoided"}}), tmp_path / "a")
    assert code == 0
    plan = got["as_written"]
    assert plan["objective"] == pytest.approx(150.0, rel=1e-9)
    assert plan["bands"]["falls"] == [[50.0], [0.0], [0.0]]
    assert plan["agencies"]["nhs"]["savings"] == pytest.approx(400.0)
    assert plan["outcomes"]["falls"] == pytest.approx([50.0])

    code, got = solved(place(objective="cost", interventions={"falls": falls},
                             outcomes={"falls": {"name": "Falls avoided", "target": 60}}),
                       tmp_path / "b")
    assert code == 0
    plan = got["as_written"]
    assert plan["objective"] == pytest.approx(350.0, rel=1e-9)
    assert plan["units"]["falls"] == pytest.approx([70.0])
    assert np.allclose(plan["bands"]["falls"], [[50.0], [20.0], [0.0]], rtol=1e-9, atol=1e-9)
    assert plan["outcomes"]["falls"] == pytest.approx([60.0])


def test_carry_over_shifts_money_a_year(tmp_path: Path) -> None:
    # Two years, no discounting, 100 a year. Reablement costs 50 a unit in 2010 and 10 in
    # 2011, and saves 20 a unit: not worth buying in 2010 (-30), worth it in 2011 (+10).
    # Without carry-over: 10 units in 2011, objective 100. Carrying 2010's 100 into 2011:
    # 200 buys 20 units, objective 200, and 100 is reported carried out of 2010.
    # Pooled with pool_share 0.5 and an empty fence (both services outside it): each year
    # only 50 of that year's own budget may leave the fence, and the carried money keeps
    # its ring-fence, so pooling buys 5 units in 2011 (of either service): 50.
    instance = place(
        years=2,
        agencies={"nhs": {"name": "NHS"}, "council": {"name": "Council"}},
        streams={"health": {"agency": "nhs", "budget": 100, "carry_over": True,
                            "pool_share": 0.5}},
        interventions={"reablement": {"agency": "nhs", "unit_cost": [50, 10],
                                      "savings": {"nhs": 20}},
                       "outside": {"agency": "council", "unit_cost": [50, 10],
                                   "savings": {"council": 20}}},
        scenarios={"carried": {"pooling": False},
                   "not_carried": {"pooling": False,
                                   "overrides": {"streams.health.carry_over": False}},
                   "pooled_outside": {"pooling": True, "overrides": {
                       "streams.health.ring_fence": []}}})
    code, got = solved(instance, tmp_path)
    assert code == 0
    assert got["carried"]["objective"] == pytest.approx(200.0, rel=1e-9)
    assert got["carried"]["units"]["reablement"] == pytest.approx([0.0, 20.0], abs=1e-9)
    assert got["carried"]["carried"]["health"] == pytest.approx([100.0, 0.0], abs=1e-9)
    assert got["carried"]["agencies"]["nhs"]["spend"] == pytest.approx(200.0)
    assert got["not_carried"]["objective"] == pytest.approx(100.0, rel=1e-9)
    assert got["pooled_outside"]["objective"] == pytest.approx(50.0, rel=1e-9)
    bought = np.add(got["pooled_outside"]["units"]["outside"],
                    got["pooled_outside"]["units"]["reablement"])
    assert bought == pytest.approx([0.0, 5.0], abs=1e-9)


GENERATED = range(10)


@pytest.mark.slow
@pytest.mark.parametrize("seed", GENERATED)
def test_against_independent_milp(seed: int, tmp_path: Path) -> None:
    instance = extended_instance(seed, n_interventions=5, years=2)
    code, tool = solved(instance, tmp_path)
    positions = {n: {a: e["savings"] - e["spend"] for a, e in s["agencies"].items()}
                 for n, s in tool.items() if s["status"] == "optimal"}
    want = solve_milp_reference(instance, reference_positions=positions)
    failures = []
    for name, expected in want.items():
        got = tool[name]
        if expected.get("reference_unsolved"):
            assert got["status"] != "optimal", name
            continue
        if got["status"] != expected["status"]:
            failures.append(f"{name}: {got['status']}, reference {expected['status']}")
            continue
        if expected["status"] != "optimal":
            continue
        if abs(got["objective"] - expected["objective"]) > REL * max(1.0, abs(
                expected["objective"])):
            failures.append(f"{name}: objective {got['objective']}, reference "
                            f"{expected['objective']}")
        mine = objective_of_plan(instance, name, got)
        if abs(mine - got["objective"]) > REL * max(1.0, abs(mine)):
            failures.append(f"{name}: reported objective {got['objective']}, its plan's {mine}")
        failures += [f"{name}: {p}" for p in check_extended_plan(instance, name, got)]
        assert got["mip"]["proven_optimal"] if "mip" in got else True
    assert code == (0 if all(s["status"] == "optimal" for s in tool.values()) else 1)
    assert not failures, "\n".join(failures)


def test_generated_places_use_every_field() -> None:
    """The generated places above do exercise what they test."""
    seen = {"setup_cost": 0, "min_scale": 0, "tiers": 0, "carry_over": 0}
    for seed in GENERATED:
        instance = extended_instance(seed, n_interventions=5, years=2)
        for body in [*instance["interventions"].values(), *instance["streams"].values()]:
            for key in seen:
                seen[key] += key in body
    assert all(n >= 5 for n in seen.values()), seen


def _compiled(path: Path) -> list[Any]:
    prepared = prepare(path)
    out = []
    for run in prepared.runs:
        if run.scenario.incentives == "no_worse_off":
            continue
        lp = compile_lp(build_model(place_data(run)))
        model = lp.highs.getLp()
        out.append((lp.columns, lp.rows, lp.costs, np.asarray(model.col_lower_),
                    np.asarray(model.col_upper_), np.asarray(model.row_lower_),
                    np.asarray(model.row_upper_), np.asarray(model.a_matrix_.value_),
                    np.asarray(model.a_matrix_.index_), len(lp.integer)))
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_without_the_fields_the_lp_is_unchanged(seed: int, tmp_path: Path) -> None:
    """Writing the fields at their defaults (no set-up cost, no minimum scale, no carry-over,
    no tiers) compiles to exactly the LP of a place without them, and the same results."""
    plain = random_instance(seed, n_interventions=5, years=2)
    neutral = json.loads(json.dumps(plain))
    for body in neutral["interventions"].values():
        body["setup_cost"] = 0
        body["min_scale"] = 0
    for body in neutral["streams"].values():
        body["carry_over"] = False
    files = []
    for name, inst in (("plain", plain), ("neutral", neutral)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(inst, sort_keys=False), encoding="utf-8")
        files.append(path)
    a, b = _compiled(files[0]), _compiled(files[1])
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x[0] == y[0] and x[1] == y[1] and x[-1] == y[-1] == 0
        assert set(x[2]) == set(y[2]) and all(np.array_equal(x[2][k], y[2][k]) for k in x[2])
        for u, v in zip(x[3:-1], y[3:-1], strict=True):
            assert np.array_equal(u, v)
    outs = []
    for path in files:
        _, results = run_cli(path, tmp_path / f"out-{path.stem}")
        results["instance"].pop("file")
        results["instance"].pop("sha256")
        outs.append(json.dumps(results, sort_keys=True))
    assert outs[0] == outs[1]


def test_binaries_only_where_needed(tmp_path: Path) -> None:
    """Tiers whose savings are all gains and valued need no binaries; a cost objective, or a
    saving that is a loss, does."""
    tiers = [{"units": 50, "scale": 1}, {"scale": 0.5}]
    falls = {"agency": "nhs", "unit_cost": 5, "max_units": 300, "tiers": tiers,
             "savings": {"nhs": 8}}
    cases = [({}, False), ({"objective": "cost"}, True)]
    loss = dict(falls, savings={"nhs": 8, "council": -1})
    for fields, binaries in [*cases, ({"interventions": {"falls": loss}}, True)]:
        inst = place(**{"interventions": {"falls": falls},
                        "agencies": {"nhs": {"name": "NHS"}, "council": {"name": "Council"}},
                        **fields})
        path = tmp_path / "p.yaml"
        path.write_text(yaml.safe_dump(inst, sort_keys=False), encoding="utf-8")
        data = place_data(prepare(path).runs[0])
        assert is_mixed_integer(data) == binaries, fields
        assert bool(tiers_fill_in_order(data)[0]) != binaries
        assert (len(compile_lp(build_model(data)).integer) > 0) == binaries


def _cli(path: Path, out: Path, *options: str) -> tuple[int, dict[str, Any]]:
    from optimiser.cli import main
    try:
        main([str(path), "--out", str(out), "--analyses", "none", *options])
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    return code, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_a_plan_stopped_early_says_it_is_not_proven(tmp_path: Path) -> None:
    """--mip-gap 0.9 lets HiGHS stop at its first good plan: 'feasible', its gap, exit 1;
    the plan still keeps every constraint. Without the option: proven optima, exit 0."""
    instance = extended_instance(27, n_agencies=4, n_streams=6, n_interventions=12, years=3)
    instance["scenarios"] = {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}}
    assert instance["objective"] == "net_benefit"
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    code, results = _cli(path, tmp_path / "gap", "--mip-gap", "0.9")
    stopped = {n: s for n, s in results["scenarios"].items() if s["status"] == "feasible"}
    assert stopped and code == 1
    for name, s in stopped.items():
        assert s["mip"]["proven_optimal"] is False and s["mip"]["gap"] > 1e-9
        assert "not proven optimal" in s["message"]
        assert "the rules that choose among equally good plans" in s["message"]
        assert s["objective"] <= s["mip"]["bound"] * (1 + 1e-9)  # net_benefit: maximised
        assert check_extended_plan(instance, name, s) == []
    code, results = _cli(path, tmp_path / "proven")
    assert code == 0
    for name, s in results["scenarios"].items():
        assert s["status"] == "optimal" and s["mip"]["proven_optimal"] is True
        if name in stopped:
            assert s["objective"] >= stopped[name]["objective"] - 1e-6 * abs(s["objective"])


def test_time_limit_without_a_plan(tmp_path: Path) -> None:
    """A time limit too short for any plan: no plan, status time_limit, exit 1."""
    instance = extended_instance(27, n_agencies=4, n_streams=6, n_interventions=12, years=3)
    instance["scenarios"] = {"pooled": {"pooling": True}}
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    code, results = _cli(path, tmp_path / "out", "--time-limit", "1e-9")
    assert code == 1
    s = results["scenarios"]["pooled"]
    assert s["status"] in ("time_limit", "feasible")
    assert s["status"] == "feasible" or s["objective"] is None


def test_shapley_and_ring_fence_prices_on_a_milp(tmp_path: Path) -> None:
    # Two years, no discounting. The council's social care (1,000 a year) may fund its falls
    # exercise (5 a unit; the first 50 units a year save the NHS 8 each, the next 50 4 each,
    # the rest 0.8: net +3, -1, -4.2); the NHS's health budget (500 a year) its virtual
    # ward (10 a unit, saves 15: net 5; set-up 300 a year; at least 20, at most 100 units).
    # Ring-fenced: falls 50 units a year (+150); 500 pays the set-up and 20 units of ward,
    # 20 * 5 - 300 < 0, so the ward does not run: 300 over the two years.
    # Pooled: falls 50 (250 a year), and 1,250 left for the ward: set-up 300 and 95 units,
    # 95 * 5 - 300 = 175 a year: 2 * (150 + 175) = 650; the gain is 350.
    # Shapley: the council's money alone makes the ward worth running (650), the NHS's
    # alone changes nothing (300): the council's share is 350, the NHS's 0.
    # Lifting the social care ring-fence alone gains the 350; the health one nothing.
    instance = {
        "name": "Hand-solved pooling game", "start_year": 2010, "years": 2,
        "discount_rate": 0.0, "objective": "net_benefit",
        "agencies": {"council": {"name": "Council"}, "nhs": {"name": "NHS"}},
        "streams": {"social_care": {"agency": "council", "budget": 1000},
                    "health": {"agency": "nhs", "budget": 500}},
        "interventions": {
            "ward": {"agency": "nhs", "unit_cost": 10, "max_units": 100, "setup_cost": 300,
                     "min_scale": 20, "savings": {"nhs": 15}},
            "falls": {"agency": "council", "unit_cost": 5, "max_units": 300,
                      "tiers": [{"units": 50, "scale": 1}, {"units": 50, "scale": 0.5},
                                {"scale": 0.1}], "savings": {"nhs": 8}}},
    }
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    from optimiser.cli import main
    try:
        main([str(path), "--out", str(tmp_path / "out"), "--analyses",
              "ring_fence_prices,shapley"])
    except SystemExit as stop:
        assert not stop.code
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["scenarios"]["ring_fenced"]["objective"] == pytest.approx(300.0)
    assert results["scenarios"]["pooled"]["objective"] == pytest.approx(650.0)
    assert results["shapley"]["pooled"] == pytest.approx({"council": 350.0, "nhs": 0.0})
    prices = results["ring_fence_prices"]
    assert prices["social_care"]["lift_gain"] == pytest.approx(350.0)
    assert prices["health"]["lift_gain"] == pytest.approx(0.0, abs=1e-6)
    assert all("set-up decisions" in p["marginal_value_basis"] for p in prices.values())


def test_draws_of_a_milp_place_point_to_the_committed_figures(tmp_path: Path) -> None:
    """Asking for draws of a place with set-up decisions says what the re-optimised draws
    cost and that the committed figures are the ones to read; an LP place says nothing."""
    from test_ordering import twin_wards

    from optimiser.cli import hindsight_note
    from optimiser.pipeline import run

    milp = tmp_path / "wards.yaml"
    milp.write_text(yaml.safe_dump(twin_wards(), sort_keys=False), encoding="utf-8")
    note = hindsight_note(run(milp), 1000)
    # Both scenarios have the wards' set-up binaries (ring-fenced as well as pooled).
    assert note.startswith("2 of the 2 scenarios have set-up decisions")
    assert "1,000 re-optimised (hindsight) draws" in note
    assert "uncertainty.<scenario>.committed" in note
    lp = tmp_path / "lp.yaml"
    lp.write_text(yaml.safe_dump(random_instance(3), sort_keys=False), encoding="utf-8")
    assert hindsight_note(run(lp), 1000) == ""
