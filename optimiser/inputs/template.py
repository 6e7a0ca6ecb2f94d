"""`optimise template [FOLDER]`: a starter workbook, and a YAML instance that names it.

The workbook has a `README` sheet explaining every column, then one sheet per
table (agencies, streams, interventions, outcomes) filled with a small
illustrative place, each header carrying its explanation as a comment. The
files round-trip: as written they load and solve.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from pydantic_core import PydanticUndefined

from optimiser.errors import OutputError
from optimiser.inputs.tables import EMPTY_LIST, SECTIONS, table_rows
from optimiser.inputs.validate import PER_YEAR_FIELDS

STEM = "place"
START_YEAR = 2010
YEARS = 5
NHS_COSTS = "NHS reference costs 2016/17 (HFMA, 5 Dec 2017): non-elective episode £1,590"
ILLUSTRATIVE = "Illustrative: replace with your own figure and its source"

EXAMPLE: dict[str, dict[str, dict[str, Any]]] = {
    "agencies": {
        "county_council": {"name": "County council", "kind": "council",
                           "max_net_cost": 5_000_000},
        "acute_trust": {"name": "Acute hospital trust", "kind": "acute_trust"},
        "community_health": {"name": "Community health services", "kind": "community_trust"},
    },
    "streams": {
        "adult_social_care": {
            "name": "Adult social care, older people", "agency": "county_council",
            "budget": [700_000, 700_000, 680_000, 660_000, 660_000],
            "ring_fence": ["reablement"], "pool_share": 0.5, "source": ILLUSTRATIVE},
        "acute_older_people": {
            "name": "Acute trust, frailty services", "agency": "acute_trust",
            "budget": [600_000] * YEARS, "pool_share": 0.5, "source": ILLUSTRATIVE},
        "community_services": {
            "name": "Community services", "agency": "community_health",
            "budget": [250_000] * YEARS, "pool_share": 1.0, "source": ILLUSTRATIVE},
    },
    "interventions": {
        "reablement": {
            "name": "Reablement after a hospital stay", "agency": "county_council",
            "unit": "person", "unit_cost": 1_500, "max_units": 1_000,
            "effects": {"admissions_avoided": 0.6},
            "savings": {"acute_trust": 954, "county_council": 900},
            "deadweight": 0.1, "optimism_bias": 0.1,
            "source": "Saving to the acute trust: 0.6 admissions avoided at " + NHS_COSTS
                      + "; the rest " + ILLUSTRATIVE.lower()},
        "frailty_unit": {
            "name": "Frailty assessment at the front door", "agency": "acute_trust",
            "unit": "person", "unit_cost": 400, "max_units": 800,
            "effects": {"admissions_avoided": 0.2}, "savings": {"acute_trust": 318},
            "source": "Saving: 0.2 admissions avoided at " + NHS_COSTS},
        "falls_service": {
            "name": "Falls prevention service", "agency": "community_health", "unit": "person",
            "unit_cost": 300, "max_units": 2_000,
            "effects": {"falls_avoided": 0.3, "admissions_avoided": 0.1},
            "savings": {"acute_trust": 159}, "lag": 1, "deadweight": 0.2,
            "source": ILLUSTRATIVE},
    },
    "outcomes": {
        "admissions_avoided": {"name": "Unplanned admissions avoided", "unit": "admission",
                               "value": 700, "target": 350},
        "falls_avoided": {"name": "Falls avoided", "unit": "fall", "value": 1_050},
    },
}
"""A small illustrative place: older people's care, a council, an acute trust, community
health services. Ring-fenced, each budget buys only its own agency's service and the acute
trust's money left over after its frailty unit buys nothing; pooled, that money (and any
better use of the others') pays for more falls prevention and reablement. Every figure is
positive and every scenario meets its target (tests/test_tables.py checks the story)."""

YAML = f"""\
# A starter instance: an illustrative place whose tables live in {STEM}.xlsx (its
# README sheet explains every column). Run it as it is:  optimise {STEM}.yaml
# then put your own place's figures (and their sources) in the workbook.
name: Example place - older people (illustrative figures)
currency: GBP
start_year: {START_YEAR}
years: {YEARS}
discount_rate: 0.035     # Green Book
objective: net_benefit   # net_benefit | outcomes | cost

agencies: {{table: {STEM}.xlsx, sheet: agencies}}
streams: {{table: {STEM}.xlsx, sheet: streams}}
interventions: {{table: {STEM}.xlsx, sheet: interventions}}
outcomes: {{table: {STEM}.xlsx, sheet: outcomes}}

scenarios:
  ring_fenced: {{pooling: false}}
  pooled: {{pooling: true}}
  pooled_fair: {{pooling: true, incentives: no_worse_off, transfers: true}}
"""

MONEY_COLUMNS = ("budget", "unit_cost", "saving.", "max_net_cost", "value")
SHARE_COLUMNS = ("pool_share", "deadweight", "optimism_bias")
INTRO = [
    "optimise: the instance's tables",
    f"{STEM}.yaml names this workbook: one sheet per table (agencies, streams, interventions, "
    "outcomes); the YAML keeps the plan's settings and scenarios.",
    "One row per item; the 'id' column holds its id (lower-case letters, digits and "
    "underscores). A blank cell leaves the field to its default. Blank rows are skipped.",
    "A figure per year is one column (the same every year) or one column per year named "
    f"<field>_<year>, e.g. budget_{START_YEAR} to budget_{START_YEAR + YEARS - 1}, covering "
    "the whole plan; a row fills one or the other.",
    "Values are read as the workbook last saved them: formulas are fine once saved. Money is "
    "at constant prices, in the YAML's currency.",
]


def column_help(section: str) -> list[tuple[str, str, str]]:
    """(column, required or default, what it means) for every column a section's table takes."""
    model = SECTIONS[section]
    per_year = PER_YEAR_FIELDS.get(section, ())
    rows = [("id", "required", "The item's id: lower-case letters, digits and underscores; "
             "other tables and the YAML refer to it.")]
    for name, info in model.model_fields.items():
        default = info.default
        need = "required" if info.is_required() else (
            "optional" if default is None or default is PydanticUndefined
            else f"default {'yes' if default else 'no'}" if isinstance(default, bool)
            else f"default {default:g}" if isinstance(default, float)
            else f"default '{default}'" if isinstance(default, str) else f"default {default}")
        if name in per_year and info.is_required():
            need = f"required: {name} or {name}_<year>"
        text = info.description or ""
        if name == "effects":
            rows.append(("effect.<outcome id>", "optional", text + " One column per outcome."))
        elif name == "savings":
            rows.append(("saving.<agency id>", "optional", text + " One column per agency."))
        elif name == "ring_fence":
            rows.append((name, need, text + " Intervention ids separated by ';'; "
                         f"'{EMPTY_LIST}' for none."))
        elif name in per_year:
            rows.append((name, need, text + " One figure for every year."))
            rows.append((f"{name}_<year>", need, f"{text} One column per year of the plan, "
                         f"instead of '{name}'."))
        else:
            if name in SHARE_COLUMNS:
                text += " A share from 0 to 1 (or a per cent)."
            rows.append((name, need, text))
    return rows


def write_template(folder: Path, force: bool = False) -> list[Path]:
    """Write FOLDER/place.yaml and FOLDER/place.xlsx; `OutputError` if they exist (unless force)."""
    yaml_path, book_path = folder / f"{STEM}.yaml", folder / f"{STEM}.xlsx"
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"template: {folder} is a file, not a folder")
    links = [p for p in (yaml_path, book_path) if p.is_symlink()]
    if links:
        raise OutputError(f"template: {links[0]} is a link (to {os.readlink(links[0])}); the "
                          "template writes only files of its own, never through a link: "
                          "remove it or choose another folder")
    existing = [p for p in (yaml_path, book_path) if os.path.lexists(p)]
    if existing and not force:
        verb = "exists" if len(existing) == 1 else "exist"
        raise OutputError(f"template: {' and '.join(map(str, existing))} already {verb}; "
                          "choose another folder or pass --force")
    if any(not p.is_file() for p in existing):
        raise OutputError(f"template: {existing[0]} is not a file; choose another folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        workbook().save(buffer)
        _replace(book_path, buffer.getvalue())
        _replace(yaml_path, YAML.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"template: cannot write in {folder}: {exc.strerror or exc}") from None
    return [yaml_path, book_path]


def _replace(path: Path, data: bytes) -> None:
    """Write `path` as a new file beside it, then rename it into place: a link planted at
    `path` meanwhile is replaced, never written through."""
    fd, staged = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(staged, 0o666 & ~_umask())
        os.replace(staged, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staged)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def workbook() -> openpyxl.Workbook:
    """The starter workbook: README, then one sheet per table."""
    book = openpyxl.Workbook()
    readme = book.active
    readme.title = "README"
    for n, line in enumerate(INTRO, start=1):
        readme.cell(n, 1, line).font = Font(bold=n == 1, size=14 if n == 1 else 11)
    header_row = len(INTRO) + 2
    for m, title in enumerate(("sheet", "column", "required", "what it means"), start=1):
        readme.cell(header_row, m, title).font = Font(bold=True)
    row = header_row + 1
    for section in SECTIONS:
        for column, need, text in column_help(section):
            for m, value in enumerate((section, column, need, text), start=1):
                readme.cell(row, m, value).alignment = Alignment(wrap_text=m == 4,
                                                                 vertical="top")
            row += 1
    for letter, width in zip("ABCD", (14, 24, 10, 90), strict=True):
        readme.column_dimensions[letter].width = width
    readme.freeze_panes = readme.cell(header_row + 1, 1)
    for section, items in EXAMPLE.items():
        _table_sheet(book.create_sheet(section), section, items)
    return book


def _table_sheet(sheet: Any, section: str, items: dict[str, dict[str, Any]]) -> None:
    """One table: header (bold, frozen, commented), rows, money and share formats, widths."""
    rows = table_rows(section, items, START_YEAR)
    help_of = {c: t for c, _, t in column_help(section)}
    for values in rows:
        sheet.append(values)
    for m, name in enumerate(rows[0], start=1):
        cell = sheet.cell(1, m)
        cell.font = Font(bold=True)
        cell.comment = Comment(_help_for(name, help_of), "optimise", width=300, height=120)
        fmt = ("£#,##0" if name.startswith(MONEY_COLUMNS)
               else "0%" if name in SHARE_COLUMNS else None)
        width = max(len(str(r[m - 1])) for r in rows if r[m - 1] is not None) + 2
        sheet.column_dimensions[get_column_letter(m)].width = min(max(width, 10), 50)
        if fmt:
            for (value,) in sheet.iter_rows(min_row=2, min_col=m, max_col=m):
                value.number_format = fmt
    sheet.freeze_panes = "B2"


def _help_for(column: str, help_of: dict[str, str]) -> str:
    """The README's explanation of one header (per-year and map columns by their pattern)."""
    if column in help_of:
        return help_of[column]
    prefix, dot, _ = column.partition(".")
    if dot:
        return help_of[f"{prefix}.<{'outcome' if prefix == 'effect' else 'agency'} id>"]
    return help_of[f"{column.rsplit('_', 1)[0]}_<year>"]
