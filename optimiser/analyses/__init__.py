"""Analyses that run after the scenarios are solved, each adding top-level entries to results.json.

Each analysis is a function `(RunResult) -> dict` returning the results.json
entries it fills (it writes nothing itself), registered in `ANALYSES` under the
name `--analyses` chooses it by. `run_analyses` keeps what they return on the
run, where the graph, the writers and later analyses read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from optimiser.analyses.agreements import settle_fair_shares
from optimiser.analyses.discounting import discount_sensitivity
from optimiser.analyses.gains import settlement_entries
from optimiser.analyses.limits import limits
from optimiser.analyses.prices import ring_fence_prices
from optimiser.analyses.robust import robust_plans
from optimiser.analyses.shapley import shapley
from optimiser.pipeline import RunResult


def _entry(key: str, analysis: Callable[[RunResult], Any]) -> Callable[[RunResult], dict[str, Any]]:
    """An analysis that fills one results.json entry, as one returning its entries."""
    def entries(result: RunResult) -> dict[str, Any]:
        return {key: analysis(result)}
    return entries


ANALYSES: dict[str, Callable[[RunResult], dict[str, Any]]] = {
    "ring_fence_prices": _entry("ring_fence_prices", ring_fence_prices),
    "settlement": settlement_entries,
    "shapley": _entry("shapley", shapley),
    "discount_sensitivity": _entry("discount_sensitivity", discount_sensitivity),
    "limits": _entry("limits", limits),
    "robust": robust_plans,
}
"""Analysis name -> the analysis, in the order they run."""

LABELS = {"ring_fence_prices": "Ring-fence prices", "settlement": "Settlement",
          "shapley": "Shapley shares", "robust": "Robust plans",
          "discount_sensitivity": "Discount rates", "limits": "What limits the plan"}
"""What the progress bar calls each analysis (an analysis may count its own steps:
`result.progress.expect(n)`, then `advance()`)."""


def run_analyses(result: RunResult, names: Iterable[str] | None = None) -> None:
    """Run the named analyses (all when None) and store their figures on `result`."""
    chosen = list(ANALYSES) if names is None else list(names)
    for name in chosen:
        result.progress.stage(LABELS.get(name, name))
        result.analyses.update(ANALYSES[name](result))
    settle_fair_shares(result)  # an agreement, not an analysis: always settled
