"""Figures belong to the place: the same place written in another order gives the same
figures (docs/contract.md#figures-that-belong-to-the-place; README 'Figures chosen by
rule').

Each place is solved as written and as rewritten with its agencies, streams,
interventions and outcomes (and every ring-fence, effects and savings list inside them)
listed in another order, or with the rows of its spreadsheet tables shuffled; every
figure of results.json must agree to 1e-6 relative (`canonical.differences`: records
matched by their ids, lists of ids as sets). Before rule 3 (nearest to proportional
shares), Birmingham's police position moved by GBP 2.5m between two orders of the
same file.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from canonical import canonical, differences
from gen import random_instance
from test_committed import with_ranges

from optimiser.analyses import ANALYSES, run_analyses
from optimiser.analyses.uncertainty import run_uncertainty
from optimiser.inputs.tables import SECTIONS, table_rows
from optimiser.pipeline import prepare, run
from optimiser.place.scenarios import main_pooled
from optimiser.reports.write import results_document

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "instances").glob("*.yaml"))
MAPS = ("agencies", "streams", "interventions", "outcomes")


def reordered(instance: dict[str, Any], order: str, seed: int = 0) -> dict[str, Any]:
    """`instance` with its four maps, and the ring-fence lists and the effects and savings
    maps inside them, 'reversed' or 'shuffled' (seeded), and its scenarios reordered with
    their references written out (`_scenarios`); nothing else changes."""
    rng = random.Random(seed)

    def arrange(items: list[Any]) -> list[Any]:
        if order == "reversed":
            return items[::-1]
        items = list(items)
        rng.shuffle(items)
        return items

    out = dict(instance)
    for key in MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: _inner(v, arrange) for k, v in arrange(list(out[key].items()))}
    if isinstance(out.get("scenarios"), dict):
        out["scenarios"] = _scenarios(out["scenarios"], arrange)
    return out


def _scenarios(scenarios: dict[str, Any], arrange: Any) -> dict[str, Any]:
    """The scenarios in another order, each reference written out. Declared order means
    one thing (docs/contract.md): the first scenario with `pooling: false` is the place's
    reference, which a scenario without `reference:` compares with. So that one stays
    first, every other scenario names its reference, and the rest are reordered."""
    first = next((k for k, v in scenarios.items() if not (v or {}).get("pooling", False)),
                 None)
    explicit = {}
    for name, body in scenarios.items():
        body = dict(body or {})
        if first is not None and name != first:
            body.setdefault("reference", first)
        explicit[name] = body
    rest = arrange([k for k in explicit if k != first])
    return {k: explicit[k] for k in ([first] if first is not None else []) + rest}


def _inner(body: Any, arrange: Any) -> Any:
    if not isinstance(body, dict):
        return body
    body = dict(body)
    for key in ("effects", "savings"):
        if isinstance(body.get(key), dict):
            body[key] = dict(arrange(list(body[key].items())))
    if isinstance(body.get("ring_fence"), list):
        body["ring_fence"] = arrange(list(body["ring_fence"]))
    return body


def document(path: Path, analyses: list[str] | None = None, draws: int = 0
             ) -> dict[str, Any]:
    """results.json of the place at `path` with the `analyses` (all when None) and, with
    `draws`, that many draws (seed 3) and the tornado, without writing any report."""
    result = run(path)
    run_analyses(result, analyses)
    if draws:
        run_uncertainty(result, draws, 3, workers=1)
    return results_document(result)


def write(path: Path, instance: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(instance, sort_keys=False))
    return path


def assert_same(written: dict[str, Any], rewritten: dict[str, Any]) -> None:
    found = differences(written, rewritten)
    assert not found, f"{len(found)} figures depend on the order:\n" + "\n".join(found[:20])


def test_the_comparison_sees_a_moved_figure() -> None:
    doc = {"scenarios": {"pooled": {"agencies": {"a": {"net": 1.0}, "b": {"net": 2.0}},
                                    "transfers": [{"from": "a", "to": "b", "amount": 3.0}]}}}
    other = {"scenarios": {"pooled": {"agencies": {"b": {"net": 2.0}, "a": {"net": 1.0}},
                                      "transfers": [{"from": "a", "to": "b", "amount": 3.0}]}}}
    assert differences(doc, other) == []
    other["scenarios"]["pooled"]["transfers"][0]["amount"] = 3.00001
    assert len(differences(doc, other)) == 1
    other["scenarios"]["pooled"]["agencies"]["a"]["net"] = 1.0000001  # within 1e-6
    assert len(differences(doc, other)) == 1
    assert ("scenarios", "pooled", "agencies", "a", "net") in canonical(doc)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_places_in_reverse_order(tmp_path: Path, path: Path) -> None:
    instance = yaml.safe_load(path.read_text())
    if "figures_from" in instance:  # the libraries it draws on, wherever it is written
        instance["figures_from"] = [str(path.parent / f) for f in instance["figures_from"]]
    # The scenarios' figures on every place; the settlements (which depend on who gains)
    # on the largest. Shapley shares and ring-fence prices are optimal objective values,
    # tested in any order on the generated places.
    # The limits where the plan is degenerate (caps and budgets meeting at a corner) on
    # two places where that happens.
    analyses = (["settlement"] if path.stem == "birmingham" else
                ["limits"] if path.stem in ("worcestershire",
                                            "south-tyneside-gateshead-sunderland") else [])
    written = document(path, analyses)
    rewritten = document(write(tmp_path / path.name, reordered(instance, "reversed")),
                         analyses)
    assert_same(written, rewritten)


ORDERED_ANALYSES = list(ANALYSES)
"""Every analysis, `limits` included: its prices are the one-sided rates of the optimal
objective (unique however degenerate the plan), not whichever dual HiGHS's vertex gives."""


@pytest.mark.parametrize("seed", [1, 7, 19])
def test_generated_places_in_any_order(tmp_path: Path, seed: int) -> None:
    instance = random_instance(seed, n_agencies=4, n_streams=6, n_interventions=8)
    written = document(write(tmp_path / "written.yaml", instance), ORDERED_ANALYSES)
    for order in ("reversed", "shuffled"):
        rewritten = reordered(instance, order, seed)
        assert_same(written, document(write(tmp_path / f"{order}.yaml", rewritten),
                                      ORDERED_ANALYSES))


def test_spreadsheet_rows_in_any_order(tmp_path: Path) -> None:
    """The rows of every CSV table shuffled (the header stays first)."""
    instance = random_instance(5, n_agencies=4, n_streams=5, n_interventions=7)
    instance["start_year"] = 2010
    rng = random.Random(5)
    tabled = dict(instance)
    for section in [s for s in SECTIONS if s in instance]:
        rows = table_rows(section, instance[section], 2010)
        body = rows[1:]
        rng.shuffle(body)
        with (tmp_path / f"{section}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([rows[0], *body])
        tabled[section] = f"{section}.csv"
    written = document(write(tmp_path / "inline.yaml", instance), ORDERED_ANALYSES)
    assert_same(written, document(write(tmp_path / "tabled.yaml", tabled), ORDERED_ANALYSES))


@pytest.mark.parametrize(("seed", "order"), [(7, "shuffled"), (19, "reversed")])
def test_draws_in_any_order(tmp_path: Path, seed: int, order: str) -> None:
    """Committed and re-optimised draws and the tornado: each figure draws by its path
    (not its place in the file), and every re-optimised draw's plan is the decided one
    (rules 2 and 3), so positions, p_worse_off and the no_worse_off scenario's draws
    (which protect the reference's positions in the same draw) agree too. Before, 6 to
    10 of these figures moved with the order on each of these places."""
    instance = with_ranges(seed)
    instance["scenarios"] = {k: v for k, v in instance["scenarios"].items()
                             if k in ("ring_fenced", "pooled", "pooled_nwo")}
    written = document(write(tmp_path / "written.yaml", instance), [], draws=4)
    assert written["uncertainty"]["pooled_nwo"]["hindsight"]["compared"] > 0
    assert len(written["tornado"]["figures"]) >= 3
    rewritten = reordered(instance, order, seed)
    assert_same(written, document(write(tmp_path / f"{order}.yaml", rewritten), [], draws=4))


def twin_wards() -> dict[str, Any]:
    """A place with set-up costs whose optimum is a tie in every draw: two wards alike but
    for whom they save (ward_a the NHS, ward_b the council), both priced by one drawn
    figure, so which ward runs decides each agency's position."""
    ward = {"agency": "nhs", "unit_cost": "ward_price", "max_units": 100, "setup_cost": 300,
            "min_scale": 20}
    return {
        "name": "Twin wards", "start_year": 2010, "years": 2, "discount_rate": 0.0,
        "objective": "net_benefit",
        "figures": {"ward_price": {"value": 10, "low": 9, "high": 11,
                                   "assumption": "made up for the test"}},
        "agencies": {"nhs": {"name": "NHS"}, "council": {"name": "Council"}},
        "streams": {"health": {"agency": "nhs", "budget": 700},
                    "care": {"agency": "council", "budget": 600}},
        "interventions": {"ward_a": {**ward, "savings": {"nhs": 15}},
                          "ward_b": {**ward, "savings": {"council": 15}}},
        "outcomes": {},
        "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}},
    }


def test_draws_of_a_place_with_set_up_costs_in_any_order(tmp_path: Path) -> None:
    """Re-optimised draws of a MILP place decide which services run by rules 2 to 2c, as
    its central plan does. Pooled, at a unit cost c in [9, 11], one ward a year runs
    (its 300 set-up and up to 100 units from the two budgets' 1,300: at c = 11,
    1,000 / 11 = 90.9 units, (15 - 11) * 90.9 - 300 = 64 > 0; both wards would pay 600
    of set-up and leave 700: 700 / 9 * 6 - 600 < 0), and either ward is as good: the same
    money pooled (the council's 600 a year, rule 2), set-up (2a) and count (2b). Rule 2c
    runs ward_a, whose id sorts first, both years in every draw: the NHS gains and the
    council, which pays 600 a year for it, loses against ring-fencing (where nothing
    runs: 700 buys the set-up and 40 units, 40 * (15 - c) - 300 < 0). Left to branch and
    bound, the ward, so whether the NHS or the council is worse off in a draw, moved with
    the order the wards are written in."""
    instance = twin_wards()
    written = document(write(tmp_path / "written.yaml", instance), [], draws=3)
    hindsight = written["uncertainty"]["pooled"]["hindsight"]
    assert hindsight["compared"] == 3
    assert hindsight["p_worse_off"] == {"nhs": 0.0, "council": 1.0}
    for order in ("reversed", "interventions"):
        rewritten = (reordered(instance, order) if order == "reversed" else
                     {**instance, "interventions": dict(reversed(
                         list(instance["interventions"].items())))})
        assert_same(written, document(write(tmp_path / f"{order}.yaml", rewritten), [],
                                      draws=3))


def test_the_main_pooled_scenario_is_chosen_by_name_not_order(tmp_path: Path) -> None:
    """Two pooled scenarios alike (neither named 'pooled'): the headline's, the tornado's
    and the roll-up's scenario is the one whose name sorts first, however they are
    listed (before, the first listed)."""
    instance = random_instance(3, n_agencies=3, n_streams=4, n_interventions=4)
    for names in (["ring_fenced", "wide", "all_in"], ["ring_fenced", "all_in", "wide"]):
        instance["scenarios"] = {n: {"pooling": n != "ring_fenced"} for n in names}
        prepared = prepare(write(tmp_path / f"{names[1]}.yaml", instance))
        main = main_pooled(prepared.runs, names)
        assert main is not None and main.name == "all_in"
