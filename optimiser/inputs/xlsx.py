"""A workbook's sheets of saved values, read straight from its XML, as openpyxl reads them.

openpyxl costs a tenth of a second to import (it brings its writer, charts and
images with it) for the few plain tables a place keeps in a workbook. This
reader gives the rows openpyxl's read-only, values-only reading gives
(`load_workbook(read_only=True, data_only=True)`, then `iter_rows(values_only=True)`),
value for value, for the workbooks it understands: numbers, text (shared or inline,
rich text's runs joined), true/false and error values, in worksheets with a
dimension, every row and cell numbered. Anything else it meets raises `Unusual`
and the workbook is read with openpyxl instead: a formula, a number shown as a date
or time (openpyxl turns those into dates), a date cell, a chart sheet, a part it
cannot find, a DOCTYPE anywhere, an empty sheet. So what a place reads never depends
on which of the two read it (tests/test_tables.py compares them).

The workbook's parts have been checked already (`optimiser.inputs.tables`: size,
cell counts, no DOCTYPE or entities at their start).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, fromstring, iterparse

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
WORKBOOK_TYPES = (  # in the order openpyxl looks for them
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
DATE_FORMATS = frozenset({*range(14, 23), 45, 46, 47})
"""The built-in number formats openpyxl reads as dates or times (ids 14-22 and 45-47)."""
NOT_DATE_PARTS = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
"""Quoted text and bracketed codes ([Red], [$£-809]) but [h], [mm], [ss]: no date letters."""
DATE_LETTER = re.compile(r"(?<![_\\])[dmhysDMHYS]")
DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
CELL = re.compile(r"([A-Z]{1,3})([0-9]+)")
DIMENSION = re.compile(r"([A-Z]{1,3})([0-9]+)(?::([A-Z]{1,3})([0-9]+))?")


class Unusual(Exception):
    """The workbook has something this reader leaves to openpyxl."""


def column_number(letters: str) -> int:
    """A column's 1-based number from its letters: A -> 1, AA -> 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class Sheet:
    """One worksheet, read row by row as openpyxl's read-only `iter_rows` gives it."""

    def __init__(self, book: PlainWorkbook, path: str, size: tuple[int, int]) -> None:
        self.book = book
        self.path = path
        self.columns, self.rows = size

    def iter_rows(self, values_only: bool = True) -> Iterator[tuple[Any, ...]]:
        """The rows 1 to the dimension's last, each as wide as the dimension: rows the
        sheet leaves out are blank; rows past the dimension, and cells right of it, are
        dropped (openpyxl's `_cells_by_row`)."""
        assert values_only
        empty = (None,) * self.columns
        counter = 1
        number = 0
        for number, cells in self._parsed():
            if number > self.rows:
                break
            for _ in range(counter, number):
                counter += 1
                yield empty
            if counter <= number:
                row: list[Any] = [None] * self.columns
                for column, value in cells:
                    if 1 <= column <= self.columns:
                        row[column - 1] = value
                counter += 1
                yield tuple(row)
        if number == 0:
            raise Unusual("a sheet with no rows")
        if self.rows < number:
            for _ in range(counter, self.rows + 1):
                yield empty

    def _parsed(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        """(row number, [(column, value)]) for every row element, in the file's order."""
        with self.book.archive.open(self.path) as source:
            for _event, element in iterparse(source):
                if element.tag == MAIN + "row":
                    yield self._row(element)
                    element.clear()

    def _row(self, element: Element) -> tuple[int, list[tuple[int, Any]]]:
        number = element.get("r")
        if number is None or not number.isdigit() or int(number) < 1:
            raise Unusual("a row without its number")
        cells = []
        for cell in element:
            where = CELL.fullmatch(cell.get("r") or "")
            if cell.tag != MAIN + "c" or where is None:
                raise Unusual("a row holding something else than numbered cells")
            cells.append((column_number(where.group(1)), self.book.value(cell)))
        return int(number), cells


class PlainWorkbook:
    """A workbook's worksheets by name (`sheetnames`, `book[name]`), read without openpyxl;
    `Unusual` as soon as it has anything this reader leaves to openpyxl."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = set(archive.namelist())
        types = self._xml("[Content_Types].xml")
        overrides = {o.get("ContentType"): (o.get("PartName") or "")[1:]
                     for o in reversed(types.findall(CONTENT_TYPES + "Override"))}
        part = next((overrides[t] for t in WORKBOOK_TYPES if t in overrides), None)
        if part is None:
            raise Unusual("no workbook part named in the content types")
        self.strings = self._strings(overrides.get(SHARED_STRINGS))
        self.styles: list[Element] = []
        self.dates = self._date_styles()
        self.sheets: dict[str, Sheet] = {}
        self.sheetnames: list[str] = []
        targets = self._targets(part)
        workbook = self._xml(part)
        if workbook.tag != MAIN + "workbook":
            raise Unusual("a workbook in another namespace (strict OOXML, say)")
        for sheet in workbook.iter(MAIN + "sheet"):
            name, key = sheet.get("name"), sheet.get(RELATIONSHIP)
            if name is None or key is None or key not in targets:
                raise Unusual("a sheet without its relationship")
            kind, path = targets[key]
            if path not in self.names:
                continue  # as openpyxl: a sheet whose part is missing is not there
            if kind != WORKSHEET:
                raise Unusual("a chart sheet or another kind of sheet")
            self.sheetnames.append(name)
            self.sheets.setdefault(name, Sheet(self, path, self._dimension(path)))
        if not self.sheetnames:
            raise Unusual("no worksheet")

    def __getitem__(self, name: str) -> Sheet:
        return self.sheets[name]

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()

    def _read(self, part: str) -> bytes:
        if part not in self.names:
            raise Unusual(f"no part {part}")
        raw = self.archive.read(part)
        if DECLARATION.search(raw):
            raise Unusual("a DOCTYPE or entity")
        return raw

    def _xml(self, part: str) -> Element:
        return fromstring(self._read(part))

    def _targets(self, part: str) -> dict[str, tuple[str, str]]:
        """The workbook's relationships: id -> (type, part), paths as openpyxl resolves them."""
        folder, file = posixpath.split(part)
        rels = self._xml(posixpath.join(folder, "_rels", file + ".rels"))
        out = {}
        for rel in rels.iter(PACKAGE_RELS + "Relationship"):
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External":
                continue
            target = target[1:] if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out[rel.get("Id") or ""] = (rel.get("Type") or "", target)
        return out

    def _strings(self, part: str | None) -> list[str]:
        """The shared strings, each its text and its rich text runs' text joined, with
        'x005F_' taken out (as openpyxl's `read_string_table`)."""
        if part is None:
            return []
        return [_text(item).replace("x005F_", "") for item in self._xml(part).iter(MAIN + "si")]

    def _date_styles(self) -> set[int]:
        """The cell styles whose number format might show a date or time (the formats of
        the stylesheet's own `numFmts`, then the built-in ones)."""
        styles = self._xml("xl/styles.xml")
        formats = styles.find(MAIN + "numFmts")
        custom = {int(f.get("numFmtId") or -1): f.get("formatCode") or ""
                  for f in ([] if formats is None else formats.findall(MAIN + "numFmt"))}
        xfs = styles.find(MAIN + "cellXfs")
        self.styles = [] if xfs is None else xfs.findall(MAIN + "xf")
        out = set()
        for n, xf in enumerate(self.styles):
            number = int(xf.get("numFmtId") or 0)
            if is_date_format(custom[number]) if number in custom else number in DATE_FORMATS:
                out.add(n)
        return out

    def _dimension(self, path: str) -> tuple[int, int]:
        """(last column, last row) of the sheet's dimension, before its data."""
        self._read(path)  # no DOCTYPE anywhere in it
        with self.archive.open(path) as source:
            for _event, element in iterparse(source):
                if element.tag == MAIN + "dimension":
                    found = DIMENSION.fullmatch(element.get("ref") or "")
                    if found is None:
                        break
                    last, row = found.group(3) or found.group(1), found.group(4) or found.group(2)
                    return column_number(last), int(row)
                if element.tag == MAIN + "sheetData":
                    break
        raise Unusual("a sheet without a plain dimension")

    def value(self, cell: Element) -> Any:
        """A cell's saved value as openpyxl gives it (`WorkSheetParser.parse_cell`)."""
        kind = cell.get("t", "n")
        style = cell.get("s")
        if kind == "inlineStr":
            inline = cell.find(MAIN + "is")
            return None if inline is None else _text(inline)
        text = cell.findtext(MAIN + "v") or None
        if text is None:
            return None
        try:
            if kind == "n":
                if style is not None and (not style.isdigit() or int(style) in self.dates
                                          or int(style) >= len(self.styles)):
                    raise Unusual("a number that may be shown as a date")
                return float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            if kind == "s":
                return self.strings[int(text)]
            if kind == "b":
                return bool(int(text))
            if kind in ("str", "e"):
                return text
        except (ValueError, IndexError):
            raise Unusual("a value openpyxl would refuse") from None
        raise Unusual(f"a cell of type {kind!r}")


def is_date_format(code: str) -> bool:
    """Whether a number format shows a date or time, as openpyxl decides it
    (`openpyxl.styles.numbers.is_date_format`): its first section, without quoted text
    and bracketed codes other than [h], [m], [s], has a letter d, m, h, y or s that is
    not escaped (after _ or \\)."""
    return DATE_LETTER.search(NOT_DATE_PARTS.sub("", code.split(";")[0])) is not None


def _text(element: Element) -> str:
    """A string item's text: its `t` and its rich text runs' `t`, joined (openpyxl's
    `Text.content`); phonetic runs and their properties left out."""
    plain = element.findall(MAIN + "t")
    if len(plain) > 1:
        raise Unusual("a string with two texts")
    snippets = [plain[0].text] if plain and plain[0].text is not None else []
    for run in element.findall(MAIN + "r"):
        text = run.findall(MAIN + "t")
        if len(text) > 1:
            raise Unusual("a run with two texts")
        if text and text[0].text is not None:
            snippets.append(text[0].text)
    return "".join(snippets)
