"""`optimise export INSTANCE [--out FILE] [--draw N] [--seed S]`: the place as plain YAML.

The copy is in the contract's format (docs/contract.md) with nothing left to resolve:
every named figure written as its number, every spreadsheet table written inline,
every range `{low, central, high}` as its central value (or, with `--draw N`, as drawn
in draw N of `--draws` with that seed: the same numbers `draw_figures.csv` lists). A
comment beside each number says where it came from: the product of named figures and
their sources, the table cell, or the line of the instance file. Running `optimise` on
the copy gives the figures the original gives (at the central figures, or in that
draw).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from optimiser.analyses.uncertainty import figures_of
from optimiser.inputs.figures import place_kind
from optimiser.inputs.named import Use
from optimiser.inputs.ranges import draw_uniforms, triangular
from optimiser.inputs.yamlsource import dotted
from optimiser.pipeline import Prepared
from optimiser.safe import printable

PLAIN_KEY = re.compile(r"[a-z0-9_]+")
RANGE_KEYS = {"low", "central", "high"}


def export_text(prepared: Prepared, draw: int | None = None, seed: int = 0) -> str:
    """The instance as plain YAML with a comment naming the source of every number."""
    source = prepared.source
    values: dict[tuple[str | int, ...], float] = {}
    if draw is not None:
        figures = figures_of(prepared)
        u = draw_uniforms(seed, [f.label for f in figures], 1, first=draw)[0]
        values = {f.path: float(triangular(u[n], np.array(float(f.low)),
                                           np.array(float(f.central)), np.array(float(f.high))))
                  for n, f in enumerate(figures)}
    exporter = _Exporter(prepared, values, draw, seed)
    head = [f"# {_comment(prepared.path.name)}, exported by `optimise export`: plain YAML in the "
            "contract's format (docs/contract.md),",
            "# every named figure and spreadsheet table resolved to its number, and every "
            "range to its "
            + ("central value." if draw is None else
               f"value in draw {draw} of `--draws` with seed {seed}."),
            f"# Source file SHA-256: {prepared.sha256}"]
    for file, digest in sorted(source.tables.items()):
        head.append(f"# Also read: {_comment(Path(file).name)} (SHA-256 {digest})")
    return "\n".join([*head, "", *exporter.block(source.data, (), 0)]) + "\n"


class _Exporter:
    """Writes plain data as block YAML, a comment beside each number."""

    def __init__(self, prepared: Prepared, drawn: dict[tuple[str | int, ...], float],
                 draw: int | None, seed: int) -> None:
        self.prepared = prepared
        self.source = prepared.source
        self.drawn = drawn
        self.draw = draw
        self.seed = seed

    def block(self, data: Any, path: tuple[str | int, ...], indent: int) -> list[str]:
        pad = "  " * indent
        out: list[str] = []
        if isinstance(data, dict):
            for key, value in data.items():
                at = (*path, key)
                name = key if PLAIN_KEY.fullmatch(str(key)) else json.dumps(str(key))
                if self._is_range(value, at):
                    number, note = self._collapse(value, at)
                    out.append(f"{pad}{name}: {_number(number)}  # {_comment(note)}")
                elif isinstance(value, dict) and value:
                    out.append(f"{pad}{name}:")
                    out += self.block(value, at, indent + 1)
                elif isinstance(value, list) and value and any(
                        isinstance(v, dict | list) for v in value):
                    out.append(f"{pad}{name}:")
                    out += self._items(value, at, indent + 1)
                else:
                    out.append(f"{pad}{name}: {self._scalar(value, at)}")
        return out

    def _items(self, values: list[Any], path: tuple[str | int, ...], indent: int
               ) -> list[str]:
        pad = "  " * indent
        out = []
        for n, value in enumerate(values):
            at = (*path, n)
            if self._is_range(value, at):
                number, note = self._collapse(value, at)
                out.append(f"{pad}- {_number(number)}  # {_comment(note)}")
            else:
                out.append(f"{pad}- {self._scalar(value, at)}")
        return out

    def _is_range(self, value: Any, path: tuple[str | int, ...]) -> bool:
        return (isinstance(value, dict) and set(value) == RANGE_KEYS
                and place_kind(path) == "range")

    def _scalar(self, value: Any, path: tuple[str | int, ...]) -> str:
        """A scalar or a flow list, with its provenance as a comment for numbers."""
        if isinstance(value, list):
            text = "[" + ", ".join(_plain(v) for v in value) + "]"
            numbers = any(isinstance(v, int | float) and not isinstance(v, bool)
                          for v in value)
            return text + (f"  # {self._where_safe(path)}" if numbers else "")
        if isinstance(value, dict):
            inner = ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
            numbers = any(isinstance(v, int | float) and not isinstance(v, bool)
                          for v in value.values())
            return "{" + inner + "}" + (f"  # {self._where_safe(path)}" if numbers else "")
        text = _plain(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{text}  # {self._where_safe(path)}"
        return text

    def _collapse(self, value: dict[str, Any], path: tuple[str | int, ...]
                  ) -> tuple[float, str]:
        """A range's central value, or its value in the draw; and where it came from."""
        use = self.source.uses.get(path)
        instance_path = _instance_path(path)
        if self.draw is None:
            return value["central"], (f"central of the range {_plain(value['low'])} to "
                                      f"{_plain(value['high'])}; " + self._where(path))
        if use is not None and use.factors:
            number = float(use.coefficient)
            for factor in use.factors:
                number *= self.drawn[("figures", factor.name)]
        else:
            u = draw_uniforms(self.seed, [dotted(instance_path)], 1, first=self.draw)[0, 0]
            number = float(triangular(u, np.array(float(value["low"])),
                                      np.array(float(value["central"])),
                                      np.array(float(value["high"]))))
        return number, (f"draw {self.draw} (seed {self.seed}) of the range "
                        f"{_plain(value['low'])} to {_plain(value['high'])} around "
                        f"{_plain(value['central'])}; " + self._where(path))

    def _where(self, path: tuple[str | int, ...]) -> str:
        """Where the number at `path` came from: named figures, a table cell, or a line."""
        source = self.source
        use: Use | None = source.uses.get(path)
        if use is not None:
            notes = []
            for name in dict.fromkeys(use.names):
                figure = source.figures.get(name)
                if figure is None:
                    continue
                note = figure.note or "no source given"
                notes.append(f"{name} = {_plain(figure.value)} ({note}; {_short(figure.where)})")
            return f"{use.text}: " + "; ".join(notes)
        for end in range(len(path), 0, -1):
            cell = source.cells.get(path[:end])
            if cell is not None:
                column = cell.column or (str(path[end]) if end < len(path) else "")
                where = Path(cell.file).name
                if cell.sheet:
                    where += f", sheet {cell.sheet}"
                return f"{where}, row {cell.row}" + (f", column {column}" if column else "")
        line = source.line(path)
        return f"{Path(source.file).name}, line {line}" if line else Path(source.file).name

    def _where_safe(self, path: tuple[str | int, ...]) -> str:
        return _comment(self._where(path))


def _comment(text: str) -> str:
    """Text for a YAML comment: one line, no control characters (a source's text may hold
    anything; a line break would start YAML of its own)."""
    return " ".join(printable(text).split())


def _instance_path(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The instance path a scenario override's value stands for (else `path` itself)."""
    if len(path) >= 4 and path[0] == "scenarios" and path[2] == "overrides":
        parts = tuple(int(p) if p.isdigit() else p for p in str(path[3]).split("."))
        return (*parts, *path[4:])
    return path


def _short(where: str) -> str:
    """'/a/b/place.yaml, line 3' -> 'place.yaml, line 3'."""
    file, sep, rest = where.partition(", ")
    return Path(file).name + sep + rest


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


def _plain(value: Any) -> str:
    """A scalar as YAML: numbers as numbers (every digit), text double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    return json.dumps(str(value), ensure_ascii=False)
