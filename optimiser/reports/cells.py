"""Cells of report.xlsx in bulk: stored into xlsxwriter's cell table a block at a time
(`write_cells`), and each sheet's rows written to its XML in one pass (`RowsSheet`).

xlsxwriter writes a cell through four checked calls (its A1-notation wrapper, the bounds
and dimension check, the record) and, at close, each cell's XML through a handful more;
a Birmingham-sized place's workbook has about 43,000 cells, and those calls were most of
its time. Both paths here make the very records and the very XML that xlsxwriter 3 makes
(tests compare them part by part with its own), and hand anything else (a version not
in TESTED_XLSXWRITER, a cell kind or sheet feature they do not write) to xlsxwriter itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import not_
from typing import Any

import numpy as np
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet


@dataclass(frozen=True)
class Prepared:
    """One column of a table as written: how, its values as written, which are blank, and
    its cell format."""

    write: str
    """number, boolean or string"""
    shown: list[Any]
    blank: list[bool]
    fmt: Format


def write_cells(sheet: Worksheet, first: int, col: int, n: int,
                columns: Sequence[Prepared]) -> None:
    """`n` rows of `columns` from row `first`, column `col`: a blank (with its format) where
    a value is blank, else the value through its format, row by row as
    `write_number` / `write_string` / `write_boolean` / `write_blank` would each write them.

    Where the worksheet keeps its cells as xlsxwriter 3 does (`cell_store`), the cells go
    straight into its table: the same cell records and the same shared strings in the same
    order (registered row by row, left to right), and the sheet's dimensions widened once
    to the block's corners, instead of four checked calls a cell. Anything that path does
    not write the same way (no such store, a block beyond the sheet's edge, a number that
    is not finite, a text long enough to be cut) is written through the public methods.
    """
    store = cell_store(sheet)
    if (store is None or not n or not columns or not _plain_cells(sheet, columns)
            or sheet._check_dimensions(first, col)
            or sheet._check_dimensions(first + n - 1, col + len(columns) - 1)):
        _write_each(sheet, first, col, n, columns)
        return
    number, string, boolean, blank_cell = store
    new = tuple.__new__  # a record made as its class makes it, without a call in Python
    shared = sheet.str_table._get_shared_string_index
    made = []
    for spec in columns:
        blank = new(blank_cell, (spec.fmt,))  # one record for every blank of the column
        if spec.write == "number" and not any(spec.blank):
            made.append(list(map(new, repeat(number, n), zip(spec.shown, repeat(spec.fmt)))))
        elif spec.write == "number":
            made.append([blank if b else new(number, (v, spec.fmt))
                         for v, b in zip(spec.shown, spec.blank, strict=True)])
        elif spec.write == "boolean":
            made.append([blank if b else new(boolean, (1 if v else 0, spec.fmt))
                         for v, b in zip(spec.shown, spec.blank, strict=True)])
        else:
            made.append([blank if b else None for b in spec.blank])
    texts = [(made[c], spec.shown, spec.blank, spec.fmt) for c, spec in enumerate(columns)
             if spec.write == "string"]
    if len(texts) == 1 and not any(texts[0][2]):  # one text column, none blank
        cells, shown, _, fmt = texts[0]
        cells[:] = map(new, repeat(string, n), zip(map(shared, shown), repeat(fmt)))
    else:
        for r in range(n):  # shared strings registered in the order the methods would
            for cells, shown, blank, fmt in texts:
                if not blank[r]:
                    cells[r] = new(string, (shared(shown[r]), fmt))
    places = range(col, col + len(columns))
    table = sheet.table
    for at, row in enumerate(zip(*made, strict=True), start=first):
        table[at].update(zip(places, row, strict=True))


TESTED_XLSXWRITER = ("3.3.",)
"""The xlsxwriter versions whose internals these paths were compared with (its records,
cell table and row XML are not its public interface and may change in any release): any
other version writes through xlsxwriter's own methods, slower and the same."""


def cell_store(sheet: Worksheet) -> tuple[Any, Any, Any, Any] | None:
    """xlsxwriter's cell records (number, string, boolean, blank) where the worksheet keeps
    its cells in a table of rows and its text in a shared string table, as the versions in
    TESTED_XLSXWRITER do when not in constant-memory mode; None otherwise."""
    from xlsxwriter import worksheet as module

    records = [getattr(module, name, None) for name in (
        "CellNumberTuple", "CellStringTuple", "CellBooleanTuple", "CellBlankTuple")]
    if (not xlsxwriter.__version__.startswith(TESTED_XLSXWRITER) or any(r is None for r in records)
            or getattr(sheet, "constant_memory", True)
            or not hasattr(sheet, "table") or not hasattr(sheet, "str_table")
            or not hasattr(sheet, "_check_dimensions") or not hasattr(sheet, "xls_strmax")):
        return None
    return records[0], records[1], records[2], records[3]


def _plain_cells(sheet: Worksheet, columns: Sequence[Prepared]) -> bool:
    """Whether every value is one `write_cells` may store as it is: every number a finite
    float, every text a str too short to be cut."""
    longest = sheet.xls_strmax // 2
    for spec in columns:
        kept = list(compress(spec.shown, map(not_, spec.blank)))
        if not kept or spec.write == "boolean":
            continue
        if spec.write == "number":
            if set(map(type, kept)) != {float} or not np.isfinite(kept).all():
                return False
        elif set(map(type, kept)) != {str} or max(map(len, kept)) > longest:
            return False
    return True


def _write_each(sheet: Worksheet, first: int, col: int, n: int,
                columns: Sequence[Prepared]) -> None:
    """`write_cells` through the worksheet's public methods, a cell at a time."""
    methods = {"number": sheet.write_number, "string": sheet.write_string,
               "boolean": sheet.write_boolean}
    prepared = [(methods[spec.write], spec.shown, spec.blank, spec.fmt) for spec in columns]
    for r in range(n):
        at = first + r
        for c, (write, shown, blank, fmt) in enumerate(prepared):
            if blank[r]:
                sheet.write_blank(at, col + c, None, fmt)
            else:
                write(at, col + c, shown[r], fmt)


class RowsSheet(Worksheet):
    """An xlsxwriter worksheet whose rows of cells are written to its XML in one pass
    (`rows_xml`), where it holds nothing that pass does not write; otherwise, as
    xlsxwriter writes them."""

    def _write_rows(self) -> None:
        text = rows_xml(self)
        if text is None:
            super()._write_rows()
        else:
            self.fh.write(text)


def rows_xml(sheet: Worksheet) -> str | None:
    """The <row> elements of the sheet's data, as xlsxwriter 3's `_write_rows` writes them,
    made in one pass and joined: a row per row with cells, `<row r="R" spans="a:b">`
    (the span the least and greatest column used in its block of 16 rows, 1-based), then
    each cell left to right, `<c r="A1" s="X">` with its format's index X and, for a
    number, `<v>` its value to 16 significant figures; for a shared string `t="s"` and
    its index; for a boolean `t="b"` and 1 or 0; a blank closed empty. None where the
    sheet holds anything else (row settings, comments, other cells or cells without a
    format, a default row height of its own, Excel 2010 extensions, constant memory,
    a version not in TESTED_XLSXWRITER): xlsxwriter then writes its rows itself."""
    store = cell_store(sheet)
    if (store is None or sheet.row_info or sheet.comments or sheet.excel_version != 2007
            or sheet.default_row_height != sheet.original_row_height
            or sheet.dim_rowmin is None):
        return None
    number, string, boolean, blank = store
    low, high = sheet.dim_rowmin, sheet.dim_rowmax
    rows = sorted((r, cells) for r, cells in sheet.table.items() if cells and low <= r <= high)
    spans: dict[int, tuple[int, int]] = {}
    for r, cells in rows:
        least, most = min(cells), max(cells)
        block = r // 16
        if block in spans:
            least, most = min(least, spans[block][0]), max(most, spans[block][1])
        spans[block] = (least, most)
    span_text = {block: f' spans="{a + 1}:{b + 1}"' for block, (a, b) in spans.items()}
    names = {c: xl_col_to_name(c) for c in range(sheet.dim_colmin, sheet.dim_colmax + 1)}
    known = (number, string, boolean, blank)
    middles: dict[tuple[Any, int], str] = {}  # (record, format) -> what follows the cell's A1
    out = []
    for r, cells in rows:
        row = r + 1
        out.append(f'<row r="{row}"{span_text[r // 16]}>')
        for c in sorted(cells):
            cell = cells[c]
            kind, fmt = cell.__class__, cell[-1]
            middle = middles.get((kind, id(fmt)))
            if middle is None:  # the format's index asked where xlsxwriter first asks it
                if kind not in known or not fmt:
                    return None
                xf = fmt._get_xf_index()
                middle = middles[kind, id(fmt)] = (
                    f'" s="{xf}"/>' if kind is blank else f'" s="{xf}" t="s"><v>'
                    if kind is string else f'" s="{xf}" t="b"><v>' if kind is boolean
                    else f'" s="{xf}"><v>')
            if kind is number:
                out.append(f'<c r="{names[c]}{row}{middle}{cell[0]:.16G}</v></c>')
            elif kind is blank:
                out.append(f'<c r="{names[c]}{row}{middle}')
            else:
                out.append(f'<c r="{names[c]}{row}{middle}{cell[0]}</v></c>')
        out.append("</row>")
    sheet.row_spans = {block: text[8:-1] for block, text in span_text.items()}
    return "".join(out)
