"""The instance schema (first validation pass): field names, types and ranges.

Every model forbids unknown fields, so a misspelt field is an error, never ignored.
Cross-references (ids that must exist, per-year list lengths) are checked in
`optimiser.inputs.validate`, the second pass.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
"""An id: lower-case letters, digits and underscores."""

MAX_YEARS = 100
"""The longest plan, in years (and the longest lag)."""
MAX_FIGURE = 1e15
"""The largest figure an instance may give (HiGHS reads 1e20 and above as 'no limit')."""

Finite = Annotated[float, Field(ge=-MAX_FIGURE, le=MAX_FIGURE, allow_inf_nan=False, strict=True)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_FIGURE, allow_inf_nan=False, strict=True)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)]
PerYear = NonNegative | list[NonNegative]
"""One figure for every year, or a list with one figure per year."""
_CONTROL_CODES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                            "\ud800-\udfff\ufffe\uffff]")


def _one_line(text: str) -> str:
    """A name or unit: one line of text, without control characters."""
    found = _CONTROL_CODES.search(text)
    if found:
        raise ValueError(f"must be one line of text without control characters (it has "
                         f"U+{ord(found.group()):04X} at character {found.start() + 1})")
    return text


def _prose(text: str) -> str:
    """Free text (a description, a source): lines of text, without other control characters."""
    return _one_line(text.replace("\n", " ").replace("\t", " "))


Text = Annotated[str, StringConstraints(min_length=1), AfterValidator(_one_line)]
"""A name or unit: one line of text."""
Prose = Annotated[str, AfterValidator(_prose)]
"""Free text: lines of text (a description, a source)."""


class Strict(BaseModel):
    """Base for every schema model: unknown fields are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


AgencyKind = Literal[
    "council", "pct", "icb", "acute_trust", "mental_health_trust", "community_trust",
    "ambulance_trust", "police", "fire", "probation", "jcp", "central_government",
    "voluntary", "other",
]
"""Kinds of agency, as a national roll-up adds them up: councils (county, district,
unitary, metropolitan and London boroughs alike), primary care trusts (the NHS commissioners
until 2013), integrated care boards (the commissioners since July 2022), NHS trusts by
what they provide, police, fire and rescue, probation, Jobcentre Plus and the rest."""


class Range(Strict):
    """An uncertain figure: a triangular distribution from low to high, peaking at central.

    A plain run uses `central`; `optimise --draws` samples it. `low <= central
    <= high` is checked in the second pass (`optimiser.inputs.validate`).
    """

    low: Finite = Field(description="Least plausible value.")
    central: Finite = Field(description="Most likely value; what a plain run uses.")
    high: Finite = Field(description="Greatest plausible value.")


class CostRange(Range):
    """An uncertain unit cost: a `Range` that is never negative."""

    low: NonNegative = Field(description="Least plausible cost.")
    central: NonNegative = Field(description="Most likely cost; what a plain run uses.")
    high: NonNegative = Field(description="Greatest plausible cost.")


class ShareRange(Range):
    """An uncertain share (deadweight, optimism bias): a `Range` within [0, 1]."""

    low: Share = Field(description="Least plausible share.")
    central: Share = Field(description="Most likely share; what a plain run uses.")
    high: Share = Field(description="Greatest plausible share.")


UNION_TAGS = frozenset({"one-figure", "low-central-high", "per-year-list"})
"""The names a figure's shapes go by in pydantic's error locations (never a valid id)."""


def _shape(value: Any) -> str:
    """Which shape a figure is written in: a mapping is a range, a list is per year."""
    if isinstance(value, dict | Range):
        return "low-central-high"
    if isinstance(value, list):
        return "per-year-list"
    return "one-figure"


Uncertain = Annotated[
    Annotated[Finite, Tag("one-figure")] | Annotated[Range, Tag("low-central-high")],
    Discriminator(_shape),
]
"""A figure that may be uncertain: a number, or `{low: a, central: b, high: c}`."""
UncertainCost = Annotated[
    Annotated[NonNegative, Tag("one-figure")] | Annotated[CostRange, Tag("low-central-high")],
    Discriminator(_shape),
]
"""A unit cost that may be uncertain (never negative)."""
UncertainShare = Annotated[
    Annotated[Share, Tag("one-figure")] | Annotated[ShareRange, Tag("low-central-high")],
    Discriminator(_shape),
]
"""A share that may be uncertain (deadweight, optimism bias): in [0, 1], or a range within it."""
UncertainPerYear = Annotated[
    Annotated[NonNegative, Tag("one-figure")]
    | Annotated[CostRange, Tag("low-central-high")]
    | Annotated[list[UncertainCost], Tag("per-year-list")],
    Discriminator(_shape),
]
"""A per-year unit cost: one figure or range for every year, or a list of them, one a year."""


class Agency(Strict):
    """An organisation that holds budgets and gains or loses from the plan."""

    name: Text = Field(description="Display name, as the reports write it (e.g. 'Acute "
                       "hospital trusts', a plural name taking a plural verb).")
    kind: AgencyKind | None = Field(
        default=None,
        description="What kind of agency it is, for adding places up nationally; "
        "default: unclassified.",
    )
    max_net_cost: NonNegative | None = Field(
        default=None,
        description="The most the agency will lose over the plan: its net position (present "
        "value) may not fall below -max_net_cost.",
    )


class Stream(Strict):
    """A budget line, held by one agency, ring-fenced to some interventions."""

    name: Text | None = Field(default=None, description="Display name; defaults to the id.")
    agency: Id = Field(description="The agency that holds the stream.")
    budget: PerYear = Field(description="Money available per year.")
    ring_fence: list[Id] | None = Field(
        default=None,
        description="Interventions the stream may fund when ring-fenced; "
        "default: every intervention its agency delivers.",
    )
    pool_share: Share = Field(
        default=1.0, description="Share of the budget that may leave the ring-fence when pooled."
    )
    carry_over: bool = Field(
        default=False,
        description="Whether money unspent in a year is added to the next year's budget.")
    source: Prose | None = Field(default=None, description="Where the figure comes from.")


class Tier(Strict):
    """One band of diminishing returns: `units` a year achieving `scale` times the effects
    and savings (`tiers`). The last band has no units: it runs to max_units."""

    units: Finite | None = Field(
        default=None, description="Units a year in this band (> 0); none on the last band.")
    scale: Share = Field(description="Share of the effects and savings each unit achieves.")


class Intervention(Strict):
    """Something money can buy, with its cost, effects and cashable savings."""

    name: Text | None = Field(default=None, description="Display name; defaults to the id.")
    agency: Id = Field(description="The agency that delivers it.")
    unit: Text = Field(default="unit", description="What one unit is (e.g. person-year).")
    unit_cost: UncertainPerYear = Field(
        description="Cost of one unit, per year; each figure may be a range.")
    min_units: PerYear = Field(default=0.0, description="Minimum units per year.")
    max_units: PerYear | None = Field(default=None, description="Maximum units per year.")
    effects: dict[Id, Uncertain] = Field(
        default_factory=dict, description="Outcome units per unit delivered; may be a range."
    )
    savings: dict[Id, Uncertain] = Field(
        default_factory=dict,
        description="Cashable money per unit, to each agency; negative is a loss; may be a range.",
    )
    lag: Annotated[int, Field(ge=0, le=MAX_YEARS, strict=True)] = Field(
        default=0, description="Whole years before the savings arrive."
    )
    deadweight: UncertainShare = Field(
        default=0.0,
        description="Share of the effect that happens anyway; may be a range (it scales the "
        "effects and the savings together).",
    )
    optimism_bias: UncertainShare = Field(
        default=0.0,
        description="Share by which the evidence overstates the effect; may be a range (it "
        "scales the effects and the savings together).",
    )
    setup_cost: PerYear = Field(
        default=0.0,
        description="Money paid in each year the service runs, whatever its scale (a "
        "service with a set-up cost or minimum scale runs in a year or does not).")
    min_scale: PerYear = Field(
        default=0.0, description="The fewest units a year the service delivers when it runs.")
    tiers: list[Tier] | None = Field(
        default=None,
        description="Diminishing returns: bands [{units, scale}, ..., {scale}] filled in "
        "order, each unit of a band achieving its scale times the effects and savings.")
    source: Prose | None = Field(default=None, description="Where the figures come from.")


class Outcome(Strict):
    """Something the place wants to achieve, valued in money and possibly targeted."""

    name: Text | None = Field(default=None, description="Display name; defaults to the id.")
    unit: Text | None = Field(default=None, description="What one unit of outcome is.")
    value: Finite | None = Field(
        default=None,
        description="Money per unit of outcome, in the objective (none: 0 in net_benefit, "
        "weight 1 in the outcomes objective).",
    )
    target: PerYear | None = Field(default=None, description="Minimum per year.")


class Robust(Strict):
    """Ask for the plan that does best, committed, over a sample of draws (sample average
    approximation: one money allocation for every draw, a single LP)."""

    draws: Annotated[int, Field(ge=2, le=100_000, strict=True)] = Field(
        default=200, description="Draws in the sample (at least 2).")
    seed: Annotated[int, Field(ge=0, strict=True)] = Field(
        default=0, description="Seed of the sample's draws.")


class RiskShare(Strict):
    """A section 75 risk share: fixed shares of what pooling gains or costs."""

    risk_share: dict[Id, Finite] = Field(
        description="Agency -> its share of the pooled surplus or deficit (shares >= 0, "
        "adding up to 1).")


AGREEMENTS = ("gain_share", "fair_shares", "risk_share")
"""The agreements a pooled scenario may name (`Scenario.agreement`)."""


class Scenario(Strict):
    """A way of running the place: ring-fenced or pooled, protected or not."""

    description: Prose | None = Field(default=None, description="What the scenario asks.")
    pooling: bool = Field(default=False, description="Whether money may leave ring-fences.")
    pool_share: dict[Id, Share] = Field(
        default_factory=dict, description="Stream -> share, overriding the stream's own."
    )
    incentives: Literal["none", "no_worse_off"] = Field(
        default="none", description="no_worse_off: every agency at least its reference position."
    )
    reference: Id | None = Field(
        default=None,
        description="Scenario whose positions no_worse_off protects; "
        "default the first scenario with pooling false.",
    )
    transfers: bool = Field(default=False, description="Whether gain-share transfers are allowed "
                            "(the same as agreement: gain_share).")
    agreement: Literal["gain_share", "fair_shares"] | RiskShare | None = Field(
        default=None,
        description="How the partners share what pooling gains or costs against the reference: "
        "gain_share (each partner below its reference made whole by those above, in proportion "
        "to their surplus), {risk_share: {agency: share}} (fixed shares of the surplus or "
        "deficit), or fair_shares (the surplus or deficit in proportion to each partner's "
        "Shapley share of the pooling gain).")

    def agreed(self) -> str | None:
        """The agreement's kind ('gain_share', 'risk_share', 'fair_shares'), or None;
        `transfers: true` is gain_share."""
        if isinstance(self.agreement, RiskShare):
            return "risk_share"
        if self.agreement is not None:
            return self.agreement
        return "gain_share" if self.transfers else None
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Dotted path -> value, applied before the model is built."
    )
    robust: Robust | None = Field(
        default=None, description="Also find the money allocation with the best mean committed "
        "objective over a sample of draws: {draws: 200, seed: 1}.")


class Instance(Strict):
    """One place: its agencies, budgets, interventions, outcomes and scenarios."""

    name: Text = Field(description="The place and theme.")
    description: Prose | None = Field(default=None, description="Free text about the place.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        default="GBP", description="ISO currency code; money at constant prices."
    )
    start_year: Annotated[int, Field(ge=1, le=9999, strict=True)] = Field(
        default=1, description="First year of the plan (1 to 9999)."
    )
    years: Annotated[int, Field(ge=1, le=MAX_YEARS, strict=True)] = Field(
        description="Horizon H, in years (required)."
    )
    discount_rate: Annotated[float, Field(gt=-1, allow_inf_nan=False, strict=True)] = Field(
        default=0.035, description="Annual discount rate (Green Book default 0.035)."
    )
    objective: Literal["net_benefit", "outcomes", "cost"] = Field(
        default="net_benefit", description="What the plan optimises."
    )
    agencies: dict[Id, Agency] = Field(min_length=1, description="Who holds budgets.")
    streams: dict[Id, Stream] = Field(default_factory=dict, description="Budget lines.")
    interventions: dict[Id, Intervention] = Field(
        default_factory=dict, description="What money can buy."
    )
    outcomes: dict[Id, Outcome] = Field(default_factory=dict, description="What is achieved.")
    scenarios: dict[Id, Scenario] | None = Field(
        default=None,
        description="Named scenarios; default ring_fenced {pooling: false} and "
        "pooled {pooling: true}.",
    )


    @model_validator(mode="before")
    @classmethod
    def _agency_names_default_to_ids(cls, data: Any) -> Any:
        """An agency written without a name (or as `id:` alone) is called by its id."""
        if not isinstance(data, dict) or not isinstance(data.get("agencies"), dict):
            return data
        agencies = {
            key: ({"name": key} if spec is None else
                  {"name": key, **spec} if isinstance(spec, dict) and "name" not in spec else spec)
            for key, spec in data["agencies"].items()
        }
        return {**data, "agencies": agencies}


DEFAULT_SCENARIOS: dict[str, dict[str, Any]] = {
    "ring_fenced": {"pooling": False},
    "pooled": {"pooling": True},
}
