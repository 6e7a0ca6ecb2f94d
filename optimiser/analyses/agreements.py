"""Fair-shares agreements: each partner ends at its reference position plus its fair share.

A pooled scenario with `agreement: fair_shares` shares the cash its plan gains or
costs against the reference, S = sum_a (P_a - Pref_a), in proportion to each
partner's Shapley share phi_a of the pooling gain G = sum_a phi_a
(`optimiser.analyses.shapley`): agency a ends at Pref_a + (phi_a / G) S
(`optimiser.solving.results.shared_payments`). Where the gain counts outcomes
valued in money that no budget receives, G differs from S: paying each partner its
whole Shapley share in cash would need G - S more than the plan's positions hold,
and the scenario's `agreement` says so (`cash_gap`).

The gain-share and risk-share agreements need only the reference's positions and
are settled as each scenario is solved (`optimiser.pipeline`); fair shares need the
pooling game, so they are settled here, after the Shapley analysis when it ran
(its shares are reused), by playing the game when it did not.
"""

from __future__ import annotations

import numpy as np

from optimiser.analyses.gains import compared
from optimiser.analyses.shapley import fair_shares
from optimiser.pipeline import RunResult
from optimiser.solving.results import MONEY_TOL, settle_agreement


def settle_fair_shares(result: RunResult) -> None:
    """Settle every optimal fair-shares scenario against its reference (module doc)."""
    for s in result.scenarios:
        data = s.data
        if s.status != "optimal" or data is None or data.agreement != "fair_shares":
            continue
        ref = compared(result, s)
        if ref is None:
            continue
        shares = result.analyses.get("shapley", {}).get(s.name)
        why = ""
        if shares is None:
            found = fair_shares(s)
            if "pooling_game" not in s.extra:
                s.extra["pooling_game"] = found.document()
            shares = found.shares if found.method != "skipped" else None
            why = found.note if found.method == "skipped" else ""
        positions = ref.positions()
        reference = np.array([positions[a] for a in data.agencies], dtype=float)
        position = s.agencies["position"].to_numpy(float)
        surplus = float(np.sum(position - reference))
        if not shares:
            settle_agreement(s, reference, None, ref.name, {
                "note": f"no fair shares could be found ({why or 'no pooling game'}), so "
                        "the agreement moves nothing"})
            continue
        phi = np.array([shares.get(a, 0.0) for a in data.agencies], dtype=float)
        gain = float(phi.sum())
        if gain <= MONEY_TOL:
            settle_agreement(s, reference, None, ref.name, {
                "gain": gain, "note": "pooling gains nothing in this scenario, so there are "
                                      "no fair shares to pay and the agreement moves nothing"})
            continue
        settle_agreement(s, reference, phi / gain, ref.name, {
            "gain": gain, "shapley": dict(zip(data.agencies, phi.tolist(), strict=True)),
            "cash_gap": gain - surplus,
            "note": fair_shares_note(gain, surplus)})


def fair_shares_note(gain: float, surplus: float) -> str:
    """What fair shares in cash require, in words (money left unformatted: the reports
    format it)."""
    if abs(gain - surplus) <= MONEY_TOL * max(1.0, abs(gain)):
        return ("the plan's cash surplus equals the pooling gain, so each partner ends at its "
                "reference position plus its whole Shapley share")
    return ("each partner ends at its reference position plus its Shapley share of the pooling "
            "gain scaled to the cash the plan's positions gain (surplus / gain); paying every "
            "partner its whole Shapley share in cash would need cash_gap more, because the gain "
            "counts outcomes valued in money that no budget receives")
