"""One model per place, re-solves split in two, and the progress bar.
Nothing here times anything: the figures must be the same (the speed benchmark's smoke run
is tests/test_benchmarks.py)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console

import optimiser.analyses.prices
import optimiser.solving.highs
from models.pooling import build_model
from optimiser.analyses import ANALYSES, LABELS, run_analyses
from optimiser.pipeline import prepare, run, run_prepared
from optimiser.place.scenarios import place_data
from optimiser.progress import RunProgress
from optimiser.solving.highs import solve

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate_place  # noqa: E402


def place(tmp_path: Path, *size: int, seed: int = 0) -> Path:
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(generate_place(*size, seed=seed), sort_keys=False))
    return path


def test_scenarios_share_one_model_unless_overrides_change_its_data() -> None:
    # overrides.yaml: ring_fenced and pooled differ only in pooling (one model); the other
    # four each override the model's data (a max_units, a unit cost, a floor, a budget),
    # so each gets a model of its own: 5 in all.
    result = run(DATA / "overrides.yaml", ranges=False)
    model = {s.name: s.model for s in result.scenarios}
    assert model["ring_fenced"] is model["pooled"]
    assert model["ring_fenced"].lp is result.scenario("pooled").lp  # type: ignore[union-attr]
    assert len({id(m) for m in model.values()}) == len(result.models.models) == 5


@pytest.mark.parametrize("name", ["ringfence_vs_pooled.yaml", "pool_share.yaml",
                                  "no_worse_off.yaml", "transfers.yaml", "max_net_cost.yaml",
                                  "objective_cost.yaml", "lag.yaml", "target.yaml"])
def test_shared_model_solves_each_scenario_as_its_own_model_would(name: str) -> None:
    """Every scenario on the place's one model (pool caps and incentive rows switched)
    reaches the optimum, and the positions, of a model built for that scenario alone."""
    result = run(DATA / name)
    for s in result.scenarios:
        run_ = next(r for r in result.prepared.runs if r.name == s.name)
        positions = None
        if run_.scenario.incentives == "no_worse_off" and run_.reference is not None:
            positions = result.scenario(run_.reference).positions()
        alone = solve(build_model(place_data(run_, positions), implied_bounds=True))
        assert s.status == alone.status
        if alone.objective is not None:
            assert s.objective == pytest.approx(alone.objective, rel=1e-9, abs=1e-9)
            for a, (low, high) in alone.position_range.items():
                agency = s.agencies.iloc[a]
                assert agency["position_min"] == pytest.approx(low, rel=1e-7, abs=1e-6)
                assert agency["position_max"] == pytest.approx(high, rel=1e-7, abs=1e-6)


def test_re_solves_split_in_two_give_the_same_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ring-fence prices, Shapley shares and position ranges of a generated place, split
    in two (as a large place's are) and in one part, agree."""
    path = place(tmp_path, 4, 24, 60, 4, 3)
    monkeypatch.setattr(optimiser.solving.highs, "PARALLEL_WORK", 1)
    monkeypatch.setattr(optimiser.analyses.prices, "LIFT_SPLIT", 1)
    split = run(path)
    assert optimiser.solving.highs.parts(split.models.models[0].lp, 24) == 2
    run_analyses(split, ["ring_fence_prices", "shapley"])
    monkeypatch.setattr(optimiser.solving.highs, "PARALLEL_WORK", 10**18)
    monkeypatch.setattr(optimiser.analyses.prices, "LIFT_SPLIT", 10**18)
    whole = run(path)
    assert optimiser.solving.highs.parts(whole.models.models[0].lp, 24) == 1
    run_analyses(whole, ["ring_fence_prices", "shapley"])
    for key in ("ring_fence_prices", "shapley"):
        assert split.analyses[key].keys() == whole.analyses[key].keys()
    for stream, entry in whole.analyses["ring_fence_prices"].items():
        assert split.analyses["ring_fence_prices"][stream]["lift_gain"] == pytest.approx(
            entry["lift_gain"], rel=1e-9, abs=1e-6)
    for scenario, shares in whole.analyses["shapley"].items():
        assert split.analyses["shapley"][scenario] == pytest.approx(shares, rel=1e-9, abs=1e-6)
    for a, b in zip(split.scenarios, whole.scenarios, strict=True):
        assert np.allclose(a.agencies[["position_min", "position_max"]],
                           b.agencies[["position_min", "position_max"]], rtol=1e-9, atol=1e-6)


def test_small_models_are_not_split() -> None:
    result = run(DATA / "pool_share.yaml", ranges=False)
    assert optimiser.solving.highs.parts(result.models.models[0].lp, 1000) == 1


def test_progress_shows_each_stage_on_a_terminal_and_nothing_elsewhere() -> None:
    shown = io.StringIO()
    progress = RunProgress(Console(file=shown, force_terminal=True, width=100), after=0.0)
    progress.stage("Scenarios", 2)
    progress.advance(2)
    progress.stage("Ring-fence prices")
    progress.expect(3)
    progress.advance(3)
    progress.close()
    text = shown.getvalue()
    assert "Scenarios" in text and "2/2" in text
    assert "Ring-fence prices" in text and "3/3" in text

    quiet = io.StringIO()
    progress = RunProgress(Console(file=quiet, force_terminal=False), after=0.0)
    progress.stage("Scenarios", 2)
    progress.advance(2)
    progress.close()
    assert quiet.getvalue() == ""


def test_a_run_reports_its_progress_stages() -> None:
    seen: list[tuple[str, int]] = []

    class Recorder(RunProgress):
        def stage(self, description: str, total: int = 1) -> None:
            seen.append((description, total))

    result = run_prepared(prepare(DATA / "ringfence_vs_pooled.yaml"), progress=Recorder())
    run_analyses(result)
    assert [d for d, _ in seen] == ["Scenarios", *(LABELS[name] for name in ANALYSES)]
    assert "Settlement" in [d for d, _ in seen]
    assert seen[0] == ("Scenarios", 2)
