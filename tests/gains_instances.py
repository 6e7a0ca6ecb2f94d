"""Instances for the gains and Shapley tests: random places of any size, written as YAML.

`random_place(seed, agencies)` draws a place where money is in the wrong
pockets: each agency holds a stream or two fenced to its own interventions, and
what it delivers saves other agencies money (sometimes costs them: a hospital
paid by results loses income when admissions fall).
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import yaml


def random_place(seed: int, agencies: int, years: int = 3, objective: str = "net_benefit",
                 scenarios: dict[str, Any] | None = None) -> dict[str, Any]:
    """A random instance as a plain dict (see the module docstring)."""
    rng = np.random.default_rng(seed)
    ids = [f"ag{n:02d}" for n in range(agencies)]
    place: dict[str, Any] = {
        "name": f"random place {seed} ({agencies} agencies)",
        "start_year": 2010,
        "years": years,
        "discount_rate": 0.035,
        "objective": objective,
        "agencies": {a: {"name": f"Agency {n} of {'the county' if n % 2 else 'the NHS'}"}
                     for n, a in enumerate(ids)},
        "streams": {},
        "interventions": {},
        "outcomes": {"harm_avoided": {"name": "Harm avoided", "value": 50.0}},
    }
    for n, a in enumerate(ids):
        for k in range(1 + int(rng.integers(0, 2))):
            place["streams"][f"{a}_s{k}"] = {
                "agency": a,
                "budget": float(rng.integers(10, 120)) * 1000,
                "pool_share": float(rng.choice([0.25, 0.5, 1.0])),
            }
        for k in range(1 + int(rng.integers(0, 3))):
            others = [b for b in ids if b != a]
            savers = rng.choice(others, size=min(len(others), 1 + int(rng.integers(0, 2))),
                                replace=False).tolist() if others else []
            savings = {b: float(rng.integers(200, 2500)) for b in savers}
            if others and rng.random() < 0.25:
                savings[str(rng.choice(others))] = -float(rng.integers(50, 300))
            place["interventions"][f"{a}_i{k}"] = {
                "agency": a,
                "unit_cost": float(rng.integers(500, 2000)),
                "max_units": float(rng.integers(50, 300)),
                "effects": {"harm_avoided": float(rng.uniform(0.1, 2.0))},
                "savings": savings,
                "lag": int(rng.integers(0, 2)),
                "deadweight": float(rng.choice([0.0, 0.1])),
                "optimism_bias": float(rng.choice([0.0, 0.2])),
            }
        if n == 0:
            place["outcomes"]["harm_avoided"]["target"] = 1.0
    place["scenarios"] = scenarios or {
        "ring_fenced": {"pooling": False},
        "pooled": {"pooling": True},
        "pooled_fair": {"pooling": True, "incentives": "no_worse_off", "transfers": True},
    }
    return place


def write_place(place: dict[str, Any], folder: pathlib.Path, name: str = "place.yaml"
                ) -> pathlib.Path:
    """Write `place` as YAML in `folder`; its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(place, sort_keys=False))
    return path
