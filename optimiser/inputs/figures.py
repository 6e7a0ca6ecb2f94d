"""Named figures: define a figure once, use it by name wherever a number goes.

```yaml
figures_from: [figures/unit-costs.yaml]   # libraries, relative to the instance file
figures:
  admission_cost:
    value: 2700          # required: the central figure (or a product of figures)
    low: 2000            # optional range, both or neither: drawn once a draw for every use
    high: 3400
    unit: GBP per admission
    price_year: 2009-10
    source: "NHS reference costs 2009-10"      # or  assumption: "why"
interventions:
  night_contact:
    unit_cost: admission_cost                  # a name, or
    savings: {acute: "-0.4 * admission_cost"}  # a product of numbers and names
```

`figures:` may instead name a table (`figures: figures.csv`, or `{table: place.xlsx,
sheet: figures}`) with the columns name, value, low, high, source (and optionally unit,
price_year, assumption). A library file holds a `figures:` map. A figure's value may
itself be a product of other figures (then it has no range of its own: it moves with
theirs).

Everything here runs on the plain data, before the schema: each use is replaced by its
number (by a range `{low, central, high}` where a ranged figure is used), and
`Source.uses` remembers, by path, what was written there, so that a draw moves every use
of a figure together and the reports can say where a number came from. Problems are
located (file, line or cell, path): a name that is not defined (with 'did you mean'), a
figure defined twice, a circle of figures, a range where the field takes none.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from optimiser.errors import InstanceError, Problem
from optimiser.inputs.named import Factor, NamedFigure, Use
from optimiser.inputs.tables import get_column_letter, load_tables, parse_number, read_table
from optimiser.inputs.validate import suggest
from optimiser.inputs.yamlsource import Cell, Source, dotted, read_yaml

NAME = re.compile(r"[a-z][a-z0-9_]*")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
FIELDS = ("value", "low", "high", "unit", "price_year", "source", "assumption", "override")
"""The fields of one figure's entry (`override` only in the instance itself)."""
TABLE_COLUMNS = ("name", "value", "low", "high", "unit", "price_year", "source", "assumption")
LIBRARY_KEYS = {"figures", "name", "description"}

RANGED_FIELDS = {"unit_cost", "deadweight", "optimism_bias"}
"""Intervention fields that may be ranges (with `effects.*` and `savings.*`)."""
NUMBER_FIELDS = {
    "agencies": {"max_net_cost"},
    "streams": {"budget", "pool_share"},
    "interventions": {"unit_cost", "min_units", "max_units", "lag", "deadweight",
                      "optimism_bias", "effects", "savings"},
    "outcomes": {"value", "target"},
}
PER_YEAR = {"budget", "unit_cost", "min_units", "max_units", "target"}
TOP_NUMBERS = {"discount_rate", "start_year", "years"}


def place_kind(path: Sequence[str | int]) -> str | None:
    """What a number at `path` of the instance may be: 'range' (a ranged figure may be
    used there), 'number' (a figure without a range), or None (no number goes there)."""
    path = tuple(path)
    if len(path) == 1:
        return "number" if path[0] in TOP_NUMBERS else None
    if len(path) >= 4 and path[0] == "scenarios" and path[2] == "overrides":
        key = str(path[3])
        parts = tuple(int(p) if p.isdigit() else p for p in key.split("."))
        return place_kind((*parts, *path[4:]))
    if len(path) == 4 and path[0] == "scenarios" and path[2] == "pool_share":
        return "number"
    if len(path) < 3 or path[0] not in NUMBER_FIELDS or path[2] not in NUMBER_FIELDS[path[0]]:
        return None
    field, rest = str(path[2]), path[3:]
    if field in ("effects", "savings"):
        if len(rest) == 1:
            return "range"
        return "number" if len(rest) == 2 and rest[1] in ("low", "central", "high") else None
    if rest and isinstance(rest[0], int):
        if field not in PER_YEAR:
            return None
        rest = rest[1:]
    if not rest:
        return "range" if path[0] == "interventions" and field in RANGED_FIELDS else "number"
    ranged = path[0] == "interventions" and field in RANGED_FIELDS
    return "number" if ranged and len(rest) == 1 and rest[0] in ("low", "central", "high") \
        else None


@dataclass
class _Definition:
    """One figure's entry as written, before its value is resolved."""

    name: str
    fields: dict[str, Any]
    where: str
    file: str
    problem: Any  # (path suffix, message) -> Problem
    line: int | None = None


def read_instance(path: Path) -> Source:
    """Read an instance file, every table it names and the named figures it defines or
    draws on, resolved to numbers; `InstanceError` if anything is wrong."""
    return resolve_figures(load_tables(read_yaml(path), path.parent), path.parent)


def resolve_figures(source: Source, base: Path) -> Source:
    """The source with every named figure resolved to its number (see the module).

    `InstanceError` listing every problem: unknown names, figures defined twice, circles,
    ranges where a field takes none, malformed entries or libraries.
    """
    data = source.data
    if "figures" not in data and "figures_from" not in data:
        return _check_no_products(source)
    problems: list[Problem] = []
    digests = dict(source.tables)
    definitions = _definitions(source, base, problems, digests)
    figures = _resolve_definitions(definitions, problems)
    if problems:
        raise InstanceError(problems)
    rest = {k: v for k, v in data.items() if k not in ("figures", "figures_from")}
    uses: dict[tuple[str | int, ...], Use] = {}
    resolved = _walk(rest, (), source, figures, uses, problems)
    if problems:
        raise InstanceError(problems)
    return replace(source, data=resolved, tables=digests, figures=figures, uses=uses)


def _check_no_products(source: Source) -> Source:
    """Without figures, a product written where a number goes is still an error naming
    the missing figures (a plain word is left to the schema: 'must be a number')."""
    problems: list[Problem] = []
    uses: dict[tuple[str | int, ...], Use] = {}
    _walk(source.data, (), source, {}, uses, problems, products_only=True)
    if problems:
        raise InstanceError(problems)
    return source


# --------------------------------------------------------------------------- definitions


def _definitions(source: Source, base: Path, problems: list[Problem],
                 digests: dict[str, str]) -> dict[str, _Definition]:
    """Every figure's entry: the libraries' first, then the instance's (which may override
    a library's with `override: true`)."""
    found: dict[str, _Definition] = {}
    libraries = source.data.get("figures_from")
    if libraries is not None:
        names = [libraries] if isinstance(libraries, str) else libraries
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(source.problem(("figures_from",), "must be a list of files, such "
                                           "as [figures/unit-costs.yaml]"))
            names = []
        for n, name in enumerate(names):
            for entry in _library(source, base, name, n, problems, digests):
                first = found.get(entry.name)
                if first is not None:
                    problems.append(entry.problem(
                        (), f"figure '{entry.name}' is defined twice: here and in {first.where}"))
                    continue
                found[entry.name] = entry
    for entry in _instance_entries(source, base, problems, digests):
        first = found.get(entry.name)
        override = entry.fields.pop("override", None)
        if override is not None and not isinstance(override, bool):
            problems.append(entry.problem(("override",), "must be true or false"))
        if first is not None and override is not True:
            problems.append(entry.problem(
                (), f"figure '{entry.name}' is defined twice: here and in {first.where}; "
                "write 'override: true' on this entry to use this figure instead"))
            continue
        if first is None and override is True:
            problems.append(entry.problem(
                ("override",), f"no library defines '{entry.name}', so there is nothing to "
                f"override{suggest(entry.name, set(found)) if found else ''}"))
        found[entry.name] = entry
    return found


def _library(source: Source, base: Path, name: str, n: int, problems: list[Problem],
             digests: dict[str, str]) -> list[_Definition]:
    """The entries of one figures library named by `figures_from`."""
    path = base / name
    if not path.is_file():
        problems.append(source.problem(("figures_from", n),
                                       f"figures library {name!r}: no such file "
                                       f"(looked in {path.parent})"))
        return []
    try:
        library = read_yaml(path)
    except InstanceError as err:
        problems.extend(err.problems)
        return []
    digests[library.file] = hashlib.sha256(path.read_bytes()).hexdigest()
    for key in library.data:
        if key not in LIBRARY_KEYS:
            problems.append(library.problem(
                (key,), f"a figures library holds a 'figures:' map (and optionally name, "
                f"description); unknown field '{key}'{suggest(str(key), LIBRARY_KEYS)}"))
    figures = library.data.get("figures")
    if not isinstance(figures, dict):
        problems.append(library.problem(("figures",), "a figures library holds a 'figures:' "
                                        "map of name -> {value, low, high, source}"))
        return []
    return _entries(library, figures, ("figures",), problems, library_file=True)


def _instance_entries(source: Source, base: Path, problems: list[Problem],
                      digests: dict[str, str]) -> list[_Definition]:
    """The instance's own `figures:`: a map, or a table of name, value, low, high, source."""
    figures = source.data.get("figures")
    if figures is None:
        return []
    reference = None
    if isinstance(figures, str):
        reference = (figures, None)
    elif isinstance(figures, dict) and isinstance(figures.get("table"), str) and set(
            figures) <= {"table", "sheet"}:
        reference = (figures["table"], figures.get("sheet"))
    if reference is not None:
        try:
            table, digest = read_table(source, "figures", base, *reference)
        except InstanceError as err:
            problems.extend(err.problems)
            return []
        digests[table.file] = digest
        return _table_entries(table, problems)
    if not isinstance(figures, dict):
        problems.append(source.problem(("figures",), "must be a mapping of name -> {value, "
                                       "low, high, source}, or a table (figures.csv)"))
        return []
    return _entries(source, figures, ("figures",), problems, library_file=False)


def _entries(source: Source, figures: dict[str, Any], at: tuple[str, ...],
             problems: list[Problem], library_file: bool) -> list[_Definition]:
    """The entries of a `figures:` map, each checked for its fields."""
    out = []
    for name, spec in figures.items():
        path = (*at, name)

        def problem(rest: tuple[Any, ...], message: str, path: tuple[Any, ...] = path
                    ) -> Problem:
            return source.problem((*path, *rest), message)

        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.append(problem((), f"{name!r} is not a valid figure name: lower-case "
                                    "letters, digits and underscores, starting with a letter"))
            continue
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            spec = {"value": spec}
        if not isinstance(spec, dict):
            problems.append(problem((), "a figure is a mapping such as {value: 2700, source: "
                                    "'...'}"))
            continue
        allowed = [f for f in FIELDS if f != "override" or not library_file]
        bad = [k for k in spec if k not in allowed]
        for key in bad:
            hint = suggest(str(key), set(allowed))
            problems.append(problem((key,), f"unknown field '{key}' of a figure{hint}"))
        if bad:
            continue
        line = source.line(path)
        where = f"{source.file}, line {line}" if line else source.file
        out.append(_Definition(name, dict(spec), where, source.file, problem, line))
    return out


def _table_entries(table: Any, problems: list[Problem]) -> list[_Definition]:
    """A figures table's rows: name, value, low, high, source (unit, price_year,
    assumption optional)."""
    rows = table.rows
    if not rows:
        problems.append(table.cell(1).problem(("figures",), "the table is empty: the first "
                                              "row names the columns name, value, low, high, "
                                              "source"))
        return []
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
    labels = [f"{get_column_letter(n + 1)} ({h})" for n, h in enumerate(header)]
    for n, h in enumerate(header):
        if h and h not in TABLE_COLUMNS:
            problems.append(table.cell(1, labels[n]).problem(
                ("figures",), f"unknown column {h!r}{suggest(h, set(TABLE_COLUMNS))} (the "
                f"columns of figures: {', '.join(TABLE_COLUMNS)})"))
    for needed in ("name", "value"):
        if needed not in header:
            problems.append(table.cell(1).problem(("figures",), f"there is no {needed!r} "
                                                  "column"))
    if problems:
        return []
    out: list[_Definition] = []
    seen: dict[str, int] = {}
    for r, row in enumerate(rows[1:], start=2):
        cells = {h: (row[n] if n < len(row) else None, labels[n])
                 for n, h in enumerate(header) if h}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v, _ in cells.values()):
            continue
        name = str(cells["name"][0] or "").strip()
        cell = table.cell(r)

        def problem(rest: tuple[Any, ...], message: str, cell: Cell = cell,
                    name: str = name, cells: dict[str, Any] = cells) -> Problem:
            column = cells.get(str(rest[0]), (None, None))[1] if rest else cells["name"][1]
            return cell.problem(("figures", name, *rest), message, column)

        if not NAME.fullmatch(name):
            problems.append(problem((), f"{name!r} is not a valid figure name: lower-case "
                                    "letters, digits and underscores, starting with a letter"))
            continue
        if name in seen:
            problems.append(problem((), f"figure '{name}' is defined twice: here and on row "
                                    f"{seen[name]}"))
            continue
        seen[name] = r
        fields: dict[str, Any] = {}
        for h, (value, _label) in cells.items():
            if h == "name" or value is None or (isinstance(value, str) and not value.strip()):
                continue
            if h in ("value", "low", "high"):
                number, error = parse_number(value)
                if error and h == "value" and isinstance(value, str):
                    fields[h] = value.strip()  # a product of figures
                    continue
                if error:
                    problems.append(problem((h,), error))
                    continue
                fields[h] = number
            else:
                fields[h] = str(value).strip()
        where = f"{table.file}{f', sheet {table.sheet}' if table.sheet else ''}, row {r}"
        out.append(_Definition(name, fields, where, table.file, problem))
    return out


# --------------------------------------------------------------------------- values


def _resolve_definitions(found: dict[str, _Definition], problems: list[Problem]
                         ) -> dict[str, NamedFigure]:
    """Each figure's value (products of other figures resolved, circles refused)."""
    figures: dict[str, NamedFigure] = {}
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> NamedFigure | None:
        if name in figures:
            return figures[name]
        entry = found[name]
        if state.get(name) == "visiting":
            cycle = " -> ".join([*chain[chain.index(name):], name])
            problems.append(entry.problem(("value",), f"figures go round in a circle: {cycle}"))
            return None
        if state.get(name) == "failed":
            return None
        state[name] = "visiting"
        figure = _figure(entry, found, problems, lambda n: visit(n, [*chain, name]))
        state[name] = "failed" if figure is None else "done"
        if figure is not None:
            figures[name] = figure
        return figure

    for name in found:
        visit(name, [])
    return figures


def _figure(entry: _Definition, found: dict[str, _Definition], problems: list[Problem],
            visit: Any) -> NamedFigure | None:
    """One figure from its entry; None (and a problem) if it is not valid."""
    fields = entry.fields
    count = len(problems)
    if "value" not in fields:
        problems.append(entry.problem((), "a figure needs a value (its central figure)"))
        return None
    value = fields["value"]
    expression: str | None = None
    depends: tuple[str, ...] = ()
    if isinstance(value, str):
        expression = value
        use = _parse_use(value, found, lambda name: visit(name), entry, ("value",), problems)
        if use is None:
            return None
        if use.factors:
            problems.append(entry.problem(
                ("value",), f"'{value}' uses a figure with a range ({use.factors[0].name}); "
                "a figure made of figures with ranges is not drawn on its own: write the "
                "product where it is used instead"))
            return None
        value, depends = use.coefficient, use.names
    elif not _is_number(value):
        problems.append(entry.problem(("value",), "must be a number, or a product of numbers "
                                      "and figures such as '0.4 * admission_cost'"))
        return None
    low, high = fields.get("low"), fields.get("high")
    for key, bound in (("low", low), ("high", high)):
        if bound is not None and not _is_number(bound):
            problems.append(entry.problem((key,), "must be a number"))
    if (low is None) != (high is None):
        missing = "high" if high is None else "low"
        problems.append(entry.problem((), f"a range needs both low and high; {missing} is "
                                      "missing"))
    elif low is not None and expression is not None:
        problems.append(entry.problem(("low",), "a figure made of other figures moves with "
                                      "them and takes no range of its own"))
    elif low is not None and _is_number(low) and _is_number(high) and not (
            low <= value <= high):
        problems.append(entry.problem(("low",), f"the range must hold the value: low {low:g} "
                                      f"<= value {value:g} <= high {high:g}"))
    text = {k: fields.get(k) for k in ("unit", "price_year", "source", "assumption")}
    said = {k: None if v is None else str(v) for k, v in text.items()}
    for key, given in text.items():
        if given is not None and not isinstance(given, str | int | float):
            problems.append(entry.problem((key,), "must be text"))
    if len(problems) > count:
        return None
    return NamedFigure(
        entry.name, value, low, high, unit=said["unit"], price_year=said["price_year"],
        source=said["source"], assumption=said["assumption"],
        where=entry.where, file=entry.file, line=entry.line, expression=expression,
        depends=depends)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def looks_like_product(text: str) -> bool:
    """Whether text is written as a name or a product of numbers and names."""
    parts = [p.strip() for p in text.split("*")]
    return all(NAME.fullmatch(p.lstrip("-").strip()) or NUMBER.fullmatch(p) for p in parts) \
        and any(NAME.fullmatch(p.lstrip("-").strip()) for p in parts)


def _parse_use(text: str, found: dict[str, Any], figure_of: Any, at: Any,
               path: tuple[Any, ...], problems: list[Problem]) -> Use | None:
    """`text` as a product of numbers and names: its Use, or None (and a problem)."""
    coefficient: float = 1
    factors: list[Factor] = []
    names: list[str] = []
    integral = True
    for raw in text.split("*"):
        part = raw.strip()
        if NUMBER.fullmatch(part):
            number = float(part)
            integral = integral and number.is_integer() and "." not in part and "e" not in \
                part.lower()
            coefficient *= number
            continue
        sign = -1 if part.startswith("-") else 1
        name = part.lstrip("-").strip()
        if not NAME.fullmatch(name):
            problems.append(at.problem(path, f"'{text}' is not a number or a product of numbers "
                                       "and figure names such as '1.5 * admission_cost'"))
            return None
        if name not in found:
            problems.append(at.problem(path, f"unknown figure '{name}'"
                                       f"{suggest(name, set(found))}"))
            return None
        figure = figure_of(name)
        if figure is None:
            return None
        coefficient *= sign
        names += [name, *(n for n in figure.depends if n not in names)]
        if figure.ranged:
            factors.append(Factor(name, figure.low, figure.value, figure.high))
        else:
            coefficient *= figure.value
        integral = integral and float(figure.value).is_integer() and not figure.ranged
    if integral and float(coefficient).is_integer() and abs(coefficient) < 2**53:
        coefficient = int(coefficient)
    return Use(text, coefficient, tuple(factors), tuple(names))


# --------------------------------------------------------------------------- uses


class _At:
    """Problems about a use, located in the instance."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def problem(self, path: tuple[Any, ...], message: str) -> Problem:
        return self.source.problem(path, message)


def _walk(value: Any, path: tuple[str | int, ...], source: Source,
          figures: dict[str, NamedFigure], uses: dict[tuple[str | int, ...], Use],
          problems: list[Problem], products_only: bool = False) -> Any:
    """The data with every name used where a number goes replaced by its number."""
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), source, figures, uses, problems, products_only)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, n), source, figures, uses, problems, products_only)
                for n, v in enumerate(value)]
    if not isinstance(value, str) or (products_only and "*" not in value):
        return value
    kind = place_kind(path)
    text = value.strip()
    if kind is None or not looks_like_product(text):
        return value
    use = _parse_use(text, figures, figures.get, _At(source), path, problems)
    if use is None:
        return value
    uses[path] = use
    if not use.factors:
        return use.coefficient
    if kind != "range":
        ranged = use.factors[0]
        problems.append(source.problem(path, (
            f"figure '{ranged.name}' has a range ({ranged.low:g} to {ranged.high:g}), and "
            f"{dotted(path)} takes none: only unit costs, effects, savings, deadweight and "
            "optimism bias may be uncertain; use a figure without a range here")))
        return value
    return _range_of(use)


def use_value(use: Use, drawn: dict[str, float] | None = None) -> float:
    """A use's value: coefficient x its ranged figures (central, or as `drawn`)."""
    value = use.coefficient
    for factor in use.factors:
        value *= factor.value if drawn is None else drawn[factor.name]
    return value


def _range_of(use: Use) -> dict[str, float]:
    """The range a use of ranged figures spans: {low, central, high}, the least and the
    greatest of the product over the corners of its figures' ranges."""
    corners = [use.coefficient]
    for factor in use.factors:
        corners = [c * v for c in corners for v in (factor.low, factor.high)]
    return {"low": min(corners), "central": use_value(use), "high": max(corners)}


def scenario_uses(uses: dict[tuple[str | int, ...], Use], name: str, keys: Sequence[str]
                  ) -> dict[tuple[str | int, ...], Use]:
    """The uses of named figures in a scenario's instance: the instance's, less those its
    overrides replace, plus those its overrides write (at the paths they override)."""
    out: dict[tuple[str | int, ...], Use] = {}
    replaced = [tuple(int(p) if p.isdigit() else p for p in key.split(".")) for key in keys]
    for path, use in uses.items():
        if path[:1] == ("scenarios",):
            if path[1] == name and path[2:3] == ("overrides",) and len(path) >= 4:
                key = str(path[3])
                parts = tuple(int(p) if p.isdigit() else p for p in key.split("."))
                out[(*parts, *path[4:])] = use
            continue
        if any(path[:len(r)] == r for r in replaced):
            continue
        out[path] = use
    return out
