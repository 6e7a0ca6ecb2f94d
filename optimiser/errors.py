"""Domain errors: what the CLI turns into one clear line and an exit status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instance, and where it is."""

    file: str
    path: str
    line: int | None
    message: str
    sheet: str | None = None
    """For a value read from a spreadsheet table: the workbook's sheet (None for a CSV file)."""
    row: int | None = None
    """The table's row, counted as a spreadsheet does (the header is row 1)."""
    column: str | None = None
    """The table's column, e.g. 'D (unit_cost)'."""

    def __str__(self) -> str:
        where = self.file
        if self.sheet is not None:
            where += f", sheet {self.sheet}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        if self.line is not None:
            where += f", line {self.line}"
        if self.path:
            where += f", at {self.path}"
        return f"{where}: {self.message}"


class InstanceError(Exception):
    """The instance is not valid: exit status 2, nothing written.

    Carries every problem found, so a finance lead fixes them all in one go.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        files = len({p.file for p in self.problems})
        where = "the instance" if files == 1 else f"{files} instances"
        head = f"{len(self.problems)} problems in {where}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class OutputError(Exception):
    """The output folder cannot be written (for example, `--out` names a file): exit status 2."""


class UsageError(Exception):
    """The command line asks for something that does not exist: exit status 2."""
