"""Named figures as data: a figure defined once, and where a ranged one is used.

`optimiser.inputs.figures` reads them; `optimiser.inputs.yamlsource.Source` carries them
to the later stages (the assumptions table, the draws, the plain export).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NamedFigure:
    """A figure defined once under `figures:` (in the instance, a library it draws on, or a
    `figures` table) and used by name wherever a number goes.

    `value` is its central figure (an expression of other figures is already resolved
    here: `expression` keeps what was written); `low` and `high` its range, both or
    neither. `where` says where it is defined, as people read it.
    """

    name: str
    value: float
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    price_year: str | None = None
    source: str | None = None
    assumption: str | None = None
    where: str = ""
    file: str = ""
    line: int | None = None
    expression: str | None = None
    depends: tuple[str, ...] = ()
    """The figures its expression names, and theirs in turn."""

    @property
    def ranged(self) -> bool:
        """Whether the figure is uncertain (drawn once a draw for every use)."""
        return self.low is not None and self.high is not None

    @property
    def note(self) -> str:
        """Its source, or the assumption behind it ('' if neither is given)."""
        if self.source:
            return self.source
        return f"ASSUMPTION: {self.assumption}" if self.assumption else ""


@dataclass(frozen=True)
class Factor:
    """A ranged named figure in a use: drawn triangular(low, value, high)."""

    name: str
    low: float
    value: float
    high: float


@dataclass(frozen=True)
class Use:
    """A number written as a product of numbers and names, at one path of the data.

    The value there is `coefficient * prod(f.value for f in factors)` at the central
    figures; in a draw, each factor takes its drawn value (the same for every use of it
    in that draw). `coefficient` folds in the numbers and every name without a range;
    `names` are every name written (after expanding figures defined from figures).
    """

    text: str
    coefficient: float
    factors: tuple[Factor, ...]
    names: tuple[str, ...]
