"""Spreadsheet input: agencies, streams, interventions and outcomes from CSV or XLSX tables.

Instead of writing a section inline, the YAML may name a table for it, with
the path relative to the YAML file:

    interventions: interventions.csv
    streams: {table: place.xlsx, sheet: streams}

(without `sheet`, a workbook's sheet named after the section is read, or its
only sheet). The table is read into the same plain dict the inline YAML gives,
before validation, so everything after this stage is unchanged.

The columns (the header is the first row; blank rows are skipped; a blank cell
leaves the field to its default):

- `id`: the item's id, one row per id (required);
- a field of the section as a column of the same name: `name`, `agency`,
  `unit_cost`, `pool_share`, ...;
- a per-year figure (`budget`, `unit_cost`, `min_units`, `max_units`,
  `target`) either as one column (the same every year) or as one column per
  year named `<field>_<year>`, e.g. `budget_2010` to `budget_2014`, covering
  the whole horizon from `start_year`; a row fills one or the other;
- maps as prefixed columns: `effect.<outcome id>` (effects) and
  `saving.<agency id>` (savings); the plural prefix works too;
- `ring_fence`: intervention ids separated by semicolons
  (`reablement; night_sitting`); `-` for an empty ring-fence; blank for the
  default (every intervention the stream's agency delivers).

Numbers may carry a currency sign, thousands commas (`£1,200`; money or figures
with dots between groups of three digits, `€1.200`, `1.200,50` or `2.500.000`, are
refused as ambiguous) or a per cent
sign (`50%` is 0.5). XLSX files are read values only: a formula's value as the
workbook last saved it, never evaluated (a formula with no saved value is an
error). CSV files are UTF-8, or Windows-1252 as Excel saves 'CSV (Comma
delimited)'. Every problem names the file, the sheet, the row and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import math
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from optimiser.errors import InstanceError, Problem
from optimiser.inputs.schema import Agency, Intervention, Outcome, Stream
from optimiser.inputs.validate import PER_YEAR_FIELDS
from optimiser.inputs.xlsx import PlainWorkbook
from optimiser.inputs.yamlsource import Cell, Source, read_regular

SECTIONS: dict[str, type[BaseModel]] = {
    "agencies": Agency, "streams": Stream, "interventions": Intervention, "outcomes": Outcome}
"""The sections that may be tables, and the schema of one row of each."""
TEXT_FIELDS = frozenset({"name", "agency", "unit", "source", "kind"})
LIST_FIELDS = frozenset({"ring_fence"})
MAP_PREFIXES = {"effect": "effects", "effects": "effects", "saving": "savings",
                "savings": "savings"}
EMPTY_LIST = "-"
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
MAX_TABLE_BYTES = 20 * 1024 * 1024
"""The largest table file."""
MAX_UNZIPPED = 50 * 1024 * 1024
"""A workbook whose parts unzip to more than this is refused (a zip bomb, or not a place)."""
MAX_CELLS = 200_000
"""The most cells a table may hold (counted as its rows stream in, so a sheet whose
formatting runs far beyond its figures stops here, not at the end of the sheet)."""
MAX_COLUMNS = 16_384
"""A spreadsheet's limit (column XFD)."""


@dataclass(frozen=True)
class Column:
    """One column of a table: where it is and what it fills."""

    index: int
    label: str  # "D (unit_cost)"
    kind: str  # id | text | list | number | map | year
    field: str = ""
    key: str | int = ""  # the map's key, or the year's position in the horizon


@dataclass(frozen=True)
class Table:
    """A table's raw cells (header first) and where they came from."""

    file: str
    sheet: str | None
    rows: list[list[Any]]

    def cell(self, row: int, column: str | None = None) -> Cell:
        """The Cell at a spreadsheet row (header = 1) and column label."""
        return Cell(self.file, self.sheet, row, column)


def load_tables(source: Source, base: Path) -> Source:
    """The source with every section that names a table replaced by the table's items."""
    data = dict(source.data)
    cells: dict[tuple[str | int, ...], Cell] = dict(source.cells)
    digests = dict(source.tables)
    problems: list[Problem] = []
    horizon = _horizon(source.data)
    with Workbooks() as books:
        for section in SECTIONS:
            try:
                reference = table_reference(source, section)
                if reference is None:
                    continue
                table, digest = read_table(source, section, base, *reference, books=books)
                named = "figures" in source.data or "figures_from" in source.data
                data[section], where = parse_table(table, section, horizon, named)
            except InstanceError as err:
                problems.extend(err.problems)
                continue
            cells.update(where)
            digests[table.file] = digest
    if problems:
        raise InstanceError(problems)
    tabled = {p[0] for p in cells}
    lines = {p: n for p, n in source.lines.items() if not (len(p) > 1 and p[0] in tabled)}
    return Source(source.file, data, lines, cells, digests)


def table_reference(source: Source, section: str) -> tuple[str, str | None] | None:
    """(file, sheet) when the section names a table, None when it is written inline."""
    value = source.data.get(section)
    if isinstance(value, str):
        return value, None
    if not (isinstance(value, dict) and isinstance(value.get("table"), str)
            and set(value) <= {"table", "sheet"}):
        return None
    sheet = value.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        raise InstanceError([source.problem((section, "sheet"), "a sheet is named by text")])
    return value["table"], sheet


def read_table(source: Source, section: str, base: Path, name: str,
               sheet: str | None, books: Workbooks | None = None) -> tuple[Table, str]:
    """The named table's cells, and the SHA-256 of its file (a workbook opened once in
    `books` for every sheet read from it, when given)."""
    path = base / name
    shown = str(Path(source.file).parent / name)

    def fail(message: str) -> InstanceError:
        return InstanceError([source.problem((section,), message)])

    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        hint = "; save it as .xlsx" if path.suffix.lower() in {".xls", ".ods"} else ""
        raise fail(f"table {name!r}: a table is a .csv or .xlsx file{hint}")
    if kind == "csv" and sheet is not None:
        raise fail(f"table {name!r}: a CSV file has no sheets; drop 'sheet'")
    if not path.resolve().is_relative_to(base.resolve()):
        raise fail(f"table {name!r}: tables are read from the instance's folder or a folder "
                   f"inside it ({base}); copy the table there")
    try:
        raw = read_regular(path, MAX_TABLE_BYTES)
    except ValueError as exc:
        looked = f" (looked in {path.parent})" if str(exc) == "no such file" else ""
        raise fail(f"table {name!r}: {exc}{looked}") from None
    except OSError as exc:
        raise fail(f"table {name!r}: cannot read it: {exc.strerror or exc}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if kind == "csv":
        return Table(shown, None, _csv_rows(raw, shown)), digest
    if books is None:
        with Workbooks() as once:
            chosen, rows = _xlsx_rows(once.open(raw, digest, shown), shown, sheet or section,
                                      sheet is None)
    else:
        chosen, rows = _xlsx_rows(books.open(raw, digest, shown), shown, sheet or section,
                                  sheet is None)
    return Table(shown, chosen, rows), digest


def _csv_rows(raw: bytes, shown: str) -> list[list[Any]]:
    """A CSV file's rows of text."""
    if b"\x00" in raw:
        raise InstanceError([Problem(shown, "", None, "not a CSV text file (it contains NUL "
                                     "bytes); save it as CSV (UTF-8)")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise InstanceError([Problem(shown, "", None, "not a CSV text file (neither UTF-8 "
                                         "nor Windows-1252); save it as CSV (UTF-8)")]) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[Any]] = []
    try:
        for row in reader:
            rows.append(row)
            cells = len(rows) * max(1, len(row))
            if cells > MAX_CELLS or len(row) > MAX_COLUMNS:
                raise InstanceError([Problem(shown, "", None, _too_large(len(row)),
                                             row=len(rows))])
    except csv.Error as exc:
        raise InstanceError([Problem(shown, "", None, f"not a valid CSV file: {exc}",
                                     row=len(rows) + 1)]) from None
    return rows


def _too_large(columns: int) -> str:
    """Why a table is refused for its size."""
    if columns > MAX_COLUMNS:
        return (f"the table has {columns:,} columns, more than a spreadsheet's "
                f"{MAX_COLUMNS:,}")
    return (f"the table is too large (more than {MAX_CELLS:,} cells, or formatting far "
            "beyond its figures: delete the unused rows and columns)")


def _xml_problem(archive: zipfile.ZipFile, formulas: list[bool] | None = None) -> str | None:
    """Why a workbook's XML is refused before any is parsed: a DOCTYPE or entities, which
    no spreadsheet writes (they make XXE and 'billion laughs' workbooks). `formulas`, when
    given, gets True appended if any worksheet holds a formula."""
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as part:
            head = part.read(8192)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", errors="ignore").encode("utf-8")
        head = head.replace(b"\x00", b"").upper()
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            return (f"the workbook's part {info.filename} declares a DOCTYPE or entities, "
                    "which no spreadsheet writes; save the workbook again from your "
                    "spreadsheet as .xlsx")
        if info.filename.startswith("xl/worksheets/"):
            count, formula = _cells(archive, info)
            if count > MAX_CELLS:
                return _too_large(0)
            if formula and formulas is not None:
                formulas.append(True)
    return None


_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
"""A cell's formula element (`<f>`, `<f t="shared" .../>`), in any namespace prefix."""


def _cells(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, bool]:
    """How many cells a worksheet's XML holds, counted in its bytes as they unzip (fast:
    no XML is parsed), so a sheet of millions of cells is refused before it is read; and
    whether it holds a formula."""
    count, tail, formula = 0, b"", False
    with archive.open(info) as part:
        while chunk := part.read(1 << 20):
            block = tail + chunk
            count += len(_CELL.findall(block))
            formula = formula or _FORMULA.search(block) is not None
            tail = block[-8:]
            count -= len(_CELL.findall(tail))  # counted again with the next chunk
            if count > MAX_CELLS:
                break
    return count, formula


@dataclass
class Book:
    """A workbook opened for its tables: its saved values, read straight from its XML
    (`plain`, `optimiser.inputs.xlsx`) or by openpyxl, read-only (`values`: a workbook
    the plain reader leaves to openpyxl, or any with a formula), and where any sheet
    holds a formula its formulas too (to name a formula with no saved value); a problem
    found before it opened is kept and raised for every table read from it."""

    raw: bytes = b""
    shown: str = ""
    plain: Any = None
    values: Any = None
    formulas: Any = None
    problem: InstanceError | None = None

    @property
    def sheetnames(self) -> list[str]:
        """The workbook's sheets, in its order."""
        return list((self.plain or self.values).sheetnames)

    def rows(self, sheet: str, fail: Any) -> list[list[Any]]:
        """The sheet's rows of values (`_streamed`), by the plain reader when it can."""
        if self.plain is not None:
            try:
                return _streamed(self.plain[sheet], fail, sheet)
            except InstanceError:
                raise
            except Exception:  # Unusual, or XML it cannot parse: openpyxl reads it all
                self.plain.close()
                self.plain = None
                self.values = _openpyxl(self.raw, self.shown, data_only=True)
        return _streamed(self.values[sheet], fail, sheet)

    def close(self) -> None:
        """Close whatever is open."""
        for opened in (self.plain, self.values, self.formulas):
            if opened is not None:
                opened.close()


class Workbooks:
    """The workbooks a place's tables are read from, each opened once however many of its
    sheets are read (a context: closes them all at the end)."""

    def __init__(self) -> None:
        self.books: dict[str, Book] = {}

    def open(self, raw: bytes, digest: str, shown: str) -> Book:
        """The workbook of these bytes (SHA-256 `digest`), checked and opened the first time."""
        if digest not in self.books:
            try:
                self.books[digest] = _open_book(raw, shown)
            except InstanceError as err:
                self.books[digest] = Book(problem=err)
        return self.books[digest]

    def __enter__(self) -> Workbooks:
        return self

    def __exit__(self, *_exc: object) -> None:
        for book in self.books.values():
            book.close()
        self.books.clear()


def _open_book(raw: bytes, shown: str) -> Book:
    """Check a workbook's parts (`_xml_problem`) and open it read-only, values only and,
    where a sheet holds a formula, formulas too."""

    def fail(message: str) -> InstanceError:
        return InstanceError([Problem(shown, "", None, message)])

    formulas: list[bool] = []
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise fail(f"the workbook unzips to more than {MAX_UNZIPPED // 2**20} MB")
            problem = _xml_problem(archive, formulas)
            if problem:
                raise fail(problem)
    except InstanceError:
        raise
    except Exception:  # a damaged zip: BadZipFile, zlib.error, EOFError, an unknown method
        raise fail("not an XLSX workbook (save it from your spreadsheet as .xlsx)") from None
    book = Book(raw, shown)
    if not formulas:
        try:
            book.plain = PlainWorkbook(zipfile.ZipFile(io.BytesIO(raw)))
            return book
        except Exception:  # Unusual, or XML it cannot parse: openpyxl reads it
            pass
    book.values = _openpyxl(raw, shown, data_only=True)
    if formulas:
        try:
            book.formulas = _openpyxl(raw, shown, data_only=False)
        except InstanceError:
            book.values.close()
            raise
    return book


def _openpyxl(raw: bytes, shown: str, data_only: bool) -> Any:
    """The workbook opened read-only by openpyxl (its saved values, or its formulas)."""
    import openpyxl  # here, not at the top: only workbooks the plain reader leaves need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about features it drops
            return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or hostile file
        raise InstanceError([Problem(shown, "", None, f"cannot read the workbook: "
                                     f"{type(exc).__name__}: {exc}")]) from None


def _xlsx_rows(book: Book, shown: str, sheet: str,
               default: bool) -> tuple[str, list[list[Any]]]:
    """The chosen sheet's rows of values, read values only; (sheet name, rows)."""

    def fail(message: str, sheet: str | None = None, row: int | None = None,
             column: str | None = None) -> InstanceError:
        return InstanceError([Problem(shown, "", None, message, sheet, row, column)])

    if book.problem is not None:
        raise book.problem
    names = book.sheetnames
    if sheet not in names:
        if not (default and len(names) == 1):
            listed = ", ".join(repr(n) for n in names)
            raise fail(f"no sheet {sheet!r}; the workbook has {listed}")
        sheet = names[0]
    rows = book.rows(sheet, fail)
    if book.formulas is None:  # no sheet holds a formula
        return sheet, rows
    unsaved = [
        Problem(shown, "", None, f"the formula {written} has no saved value: open the "
                "workbook in a spreadsheet and save it, or type the value", sheet, n + 1,
                get_column_letter(m + 1))
        for n, row in enumerate(_streamed(book.formulas[sheet], fail, sheet))
        for m, written in enumerate(row)
        if isinstance(written, str) and written.startswith("=")
        and _blank(_at(rows[n], m) if n < len(rows) else None)]
    if unsaved:
        raise InstanceError(unsaved)
    return sheet, rows


def _streamed(sheet: Any, fail: Any, name: str) -> list[list[Any]]:
    """A read-only sheet's rows, streamed, refused (`fail`) as soon as they pass
    MAX_CELLS cells or a row MAX_COLUMNS columns, before the rest is read."""
    rows: list[list[Any]] = []
    cells = 0
    for values in sheet.iter_rows(values_only=True):
        rows.append(list(values))
        cells += len(values)
        if cells > MAX_CELLS or len(values) > MAX_COLUMNS:
            raise fail(_too_large(len(values)), name, len(rows))
    return rows


def parse_table(table: Table, section: str, horizon: tuple[int, int] | None,
                named: bool = False
                ) -> tuple[dict[str, dict[str, Any]], dict[tuple[str | int, ...], Cell]]:
    """The section's items (id -> fields, as inline YAML would give) and where each value sits.

    With `named` (the instance defines figures), a number cell may hold a figure's name
    or a product such as `0.4 * admission_cost`, kept as text for
    `optimiser.inputs.figures` to resolve."""
    problems: list[Problem] = []
    rows = table.rows
    while rows and all(_blank(v) for v in rows[-1]):
        rows = rows[:-1]
    if not rows:
        raise InstanceError([table.cell(1).problem((section,), "the table is empty: the first "
                                                   "row names the columns, starting with 'id'")])
    columns = _columns(table, section, horizon, problems)
    if problems:
        raise InstanceError(problems)
    items: dict[str, dict[str, Any]] = {}
    cells: dict[tuple[str | int, ...], Cell] = {}
    first: dict[str, int] = {}
    id_col = next(c for c in columns if c.kind == "id")
    for r, row in enumerate(rows[1:], start=2):
        if all(_blank(v) for v in row):
            continue
        item_id = _text(_at(row, id_col.index))
        if not item_id:
            problems.append(table.cell(r, id_col.label).problem(
                (section,), "this row has no id"))
            continue
        if item_id in first:
            problems.append(table.cell(r, id_col.label).problem(
                (section, item_id), f"duplicate id {item_id!r} (first on row {first[item_id]})"))
            continue
        first[item_id] = r
        cells[(section, item_id)] = table.cell(r)
        items[item_id] = _item(table, section, item_id, r, row, columns, cells, problems,
                               named)
    if problems:
        raise InstanceError(problems)
    return items, cells


def _columns(table: Table, section: str, horizon: tuple[int, int] | None,
             problems: list[Problem]) -> list[Column]:
    """Read the header row: which field each column fills."""
    header = table.rows[0]
    if "id" not in {_text(raw).lower() for raw in header}:  # not a table: quote nothing of it
        problems.append(table.cell(1).problem(
            (section,), "there is no 'id' column: the first row names the columns, one of "
            "them 'id' (one row per id)"))
        return []
    fields = list(SECTIONS[section].model_fields)
    per_year = PER_YEAR_FIELDS.get(section, ())
    columns: list[Column] = []
    seen: dict[str, str] = {}
    years: dict[str, set[int]] = {}
    for n, raw in enumerate(header):
        name = _text(raw).lower()
        letter = get_column_letter(n + 1)
        label = f"{letter} ({name})" if name else letter

        def bad(message: str, label: str = label) -> None:
            problems.append(table.cell(1, label).problem((section,), message))

        if not name:
            if any(not _blank(_at(row, n)) for row in table.rows[1:]):
                bad("this column has figures but no name in the first row")
            continue
        if name in seen:
            bad(f"the column {name!r} appears twice (also column {seen[name]})")
            continue
        seen[name] = letter
        prefix, _, key = name.partition(".")
        year = re.fullmatch(r"(.+)_(-?\d+)", name)
        if name == "id":
            columns.append(Column(n, label, "id"))
        elif name in fields and name in per_year:
            columns.append(Column(n, label, "number", name))
        elif name in fields and name not in MAP_PREFIXES.values():
            kind = "text" if name in TEXT_FIELDS else "list" if name in LIST_FIELDS else "number"
            columns.append(Column(n, label, kind, name))
        elif key and MAP_PREFIXES.get(prefix) in fields:
            columns.append(Column(n, label, "map", MAP_PREFIXES[prefix], key))
        elif year and year.group(1) in per_year:
            field, calendar = year.group(1), int(year.group(2))
            if horizon is None:
                bad("columns per year need a whole-number start_year and years in the YAML")
                continue
            start, count = horizon
            if not start <= calendar < start + count:
                bad(f"the year {calendar} is outside the plan ({start} to {start + count - 1})")
                continue
            years.setdefault(field, set()).add(calendar - start)
            columns.append(Column(n, label, "year", field, calendar - start))
        else:
            bad(f"unknown column {name!r}{_suggest(name, section)}")
    if "id" not in seen:
        problems.append(table.cell(1).problem(
            (section,), "there is no 'id' column: the first row names the columns, one of "
            "them 'id' (one row per id)"))
    for field, got in years.items():
        if horizon is not None and len(got) < horizon[1]:
            missing = [horizon[0] + t for t in range(horizon[1]) if t not in got]
            problems.append(table.cell(1).problem(
                (section,), f"columns per year for {field} must cover the whole plan; missing "
                + ", ".join(f"{field}_{y}" for y in missing)))
    return columns


def _item(table: Table, section: str, item_id: str, r: int, row: list[Any],
          columns: list[Column], cells: dict[tuple[str | int, ...], Cell],
          problems: list[Problem], named: bool = False) -> dict[str, Any]:
    """One row as the inline YAML's mapping of fields."""
    item: dict[str, Any] = {}
    yearly: dict[str, dict[int, tuple[Any, Column]]] = {}
    for col in columns:
        value = _at(row, col.index)
        if col.kind == "id" or _blank(value):
            continue
        at = (section, item_id, col.field)
        if col.kind == "text":
            item[col.field] = _text(value)
        elif col.kind == "list":
            text = _text(value)
            item[col.field] = [] if text == EMPTY_LIST else [
                p.strip() for p in text.split(";") if p.strip()]
        else:
            number: float | str | None
            number, error = parse_number(value)
            if error and named and isinstance(value, str) and _named(value):
                number, error = value.strip(), None  # a named figure, resolved later
            if error:
                problems.append(table.cell(r, col.label).problem(at, error))
                continue
            if col.kind == "map":
                item.setdefault(col.field, {})[col.key] = number
                cells[(*at, col.key)] = table.cell(r, col.label)
                continue
            if col.kind == "year":
                yearly.setdefault(col.field, {})[int(col.key)] = (number, col)
                continue
            item[col.field] = number
        cells[at] = table.cell(r, col.label)
    for field, given in yearly.items():
        year_cols = sorted((c for c in columns if c.kind == "year" and c.field == field),
                           key=lambda c: int(c.key))
        at = (section, item_id, field)
        if field in item:
            problems.append(table.cell(r, cells[at].column).problem(
                at, f"give {field} in one column or per year, not both"))
            continue
        blanks = [c for c in year_cols if int(c.key) not in given]
        if blanks:
            problems.append(table.cell(r, blanks[0].label).problem(
                at, f"give {field} for every year of the plan, or leave every year blank"))
            continue
        item[field] = [given[int(c.key)][0] for c in year_cols]
        cells[at] = table.cell(r, year_cols[0].label)
        cells.update({(*at, int(c.key)): table.cell(r, c.label) for c in year_cols})
    return item


def parse_number(value: Any) -> tuple[int | float | None, str | None]:
    """A cell as a number: (number, None), or (None, why not).

    Integral values become ints (so `lag` reads as a whole number); text may
    carry a sign, a currency symbol, thousands commas and a trailing %.
    """
    if isinstance(value, bool):
        return None, f"{str(value).upper()} is not a number"
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return None, "a date is not a number; format the cell as a number"
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if _DOT_THOUSANDS.fullmatch(text):
            return None, (f"{str(value).strip()!r} is ambiguous: in much of Europe the dot "
                          "separates thousands; write 1200 or 1,200 for twelve hundred, 1.2 "
                          "for one point two")
        match = re.fullmatch(r"([+-]?)[£$€]?(\d{1,3}(?:,\d{3})+|\d*)(\.\d*)?([eE][+-]?\d+)?(%?)",
                             text)
        if not match or not (match.group(2) or (match.group(3) or "")[1:]):
            return None, f"{str(value).strip()!r} is not a number"
        sign, whole, frac, exponent, percent = match.groups()
        number = float(sign + whole.replace(",", "") + (frac or "") + (exponent or ""))
        if percent:
            number /= 100
    if not math.isfinite(number):
        return None, f"{value!r} is not a finite number"
    return (int(number) if number.is_integer() and abs(number) < 2**53 else number), None


def _named(text: str) -> bool:
    """Whether a cell's text is a figure's name or a product such as 0.4 * admission_cost."""
    parts = [p.strip().lstrip("-").strip() for p in text.split("*")]
    return any(re.fullmatch(r"[a-z][a-z0-9_]*", p) for p in parts) and all(
        re.fullmatch(r"[a-z][a-z0-9_]*|[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", p)
        for p in parts)


_DOT_THOUSANDS = re.compile(
    r"[+-]?(?:[£$€][1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?"  # money: €1.200, £1.200,50
    r"|[£$€]?[1-9]\d{0,2}(?:\.\d{3}){2,}(?:,\d*)?"  # two dots or more: 2.500.000
    r"|[£$€]?[1-9]\d{0,2}(?:\.\d{3})+,\d*)%?")  # a decimal comma after: 1.200,50
"""Money, or a figure, written with dots between groups of three digits (`€1.200`,
`1.200,50`, `2.500.000`): thousands in much of Europe; refused rather than read as 1.2.
A plain `1.174` stays a decimal (an effect a unit, say)."""


def _horizon(data: dict[str, Any]) -> tuple[int, int] | None:
    """(start_year, years) as the YAML gives them (start_year defaults to 1; years is
    required), if whole numbers."""
    start, years = data.get("start_year", 1), data.get("years")
    if (isinstance(start, bool) or not isinstance(start, int)
            or isinstance(years, bool) or not isinstance(years, int)):
        return None
    return start, max(0, years)


def _at(row: Sequence[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _suggest(name: str, section: str) -> str:
    known = table_columns(section)
    prefix, dot, key = name.partition(".")
    prefixes = [p for p in MAP_PREFIXES if MAP_PREFIXES[p] in SECTIONS[section].model_fields]
    close = [f"{c}.{key}" for c in difflib.get_close_matches(prefix, prefixes, n=1)] if dot \
        else difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (the columns of {section}: {', '.join(known)})"


def table_rows(section: str, items: dict[str, dict[str, Any]], start_year: int
               ) -> list[list[Any]]:
    """The inverse of `parse_table`: a section's inline items as a header and rows.

    A per-year figure given as a list takes one column per year from
    `start_year`; maps take prefixed columns; a ring-fence is joined with '; '.
    """
    per_year = PER_YEAR_FIELDS.get(section, ())
    header: list[str] = ["id"]
    for field in SECTIONS[section].model_fields:
        given = [item[field] for item in items.values() if field in item]
        if field in ("effects", "savings"):
            keys = list(dict.fromkeys(k for g in given for k in g))
            header += [f"{field[:-1]}.{k}" for k in keys]
            continue
        if (field in LIST_FIELDS and given) or any(not isinstance(g, list) for g in given):
            header.append(field)
        if field in per_year:
            lengths = {len(g) for g in given if isinstance(g, list)}
            header += [f"{field}_{start_year + t}" for t in range(max(lengths, default=0))]
    rows: list[list[Any]] = [header]
    for item_id, item in items.items():
        row: list[Any] = []
        for name in header:
            prefix, _, key = name.partition(".")
            year = re.fullmatch(r"(.+)_(-?\d+)", name)
            if name == "id":
                row.append(item_id)
            elif key and MAP_PREFIXES.get(prefix) in item:
                row.append(item[MAP_PREFIXES[prefix]].get(key))
            elif year and isinstance(item.get(year.group(1)), list):
                row.append(item[year.group(1)][int(year.group(2)) - start_year])
            elif name in LIST_FIELDS and isinstance(item.get(name), list):
                row.append("; ".join(item[name]) or EMPTY_LIST)
            else:
                value = item.get(name)
                row.append(None if isinstance(value, list | dict) else value)
        rows.append(row)
    return rows


def table_columns(section: str) -> list[str]:
    """The column names a section's table may use, maps and years as patterns."""
    per_year = PER_YEAR_FIELDS.get(section, ())
    out = ["id"]
    for field in SECTIONS[section].model_fields:
        if field == "effects":
            out.append("effect.<outcome>")
        elif field == "savings":
            out.append("saving.<agency>")
        else:
            out.append(field)
            if field in per_year:
                out.append(f"{field}_<year>")
    return out


def get_column_letter(n: int) -> str:
    """A spreadsheet column's letters from its 1-based number: 1 -> A, 27 -> AA (as
    openpyxl's, without importing openpyxl for YAML-only instances)."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
