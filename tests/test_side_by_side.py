"""Scenarios solved side by side (`optimiser.pipeline.side_by_side`) give, to the bit, what
one after another gives; and the waves they are grouped in (`waves`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import optimiser.pipeline as pipeline
from optimiser.analyses.discounting import discount_sensitivity
from optimiser.pipeline import at_rate, prepare, rate_key, rated, run_prepared, waves
from optimiser.solving.highs import first_basis

DATA = Path(__file__).parent / "data"
TABLES = ("allocation", "funding", "outcomes", "agencies", "transfers", "cash")


def test_waves_keep_a_protected_reference_in_an_earlier_group() -> None:
    # no_worse_off.yaml (worked in the file): pooled_nwo protects ring_fenced's positions
    # and pooled_nwo_vs_pooled pooled's, so both wait for the first two, which need
    # nothing of each other; the two that wait need nothing of each other either.
    runs = prepare(DATA / "no_worse_off.yaml").runs
    assert [[r.name for r in wave] for wave in waves(runs)] == [
        ["ring_fenced", "pooled"], ["pooled_nwo", "pooled_nwo_vs_pooled"]]


def test_side_by_side_gives_what_one_after_another_gives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = prepare(DATA / "no_worse_off.yaml")
    serial = run_prepared(prepared)
    monkeypatch.setattr(pipeline, "SIDE_BY_SIDE_COLUMNS", 0)  # copies even for this place
    beside = run_prepared(prepared)
    # The hand-solved objectives (the file's comment): 120, 200, 160 and 200.
    assert [s.objective for s in beside.scenarios] == pytest.approx(
        [120, 200, 160, 200], rel=1e-9)
    for a, b in zip(serial.scenarios, beside.scenarios, strict=True):
        assert (a.name, a.status, a.objective, a.account) == (
            b.name, b.status, b.objective, b.account)
        assert a.extra.keys() == b.extra.keys()
        for kind in TABLES:
            pd.testing.assert_frame_equal(getattr(a, kind), getattr(b, kind), check_exact=True)
    # Both groups solved one scenario on a copy: the model the analyses re-solve is still
    # the place's one model, it holds the last scenario, and it keeps every scenario's
    # stage-1 basis in the order one after another keeps them.
    assert len(beside.models.models) == 1
    model = beside.models.models[0]
    assert all(s.model is model and s.lp is model.lp for s in beside.scenarios)
    assert model.loaded is beside.scenario("pooled_nwo_vs_pooled").data
    assert list(model.lp.first_bases) == list(serial.models.models[0].lp.first_bases)
    for s in beside.scenarios:
        assert s.data is not None
        model.load(s.data)
        assert first_basis(model.lp) is not None


def test_the_discount_rates_solved_beside_the_scenarios_are_what_a_run_at_that_rate_gives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # One year (t = 0, d_0 = 1 at any rate), so every rate gives the file's hand-solved
    # objectives: 120, 200, 160 and 200; each rate's no_worse_off scenarios protect the
    # positions of that rate's references.
    prepared = prepare(DATA / "no_worse_off.yaml")
    alone = {rate: run_prepared(at_rate(prepared, rate), ranges=False) for rate in (0.035, 0.015)}
    for side in (10**9, 0):  # without and with copies of the model
        monkeypatch.setattr(pipeline, "SIDE_BY_SIDE_COLUMNS", side)
        both = run_prepared(prepared, rates=[0.035, 0.015])
        assert list(both.at_rates) == ["0.035", "0.015"]
        for rate, solved in alone.items():
            entries = both.at_rates[rate_key(rate)]
            assert entries == {s.name: rated(s) for s in solved.scenarios}
            assert [e["objective"] for e in entries.values()] == pytest.approx(
                [120, 200, 160, 200], rel=1e-9)
        # The discount analysis reads them instead of solving again: the same entry.
        assert discount_sensitivity(both) == discount_sensitivity(run_prepared(prepared))
