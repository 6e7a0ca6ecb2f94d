"""Kinds of agency: each kind's total position and its exact range among equally good plans
(results.json `kinds`), found by the solve rather than added up from the agencies' ranges."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import optimiser.solving.highs
from models.standard import MAXIMIZE, MINIMIZE, StandardForm
from optimiser.solving.highs import (
    _group_costs,
    _group_ranges,
    _optimise,
    constant_on_face,
    load_standard,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "tests"))

from solved import results_only  # noqa: E402


def _solved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certify: bool) -> tuple[
        dict[str, Any], list[list[str]]]:
    """kind_moves.yaml's results.json, with the certificate on or off, and the kinds whose
    range the LPs found."""
    solved: list[list[str]] = []
    ranges_of = optimiser.solving.highs._group_ranges_of

    def counted(lp: Any, hold: int, z: float, groups: list[str]) -> dict[str, Any]:
        solved.append(list(groups))
        return ranges_of(lp, hold, z, groups)

    monkeypatch.setattr(optimiser.solving.highs, "_group_ranges_of", counted)
    if not certify:
        monkeypatch.setattr(optimiser.solving.highs, "constant_on_face",
                            lambda lp, costs, seen=None: set())
    status, document = results_only(DATA / "kind_moves.yaml", tmp_path / str(certify))
    assert status == 0
    return document, solved


@pytest.mark.parametrize("certify", [True, False])
def test_a_kinds_range_is_exact_where_money_moves_between_its_agencies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certify: bool) -> None:
    # Worked in tests/data/kind_moves.yaml: council one pays f of the 100, council two
    # 100 - f, any f in [0, 100]; each council's position 60 - f or f - 40 lies in
    # [-40, 60] (a gain or a loss, depending on f), but their total is 120 - 100 = 20 on
    # every optimal plan. The PCT, alone of its kind, keeps 300.
    document, solved = _solved(tmp_path, monkeypatch, certify)
    for scenario in ("ring_fenced", "pooled"):
        s = document["scenarios"][scenario]
        assert s["objective"] == pytest.approx(320.0)
        for agency in ("one", "two"):
            entry = s["agencies"][agency]
            assert (entry["position_min"], entry["position_max"]) == (
                pytest.approx(-40.0), pytest.approx(60.0))
        councils = s["kinds"]["council"]
        assert councils["agencies"] == ["one", "two"]
        assert councils["position"] == pytest.approx(20.0)
        assert councils["position_min"] == pytest.approx(20.0, abs=1e-9)
        assert councils["position_max"] == pytest.approx(20.0, abs=1e-9)
        low = sum(s["agencies"][a]["position_min"] for a in ("one", "two"))
        high = sum(s["agencies"][a]["position_max"] for a in ("one", "two"))
        assert (low, high) == (pytest.approx(-80.0), pytest.approx(120.0))  # only a bound
        assert s["kinds"]["pct"] == {"agencies": ["pct"], "position": pytest.approx(300.0),
                                     "position_min": pytest.approx(300.0),
                                     "position_max": pytest.approx(300.0)}
    # Without the certificate the two LPs (min and max) of each scenario find the point.
    # With it, this place's stage-1 basis is degenerate (its funding row basic), so the
    # certificate cannot prove the sum and the same LPs run: at most those.
    assert solved == [["council"], ["council"]] or (certify and not solved)


def test_a_kinds_total_is_proven_constant_from_the_basis_without_an_lp() -> None:
    # max x1 + x2 subject to x1 + x2 <= 1 (0 <= x1, x2 <= 1): every point of the segment
    # from (1, 0) to (0, 1) is optimal. Agency 0's position is x1 - 0.5 (from -0.5 to 0.5,
    # crossing zero), agency 1's x2 - 0.5 likewise; the kind's total x1 + x2 - 1 is 0 on
    # the whole face. The reduced-cost test on the summed costs (1, 1) proves it (the
    # basis's reduced costs of the sum are those of the objective, 0 on the free column),
    # so the range is the plan's total without solving; neither agency alone is proven.
    lp = load_standard(StandardForm(
        columns=[("x", (1,)), ("x", (2,))], col_lower=np.zeros(2), col_upper=np.ones(2),
        rows=[("cap", (), 1)], rhs=np.ones(1), start=np.array([0, 1, 2], dtype=np.int32),
        index=np.zeros(2, dtype=np.int32), value=np.ones(2),
        costs={"objective": np.ones(2), "position_objective[0]": np.array([1.0, 0.0]),
               "position_objective[1]": np.array([0.0, 1.0])},
        senses={"objective": MAXIMIZE, "position_objective[0]": MINIMIZE,
                "position_objective[1]": MINIMIZE},
        offsets={"objective": 0.0, "position_objective[0]": -0.5,
                 "position_objective[1]": -0.5}))
    status, z, x, _ = _optimise(lp, "objective")
    assert status == "optimal" and z == pytest.approx(1.0)
    agencies = {n: lp.costs[n] for n in ("position_objective[0]", "position_objective[1]")}
    assert constant_on_face(lp, agencies) == set()
    summed = _group_costs(lp, {"council": [0, 1]}, set())
    assert constant_on_face(lp, summed) == {"group_position[council]"}
    found = _group_ranges(lp, -1, z, x, {"council": [0, 1]}, summed,
                          {"group_position[council]"}, {0: (-0.5, 0.5), 1: (-0.5, 0.5)})
    assert found == {"council": (pytest.approx(0.0, abs=1e-12),) * 2}
    assert "group_position[council]" not in lp.costs  # the objective is not left behind


def test_a_kind_whose_total_moves_is_ranged_by_the_lps(tmp_path: Path) -> None:
    # kind_moves.yaml with the PCT holding a budget fenced to prevention too (100):
    # the 100 of prevention is paid as f by council one, g by council two and
    # 100 - f - g by the PCT (any split is optimal, objective 320 as before). The
    # councils' total 120 - f - g then runs from 120 - 100 = 20 (the councils pay it all)
    # to 120 (the PCT pays it all); the PCT's position 300 - (100 - f - g) from 200 to 300.
    status, document = results_only(_pct_variant(tmp_path), tmp_path / "out")
    assert status == 0
    kinds = document["scenarios"]["ring_fenced"]["kinds"]
    assert (kinds["council"]["position_min"], kinds["council"]["position_max"]) == (
        pytest.approx(20.0), pytest.approx(120.0))
    assert (kinds["pct"]["position_min"], kinds["pct"]["position_max"]) == (
        pytest.approx(200.0), pytest.approx(300.0))
    assert np.isclose(kinds["council"]["position"] + kinds["pct"]["position"], 320.0)


def _pct_variant(tmp_path: Path) -> Path:
    """kind_moves.yaml with the PCT holding 100 fenced to prevention too."""
    text = (DATA / "kind_moves.yaml").read_text(encoding="utf-8")
    text = text.replace("interventions:", "  pct_budget: {agency: pct, budget: 100, "
                        "ring_fence: [prevention]}\ninterventions:")
    path = tmp_path / "kind_moves_pct.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_rollup_adds_each_places_exact_kind_range(tmp_path: Path) -> None:
    # Place A (kind_moves.yaml): in ring_fenced and pooled alike the councils' total is 20
    # on every optimal plan and the PCT's 300, so each kind's change against ring-fenced
    # lies in [20 - 20, 20 - 20] = [0, 0] (adding the two councils' ranges, each
    # [-40, 60], would give [-80 - 120, 120 + 80] = [-200, 200] instead).
    # Place B (the PCT also fenced to prevention, test above): the councils' total runs
    # over [20, 120] and the PCT's over [200, 300] in both scenarios, so B's councils'
    # change lies in [20 - 120, 120 - 20] = [-100, 100], its PCT's in [-100, 100] too.
    # Added up: councils [0 + -100, 0 + 100] = [-100, 100], PCTs the same; both plans
    # are the same (rule 3 on the same data), so each change is 0, which a range spanning
    # zero reads as 'could gain or lose', never as no change.
    from optimiser.pipeline import run
    from optimiser.rollup.totals import (
        POOLED,
        kind_change_ranges,
        kind_reading,
        roll_up,
        rollup_document,
        scenario_sentence,
    )

    rollup = roll_up({"a": run(DATA / "kind_moves.yaml"), "b": run(_pct_variant(tmp_path))})
    spread = kind_change_ranges(rollup, POOLED)
    assert spread["council"] == (pytest.approx(-100.0), pytest.approx(100.0))
    assert spread["pct"] == (pytest.approx(-100.0), pytest.approx(100.0))
    assert kind_reading(rollup, POOLED) == {"council": "either", "pct": "either"}
    only_a = roll_up({"a": run(DATA / "kind_moves.yaml"),
                      "a2": run(DATA / "kind_moves.yaml")})
    assert kind_change_ranges(only_a, POOLED)["council"] == (
        pytest.approx(0.0, abs=1e-9), pytest.approx(0.0, abs=1e-9))
    assert kind_reading(only_a, POOLED)["council"] == "none"
    entry = rollup_document(rollup)["scenarios"][POOLED]["vs_ring_fenced"]["agency_kinds"]
    assert (entry["council"]["net_min"], entry["council"]["net_max"]) == (
        pytest.approx(-100.0), pytest.approx(100.0))
    said = scenario_sentence(rollup, POOLED)
    assert said is not None
    assert "councils could gain or lose (-£100 to +£100)" in said
    assert "PCTs could gain or lose (-£100 to +£100)" in said


def test_the_rollup_kinds_chart_greys_a_change_that_could_be_either() -> None:
    # Councils +5 within [-100, 100] read 'either': grey, neither gain nor loss. PCTs -5
    # within [-7, -3] read 'loss': red. Police +2 within [1, 3] read 'gain': green.
    from types import SimpleNamespace

    import pandas as pd

    from optimiser.format import money
    from optimiser.reports import charts
    from optimiser.rollup.charts import rollup_kinds_chart

    kinds = pd.DataFrame({
        "scenario": ["pooled"] * 3, "kind": ["council", "pct", "police"],
        "name": ["councils", "PCTs", "police"], "change": [5.0, -5.0, 2.0],
        "change_min": [-100.0, -7.0, 1.0], "change_max": [100.0, -3.0, 3.0],
        "reads": ["either", "loss", "gain"]})
    story = SimpleNamespace(kinds=kinds, money=money)
    drawing = rollup_kinds_chart(story)  # type: ignore[arg-type]
    assert drawing is not None
    fills = {bar.values[1]: bar.attr("fill") for bar in drawing.of("bar")}
    assert fills == {5.0: charts.MUTED, -5.0: charts.LOSS, 2.0: charts.GAIN}
