"""The places of a roll-up solved side by side: the same totals, and the same files, in
this process, in two local processes and on a Dask cluster."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from gen import random_instance

from optimiser.pipeline import prepare_many
from optimiser.reports.write import write_json
from optimiser.rollup.places import solve_all
from optimiser.rollup.totals import POOLED, RING_FENCED, TOTAL, roll_up, totals


def places(tmp_path: Path) -> list[Path]:
    paths = []
    for seed in (1, 4, 9):
        path = tmp_path / f"place{seed}.yaml"
        place = random_instance(seed, n_agencies=3, n_streams=4, n_interventions=5, years=2)
        path.write_text(yaml.safe_dump(place, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def test_places_on_processes_and_dask_add_up_as_here(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    prepared = prepare_many(places(tmp_path))
    here, written, where = solve_all(prepared, ["shapley"], workers=1)
    assert where == "1 process" and written == {}
    two, files, where = solve_all(prepared, ["shapley"], workers=2, writers=[write_json])
    assert where == "2 local processes"
    # the scheduler's HTTP server on any free port: another cluster may hold 8787
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        dask, dask_files, where = solve_all(prepared, ["shapley"], 2,
                                            cluster.scheduler_address, writers=[write_json])
    assert where.startswith("Dask cluster")
    assert list(here) == list(two) == list(dask) == ["place1", "place4", "place9"]
    table = roll_up(here).table
    for other in (two, dask):
        pd.testing.assert_frame_equal(roll_up(other).table, table, check_exact=True)
        for stem, result in other.items():
            assert result.analyses == here[stem].analyses, stem
            assert [s.objective for s in result.scenarios] == [
                s.objective for s in here[stem].scenarios]
    # every place wrote its results.json in its worker, and the same bytes on both
    assert set(files) == set(dask_files) == {"place1", "place4", "place9"}
    for stem in files:
        assert list(files[stem]) == ["results.json"]
        assert files[stem] == dask_files[stem], stem
    # the totals are the places' own objectives added up
    rollup = roll_up(two)
    for role in (RING_FENCED, POOLED):
        own = [r.scenario(rollup.roles[stem][role]) for stem, r in two.items()]
        assert all(s.status == "optimal" for s in own)
        kind = next(iter(two.values())).instance.objective
        assert totals(rollup, role, "objective") == {
            kind: pytest.approx(sum(s.objective for s in own), rel=1e-12)}
    assert set(rollup.table["place"]) == {"place1", "place4", "place9", TOTAL}
