"""The direct standard-form build (models/standard.py) is the Pyomo model's compiled LP,
exactly: the same columns and rows in the same order, the same coefficients, bounds,
right-hand sides, objective costs, senses and offsets, bit for bit. The run hands HiGHS
the direct build, so every figure depends on this equality."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from models.data import PlaceData
from models.pooling import build_model
from models.standard import _empty, build_standard_form, supports
from optimiser.errors import InstanceError
from optimiser.pipeline import prepare, run
from optimiser.place.scenarios import place_data
from optimiser.solving.highs import CompiledLP, compile_lp, load_standard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate_place  # noqa: E402

INSTANCES = sorted([*ROOT.glob("instances/*.yaml"), *ROOT.glob("tests/data/*.yaml"),
                    *ROOT.glob("tests/data/*/*.yaml")])


def _same(direct: CompiledLP, pyomo: CompiledLP) -> None:
    assert direct.columns == pyomo.columns
    assert direct.rows == pyomo.rows
    assert direct.n_rows == pyomo.n_rows
    a, b = direct.highs.getLp(), pyomo.highs.getLp()
    for name in ("col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.tobytes() == y.tobytes(), name
    for name in ("start_", "index_", "value_"):
        x = np.asarray(getattr(a.a_matrix_, name))
        y = np.asarray(getattr(b.a_matrix_, name))
        assert x.shape == y.shape and np.array_equal(x, y) and x.tobytes() == y.tobytes(), name
    assert list(direct.costs) == list(pyomo.costs)
    for name, cost in pyomo.costs.items():
        assert direct.costs[name].tobytes() == cost.tobytes(), name
    assert direct.senses == pyomo.senses
    assert direct.offsets == pyomo.offsets


def _models_of(path: Path) -> list[PlaceData]:
    """Each scenario's data as a place model builds it (pooled, no incentive rows)."""
    try:
        prepared = prepare(path)
    except InstanceError:
        return []
    out = []
    for r in prepared.runs:
        try:
            data = place_data(r, dict.fromkeys(r.instance.agencies, 0.0))
        except Exception:  # a scenario the pipeline itself rejects
            continue
        for pooling in (True, False):
            out.append(dataclasses.replace(
                data, pooling=pooling, reference=np.full(len(data.agencies), np.nan),
                transfers=False, reference_allowance=0.0))
    return out


def _check(data: PlaceData) -> None:
    assert supports(data)
    for implied in (True, False):
        direct = load_standard(build_standard_form(data, implied_bounds=implied))
        pyomo = compile_lp(build_model(data, implied_bounds=implied))
        _same(direct, pyomo)


MILP_FIELDS = ("setup_cost", "min_scale", "tiers", "carry_over")
"""PlaceData fields that make the model a MILP: such models are compiled from Pyomo."""


def _milp(data: PlaceData) -> bool:
    return any(not _empty(getattr(data, name, None)) for name in MILP_FIELDS)


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_direct_build_is_the_pyomo_models_compiled_lp(path: Path) -> None:
    """Every LP model of every instance is built directly, and equals Pyomo's; only MILP
    models (set-up costs, tiers, carried money) go to Pyomo's compiler."""
    for data in _models_of(path):
        assert supports(data) != _milp(data)
        if supports(data):
            _check(data)


@pytest.mark.parametrize("seed", range(6))
def test_direct_build_on_odd_generated_places(seed: int, tmp_path: Path) -> None:
    """Generated places with the corners the compiler must agree on: interventions that
    cost nothing, move no outcome or save nobody anything, streams without a fence,
    agencies with no stream, targets no intervention can move, floors, every objective."""
    rng = np.random.default_rng(seed)
    place = generate_place(3 + seed % 3, 5 + seed, 9 + 2 * seed, 3, 2 + seed % 3, seed=seed)
    items = list(place["interventions"])
    outcomes = list(place["outcomes"])
    place["objective"] = ["net_benefit", "outcomes", "cost"][seed % 3]
    for name in rng.choice(items, 3, replace=False):
        place["interventions"][name]["unit_cost"] = 0.0
        place["interventions"][name]["max_units"] = 10.0
    for name in rng.choice(items, 2, replace=False):
        place["interventions"][name]["effects"] = {}
        place["interventions"][name]["savings"] = {}
    first = next(iter(place["streams"]))
    place["streams"][first]["ring_fence"] = []
    agencies = list(place["agencies"])
    place["agencies"]["idle"] = {"name": "Idle", "max_net_cost": 1000.0}
    place["agencies"][agencies[0]]["max_net_cost"] = 5e5
    place["outcomes"][outcomes[0]]["target"] = 1.0
    place["outcomes"]["unmoved"] = {"name": "unmoved", "value": 1.0, "target": 0.0}
    if seed % 2:
        place["outcomes"]["unmoved"].pop("target")
    for name in items:
        effects = place["interventions"][name]["effects"]
        effects.pop("unmoved", None)
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(place, sort_keys=False))
    models = _models_of(path)
    assert models, "the generated place should be valid"
    met = set()
    for data in models:
        _check(data)
        form = build_standard_form(data)
        met |= {name for name, _ in form.columns} | {name for name, _, _ in form.rows}
    # the corners were there: a target nothing moves (even-numbered seeds), floors
    assert {"floor", "target", "x", "f", "p", "q"} <= met
    assert ("nothing" in met) == (seed % 2 == 0)


def test_the_run_uses_the_direct_build_and_its_figures_are_the_pyomo_builds() -> None:
    """A place's model is built directly; solving the Pyomo model's LP instead gives the
    same plan, bit for bit."""
    from optimiser.solving.placemodel import PlaceModel

    result = run(ROOT / "tests" / "data" / "ringfence_vs_pooled.yaml")
    pooled = result.scenario("pooled")
    assert pooled.model is not None and pooled.data is not None
    assert supports(pooled.model.data)
    again = PlaceModel.build(pooled.data)
    pyomo = compile_lp(build_model(pooled.model.data, implied_bounds=True))
    _same(again.lp, pyomo)
