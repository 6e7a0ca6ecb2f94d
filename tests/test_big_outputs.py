"""What keeps a large place's outputs small stays the same document: results.json written a
list to a line is the JSON `json.dumps` writes, and the funding table built from the
pairs that carry money is the contract's pro-rata rule."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from gen import random_instance

from optimiser.pipeline import run
from optimiser.reports.write import _funding_document, json_text


def test_json_text_is_the_same_document_with_plain_lists_on_one_line() -> None:
    document = {"a": [1.5, -2.0, None, True], "b": {}, "c": [], "d": [{"x": [1, 2]}, 3, [4, 5]],
                "e": {"f": {"g": "h\u00e9"}}, 7: "seven", "h": [[1.0], []]}
    text = "".join(json_text(document))
    assert json.loads(text) == json.loads(json.dumps(document))
    lines = text.splitlines()
    assert '  "a": [1.5, -2.0, null, true],' in lines
    assert '      "x": [1, 2]' in lines  # a plain list inside an object inside a list
    assert '    [4, 5]' in lines
    assert '  "7": "seven",' in lines
    with pytest.raises(ValueError):
        "".join(json_text({"nan": [math.nan]}))



def test_json_text_writes_every_number_as_json_dumps_does() -> None:
    # A list of numbers is joined from each number's repr: every digit, signed zero,
    # exponents, big ints and the smallest subnormal as `json.dumps` writes them; other
    # plain lists (bools, None, text) go through the encoder; inf and NaN are refused.
    numbers = [0.1, -0.0, 0.0, 1e16, 1.5e-7, 123456789.12345679, 3, -2**70, 5e-324,
               1.7976931348623157e308, 1 / 3]
    mixed = [1.0, True, None, "x\u00e9\"", 2]
    lines = "".join(json_text({"n": numbers, "m": mixed, "e": []})).splitlines()
    assert lines == ["{", f'  "n": {json.dumps(numbers)},', f'  "m": {json.dumps(mixed)},',
                     '  "e": []', "}"]
    assert '"n": [0.1, -0.0, 0.0, 1e+16, 1.5e-07,' in lines[1]
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError):
            "".join(json_text({"a": {"b": [1.0, bad]}}))


def test_funding_document_keeps_pairs_in_the_order_they_first_appear() -> None:
    # Rows out of stream order: streams, and each stream's interventions, are listed in
    # the order their pair first appears; years without money are 0.
    funding = pd.DataFrame({"stream": ["s2", "s1", "s2", "s1", "s2"],
                            "intervention": ["b", "a", "a", "a", "b"],
                            "year": [2021, 2020, 2020, 2021, 2020],
                            "amount": [1.0, 2.0, 3.0, 4.0, 5.0]})
    document = _funding_document(funding, [2020, 2021])
    assert list(document) == ["s2", "s1"]
    assert list(document["s2"]) == ["b", "a"]
    assert document == {"s2": {"b": [5.0, 1.0], "a": [3.0, 0.0]}, "s1": {"a": [2.0, 4.0]}}
    assert _funding_document(funding.iloc[0:0], [2020]) == {}


def test_funding_written_from_its_table_is_the_documents_text() -> None:
    # results.json writes each scenario's funding straight from the table: the text must
    # be what json_text writes for the funding object (streams and interventions in the
    # order they first appear, every digit, -0.0 kept), and a NaN is still refused.
    from optimiser.reports.write import FundingText

    funding = pd.DataFrame({"stream": ["s2", "s1", "s2", "s1", "s2", "s\u00e9"],
                            "intervention": ["b", "a", "a", "a", "b", "a"],
                            "year": [2021, 2020, 2020, 2021, 2020, 2021],
                            "amount": [0.1, 1e16, -0.0, 1 / 3, 0.1, 5e-324]})
    years = [2020, 2021]
    for frame in (funding, funding.iloc[0:0]):
        document = {"x": 1, "funding": _funding_document(frame, years), "y": [2.5]}
        written = {"x": 1, "funding": FundingText(frame, years), "y": [2.5]}
        text = "".join(json_text(written))
        assert text == "".join(json_text(document))
        assert json.loads(text) == json.loads(json.dumps(document))
    lines = "".join(json_text({"f": FundingText(funding, years)})).splitlines()
    assert lines[:5] == ["{", '  "f": {', '    "s2": {', '      "b": [0.1, 0.1],',
                         '      "a": [-0.0, 0.0]']
    with pytest.raises(ValueError):
        "".join(json_text({"f": FundingText(funding.assign(amount=math.nan), years)}))

def test_funding_rows_add_up_to_each_service_and_each_agency(tmp_path: Path) -> None:
    # The funding table, built from the pairs that carry money, still holds all of it:
    # amount_sit = f_sit + p_st q_it / sum_j q_jt, so summed over streams it is what each
    # service costs a year (sum_s f_sit + q_it), and summed over an agency's
    # interventions what its streams spend a year (sum_i f_sit + p_st: the pool pays out
    # all it is given). Money outside a stream's ring-fence is all pooled.
    instance = random_instance(3)
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(instance))
    result = run(path, ranges=False)
    pooled = [s for s in result.scenarios if s.status == "optimal" and s.data is not None
              and s.data.pooling]
    assert any((s.funding["pooled"] > 0).any() for s in pooled)  # the pool pays for something
    for s in result.scenarios:
        if s.status != "optimal":
            continue
        funding = s.funding
        assert (funding["amount"] > 0).all()
        by_item = funding.groupby(["intervention", "year"])["amount"].sum()
        cost = s.allocation.set_index(["intervention", "year"])["cost"]
        assert np.allclose(by_item.reindex(cost.index, fill_value=0.0), cost, rtol=1e-9,
                           atol=1e-5)
        agency = {k: v["agency"] for k, v in instance["streams"].items()}
        spent = funding.assign(agency=funding["stream"].map(agency)).groupby(
            ["agency", "year"])["amount"].sum()
        cash = s.cash.set_index(["agency", "year"])["spend"]
        assert np.allclose(spent.reindex(cash.index, fill_value=0.0), cash, rtol=1e-9,
                           atol=1e-5)
        fence = {k: set(v["ring_fence"]) if "ring_fence" in v else {  # else its agency's own
            i for i, b in instance["interventions"].items() if b["agency"] == v["agency"]}
            for k, v in instance["streams"].items()}
        outside = [i not in fence[st] for st, i in zip(funding["stream"],
                                                       funding["intervention"], strict=True)]
        assert np.allclose(funding["amount"][outside], funding["pooled"][outside])


def test_long_tables_are_summed_on_their_sheets_and_say_where_every_row_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With a sheet of at most 4 rows, every row of this place's allocation and funding
    # is too many: the sheets show them summed (over the years; funding, whose stream
    # and intervention pairs are still more than 4, over interventions too), each total
    # the CSV table's own, and the note names the CSV and its row count.
    from optimiser.reports import workbook
    from optimiser.solving.results import written_rows

    instance = random_instance(3)
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(instance))
    result = run(path, ranges=False)
    monkeypatch.setattr(workbook, "SHEET_ROWS", 4)
    for kind, label in (("allocation", "interventions"), ("funding", "streams")):
        full = written_rows(kind, result.table(kind))
        frame, columns, note = workbook.sheet_table(kind, full, [])
        assert len(full) > 4
        assert f"the full table, {len(full):,} rows (one a year), is {kind}.csv" in note
        money = "cost" if kind == "allocation" else "amount"
        assert frame[money].sum() == pytest.approx(full[money].sum(), rel=1e-12)
        assert [c.field for c in columns][:2] == ["scenario", label[:-1]]
    frame, _, note = workbook.sheet_table("funding", written_rows(
        "funding", result.table("funding")), [])
    assert "Summed over the years and interventions" in note
    by_stream = result.table("funding").groupby(["scenario", "stream"])["intervention"].nunique()
    assert frame.set_index(["scenario", "stream"])["interventions"].to_dict() == (
        by_stream.to_dict())
    # grouped by codes, the sums are pandas' own by the names, to the bit, in table order
    summed = result.table("funding").groupby(["scenario", "stream"], sort=False)[
        ["amount", "pooled"]].sum()
    assert list(zip(frame["scenario"], frame["stream"], strict=True)) == list(summed.index)
    assert frame["amount"].tolist() == summed["amount"].tolist()
    assert frame["pooled"].tolist() == summed["pooled"].tolist()
    outcomes = result.table("outcomes")
    assert len(outcomes) > 4  # outcomes are shown whole, however many
    assert workbook.sheet_table("outcomes", outcomes, [])[2] == ""
