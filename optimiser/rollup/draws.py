"""The national roll-up under uncertainty: every place's committed plans, added up draw by draw.

With `--draws N` and several instances, each place's draws run on the same workers
(`optimiser.analyses.uncertainty`, local processes or the Dask cluster), with the
same seed: draw d of every place is numbered d, and a figure's numbers depend on the
seed, the draw and its path alone (`optimiser.inputs.ranges.draw_uniforms`), so a figure
at the same path in two places (a named figure from a shared library,
`figures.admission_cost`, or an inline range at the same path) takes the same quantile in
each draw: one price the places share moves together; figures at different paths are
independent. Then, in each draw d, for the places where both roles have a plan at the
central figures:

    national_pooled_d      = sum_places committed objective of the place's `pooled`
    national_ring_fenced_d = sum_places committed objective of its `ring_fenced`
    kind_K_d (each role)   = sum_places sum_{agencies of kind K} committed net position

(objectives only of the same kind add up: net benefit with net benefit; kinds only over
the places whose positions the roll-up adds in both roles, `positions_left_out`: a
place whose central plan leaves which services run not decided commits positions that
equally good sets of services could change). The chance
pooling pays nationally is the share of draws in which national_pooled beats
national_ring_fenced by more than BEATS of it (for `cost`, costs less); for each kind
of agency, the chance it ends worse off nationally is the share of draws in which its
pooled net position is below its ring-fenced one by more than WORSE of the larger of
the two (at least 1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optimiser.analyses.committed import BEATS, WORSE
from optimiser.rollup.totals import POOLED, RING_FENCED, UNCLASSIFIED, Rollup


def rollup_draws(rollup: Rollup) -> dict[str, Any] | None:
    """The roll-up's `uncertainty` entry (None when its places ran without draws)."""
    results = rollup.places
    if not results or any(r.uncertainty is None for r in results.values()):
        return None
    first = next(iter(results.values())).uncertainty
    assert first is not None
    draws, seed = first.draws, first.seed
    by_kind: dict[str, list[str]] = {}
    for stem, result in results.items():
        by_kind.setdefault(result.instance.objective, []).append(stem)
    entries: dict[str, Any] = {}
    for objective, stems in by_kind.items():
        maximise = objective != "cost"
        totals = {RING_FENCED: np.zeros(draws), POOLED: np.zeros(draws)}
        kinds: dict[str, dict[str, np.ndarray]] = {}
        included, left_out, undecided = [], [], []
        for stem in stems:
            result = results[stem]
            u = result.uncertainty
            assert u is not None
            roles = rollup.roles[stem]
            evaluated = {role: u.committed.get(roles[role]) if role in roles else None
                         for role in (RING_FENCED, POOLED)}
            if any(e is None for e in evaluated.values()):
                left_out.append(stem)
                continue
            included.append(stem)
            if {RING_FENCED, POOLED} & set(rollup.left_out.get(stem, {})):
                undecided.append(stem)
                for role, e in evaluated.items():
                    assert e is not None
                    totals[role] += e.objective
                continue
            agency_kind = [result.instance.agencies[a].kind or UNCLASSIFIED
                           for a in u.agencies]
            for role, e in evaluated.items():
                assert e is not None
                totals[role] += e.objective
                for n, kind in enumerate(agency_kind):
                    kinds.setdefault(kind, {r: np.zeros(draws) for r in totals})
                    kinds[kind][role] += e.net[:, n]
        entry: dict[str, Any] = {"places": included, "left_out": left_out,
                                 "positions_left_out": undecided}
        if included:
            pooled, fenced = totals[POOLED], totals[RING_FENCED]
            margin = BEATS * np.maximum(1.0, np.abs(fenced))
            pays = pooled > fenced + margin if maximise else pooled < fenced - margin
            entry.update({
                "p_pooling_pays": float(pays.mean()),
                RING_FENCED: _spread(fenced), POOLED: _spread(pooled),
                "gain": _spread(pooled - fenced),
                "agency_kinds": {kind: _kind(parts, draws) for kind, parts in
                                 sorted(kinds.items())},
            })
        entries[objective] = entry
    return {"draws": draws, "seed": seed, "objectives": entries,
            "method": "each place's committed plans (its plan at the central figures, "
                      "evaluated in every draw), added up over the places draw by draw: "
                      "draw d of every place, each drawing its own figures"}


def _spread(values: np.ndarray) -> dict[str, float]:
    """mean (exact sum), p5, p50, p95 of one national figure over the draws."""
    p5, p50, p95 = np.percentile(values, [5, 50, 95]).tolist()
    return {"mean": math.fsum(values.tolist()) / len(values), "p5": p5, "p50": p50, "p95": p95}


def _kind(parts: dict[str, np.ndarray], draws: int) -> dict[str, float]:
    """One kind of agency, nationally: the chance it ends worse off (net position, after
    each place's agreed transfers) under the pooled plans than under the ring-fenced."""
    pooled, fenced = parts[POOLED], parts[RING_FENCED]
    scale = np.maximum(1.0, np.maximum(np.abs(pooled), np.abs(fenced)))
    worse = pooled < fenced - WORSE * scale
    return {"p_worse_off": float(worse.mean()),
            "mean_change": math.fsum((pooled - fenced).tolist()) / draws}


OBJECTIVE_WORDS = {"net_benefit": "net benefit", "outcomes": "weighted outcomes",
                   "cost": "cost"}


def draws_sentences(entry: dict[str, Any] | None) -> list[str]:
    """What the roll-up's draws say, a sentence per objective kind."""
    if entry is None:
        return []
    said = []
    for objective, part in entry["objectives"].items():
        if not part["places"]:
            continue
        kinds = sorted(part["agency_kinds"].items(), key=lambda kv: -kv[1]["p_worse_off"])
        worse = ", ".join(f"{kind} {p['p_worse_off']:.0%}" for kind, p in kinds[:3]
                          if p["p_worse_off"] > 0)
        said.append(
            f"Over {entry['draws']:,} draws (seed {entry['seed']}), the places' committed "
            f"plans ({OBJECTIVE_WORDS[objective]}; {len(part['places'])} places) pool to "
            f"better than ring-fencing nationally in {part['p_pooling_pays']:.0%} of draws"
            + (f"; most likely worse off nationally: {worse}." if worse else "."))
        if part.get("positions_left_out"):
            said.append("Kinds of agency worse off are over the places whose positions are "
                        "decided: which services run is not decided in "
                        f"{', '.join(part['positions_left_out'])}.")
    return said
