"""The story the reports tell, as tidy tables: one source for report.xlsx, report.html
and summary.md, so the three always agree with each other and with results.json.

Built from the run's tidy tables and analyses (never from Pyomo objects):

- the headline: what pooling adds against ring-fencing (net benefit, outcomes a year);
- each scenario's status, objective, spend, savings and net benefit;
- outcomes against targets; each agency's gain or loss against its reference;
- the figures decided by rule; the price of each ring-fence; settlements and fair
  shares (when those analyses ran); the instance's assumptions and sources; provenance;
- after `--draws`, the spread of each scenario's objective, the chance each pooled
  scenario beats its reference and each agency ends worse off, and the tornado.
"""

from __future__ import annotations

import math
import platform
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import numpy as np
import pandas as pd

from models.data import benefit_coefficients, effective_units, plan_objective
from optimiser import __version__
from optimiser.analyses.limits import limits_table
from optimiser.analyses.prices import price_sentences, price_table
from optimiser.format import currency_symbol, money, no_figure, pence
from optimiser.inputs.schema import Instance, Scenario
from optimiser.pipeline import RunResult
from optimiser.place.scenarios import main_pooled
from optimiser.solving.account import ACCOUNT_FIELDS
from optimiser.solving.diagnose import COLUMNS as DIAGNOSIS_COLUMNS
from optimiser.solving.highs import highs_version
from optimiser.solving.results import ScenarioResult
from optimiser.solving.results import services_decided as decided_services

TOLERANCE = 1e-6
"""Relative tolerance for 'target met' and 'no change'."""


@dataclass(frozen=True)
class Headline:
    """What pooling adds: `pooled` against its reference `baseline` (scenario names)."""

    baseline: str | None
    pooled: str | None
    net_benefit: float | None
    """Pooled minus baseline net benefit (present value); None unless both are optimal."""
    outcomes: dict[str, float]
    """Outcome id -> pooled minus baseline, mean a year."""
    sentence: str
    cash: float | None = None
    """Pooled minus baseline net public cash (account `cash_net`, present value)."""
    value: float | None = None
    """Pooled minus baseline valued outcomes (account `outcome_value`, present value)."""


@dataclass(frozen=True)
class Uncertainty:
    """The draws of `optimise --draws` as tables: results.json's `uncertainty`, `tornado` and
    `uncertainty_method`, figure for figure."""

    draws: int
    seed: int
    figures: int
    """How many uncertain figures were drawn."""
    main: str
    """The scenario the tornado explains."""
    base: float | None
    """Its objective with every figure central (the plain run's)."""
    spread: pd.DataFrame
    """The committed plans (each scenario's plan at the central figures, evaluated in every
    draw): scenario, reference, draws, no_plan, mean, p5, p50, p95, compared,
    p_beats_reference, p_targets_met, positions_not_decided: a row per scenario, in
    declared order"""
    worse_off: pd.DataFrame
    """scenario, agency, probability: the committed plans compared with a reference"""
    hindsight: pd.DataFrame
    """Every scenario re-optimised with hindsight of each draw: scenario, reference, draws,
    optimal, infeasible, unbounded, no_plan, mean, p5, p50, p95, compared,
    p_beats_reference, positions_not_decided"""
    hindsight_worse_off: pd.DataFrame
    """scenario, agency, probability, re-optimised with hindsight"""
    tornado: pd.DataFrame
    """n (position in results.json's list), figure, low, central, high, objective_low,
    objective_high, swing, status_low, status_high: widest swing first"""


@dataclass
class Story:
    """Everything the human-readable reports show, as tables keyed by ids."""

    result: RunResult
    rules: Mapping[str, str]
    headline: Headline
    scenarios: pd.DataFrame
    """scenario, description, pooling, status, message, reference, objective, spend, savings,
    net_benefit, transferred, solve_seconds"""
    diagnosis: pd.DataFrame
    """scenario, constraint, item, year, required, achievable, shortfall (infeasible ones)"""
    targets: pd.DataFrame
    """scenario, outcome, achieved (mean a year), target (mean a year), met (every year)"""
    gains: pd.DataFrame
    """scenario, reference, agency, net, reference_net, gain, decided_by_rule,
    position, position_min, position_max, plan, plan_low, plan_high, moves, gain_low,
    gain_high (`gains_table`)"""
    spending: pd.DataFrame
    """scenario, intervention, fenced, pooled, amount (cash over the plan)"""
    prices: pd.DataFrame
    """rank, stream, agency, reference, lift_gain, marginal_value (optimiser.analyses.prices; empty
    when not computed)"""
    shortfall: dict[str, float]
    """Scenario -> what its settlement cannot cover (when settlements were computed)."""
    settlement: pd.DataFrame
    """scenario, from, to, amount (empty when not computed)"""
    shapley: pd.DataFrame
    """scenario, agency, value (empty when not computed)"""
    assumptions: pd.DataFrame
    """line, path, value, kind, note"""
    provenance: list[tuple[str, str]]
    uncertainty: Uncertainty | None = None
    """The draws, when the run had them (`optimise --draws`)."""
    account: pd.DataFrame = field(default_factory=pd.DataFrame)
    """scenario, status, cost, cash_savings, cash_net, outcome_value, net_benefit,
    financial_return, public_value_return, payback_year: results.json's `account`s"""
    cash: pd.DataFrame = field(default_factory=pd.DataFrame)
    """scenario, agency, year, spend, savings: each agency's cash a year, undiscounted"""
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    """scenario, kind, item, years, gain, unit, figure, basis, note, src: every binding limit
    (`optimiser.analyses.limits`; empty when that analysis did not run)"""
    discounting: pd.DataFrame = field(default_factory=pd.DataFrame)
    """rate, scenario, status, objective, net_benefit, cash_net, outcome_value, payback_year,
    rank, src (`discount_table`; empty when the analysis did not run)"""
    unsettled: dict[str, str] = field(default_factory=dict)
    """Scenario -> why no settlement is proposed for it (results.json's
    `settlement_not_decided`; `unsettled_sentences`)"""
    told: dict[tuple[str, ...], list[str]] = field(default_factory=dict, init=False,
                                                  repr=False, compare=False)
    """Sentences already told from this story, for the next document that tells them
    (`narrative`, `fair_share_notes`): worked out once, not once a document."""
    limit_rows: list[tuple[dict[str, Any], str]] | None = field(default=None, init=False,
                                                                repr=False, compare=False)
    """Every limit with its reading (`optimiser.reports.story.limit_rows`), once read."""

    @property
    def instance(self) -> Instance:
        """The instance as written."""
        return self.result.instance

    @property
    def currency(self) -> str:
        """The instance's currency code."""
        return self.instance.currency

    @property
    def decided(self) -> pd.DataFrame:
        """The agency positions the tie-break rules chose among equally good plans."""
        return self.gains[self.gains["decided_by_rule"].astype(bool)]

    def money(self, value: float | None) -> str:
        """Short money for sentences: £1.23m."""
        return money(snap(value), self.currency)

    def rate(self, value: float | None) -> str:
        """A marginal value: money per unit of budget to the penny (£0.45), or weighted
        outcome units per unit of budget for the 'outcomes' objective."""
        if value is None or missing(value) or self.instance.objective == "outcomes":
            return ratio(value)
        return pence(value, self.currency)

    def full(self, value: float | None) -> str:
        """Money in whole units for tables: £1,234,567."""
        return whole(value, self.currency)

    def objective_text(self, value: float | None, full: bool = False) -> str:
        """An objective value: money (short, or `full` for tables), or weighted outcome units
        for the 'outcomes' objective."""
        if self.instance.objective == "outcomes":
            return "-" if value is None or pd.isna(value) else f"{value:,.1f}"
        return self.full(value) if full else self.money(value)

    def name(self, kind: str, key: str) -> str:
        """Display name of an agency, stream, intervention or outcome id."""
        return display_name(getattr(self.instance, kind), key)


def tell(result: RunResult, rules: Mapping[str, str]) -> Story:
    """Build the story of a run; `rules` are the tie-break rules as results.json states them."""
    scenarios = scenario_table(result)
    gains = gains_table(result)
    headline = headline_of(result, scenarios)
    return Story(
        result=result,
        rules=rules,
        headline=headline,
        scenarios=scenarios,
        diagnosis=diagnosis_table(result),
        targets=targets_table(result),
        gains=gains,
        spending=spending_table(result),
        prices=price_table(result),
        settlement=settlement_table(result.analyses.get("settlement")),
        shortfall={k: float(v) for k, v in
                   (result.analyses.get("settlement_shortfall") or {}).items()
                   if isinstance(v, int | float)},
        shapley=shapley_table(result.analyses.get("shapley"), shapley_errors(result)),
        assumptions=result.prepared.assumptions(),
        provenance=provenance(result),
        uncertainty=uncertainty_of(result.analyses),
        account=account_table(result),
        cash=result.table("cash"),
        discounting=discount_table(result),
        limits=limits_table(result.analyses.get("limits")),
        unsettled={str(k): str(v) for k, v in
                   (result.analyses.get("settlement_not_decided") or {}).items()},
    )


def account_table(result: RunResult) -> pd.DataFrame:
    """Every scenario's account (results.json `account`), a row per scenario with its
    status; blank figures where the scenario has no plan (what account.csv holds)."""
    frame = pd.DataFrame([{"scenario": s.name, "status": s.status, **s.account}
                          for s in result.scenarios],
                         columns=["scenario", "status", *ACCOUNT_FIELDS])
    frame["payback_year"] = frame["payback_year"].astype("Int64")
    return frame


def missing(value: Any) -> bool:
    """`pd.isna` of one value: None and a NaN float by `no_figure` first (cheap), then
    pandas' NA and NaT."""
    if value is None or isinstance(value, float):  # numpy's float64 too
        return no_figure(value)
    return bool(pd.isna(value))


def whole(value: float | None, currency: str) -> str:
    """Money in whole units for tables: £1,234,567 ('-' when there is none)."""
    if value is None or missing(value):
        return "-"
    value = snap(value) or 0.0
    return ("-" if value < 0 else "") + currency_symbol(currency) + f"{abs(value):,.0f}"


def snap(value: float | None) -> float | None:
    """Money within half a unit of zero is zero (no '-£0' from solver noise)."""
    if value is None or missing(value):
        return value
    return 0.0 if abs(value) < 0.5 else float(value)


def describe(scenario: Scenario) -> str:
    """A scenario in words, from its fields (its own description when it has one)."""
    if scenario.description:
        return scenario.description
    parts = ["pooled" if scenario.pooling else "ring-fenced"]
    parts += [f"{stream} pools {share:.0%}" for stream, share in scenario.pool_share.items()]
    if scenario.incentives == "no_worse_off":
        parts.append("no agency worse off")
    if scenario.transfers:
        parts.append("with gain-share transfers")
    parts += [f"{path} = {value}" for path, value in scenario.overrides.items()]
    return ", ".join(parts)


def net_benefit(s: ScenarioResult) -> float | None:
    """Present value of outcomes plus savings minus cost, whatever the objective.

    The `net_benefit` objective's own formula (models.data.plan_objective)
    applied to the scenario's units, so it equals the objective when that is net_benefit.
    """
    if s.status != "optimal" or s.data is None:
        return None
    if s.data.objective == "net_benefit" and s.objective is not None:
        return s.objective
    data = replace(s.data, objective="net_benefit")
    x = s.allocation["units"].to_numpy(dtype=float).reshape(len(data.interventions), data.years)
    services = s.extra.get("services")
    on = None
    if isinstance(services, dict):
        on = (x > 0).astype(float)
        for n, item in enumerate(data.interventions):
            if item in services:
                on[n] = np.asarray(services[item]["runs"], dtype=float)
    return plan_objective(data, x, on)


def scenario_table(result: RunResult) -> pd.DataFrame:
    """One row per scenario: status, objective, present-value spend, savings, net benefit."""
    runs = {r.name: r for r in result.prepared.runs}
    rows = []
    for s in result.scenarios:
        optimal = s.status == "optimal"
        rows.append({
            "scenario": s.name,
            "description": describe(runs[s.name].scenario),
            "pooling": runs[s.name].scenario.pooling,
            "status": s.status,
            "message": s.message,
            "reference": s.reference,
            "objective": s.objective,
            "spend": float(s.agencies["spend"].sum()) if optimal else None,
            "savings": float(s.agencies["savings"].sum()) if optimal else None,
            "net_benefit": net_benefit(s),
            "transferred": float(s.transfers["amount"].sum()) if optimal else None,
            "solve_seconds": float(sum(s.timings.values())),
        })
    return pd.DataFrame(rows)


def diagnosis_table(result: RunResult) -> pd.DataFrame:
    """Every infeasible scenario's least shortfall (solving.diagnose), a row per requirement:
    scenario, constraint, item, year, required, achievable, shortfall."""
    rows = [{"scenario": s.name, **entry} for s in result.scenarios
            for entry in s.extra.get("diagnosis", [])]  # type: ignore[attr-defined]
    frame = pd.DataFrame(rows, columns=["scenario", *DIAGNOSIS_COLUMNS])
    return frame.astype({"year": "Int64"})


def targets_table(result: RunResult) -> pd.DataFrame:
    """Each optimal scenario's outcomes, mean a year, against the mean target a year."""
    outcomes = result.table("outcomes")
    columns = ["scenario", "outcome", "achieved", "target", "met"]
    if outcomes.empty:
        return pd.DataFrame(columns=columns)
    frame = outcomes.assign(
        short=lambda f: f["achieved"] < f["target"] - TOLERANCE * f["target"].abs().clip(lower=1))
    table = frame.groupby(["scenario", "outcome"], sort=False).agg(
        achieved=("achieved", "mean"), target=("target", "mean"), short=("short", "any"))
    table["met"] = (~table.pop("short")).astype(object).where(table["target"].notna(), None)
    return table.reset_index()[columns]


def gains_table(result: RunResult) -> pd.DataFrame:
    """Each agency's net position in each scenario against that in the scenario's reference:
    scenario, reference, agency, net, reference_net, gain (the change where it ends, after
    any agreement), decided_by_rule, position, position_min, position_max, plan (the change
    the plan leaves it, before any agreement), plan_low, plan_high (`plan_range`), moves
    (what the agreement moves), gain_low, gain_high (`agreed_range`). Where which services
    run is not decided in the scenario or its reference (`services_decided`), equally good
    sets of services could move a change by an amount not found: its four range figures
    are NaN (not known), and `reading` reads it 'undecided'."""
    agencies = result.table("agencies")
    columns = ["scenario", "reference", "agency", "net", "reference_net", "gain",
               "decided_by_rule", "position", "position_min", "position_max"]
    extra = ["plan", "plan_low", "plan_high", "moves", "gain_low", "gain_high"]
    if agencies.empty:
        return pd.DataFrame(columns=[*columns, *extra])
    references = {s.name: s.reference for s in result.scenarios}
    frame = agencies.assign(reference=agencies["scenario"].map(references))
    base = agencies[["scenario", "agency", "net"]].rename(
        columns={"scenario": "reference", "net": "reference_net"})
    frame = frame.merge(base, on=["reference", "agency"], how="left")
    frame["gain"] = frame["net"] - frame["reference_net"]
    frame["moves"] = frame["net"] - frame["position"]
    frame["plan"] = frame["gain"] - frame["moves"]
    frame["plan_low"], frame["plan_high"] = plan_range(frame, agencies)
    frame["gain_low"], frame["gain_high"] = frame["plan_low"], frame["plan_high"]
    for s in result.scenarios:
        agreed = s.extra.get("agreement")
        mine = (frame["scenario"] == s.name).to_numpy()
        if not isinstance(agreed, dict) or not mine.any():
            continue
        at = agreed["positions"]  # the agreement's own figures, as results.json has them
        agencies_of = frame.loc[mine, "agency"].tolist()
        frame.loc[mine, "moves"] = [float(at[a]["moves"]) for a in agencies_of]
        frame.loc[mine, "plan"] = [float(at[a]["plan"]) - float(at[a]["reference"])
                                   for a in agencies_of]
        rows = frame[mine]
        shares = agreed.get("shares") or {}
        low, high = agreed_range(
            str(agreed["kind"]), rows["agency"].map(shares).to_numpy(float)
            if shares else None, rows["plan_low"].to_numpy(float),
            rows["plan_high"].to_numpy(float), divided_range(agreed))
        frame.loc[mine, "gain_low"] = np.minimum(low, rows["gain"].to_numpy(float))
        frame.loc[mine, "gain_high"] = np.maximum(high, rows["gain"].to_numpy(float))
    undecided = [s.name for s in result.scenarios if not services_decided(result, s.name)]
    if undecided:
        unknown = frame["scenario"].isin(undecided) | frame["reference"].isin(undecided)
        frame.loc[unknown, ["plan_low", "plan_high", "gain_low", "gain_high"]] = np.nan
    return frame[[*columns, *extra]]


def services_decided(result: RunResult, scenario: str) -> bool:
    """Whether which services run in `scenario` is decided by the rules (results.json's
    `mip.services_decided`: rules 2 to 2c, or the certificate that the rules leave one
    set); always for a linear programme (`optimiser.solving.results.services_decided`)."""
    return decided_services(result.scenario(scenario))


def picture_not_drawn(result: RunResult, scenario: str) -> str | None:
    """Why the picture of the money between the agencies in `scenario` is not drawn, or
    None where it may be: drawn(s) = D(s) and D(ref(s)), D = `services_decided`. Its
    colours call each agency a gainer or a loser against the reference and its arrows
    carry the money between them (the settlement's too), all of which equally good sets
    of services could change where which services run is not decided."""
    ref = result.scenario(scenario).reference
    open_ = [n for n in (scenario, ref) if n is not None and not services_decided(result, n)]
    if not open_:
        return None
    return (f"No picture of the money between the agencies in {scenario}: which services "
            f"run is not decided in {_join(open_)}, so equally good sets of services could "
            "change who gains, who loses and the money between them.")


def plan_range(frame: pd.DataFrame, agencies: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The least and greatest change the plan could leave an agency among equally good
    plans, before any agreement: its position's range in the scenario against its net
    position's range in the reference, g_lo = min P - max Pref, g_hi = max P - min Pref
    (a reference's range moved by what its own agreement moves); never narrower than the
    change reported."""
    moved = agencies["net"] - agencies["position"]
    ranges = agencies.assign(low=agencies["position_min"] + moved,
                             high=agencies["position_max"] + moved)[
        ["scenario", "agency", "low", "high"]]
    mine = frame[["scenario", "agency"]].merge(
        agencies[["scenario", "agency", "position_min", "position_max"]],
        on=["scenario", "agency"], how="left")
    theirs = frame[["reference", "agency"]].merge(
        ranges.rename(columns={"scenario": "reference"}), on=["reference", "agency"], how="left")
    plan = (frame["gain"] - frame["moves"]).to_numpy()
    low = (mine["position_min"] - theirs["high"]).fillna(pd.Series(plan)).to_numpy()
    high = (mine["position_max"] - theirs["low"]).fillna(pd.Series(plan)).to_numpy()
    return (pd.Series(np.minimum(low, plan), index=frame.index),
            pd.Series(np.maximum(high, plan), index=frame.index))


def divided_range(agreed: dict[str, Any]) -> tuple[float, float]:
    """The range [S_lo, S_hi] of the cash surplus S an agreement divides among equally good
    plans, as results.json's `agreement` states it (surplus, surplus_min, surplus_max,
    decided once by `optimiser.solving.results.decided_surplus`): the point [S, S] where
    the range was not found."""
    surplus = float(agreed["surplus"])
    low, high = agreed.get("surplus_min"), agreed.get("surplus_max")
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return surplus, surplus
    return min(float(low), surplus), max(float(high), surplus)


def agreed_range(kind: str, shares: np.ndarray | None, low: np.ndarray, high: np.ndarray,
                 surplus: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The least and greatest change against its reference each agency could end with
    among equally good plans under the scenario's agreement, given the range [g_lo, g_hi]
    of the change the plan leaves it (`plan_range`) and the range [S_lo, S_hi] of the
    plan's cash surplus S = sum_b g_b among them (`divided_range`; a point where S is
    decided, wider only where two services are exactly as good but one buys cash and the
    other valued outcomes).

    - risk_share, fair_shares: agency a ends at Pref_a + w_a S whatever the plan's
      split, so its change lies in [min(w_a S_lo, w_a S_hi), max(w_a S_lo, w_a S_hi)]
      (0 for an agency outside the shares).
    - gain_share, for S >= 0 (the surpluses cover the shortfalls): a ends at
      max(g_a, 0) S / U with U = sum_b max(g_b, 0) >= S, so within
      [max(g_lo, 0) max(S_lo, 0) / sum_b max(g_hi_b, 0), min(max(g_hi, 0), S_hi)].
    - gain_share, for S < 0: a ends at min(g_a, 0) (-S) / D with D = sum_b max(-g_b, 0)
      >= -S, so within [max(min(g_lo, 0), S_lo), min(g_hi, 0) (-min(S_hi, 0)) /
      sum_b max(-g_lo_b, 0)].
      A range of S on both sides of 0 gives the union of the two.
    - without shares (fair shares that could not be found) nothing moves: [g_lo, g_hi].
    """
    s_lo, s_hi = surplus
    if kind in ("risk_share", "fair_shares"):
        if shares is None:
            return low, high
        w = np.nan_to_num(shares)
        return np.minimum(w * s_lo, w * s_hi), np.maximum(w * s_lo, w * s_hi)
    bounds: list[tuple[np.ndarray, np.ndarray]] = []
    if s_hi >= 0:
        most = float(np.maximum(high, 0.0).sum())
        least = (np.maximum(low, 0.0) * max(s_lo, 0.0) / most if most > 0
                 else np.zeros_like(low))
        bounds.append((least, np.minimum(np.maximum(high, 0.0), s_hi)))
    if s_lo < 0:
        most = float(np.maximum(-low, 0.0).sum())
        top = (np.minimum(high, 0.0) * -min(s_hi, 0.0) / most if most > 0
               else np.zeros_like(high))
        bounds.append((np.maximum(np.minimum(low, 0.0), s_lo), top))
    return (np.minimum.reduce([b[0] for b in bounds]),
            np.maximum.reduce([b[1] for b in bounds]))


def reading(change: float, low: float, high: float, tol: float) -> str:
    """How the reports may read a change in an agency's position against its reference:
    'undecided' where its range among equally good plans is not known (low or high NaN
    beside a figure: which services run is not decided, `gains_table`), 'either' where
    equally good plans could make it a gain or a loss (low < -tol and high > tol): neither
    is ever called a gain or a loss; else 'gain' (change > tol), 'loss' (change < -tol)
    or 'none'. The one rule every report's words and tables follow."""
    if pd.notna(change) and (pd.isna(low) or pd.isna(high)):
        return "undecided"
    if low < -tol and high > tol:
        return "either"
    if change > tol:
        return "gain"
    if change < -tol:
        return "loss"
    return "none"


def change_tolerance(changes: pd.Series) -> float:
    """Below this a scenario's change in position reads as none: TOLERANCE relative to its
    largest change (at least 1 unit of money)."""
    shown = changes.abs().max() if len(changes) else 0.0
    return TOLERANCE * max(1.0, float(0.0 if pd.isna(shown) else shown))


def ranged(low: float, high: float, tol: float) -> bool:
    """Whether a change could differ among equally good plans (by more than `tol`)."""
    return bool(pd.notna(low) and pd.notna(high) and high - low > tol)


def range_text(story: Story, low: float, high: float, full: bool = False) -> str:
    """A change's range among equally good plans: '-£1.28m to +£1.67m' (whole units with
    `full`)."""
    return f"{signed_money(story, low, full)} to {signed_money(story, high, full)}"


def reads_as(story: Story, change: float, low: float, high: float, tol: float,
             full: bool = False) -> str:
    """A change in words for a table (`reading`): 'gain', 'loss', 'no change', 'could
    gain or lose, -£1.28m to +£1.67m', or NOT_DECIDED."""
    read = reading(change, low, high, tol)
    if read == "either":
        return "could gain or lose, " + range_text(story, low, high, full)
    return {"gain": "gain", "loss": "loss", "none": "no change",
            "undecided": NOT_DECIDED}[read]


NOT_DECIDED = "not decided: equally good sets of services could change it"
"""How a change reads where which services run is not decided (`reading`: 'undecided')."""


def headline_of(result: RunResult, scenarios: pd.DataFrame) -> Headline:
    """Pooled against ring-fenced: the place's main pooled scenario
    (`optimiser.place.scenarios.main_pooled`) against its reference; never two scenarios
    of different horizons or objectives."""
    chosen = main_pooled(result.prepared.runs, [s.name for s in result.scenarios])
    if chosen is None or chosen.reference is None:
        return Headline(None, None, None, {}, "No scenario compares pooled with ring-fenced "
                        "budgets over the same horizon and objective.")
    rows = scenarios.set_index("scenario")
    base, pool = rows.loc[chosen.reference], rows.loc[chosen.name]
    if base["status"] != "optimal" and pool["status"] == "optimal":
        return Headline(chosen.reference, chosen.name, None, {},
                        "Only pooling gives a plan that meets every constraint: pooled "
                        f"({chosen.name}) it yields "
                        f"{money(snap(pool['net_benefit']), result.instance.currency)} of net "
                        f"benefit; ring-fenced ({chosen.reference}) no plan exists.")
    for name, row in ((chosen.reference, base), (chosen.name, pool)):
        if row["status"] != "optimal":
            return Headline(chosen.reference, chosen.name, None, {},
                            f"The comparison cannot be made: scenario {name} is {row['status']} "
                            f"({row['message']}).")
    outcomes = result.table("outcomes").groupby(["scenario", "outcome"], sort=False)["achieved"]
    means = outcomes.mean()
    extra = {k: float(means[chosen.name, k] - means[chosen.reference, k])
             for k in result.instance.outcomes}
    before = result.scenario(chosen.reference).account
    after = result.scenario(chosen.name).account
    gain = float(pool["net_benefit"] - base["net_benefit"])
    cash = float(after["cash_net"]) - float(before["cash_net"])
    value = float(after["outcome_value"]) - float(before["outcome_value"])
    sentence = _headline_sentence(result.instance, gain, extra, cash, value, after)
    undecided = [n for n in (chosen.reference, chosen.name) if not services_decided(result, n)]
    if undecided:
        sentence += (f" Which services run is not decided in {_join(undecided)}: equally good "
                     "sets of services reach the same objective but could change the other "
                     "figures here, and who gains and who loses.")
    return Headline(chosen.reference, chosen.name, gain, extra, sentence, cash, value)


def _headline_sentence(inst: Instance, gain: float, extra: dict[str, float], cash: float,
                       value: float, pooled: Mapping[str, Any]) -> str:
    """Both halves of what pooling does: the outcomes it buys and what they are worth, and
    the public cash it takes or saves; then the net benefit, and whether the pooled plan
    pays for itself in cash. 'Pooling buys 688 more admissions avoided a year (valued at
    £2.25m) for £1.03m more public cash: £1.22m more net benefit. Pooled, the plan pays
    for itself in cash by 2010.'"""
    cur = inst.currency
    more = [f"{count(v)} more {phrase(inst.outcomes[k].name or k)}" for k, v in extra.items()
            if v > TOLERANCE * max(1.0, abs(v))]
    fewer = [f"{count(-v)} fewer {phrase(inst.outcomes[k].name or k)}"
             for k, v in extra.items() if v < -TOLERANCE * max(1.0, abs(v))]
    cut = HEADLINE_OUTCOMES - 1
    if len(more) > HEADLINE_OUTCOMES:
        more = [*more[:cut], f"more of {len(more) - cut} other outcomes"]
    if len(fewer) > HEADLINE_OUTCOMES:
        fewer = [*fewer[:cut], f"less of {len(fewer) - cut} other outcomes"]
    if more:
        text = "Pooling buys " + _join(more) + (", but " + _join(fewer) if fewer else "")
        text += " a year"
    elif fewer:
        text = "Pooling gives " + _join(fewer) + " a year"
    else:
        text = "Pooling buys the same outcomes"
    scale = max(1.0, abs(float(pooled.get("cost") or 0.0)))
    if abs(value) > TOLERANCE * scale:
        size = money(snap(abs(value)), cur)
        text += (f" (valued at {size})" if more and not fewer and value > 0 else
                 f" (worth {size} {'more' if value > 0 else 'less'} in all)")
    if cash < -TOLERANCE * scale:
        text += f" for {money(snap(-cash), cur)} more public cash"
    elif cash > TOLERANCE * scale:
        text += f" and saves {money(snap(cash), cur)} of public cash"
    else:
        text += " for the same public cash"
    if gain > TOLERANCE * scale:
        text += f": {money(snap(gain), cur)} more net benefit."
    elif gain < -TOLERANCE * scale:
        text += f": {money(snap(-gain), cur)} less net benefit."
    else:
        text += ": no change in net benefit."
    return text + " " + payback_sentence(pooled, "Pooled, the plan", inst.start_year + inst.years)


HEADLINE_OUTCOMES = 4
"""The headline names at most this many outcomes that rise (and as many that fall), in the
instance's order; the rest are counted."""


def payback_sentence(account: Mapping[str, Any], who: str, end: int) -> str:
    """'<who> pays for itself in cash by 2013.' when its cumulative discounted cash net
    turns non-negative within the plan and stays so to its end (cash_net >= 0); else
    '<who> does not pay for itself in cash by the end of <last year>.' (nothing when it
    spends nothing)."""
    cost = float(account.get("cost") or 0.0)
    if cost <= 0:
        return ""
    year, net = account.get("payback_year"), float(account.get("cash_net") or 0.0)
    if year is not None and net >= -TOLERANCE * cost:
        return f"{who} pays for itself in cash by {year}."
    return f"{who} does not pay for itself in cash by the end of {end - 1}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def phrase(name: str) -> str:
    """A name inside a sentence: 'Admissions avoided' -> 'admissions avoided' (acronyms kept)."""
    first = name.split(" ", 1)[0]
    if len(first) > 1 and first[1:].islower():
        return name[0].lower() + name[1:]
    return name


def ratio(value: float | None) -> str:
    """A rate such as a marginal value per pound: 0.4500."""
    return "-" if value is None or pd.isna(value) else f"{value:,.4f}"


def years(n: int) -> str:
    """'1 year', '5 years'."""
    return f"{n} year" if n == 1 else f"{n} years"


def count(value: float) -> str:
    """A count for people: 1,234 / 12.3 / 0.12."""
    if pd.isna(value):
        return "-"
    whole = abs(value - round(value)) <= 1e-9 * max(1.0, abs(value))
    digits = 0 if whole or abs(value) >= 100 else 1 if abs(value) >= 1 else 2
    return f"{value:,.{digits}f}"


def spending_table(result: RunResult) -> pd.DataFrame:
    """Cash over the plan on each intervention, split into in-fence and pooled money."""
    funding = result.table("funding")
    columns = ["scenario", "intervention", "fenced", "pooled", "amount"]
    if funding.empty:
        return pd.DataFrame(columns=columns)
    table = funding.groupby(["scenario", "intervention"], sort=False)[["amount", "pooled"]].sum()
    table["fenced"] = table["amount"] - table["pooled"]
    return table.reset_index()[columns]


def settlement_table(settlement: Mapping[str, list[Mapping[str, Any]]] | None) -> pd.DataFrame:
    """results.json's `settlement` as a table: scenario, from, to, amount, and `src`, where
    results.json holds the amount ('/'-separated path)."""
    rows = [{"scenario": scenario, "from": p["from"], "to": p["to"], "amount": float(p["amount"]),
             "src": f"settlement/{scenario}/{n}/amount"}
            for scenario, payments in (settlement or {}).items()
            for n, p in enumerate(payments)]
    return pd.DataFrame(rows, columns=["scenario", "from", "to", "amount", "src"])


def shapley_table(shapley: Mapping[str, Mapping[str, float]] | None,
                  errors: Mapping[str, Mapping[str, float] | None] | None = None
                  ) -> pd.DataFrame:
    """results.json's `shapley` (fair shares of the pooling gain) as a table: scenario, agency,
    value, src, and each sampled share's standard error (`errors`: scenario -> agency -> SE,
    the scenario's `pooling_game.standard_error`; NaN where the share is exact) and its
    se_src."""
    def error(scenario: str, agency: str) -> float:
        found = (errors or {}).get(scenario) or {}
        return float(found[agency]) if agency in found else math.nan

    rows = [{"scenario": scenario, "agency": agency, "value": float(value),
             "src": f"shapley/{scenario}/{agency}",
             "standard_error": error(scenario, agency),
             "se_src": f"scenarios/{scenario}/pooling_game/standard_error/{agency}"}
            for scenario, shares in (shapley or {}).items() for agency, value in shares.items()]
    return pd.DataFrame(rows, columns=["scenario", "agency", "value", "src", "standard_error",
                                       "se_src"])


def shapley_errors(result: RunResult) -> dict[str, dict[str, float] | None]:
    """Scenario -> its sampled Shapley shares' standard errors (None where exact)."""
    games = {s.name: s.extra.get("pooling_game") for s in result.scenarios}
    return {name: game.get("standard_error") for name, game in games.items()
            if isinstance(game, dict)}


SPREAD_COLUMNS = ["scenario", "reference", "draws", "optimal", "infeasible", "unbounded",
                  "no_plan", "mean", "p5", "p50", "p95", "compared", "p_beats_reference",
                  "positions_not_decided"]
COMMITTED_COLUMNS = ["scenario", "reference", "draws", "no_plan", "mean", "p5", "p50", "p95",
                     "compared", "p_beats_reference", "p_targets_met", "positions_not_decided"]
TORNADO_COLUMNS = ["n", "figure", "low", "central", "high", "objective_low", "objective_high",
                   "swing", "status_low", "status_high"]


def uncertainty_of(analyses: Mapping[str, Any]) -> Uncertainty | None:
    """results.json's `uncertainty`, `tornado` and `uncertainty_method` as tables (None for a
    run without draws)."""
    spread = analyses.get("uncertainty")
    if not spread:
        return None
    tornado, method = analyses["tornado"], analyses["uncertainty_method"]

    def table(kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = pd.DataFrame([{"scenario": name, **entry[kind]}
                              for name, entry in spread.items()])
        if kind == "hindsight":
            frame["no_plan"] = frame["infeasible"] + frame["unbounded"]
        worse = pd.DataFrame(
            [(name, agency, float(p)) for name, entry in spread.items()
             for agency, p in entry[kind]["p_worse_off"].items()],
            columns=["scenario", "agency", "probability"])
        columns = SPREAD_COLUMNS if kind == "hindsight" else COMMITTED_COLUMNS
        return frame.reindex(columns=columns), worse

    committed, worse = table("committed")
    hindsight, hindsight_worse = table("hindsight")
    figures = pd.DataFrame(tornado["figures"], columns=TORNADO_COLUMNS[1:])
    figures.insert(0, "n", range(len(figures)))
    return Uncertainty(
        draws=int(method["draws"]), seed=int(method["seed"]), figures=len(method["figures"]),
        main=tornado["scenario"], base=tornado["base"],
        spread=committed, worse_off=worse, hindsight=hindsight,
        hindsight_worse_off=hindsight_worse, tornado=figures)


FIGURE_PATH = re.compile(
    r"interventions\.(?P<item>[a-z0-9_]+)\.(?P<field>unit_cost|effects|savings|deadweight|"
    r"optimism_bias)(?:\.(?P<key>[a-z0-9_]+))?(?:\[(?P<year>\d+)\])?$")


def figure_name(inst: Instance, label: str) -> str:
    """An uncertain figure for people: 'interventions.falls.savings.acute' -> 'Falls
    service: saving to Acute trust'; 'unit_cost[2]' -> 'unit cost in 2012'."""
    found = FIGURE_PATH.match(label)
    if found is None or found["item"] not in inst.interventions:
        return label
    item = inst.interventions[found["item"]]
    key = found["key"] or ""
    what = {
        "unit_cost": "unit cost",
        "effects": "effect on " + phrase(display_name(inst.outcomes, key)),
        "savings": "saving to " + display_name(inst.agencies, key),
        "deadweight": "deadweight",
        "optimism_bias": "optimism bias",
    }[found["field"]]
    if found["year"] is not None:
        what += f" in {inst.start_year + int(found['year'])}"
    return f"{item.name or found['item']}: {what}"


def display_name(items: Mapping[str, Any], key: str) -> str:
    """An id's display name among `items` (the instance's agencies, outcomes...); the id itself
    when it has none."""
    item = items.get(key)
    return (getattr(item, "name", None) or key) if item is not None else key


def share(p: float | None) -> str:
    """A probability for people: 0% and 100% only when exact, '<1%' and '>99%' near them."""
    if p is None or pd.isna(p):
        return "-"
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1:
        return ">99%"
    return f"{p:.0%}"


OBJECTIVE_WORDS = {"net_benefit": "net benefit", "cost": "cost", "outcomes": "weighted outcomes"}


def uncertainty_sentences(story: Story) -> list[str]:
    """What the draws say, in a few sentences, the same in every report: about the
    headline's pooled scenario (else the tornado's), its reference and the tornado's top."""
    u = story.uncertainty
    if u is None:
        return []
    spread = u.spread.set_index("scenario")
    pooled = story.headline.pooled
    focus = pooled if pooled is not None and pooled in spread.index else u.main
    row = spread.loc[focus]
    said = [f"{u.draws:,} draws of {u.figures} uncertain figures (seed {u.seed}), each taken "
            "from its triangular range (low, central, high). Each scenario's plan at the "
            "central figures is committed money, and each draw says what that money "
            "delivers."]
    if pd.notna(row["p_beats_reference"]):
        said.append(f"Committed, {focus}'s plan beats {row['reference']}'s in "
                    f"{share(row['p_beats_reference'])} of the {row['compared']:,} draws.")
    if pd.notna(row["p5"]):
        said.append(f"Its {OBJECTIVE_WORDS[story.instance.objective]} lies between "
                    f"{story.objective_text(row['p5'])} and {story.objective_text(row['p95'])} "
                    f"in 90% of the draws (median {story.objective_text(row['p50'])}).")
    if pd.notna(row["p_targets_met"]) and any(
            o.target is not None for o in story.instance.outcomes.values()):
        said.append(f"It meets every target in {share(row['p_targets_met'])} of the draws.")
    unplanned = u.spread[u.spread["no_plan"] > 0]
    if not unplanned.empty:
        said.append("No plan to commit (infeasible or unbounded at the central figures): "
                    f"{_join(list(unplanned['scenario']))}.")
    back = u.hindsight.set_index("scenario").loc[focus]
    if pd.notna(back["p_beats_reference"]):
        said.append(f"Re-optimised with hindsight of each draw (what the best plan could have "
                    f"been, not what a commitment delivers), {focus} beats "
                    f"{back['reference']} in {share(back['p_beats_reference'])} of the "
                    f"{back['compared']:,} draws where both have a plan.")
    said += _not_decided_draws(row, back, focus)
    unsolved = u.hindsight[u.hindsight["no_plan"] > 0]
    if not unsolved.empty:
        parts = [f"{r.scenario} in {r.no_plan:,} of {r.draws:,}"
                 for r in unsolved.itertuples(index=False)]
        said.append("With hindsight some draws leave no plan (counted, not dropped): "
                    f"{_join(parts)}.")
    said += _worse_off_sentence(story, focus, row["reference"])
    said += _tornado_sentence(story)
    return said


def _not_decided_draws(committed: pd.Series, hindsight: pd.Series, scenario: str) -> list[str]:
    """Where draws leave which services run not decided (results.json's
    `positions_not_decided`), that no agency is read better or worse off in them."""
    said = []
    if (committed.get("positions_not_decided") or 0) > 0:
        said.append(f"Which services run is not decided in {scenario}'s plan at the central "
                    f"figures or in {committed['reference']}'s, so no agency's committed "
                    "position is read as better or worse off in any draw.")
    left = hindsight.get("positions_not_decided") or 0
    if left > 0:
        said.append(f"With hindsight, which services run is not decided in {int(left):,} of the "
                    f"{int(hindsight['compared']):,} draws where {scenario} and "
                    f"{hindsight['reference']} both have a plan: no agency is read as better or "
                    "worse off in those draws, and the chance of ending worse off with "
                    f"hindsight is over the other {int(hindsight['compared'] - left):,}.")
    return said


def robust_sentences(story: Story) -> list[tuple[str, str]]:
    """(scenario, sentence) for every scenario with a robust plan: how it and the central
    plan did, committed, over its sample, and at the central figures."""
    found = story.result.analyses.get("robust") or {}
    out = []
    for name, entry in found.items():
        if entry.get("plan") is None:
            out.append((name, f"{name}: {entry['note']}."))
            continue
        central = story.scenarios.set_index("scenario").loc[name, "objective"]
        words = OBJECTIVE_WORDS[story.instance.objective]
        kept = ("" if entry["plan"] == "sample average" else
                " The sample average LP's plan did no better, so the central plan is kept.")
        out.append((name, (
            f"{name}'s robust plan (one money allocation for all {entry['draws']:,} draws of "
            f"its sample, seed {entry['seed']}) has a mean committed {words} of "
            f"{story.objective_text(entry['mean'])} over the sample, against "
            f"{story.objective_text(entry['central_plan_mean'])} for the plan at the central "
            f"figures; at the central figures it gives {story.objective_text(entry['objective'])}"
            f" against {story.objective_text(central)}.{kept}")))
    return out


def _worse_off_sentence(story: Story, scenario: str, reference: str | None) -> list[str]:
    """The agencies most likely to end worse off in `scenario` than under its reference."""
    u = story.uncertainty
    assert u is not None
    mine = u.worse_off[u.worse_off["scenario"] == scenario]
    if mine.empty:
        return []
    worst = mine[mine["probability"] > 0].sort_values(
        "probability", ascending=False, kind="mergesort").head(3)
    if worst.empty:
        return [f"In no draw does any agency end worse off under {scenario}'s committed plan "
                f"than under {reference}'s."]
    parts = [f"{story.name('agencies', r.agency)} ({share(r.probability)}"
             + (" of draws)" if n == 0 else ")")
             for n, r in enumerate(worst.itertuples(index=False))]
    return [f"Most likely to end worse off under {scenario}'s committed plan (after the "
            f"transfers it agreed) than under {reference}'s: {_join(parts)}."]


def _tornado_sentence(story: Story) -> list[str]:
    """The figure that moves the tornado's scenario most."""
    u = story.uncertainty
    assert u is not None
    if u.tornado.empty:
        return []
    top = u.tornado.iloc[0]
    name = figure_name(story.instance, top["figure"])
    ends = [story.objective_text(top[f"objective_{end}"]) if top[f"status_{end}"] == "optimal"
            else f"no plan ({top[f'status_{end}']})" for end in ("low", "high")]
    return [f"The figure that moves {u.main} most is {name} ({top['low']:,.6g} to "
            f"{top['high']:,.6g}): {ends[0]} at its low, {ends[1]} at its high, against "
            f"{story.objective_text(u.base)} with every figure central."]


def provenance(result: RunResult) -> list[tuple[str, str]]:
    """Tool, library and solver versions, and the instance file's identity."""
    prepared = result.prepared
    return [
        ("Instance", result.instance.name),
        ("Instance file", prepared.path.name),
        ("Instance SHA-256", prepared.sha256),
        ("optimise version", __version__),
        ("Python version", platform.python_version()),
        ("Pyomo version", _version("pyomo")),
        ("HiGHS version", highs_version()),
        ("highspy version", _version("highspy")),
    ]


def _version(package: str) -> str:
    try:
        return package_version(package)
    except PackageNotFoundError:  # pragma: no cover - the dependencies are installed
        return "unknown"



def narrative(story: Story) -> list[str]:
    """A few plain sentences behind the headline, the same in every report (`_narrative`,
    told once a story)."""
    return list(_told_once(story, ("narrative",), partial(_narrative, story)))


def _told_once(story: Story, key: tuple[str, ...], tell: Callable[[], list[str]]) -> list[str]:
    """`tell()`, worked out the first time `key` is asked of `story` (`Story.told`)."""
    if key not in story.told:
        story.told[key] = tell()
    return story.told[key]


def _narrative(story: Story) -> list[str]:
    """`narrative`, worked out."""
    head = story.headline
    rows = story.scenarios.set_index("scenario")
    said: list[str] = []
    if head.net_benefit is not None and head.baseline and head.pooled:
        base, pool = rows.loc[head.baseline], rows.loc[head.pooled]
        said.append(
            f"Behind ring-fences ({head.baseline}) the plan spends {story.money(base['spend'])} "
            f"for {story.money(base['net_benefit'])} of net benefit; pooled ({head.pooled}) it "
            f"spends {story.money(pool['spend'])} for {story.money(pool['net_benefit'])} "
            "(present values).")
        said += [account_sentence(story, name) for name in optimal_names(story)]
        said += _moved_sentence(story, head.pooled)
        said += _outcome_sentences(story, head.baseline, head.pooled)
        said += _gainers_sentence(story, head.pooled)
    said += [f"Scenario {row.scenario} is {row.status}: {row.message.rstrip('.')}."
             for row in story.scenarios.itertuples(index=False) if row.status != "optimal"]
    said += list(price_sentences(story.result).values())[:1]
    for row in story.settlement.to_dict("records"):
        payer = story.name("agencies", row["from"])
        said.append(f"To settle {row['scenario']}, {payer} {verb(payer, 'pays')} "
                    f"{story.name('agencies', row['to'])} {story.money(row['amount'])}.")
    for scenario, short in story.shortfall.items():
        if (snap(short) or 0) > 0:
            said.append(f"In {scenario} the gain cannot make every loser whole: the "
                        f"settlement falls {story.money(short)} short.")
    return said + unsettled_sentences(story.unsettled)


def unsettled_sentences(unsettled: Mapping[str, str]) -> list[str]:
    """'No settlement is proposed for pooled: which services run is not decided in pooled:
    ...' for each scenario results.json's `settlement_not_decided` names."""
    return [f"No settlement is proposed for {name}: {why}." for name, why in unsettled.items()]


def optimal_names(story: Story) -> list[str]:
    """The scenarios with a plan, in declared order."""
    table = story.scenarios
    return [name for name, status in zip(table["scenario"].tolist(), table["status"].tolist(),
                                         strict=True) if status == "optimal"]


def by_key(frame: pd.DataFrame, keys: list[str], column: str) -> dict[tuple[Any, ...], Any]:
    """`frame`'s `column` by its rows' `keys` values: (k1, k2, ...) -> the value, as
    `frame.set_index(keys).loc[(k1, k2, ...), column]` gives it (a numpy scalar from a
    numeric column, the object itself from an object column), for lookups made row by row
    without indexing the frame each time. The keys must be unique."""
    return dict(zip(zip(*(frame[k].tolist() for k in keys), strict=True),
                    frame[column].to_numpy(), strict=True))


def _moved_sentence(story: Story, scenario: str) -> list[str]:
    """How much cash the pool moves out of ring-fences, and from which agencies' streams."""
    funding = story.result.table("funding")
    if funding.empty:
        return []
    mine = funding[funding["scenario"] == scenario]
    holder = {k: v.agency for k, v in story.instance.streams.items()}
    by_agency = mine.groupby(mine["stream"].map(holder), sort=False)["pooled"].sum()
    total = float(by_agency.sum())
    by_agency = by_agency[by_agency > TOLERANCE * max(1.0, total)].sort_values(
        ascending=False, kind="mergesort")
    if by_agency.empty:
        return ["Pooling moves no money across ring-fences: every stream's money stays "
                "inside its fence."]
    shown = 5 if len(by_agency) == 5 else 4
    parts = [f"{story.money(v)} from {story.name('agencies', k)}"
             for k, v in by_agency.iloc[:shown].items()]
    if len(by_agency) > shown:
        parts.append(f"{story.money(by_agency.iloc[4:].sum())} from "
                     f"{len(by_agency) - 4} other agencies")
    return [f"Pooling moves {story.money(total)} (cash over the plan) out of ring-fences: "
            f"{_join(parts)}."]


def _outcome_sentences(story: Story, baseline: str, pooled: str) -> list[str]:
    """Each outcome a year, ring-fenced against pooled, against its target."""
    if story.targets.empty:
        return []
    table = story.targets.set_index(["scenario", "outcome"])
    said = []
    for k in story.instance.outcomes:
        base, pool = table.loc[(baseline, k)], table.loc[(pooled, k)]
        target = "" if pd.isna(pool["target"]) else f" (target {count(pool['target'])})"
        said.append(f"{story.name('outcomes', k)}: {count(base['achieved'])} a year "
                    f"ring-fenced, {count(pool['achieved'])} pooled{target}.")
    return said


def _gainers_sentence(story: Story, scenario: str) -> list[str]:
    """Who gains and who loses in `scenario` against its reference (`reading` decides the
    words: a change that could be a gain or a loss among equally good plans is never
    called either)."""
    rows = story.gains[story.gains["scenario"] == scenario]
    if rows.empty or rows["gain"].isna().all():
        return []
    tol = change_tolerance(rows["gain"])
    listed = list(rows.itertuples(index=False))  # the rows read once, for each list below
    read = {r.agency: reading(r.gain, r.gain_low, r.gain_high, tol) for r in listed}
    either = [r for r in listed if read[r.agency] == "either"]
    open_ = [r for r in listed if read[r.agency] == "undecided"]

    def spread(r: Any) -> str:
        """' (from +£2.20m to +£2.40m)' beside a change equally good plans could move."""
        return (f" (from {range_text(story, r.gain_low, r.gain_high)})"
                if ranged(r.gain_low, r.gain_high, tol) else "")

    gain = [f"{named} {verb(named, 'gains')} {story.money(r.gain)}{spread(r)}"
            for r in listed if read[r.agency] == "gain"
            for named in [story.name("agencies", r.agency)]]
    loss = [f"{named} {verb(named, 'loses')} {story.money(-r.gain)}{spread(r)}"
            for r in listed if read[r.agency] == "loss"
            for named in [story.name("agencies", r.agency)]]
    none = [r for r in listed if read[r.agency] == "none"]
    same = [story.name("agencies", r.agency) for r in none if not spread(r)]
    alone = len(same) == 1 and not is_plural(same[0])
    parts = gain + loss + ([f"{_join(same)} {'is' if alone else 'are'} no worse "
                            "and no better off"] if same else [])
    parts += [f"{named} {'are' if is_plural(named) else 'is'} no worse and no better off"
              f"{spread(r)}" for r in none if spread(r)
              for named in [story.name("agencies", r.agency)]]
    said = f"Against {rows['reference'].iloc[0]}: {_join(parts)}." if parts else ""
    if either:
        ruled = [f"{story.name('agencies', r.agency)} {signed_money(story, r.gain)} "
                 f"(from {range_text(story, r.gain_low, r.gain_high)})" for r in either]
        said += (f"{' ' if said else ''}Where equally good plans could make it a gain or a "
                 f"loss, the rules (least pooling, then proportional shares) decide: "
                 f"{_join(ruled)}.")
    if open_:
        shown = [f"{story.name('agencies', r.agency)} {signed_money(story, r.gain)}"
                 for r in open_]
        said += (f"{' ' if said else ''}Which services run is not decided against "
                 f"{rows['reference'].iloc[0]}, so equally good sets of services could change "
                 f"these positions, and none is called a gain or a loss: {_join(shown)}.")
    marked = rows["decided_by_rule"].astype(bool).any() and not either
    note = (" Where a range follows a figure, equally good plans could give any figure in "
            "it; the rules (least pooling, then proportional shares) chose the one shown."
            if marked and any(ranged(r.gain_low, r.gain_high, tol)
                              for r in listed) else
            " Some of these positions were decided by rule (see the notes)." if marked else "")
    return [f"{said}{note}"]


def who_gains(story: Story) -> list[str]:
    """Who gains and who loses in the headline's pooled scenario against its reference, in
    a sentence (none when the headline compares nothing): what the terminal prints under
    the headline, as the documents' narrative says it."""
    head = story.headline
    if head.net_benefit is None or head.pooled is None:
        return []
    return _gainers_sentence(story, head.pooled)


FAR_BELOW = 0.5
"""An agency's fair share is 'far below' its gain from pooling when it is at most this share
of it (in money: its Shapley share for a money objective, its share of the plan's cash
under fair shares for the outcomes objective)."""


def fair_shares_of(story: Story, scenario: str) -> dict[str, float]:
    """Agency -> its fair (Shapley) share of the pooling gain in `scenario`: the Shapley
    analysis's, else those its fair-shares agreement found; empty when there are none."""
    shares = story.result.analyses.get("shapley", {}).get(scenario)
    if not shares:
        agreed = story.result.scenario(scenario).extra.get("agreement")
        shares = agreed.get("shapley") if isinstance(agreed, dict) else None
    return {str(a): float(v) for a, v in (shares or {}).items()}


def fair_cash(share: float, gain: float, surplus: float) -> float:
    """What fair shares pay an agency in cash against its reference: phi_a S / G, its
    Shapley share phi_a of the pooling gain G = sum_b phi_b scaled to the cash S the plan's
    positions gain (`optimiser.analyses.agreements`); 0 when pooling gains nothing."""
    return share * surplus / gain if abs(gain) > MONEY_TOLERANCE else 0.0


MONEY_TOLERANCE = 1e-6
"""Money (or a gain) within this of zero is none."""


def fair_share_notes(story: Story, scenario: str) -> list[str]:
    """For each agency the plan leaves better off than its reference (a gain whichever
    equally good plan is bought: `reading`) whose fair (Shapley) share of the pooling gain
    is 0 or far below that gain (`FAR_BELOW`): what it gains, why its fair share is what
    it is, and what a fair settlement would ask of it. Under fair shares it ends at its
    reference position plus phi_a S / G (`fair_cash`), so it would pass on
    g_a - phi_a S / G; under a fair-shares agreement, what the agreement moves (told once
    a story and scenario)."""
    return list(_told_once(story, ("fair_share_notes", scenario),
                           partial(_fair_share_notes, story, scenario)))


def _fair_share_notes(story: Story, scenario: str) -> list[str]:
    """`fair_share_notes`, worked out."""
    shares = fair_shares_of(story, scenario)
    if not shares:
        return []
    s = story.result.scenario(scenario)
    game = s.extra.get("pooling_game")
    players = set(game.get("players", [])) if isinstance(game, dict) else set(shares)
    agreed = s.extra.get("agreement")
    fair = isinstance(agreed, dict) and agreed.get("kind") == "fair_shares"
    rows = story.gains[story.gains["scenario"] == scenario]
    if rows.empty:
        return []
    tol = change_tolerance(rows["plan"])
    gain, surplus = sum(shares.values()), float(rows["plan"].sum())
    money_shares = story.instance.objective != "outcomes"
    said = []
    for r in rows.itertuples(index=False):
        if reading(r.plan, r.plan_low, r.plan_high, tol) != "gain":
            continue
        phi = shares.get(r.agency, 0.0)
        kept = fair_cash(phi, gain, surplus)
        if (phi if money_shares else kept) > FAR_BELOW * r.plan:
            continue
        named = story.name("agencies", r.agency)
        many = is_plural(named)
        its, it, has = ("their", "they", "have") if many else ("its", "it", "has")
        them = "them" if many else "it"
        text = f"{named} {verb(named, 'gains')} {story.money(r.plan)} from pooling"
        if scenario_moves(story, scenario):
            text += " as the plan leaves it"
        if abs(phi) <= tol:
            why = (f"{it} {has} no money {it} may put into the pool, so no group of partners "
                   f"achieves more with {them} than without" if r.agency
                   not in players else
                   f"the money {it} may pool adds nothing the other partners' money does not "
                   "already buy, so no group of partners achieves more with it than without it")
            text += (f", but {its} fair (Shapley) share of the gain is "
                     f"{story.objective_text(0.0)}: {why}. {it.capitalize()} "
                     f"{'gain' if many else 'gains'} because the others' pooled money buys "
                     f"services that save {them} money.")
        else:
            shown = (exact_money(story, phi) if money_shares else story.objective_text(phi))
            text += (f", but {its} fair (Shapley) share of the gain is only "
                     f"{shown}: what the money {it} may pool adds, on "
                     "average, to what each group of partners achieves without it. The rest "
                     f"of {its} gain comes from the others' pooled money buying services that "
                     f"save {them} money.")
        passed = r.plan - kept
        if passed > tol:
            keep = ("" if abs(kept) <= tol else
                    f", keeping {exact_money(story, kept)}" + (
                        "" if abs(kept - phi) <= tol * max(1.0, abs(phi)) or not money_shares
                        else f", {its} share scaled to the cash the plan gains"))
            text += (f" A fair settlement (agreement: fair_shares) would ask {them} to pass on "
                     + (f"{its} gain of {story.money(r.plan)}" if not keep else
                        f"{story.money(passed)} of {its} gain")
                     + f" to the partners whose money made it{keep}.")
            if fair and r.moves < -tol:
                text += f" This scenario's agreement does so: it moves {story.money(-r.moves)}."
        said.append(text)
    return said


def exact_money(story: Story, value: float) -> str:
    """Short money, to the penny below 100 units (£2.50; £1.23m)."""
    return pence(value, story.currency) if abs(value) < 100 else story.money(value)


def scenario_moves(story: Story, scenario: str) -> bool:
    """Whether `scenario` has an agreement (which moves money after the plan)."""
    return agreement_kind(story, scenario) is not None


def agreement_kind(story: Story, scenario: str) -> str | None:
    """The kind of `scenario`'s agreement as results.json has it ('gain_share',
    'risk_share', 'fair_shares'), None without one."""
    agreed = story.result.scenario(scenario).extra.get("agreement")
    return str(agreed["kind"]) if isinstance(agreed, dict) else None


AGREEMENT_NAMES = {"gain_share": "gain share", "risk_share": "risk share",
                   "fair_shares": "fair shares"}
"""An agreement's kind in words."""


def percent(share: float) -> str:
    """A share of a risk share, as exact as written: 50%, 37.5%."""
    return f"{100 * share:.10g}%"


def agreement_sentences(story: Story, scenario: str) -> list[str]:
    """What `scenario`'s agreement does, in words (`agreement_words`), then, where which
    services run is not decided, that its payments are not (`agreement_not_decided`)."""
    said = agreement_words(story, scenario)
    return said + agreement_not_decided(story.result, scenario) if said else said


def agreement_not_decided(result: RunResult, scenario: str) -> list[str]:
    """Where which services run is not decided in `scenario` or its reference
    (`services_decided`), that what its agreement moves is not decided either: every
    agreement moves money by the changes g_a = P_a - Pref_a (or their sum S), which equally
    good sets of services could change. The payments stay in results.json as the plan
    found leaves them, marked by the scenario's `mip.services_decided`."""
    ref = result.scenario(scenario).reference
    open_ = [n for n in (scenario, ref) if n is not None and not services_decided(result, n)]
    if not open_:
        return []
    return [f"What {scenario}'s agreement moves is not decided: which services run is not "
            f"decided in {_join(open_)}, so equally good sets of services could change each "
            "partner's position and so the payments, which are shown as the set of services "
            "found leaves them."]


def agreement_words(story: Story, scenario: str) -> list[str]:
    """What `scenario`'s agreement does, in words: its kind and rule, the cash the plan
    gains or costs against the reference, and for fair shares the cash gap (the part of
    the pooling gain that is the value of outcomes no budget receives, which fair shares
    in cash cannot pay)."""
    agreed = story.result.scenario(scenario).extra.get("agreement")
    if not isinstance(agreed, dict):
        return []
    ref, surplus, kind = str(agreed["reference"]), float(agreed["surplus"]), str(agreed["kind"])
    tol = MONEY_TOLERANCE * max(1.0, abs(surplus))
    cash = (f"the {story.money(surplus)} the plan gains in cash against {ref}" if surplus > tol
            else f"the {story.money(-surplus)} the plan costs in cash against {ref}"
            if surplus < -tol else f"what the plan gains in cash against {ref} (nothing)")
    low, high = divided_range(agreed)
    ranged = [f"Equally good plans could gain anywhere from {signed_money(story, low)} to "
              f"{signed_money(story, high)} in cash against {ref} (services exactly as good "
              "by the objective, one saving cash and another buying valued outcomes), so "
              "where each partner ends is shown with its range."] if high - low > tol else []
    if kind == "gain_share":
        said = [f"{scenario}'s agreement is a gain share: each partner the plan leaves below "
                f"its position in {ref} is made whole by those above theirs, in proportion "
                "to how far each is above."]
        if surplus < -tol:
            said.append(f"Together the positions fall {story.money(-surplus)} short of "
                        f"{ref}'s, so the gains cannot make every loser whole: each is made "
                        "good in the same proportion.")
        return said + ranged
    if kind == "risk_share":
        shares = {a: float(v) for a, v in (agreed.get("shares") or {}).items() if v}
        parts = [f"{story.name('agencies', a)} {percent(v)}" for a, v in shares.items()]
        said = [f"{scenario}'s agreement is a risk share (a section 75 pooled fund's agreed "
                f"shares): {cash} is shared {_join(parts)}; every other agency ends where "
                f"{ref} leaves it, whatever the plan gives or takes from it."]
        return said + ranged
    said = [f"{scenario}'s agreement is fair shares: each partner ends at its position in "
            f"{ref} plus its fair (Shapley) share of what pooling gains."]
    if "gain" not in agreed or "cash_gap" not in agreed:
        said.append(f"Here {agreed.get('note', 'there are no fair shares')}.")
        return said
    gain, gap = float(agreed["gain"]), float(agreed["cash_gap"])
    if story.instance.objective == "outcomes":
        said.append(f"The pooling gain is {story.objective_text(gain)} weighted outcomes; "
                    f"{cash} is shared in proportion to each partner's share of it.")
    elif abs(gap) <= MONEY_TOLERANCE * max(1.0, abs(gain)):
        said.append(f"The pooling gain, {story.money(gain)}, is all cash the plan's positions "
                    "gain, so each partner is paid its whole share in cash.")
    elif gap > 0:
        said.append(f"The pooling gain is {story.money(gain)}, but {cash} is "
                    f"{story.money(gap)} less: that much of the gain is the value of outcomes "
                    "that no budget receives. So each partner is paid its share of the gain "
                    f"scaled to the cash ({surplus / gain:.0%} of it), and paying every "
                    f"partner its whole share in cash would need {story.money(gap)} more "
                    "than the plan's positions hold.")
    else:
        said.append(f"The pooling gain is {story.money(gain)}, and {cash} is "
                    f"{story.money(-gap)} more, so each partner is paid its share of the gain "
                    f"scaled to the cash ({surplus / gain:.0%} of it).")
    return said + ranged


def compared_scenarios(story: Story) -> list[str]:
    """The scenarios whose agencies' positions the reports set against a reference: the
    headline's pooled scenario, then every other with a plan and an agreement, in
    declared order."""
    head = story.headline
    shown = [head.pooled] if head.net_benefit is not None and head.pooled else []
    for s in story.result.scenarios:
        if (s.status == "optimal" and s.name not in shown and scenario_moves(story, s.name)
                and s.reference is not None
                and story.result.scenario(s.reference).status == "optimal"):
            shown.append(s.name)
    return [n for n in shown if n is not None]


PLURAL_WORD = re.compile(r"[a-z]{2,}(?<![sui])s$|[A-Z]{2,}s$")
"""A plural English noun: 'trusts', 'Services', 'PCTs' (not 'business', 'Plus', 'NHS')."""


def is_plural(name: str) -> bool:
    """Whether an agency's name reads as plural, so that its verb agrees: 'Acute hospital
    trusts lose', 'Dorset Police loses'. Its head noun is the last word before any
    bracket, comma, 'of', 'for', 'in' or 'and' ('Borough of Poole', 'Dorset Fire and Rescue
    Service' are singular), and it is plural when it ends in an s that is not part of
    -ss, -us or -is ('Jobcentre Plus', 'NHS' are singular)."""
    head = re.split(r"\s*[(,]|\s+(?:of|for|in|and)\s+", name, maxsplit=1)[0].split()
    return bool(head) and PLURAL_WORD.search(head[-1]) is not None


def verb(name: str, singular: str) -> str:
    """The verb `singular` ('gains', 'loses', 'pays') agreeing with the agency `name`:
    'gain', 'lose', 'pay' after a plural name."""
    return singular.removesuffix("s") if is_plural(name) else singular


APPRAISAL: list[tuple[str, str, str]] = [
    ("Costs (PV)", "cost", "money"),
    ("Cashable savings (PV)", "cash_savings", "money"),
    ("Net cash: savings less costs (PV)", "cash_net", "money"),
    ("Valued outcomes (PV)", "outcome_value", "money"),
    ("Net present social value", "net_benefit", "money"),
    ("Financial return: savings per unit of cost", "financial_return", "ratio"),
    ("Public value return: savings and outcomes per unit of cost", "public_value_return",
     "ratio"),
    ("Pays for itself in cash by", "payback_year", "year"),
]
"""The appraisal table in the Green Book's terms: (row label, `account` field, kind), the
same rows in every report."""


def account_text(story: Story, kind: str, value: Any) -> str:
    """An account figure for a table: money in whole units, a return to two places ('1.27'),
    a payback year ('2013', or 'not within the plan')."""
    if kind == "money":
        return story.full(value)
    if value is None or pd.isna(value):
        return "not within the plan" if kind == "year" else "-"
    if kind == "year":
        return str(int(value))
    return f"{float(value):,.2f}"


def account_sentence(story: Story, scenario: str) -> str:
    """One scenario's account in words, both halves: 'pooled spends £63.20m and gets back
    £67.20m in cashable savings (net cash +£4.00m), and buys outcomes valued at £12.99m:
    £16.99m of net benefit (present values). It pays for itself in cash by 2010.'"""
    a = story.result.scenario(scenario).account
    text = (f"{scenario} spends {story.money(a['cost'])} and gets back "
            f"{story.money(a['cash_savings'])} in cashable savings (net cash "
            f"{signed_money(story, a['cash_net'])}), and buys outcomes valued at "
            f"{story.money(a['outcome_value'])}: {story.money(a['net_benefit'])} of net "
            "benefit (present values).")
    inst = story.instance
    tail = payback_sentence(a, "It", inst.start_year + inst.years)
    return text + (" " + tail if tail else "")


def signed_money(story: Story, value: float | None, full: bool = False) -> str:
    """Short money with its sign: +£4.00m, -£1.34m (whole units with `full`: +£4,001,234)."""
    shown = snap(value)
    return ("+" if (shown or 0) > 0 else "") + (story.full(shown) if full
                                                else story.money(shown))


def valued_outcomes(story: Story) -> list[tuple[str, float, str]]:
    """Each outcome the instance values: (display name, value per unit, where the value comes
    from: its source or assumption as written beside it, or '' when none is)."""
    notes = story.assumptions.set_index("path")["note"] if not story.assumptions.empty else {}
    out = []
    for k, spec in story.instance.outcomes.items():
        value = float(spec.value or 0.0)
        if value:
            note = notes.get(f"outcomes.{k}.value", "") if len(notes) else ""
            out.append((story.name("outcomes", k), value, str(note)))
    return out


def loss_makers(story: Story, scenario: str) -> list[tuple[str, float]]:
    """The interventions a scenario buys whose net benefit is negative (cost above the cash
    they return within the horizon and the value of their outcomes): (display name, their
    net benefit, present value), most negative first. They are bought for another reason: a
    minimum, a target, a floor, or the objective (cost or outcomes) being another."""
    s = story.result.scenario(scenario)
    if s.status != "optimal" or s.data is None:
        return []
    data = replace(s.data, objective="net_benefit")
    shape = (len(data.interventions), data.years)
    x = s.allocation["units"].to_numpy(dtype=float).reshape(shape)
    cost = s.allocation["cost"].to_numpy(dtype=float).reshape(shape)  # set-up costs included
    each = ((benefit_coefficients(data) * effective_units(data, x)).sum(axis=1)
            - cost @ data.discount)
    scale = max(1.0, float(np.abs(each).sum()))
    found = [(story.name("interventions", i), float(v))
             for i, v in zip(data.interventions, each, strict=True) if v < -TOLERANCE * scale]
    return sorted(found, key=lambda p: p[1])


def net_benefit_paragraph(story: Story) -> str:
    """What net benefit is made of, in one paragraph: cash savings minus cost plus valued
    outcomes (each named with its value per unit and its source), worked for the headline's
    pooled scenario (else the first with a plan), and why a net benefit can be negative."""
    names = optimal_names(story)
    if not names:
        return ""
    pooled = story.headline.pooled
    focus = pooled if pooled is not None and pooled in names else names[0]
    a = story.result.scenario(focus).account
    said = [f"Net benefit is cashable savings minus cost plus outcomes valued in money. In "
            f"{focus}: {story.money(a['cash_savings'])} of cashable savings less "
            f"{story.money(a['cost'])} of cost (net cash "
            f"{signed_money(story, a['cash_net'])}) plus "
            f"{story.money(a['outcome_value'])} of valued outcomes makes "
            f"{story.money(a['net_benefit'])} (present values)."]
    valued = valued_outcomes(story)
    if valued:
        parts = [f"{phrase(name)} at {story.full(v)} each"
                 + (f" ({note})" if note else " (no source given)") for name, v, note in valued]
        said.append("The outcomes are valued at the instance's figures: " + _join(parts) + ".")
        said.append("That value is money no budget receives: a plan can add net benefit "
                    "while it costs public cash.")
    else:
        said.append("The instance values no outcome in money, so net benefit here is cash "
                    "alone.")
    said.append("A net benefit can be negative: services can be kept for their own sake "
                "(a minimum to deliver, a target to meet, an agency's floor) though they "
                "cost more than the cash they return and the value put on what they achieve.")
    for name in [focus, *[n for n in names if n != focus]]:
        kept = loss_makers(story, name)
        if kept:
            shown = [f"{n} ({story.money(v)})" for n, v in kept[:3]]
            more = f" and {len(kept) - 3} more" if len(kept) > 3 else ""
            said.append(f"In {name}, {_join(shown)}{more} "
                        f"{'is' if len(kept) == 1 else 'are'} bought at a net loss.")
            break
    return " ".join(said)


RATE_NAMES = {0.035: "the Green Book's 3.5%", 0.015: "the Green Book's 1.5% for health effects"}


def rate_name(rate: float, own: float) -> str:
    """A discount rate in words: 'the Green Book's 3.5%', or '6.0% (this instance's own)'."""
    for known, words in RATE_NAMES.items():
        if abs(rate - known) <= 1e-12:
            return words + (" (this instance's own)" if abs(rate - own) <= 1e-12 else "")
    return f"{rate:.1%}" + (" (this instance's own)" if abs(rate - own) <= 1e-12 else "")


def discount_table(result: RunResult) -> pd.DataFrame:
    """results.json's `discount_sensitivity` as a table: rate, scenario, status, objective,
    net_benefit, cash_net, outcome_value, payback_year, rank (1 best; blank without a plan);
    empty when the analysis did not run."""
    entry = result.analyses.get("discount_sensitivity")
    columns = ["rate", "scenario", "status", "objective", "net_benefit", "cash_net",
               "outcome_value", "payback_year", "rank", "src"]
    if not entry:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, at in entry["by_rate"].items():
        ranks = {n: k for k, n in enumerate(at["ranking"], start=1)}
        for name, s in at["scenarios"].items():
            a = s["account"]
            rows.append({"rate": float(key), "scenario": name, "status": s["status"],
                         "objective": s["objective"], "net_benefit": a["net_benefit"],
                         "cash_net": a["cash_net"], "outcome_value": a["outcome_value"],
                         "payback_year": a["payback_year"], "rank": ranks.get(name),
                         "src": f"discount_sensitivity/by_rate/{key}/scenarios/{name}"})
    frame = pd.DataFrame(rows, columns=columns)
    frame["rank"] = frame["rank"].astype("Int64")
    frame["payback_year"] = frame["payback_year"].astype("Int64")
    return frame


def discount_sentences(story: Story) -> list[str]:
    """What the discount rate changes: whether the ranking of the scenarios holds at every
    rate tried, and which pairs swap where it does not."""
    entry = story.result.analyses.get("discount_sensitivity")
    if not entry:
        return []
    own = float(entry["own_rate"])
    tried = _join([rate_name(r, own) for r in entry["rates"]])
    ranked = entry["by_rate"]
    if len(next(iter(ranked.values()))["ranking"]) < 2:
        return [f"Solved again at {tried}; fewer than two scenarios have a plan, so there is "
                "no ranking to compare."]
    if not entry["ranking_changes"]:
        best = next(iter(ranked.values()))["ranking"][0]
        return [f"The ranking of the scenarios is the same at {tried}: {best} comes first "
                "at every rate."]
    said = [f"The ranking of the scenarios depends on the discount rate ({tried} tried):"]
    parts = [f"at {rate_name(r['rate'], own)}, {r['better']} beats {r['worse']}"
             for r in entry["reversals"]]
    said.append(_join(parts) + f", the other way round from the instance's own "
                f"{own:.1%}.")
    return [" ".join(said)]


LIMIT_WORDS = {"max_units": "cap", "min_units": "minimum", "target": "target",
               "max_net_cost": "floor (max_net_cost)", "budget": "budget"}
LIMIT_KINDS = {"max_units": "interventions", "min_units": "interventions",
               "target": "outcomes", "max_net_cost": "agencies", "budget": "streams"}


def limits_focus(story: Story) -> str | None:
    """The scenario whose limits the reports tell in words: the headline's pooled scenario,
    else the first with limits listed."""
    entry = story.result.analyses.get("limits") or {}
    if story.headline.pooled in entry:
        return story.headline.pooled
    return next(iter(entry), None)


def gain_text(story: Story, value: float | None) -> str:
    """A limit's price in the objective's units: money to the penny, or weighted outcomes."""
    if value is None or missing(value):
        return "-"
    if story.instance.objective == "outcomes":
        return f"{value:,.4g} weighted outcomes"
    return pence(value, story.currency) if abs(value) < 100 else story.full(value)


ROOM_WORDS = {"max_units": ("one more {unit} a year of {name}", "one fewer"),
              "min_units": ("a minimum of {name} lower by one {unit} a year", "one higher"),
              "target": ("a target for {name} one lower", "one higher"),
              "budget": ("{cur}1 more a year in {name}", "{cur}1 less"),
              "max_net_cost": ("letting {name} lose {cur}1 more", "{cur}1 less")}
"""Each kind of limit's one unit more room, and (after the semicolon) one unit less."""


def limit_rows(story: Story) -> list[tuple[dict[str, Any], str]]:
    """Every row of `story.limits` (as a dict, in order) with its `limit_reading`: worked
    out once for every document (each reads the same limits)."""
    if story.limit_rows is None:
        story.limit_rows = [(r, limit_reading(story, r))
                            for r in story.limits.to_dict("records")]
    return story.limit_rows


def focus_limits(story: Story, focus: str) -> list[tuple[dict[str, Any], str]]:
    """The limits of scenario `focus` with their readings (`limit_rows`)."""
    return [(r, text) for r, text in limit_rows(story) if r["scenario"] == focus]


def limit_reading(story: Story, limit: dict[str, Any]) -> str:
    """What a limit's two rates (`optimiser.analyses.limits`: gain g with one unit more
    room, loss l with one unit less; `pricing`) mean for a finance lead, in one sentence
    every document uses: 'binding' (g = l > 0) 'one more ... is worth g; one fewer costs the
    same'; 'reached' (g = l = 0) the plan touches it at no cost; 'degenerate' (g != l) both
    figures, and that they differ because another limit binds at the same point; 'edge'
    (l None) one unit less leaves no plan that meets every limit."""
    kind = str(limit["kind"])
    name = story.name(LIMIT_KINDS[kind], str(limit["item"]))
    unit = str(limit.get("unit") or "unit").removesuffix(" a year")
    cur = currency_symbol(story.currency)
    more, less = (w.format(unit=unit, name=name, cur=cur) for w in ROOM_WORDS[kind])
    gain, loss, how = limit.get("gain"), limit.get("loss"), limit.get("pricing")
    gained = {"net_benefit": " of net benefit", "cost": " off the cost",
              "outcomes": ""}[story.instance.objective]
    lost = {"net_benefit": " of net benefit", "cost": " on the cost",
            "outcomes": ""}[story.instance.objective]
    if gain is None or pd.isna(gain) or how is None or pd.isna(how):
        return f"Not priced: the plan could not be solved again to price {more}."
    worth = f"{more[0].upper()}{more[1:]} is worth {gain_text(story, gain)}{gained}"
    if how == "reached":
        return f"The plan just touches this limit: {more} is worth nothing, {less} costs nothing."
    if how == "edge":
        return f"{worth}; {less} leaves no plan that meets every limit."
    if how == "degenerate":
        return (f"{worth}; {less} costs {gain_text(story, loss)}{lost}: the two differ "
                "because another limit binds at the same point.")
    return f"{worth}; {less} costs the same."


def limits_sentences(story: Story) -> list[str]:
    """What limits the plan, in words: how many interventions sit at their cap and how many
    of those caps are assumptions (and, where it is so, that the plan is mostly the caps),
    then the three limits whose relaxing would gain most."""
    focus = limits_focus(story)
    if focus is None:
        return []
    body = story.result.analyses["limits"][focus]
    said = []
    if body["at_cap"]:
        said.append(
            f"In {focus}, {body['at_cap']} of the {body['bought']} interventions it buys sit "
            f"at their cap (max_units) in some year, and {body['caps_assumed']} of those caps "
            f"{'is' if body['caps_assumed'] == 1 else 'are'} not sourced (an assumption, "
            "arithmetic on assumptions, or given no source)"
            + (": the answer is mostly the caps, so the plan is as good as the caps are."
               if body["mostly_caps"] else "."))
    else:
        said.append(f"In {focus}, no intervention sits at its cap.")
    priced = [e for e in body["limits"] if e["gain"] is not None and e["gain"] > 0]
    priced.sort(key=lambda e: -e["gain"])
    what = {"net_benefit": "of net benefit", "cost": "off the cost",
            "outcomes": ""}[story.instance.objective]
    parts = []
    for e in priced[:3]:
        name = story.name(LIMIT_KINDS[e["kind"]], e["item"])
        verb = {"max_units": "one more", "min_units": "one fewer", "target": "a target one lower",
                "budget": "one more", "max_net_cost": "one more"}[e["kind"]]
        unit = e["unit"]
        if e["kind"] == "target":
            thing = f"{verb} for {phrase(name)}"
        elif e["kind"] == "budget":
            thing = f"{verb} {story.currency} a year in {name}"
        elif e["kind"] == "max_net_cost":
            thing = f"letting {name} lose {story.currency} 1 more"
        else:
            thing = f"{verb} {unit.removesuffix(' a year')} of {name} a year"
        parts.append(f"{thing} ({LIMIT_WORDS[e['kind']]}, "
                     f"{'sourced' if e['basis'] == 'source' else e['basis']}) would add "
                     f"{gain_text(story, e['gain'])}{' ' + what if what else ''}")
    if parts:
        said.append("At the margin, " + _join(parts) + ".")
    corner = sum(e["pricing"] == "degenerate" for e in body["limits"])
    edge = sum(e["pricing"] == "edge" for e in body["limits"])
    if corner:
        said.append(f"{corner} of these limits {'meets' if corner == 1 else 'meet'} another "
                    "at the same point of the plan: one unit more room there gains less than "
                    "one unit less loses, and the table gives both figures.")
    if edge:
        said.append(f"{edge} {'limit is' if edge == 1 else 'limits are'} at the edge of what "
                    "the plan can meet: one unit less room leaves no plan.")
    elif not body["priced"]:
        said.append("The solver gave no prices for these limits.")
    return said
