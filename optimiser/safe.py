"""Text from the input, made inert for each kind of output: the one place it is done.

Names, descriptions, messages and file names come from whoever wrote the instance
(or named its file), and reach a spreadsheet, a CSV file, Markdown, a web page,
the terminal and charts. Each kind of output has one function here, and every
writer of that kind calls it, so no output carries live markup or a formula that
came from the input:

- `printable`: control characters (terminal escapes, bidirectional overrides,
  zero-width characters) removed; under every other function here;
- `cell_text`: a spreadsheet cell or CSV field never starts with `=`, `+`, `-`,
  `@`, a tab or a carriage return (a leading apostrophe keeps it text); numbers
  are written as numbers and never pass through here; `write_csv` applies it to
  every text field of a table;
- `md_text`: every character that makes Markdown markup is escaped (and what
  would start a list, quote or heading at its start), and line breaks become
  spaces; `Markdown` marks text already made safe (a link built here);
- `html_text`: HTML escaped, quotes included; `url_segment` percent-encodes a
  name used in a link, so it can be neither a scheme (`javascript:`) nor a path
  out of its folder;
- `PlainConsole`: a rich console that prints every string as text (no markup,
  no emoji codes, no highlighting) with control characters removed;
- `svg_text`: text for a chart's SVG markup, escaped like `html_text` and without
  what XML cannot hold; `chart_text` removes control characters from a label
  before it is wrapped into lines.

At the bottom of the package: it imports nothing of `optimiser`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from rich.console import Console

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029"
                      "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")
"""Control characters (C0 but tab and line feed, DEL, C1), zero-width and bidirectional
formatting characters, line and paragraph separators."""
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\u2028\u2029]+")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What makes a spreadsheet read a cell as a formula (and the full-width forms some
spreadsheets treat the same)."""
_MARKDOWN = re.compile(r"[\\`*\[\]<|~$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?\w+;)")
"""What makes Markdown markup inside a line: emphasis (`*`, `_` at a word's edge), code,
links and images (`[`, `]`), HTML and autolinks (`<`), entities (`&` before `name;`),
table cells (`|`), strikethrough (`~`), maths (`$`) and the backslash itself; CommonMark
reads any of them after a backslash as itself. The rest is inert there (`(` only
matters after `]`, `!` before `[`, `>` after `<`)."""
_MARKDOWN_START = re.compile(r"^(\s*|\s*\d+(?=[.)]))([#>=+\-.)])")
"""What makes markup at the start of a line (headings, quotes, lists, setext underlines):
escaped where text from the input begins (inside it, line breaks become spaces)."""


def printable(text: object, lines: bool = False) -> str:
    """`text` without control characters; tabs and line breaks become spaces unless
    `lines` (then line feeds stay)."""
    value = str(text)
    if value.isascii() and value.isprintable():  # space to '~' only: nothing to take out
        return value
    if lines:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        return _CONTROL.sub("", value)
    return _CONTROL.sub("", _BREAKS.sub(" ", value))


def cell_text(text: object) -> str:
    """Text for a spreadsheet cell or CSV field: printable, and never read as a formula
    (a leading apostrophe where it would start with =, +, -, @; a lone '-' stays)."""
    value = printable(text, lines=True)
    if value.lstrip().startswith(FORMULA_START) and value.strip() not in ("-", "+"):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path, float_format: str | None = "%.10g") -> None:
    """A table as CSV: numbers as numbers (10 significant figures, or every digit with
    `float_format` None), every text field and header through `cell_text`.

    Tables of text, integers and floats written with a format (every table of the
    reports) are joined here a block of rows at a time (`_csv_fields`); the bytes are
    those pandas writes for the same fields (`_pandas_csv`, which writes the rest)."""
    fields = _csv_fields(frame, float_format)
    if fields is None:
        _pandas_csv(frame, path, float_format)
        return
    header, columns = fields
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\n")
        for start in range(0, len(frame), CSV_BLOCK):
            block = [column[start:start + CSV_BLOCK].tolist() for column in columns]
            out.write("\n".join(map(",".join, zip(*block, strict=True))) + "\n")


CSV_BLOCK = 100_000
"""Rows joined into one piece of text at a time (the memory a large table takes)."""
_QUOTED = re.compile('[,"\r\n]')
"""What makes the csv module quote a field (the delimiter, the quote, a line break)."""


def _csv_fields(frame: pd.DataFrame, float_format: str | None
                ) -> tuple[list[str], list[np.ndarray]] | None:
    """The header and each column's fields as `_pandas_csv` writes them: text through
    `cell_text` (each distinct value once; blank where missing), integers in decimal,
    floats through `float_format` (each distinct value once; blank for NaN). None where
    a field would be quoted, the table has fewer than two columns (a lone blank field is
    quoted), or a column holds anything else: `_pandas_csv` writes those."""
    names = list(frame.columns)
    if len(names) < 2 or not all(isinstance(c, str) for c in names) or float_format is None:
        return None
    header = [cell_text(c) for c in names]
    if any(_QUOTED.search(h) for h in header):
        return None
    columns = []
    for n in range(len(names)):
        values = frame.iloc[:, n]
        kind = values.dtype.kind
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            try:  # as objects: twice as fast as through the string dtype, the same codes
                codes, distinct = pd.factorize(values.to_numpy(dtype=object), sort=False)
            except TypeError:  # a value that cannot be a key (a list)
                return None
            texts = distinct.tolist()
            if not all(isinstance(v, str) for v in texts):
                return None
            texts = [cell_text(v) for v in texts]
            if any(_QUOTED.search(t) for t in texts):
                return None
            column = np.array([*texts, ""], dtype=object)[codes]  # code -1 (missing): blank
        elif kind in "iu" and isinstance(values.dtype, np.dtype):
            codes, distinct = pd.factorize(values.to_numpy(), sort=False)
            column = np.array(list(map(str, distinct.tolist())), dtype=object)[codes]
        elif kind == "f" and isinstance(values.dtype, np.dtype):
            column = formatted_once(values.to_numpy(dtype=np.float64),
                                    lambda v: "" if v != v else float_format % v)  # NaN: blank
        else:
            return None
        columns.append(column)
    return header, columns


def formatted_once(numbers: np.ndarray, form: Callable[[float], str]) -> np.ndarray:
    """(same shape, object) each float's text `form(v)`, made once for each distinct bit
    pattern (-0.0 apart from 0.0, as a format writes them): a large table holds far fewer
    distinct figures than figures."""
    flat = np.ascontiguousarray(numbers, dtype=np.float64).reshape(-1)
    codes, bits = pd.factorize(flat.view(np.int64), sort=False)
    texts = np.array(list(map(form, bits.view(np.float64).tolist())), dtype=object)
    return texts[codes].reshape(np.shape(numbers))


def _pandas_csv(frame: pd.DataFrame, path: Path, float_format: str | None) -> None:
    """`write_csv` through pandas' writer: text fields made safe, floats formatted."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            values = safe[column].tolist()
            texts = {v: cell_text(v) for v in {v for v in values if isinstance(v, str)}}
            safe[column] = [texts[v] if isinstance(v, str) else v for v in values]
        elif float_format is not None and safe[column].dtype.kind == "f":
            # written as pandas writes them (float_format % value, blank for NaN), a
            # column at a time rather than through its formatter a value at a time
            safe[column] = pd.Series([float_format % v if v == v else "" for v in
                                      safe[column].tolist()], index=safe.index, dtype=object)
    safe.columns = [cell_text(c) if isinstance(c, str) else c for c in safe.columns]
    safe.to_csv(path, index=False, float_format=float_format, lineterminator="\n")


class Markdown(str):
    """Markdown already made safe here (a link whose text and target were escaped)."""


def md_text(text: object, line_start: bool = True) -> str:
    """Text for Markdown: one line (trimmed), every markup character escaped, and where it may
    start a line (`line_start`: a paragraph, a list item; not a table cell) what would
    start a list, quote or heading. `Markdown` passes as it is."""
    if isinstance(text, Markdown):
        return text
    escaped = _MARKDOWN.sub(lambda m: "\\" + m.group(0), printable(text).strip())
    if not line_start:
        return escaped
    return _MARKDOWN_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def md_link(text: object, *segments: str) -> Markdown:
    """A Markdown link to a relative path made of `segments` (each percent-encoded)."""
    return Markdown(f"[{md_text(text)}]({'/'.join(url_segment(s) for s in segments)})")


def html_text(text: object) -> str:
    """Text for HTML (content or a quoted attribute): printable, escaped, quotes included."""
    return html.escape(printable(text, lines=True), quote=True)


def url_segment(name: str) -> str:
    """One path segment of a relative link, percent-encoded (no scheme, no '..', no '/')."""
    value = quote(printable(name), safe="")
    return "%2E" + value[1:] if value.startswith(".") else value


_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
"""What XML cannot hold even escaped (besides the control characters `printable` removes):
lone surrogates and the two non-characters U+FFFE, U+FFFF."""


def chart_text(text: object) -> str:
    """Text for a chart label: printable, on its lines (each line becomes its own line of
    SVG text)."""
    return printable(text, lines=True)


def svg_text(text: object) -> str:
    """Text for SVG markup (an element's content or a quoted attribute), inline in a page or
    a file of its own: printable on one line, HTML-escaped with quotes, and without what
    XML cannot hold, so it is always well-formed and never markup."""
    return html.escape(_NOT_XML.sub("", printable(text)), quote=True)


class PlainConsole(Console):
    """A rich console for text from the input: every string is printed as written (no
    markup, no emoji codes, no highlighting), control characters removed. Styles come
    only from `rich.text.Text` objects built by the caller."""

    def render_str(self, text: str, **options: Any) -> Any:
        """The string as plain text."""
        options.update(markup=False, emoji=False, highlight=False)
        return super().render_str(printable(text, lines=True), **options)
