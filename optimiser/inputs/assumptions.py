"""The instance's assumptions and sources, as written beside its figures.

Instance files cite each figure's source in a YAML comment beside it
(`unit_cost: 1590  # NHS reference costs 2016/17`) and mark guesses as such
(`# ASSUMPTION: ...`); streams and interventions may also carry a `source:`
field. This module collects all of them, each with the line, the dotted path
of the figure it belongs to and the figure itself, for the reports.

Comments are found with PyYAML's scanner (which knows where every token,
quoted or not, ends), so a `#` inside a quoted string is never mistaken for one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from optimiser.inputs.schema import Instance
from optimiser.inputs.yamlsource import Source, dotted

MARKED = re.compile(r"^(ASSUMPTION|ASSUMED|SOURCES?)\b", re.IGNORECASE)
"""A comment block on lines of its own is collected when it starts with one of these."""
ASSUMPTION = re.compile(r"\bASSUMPTION\b|\bASSUMED\b", re.IGNORECASE)
COLUMNS = ["line", "path", "value", "kind", "note"]


def assumptions(path: Path, source: Source, instance: Instance) -> pd.DataFrame:
    """Every sourced or assumed figure: line, path, value, kind (assumption|source), note."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = ""
    header = header_rows(text)
    rows = (header + comment_rows(text, source) + source_field_rows(source, instance)
            + figure_rows(source))
    assumed = assumed_numbers([r for r in rows if r["kind"] == "assumption"])
    for row in rows:
        row["kind"] = classify(row["note"], row["kind"], assumed)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["line", "path"], kind="mergesort").reset_index(drop=True)


HEADING = re.compile(r"^([A-Z][^:]{2,60}):\s*$")
"""A heading in an instance's header comment: 'Prices used throughout:'."""
BULLET = re.compile(r"^- ")
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
FIGURE = re.compile(r"(?:GBP|£|EUR|€|USD|\$)\s?-?\d[\d,]*(?:\.\d+)?(?:\s?(?:m|bn|k)\b)?")
ARITHMETIC = re.compile(r"\d[\d,.]*\s*(?:x|×|\*|/|÷)\s*-?\(?\d")
CITATION = re.compile(r"docs/[\w-]+\.md#|https?://|\b(?:19|20)\d\d\b.*[A-Z]")


def header_rows(text: str) -> list[dict[str, Any]]:
    """The figures an instance names in its header comment (the comment lines before its
    first key): each bullet ('- ...', with the lines that continue it) under a heading
    ('Prices used throughout:') that names a money figure. Path: 'header: <heading>'; value:
    the first money figure it names; kind as its note says."""
    lines = text.splitlines()
    rows: list[dict[str, Any]] = []
    heading, start = "", 0
    bullet: list[str] = []

    def close() -> None:
        note = " ".join(bullet).strip()
        money = FIGURE.search(note)
        if heading and money:
            rows.append({"line": start, "path": f"header: {heading}", "value": money.group(0),
                         "kind": "assumption" if ASSUMPTION.search(note) else "source",
                         "note": note})

    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            continue
        body = stripped.lstrip("#").strip()
        if HEADING.match(body):
            close()
            heading, bullet = HEADING.match(body).group(1), []  # type: ignore[union-attr]
        elif BULLET.match(body):
            close()
            bullet, start = [body[2:]], number
        elif body and bullet:
            bullet.append(body)
        else:
            close()
            bullet = []
    close()
    return rows


def assumed_numbers(rows: list[dict[str, Any]]) -> set[float]:
    """The numbers stated by assumptions (their notes and values), for `classify`; numbers
    below 10 are left out (too common to tell one figure from another)."""
    found: set[float] = set()
    for row in rows:
        for text in (str(row["note"]), str(row["value"])):
            for n in NUMBER.findall(text):
                value = _number(n)
                if value is not None and abs(value) >= 10:
                    found.add(value)
    return found


def classify(note: str, kind: str, assumed: set[float]) -> str:
    """What a figure's note makes it:

    - 'assumption': the note says ASSUMPTION (or ASSUMED);
    - 'arithmetic on assumptions': no source cited, and the note is arithmetic (a product or
      ratio of numbers, or a bare number) on a number some assumption states
      ('1.5 x 2,700 x 0.64', where GBP 2,700 is an assumption in the header);
    - 'arithmetic': the same on numbers no assumption states;
    - 'source' otherwise (the note names where the figure comes from).
    """
    if kind == "assumption":
        return kind
    text = str(note)
    bare = NUMBER.fullmatch(text.split(":", 1)[0].strip()) is not None
    if CITATION.search(text) or not (ARITHMETIC.search(text) or bare):
        return kind
    numbers = {_number(n) for n in NUMBER.findall(text)}
    return "arithmetic on assumptions" if numbers & assumed else "arithmetic"


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def comments(text: str) -> dict[int, tuple[str, bool]]:
    """Line (1-based) -> (comment text without '#', whether the line holds nothing else)."""
    if "#" not in text:  # no comment anywhere (a generated place): nothing to scan for
        return {}
    ends: dict[int, int] = {}
    inside: set[int] = set()
    try:
        for token in yaml.scan(text, Loader=_scanner(text)):
            start, end = token.start_mark, token.end_mark
            if start.index == end.index:
                continue
            inside.update(range(start.line + 1, end.line))
            ends[end.line] = max(ends.get(end.line, 0), end.column)
            if end.line > start.line:
                ends.setdefault(start.line, len(text))
    except yaml.YAMLError:  # pragma: no cover - the instance has already parsed
        return {}
    found: dict[int, tuple[str, bool]] = {}
    for number, line in enumerate(text.splitlines()):
        if number in inside:
            continue
        rest = line[ends.get(number, 0):]
        stripped = rest.strip()
        if stripped.startswith("#"):
            found[number + 1] = (stripped.lstrip("#").strip(), number not in ends)
    return found


def _scanner(text: str) -> type:
    """libyaml's scanner (several times faster) for ASCII text, where its marks count the
    same characters as PyYAML's own; PyYAML's otherwise."""
    fast = getattr(yaml, "CSafeLoader", None)
    return fast if fast is not None and text.isascii() else yaml.SafeLoader


def comment_rows(text: str, source: Source) -> list[dict[str, Any]]:
    """Comments beside a figure, and marked comments on their own lines above one.

    A block of comment lines marked ASSUMPTION or SOURCE belongs to the first
    figure below it; unmarked comment blocks (working, headings) are left out.
    """
    by_line = _paths_by_line(source)
    found = comments(text)
    rows = [_row(line, by_line[line], source, note)
            for line, (note, alone) in sorted(found.items())
            if not alone and note and line in by_line]
    return rows + _blocks(_group(found), by_line, source)


def _group(found: dict[int, tuple[str, bool]]) -> list[list[tuple[int, str]]]:
    """Consecutive whole-line comments, grouped into blocks."""
    blocks: list[list[tuple[int, str]]] = []
    for line, (note, alone) in sorted(found.items()):
        if not alone:
            continue
        if blocks and blocks[-1][-1][0] == line - 1:
            blocks[-1].append((line, note))
        else:
            blocks.append([(line, note)])
    return blocks


def _blocks(blocks: list[list[tuple[int, str]]], by_line: dict[int, tuple[Any, ...]],
            source: Source) -> list[dict[str, Any]]:
    """Marked comment blocks, each attached to the first figure after it."""
    rows = []
    lines = sorted(by_line)
    for block in blocks:
        note = " ".join(n for _, n in block if n)
        if not MARKED.match(note):
            continue
        after = [n for n in lines if n > block[-1][0]]
        path = by_line[after[0]] if after else ()
        rows.append(_row(block[0][0], path, source, note))
    return rows


def source_field_rows(source: Source, instance: Instance) -> list[dict[str, Any]]:
    """The `source:` fields of streams and interventions."""
    rows = []
    for kind in ("streams", "interventions"):
        for key, item in getattr(instance, kind).items():
            if item.source:
                path = (kind, key, "source")
                rows.append({"line": source.line(path), "path": dotted(path[:2]),
                             "value": "", "kind": "source", "note": item.source})
    return rows


def figure_rows(source: Source) -> list[dict[str, Any]]:
    """The named figures (`figures:`, a figures table or a library), each with its source
    or assumption, its range, where it is defined and how many numbers use it."""
    used: dict[str, int] = {}
    for use in source.uses.values():
        for name in dict.fromkeys(use.names):
            used[name] = used.get(name, 0) + 1
    rows = []
    for name, figure in source.figures.items():
        value = render(figure.value)
        if figure.ranged:
            value += f" ({render(figure.low)} to {render(figure.high)})"
        if figure.unit:
            value += f" {figure.unit}"
        if figure.price_year:
            value += f", {figure.price_year} prices"
        here = figure.file == source.file
        notes = [figure.note or "no source given"]
        if figure.expression:
            notes.append(f"= {figure.expression}")
        if not here:
            notes.append(f"defined in {figure.where}")
        notes.append(f"used {used.get(name, 0)} time{'s' if used.get(name, 0) != 1 else ''}")
        rows.append({"line": figure.line if here else None, "path": f"figures.{name}",
                     "value": value, "kind": "source" if figure.source or not figure.assumption
                     else "assumption", "note": "; ".join(notes)})
    return rows


def _paths_by_line(source: Source) -> dict[int, tuple[Any, ...]]:
    """Line -> the outermost path that starts on it (the figure a trailing comment is beside)."""
    by_line: dict[int, tuple[Any, ...]] = {}
    for path, line in source.lines.items():
        if path and (line not in by_line or len(path) < len(by_line[line])):
            by_line[line] = path
    return by_line


def _row(line: int, path: tuple[Any, ...], source: Source, note: str) -> dict[str, Any]:
    return {"line": line, "path": dotted(path), "value": render(_lookup(source.data, path)),
            "kind": "assumption" if ASSUMPTION.search(note) else "source", "note": note}


def _lookup(data: Any, path: tuple[Any, ...]) -> Any:
    """The value at `path`; '' where the data has none (a named figure's own entry: the
    figures are resolved out of the data, and listed by `figure_rows`)."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return ""
    return data


def render(value: Any) -> str:
    """A figure in one short line: 1200, [1, 2, 3], {a: 1, b: 2}."""
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {render(v)}" for k, v in value.items())
        text = "{" + inner + "}"
    elif isinstance(value, list):
        text = "[" + ", ".join(render(v) for v in value) + "]"
    elif isinstance(value, float):
        text = f"{value:.10g}"  # 51, not 51.00000000000001 from a product of figures
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
