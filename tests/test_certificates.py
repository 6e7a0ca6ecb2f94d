"""Re-solves skipped where a dual certificate already knows the answer: the figures are those
of the re-solves themselves (the certificates are switched off to get those)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import optimiser.solving.highs
from models.standard import MAXIMIZE, MINIMIZE, StandardForm
from optimiser.analyses import prices, run_analyses
from optimiser.pipeline import run
from optimiser.solving.highs import CompiledLP, _optimise, constant_on_face, load_standard

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate_place  # noqa: E402


def _segment(first: float) -> CompiledLP:
    """max first * x1 + x2 subject to x1 + x2 <= 1, 0 <= x1, x2 <= 1 (objective 'objective'),
    with the objectives 'one' (x1) and 'both' (x1 + x2) to range over its optimal face."""
    return load_standard(StandardForm(
        columns=[("x", (1,)), ("x", (2,))], col_lower=np.zeros(2), col_upper=np.ones(2),
        rows=[("cap", (), 1)], rhs=np.ones(1), start=np.array([0, 1, 2], dtype=np.int32),
        index=np.zeros(2, dtype=np.int32), value=np.ones(2),
        costs={"objective": np.array([first, 1.0]), "one": np.array([1.0, 0.0]),
               "both": np.ones(2)},
        senses={"objective": MAXIMIZE, "one": MINIMIZE, "both": MINIMIZE},
        offsets={"objective": 0.0, "one": 0.0, "both": 0.0}))


def test_an_objective_is_proven_constant_only_where_the_optimal_face_keeps_it_so() -> None:
    # max x1 + x2 with x1 + x2 <= 1: every point of the segment from (1, 0) to (0, 1) is
    # optimal (z* = 1). On it x1 + x2 = 1 throughout, but x1 runs from 0 to 1: 'both' is
    # proven constant, 'one' is not (its range needs the two LPs).
    lp = _segment(1.0)
    assert _optimise(lp, "objective")[1] == pytest.approx(1.0)
    assert constant_on_face(lp, {n: lp.costs[n] for n in ("one", "both")}) == {"both"}
    # max 2 x1 + x2: the optimum (1, 0) is unique (z* = 2; moving along the row x1 + x2 = 1
    # loses 2 - 1 = 1 a unit), so every objective is one value on the face.
    lp = _segment(2.0)
    assert _optimise(lp, "objective")[1] == pytest.approx(2.0)
    assert constant_on_face(lp, {n: lp.costs[n] for n in ("one", "both")}) == {"one", "both"}


def _place(tmp_path: Path, *size: int, seed: int) -> Path:
    path = tmp_path / f"place-{seed}.yaml"
    path.write_text(yaml.safe_dump(generate_place(*size, seed=seed), sort_keys=False))
    return path


def test_position_ranges_proven_from_duals_are_the_ranges_the_lps_find(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shipped test places (agreements' total ranges among them) and two generated places:
    with the certificates on, the agencies' ranges and the total ranges are those of the
    range LPs, and the certificates spare some of them."""
    paths = [DATA / n for n in ("ringfence_vs_pooled.yaml", "no_worse_off.yaml",
                                "transfers.yaml", "agreements.yaml", "lag.yaml")]
    paths += [_place(tmp_path, 3, 9, 24, 3, 3, seed=s) for s in (1, 2)]
    proven: list[int] = []
    held: list[bool] = []
    certify = optimiser.solving.highs.constant_on_face
    stuck = optimiser.solving.highs._stuck

    def counted(lp: optimiser.solving.highs.CompiledLP,
                costs: dict[str, np.ndarray], seen: Any = None) -> set[str]:
        found = certify(lp, costs, seen)
        proven.append(len(found))
        return found

    def asked(*args: Any) -> bool:
        held.append(stuck(*args))
        return held[-1]

    monkeypatch.setattr(optimiser.solving.highs, "constant_on_face", counted)
    monkeypatch.setattr(optimiser.solving.highs, "_stuck", asked)
    with_certificate = [run(p) for p in paths]
    monkeypatch.setattr(optimiser.solving.highs, "constant_on_face",
                        lambda lp, costs, seen=None: set())
    by_lps = [run(p) for p in paths]
    # some positions proven, some by the LP on the free nonbasics (a degenerate basis),
    # and some left to the range LPs (agreements.yaml's pooled plans differ in positions)
    assert sum(proven) >= 10 and True in held and False in held
    columns = ["position_min", "position_max"]
    for a, b in zip(with_certificate, by_lps, strict=True):
        for x, y in zip(a.scenarios, b.scenarios, strict=True):
            assert x.status == y.status
            if x.status != "optimal":
                continue
            assert np.allclose(x.agencies[columns], y.agencies[columns], rtol=1e-9, atol=1e-6)
            assert (x.total_range is None) == (y.total_range is None)
            if x.total_range is not None:
                assert x.total_range == pytest.approx(y.total_range, rel=1e-9, abs=1e-6)


def test_lifts_priced_out_gain_what_their_re_solves_gain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ring-fence prices of shipped places (net benefit; cost, minimised, in
    objective_cost.yaml) with the lifts that price out at the reference's optimum left
    unsolved, and with every lift re-solved: the same gains, and some priced out (each at
    exactly 0)."""
    paths = [ROOT / "instances" / "croydon.yaml", ROOT / "instances" / "worcestershire.yaml",
             DATA / "objective_cost.yaml", DATA / "ringfence_vs_pooled.yaml"]
    priced_out: list[np.ndarray] = []
    price = prices.gains_priced_out

    def counted(*args: Any) -> np.ndarray:
        priced_out.append(price(*args))
        return priced_out[-1]

    monkeypatch.setattr(prices, "gains_priced_out", counted)
    with_certificate = [run(p, ranges=False) for p in paths]
    for result in with_certificate:
        run_analyses(result, ["ring_fence_prices"])
    monkeypatch.setattr(prices, "gains_priced_out",
                        lambda lp, cols, sign: np.zeros(len(cols), dtype=bool))
    monkeypatch.setattr(prices, "gains_by_bound_flips", lambda *args: {})
    re_solved = [run(p, ranges=False) for p in paths]
    for result in re_solved:
        run_analyses(result, ["ring_fence_prices"])
    assert sum(int(p.sum()) for p in priced_out) >= 4
    for a, b, out in zip(with_certificate, re_solved, priced_out, strict=True):
        mine, theirs = a.analyses["ring_fence_prices"], b.analyses["ring_fence_prices"]
        assert list(mine) == list(theirs)  # the same ranking
        for stream, entry in theirs.items():
            assert mine[stream]["lift_gain"] == pytest.approx(entry["lift_gain"], rel=1e-9,
                                                              abs=1e-6)
        streams = list(a.instance.streams)
        assert all(mine[streams[s]]["lift_gain"] == 0.0 for s in np.flatnonzero(out))
