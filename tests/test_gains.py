"""Tests for optimiser.analyses.gains: the agency graph, wrong pockets and settlements."""

from __future__ import annotations

import json
import pathlib
import re
from xml.etree import ElementTree

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml
from gen import random_instance
from test_core import TOY
from test_shapley import solve_text
from typer.testing import CliRunner

from optimiser.analyses.gains import (
    agency_flows,
    apportion,
    change,
    gains_graph,
    settle,
    settlements,
    wrong_pockets,
)
from optimiser.cli import app
from optimiser.format import money
from optimiser.pipeline import run

# The toy of test_core (worked there): council's prevention saves the NHS 40 a
# unit; two years, no discounting.
# Ring-fenced: the council's 100 a year buys 10 units: it spends 200, the NHS
#   saves 10 * 40 * 2 = 800.
# Pooled: 50 units a year; the council still pays 100 a year inside its fence
#   (least pooling), the NHS puts 400 a year into the pool. The council's money
#   buys 10 units a year (saving the NHS 800), the NHS's 40 (saving itself 3200);
#   what the council delivers saves the NHS 50 * 40 * 2 = 4000.
#   Positions: council -200 (no change), NHS 4000 - 800 = 3200 (+2400).
# Pooling buys outcomes, not savings: a's 100 and c's 60, which ring-fenced buy
# their own savings (1.5 a unit for 1: a +50, c +30), go to b's x (worth 10 a
# unit in outcomes, saving b only 0.2). One year, no discounting.
#   Ring-fenced: a +50, b 10 units: 0.2 * 10 - 10 = -8, c +30.
#   Pooled:      a -100, b 170 units: 0.2 * 170 - 10 = 24, c -60.
#   Changes: a -150, b +32, c -90. Owed 240, b can spare 32: a gets
#   32 * 150/240 = 20, c gets 32 * 90/240 = 12; 208 stays uncovered.
SHORT = """\
name: gains too small
years: 1
discount_rate: 0.0
agencies:
  a: {name: County council}
  b: {name: Community trust}
  c: {name: District council}
streams:
  a_money: {agency: a, budget: 100}
  b_money: {agency: b, budget: 10}
  c_money: {agency: c, budget: 60}
interventions:
  ya: {agency: a, unit_cost: 1, max_units: 1000, savings: {a: 1.5}}
  yc: {agency: c, unit_cost: 1, max_units: 1000, savings: {c: 1.5}}
  x: {agency: b, unit_cost: 1, max_units: 1000, savings: {b: 0.2}, effects: {well: 1}}
outcomes:
  well: {value: 10}
"""


def write_place(tmp_path: pathlib.Path, place: dict) -> pathlib.Path:
    path = tmp_path / "place.yaml"
    path.write_text(yaml.safe_dump(place, sort_keys=False))
    return path


def test_settle_pays_every_loser_what_it_is_owed_and_no_more() -> None:
    paid, short = settle(np.array([10000, -3000, -5000, 0, 2000]), np.zeros((5, 5), bool))
    assert short == 0
    assert sum(paid.values()) == 8000
    received = {b: sum(v for (_, t), v in paid.items() if t == b) for b in range(5)}
    assert received == {0: 0, 1: 3000, 2: 5000, 3: 0, 4: 0}
    assert all(a in (0, 4) and b in (1, 2) for a, b in paid)
    assert sum(v for (a, _), v in paid.items() if a == 4) <= 2000


def test_settle_pays_back_along_wrong_pockets_first() -> None:
    # Two gainers can each pay the loser; only agency 1 was saved money by it.
    payback = np.zeros((3, 3), bool)
    payback[1, 2] = True
    paid, short = settle(np.array([5000, 5000, -5000]), payback)
    assert (paid, short) == ({(1, 2): 5000}, 0)
    payback[1, 2], payback[0, 2] = False, True
    assert settle(np.array([5000, 5000, -5000]), payback)[0] == {(0, 2): 5000}


def test_settle_short_makes_losers_good_in_proportion() -> None:
    paid, short = settle(np.array([4000, -3000, -5000]), np.zeros((3, 3), bool))
    assert paid == {(0, 1): 1500, (0, 2): 2500}
    assert short == 4000


def test_nothing_to_settle() -> None:
    assert settle(np.array([100, 0]), np.zeros((2, 2), bool)) == ({}, 0)
    assert settle(np.array([0, -100]), np.zeros((2, 2), bool)) == ({}, 100)


def test_apportion_is_whole_pence_adding_up() -> None:
    assert apportion(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]
    assert apportion(np.array([3, 5]), 4).tolist() == [2, 2]  # 1.5, 2.5: ties to the first
    assert apportion(np.array([300, 500]), 1000).tolist() == [300, 500]
    shares = apportion(np.array([7, 13, 29, 31]), 41)
    assert shares.sum() == 41
    assert np.all(np.abs(shares - np.array([7, 13, 29, 31]) * 41 / 80) < 1)


@pytest.mark.parametrize(("seed", "agencies", "streams", "items"),
                         [(0, 4, 5, 6), (2, 4, 5, 6), (6, 4, 5, 6), (0, 6, 8, 10)])
def test_settlement_leaves_everyone_at_or_above_reference(
        tmp_path: pathlib.Path, seed: int, agencies: int, streams: int, items: int) -> None:
    # Generated places (tests/gen.py); the last one's gains cannot cover its losers.
    place = random_instance(seed, n_agencies=agencies, n_streams=streams,
                            n_interventions=items)
    result = run(write_place(tmp_path, place), ranges=False)
    found = settlements(result)
    assert "pooled" in found and "pooled_fair" not in found  # transfers settle themselves
    for name, st in found.items():
        gap = change(result, result.scenario(name))
        assert gap is not None
        pays = st.payments.groupby("from")["amount"].sum().reindex(gap.index, fill_value=0)
        gets = st.payments.groupby("to")["amount"].sum().reindex(gap.index, fill_value=0)
        owed = -gap.clip(upper=0)
        spare = gap.clip(lower=0)
        assert st.owed == pytest.approx(owed.sum(), abs=0.01 * len(gap))
        covered = min(owed.sum(), spare.sum())
        assert st.payments["amount"].sum() == pytest.approx(covered, abs=0.01 * len(gap))
        assert st.shortfall == pytest.approx(owed.sum() - covered, abs=0.01 * len(gap))
        assert (pays <= spare + 0.01).all()
        assert np.allclose(gets, owed * covered / max(owed.sum(), 1e-9), atol=0.02)
        if st.shortfall == 0:
            assert (gap + gets - pays >= -0.01).all()
        assert (gap[st.payments["from"]] > 0).all() and (gap[st.payments["to"]] < 0).all()
    pooled = found["pooled"]
    assert pooled.owed > 1000  # someone loses, so there is something to settle
    assert (pooled.shortfall > 0) == (agencies == 6)
    cents = pooled.payments["amount"].to_numpy() * 100
    assert np.allclose(cents, np.round(cents), atol=1e-6)  # whole pence


def test_shortfall_by_hand(tmp_path: pathlib.Path) -> None:
    result = solve_text(tmp_path, SHORT)
    gap = change(result, result.scenario("pooled"))
    assert gap is not None
    assert gap.to_dict() == pytest.approx({"a": -150, "b": 32, "c": -90})
    st = settlements(result)["pooled"]
    assert st.payments[["from", "to", "amount"]].values.tolist() == [["b", "a", 20.0],
                                                                     ["b", "c", 12.0]]
    assert st.shortfall == pytest.approx(208)
    assert st.owed == pytest.approx(240)


def test_settlement_in_results_and_in_words(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "place.yaml"
    path.write_text(SHORT)
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [str(path), "--out", str(out), "--detail"])
    assert done.exit_code == 0, done.output
    document = json.loads((out / "results.json").read_text())
    assert document["settlement"] == {"pooled": [{"from": "b", "to": "a", "amount": 20.0},
                                                 {"from": "b", "to": "c", "amount": 12.0}]}
    assert document["settlement_shortfall"] == {"pooled": pytest.approx(208)}
    text = " ".join(done.output.split())
    assert "Community trust pays County council £20." in text
    assert "Community trust pays District council £12." in text
    assert "£208 below their positions in ring_fenced" in text


def test_wrong_pockets_by_hand(tmp_path: pathlib.Path) -> None:
    table = wrong_pockets(solve_text(tmp_path, TOY))
    rows = {(r.scenario, r.from_agency, r.to_agency): r for r in table.itertuples()}
    assert list(rows)[:6] == [
        ("ring_fenced", "council", "council"), ("ring_fenced", "council", "nhs"),
        ("pooled", "council", "council"), ("pooled", "council", "nhs"),
        ("pooled", "nhs", "council"), ("pooled", "nhs", "nhs")]
    r = rows[("ring_fenced", "council", "nhs")]
    assert (r.wrong_pocket, r.funds, r.funded_savings, r.delivered_savings) == (
        True, 0, pytest.approx(800), pytest.approx(800))
    assert np.isnan(r.reference_funded_savings)
    assert rows[("ring_fenced", "council", "council")].funds == pytest.approx(200)
    r = rows[("pooled", "council", "nhs")]
    assert (r.funded_savings, r.delivered_savings, r.reference_funded_savings) == (
        pytest.approx(800), pytest.approx(4000), pytest.approx(800))
    r = rows[("pooled", "nhs", "council")]
    assert (r.wrong_pocket, r.funds, r.funded_savings) == (True, pytest.approx(800), 0)
    r = rows[("pooled", "nhs", "nhs")]
    assert (r.wrong_pocket, r.funded_savings, r.reference_funded_savings) == (
        False, pytest.approx(3200), 0)


def test_graph_of_the_toy(tmp_path: pathlib.Path) -> None:
    result = solve_text(tmp_path, TOY)
    g = gains_graph(result, "pooled")
    assert list(g.nodes) == ["council", "nhs"]
    assert g.graph == {"scenario": "pooled", "reference": "ring_fenced", "currency": "GBP"}
    assert g.nodes["nhs"]["change"] == pytest.approx(2400)
    assert g.nodes["nhs"]["reference_net"] == pytest.approx(800)
    assert g.nodes["council"]["change"] == 0
    assert g.edges["nhs", "council"]["funds"] == pytest.approx(800)
    assert g.edges["nhs", "council"]["kinds"] == "funds"
    assert g.edges["council", "nhs"]["saves"] == pytest.approx(4000)
    assert g.edges["council", "nhs"]["funds"] == 0.0
    assert "change" not in gains_graph(result, "ring_fenced").nodes["nhs"]


@pytest.mark.parametrize("seed", [2, 3])
def test_flows_account_for_every_pound(tmp_path: pathlib.Path, seed: int) -> None:
    place = random_instance(seed, n_agencies=6, n_streams=8, n_interventions=10)
    result = run(write_place(tmp_path, place), ranges=False)
    for s in result.scenarios:
        flows = agency_flows(result, s)
        figures = s.agencies.set_index("agency")
        assert flows.funds.sum(axis=1) == pytest.approx(figures["spend"].to_numpy(), abs=1e-4)
        assert flows.saves.sum(axis=0) == pytest.approx(figures["savings"].to_numpy(), abs=1e-4)
        assert flows.funded_savings.sum(axis=0) == pytest.approx(
            figures["savings"].to_numpy(), abs=1e-4)


def fifteen_agencies(n: int = 15) -> dict:
    """A generated place with 15 (or `n`) agencies, named as long as real ones are."""
    place = random_instance(0, n_agencies=n, n_streams=n + 5, n_interventions=30)
    for n, spec in enumerate(place["agencies"].values()):
        spec["name"] = f"{spec['name']} for {['Bournemouth', 'Dorset', 'Poole'][n % 3]}"
    place["scenarios"] = {k: place["scenarios"][k] for k in ("ring_fenced", "pooled",
                                                             "pooled_fair")}
    return place


def test_many_agencies_graphml_picture_and_sampled_shares(tmp_path: pathlib.Path) -> None:
    # 18 agencies, every one with money it may pool: more players than EXACT_LIMIT (16)
    place = fifteen_agencies(18)
    for stream in place["streams"].values():
        stream["pool_share"] = 0.5
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [str(write_place(tmp_path, place)), "--out", str(out),
                                    "--detail"])
    assert done.exit_code == 0, done.output
    agencies = list(place["agencies"])

    g = nx.read_graphml(out / "gains.graphml")
    assert list(g.nodes) == agencies
    assert g.nodes[agencies[3]]["name"] == place["agencies"][agencies[3]]["name"]
    spend = pd.read_csv(out / "agencies.csv").query("scenario == 'pooled'")["spend"].sum()
    own = sum(g.nodes[a]["pooled.spend"] for a in agencies)
    assert own == pytest.approx(spend)
    assert sum(d["pooled.settlement"] for _, _, d in g.edges(data=True)) > 0

    picture = ElementTree.parse(out / "gains.svg").getroot()
    assert picture.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(picture.findall("{http://www.w3.org/2000/svg}circle")) == len(agencies)
    pockets = pd.read_csv(out / "wrong_pockets.csv")
    assert list(pockets["scenario"].unique()) == list(place["scenarios"])

    document = json.loads((out / "results.json").read_text())
    game = document["scenarios"]["pooled"]["pooling_game"]
    assert game["method"] == "sampled"
    assert set(game["standard_error"]) == set(agencies)
    assert sum(document["shapley"]["pooled"].values()) == pytest.approx(game["gain"])
    # how the sample was drawn: pairs of permutations until every standard error was
    # within a thousandth of the gain (or the budget), each pair two permutations
    sampling = game["sampling"]
    assert game["permutations"] == 2 * sampling["antithetic_pairs"]
    assert sampling["stopped_by"] in ("precision", "budget")
    assert sampling["largest_standard_error"] == max(game["standard_error"].values()) > 0
    if sampling["stopped_by"] == "precision":
        assert sampling["largest_standard_error"] <= sampling["target_standard_error"]
        assert sampling["target_standard_error"] == pytest.approx(0.001 * game["gain"])
    # the page shows each share's standard error beside it, read from results.json
    page = (out / "report.html").read_text()
    for a in agencies:
        cell = re.search(r'data-value="([^"]+)" data-src="scenarios/pooled/pooling_game/'
                         rf'standard_error/{a}"', page)
        assert cell is not None, a
        assert float(cell.group(1)) == game["standard_error"][a]
    # and the terminal's --detail prints each sampled share with its standard error
    printed = " ".join(done.output.split())
    assert "Shapley share (sampled," in printed and "± standard error)" in printed
    for a in agencies:
        share = document["shapley"]["pooled"][a]
        assert f"{money(share)} ± {money(game['standard_error'][a])}" in printed, a


def test_draw_gains_labels_every_agency(tmp_path: pathlib.Path) -> None:
    from optimiser.reports.drawing import text_width
    from optimiser.reports.gainsplot import draw_gains

    place = fifteen_agencies()
    result = run(write_place(tmp_path, place), ranges=False)
    drawing = draw_gains(result, "pooled")
    circles = drawing.of("node")
    assert len(circles) == 15
    colours = {c.attr("fill") for c in circles}
    assert len(colours) == 3  # gainers, losers and the unchanged told apart
    labels = [" ".join(t.lines) for t in drawing.of("node-label")]
    for spec, label in zip(place["agencies"].values(), labels, strict=True):
        assert label.startswith(spec["name"])
    # every label inside the picture (by the estimated widths): the crop keeps names whole
    for t in drawing.of("node-label"):
        x, wide = float(t.attr("x") or 0), text_width("\n".join(t.lines), 10)
        start = {"start": x, "end": x - wide}.get(t.attr("text-anchor") or "start", x - wide / 2)
        assert drawing.left <= start and start + wide <= drawing.left + drawing.width
    svg = drawing.svg("g", standalone=True)
    assert svg == draw_gains(result, "pooled").svg("g", standalone=True)  # same bytes again


@pytest.mark.parametrize("agencies", [1, 2, 7])
def test_stream_saves_is_einsum_to_the_bit(agencies: int) -> None:
    # What each stream's units save each agency, summed over the (stream, intervention)
    # pairs a stream pays for only: the same doubles as numpy's einsum over the dense
    # stream x intervention x year array (its loop: the years of a pair summed first, the
    # pairs added in turn). A pair listed with nothing bought adds nothing.
    from optimiser.analyses.gains import _stream_saves

    rng = np.random.default_rng(7)
    bought = np.where(rng.random((13, 17, 6)) < 0.2, rng.lognormal(2, 3, (13, 17, 6)), 0.0)
    bought[4] = 0.0  # a stream that pays for nothing
    bought[5, 3] = 0.0  # listed below, with nothing bought
    reach = rng.uniform(0, 1, (17, 6)) * (rng.random((17, 6)) < 0.8)
    saving = rng.normal(0, 1e3, (17, agencies)) * (rng.random((17, agencies)) < 0.6)
    expected = np.einsum("sit,it,ib->sb", bought, reach, saving)
    listed = np.any(bought != 0, axis=2)
    listed[5, 3] = True
    stream, item = np.nonzero(listed)  # in order of stream, then intervention
    found = _stream_saves(stream, item, bought[stream, item], reach, saving, 13)
    assert found.shape == (13, agencies)
    assert np.array_equal(found, expected)
    assert not found[4].any()
