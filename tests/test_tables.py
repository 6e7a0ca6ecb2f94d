"""Spreadsheet input: CSV and XLSX tables load like inline YAML; bad cells are located."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
import yaml
from openpyxl.styles.numbers import builtin_format_code, is_date_format
from test_prices import random_instance
from typer.testing import CliRunner, Result

from optimiser.analyses import run_analyses
from optimiser.cli import app, template_app
from optimiser.errors import InstanceError
from optimiser.inputs.tables import SECTIONS, parse_number, table_rows
from optimiser.inputs.xlsx import DATE_FORMATS, PlainWorkbook, Unusual
from optimiser.inputs.xlsx import is_date_format as plain_date_format
from optimiser.pipeline import prepare, run
from optimiser.reports.write import results_document

SECTION_NAMES = list(SECTIONS)


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, check=False)


def as_tables(instance: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """The instance as (CSV-backed YAML, XLSX-backed YAML) in `folder`."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    by_csv, by_xlsx = dict(instance), dict(instance)
    for section in [s for s in SECTION_NAMES if s in instance]:
        rows = table_rows(section, instance[section], instance.get("start_year", 1))
        with (folder / f"{section}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        sheet = book.create_sheet(section)
        for row in rows:
            sheet.append(row)
        by_csv[section] = f"{section}.csv"
        by_xlsx[section] = {"table": "place.xlsx", "sheet": section}
    book.save(folder / "place.xlsx")
    csv_path, xlsx_path = folder / "by_csv.yaml", folder / "by_xlsx.yaml"
    csv_path.write_text(yaml.safe_dump(by_csv, sort_keys=False))
    xlsx_path.write_text(yaml.safe_dump(by_xlsx, sort_keys=False))
    return csv_path, xlsx_path


def document(path: Path) -> dict[str, Any]:
    result = run(path)
    run_analyses(result)
    doc = results_document(result)
    doc.pop("instance")
    return doc


@pytest.mark.parametrize("seed", [3, 11])
def test_csv_and_xlsx_solve_as_the_inline_yaml(tmp_path: Path, seed: int) -> None:
    instance = random_instance(seed)
    instance["start_year"] = 2010
    instance["streams"]["s0"]["ring_fence"] = []  # written '-'
    inline = tmp_path / "inline.yaml"
    inline.write_text(yaml.safe_dump(instance, sort_keys=False))
    by_csv, by_xlsx = as_tables(instance, tmp_path)
    expected = prepare(inline).source.data
    for path in (by_csv, by_xlsx):
        assert {k: prepare(path).source.data[k] for k in SECTION_NAMES} == {
            k: expected[k] for k in SECTION_NAMES}
    want = document(inline)
    assert document(by_csv) == want
    assert document(by_xlsx) == want


# The hand-written CSV forms: year columns, thousands commas and currency signs, per
# cents, an empty ring-fence ('-'), a blank row, header case and spaces; the same place
# as INLINE.
STREAMS_CSV = """\
ID , Agency,budget_2010,budget_2011,Ring_Fence,pool_share,budget
asc,council,"£1,000",1200,,50%,
nhs_budget,nhs,,,-,,"2,000"

small_fund,council,,,clinic; beds,,0
"""
INLINE_STREAMS = {
    "asc": {"agency": "council", "budget": [1000, 1200], "pool_share": 0.5},
    "nhs_budget": {"agency": "nhs", "ring_fence": [], "budget": 2000},
    "small_fund": {"agency": "council", "ring_fence": ["clinic", "beds"], "budget": 0},
}
PLACE = """\
name: tables
start_year: 2010
years: 2
discount_rate: 0
agencies: {council: {name: Council}, nhs: {name: NHS}}
streams: STREAMS
interventions:
  prevention: {agency: council, unit_cost: 10, max_units: 150, savings: {nhs: 40}}
  clinic: {agency: nhs, unit_cost: 100, max_units: 5, savings: {nhs: 150}}
  beds: {agency: nhs, unit_cost: 100, max_units: 5, savings: {nhs: 50}}
"""


def test_hand_written_csv_forms(tmp_path: Path) -> None:
    (tmp_path / "streams.csv").write_text(STREAMS_CSV, encoding="utf-8")
    tabled = tmp_path / "tabled.yaml"
    tabled.write_text(PLACE.replace("STREAMS", "streams.csv"))
    inline = tmp_path / "inline.yaml"
    inline.write_text(PLACE.replace("STREAMS", json.dumps(INLINE_STREAMS)))
    assert prepare(tabled).source.data["streams"] == INLINE_STREAMS
    assert document(tabled) == document(inline)
    # Ring-fenced: the council's 1000 and 1200 buy 100 and 120 prevention (+30 each);
    # the NHS's fence is empty. Pooled: half the council's money may leave its fence but
    # nothing beats prevention; the NHS's 2000 a year buys the rest of prevention (50, 30
    # units), then 5 clinic (+50 each): 2 * 250 = 500.
    objectives = {s.name: s.objective for s in run(tabled).scenarios}
    assert objectives == pytest.approx({"ring_fenced": 30 * 220,
                                        "pooled": 30 * 300 + 500})


@pytest.mark.parametrize(("value", "number"), [
    ("1200", 1200), (" 1,200.50 ", 1200.5), ("£3,000,000", 3_000_000), ("-5", -5),
    ("50%", 0.5), ("1e3", 1000), (".5", 0.5), (2.0, 2), (0.25, 0.25)])
def test_numbers(value: Any, number: float) -> None:
    assert parse_number(value) == (number, None)
    assert type(parse_number(value)[0]) is type(number)


@pytest.mark.parametrize("value", ["abc", "1,20", "12,000,00", "", "£", "1.2.3", True, "nan",
                                   float("inf")])
def test_not_numbers(value: Any) -> None:
    number, error = parse_number(value)
    assert number is None and error


def xlsx_place(tmp_path: Path, edit: dict[str, dict[str, Any]] | None = None) -> Path:
    """PLACE with every table in one workbook, some cells changed (sheet -> cell -> value)."""
    data = yaml.safe_load(PLACE.replace("STREAMS", json.dumps(INLINE_STREAMS)))
    _, path = as_tables(data, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "place.xlsx")
    for sheet, cells in (edit or {}).items():
        for ref, value in cells.items():
            book[sheet][ref] = value
    book.save(tmp_path / "place.xlsx")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InstanceError) as err:
        prepare(path)
    return [str(p) for p in err.value.problems]


def test_text_in_a_number_column_names_file_sheet_row_column(tmp_path: Path) -> None:
    # interventions: id, agency, unit_cost, max_units, saving.nhs; prevention on row 2.
    path = xlsx_place(tmp_path, {"interventions": {"C2": "ten"}})
    done = cli(path, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"optimise: {tmp_path / 'place.xlsx'}, sheet interventions, row 2, column C "
        "(unit_cost), at interventions.prevention.unit_cost: 'ten' is not a number")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_ids_are_located_in_the_table(tmp_path: Path) -> None:
    path = xlsx_place(tmp_path, {"interventions": {"B3": "nsh", "F1": "saving.police",
                                                   "F2": 5},
                                 "streams": {"F4": "clinic; bedz"}})
    found = problems(path)
    book = tmp_path / "place.xlsx"
    assert f"{book}, sheet interventions, row 3, column B (agency), at " \
           "interventions.clinic.agency: unknown agency 'nsh'; did you mean 'nhs'?" in found
    assert f"{book}, sheet interventions, row 2, column F (saving.police), at " \
           "interventions.prevention.savings.police: unknown agency 'police'; known: " \
           "council, nhs" in found
    assert any(p.startswith(f"{book}, sheet streams, row 4, column F (ring_fence), at "
                            "streams.small_fund.ring_fence[1]: unknown intervention 'bedz'")
               for p in found)


def test_missing_id_column(tmp_path: Path) -> None:
    (tmp_path / "agencies.csv").write_text("name,max_net_cost\nCouncil,\nNHS,\n")
    path = tmp_path / "place.yaml"
    path.write_text(PLACE.replace("agencies: {council: {name: Council}, nhs: {name: NHS}}",
                                  "agencies: agencies.csv").replace(
        "STREAMS", json.dumps(INLINE_STREAMS)))
    done = cli(path, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert (f"{tmp_path / 'agencies.csv'}, row 1, at agencies: there is no 'id' column"
            in done.stderr)
    assert not (tmp_path / "out").exists()


# The workbook's columns: agencies A id, B name; streams A id, B agency, C budget,
# D budget_2010, E budget_2011, F ring_fence, G pool_share (rows: asc, nhs_budget,
# small_fund); interventions A id, B agency, C unit_cost, D max_units, E saving.nhs
# (rows: prevention, clinic, beds).
@pytest.mark.parametrize(("edit", "expected"), [
    ({"agencies": {"A3": "council"}},
     "sheet agencies, row 3, column A (id), at agencies.council: duplicate id 'council' "
     "(first on row 2)"),
    ({"agencies": {"A3": None}}, "sheet agencies, row 3, column A (id), at agencies: "
     "this row has no id"),
    ({"agencies": {"C1": "max_net_costs", "C2": 1}},
     "sheet agencies, row 1, column C (max_net_costs), at agencies: unknown column "
     "'max_net_costs'; did you mean 'max_net_cost'?"),
    ({"agencies": {"D2": 1}}, "sheet agencies, row 1, column D, at agencies: this column has "
     "figures but no name in the first row"),
    ({"interventions": {"G1": "efect.x", "G2": 1}},
     "sheet interventions, row 1, column G (efect.x), at interventions: unknown column "
     "'efect.x'; did you mean 'effect.x'?"),
    ({"interventions": {"C2": None}}, "sheet interventions, row 2, column unit_cost, at "
     "interventions.prevention.unit_cost: is required but missing"),
    ({"interventions": {"D3": "2020-01-01"}}, "sheet interventions, row 3, column D "
     "(max_units), at interventions.clinic.max_units: '2020-01-01' is not a number"),
    ({"streams": {"D2": "=C2*2"}}, "sheet streams, row 2, column D: the formula =C2*2 has no "
     "saved value"),
    ({"streams": {"D2": None}}, "sheet streams, row 2, column D (budget_2010), at "
     "streams.asc.budget: give budget for every year of the plan, or leave every year blank"),
    ({"streams": {"C2": 5}}, "sheet streams, row 2, column C (budget), at streams.asc.budget: "
     "give budget in one column or per year, not both"),
    ({"streams": {"E1": "budget_2012"}}, "sheet streams, row 1, column E (budget_2012), at "
     "streams: the year 2012 is outside the plan (2010 to 2011)"),
    ({"streams": {"G2": "half"}}, "sheet streams, row 2, column G (pool_share), at "
     "streams.asc.pool_share: 'half' is not a number"),
    ({"streams": {"G2": 1.5}}, "sheet streams, row 2, column G (pool_share), at "
     "streams.asc.pool_share: must be a share between 0 and 1 (got 1.5)"),
])
def test_bad_cells(tmp_path: Path, edit: dict[str, dict[str, Any]], expected: str) -> None:
    found = problems(xlsx_place(tmp_path, edit))
    assert any(p.startswith(f"{tmp_path / 'place.xlsx'}, {expected}") for p in found), found


def prefixed(book: Path, part: str) -> None:
    """Rewrite one part of the workbook with its elements in an `x:` namespace prefix, as
    some spreadsheets save them (`<x:c>`, `<x:f>`), the rest of the file unchanged."""
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    text = parts[part].decode("utf-8")
    text = re.sub(r"<(/?)(?!\?)([A-Za-z]\w*)", r"<\1x:\2", text).replace(' xmlns="', ' xmlns:x="')
    parts[part] = text.encode("utf-8")
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_formulas_are_found_in_any_sheet_and_prefix(tmp_path: Path) -> None:
    # The workbook is opened once for the four tables; its formulas are read only where a
    # sheet holds one. A formula with no saved value is still named when it is the only
    # one, written with a namespace prefix (<x:f>) in a sheet read after others.
    path = xlsx_place(tmp_path, {"interventions": {"D3": "=C3*2"}})
    prefixed(tmp_path / "place.xlsx", "xl/worksheets/sheet3.xml")
    assert b"<x:f>" in zipfile.ZipFile(tmp_path / "place.xlsx").read("xl/worksheets/sheet3.xml")
    assert problems(path) == [
        f"{tmp_path / 'place.xlsx'}, sheet interventions, row 3, column D: the formula =C3*2 "
        "has no saved value: open the workbook in a spreadsheet and save it, or type the value"]


def both_readers(path: Path) -> dict[str, list[tuple[Any, ...]] | None]:
    """Every sheet's rows by the plain reader, checked against openpyxl's read-only,
    values-only rows, value for value and type for type; None for a sheet the plain reader
    leaves to openpyxl (`Unusual`)."""
    raw = path.read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    want = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    book.close()
    try:
        plain = PlainWorkbook(zipfile.ZipFile(io.BytesIO(raw)))
    except Unusual:
        return dict.fromkeys(want)
    assert plain.sheetnames == list(want)
    found: dict[str, list[tuple[Any, ...]] | None] = {}
    for name, rows in want.items():
        try:
            got = list(plain[name].iter_rows(values_only=True))
        except Unusual:
            found[name] = None
            continue
        assert [[(type(v), v) for v in row] for row in got] == \
            [[(type(v), v) for v in row] for row in rows], name
        found[name] = got
    return found


def shared_strings(book: Path) -> None:
    """Rewrite the workbook's text cells as Excel saves them, in a shared string table
    (openpyxl writes them inline): 'rich' as a rich text of two runs with a phonetic run
    (read as 'rich'), 'x005F_y' with openpyxl's escape taken out ('y')."""
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    table: list[str] = []

    def shared(found: re.Match[str]) -> str:
        table.append(found.group(3))
        return f'<c r="{found.group(1)}"{found.group(2) or ""} t="s"><v>{len(table) - 1}</v></c>'

    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        inline = r'<c r="(\w+)"( s="\d+")? t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>'
        parts[name] = re.sub(inline, shared, parts[name].decode("utf-8")).encode("utf-8")
    items = ["<si><r><t>ri</t></r><r><rPr><b/></rPr><t>ch</t></r><rPh sb=\"0\" eb=\"1\">"
             "<t>ignored</t></rPh></si>" if text == "rich" else f"<si><t>{text}</t></si>"
             for text in table]
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(items) + "</sst>").encode("utf-8")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_the_plain_reader_reads_as_openpyxl(tmp_path: Path) -> None:
    # The template and random places' workbooks: every sheet read by the plain reader,
    # exactly as openpyxl reads it. Its built-in date formats are openpyxl's.
    assert {n for n in range(164) if is_date_format(builtin_format_code(n))} == DATE_FORMATS
    codes = ["General", "0", "#,##0", '"£"#,##0;[Red]-"£"#,##0', "0.0%", "[$£-809]#,##0.00",
             "#,##0.00 [$€-x-euro]", "0.00E+00", "# ?/?", "@", '"day"0', "0_d", "0\\d",
             "d-mmm-yy", "yyyy-mm-dd", "[h]:mm:ss", "[mm]", "mm:ss", "h:mm AM/PM",
             '"dd;x"', "[Red]0;d", "0;[Red]-0;d"]
    assert [plain_date_format(c) for c in codes] == [is_date_format(c) for c in codes]
    # dates: d-mmm-yy, yyyy-mm-dd, [h]:mm:ss, [mm], mm:ss, h:mm AM/PM and "dd;x" (its first
    # section, `"dd`, has no closing quote); not: [Red] and the later sections, "day", _d, \\d
    assert sum(map(is_date_format, codes)) == 7
    template = tmp_path / "template"
    assert in_process("template", template).exit_code == 0
    found = both_readers(template / "place.xlsx")
    assert None not in found.values() and len(found) == 5
    for seed in range(3):
        folder = tmp_path / f"random{seed}"
        folder.mkdir()
        as_tables(random_instance(seed), folder)
        assert None not in both_readers(folder / "place.xlsx").values()
    # Every kind of value, gaps, formats, a cell beyond the dimension; a date and a
    # number shown as a date are left to openpyxl, sheet by sheet.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "values"
    sheet.append(["id", "n", "x", "flag", "text", "blank"])
    sheet.append(["a", 1500, 0.6, True, "x005F_y", ""])
    sheet.append(["b", -3, 1e-12, False, "  spaced ", None])
    sheet.append(["c", 2**40, 1.5e30, None, "#N/A", "£1,200"])
    sheet["B6"] = 12
    sheet["B6"].number_format = "£#,##0"
    sheet["C6"] = 0.25
    sheet["C6"].number_format = "0%"
    sheet["D6"] = -7
    sheet["D6"].number_format = '"£"#,##0;[Red]-"£"#,##0'
    sheet["H2"] = "far right"
    sheet["H3"] = "rich"
    dated = book.create_sheet("dated")
    dated.append(["id", "when"])
    dated.append(["a", dt.datetime(2020, 1, 1)])
    shown = book.create_sheet("shown as a date")
    shown.append(["id", "n"])
    shown.append(["a", 43831])
    shown["B2"].number_format = "d-mmm-yy"
    book.save(tmp_path / "kinds.xlsx")
    found = both_readers(tmp_path / "kinds.xlsx")
    assert found["dated"] is None and found["shown as a date"] is None
    rows = [("id", "n", "x", "flag", "text", "blank", None, None),
            ("a", 1500, 0.6, True, "x005F_y", None, None, "far right"),
            ("b", -3, 1e-12, False, "  spaced ", None, None, "rich"),
            ("c", 2**40, 1.5e30, None, "#N/A", "£1,200", None, None),
            (None,) * 8,
            (None, 12, 0.25, -7, None, None, None, None)]
    assert found["values"] == rows
    # As Excel writes them (xlsxwriter: a shared string table, number formats in the
    # stylesheet, [Red] and quoted currency among them, booleans).
    book_path = tmp_path / "excel-like.xlsx"
    excel = xlsxwriter.Workbook(str(book_path))
    money = excel.add_format({"num_format": '"£"#,##0;[Red]-"£"#,##0'})
    page = excel.add_worksheet("streams")
    page.write_row(0, 0, ["id", "budget", "share", "open"])
    page.write_row(1, 0, ["asc", 1_200_000, 0.5, True])
    page.write_number(2, 1, -350.25, money)
    page.write_string(3, 3, "rich")
    excel.add_worksheet("dated").write_datetime(
        1, 1, dt.datetime(2020, 1, 1), excel.add_format({"num_format": "yyyy-mm-dd"}))
    excel.close()
    found = both_readers(book_path)
    assert found["dated"] is None and found["streams"] == [
        ("id", "budget", "share", "open"), ("asc", 1_200_000, 0.5, True),
        (None, -350.25, None, None), (None, None, None, "rich")]
    shared_strings(tmp_path / "kinds.xlsx")  # the same values from a shared string table
    assert b"<v>" in zipfile.ZipFile(tmp_path / "kinds.xlsx").read("xl/worksheets/sheet1.xml")
    rows[1] = ("a", 1500, 0.6, True, "y", None, None, "far right")
    assert both_readers(tmp_path / "kinds.xlsx")["values"] == rows


def test_a_date_cell_is_read_by_openpyxl_and_named(tmp_path: Path) -> None:
    # A date typed in a number column: the workbook goes to openpyxl, which reads a date.
    path = xlsx_place(tmp_path, {"interventions": {"D3": dt.datetime(2020, 1, 1)}})
    assert problems(path) == [
        f"{tmp_path / 'place.xlsx'}, sheet interventions, row 3, column D (max_units), at "
        "interventions.clinic.max_units: a date is not a number; format the cell as a number"]


def test_table_references(tmp_path: Path) -> None:
    base = PLACE.replace("STREAMS", "{table: nowhere.xlsx}")
    path = tmp_path / "place.yaml"
    path.write_text(base)
    assert problems(path) == [f"{path}, line 6, at streams: table 'nowhere.xlsx': no such "
                              f"file (looked in {tmp_path})"]
    path.write_text(PLACE.replace("STREAMS", "{table: streams.csv, sheet: s}"))
    (tmp_path / "streams.csv").write_text("id\n")
    assert "a CSV file has no sheets" in problems(path)[0]
    path.write_text(PLACE.replace("STREAMS", "streams.xls"))
    assert "save it as .xlsx" in problems(path)[0]
    (tmp_path / "fake.xlsx").write_text("id,agency\n")
    path.write_text(PLACE.replace("STREAMS", "fake.xlsx"))
    assert problems(path) == [f"{tmp_path / 'fake.xlsx'}: not an XLSX workbook (save it from "
                              "your spreadsheet as .xlsx)"]
    xlsx_place(tmp_path)
    path.write_text(PLACE.replace("STREAMS", "{table: place.xlsx, sheet: budgets}"))
    assert "no sheet 'budgets'; the workbook has 'agencies', 'streams'" in problems(path)[0]


def in_process(*args: str | Path) -> Result:
    """The command in this process (the real console command is tested in test_core)."""
    words = [str(a) for a in args]
    if words[0] == "template":
        return CliRunner().invoke(template_app, words[1:])
    return CliRunner().invoke(app, words)


def test_template_round_trips(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    made = in_process("template", folder)
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in folder.iterdir()) == ["place.xlsx", "place.yaml"]
    solved = in_process(folder / "place.yaml", "--out", tmp_path / "out")
    assert solved.exit_code == 0, solved.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    z = {k: v["objective"] for k, v in results["scenarios"].items()}
    # a place where pooling visibly pays: every net benefit positive, pooled at least a
    # quarter above ring-fenced, every target met in every year, and some money pooled
    assert all(v > 0 for v in z.values()), z
    assert z["pooled"] > 1.25 * z["ring_fenced"], z
    outcomes = (tmp_path / "out" / "outcomes.csv").read_text().splitlines()
    header = outcomes[0].split(",")
    for row in outcomes[1:]:
        cells = dict(zip(header, row.split(","), strict=True))
        if cells["target"]:
            assert float(cells["achieved"]) >= float(cells["target"]) - 1e-6, cells
    pooled = sum(sum(years) for intervention in results["scenarios"]["pooled"]["funding"]
                 .values() for years in intervention.values())
    assert pooled > 0
    assert "Pooling buys" in solved.stdout  # the headline: what pooling buys, for what cash
    assert set(results["instance"]["tables"]) == {str(folder / "place.xlsx")}
    book = openpyxl.load_workbook(folder / "place.xlsx")
    assert book.sheetnames == ["README", *SECTION_NAMES]
    explained = {(r[0], r[1]) for r in book["README"].iter_rows(values_only=True)}
    needs = {(r[0], r[1]): (r[2], r[3]) for r in book["README"].iter_rows(values_only=True)}
    assert needs[("agencies", "name")][0] == "required"
    for (sheet, column), (need, text) in needs.items():  # required, so never defaulted
        if need and str(need).startswith("required"):
            assert "default" not in text, (sheet, column, text)
        assert "True" not in str(need) and "False" not in str(need), (sheet, column, need)
    for section in SECTION_NAMES:
        for name in next(book[section].iter_rows(values_only=True)):
            pattern = (name if (section, name) in explained
                       else name.split(".")[0] + ".<" if "." in name
                       else name.rsplit("_", 1)[0] + "_<year>")
            assert any(s == section and c.startswith(pattern) for s, c in explained), name
            assert book[section].cell(1, 1).comment is not None
    again = in_process("template", folder)
    assert again.exit_code == 2
    assert "already exist; choose another folder or pass --force" in again.stderr
    assert in_process("template", folder, "--force").exit_code == 0
