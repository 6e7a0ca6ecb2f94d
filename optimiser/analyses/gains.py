"""Who gains and who loses: money between agencies, the wrong pockets, and settlements.

Read from the tidy results of each optimal scenario (never from Pyomo objects),
as present values at the instance's discount rate, like the agency positions:

- `funds[a, b]`: what agency a's streams pay for what agency b delivers,
  sum_{s in S_a} sum_{i delivered by b} sum_t d_t f_sit (f with the pro-rata pool);
- `saves[a, b]`: what agency a delivers saves agency b,
  sum_{i delivered by a} sum_{t+lag_i<H} d_{t+lag_i} g_ib x_it (negative: costs b);
- `funded_savings[a, b]`: what agency a's money buys saves agency b, each unit
  attributed to the streams in proportion to what they pay for it:
  sum_{s in S_a} sum_{i,t} (f_sit / unit_cost_it) d_{t+lag_i} g_ib.
  Off the diagonal, this is money in the wrong pocket.

The agency graph of a scenario (`gains_graph`) has a node per agency and an
edge a -> b wherever money goes from a to b in any of four ways: `funds`,
`saves`, `transfers` (the scenario's gain-share payments) and `settlement`
(the payments `settle` proposes). What an agency spends on its own delivery and
saves itself stays in its node (no self-loops).

A settlement (pooled scenarios without transfers) pays every agency that ends
below its reference position back up to it, out of the gains of the agencies
above theirs, moving no more money than the total shortfall: each payment goes
straight from a gainer to a loser. Among such settlements it prefers paying
back along wrong pockets (a gainer pays an agency whose delivery saved it
money), then lets networkx's network simplex decide. Amounts are whole pence.
Where the gains cannot cover the shortfall, every loser is made good in the
same proportion and the report says by how much they fall short. No settlement is
proposed where which services run is not decided in the scenario or its reference
(`settlement_not_decided`): equally good sets of services could turn a gainer into a
loser, so any payment would belong to the set the solver happened to leave.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pandas as pd

from models.data import PlaceData, effective_units
from optimiser.pipeline import RunResult
from optimiser.solving.highs import new_highs
from optimiser.solving.results import MONEY_TOL, ScenarioResult, services_decided

if TYPE_CHECKING:
    import networkx as nx

EDGE_KINDS = ("funds", "saves", "transfers", "settlement")
"""The kinds of money on an edge of the agency graph, each an edge attribute."""

NODE_FIGURES = ("spend", "savings", "transfers_in", "transfers_out", "net")
"""Agency figures carried on each node (present values, from the agencies table)."""

PAYBACK_COST = 0
"""Min-cost-flow cost of a pound paid back along a wrong pocket (to an agency whose
delivery saved the payer money); any other payment costs OTHER_COST."""
OTHER_COST = 1


@dataclass(frozen=True)
class Flows:
    """Money between agencies in one scenario: (A, A) present-value matrices, see module doc."""

    agencies: list[str]
    funds: np.ndarray
    saves: np.ndarray
    funded_savings: np.ndarray


@dataclass(frozen=True)
class Settlement:
    """The payments that make a scenario's losers good, and what they cannot cover."""

    scenario: str
    reference: str
    payments: pd.DataFrame  # scenario, from, to, amount (present value)
    shortfall: float
    """Total by which the losers stay below their reference positions after the payments."""
    owed: float
    """Total by which the losers were below their reference positions before them."""


def compared(result: RunResult, s: ScenarioResult) -> ScenarioResult | None:
    """The optimal reference scenario `s` is compared with, or None."""
    if s.reference is None:
        return None
    ref = result.scenario(s.reference)
    return ref if ref.status == "optimal" else None


def change(result: RunResult, s: ScenarioResult) -> pd.Series | None:
    """Agency -> net position minus its net position in the reference (None without one)."""
    ref = compared(result, s)
    if ref is None:
        return None
    mine = s.agencies.set_index("agency")["net"].astype(float)
    theirs = ref.agencies.set_index("agency")["net"].astype(float)
    gap = mine - theirs.reindex(mine.index)
    return gap.where(gap.abs() > MONEY_TOL, 0.0).rename("change")


_FLOWS: dict[int, tuple[weakref.ref[ScenarioResult], pd.DataFrame, pd.DataFrame, Flows]] = {}
"""`agency_flows` of each scenario read so far: id -> (the scenario, the allocation and
funding tables they were read from, its flows); an entry leaves with its scenario."""


def agency_flows(result: RunResult, s: ScenarioResult) -> Flows:
    """The funds, saves and funded-savings matrices of an optimal scenario (module doc).

    Read once a scenario (the settlement, wrong_pockets.csv, gains.graphml and the gains
    picture all read them): again only where its allocation or funding table is another."""
    known = _FLOWS.get(id(s))
    if (known is not None and known[0]() is s and known[1] is s.allocation
            and known[2] is s.funding):
        return known[3]
    flows = _read_flows(result, s)
    for matrix in (flows.funds, flows.saves, flows.funded_savings):
        matrix.flags.writeable = False
    _FLOWS[id(s)] = (weakref.ref(s), s.allocation, s.funding, flows)
    weakref.finalize(s, _FLOWS.pop, id(s), None)
    return flows


def _read_flows(result: RunResult, s: ScenarioResult) -> Flows:
    """`agency_flows`, read from the scenario's tables."""
    data = s.data
    if data is None or s.status != "optimal":
        raise ValueError(f"scenario {s.name} has no optimal plan to read flows from")
    start = result.instance.start_year
    n_a = len(data.agencies)
    inst = next(r.instance for r in result.prepared.runs if r.name == s.name)
    a_pos = {a: n for n, a in enumerate(data.agencies)}
    delivers = _one_hot([a_pos[inst.interventions[i].agency] for i in data.interventions], n_a)
    holds = _one_hot(data.stream_agency.tolist(), n_a)

    units = (s.allocation.pivot(index="intervention", columns="year", values="units")
             .reindex(index=data.interventions).to_numpy(dtype=float))
    reach = data.savings_weight()  # (I, H) discount at which a unit's saving arrives
    if data.tiers:  # tiered units save by band: a stream's units save their average
        reach = reach * np.divide(effective_units(data, units), units,
                                  out=np.zeros_like(units), where=units > 0)
    saved = (units * reach).sum(axis=1)[:, None] * data.saving  # (I, A)

    stream, item, paid = _payments(data, s.funding, start)
    bought = np.divide(paid, data.cost[item], out=np.zeros_like(paid),
                       where=data.cost[item] > 0)  # units each stream paid for, by pair
    stream_saves = _stream_saves(stream, item, bought, reach, data.saving, len(data.streams))
    funds = np.zeros((len(data.streams), len(data.interventions)))
    funds[stream, item] = (paid * data.discount[None, :]).sum(axis=1)
    stream_funds = funds @ delivers  # (S, A)
    return Flows(data.agencies, holds.T @ stream_funds, delivers.T @ saved,
                 holds.T @ stream_saves)


def _payments(data: PlaceData, funding: pd.DataFrame, start: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (stream, intervention) pairs the funding table pays for, in order of stream then
    intervention, and what each pays in each year (P, H): f_sit, the table's rows for the
    same (s, i, t) added in the table's order. Only the pairs paid for, never the dense
    S x I x H array (240 MB on a place of 1,000 streams, 3,000 interventions, 10 years)."""
    n_i = len(data.interventions)
    if funding.empty:
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros((0, data.years))
    s_idx = pd.Index(data.streams).get_indexer(funding["stream"])
    i_idx = pd.Index(data.interventions).get_indexer(funding["intervention"])
    t_idx = funding["year"].to_numpy(int) - start
    pairs, at = np.unique(s_idx.astype(np.int64) * n_i + i_idx, return_inverse=True)
    paid = np.zeros((len(pairs), data.years))
    np.add.at(paid, (at.reshape(-1), t_idx), funding["amount"].to_numpy(float))
    return pairs // n_i, pairs % n_i, paid


def _stream_saves(stream: np.ndarray, item: np.ndarray, bought: np.ndarray, reach: np.ndarray,
                  saving: np.ndarray, streams: int) -> np.ndarray:
    """(S, A): what each stream's units save each agency,
    sum_i (sum_t bought_sit reach_it saving_ia), over the pairs (s, i) = (`stream`,
    `item`) a stream pays for (`bought`: (P, H) units by pair; in order of stream, then
    intervention), the sum over t taken first for each pair and the pairs added in turn:
    numpy's `einsum("sit,it,ib->sb", ...)` over the dense S x I x H array to the bit (its
    loop for more than one agency; the pairs not paid for add zeros), without its
    S x I x H x A terms (1.5e9 on a place of 1,000 streams, 3,000 interventions and 50
    agencies)."""
    if saving.shape[1] < 2:  # one agency: einsum sums in another order, and it is small
        dense = np.zeros((streams, len(reach), reach.shape[1]))
        dense[stream, item] = bought
        return np.einsum("sit,it,ib->sb", dense, reach, saving)
    weighted = bought * reach[item]
    each = np.zeros((len(stream), saving.shape[1]))
    for t in range(bought.shape[1]):
        each = each + weighted[:, t][:, None] * saving[item]
    out = np.zeros((streams, saving.shape[1]))
    np.add.at(out, stream, each)  # in order: pairs by stream, then intervention
    return out


def _one_hot(positions: list[int], n: int) -> np.ndarray:
    out = np.zeros((len(positions), n))
    out[np.arange(len(positions)), positions] = 1.0
    return out


def wrong_pockets(result: RunResult) -> pd.DataFrame:
    """For every optimal scenario and pair of agencies, what one's money saves the other.

    Columns: scenario, from_agency, to_agency, wrong_pocket (from != to), funds
    (from's money paying for to's delivery), funded_savings (what from's money
    buys saves to), delivered_savings (what from delivers saves to), and
    reference_funded_savings (the same pair's funded_savings in the scenario's
    reference, NaN without one), so ring-fenced and pooled sit side by side.
    Present values; pairs with no money in either are left out. Sorted by
    scenario and agency in the order the instance declares them.
    """
    columns = ["scenario", "from_agency", "to_agency", "wrong_pocket", "funds",
               "funded_savings", "delivered_savings", "reference_funded_savings"]
    flows = {s.name: agency_flows(result, s) for s in result.scenarios if s.status == "optimal"}
    frames = []
    for s in result.scenarios:
        if s.name not in flows:
            continue
        mine = flows[s.name]
        ref = compared(result, s)
        n = len(mine.agencies)
        theirs = flows[ref.name].funded_savings if ref is not None else np.full((n, n), np.nan)
        names = np.array(mine.agencies, dtype=object)
        frame = pd.DataFrame({
            "scenario": s.name,
            "from_agency": np.repeat(names, n),
            "to_agency": np.tile(names, n),
            "wrong_pocket": ~np.eye(n, dtype=bool).ravel(),
            "funds": mine.funds.ravel(),
            "funded_savings": mine.funded_savings.ravel(),
            "delivered_savings": mine.saves.ravel(),
            "reference_funded_savings": theirs.ravel(),
        })
        money = frame[columns[4:]].abs().fillna(0.0)
        frames.append(frame[(money > MONEY_TOL).any(axis=1)])
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def settlement_candidates(result: RunResult) -> list[ScenarioResult]:
    """Optimal pooled scenarios without transfers whose reference is optimal too."""
    return [s for s in result.scenarios
            if s.status == "optimal" and s.data is not None and s.data.pooling
            and not s.data.transfers and compared(result, s) is not None]


def settlement_not_decided(result: RunResult) -> dict[str, str]:
    """Scenario -> why it has no settlement: the candidates (`settlement_candidates`)
    whose positions are not decided. A settlement pays each agency's change
    g_a = P_a - Pref_a back to zero, so it is decided only where every g_a is:
    decided(s) = D(s) and D(ref(s)), D = which services run is decided by the rules
    (results.json's `mip.services_decided`; always for a linear programme). Where not,
    equally good sets of services could reverse who pays whom, and no payment is
    proposed."""
    out = {}
    for s in settlement_candidates(result):
        ref = compared(result, s)
        assert ref is not None
        open_ = [x.name for x in (s, ref) if not services_decided(x)]
        if open_:
            where = " and ".join(open_)
            out[s.name] = (f"which services run is not decided in {where}: equally good sets "
                           "of services could change who gains and who loses")
    return out


def settlement_scenarios(result: RunResult) -> list[ScenarioResult]:
    """The scenarios settled: the candidates (`settlement_candidates`) whose positions are
    decided (not in `settlement_not_decided`)."""
    open_ = settlement_not_decided(result)
    return [s for s in settlement_candidates(result) if s.name not in open_]


def settle_scenario(result: RunResult, s: ScenarioResult) -> Settlement:
    """The settlement of one pooled scenario against its reference (module doc)."""
    gap = change(result, s)
    ref = compared(result, s)
    assert gap is not None and ref is not None
    flows = agency_flows(result, s)
    payback = flows.saves.T > MONEY_TOL  # [a, b]: b's delivery saves a money
    pence = np.round(gap.reindex(flows.agencies).to_numpy(float) * 100).astype(np.int64)
    paid, short = settle(pence, payback, flows.agencies)
    rows = [(s.name, flows.agencies[a], flows.agencies[b], amount / 100)
            for (a, b), amount in sorted(paid.items())]
    payments = pd.DataFrame(rows, columns=["scenario", "from", "to", "amount"])
    owed = float(np.clip(-pence, 0, None).sum()) / 100
    return Settlement(s.name, ref.name, payments, short / 100, owed)


def settle(change: np.ndarray, payback: np.ndarray,
           names: list[str] | None = None) -> tuple[dict[tuple[int, int], int], int]:
    """Least-money payments, in whole pence, from gainers to losers; and what stays unpaid.

    `change[a]` is agency a's change against its reference (pence), `payback[a, b]`
    whether b's delivery saved a money, `names` the agencies' ids (for ties; default
    their positions). Losers are owed D_b = max(0, -change_b), gainers can spare
    U_a = max(0, change_a); C = min(sum D, sum U) is paid. Each loser receives its
    share R_b of C pro rata to D_b (all of D_b when the gains cover it; whole pence by
    largest remainder). Every penny goes straight from a gainer to a loser, so exactly
    C moves; the payments are the least-cost flow  gainer a -> loser b  (cost
    PAYBACK_COST per penny on payback edges, OTHER_COST elsewhere, at most U_a from a),
    and among those of least cost the one nearest to proportional shares: the unique
    minimiser of sum_ab z_ab^2 / U_a, which without the payback preference is
    z_ab = R_b U_a / sum U (each loser paid by the gainers in proportion to their
    gains). Whole pence: each loser's receipts split by largest remainder, ties to
    the gainer whose id sorts first.
    Returns ({(payer, payee): pence}, sum D - C).
    """
    owed = np.clip(-change, 0, None)
    spare = np.clip(change, 0, None)
    paid_total = int(min(owed.sum(), spare.sum()))
    if paid_total == 0:
        return {}, int(owed.sum())
    names = [f"{n:09d}" for n in range(len(change))] if names is None else names
    receive = apportion(owed, paid_total, names)
    gainers = np.flatnonzero(spare > 0).tolist()
    losers = np.flatnonzero(receive > 0).tolist()
    import networkx as nx  # here: a tenth of a second, for the runs that settle

    g = nx.DiGraph()
    g.add_node("gains", demand=-paid_total)
    for a in gainers:
        g.add_edge("gains", a, capacity=int(spare[a]), weight=0)
    for b in losers:
        g.add_node(b, demand=int(receive[b]))
    for a in gainers:
        for b in losers:
            g.add_edge(a, b, weight=PAYBACK_COST if payback[a, b] else OTHER_COST)
    flow = nx.min_cost_flow(g)
    least = float(nx.cost_of_flow(g, flow))
    weight = np.array([[PAYBACK_COST if payback[a, b] else OTHER_COST for b in losers]
                       for a in gainers], dtype=float)
    share = nearest_proportional(spare[gainers].astype(float), receive[losers].astype(float),
                                 weight, least)
    if share is None:  # the QP failed: the least-cost flow as networkx found it
        share = np.array([[flow[a][b] for b in losers] for a in gainers], dtype=float)
    whole = np.zeros_like(share, dtype=np.int64)
    gainer_names = [names[a] for a in gainers]
    for n, b in enumerate(losers):
        whole[:, n] = apportion(share[:, n], int(receive[b]), gainer_names, exact=True)
    paid = {(a, b): int(whole[m, n]) for m, a in enumerate(gainers)
            for n, b in enumerate(losers) if whole[m, n] > 0}
    return paid, int(owed.sum()) - paid_total


def nearest_proportional(spare: np.ndarray, receive: np.ndarray, weight: np.ndarray,
                         least: float) -> np.ndarray | None:
    """(gainers, losers) payments z >= 0 minimising sum_ab z_ab^2 / U_a subject to
    sum_a z_ab = R_b, sum_b z_ab <= U_a and sum_ab w_ab z_ab <= `least` (to a relative
    1e-9): a strictly convex QP (HiGHS), in shares of the total paid so it is well
    scaled. None if HiGHS does not solve it."""
    n_a, n_b = len(spare), len(receive)
    total = float(receive.sum())
    u, r = spare / total, receive / total
    h = new_highs()
    h.setOptionValue("qp_regularization_value", 0.0)
    n = n_a * n_b  # z[a, b] is column a * n_b + b
    h.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
    for b in range(n_b):
        idx = np.arange(n_a, dtype=np.int32) * n_b + b
        h.addRow(r[b], r[b], n_a, idx, np.ones(n_a))
    for a in range(n_a):
        idx = a * n_b + np.arange(n_b, dtype=np.int32)
        h.addRow(-highspy.kHighsInf, u[a], n_b, idx, np.ones(n_b))
    if weight.any():
        bound = least / total
        h.addRow(-highspy.kHighsInf, bound + 1e-9 * max(1.0, bound), n,
                 np.arange(n, dtype=np.int32), weight.ravel())
    hessian = highspy.HighsHessian()
    hessian.dim_ = n
    hessian.format_ = highspy.HessianFormat.kTriangular
    hessian.start_ = np.arange(n + 1, dtype=np.int32)
    hessian.index_ = np.arange(n, dtype=np.int32)
    hessian.value_ = np.repeat(2.0 / u, n_b)
    h.passHessian(hessian)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    z = np.clip(np.array(h.getSolution().col_value, dtype=float), 0.0, None)
    return z.reshape(n_a, n_b) * total


def apportion(owed: np.ndarray, total: int, names: list[str] | None = None,
              exact: bool = False) -> np.ndarray:
    """Split `total` pence over `owed` pro rata, in whole pence (largest remainder, ties
    to the id that sorts first in `names`, by default the first); all of `owed` when
    `total` covers it, unless `exact` (`owed` already sums to `total`, perhaps not
    in whole pence)."""
    if not exact:
        owed = owed.astype(np.int64)
    whole = float(owed.sum())
    if whole <= 0:
        return np.zeros(len(owed), dtype=np.int64)
    if not exact and total >= whole:
        return owed
    share_exact = owed.astype(float) * (total / whole)
    share = np.floor(share_exact).astype(np.int64)
    left = total - int(share.sum())
    rank = np.argsort(np.argsort(np.array(
        names if names is not None else [f"{n:09d}" for n in range(len(owed))], dtype=object)))
    remainder = np.round(share_exact - share, 9)
    order = np.lexsort((rank, -remainder))
    share[order[:max(left, 0)]] += 1
    return share


def settlements(result: RunResult) -> dict[str, Settlement]:
    """Every settlement scenario's settlement, in declared order."""
    return {s.name: settle_scenario(result, s) for s in settlement_scenarios(result)}


def settlement_entries(result: RunResult) -> dict[str, Any]:
    """The settlement analysis, computed once a run: results.json `settlement`
    ({scenario: [{"from": a, "to": b, "amount": x}]}), `settlement_shortfall`
    ({scenario: what the settlement cannot cover}) and `settlement_not_decided`
    ({scenario: why it has no settlement}, `settlement_not_decided`). The agency graph
    reads its payments from `settlement` rather than settling again."""
    found = settlements(result)
    return {
        "settlement": {name: [{"from": r[1], "to": r[2], "amount": float(r[3])}
                              for r in st.payments.itertuples(index=False)]
                       for name, st in found.items()},
        "settlement_shortfall": {name: st.shortfall for name, st in found.items()},
        "settlement_not_decided": settlement_not_decided(result),
    }


def settlement_payments(result: RunResult, scenario: str) -> pd.DataFrame:
    """One scenario's settlement payments (scenario, from, to, amount): from the run's
    settlement analysis where it ran, else settled now (empty without a settlement)."""
    listed = result.analyses.get("settlement")
    if listed is None:
        s = result.scenario(scenario)
        if scenario not in {x.name for x in settlement_scenarios(result)}:
            return pd.DataFrame(columns=["scenario", "from", "to", "amount"])
        return settle_scenario(result, s).payments
    rows = [(scenario, p["from"], p["to"], p["amount"]) for p in listed.get(scenario, [])]
    return pd.DataFrame(rows, columns=["scenario", "from", "to", "amount"])


def gains_graph(result: RunResult, scenario: str) -> nx.DiGraph:
    """The agency graph of one optimal scenario (module doc), in declared order.

    Node attributes: name, the NODE_FIGURES, and where the scenario has an
    optimal reference, reference_net and change (net minus reference_net); a
    `shapley` share where that analysis has run. Edge attributes: each of
    EDGE_KINDS (0.0 where none) and `kinds`, the comma-separated kinds present.
    Graph attributes: scenario, reference ('' without one), currency.
    """
    s = result.scenario(scenario)
    flows = agency_flows(result, s)
    ids = flows.agencies
    pos = {a: n for n, a in enumerate(ids)}
    ref = compared(result, s)
    gap = change(result, s)
    shares = result.analyses.get("shapley", {}).get(scenario, {})
    import networkx as nx

    graph = nx.DiGraph(scenario=scenario, reference=ref.name if ref else "",
                       currency=result.instance.currency)
    figures = s.agencies.set_index("agency")
    for a in ids:
        numbers = {k: float(figures.at[a, k]) for k in NODE_FIGURES}
        if gap is not None:
            numbers["reference_net"] = numbers["net"] - float(gap[a])
            numbers["change"] = float(gap[a])
        if a in shares:
            numbers["shapley"] = float(shares[a])
        agreed = s.extra.get("agreement")
        if isinstance(agreed, dict):  # what the agreement moves: net less the plan's position
            numbers["agreement_moves"] = float(agreed["positions"][a]["moves"])
        graph.add_node(a, name=result.instance.agencies[a].name, **numbers)

    money = {"funds": flows.funds, "saves": flows.saves,
             "transfers": _pair_matrix(s.transfers, pos),
             "settlement": np.zeros_like(flows.funds)}
    payments = settlement_payments(result, scenario)
    if not payments.empty:
        money["settlement"] = _pair_matrix(payments, pos)
    stacked = np.stack([money[k] for k in EDGE_KINDS])
    present = (np.abs(stacked) > MONEY_TOL) & ~np.eye(len(ids), dtype=bool)[None]
    for a, b in zip(*np.nonzero(present.any(axis=0)), strict=True):
        kinds = [k for n, k in enumerate(EDGE_KINDS) if present[n, a, b]]
        graph.add_edge(ids[a], ids[b], kinds=",".join(kinds),
                       **{k: float(stacked[n, a, b]) if present[n, a, b] else 0.0
                          for n, k in enumerate(EDGE_KINDS)})
    return graph


def _pair_matrix(payments: pd.DataFrame, pos: dict[str, int]) -> np.ndarray:
    """(A, A) matrix of a from/to/amount table."""
    out = np.zeros((len(pos), len(pos)))
    if not payments.empty:
        np.add.at(out, (payments["from"].map(pos).to_numpy(int),
                        payments["to"].map(pos).to_numpy(int)),
                  payments["amount"].to_numpy(float))
    return out


def combined_graph(result: RunResult) -> nx.DiGraph:
    """Every optimal scenario's agency graph in one, for gains.graphml.

    A node per agency (with its `name`) and an edge wherever any scenario moves
    money; each scenario's figures are attributes prefixed with its name
    (`pooled.net`, `pooled.funds`), so Gephi can colour or size by any of them.
    Money kinds a scenario does not have on an edge are 0.0; a node's change is
    left out where the scenario has no optimal reference.
    """
    import networkx as nx

    graphs = [gains_graph(result, s.name) for s in result.scenarios if s.status == "optimal"]
    out = nx.DiGraph(name=result.instance.name, currency=result.instance.currency,
                     scenarios=",".join(g.graph["scenario"] for g in graphs))
    for a, spec in result.instance.agencies.items():
        out.add_node(a, name=spec.name)
    order = {a: n for n, a in enumerate(out.nodes)}
    edges = sorted({e for g in graphs for e in g.edges}, key=lambda e: (order[e[0]], order[e[1]]))
    out.add_edges_from(edges)
    for g in graphs:
        prefix = g.graph["scenario"]
        for a, attrs in g.nodes(data=True):
            out.nodes[a].update({f"{prefix}.{k}": v for k, v in attrs.items() if k != "name"})
        for a, b in edges:
            attrs = g.edges[a, b] if g.has_edge(a, b) else {}
            out.edges[a, b].update({f"{prefix}.{k}": float(attrs.get(k, 0.0))
                                    for k in EDGE_KINDS})
    return out
