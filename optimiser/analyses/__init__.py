"""Analyses that run after the scenarios are solved, each adding top-level entries to results.json.

Each analysis is a function `(RunResult) -> Any`, registered in `ANALYSES` under
the results.json key it fills. `--analyses` chooses which run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from optimiser.analyses.agreements import settle_fair_shares
from optimiser.analyses.gains import settlement_payments, settlement_shortfall
from optimiser.analyses.prices import ring_fence_prices
from optimiser.analyses.shapley import shapley
from optimiser.pipeline import RunResult

ANALYSES: dict[str, Callable[[RunResult], Any]] = {
    "ring_fence_prices": ring_fence_prices,
    "settlement": settlement_payments,
    "settlement_shortfall": settlement_shortfall,
    "shapley": shapley,
}
"""results.json key -> the analysis that computes it, in the order they run."""

LABELS = {"ring_fence_prices": "Ring-fence prices", "settlement": "Settlement",
          "settlement_shortfall": "Settlement shortfall", "shapley": "Shapley shares"}
"""What the progress bar calls each analysis (an analysis may count its own steps:
`result.progress.expect(n)`, then `advance()`)."""


def run_analyses(result: RunResult, names: Iterable[str] | None = None) -> None:
    """Run the named analyses (all when None) and store their figures on `result`."""
    chosen = list(ANALYSES) if names is None else list(names)
    for name in chosen:
        result.progress.stage(LABELS.get(name, name))
        result.analyses[name] = ANALYSES[name](result)
    settle_fair_shares(result)  # an agreement, not an analysis: always settled
