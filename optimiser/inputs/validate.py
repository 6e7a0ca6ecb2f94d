"""Validation: the schema pass, then the cross-reference pass.

Both passes collect every problem they find and raise one `InstanceError`
listing them, each naming the file, the path in it and the line.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Any

import pydantic

from optimiser.errors import InstanceError, Problem
from optimiser.inputs.ranges import ranges_of
from optimiser.inputs.schema import (
    MAX_FIGURE,
    UNION_TAGS,
    Agency,
    Instance,
    Intervention,
    Outcome,
    Range,
    RiskShare,
    Robust,
    Scenario,
    Stream,
)
from optimiser.inputs.yamlsource import Path, Source

PER_YEAR_FIELDS = {
    "streams": ("budget",),
    "interventions": ("unit_cost", "min_units", "max_units", "setup_cost", "min_scale"),
    "outcomes": ("target",),
}


def validate(source: Source) -> Instance:
    """Both passes over a loaded file: the instance, or an `InstanceError`."""
    instance = check_schema(source.data, source)
    problems = check_references(instance, source)
    if problems:
        raise InstanceError(problems)
    return instance


def check_schema(data: dict[str, Any], source: Source) -> Instance:
    """First pass: pydantic with unknown fields forbidden, its errors in plain English."""
    try:
        return Instance.model_validate(data)
    except pydantic.ValidationError as err:
        located = schema_problems(err.errors(include_url=False), data)
        raise InstanceError([source.problem(path, message) for path, message in located]) from None


SECTION_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "agencies": Agency, "streams": Stream, "interventions": Intervention,
    "outcomes": Outcome, "scenarios": Scenario,
}
SHARES = {"pool_share", "deadweight", "optimism_bias", "scale"}
"""Fields (and the scenario map) that hold a share between 0 and 1."""
YEARS = {"lag", "years"}


def schema_problems(errors: Sequence[Any], data: Any) -> list[tuple[Path, str]]:
    """Pydantic's errors as (path, plain message), one per place, in the file's terms.

    A per-year figure is a number or a list (or a range): only the errors of
    the form the file used are kept. A misspelt field is reported once, as the unknown field
    with the known one it resembles, not also as the known one missing.
    """
    located: dict[Path, str] = {}
    for e in errors:
        agreement = _agreement_problem(e["loc"], data)
        if agreement is not None:
            if agreement[1]:
                located.setdefault(*agreement)
            continue
        clean: list[str | int] = []
        other_member = False
        for part in e["loc"]:
            if not _is_union_tag(part):
                clean.append(part)
            elif part not in UNION_TAGS:  # a plain union: keep the member the file wrote
                written_list = isinstance(_get(data, tuple(clean)), list)
                other_member = other_member or written_list != str(part).startswith("list[")
        if other_member:
            continue
        loc = tuple(clean)
        if loc and loc[-1] == "[key]":
            located.setdefault(loc[:-1], _bad_id(e["input"]))
            continue
        located.setdefault(loc, _plain(e, loc, data))
    return _merge_misspellings(located, data)


AGREEMENT_FORMS = "gain_share, fair_shares or {risk_share: {agency: share, ...}}"


def _agreement_problem(loc: tuple[Any, ...], data: Any) -> tuple[Path, str] | None:
    """A scenario's `agreement` is a name or a risk share, so pydantic reports both forms;
    keep the one the file wrote: (path, message), (path, '') to drop the error, or None
    for an error elsewhere."""
    if len(loc) < 4 or loc[0] != "scenarios" or loc[2] != "agreement":
        return None
    at = tuple(loc[:3])
    written = _get(data, at)
    if isinstance(written, dict):
        if loc[3] != "RiskShare":
            return at, ""
        return None  # the risk share's own errors, located inside it (tag dropped below)
    word = str(written)
    close = difflib.get_close_matches(word, ["gain_share", "fair_shares"], n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return at, f"unknown agreement '{word}'{hint} (an agreement is {AGREEMENT_FORMS})"


def _merge_misspellings(located: dict[Path, str], data: Any) -> list[tuple[Path, str]]:
    """Turn 'X missing' plus 'unknown Y' (Y a misspelling of X) into one problem about Y."""
    missing = {loc for loc, m in located.items() if m == MISSING}
    out = dict(located)
    for loc, message in located.items():
        if not message.startswith(UNKNOWN):
            continue
        allowed = _fields_at(loc[:-1], data)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            out[loc] = f"{message}; did you mean '{close[0]}'?"
            if (*loc[:-1], close[0]) in missing:
                del out[(*loc[:-1], close[0])]
        elif allowed:
            out[loc] = f"{message}; the fields here are: {', '.join(allowed)}"
    return list(out.items())


def _fields_at(parent: Path, data: Any) -> list[str]:
    """The field names allowed in the mapping at `parent` (empty if not a schema mapping)."""
    if parent == ():
        return list(Instance.model_fields)
    if len(parent) == 2 and parent[0] in SECTION_MODELS:
        return list(SECTION_MODELS[str(parent[0])].model_fields)
    if len(parent) == 3 and parent[0] == "scenarios" and parent[2] == "robust":
        return list(Robust.model_fields)
    if len(parent) == 3 and parent[0] == "scenarios" and parent[2] == "agreement":
        return list(RiskShare.model_fields)
    written = _get(data, parent)
    if isinstance(written, dict) and set(written) & set(Range.model_fields):
        return list(Range.model_fields)
    return []


def _get(data: Any, path: Path) -> Any:
    """The value at `path` in plain data, or None where the path does not lead."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _is_union_tag(part: str | int) -> bool:
    """Pydantic puts the union member's name in the location; it means nothing to a user."""
    return isinstance(part, str) and (part.startswith(("list[", "function-")) or part in {
        "float", "int", "constrained-float", "constrained-int", "RiskShare"}
        or part in UNION_TAGS)


MISSING = "is required but missing"
UNKNOWN = "unknown field"
_KINDS = {
    "dict": "a mapping (key: value lines)", "list": "a list", "str": "text",
    "bool": "true or false", "int": "a whole number", "float": "a number",
}


def _shown(value: Any) -> str:
    """A value as the file would write it: -10, 'lots', .nan, a list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    if isinstance(value, float | int):
        return repr(value)
    if value is None:
        return "nothing"
    if isinstance(value, dict | list):
        return _KINDS[type(value).__name__]
    return repr(value)


def _plain(e: dict[str, Any], loc: Path, data: Any) -> str:
    """One pydantic error in words a finance lead reads: what is wanted, and what was given."""
    kind, ctx = e["type"], e.get("ctx") or {}
    value = e.get("input")
    got = f" (got {_shown(value)})"
    names = [p for p in loc if isinstance(p, str)]
    field = names[-1] if names else ""
    if kind == "missing":
        return MISSING
    if kind == "extra_forbidden" and field == "carry_over":
        return ("carry_over belongs on a stream (a budget that carries unspent money into "
                "the next year), not here")
    if kind == "extra_forbidden":
        return f"{UNKNOWN} '{field}' (misspelt?)"
    if kind == "finite_number":
        return "must be an ordinary number, not NaN or infinity" + got
    is_share = (field in SHARES or "pool_share" in names
                or (field in Range.model_fields and len(names) > 1 and names[-2] in SHARES))
    if kind in {"greater_than_equal", "less_than_equal"} and is_share:
        return "must be a share between 0 and 1" + got
    if kind in {"greater_than_equal", "less_than_equal"} and abs(
            ctx.get("le", ctx.get("ge", 0))) == MAX_FIGURE:
        return f"is too large to be a real figure (at most {MAX_FIGURE:g})" + got
    if kind == "greater_than_equal":
        bound = ctx.get("ge")
        if bound == 0:
            return "must not be negative" + got
        return f"must be at least {bound:g}" + got
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le'):g}" + got
    if kind == "greater_than" and field == "discount_rate":
        return ("must be above -1: a rate of -1 (-100%) or below has no meaning; "
                "the Green Book rate is 0.035" + got)
    if kind == "greater_than":
        return f"must be above {ctx.get('gt'):g}" + got
    if kind in {"int_type", "int_from_float", "int_parsing"}:
        return ("must be a whole number of years" if field in YEARS
                else "must be a whole number") + got
    if kind == "float_type" and isinstance(value, dict):
        return ("must be a number; a range {low, central, high} is allowed only for "
                "unit_cost, effects, savings, deadweight and optimism_bias")
    if kind in {"float_type", "float_parsing"}:
        return "must be a number" + got + _percent_hint(value)
    if kind in {"bool_type", "bool_parsing"}:
        return "must be true or false" + got
    if kind == "string_type":
        return "must be text" + got
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        if field == "currency":
            return "must be a three-letter currency code in capitals, such as GBP" + got
        return _bad_id(value)
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        close = difflib.get_close_matches(str(value), allowed.split(", "), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"must be one of: {allowed}" + got + hint
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"must be {_KINDS['dict']}" + got
    if kind == "list_type":
        return "must be a list, such as [a, b]" + got
    if kind == "too_short":
        return "must have at least one entry"
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        return str(ctx["error"])
    return e["msg"][:1].lower() + e["msg"][1:].rstrip(".") + got


def _percent_hint(value: Any) -> str:
    """'; write 3.5% as 0.035' for a percentage given as text, else nothing."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else None
    except ValueError:
        share = None
    return f"; write {text} as {share:g}" if share is not None else ""


def _bad_id(value: Any) -> str:
    """Why `value` is not an id, with the id it could be."""
    rule = "ids use only lower-case letters, digits and underscores"
    if not isinstance(value, str):
        return f"{_shown(value)} is not a valid id: {rule}, written as text (quote numbers)"
    fixed = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
    return f"'{value}' is not a valid id: {rule}" + (f" (e.g. '{fixed}')" if fixed else "")


def check_references(instance: Instance, source: Source) -> list[Problem]:
    """Second pass: every id resolves, lists have one figure per year, bounds and ranges
    are ordered."""
    problems: list[Problem] = []

    def need(ok: bool, path: Sequence[str | int], message: str) -> None:
        if not ok:
            problems.append(source.problem(path, message))

    def unknown(kind: str, word: str, known: set[str], path: Sequence[str | int]) -> None:
        """An id that must name a known one: a problem, with a suggestion, when it does not."""
        if word not in known:
            problems.append(source.problem(path, f"unknown {kind} '{word}'{suggest(word, known)}"))

    agencies, interventions = set(instance.agencies), set(instance.interventions)
    outcomes, streams = set(instance.outcomes), set(instance.streams)
    for sid, stream in instance.streams.items():
        unknown("agency", stream.agency, agencies, ("streams", sid, "agency"))
        for n, iid in enumerate(stream.ring_fence or []):
            unknown("intervention", iid, interventions, ("streams", sid, "ring_fence", n))
    for iid, item in instance.interventions.items():
        unknown("agency", item.agency, agencies, ("interventions", iid, "agency"))
        for kid in item.effects:
            unknown("outcome", kid, outcomes, ("interventions", iid, "effects", kid))
        for aid in item.savings:
            unknown("agency", aid, agencies, ("interventions", iid, "savings", aid))
        low, high = (per_year(item.min_units, instance.years),
                     per_year(item.max_units, instance.years))
        for t, (lo, hi) in enumerate(zip(low, high, strict=False)):
            if lo > hi:
                need(False, ("interventions", iid, "min_units"),
                     f"min_units {lo:g} is above max_units {hi:g} in "
                     f"{instance.start_year + t}")
                break
        problems.extend(source.problem(path, message)
                        for path, message in running_problems(iid, item, instance))
        for path, figure in ranges_of(iid, item):
            problem = range_problem(figure)
            need(problem is None, path, problem or "")
    for section, fields in PER_YEAR_FIELDS.items():
        for key, item in getattr(instance, section).items():
            for name in fields:
                value = getattr(item, name)
                if isinstance(value, list) and len(value) != instance.years:
                    need(False, (section, key, name),
                         f"has {len(value)} figure{'s' if len(value) != 1 else ''}; give one "
                         f"figure, or a list of {instance.years} (one per year)")
    for name, scenario in (instance.scenarios or {}).items():
        for sid in scenario.pool_share:
            unknown("stream", sid, streams, ("scenarios", name, "pool_share", sid))
        problems.extend(agreement_problems(name, scenario, agencies, source))
        if scenario.reference is not None:
            declared = set(instance.scenarios or {}) - {name}
            need(scenario.reference in declared, ("scenarios", name, "reference"),
                 f"unknown scenario '{scenario.reference}'{suggest(scenario.reference, declared)}"
                 if scenario.reference != name else "a scenario cannot be its own reference")
    problems += [source.problem(path, message) for path, message in limits(instance)]
    return problems


SHARES_ADD_UP = 1e-9
"""How far a risk share's shares may add up from 1."""


def agreement_problems(name: str, scenario: Scenario, agencies: set[str],
                       source: Source) -> list[Problem]:
    """A scenario's `agreement`: only where it pools; `transfers: true` is gain_share and
    names no other; a risk share names known agencies, each share >= 0, adding up to 1
    (within SHARES_ADD_UP). The first problem found, located."""
    at = ("scenarios", name, "agreement")
    if scenario.agreement is None:
        return []
    if not scenario.pooling:
        return [source.problem(at, "an agreement shares what pooling gains or costs, and this "
                                   "scenario does not pool (pooling: false)")]
    if scenario.transfers and scenario.agreed() != "gain_share":
        return [source.problem(at, "transfers: true is the gain_share agreement; give "
                                   "'agreement' or 'transfers', not both")]
    if not isinstance(scenario.agreement, RiskShare):
        return []
    shares = scenario.agreement.risk_share
    for aid, share in shares.items():
        where = (*at, "risk_share", aid)
        if aid not in agencies:
            return [source.problem(where, f"unknown agency '{aid}'{suggest(aid, agencies)}")]
        if share < 0:
            return [source.problem(where, f"a share cannot be negative (got {share:g})")]
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SHARES_ADD_UP:
        return [source.problem((*at, "risk_share"),
                               f"the shares must add up to 1 (they add up to {total:.12g})")]
    return []


MAX_DISCOUNT_SPAN = 6.0
"""The discount factors of a plan span at most 10^6 (1.035 over 100 years: 30; 0.15
over 100 years: about 10^6): beyond it the money of one year is rounding to another's."""


SMALLEST_TARGET = 1e-6
"""The least positive target a year (HiGHS holds rows to an absolute 1e-7)."""
SMALLEST_SHARE = 1e-9
"""The least share of one unit a plan can buy and mean it: HiGHS holds its rows to about
1e-9 of their size."""


def limits(instance: Instance) -> list[tuple[Path, str]]:
    """Figures a plan cannot honour in double precision, before anything is built:
    lags beyond the plan, discount factors spanning more than 10^MAX_DISCOUNT_SPAN, and a
    unit so dear that the place's whole budget over the plan, B = sum_s sum_t budget_s,t,
    buys less than SMALLEST_SHARE of one: unit_cost > B / SMALLEST_SHARE."""
    out: list[tuple[Path, str]] = []
    years = instance.years
    longest = 0
    budget = sum(sum(per_year(s.budget, years)) for s in instance.streams.values())
    for iid, item in instance.interventions.items():
        if item.lag > years:
            out.append((("interventions", iid, "lag"),
                        f"lag {item.lag} is longer than the plan ({years} years): its savings "
                        "would all land after the plan ends"))
        longest = max(longest, min(item.lag, years))
        dearest = max((_high_cost(v) for v in _cost_list(item.unit_cost, years)), default=0)
        if budget > 0 and dearest * SMALLEST_SHARE > budget:
            out.append((("interventions", iid, "unit_cost"),
                        f"unit_cost {dearest:g}: the place's whole budget over the plan "
                        f"({budget:g}) buys less than {SMALLEST_SHARE:g} of one unit, below "
                        "what a plan can tell from nothing; check the units (money in "
                        "thousands, or a unit of a thousand?)"))
    for kid, outcome in instance.outcomes.items():
        tiny = [v for v in per_year(outcome.target, years) if 0 < v < SMALLEST_TARGET]
        if tiny:
            out.append((("outcomes", kid, "target"),
                        f"a target of {tiny[0]:g} is below {SMALLEST_TARGET:g}, what a plan can "
                        "tell from nothing (the solver holds rows to about 1e-7); count the "
                        "outcome in a smaller unit (per thousand, say)"))
    rate = instance.discount_rate
    span = abs((years - 1 + longest) * math.log10(1 + rate)) if rate > -1 else math.inf
    if span > MAX_DISCOUNT_SPAN:
        out.append((("discount_rate",),
                    f"discount_rate {rate:g} over {years} years makes money in one year worth "
                    f"10^{span:.0f} times money in another (at most 10^{MAX_DISCOUNT_SPAN:.0f}); "
                    "the Green Book rate is 0.035"))
    return out


def _high_cost(value: Any) -> float:
    return float(value.high if isinstance(value, Range) else value)


def running_problems(iid: str, item: Intervention,
                     instance: Instance) -> list[tuple[Path, str]]:
    """What is wrong with an intervention's set-up cost, minimum scale and tiers.

    min_scale above max_units in some year; a band (but the last) without units or
    with units of 0 or less; a last band with units (it runs to max_units); scales
    that rise from one band to the next; and a service that a binary switches on
    (a set-up cost, a minimum scale, or tiers) whose unit costs nothing and has no
    max_units, so that nothing bounds how much of it could run.
    """
    years = instance.years
    out: list[tuple[Path, str]] = []
    at: tuple[str | int, ...] = ("interventions", iid)
    scale = per_year(item.min_scale, years)
    high = per_year(item.max_units, years)
    for t, (lo, hi) in enumerate(zip(scale, high, strict=False)):
        if lo > hi:
            out.append(((*at, "min_scale"), f"min_scale {lo:g} is above max_units {hi:g} in "
                        f"{instance.start_year + t}: the service could never run"))
            break
    tiers = item.tiers or []
    for n, band in enumerate(tiers):
        last = n == len(tiers) - 1
        if last and band.units is not None:
            out.append(((*at, "tiers", n, "units"),
                        "the last band has no units: it runs to max_units; remove units here, "
                        "or add a band {scale: ...} after it"))
        elif not last and band.units is None:
            out.append(((*at, "tiers", n), "every band but the last needs units (> 0)"))
        elif not last and band.units is not None and band.units <= 0:
            out.append(((*at, "tiers", n, "units"),
                        f"a band needs more than 0 units (got {band.units:g})"))
        if n and band.scale > tiers[n - 1].scale:
            out.append(((*at, "tiers", n, "scale"),
                        f"scale {band.scale:g} is above the band before's {tiers[n - 1].scale:g}:"
                        " returns diminish, so scales never rise from one band to the next"))
    switched = any(v > 0 for v in per_year(item.setup_cost, years)) or any(
        v > 0 for v in scale) or len(tiers) > 1
    costs = [_central_cost(v) for v in _cost_list(item.unit_cost, years)]
    if switched and any(c == 0 and math.isinf(h) for c, h in zip(costs, high, strict=False)):
        out.append(((*at, "max_units"),
                    "needs max_units: its unit costs nothing in some year, and a service with a "
                    "set-up cost, minimum scale or tiers needs a limit on how much of it runs"))
    return out


def _cost_list(value: Any, years: int) -> list[Any]:
    return list(value) if isinstance(value, list) else [value] * years


def _central_cost(value: Any) -> float:
    return float(value.central if isinstance(value, Range) else value)


def range_problem(figure: Range) -> str | None:
    """What is wrong with a range's order, or None: low <= central <= high."""
    if figure.low > figure.central:
        return (f"low {figure.low:g} is above central {figure.central:g}; "
                "a range is {low, central, high} with low <= central <= high")
    if figure.central > figure.high:
        return (f"central {figure.central:g} is above high {figure.high:g}; "
                "a range is {low, central, high} with low <= central <= high")
    return None


def per_year(value: float | list[float] | None, years: int) -> list[float]:
    """Expand a per-year figure to one value per year (None -> +inf, 'no limit')."""
    if value is None:
        return [math.inf] * years
    if isinstance(value, list):
        return [float(v) for v in value]
    return [float(value)] * years


def suggest(word: str, known: set[str]) -> str:
    """'; did you mean X?' for the closest known id, or a list of the known ids."""
    close = difflib.get_close_matches(word, sorted(known), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not known:
        return "; none are defined"
    listed = sorted(known)
    more = f" and {len(listed) - 8} more" if len(listed) > 8 else ""
    return "; known: " + ", ".join(listed[:8]) + more
