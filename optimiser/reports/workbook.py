"""report.xlsx: the story and every table behind it, for someone with only a spreadsheet.

Sheets: Summary, then Allocation, Funding, Outcomes, Agencies, Who gains (each agency's
position three ways where an agreement moves money, with its range), Transfers (with
the settlement and fair shares when computed), Ring-fence prices, Uncertainty and
Tornado (after `--draws`), Assumptions and Provenance. Every figure is the
full-precision number results.json holds, shown through a number format (money
in the instance's currency); headers are frozen and columns fitted to their
contents. The workbook's properties and
zip timestamps are fixed, so the same figures give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from optimiser.format import currency_symbol
from optimiser.reports.cells import Prepared, RowsSheet, write_cells
from optimiser.reports.story import (
    AGREEMENT_NAMES,
    APPRAISAL,
    Story,
    agreement_kind,
    agreement_sentences,
    change_tolerance,
    compared_scenarios,
    discount_sentences,
    fair_share_notes,
    figure_name,
    limit_rows,
    limits_sentences,
    narrative,
    reads_as,
    uncertainty_sentences,
    years,
)
from optimiser.safe import cell_text
from optimiser.solving.results import written_rows

CREATED = dt.datetime(2000, 1, 1)
"""Fixed creation time, so the file's bytes depend only on its contents."""
MAX_WIDTH = 60


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, the frame's field and how to show it."""

    header: str
    field: str
    kind: str = "text"
    """text, money, pence, number, count, int, share, percent, ratio, seconds or bool"""


@dataclass
class Sheet:
    """A worksheet with the widths its table cells need (prose is left to overflow)."""

    sheet: Worksheet
    formats: dict[str, Format]
    widths: dict[int, float] = field(default_factory=dict)

    def cell(self, row: int, col: int, value: Any, kind: str = "text", fit: bool = True) -> None:
        """Write one value through its kind's format; NaN and None are left blank."""
        fmt = self.formats[kind]
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            self.sheet.write_blank(row, col, None, fmt)
            return
        if kind == "bool":
            self.sheet.write_boolean(row, col, bool(value), fmt)
        elif kind in NUMERIC:
            self.sheet.write_number(row, col, float(value), fmt)
        else:
            self.sheet.write_string(row, col, cell_text(value), fmt)
        if fit:
            self.fit(col, shown_width(value, kind, self.formats["symbol"]))

    def fit(self, col: int, width: float) -> None:
        """Widen column `col` to at least `width` characters."""
        self.widths[col] = max(self.widths.get(col, 0), width)

    def table(self, row: int, frame: pd.DataFrame, columns: Sequence[Column],
              col: int = 0) -> int:
        """Header and rows of `frame`; returns the next free row.

        The same cells as `cell` writes one by one, prepared a column at a time (the
        blanks, the values as written, the widest of them), then written row by row
        (`write_cells`).
        """
        for c, spec in enumerate(columns):
            self.cell(row, col + c, spec.header, "header")
        n = len(frame)
        prepared = []
        for c, spec in enumerate(columns):
            if spec.field in frame:
                series = frame[spec.field]
                values, blank = series.tolist(), pd.isna(series).tolist()
            else:
                values, blank = [None] * n, [True] * n
            shown = self._shown(spec.kind, values)
            kept = [v for v, b in zip(values, blank, strict=True) if not b]
            if kept:
                self.fit(col + c, widest(kept, spec.kind, self.formats["symbol"]))
            prepared.append(Prepared(_KINDS.get(spec.kind, "string"), shown, blank,
                                     self.formats[spec.kind]))
        write_cells(self.sheet, row + 1, col, n, prepared)
        return row + 1 + n

    @staticmethod
    def _shown(kind: str, values: list[Any]) -> list[Any]:
        """The values as written: booleans, floats (`_number`) or safe text (`cell_text`)."""
        if kind == "bool":
            return [v if v is None else bool(v) for v in values]
        if kind in NUMERIC:
            types = set(map(type, values))
            if types <= {float}:  # float(v) is v
                return values
            if types <= {float, int, bool}:
                return list(map(float, values))
            return [_number(v) for v in values]
        try:  # each distinct text made safe once (a tidy table repeats its ids)
            texts = {v: cell_text(v) for v in set(values) if v is not None}
        except TypeError:  # a value that cannot be a key (a list): each in turn
            return [v if v is None else cell_text(v) for v in values]
        return [v if v is None else texts[v] for v in values]

    def finish(self, freeze_rows: int, freeze_cols: int = 0) -> None:
        """Freeze the header rows and set the fitted widths."""
        self.sheet.freeze_panes(freeze_rows, freeze_cols)
        for col, width in sorted(self.widths.items()):
            self.sheet.set_column(col, col, min(MAX_WIDTH, width + 2))


NUMERIC = {"money", "pence", "number", "count", "int", "share", "percent", "ratio", "seconds"}
_KINDS = {**dict.fromkeys(NUMERIC, "number"), "bool": "boolean"}
"""How each kind of column is written: a number, a boolean, or (the rest) a string."""


def _number(value: Any) -> Any:
    """A value as a float for write_number (None and NaN pass through: written blank)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def widest(values: list[Any], kind: str, symbol: Any) -> float:
    """The largest `shown_width` of `values` (none of them blank).

    A number's width grows with its size (money: its magnitude rounded to whole units,
    and a minus sign where it is below zero; the others to 4 or 1 decimals, and a minus
    sign where its sign bit is set, -0.0 included): the widest is that of the largest
    value at or above zero or of the largest magnitude below it, two formatted texts
    for the whole column. Text: each distinct value measured once."""
    digits = _DECIMALS.get(kind)
    if kind == "money" or digits is not None:
        try:
            numbers = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            numbers = None
        if numbers is not None and numbers.ndim == 1 and np.isfinite(numbers).all():
            below = numbers < 0 if kind == "money" else np.signbit(numbers)
            widths = []
            if not below.all():
                widths.append(shown_width(float(numbers[~below].max()), kind, symbol))
            if below.any():
                widths.append(shown_width(-float(np.abs(numbers[below]).max()), kind, symbol))
            return max(widths)
        return max(shown_width(v, kind, symbol) for v in values)
    if kind in ("share", "bool"):
        return shown_width(values[0], kind, symbol)
    return max(shown_width(v, kind, symbol) for v in set(map(str, values)))


_DECIMALS = {"number": 4, "ratio": 4, "seconds": 4, "pence": 4, "count": 1}
"""Decimals `shown_width` formats each numeric kind but money with."""


def shown_width(value: Any, kind: str, symbol: Any) -> float:
    """About how many characters a value takes once formatted."""
    if kind == "money":
        return len(f"{abs(float(value)):,.0f}") + len(str(symbol)) + (value < 0)
    if kind in _DECIMALS:
        return len(f"{float(value):,.{_DECIMALS[kind]}f}")
    if kind == "share":
        return 5
    if kind == "percent":
        return 7
    if kind == "bool":
        return 5
    return max((len(line) for line in str(value).splitlines()), default=0) * (
        1.1 if kind == "header" else 1.0)


def make_formats(book: Workbook, currency: str) -> dict[str, Any]:
    """The workbook's cell formats, money in the instance's currency."""
    symbol = currency_symbol(currency).replace('"', "")
    money_format = f'"{symbol}"#,##0;[Red]-"{symbol}"#,##0'
    pence_format = f'"{symbol}"#,##0.00;[Red]-"{symbol}"#,##0.00'
    specs: dict[str, dict[str, Any]] = {
        "text": {"valign": "top"},
        "header": {"bold": True, "bottom": 1, "bg_color": "#E8ECF2", "valign": "top"},
        "title": {"bold": True, "font_size": 16, "font_color": "#1F3B73"},
        "heading": {"bold": True, "font_size": 12, "font_color": "#1F3B73"},
        "headline": {"bold": True, "font_size": 12},
        "prose": {"italic": True, "font_color": "#444444"},
        "money": {"num_format": money_format},
        "number": {"num_format": "#,##0.00"},
        "count": {"num_format": "#,##0.0"},
        "int": {"num_format": "0"},
        "share": {"num_format": "0%"},
        "percent": {"num_format": "0.0%"},
        "ratio": {"num_format": "0.0000"},
        "pence": {"num_format": pence_format},
        "seconds": {"num_format": "0.000"},
        "bool": {"align": "center"},
    }
    formats: dict[str, Any] = {k: book.add_format(v) for k, v in specs.items()}
    formats["symbol"] = symbol
    return formats


def write_workbook(story: Story, path: Path) -> None:
    """Write report.xlsx for `story` at `path`."""
    # in_memory: each part of the file is built in memory and zipped from there, not
    # written to a temporary file and read back (about a third of the workbook's time on
    # a Birmingham-sized place); its parts then carry Excel's own date, 1 January 1980.
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False, "in_memory": True})
    book.set_properties({"title": f"{story.instance.name}: pooled against ring-fenced budgets",
                         "author": "optimise", "created": CREATED})
    book.worksheet_class = RowsSheet  # each sheet's rows written in one pass
    formats = make_formats(book, story.currency)
    for write in (summary_sheet, account_sheet, tidy_sheets, agencies_sheet, positions_sheet,
                  cash_sheet,
                  transfers_sheet, prices_sheet, limits_sheet, discount_sheet,
                  uncertainty_sheet, tornado_sheet, assumptions_sheet, provenance_sheet):
        write(story, book, formats)
    book.close()


def _sheet(book: Workbook, name: str, formats: dict[str, Any]) -> Sheet:
    return Sheet(book.add_worksheet(name), formats)


def objective_kind(story: Story) -> str:
    """Objectives are money, except weighted outcome units for the 'outcomes' objective."""
    return "count" if story.instance.objective == "outcomes" else "money"


def summary_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """The headline, every scenario, outcomes against targets, who gains and who loses."""
    sheet = _sheet(book, "Summary", formats)
    inst = story.instance
    sheet.cell(0, 0, inst.name, "title", fit=False)
    sheet.cell(1, 0, f"{years(inst.years)} from {inst.start_year}; objective {inst.objective}; "
               f"money in {inst.currency} at constant prices, present values discounted at "
               f"{inst.discount_rate:.1%} a year.", "prose", fit=False)
    sheet.cell(2, 0, story.headline.sentence, "headline", fit=False)
    row = 4
    sheet.cell(row, 0, "Scenarios", "heading", fit=False)
    row = sheet.table(row + 1, story.scenarios, [
        Column("Scenario", "scenario"), Column("Description", "description"),
        Column("Status", "status"), Column("Objective", "objective", objective_kind(story)),
        Column("Spend (PV)", "spend", "money"), Column("Savings (PV)", "savings", "money"),
        Column("Net benefit (PV)", "net_benefit", "money"),
        Column("Transfers (PV)", "transferred", "money"), Column("Why not optimal", "message"),
    ])
    if not story.diagnosis.empty:
        sheet.cell(row + 1, 0, "Why there is no plan: the least shortfall in each requirement "
                   "that cannot hold (money in present value)", "heading", fit=False)
        row = sheet.table(row + 2, story.diagnosis, [
            Column("Scenario", "scenario"), Column("Requirement", "constraint"),
            Column("Of", "item"), Column("Year", "year", "int"),
            Column("Required", "required", "number"),
            Column("Achievable", "achievable", "number"),
            Column("Shortfall", "shortfall", "number")])
    row = _targets_block(story, sheet, row + 1)
    row = _positions_block(story, sheet, row + 1)
    row += 1
    sheet.cell(row, 0, "In brief", "heading", fit=False)
    said = narrative(story)
    for n, sentence in enumerate(said):
        sheet.cell(row + 1 + n, 0, sentence, "prose", fit=False)
    row += len(said) + 2
    sheet.cell(row, 0, "Figures chosen by rule", "heading", fit=False)
    for n, (key, text) in enumerate(story.rules.items()):
        sheet.cell(row + 1 + n, 0, f"{key}: {text}", "prose", fit=False)
    row += len(story.rules) + 2
    if not story.decided.empty:
        sheet.cell(row, 0, "Positions the rules decided (before transfers, PV): plans with the "
                   "same optimal objective give any position from the least to the greatest",
                   "heading", fit=False)
        sheet.table(row + 1, _named(story, story.decided, "agencies", "agency"), [
            Column("Scenario", "scenario"), Column("Agency", "agency"),
            Column("Name", "agency_name"), Column("Reported", "position", "money"),
            Column("Least", "position_min", "money"),
            Column("Greatest", "position_max", "money"),
        ])
    sheet.finish(3)


def _targets_block(story: Story, sheet: Sheet, row: int) -> int:
    """Outcome x scenario: mean achieved a year, with the mean target a year."""
    sheet.cell(row, 0, "Outcomes a year (mean over the plan) against targets", "heading",
               fit=False)
    names = story.scenarios["scenario"].tolist()
    targets = story.targets
    wide = targets.pivot(index="outcome", columns="scenario", values="achieved") \
        if not targets.empty else pd.DataFrame()
    goal = targets.groupby("outcome")["target"].first() if not targets.empty else pd.Series()
    frame = pd.DataFrame({"outcome": list(story.instance.outcomes)})
    frame["name"] = [story.name("outcomes", k) for k in frame["outcome"]]
    frame["target"] = frame["outcome"].map(goal)
    for n in names:
        frame[scenario_field(n)] = frame["outcome"].map(wide[n]) if n in wide else None
    columns = [Column("Outcome", "outcome"), Column("Name", "name"),
               Column("Target a year", "target", "count")]
    columns += [Column(n, scenario_field(n), "count") for n in names]
    return sheet.table(row + 1, frame, columns)


def scenario_field(scenario: str) -> str:
    """The field a scenario's column is kept under in a block's frame: 'scenario:<id>',
    apart from the block's own fields (a scenario may be called 'agency', 'name',
    'outcome' or 'target') and unique, as scenario ids are; its header is the id."""
    return f"scenario:{scenario}"


def _positions_block(story: Story, sheet: Sheet, row: int) -> int:
    """Agency x scenario: net position (PV), and the change in the headline comparison."""
    sheet.cell(row, 0, "Who gains and who loses: net position (PV: savings - spend + "
               "transfers)", "heading", fit=False)
    gains = story.gains
    names = story.scenarios["scenario"].tolist()
    frame = pd.DataFrame({"agency": list(story.instance.agencies)})
    frame["name"] = [story.name("agencies", a) for a in frame["agency"]]
    columns = [Column("Agency", "agency"), Column("Name", "name")]
    if not gains.empty:
        net = gains.pivot(index="agency", columns="scenario", values="net")
        for n in names:
            frame[scenario_field(n)] = frame["agency"].map(net[n]) if n in net else None
        columns += [Column(n, scenario_field(n), "money") for n in names]
        head = story.headline
        if head.net_benefit is not None:
            mine = gains[gains["scenario"] == head.pooled].set_index("agency")
            tol = change_tolerance(mine["gain"])
            # keyed apart from the scenario columns (a scenario may be called 'gain')
            for key in ("gain", "gain_low", "gain_high"):
                frame[f"{key}:"] = frame["agency"].map(mine[key])
            frame["reads:"] = [reads_as(story, mine.loc[a, "gain"], mine.loc[a, "gain_low"],
                                        mine.loc[a, "gain_high"], tol) for a in frame["agency"]]
            columns += [Column(f"Change, {head.pooled} against {head.baseline}", "gain:",
                               "money"),
                        Column("Least among equally good plans", "gain_low:", "money"),
                        Column("Greatest among equally good plans", "gain_high:", "money"),
                        Column("Reads as", "reads:")]
    return sheet.table(row + 1, frame, columns)


def _named(story: Story, frame: pd.DataFrame, kind: str, key: str) -> pd.DataFrame:
    """`frame` with a display-name column beside the id column `key`."""
    out = frame.copy()
    ids = out[key].tolist()
    try:  # each distinct id named once (a tidy table repeats them)
        names = {v: story.name(kind, v) for v in set(ids)}
    except TypeError:  # an id that cannot be a key: each in turn
        out[f"{key}_name"] = [story.name(kind, v) for v in ids] if len(out) else []
        return out
    out[f"{key}_name"] = [names[v] for v in ids] if len(out) else []
    return out


TIDY_SHEETS: list[tuple[str, str, list[tuple[str, str]], list[Column]]] = [
    ("Allocation", "allocation", [("interventions", "intervention")], [
        Column("Scenario", "scenario"), Column("Intervention", "intervention"),
        Column("Name", "intervention_name"), Column("Year", "year", "int"),
        Column("Units", "units", "number"), Column("Cost (cash)", "cost", "money")]),
    ("Funding", "funding", [("streams", "stream"), ("interventions", "intervention")], [
        Column("Scenario", "scenario"), Column("Stream", "stream"),
        Column("Stream name", "stream_name"), Column("Intervention", "intervention"),
        Column("Intervention name", "intervention_name"), Column("Year", "year", "int"),
        Column("Amount (cash)", "amount", "money"),
        Column("Through the pool", "pooled", "money")]),
    ("Outcomes", "outcomes", [("outcomes", "outcome")], [
        Column("Scenario", "scenario"), Column("Outcome", "outcome"),
        Column("Name", "outcome_name"), Column("Year", "year", "int"),
        Column("Achieved", "achieved", "number"), Column("Target", "target", "number")]),
]
"""Sheets that show one tidy table as the CSV does, with display names beside the ids:
(sheet, table, [(instance section, id column)], columns)."""


SHEET_ROWS = 10_000
"""Rows beyond which a tidy sheet shows its table summed (`sheet_table`); the CSV beside
the workbook keeps every row."""

FUNDING_SUMMARY = [
    Column("Scenario", "scenario"), Column("Stream", "stream"),
    Column("Stream name", "stream_name"), Column("Intervention", "intervention"),
    Column("Intervention name", "intervention_name"),
    Column("Years with money", "years", "int"),
    Column("Amount (cash, all years)", "amount", "money"),
    Column("Through the pool (all years)", "pooled", "money")]

FUNDING_BY_STREAM = [
    Column("Scenario", "scenario"), Column("Stream", "stream"),
    Column("Stream name", "stream_name"), Column("Interventions funded", "interventions", "int"),
    Column("Amount (cash, all years)", "amount", "money"),
    Column("Through the pool (all years)", "pooled", "money")]

ALLOCATION_SUMMARY = [
    Column("Scenario", "scenario"), Column("Intervention", "intervention"),
    Column("Name", "intervention_name"), Column("Years bought", "years", "int"),
    Column("Units (all years)", "units", "number"),
    Column("Cost (cash, all years)", "cost", "money")]


def tidy_sheets(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Allocation (units and cash cost), Funding (stream to intervention, and the part
    through the pool) and Outcomes (achieved against targets), a row per scenario, item
    and year, as the CSVs have them (`written_rows`). A table of more than SHEET_ROWS
    rows is shown summed (`sheet_table`), and the sheet says how and where the full
    table is."""
    for name, kind, ids, columns in TIDY_SHEETS:
        sheet = _sheet(book, name, formats)
        frame, columns, note = sheet_table(kind, written_rows(kind, story.result.table(kind)),
                                           columns)
        for section, key in ids:
            if key in frame.columns:
                frame = _named(story, frame, section, key)
        sheet.table(0, frame, columns)
        if note:
            sheet.cell(0, len(columns) + 1, note, "prose", fit=False)
        sheet.finish(1)


def sheet_table(kind: str, frame: pd.DataFrame,
                columns: list[Column]) -> tuple[pd.DataFrame, list[Column], str]:
    """What a tidy sheet shows of table `kind`: every row up to SHEET_ROWS; beyond, the
    table summed over the years (allocation: a row per scenario and intervention;
    funding: per scenario, stream and intervention, `funding_summary`); a funding
    table still longer, summed over interventions too (a row per scenario and stream,
    `funding_by_stream`). Returns the rows, their columns and the note that says what
    was summed and where every row is (empty when nothing was)."""
    rows = len(frame)
    if rows <= SHEET_ROWS or kind not in ("funding", "allocation"):
        return frame, columns, ""
    where = f"the full table, {rows:,} rows (one a year), is {kind}.csv beside this workbook"
    if kind == "allocation":
        return allocation_summary(frame), ALLOCATION_SUMMARY, f"Summed over the years: {where}."
    coded = Coded.of(frame, ["scenario", "stream", "intervention"])
    pairs = (coded.frame if coded is not None else frame).groupby(
        ["scenario", "stream", "intervention"], sort=False).ngroups
    if pairs <= SHEET_ROWS:
        return funding_summary(frame), FUNDING_SUMMARY, f"Summed over the years: {where}."
    return funding_by_stream(frame, coded), FUNDING_BY_STREAM, (
        f"Summed over the years and interventions ({pairs:,} stream and intervention "
        f"pairs are more than this sheet shows): {where}.")


@dataclass(frozen=True)
class Coded:
    """A table with its key columns replaced by their values' codes (in the order the
    values first appear): grouped by the codes it has the groups it has by the values, in
    the same order, and the same sums to the bit, without hashing the text again for
    every grouping."""

    frame: pd.DataFrame
    values: dict[str, Any]
    """key column -> its distinct values, by code"""

    @classmethod
    def of(cls, frame: pd.DataFrame, keys: list[str]) -> Coded | None:
        """`frame` coded by `keys` (None where a key is missing: grouping drops those rows)."""
        out, values = frame.copy(deep=False), {}
        for key in keys:
            codes, values[key] = pd.factorize(frame[key].to_numpy(dtype=object), sort=False)
            if (codes < 0).any():
                return None
            out[key] = codes
        return cls(out, values)

    def decoded(self, grouped: pd.DataFrame) -> pd.DataFrame:
        """A table grouped from this one's codes, with the values in place of the codes."""
        for key, values in self.values.items():
            if key in grouped.columns:
                grouped[key] = values.take(grouped[key].to_numpy())
        return grouped


def funding_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The funding table summed over the years: a row per scenario, stream and
    intervention (in the table's order), its cash amount and pooled part over every
    year, and how many years have money."""
    grouped = frame.groupby(["scenario", "stream", "intervention"], sort=False)
    out = grouped[["amount", "pooled"]].sum().reset_index()
    out["years"] = grouped["year"].count().to_numpy()
    return out


def funding_by_stream(frame: pd.DataFrame, coded: Coded | None = None) -> pd.DataFrame:
    """The funding table summed over the years and interventions: a row per scenario and
    stream (in the table's order), its cash amount and pooled part over every year and
    intervention, and how many interventions it pays for (grouped by its `coded` form
    where given: the same table)."""
    grouped = (frame if coded is None else coded.frame).groupby(["scenario", "stream"],
                                                                sort=False)
    out = grouped[["amount", "pooled"]].sum().reset_index()
    out["interventions"] = grouped["intervention"].nunique().to_numpy()
    return out if coded is None else coded.decoded(out)


def allocation_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The allocation table summed over the years: a row per scenario and intervention
    (in the table's order), its units and cash cost over every year, and how many years
    it is bought in."""
    grouped = frame.groupby(["scenario", "intervention"], sort=False)
    out = grouped[["units", "cost"]].sum().reset_index()
    out["years"] = grouped["year"].count().to_numpy()
    return out


def agencies_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Each agency's present-value accounts, and the range the rules chose its position from."""
    sheet = _sheet(book, "Agencies", formats)
    frame = _named(story, story.result.table("agencies"), "agencies", "agency")
    gains = story.gains[["scenario", "agency", "reference", "gain"]]
    frame = frame.merge(gains, on=["scenario", "agency"], how="left") if len(frame) else frame
    sheet.table(0, frame, [
        Column("Scenario", "scenario"), Column("Agency", "agency"),
        Column("Name", "agency_name"), Column("Spend", "spend", "money"),
        Column("Savings", "savings", "money"), Column("Transfers in", "transfers_in", "money"),
        Column("Transfers out", "transfers_out", "money"), Column("Net", "net", "money"),
        Column("Position before transfers", "position", "money"),
        Column("Least position", "position_min", "money"),
        Column("Greatest position", "position_max", "money"),
        Column("Decided by rule", "decided_by_rule", "bool"),
        Column("Reference", "reference"), Column("Change against reference", "gain", "money"),
    ])
    sheet.finish(1, 3)


def positions_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Who gains and who loses in every scenario compared with a reference: each agency's
    position three ways (the change the plan leaves it, what the scenario's agreement
    moves, the change where it ends), each change with its least and greatest among
    equally good plans and how the reports read it (`reads_as`: a change whose range spans
    zero is never a gain or a loss); then what each agreement does and the fair-share
    notes, in words."""
    sheet = _sheet(book, "Who gains", formats)
    frame = story.gains.dropna(subset=["plan"]).copy()
    kinds = {s.name: agreement_kind(story, s.name) or "" for s in story.result.scenarios}
    frame["agreement"] = frame["scenario"].map(
        lambda n: AGREEMENT_NAMES.get(kinds[n], kinds[n] or "none"))
    tolerances = {n: change_tolerance(g["gain"]) for n, g in frame.groupby("scenario")}
    frame["reads"] = [reads_as(story, r.gain, r.gain_low, r.gain_high, tolerances[r.scenario])
                      for r in frame.itertuples(index=False)]
    frame = _named(story, frame, "agencies", "agency")
    row = sheet.table(0, frame, [
        Column("Scenario", "scenario"), Column("Reference", "reference"),
        Column("Agreement", "agreement"), Column("Agency", "agency"),
        Column("Name", "agency_name"), Column("Reference position", "reference_net", "money"),
        Column("The plan leaves it (change)", "plan", "money"),
        Column("Least", "plan_low", "money"), Column("Greatest", "plan_high", "money"),
        Column("The agreement moves", "moves", "money"),
        Column("It ends (change)", "gain", "money"), Column("Least", "gain_low", "money"),
        Column("Greatest", "gain_high", "money"), Column("Reads as", "reads"),
    ])
    notes = [(n, text) for n in compared_scenarios(story)
             for text in [*agreement_sentences(story, n), *fair_share_notes(story, n)]]
    notes += [(s.name, text) for s in story.result.scenarios if s.status == "optimal"
              and s.name not in compared_scenarios(story)
              for text in fair_share_notes(story, s.name)]
    sheet.cell(row + 1, 0, "Changes are against the reference, in present value. Least and "
               "greatest: the range among plans with the same optimal objective (the rules "
               "chose the figure shown). What each agreement does, and fair shares, in words:",
               "prose", fit=False)
    for n, (name, text) in enumerate(notes):
        sheet.cell(row + 2 + n, 0, name, fit=False)
        sheet.cell(row + 2 + n, 1, text, "prose", fit=False)
    sheet.finish(1, 5)


def account_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """The Treasury's account (account.csv): a row per scenario, cash and valued outcomes
    apart, in the Green Book's terms."""
    sheet = _sheet(book, "Account", formats)
    kinds = {"money": "money", "ratio": "number", "year": "int"}
    sheet.table(0, story.account, [Column("Scenario", "scenario"), Column("Status", "status")]
                + [Column(label, key, kinds[kind]) for label, key, kind in APPRAISAL])
    sheet.finish(1, 1)


def cash_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Each agency's cash in each year (agencies_by_year.csv): spend and the savings that
    arrive, undiscounted."""
    sheet = _sheet(book, "Agencies by year", formats)
    frame = _named(story, story.cash, "agencies", "agency")
    sheet.table(0, frame, [
        Column("Scenario", "scenario"), Column("Agency", "agency"),
        Column("Name", "agency_name"), Column("Year", "year", "int"),
        Column("Spend (cash)", "spend", "money"), Column("Savings arriving (cash)", "savings",
                                                         "money")])
    sheet.finish(1, 3)


def transfers_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Payments under agreements, settlement payments and fair (Shapley) shares, side by
    side."""
    sheet = _sheet(book, "Transfers", formats)
    blocks = [
        ("Payments under agreements (PV)", story.result.table("transfers"),
         [Column("Scenario", "scenario"), Column("From", "from"), Column("To", "to"),
          Column("Amount", "amount", "money")]),
        ("Settlement payments (PV)", story.settlement,
         [Column("Scenario", "scenario"), Column("From", "from"), Column("To", "to"),
          Column("Amount", "amount", "money")]),
        ("Settlement shortfall (PV)", pd.DataFrame(
            list(story.shortfall.items()), columns=["scenario", "shortfall"]),
         [Column("Scenario", "scenario"), Column("Shortfall", "shortfall", "money")]),
        *([("Settlement not proposed", pd.DataFrame(
            list(story.unsettled.items()), columns=["scenario", "why"]),
            [Column("Scenario", "scenario"), Column("Why", "why")])] if story.unsettled else []),
        ("Fair shares of the pooling gain (Shapley)", story.shapley,
         [Column("Scenario", "scenario"), Column("Agency", "agency"),
          Column("Share", "value", objective_kind(story))]
         + ([Column("Standard error (sampled)", "standard_error", objective_kind(story))]
            if story.shapley["standard_error"].notna().any() else [])),
    ]
    col = 0
    for title, frame, columns in blocks:
        empty = ": none" if title.startswith("Payments") else ": not computed in this run"
        sheet.cell(0, col, title + (empty if frame.empty else ""), "heading", fit=False)
        sheet.table(1, frame, columns, col=col)
        col += len(columns) + 1
    sheet.finish(2)


def prices_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """The price of each ring-fence, ranked: lift gain and marginal value of a pound."""
    sheet = _sheet(book, "Ring-fence prices", formats)
    frame = _named(story, story.prices, "streams", "stream")
    row = sheet.table(0, frame, [
        Column("Rank", "rank", "int"), Column("Stream", "stream"),
        Column("Name", "stream_name"), Column("Agency", "agency"),
        Column("Against", "reference"),
        Column("Gain from lifting it alone", "lift_gain", objective_kind(story)),
        Column("Marginal value of one more unit of budget", "marginal_value",
               "ratio" if story.instance.objective == "outcomes" else "pence"),
    ])
    if frame.empty:
        sheet.cell(row + 1, 0, "Not computed in this run.", "prose", fit=False)
    sheet.finish(1)


def limits_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Every scenario's binding limits (limits.csv), with their prices and figures' basis
    (written when the limits analysis ran)."""
    if "limits" not in story.result.analyses:
        return
    sheet = _sheet(book, "Limits", formats)
    frame = story.limits.copy()
    frame["reading"] = [reading for _, reading in limit_rows(story)]
    rate = "number" if story.instance.objective == "outcomes" else "pence"
    row = sheet.table(0, frame, [
        Column("Scenario", "scenario"), Column("Limit", "kind"), Column("Of", "item"),
        Column("Binding in", "years"),
        Column("Gain from one unit more room", "gain", rate),
        Column("Loss from one unit less room", "loss", rate),
        Column("Pricing", "pricing"), Column("What it means", "reading"),
        Column("One unit is", "unit"), Column("Figure", "figure"), Column("Basis", "basis"),
        Column("Source or assumption", "note")])
    for n, sentence in enumerate(limits_sentences(story)):
        sheet.cell(row + 1 + n, 0, sentence, "prose", fit=False)
    sheet.finish(1, 3)


def discount_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """Every scenario's objective and account at each discount rate tried (written when the
    discount_sensitivity analysis ran)."""
    if story.discounting.empty:
        return
    sheet = _sheet(book, "Discount rates", formats)
    sheet.table(0, story.discounting, [
        Column("Discount rate", "rate", "percent"), Column("Scenario", "scenario"),
        Column("Status", "status"), Column("Objective", "objective", objective_kind(story)),
        Column("Net cash (PV)", "cash_net", "money"),
        Column("Valued outcomes (PV)", "outcome_value", "money"),
        Column("Net benefit (PV)", "net_benefit", "money"),
        Column("Pays for itself in cash by", "payback_year", "int"),
        Column("Rank", "rank", "int")])
    sentences = discount_sentences(story)
    for n, sentence in enumerate(sentences):
        sheet.cell(len(story.discounting) + 2 + n, 0, sentence, "prose", fit=False)
    sheet.finish(1, 2)


def uncertainty_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """After `--draws`: each scenario's objective over the draws, draws without a plan, the
    chance of beating the reference and of each agency ending worse off; how it was drawn."""
    u = story.uncertainty
    if u is None:
        return
    sheet = _sheet(book, "Uncertainty", formats)
    sheet.cell(0, 0, f"Uncertainty: {u.draws:,} draws of {u.figures} uncertain figures, "
               f"seed {u.seed}", "title", fit=False)
    said = uncertainty_sentences(story)[1:]
    for n, sentence in enumerate(said):
        sheet.cell(1 + n, 0, sentence, "prose", fit=False)
    row = len(said) + 2
    sheet.cell(row, 0, "Committed: each scenario's plan at the central figures, evaluated "
               "in every draw", "heading", fit=False)
    kind = objective_kind(story)
    central = story.scenarios.set_index("scenario")["objective"]
    spread = u.spread.assign(central=u.spread["scenario"].map(central))
    row = sheet.table(row + 1, spread, [
        Column("Scenario", "scenario"), Column("Reference", "reference"),
        Column("Every figure central", "central", kind), Column("Mean", "mean", kind),
        Column("5th percentile", "p5", kind), Column("Median", "p50", kind),
        Column("95th percentile", "p95", kind), Column("Draws", "draws", "int"),
        Column("No plan to commit", "no_plan", "int"),
        Column("Every target met", "p_targets_met", "percent"),
        Column("Beats the reference", "p_beats_reference", "percent")])
    sheet.cell(row + 1, 0, "With hindsight: every scenario re-optimised knowing each draw's "
               "figures (mean and percentiles over the draws with a plan)", "heading",
               fit=False)
    row = sheet.table(row + 2, u.hindsight, [
        Column("Scenario", "scenario"), Column("Reference", "reference"),
        Column("Mean", "mean", kind), Column("5th percentile", "p5", kind),
        Column("Median", "p50", kind), Column("95th percentile", "p95", kind),
        Column("Draws", "draws", "int"), Column("With a plan", "optimal", "int"),
        Column("Infeasible", "infeasible", "int"), Column("Unbounded", "unbounded", "int"),
        Column("Compared with the reference", "compared", "int"),
        Column("Beats the reference", "p_beats_reference", "percent")])
    if not u.worse_off.empty:
        sheet.cell(row + 1, 0, "Chance each agency ends worse off under the committed plan "
                   "than under the reference's (net position after the agreed transfers, "
                   "same draw)", "heading", fit=False)
        wide = u.worse_off.pivot(index="agency", columns="scenario", values="probability")
        names = [n for n in u.spread["scenario"] if n in wide.columns]
        frame = _named(story, pd.DataFrame({"agency": list(story.instance.agencies)}),
                       "agencies", "agency")
        for n in names:
            frame[n] = frame["agency"].map(wide[n])
        row = sheet.table(row + 2, frame, [Column("Agency", "agency"),
                                           Column("Name", "agency_name")]
                          + [Column(n, n, "percent") for n in names])
    method = story.result.analyses["uncertainty_method"]
    sheet.cell(row + 1, 0, "How the figures are computed", "heading", fit=False)
    notes = [(k, v) for k, v in method.items() if isinstance(v, str)]
    for n, (key, text) in enumerate(notes):
        sheet.cell(row + 2 + n, 0, f"{key.replace('_', ' ')}: {text}", "prose", fit=False)
    sheet.finish(1)


def tornado_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """After `--draws`: the tornado's figures, widest swing first, and its chart."""
    u = story.uncertainty
    if u is None:
        return
    sheet = _sheet(book, "Tornado", formats)
    kind = objective_kind(story)
    frame = u.tornado.assign(
        scenario=u.main, base=u.base,
        name=[figure_name(story.instance, f) for f in u.tornado["figure"]],
        change_low=u.tornado["objective_low"] - u.base if u.base is not None else None,
        change_high=u.tornado["objective_high"] - u.base if u.base is not None else None)
    sheet.table(0, frame, [
        Column("Scenario", "scenario"), Column("Figure", "figure"), Column("Name", "name"),
        Column("Low", "low", "number"), Column("Central", "central", "number"),
        Column("High", "high", "number"), Column("Every figure central", "base", kind),
        Column("Objective at its low", "objective_low", kind),
        Column("Objective at its high", "objective_high", kind),
        Column("Swing", "swing", kind), Column("Status at its low", "status_low"),
        Column("Status at its high", "status_high"),
        Column("Change at its low", "change_low", kind),
        Column("Change at its high", "change_high", kind)])
    sheet.finish(1, 3)
    if frame.empty:
        return
    chart = book.add_chart({"type": "bar"})
    last = len(frame)
    for col, name, colour in ((12, "At its low", "#3D8FD1"), (13, "At its high", "#E09F3E")):
        chart.add_series({"name": name, "categories": ["Tornado", 1, 2, last, 2],
                          "values": ["Tornado", 1, col, last, col],
                          "fill": {"color": colour}, "gap": 60, "overlap": 100})
    chart.set_title({"name": f"What moves {u.main} most: change in its objective"})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "top"})
    chart.set_size({"width": 760, "height": 140 + 26 * min(last, 30)})
    sheet.sheet.insert_chart(last + 2, 2, chart)


def assumptions_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """The instance's figures with their sources, and its stated assumptions."""
    sheet = _sheet(book, "Assumptions", formats)
    row = sheet.table(0, story.assumptions, [
        Column("Line", "line", "int"), Column("Figure", "path"), Column("Value", "value"),
        Column("Kind", "kind"), Column("Source or assumption", "note"),
    ])
    if story.assumptions.empty:
        sheet.cell(row + 1, 0, "The instance file states no sources or assumptions.", "prose",
                   fit=False)
    sheet.finish(1)


def provenance_sheet(story: Story, book: Workbook, formats: dict[str, Any]) -> None:
    """What produced these figures: versions, the instance's hash, each scenario's solve."""
    sheet = _sheet(book, "Provenance", formats)
    items = pd.DataFrame(story.provenance, columns=["item", "value"])
    row = sheet.table(0, items, [Column("Item", "item"), Column("Value", "value")])
    sheet.table(row + 1, story.scenarios, [
        Column("Scenario", "scenario"), Column("Status", "status"),
        Column("Solve time (s)", "solve_seconds", "seconds"), Column("Message", "message"),
    ])
    sheet.finish(1)
