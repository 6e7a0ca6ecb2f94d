"""Generated places of any size, for benchmarks: `generate_place(...)` -> an instance dict.

The shape follows a Total Place count: several agencies each holding many
streams, ring-fenced to that agency's own interventions (and a few partners'),
with savings that often land in another agency's budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def generate_place(
    n_agencies: int = 6,
    n_streams: int = 120,
    n_interventions: int = 400,
    n_outcomes: int = 12,
    years: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """A valid instance with the given sizes, deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    agencies = [f"agency_{a:02d}" for a in range(n_agencies)]
    items = [f"item_{i:04d}" for i in range(n_interventions)]
    outcomes = [f"outcome_{k:02d}" for k in range(n_outcomes)]
    deliverer = rng.integers(0, n_agencies, n_interventions)
    holder = np.arange(n_streams) % n_agencies
    unit_cost = np.round(rng.lognormal(7, 1, n_interventions), 2)
    interventions: dict[str, Any] = {}
    for i, name in enumerate(items):
        effects = {outcomes[k]: float(np.round(rng.uniform(0.01, 1), 3))
                   for k in rng.choice(n_outcomes, size=rng.integers(1, 3), replace=False)}
        savers = rng.choice(n_agencies, size=rng.integers(1, 3), replace=False)
        savings = {agencies[a]: float(np.round(unit_cost[i] * rng.uniform(0.2, 1.6), 2))
                   for a in savers}
        interventions[name] = {
            "agency": agencies[deliverer[i]],
            "unit_cost": float(unit_cost[i]),
            "max_units": float(rng.integers(50, 2000)),
            "effects": effects,
            "savings": savings,
            "lag": int(rng.integers(0, 3)),
            "deadweight": float(np.round(rng.uniform(0, 0.3), 2)),
            "optimism_bias": float(np.round(rng.uniform(0, 0.4), 2)),
        }
    streams: dict[str, Any] = {}
    for s in range(n_streams):
        own = [items[i] for i in np.flatnonzero(deliverer == holder[s])]
        fence = sorted(rng.choice(own, size=min(len(own), int(rng.integers(3, 15))),
                                  replace=False).tolist()) if own else []
        streams[f"stream_{s:03d}"] = {
            "agency": agencies[holder[s]],
            "budget": float(np.round(rng.lognormal(13, 0.8), -3)),
            "ring_fence": fence,
            "pool_share": float(rng.choice([0.25, 0.5, 1.0])),
        }
    return {
        "name": f"Generated place ({n_agencies} agencies, {n_streams} streams, "
                f"{n_interventions} interventions)",
        "start_year": 2010,
        "years": years,
        "discount_rate": 0.035,
        "objective": "net_benefit",
        "agencies": {a: {"name": a.replace("_", " ").title()} for a in agencies},
        "streams": streams,
        "interventions": interventions,
        "outcomes": {k: {"name": k, "value": float(rng.integers(0, 500))} for k in outcomes},
        "scenarios": {"ring_fenced": {"pooling": False}, "pooled": {"pooling": True}},
    }
