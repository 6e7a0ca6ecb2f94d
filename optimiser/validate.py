"""Validation: the schema pass, then the cross-reference pass.

Both passes collect every problem they find and raise one `InstanceError`
listing them, each naming the file, the path in it and the line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pydantic

from optimiser.errors import InstanceError, Problem
from optimiser.ranges import ranges_of
from optimiser.schema import UNION_TAGS, Instance, Range
from optimiser.yamlsource import Source

PER_YEAR_FIELDS = {
    "streams": ("budget",),
    "interventions": ("unit_cost", "min_units", "max_units"),
    "outcomes": ("target",),
}


def validate(source: Source) -> Instance:
    """Both passes over a loaded file: the instance, or an `InstanceError`."""
    instance = check_schema(source.data, source)
    problems = check_references(instance, source)
    if problems:
        raise InstanceError(problems)
    return instance


def check_schema(
    data: dict[str, Any], source: Source, at: Sequence[str | int] = ()
) -> Instance:
    """First pass: pydantic with unknown fields forbidden.

    `at` is where the data's problems should point instead (for a scenario's
    overrides, the override that caused them).
    """
    try:
        return Instance.model_validate(data)
    except pydantic.ValidationError as err:
        problems = []
        for e in err.errors(include_url=False):
            loc = [part for part in e["loc"] if not _is_union_tag(part)]
            path = tuple(at) or tuple(loc)
            problems.append(source.problem(path, _message(e, loc if at else [])))
        raise InstanceError(_unique(problems)) from None


def _is_union_tag(part: str | int) -> bool:
    """Pydantic puts the union member's name in the location; it means nothing to a user."""
    return isinstance(part, str) and (part.startswith(("list[", "function-")) or part in {
        "float", "int", "constrained-float", "constrained-int"} or part in UNION_TAGS)


def _message(e: dict[str, Any], loc: Sequence[str | int]) -> str:
    kind = e["type"]
    prefix = ".".join(str(p) for p in loc) + ": " if loc else ""
    if kind == "extra_forbidden":
        return prefix + "unknown field (misspelt?); see the instance format in README.md"
    if kind == "missing":
        return prefix + "required field is missing"
    if kind == "finite_number":
        return prefix + "must be a finite number (not NaN or infinity)"
    value = e.get("input")
    if kind == "float_type" and isinstance(value, dict):
        return (prefix + "must be a number; a range {low, central, high} is allowed only for "
                "unit_cost, effects and savings")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return f"{prefix}{e['msg'].rstrip('.')} (got {shown})"


def _unique(problems: list[Problem]) -> list[Problem]:
    """Union types report one problem per member; keep one per place."""
    seen: dict[tuple[str, int | None], Problem] = {}
    for p in problems:
        seen.setdefault((p.path, p.line), p)
    return list(seen.values())


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
            problems.append(source.problem(path, f"unknown {kind} '{word}'{_suggest(word, known)}"))

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
                     f"min_units {lo:g} is above max_units {hi:g} in year {t + 1}")
                break
        for path, figure in ranges_of(iid, item.unit_cost, item.effects, item.savings):
            problem = range_problem(figure)
            need(problem is None, path, problem or "")
    for section, fields in PER_YEAR_FIELDS.items():
        for key, item in getattr(instance, section).items():
            for name in fields:
                value = getattr(item, name)
                if isinstance(value, list) and len(value) != instance.years:
                    need(False, (section, key, name),
                         f"has {len(value)} figures; give one figure, or a list of "
                         f"{instance.years} (one per year)")
    for name, scenario in (instance.scenarios or {}).items():
        for sid in scenario.pool_share:
            unknown("stream", sid, streams, ("scenarios", name, "pool_share", sid))
        if scenario.reference is not None:
            need(scenario.reference in (instance.scenarios or {}) and scenario.reference != name,
                 ("scenarios", name, "reference"),
                 f"unknown scenario '{scenario.reference}'" if scenario.reference != name
                 else "a scenario cannot be its own reference")
    return problems


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


def _suggest(word: str, known: set[str]) -> str:
    """'; did you mean X?' for the closest known id, or a list of the known ids."""
    import difflib

    close = difflib.get_close_matches(word, sorted(known), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not known:
        return "; none are defined"
    listed = sorted(known)
    more = f" and {len(listed) - 8} more" if len(listed) > 8 else ""
    return "; known: " + ", ".join(listed[:8]) + more
