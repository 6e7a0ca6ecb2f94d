"""--draws with several places: each place's committed plans added up draw by draw; the same
figures on one worker, two processes and a Dask cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from test_committed import with_ranges

from optimiser.cli import solve_places
from optimiser.rollup.draws import rollup_draws
from optimiser.rollup.totals import POOLED, RING_FENCED


def places(tmp_path: Path) -> list[Path]:
    paths = []
    for seed, kinds in ((3, ["council", "pct", "police"]), (11, ["council", "acute_trust",
                                                                  "fire"])):
        data = with_ranges(seed)
        data["objective"] = "net_benefit"
        for body, kind in zip(data["agencies"].values(), kinds, strict=False):
            body["kind"] = kind
        path = tmp_path / f"place{seed}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def test_rollup_draws_add_the_places_up_the_same_on_any_workers(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    paths = places(tmp_path)
    one = solve_places(paths, [], draws=20, seed=7, workers=1)
    entry = rollup_draws(one)
    assert entry is not None and entry["draws"] == 20
    part = entry["objectives"]["net_benefit"]
    assert part["places"] == ["place3", "place11"]
    # added up by hand from each place's committed plans, draw by draw
    total = {RING_FENCED: np.zeros(20), POOLED: np.zeros(20)}
    kinds: dict[str, dict[str, np.ndarray]] = {}
    for stem, result in one.places.items():
        u = result.uncertainty
        assert u is not None
        for role in total:
            evaluated = u.committed[one.roles[stem][role]]
            assert evaluated is not None
            total[role] = total[role] + evaluated.objective
            for n, a in enumerate(u.agencies):
                kind = result.instance.agencies[a].kind or "unclassified"
                kinds.setdefault(kind, {r: np.zeros(20) for r in total})
                kinds[kind][role] = kinds[kind][role] + evaluated.net[:, n]
    pays = total[POOLED] > total[RING_FENCED] + 1e-7 * np.maximum(1, abs(total[RING_FENCED]))
    assert part["p_pooling_pays"] == pays.mean()
    assert part["gain"]["mean"] == pytest.approx((total[POOLED] - total[RING_FENCED]).mean())
    assert set(part["agency_kinds"]) == set(kinds) >= {"council", "pct", "acute_trust"}
    for kind, parts in kinds.items():
        scale = np.maximum(1, np.maximum(abs(parts[POOLED]), abs(parts[RING_FENCED])))
        worse = parts[POOLED] < parts[RING_FENCED] - 1e-6 * scale
        assert part["agency_kinds"][kind]["p_worse_off"] == worse.mean(), kind
    two = solve_places(paths, [], draws=20, seed=7, workers=2)
    assert rollup_draws(two) == entry
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        dask = solve_places(paths, [], draws=20, seed=7, scheduler=cluster.scheduler_address)
    assert rollup_draws(dask) == entry
    for stem, result in dask.places.items():
        assert result.uncertainty is not None
        assert result.uncertainty.where.startswith("Dask")
        assert result.analyses["uncertainty"] == one.places[stem].analyses["uncertainty"]
