"""Where which services run is not decided (results.json's mip.services_decided false:
above SWITCH_LIMIT with another equally good set of services left), no figure built on
the agencies' positions is presented as decided: the roll-up leaves that place's positions
out of its totals and says so, the rest of the roll-up as without it; no settlement is
proposed and no picture of who gains is drawn, and the reports say why.

The undecided place is tests/test_milp_ties.py's `whose_ward` with the limit at 25 (26
choices); the decided one its `two_wards`, solved by hand there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from test_milp_ties import two_wards, whose_ward

from optimiser.analyses import run_analyses
from optimiser.pipeline import RunResult, run


def ran(instance: dict[str, Any], path: Path) -> RunResult:
    path.write_text(yaml.safe_dump(instance, sort_keys=False), encoding="utf-8")
    return run(path)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    """whose_ward above the lowered limit (not decided), two_wards (decided)."""
    import optimiser.solving.highs as highs

    folder = tmp_path_factory.mktemp("undecided")
    limit = highs.SWITCH_LIMIT
    highs.SWITCH_LIMIT = 25
    try:
        wards = ran(whose_ward(), folder / "wards.yaml")
        pair = ran(two_wards("ward_a", "ward_b"), folder / "pair.yaml")
    finally:
        highs.SWITCH_LIMIT = limit
    for result in (wards, pair):
        run_analyses(result, ["settlement"])
    assert wards.scenario("pooled").extra["mip"]["services_decided"] is False
    assert pair.scenario("pooled").extra["mip"]["services_decided"] is True
    return {"wards": wards, "pair": pair}


def total(table: pd.DataFrame, scenario: str, measure: str, item: str) -> pd.Series:
    hit = table[(table["place"] == "TOTAL") & (table["scenario"] == scenario)
                & (table["measure"] == measure) & (table["item"] == item)]
    assert len(hit) == 1, (scenario, measure, item)
    return hit.iloc[0]


def test_rollup_adds_only_decided_positions(places: dict[str, RunResult]) -> None:
    # wards: pooled objective 2,600 (13 years of one ward worth 200), ring-fenced 0; which
    # ward runs is not decided, so the NHS's 11,050 and the council's -8,450 could be
    # -8,450 and 11,050. pair: pooled 400 (two years of ward_a, worth 200 each),
    # ring-fenced 0 (nothing runs); NHS +1,600, council -1,200: spend 2 * 1,300 = 2,600,
    # savings 2 * 1,500 = 3,000, net 400 (no kinds given: 'unclassified').
    # Added up: objective 2,600 + 400 = 3,000 over both; positions over pair alone.
    from optimiser.rollup.totals import (
        POSITIONS,
        coverage,
        headline,
        left_out_sentences,
        roll_up,
        rollup_document,
    )

    both = roll_up(places)
    table = both.table
    objective = total(table, "pooled", "objective", "net_benefit")
    assert objective["value"] == pytest.approx(3000.0, rel=1e-9) and objective["places"] == 2
    for measure, item, value in (("spend", "all", 2600.0), ("savings", "all", 3000.0),
                                 ("net", "all", 400.0), ("kind_net", "unclassified", 400.0)):
        row = total(table, "pooled", measure, item)
        assert row["value"] == pytest.approx(value, rel=1e-9) and row["places"] == 1
        assert row["vs_ring_fenced"] == pytest.approx(value if measure != "spend" else 2600.0)
    wards_rows = table[(table["place"] == "wards") & (table["scenario"] == "pooled")]
    assert not wards_rows["measure"].isin(POSITIONS).any()
    assert set(wards_rows["measure"]) == {"objective", "account"}  # no outcomes here
    # ring-fenced: nothing runs in either (decided in both), so every position is added
    assert total(table, "ring_fenced", "kind_net", "unclassified")["places"] == 2
    # pair's rows are the same as in a roll-up of pair alone
    alone = roll_up({"pair": places["pair"]}).table
    mine = table[table["place"] == "pair"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone[alone["place"] == "pair"].reset_index(drop=True))
    # the documents say which places were left out of which totals, and why
    cover = coverage(both, "pooled")
    assert cover["places"] == ["wards", "pair"]
    assert list(cover["positions_left_out"]) == ["wards"]
    assert "which services run is not decided in its scenario 'pooled'" in (
        cover["positions_left_out"]["wards"])
    assert coverage(both, "ring_fenced")["positions_left_out"] == {}
    document = rollup_document(both)["scenarios"]["pooled"]
    assert document["positions_left_out"] == cover["positions_left_out"]
    assert document["agency_kinds"] == {"unclassified": {
        "spend": pytest.approx(2600.0), "savings": pytest.approx(3000.0),
        "net": pytest.approx(400.0)}}
    said = headline(both)[0]
    assert said.startswith("If these 2 places pooled: £3,000 more net benefit (PV)")
    assert ("net position (PV) against ring-fenced over the 1 place whose positions are "
            "decided (not wards: which services run is not decided there): unclassified "
            "agencies +£400.") in said
    assert left_out_sentences(both) == [
        "pooled: the agencies' spending, savings and net positions of wards are not added to "
        "the totals (which services run is not decided in its scenario 'pooled': equally "
        "good sets of services could change its agencies' positions); its objective, "
        "outcomes and account are."]
    from optimiser.rollup.documents import rollup_summary
    from optimiser.rollup.story import tell_rollup

    summary = rollup_summary(tell_rollup(both))
    assert ("| pooled | 2 of 2 (positions: 1) | net_benefit | £3,000 | £3,000 | £2,600 | "
            "£3,000 | £400 |") in summary
    assert "| ring_fenced | 2 of 2 | net_benefit |" in summary


def test_no_settlement_where_positions_are_not_decided(places: dict[str, RunResult]) -> None:
    # wards: NHS +11,050, council -8,450 against ring-fenced as found, but ward_b in every
    # year would make it NHS -8,450, council +11,050: who pays whom is not decided, so no
    # payment is proposed. pair (decided): council -1,200, NHS +1,600 against ring-fenced
    # (nothing runs there): the NHS pays the council 1,200, nothing short.
    from optimiser.analyses.gains import gains_graph, settlement_payments
    from optimiser.reports.markdown import payments
    from optimiser.reports.story import narrative, tell
    from optimiser.reports.terminal import settlement_sentences

    wards, pair = places["wards"], places["pair"]
    why = ("which services run is not decided in pooled: equally good sets of services "
           "could change who gains and who loses")
    assert wards.analyses["settlement_not_decided"] == {"pooled": why}
    assert wards.analyses["settlement"] == {} and wards.analyses["settlement_shortfall"] == {}
    assert settlement_payments(wards, "pooled").empty
    graph = gains_graph(wards, "pooled")
    assert all(d["settlement"] == 0.0 for *_, d in graph.edges(data=True))
    assert pair.analyses["settlement_not_decided"] == {}
    assert pair.analyses["settlement"] == {
        "pooled": [{"from": "nhs", "to": "council", "amount": pytest.approx(1200.0)}]}
    assert pair.analyses["settlement_shortfall"] == {"pooled": pytest.approx(0.0)}
    # the reports say why, in every document's words
    sentence = f"No settlement is proposed for pooled: {why}."
    story = tell(wards, {})
    assert sentence in narrative(story)
    assert payments(story) == ["## Settlement not proposed", f"- {sentence}"]
    assert settlement_sentences(wards, "pooled") == [sentence]
    assert not any("No settlement" in s for s in narrative(tell(pair, {})))


def test_no_picture_of_who_gains_where_positions_are_not_decided(
        places: dict[str, RunResult], tmp_path: Path) -> None:
    # wards' pooled plan would colour the NHS a gainer and the council a loser, with the
    # money between them; ward_b in every year would colour them the other way round.
    # Not drawn, and the page says why; pair's (decided) is drawn.
    from optimiser.reports.page import graph_section
    from optimiser.reports.story import picture_not_drawn, tell
    from optimiser.reports.write import write_gains_pictures

    why = ("No picture of the money between the agencies in pooled: which services run is "
           "not decided in pooled, so equally good sets of services could change who gains, "
           "who loses and the money between them.")
    wards, pair = places["wards"], places["pair"]
    assert picture_not_drawn(wards, "pooled") == why
    assert picture_not_drawn(wards, "ring_fenced") is None  # nothing runs: decided
    assert picture_not_drawn(pair, "pooled") is None
    section = graph_section(tell(wards, {}))
    assert f'<p id="no-gains-graph">{why}</p>' in section and "<svg" not in section
    assert "<svg" in graph_section(tell(pair, {}))
    for name, result in places.items():
        (tmp_path / name).mkdir()
        write_gains_pictures(result, tmp_path / name)
    assert not (tmp_path / "wards" / "gains.svg").exists()
    assert (tmp_path / "pair" / "gains.svg").stat().st_size > 0


def test_worse_off_over_decided_draws_only() -> None:
    # Draws 0 to 3 compared (both solved; draw 4 did not); which services run is decided
    # in draws 0, 1, 3 of the scenario and 0 to 3 of the reference, so in draws 0, 1, 3.
    # Agency a is below its reference (scale max(1, |net|, |ref|), by more than 1e-6 of
    # it) in draws 1 and 2; b in draw 3 (4 against 10). Over K = {0, 1, 3}: a 1/3, b 1/3; draw 2
    # (a worse off there) is counted, not read.
    from optimiser.analyses.uncertainty import worse_off_decided

    net = np.array([[5.0, 5.0], [4.0, 5.0], [4.0, 5.0], [5.0, 4.0], [np.nan, np.nan]])
    ref = np.full((5, 2), 5.0)
    ref[:, 1] = [5.0, 5.0, 5.0, 10.0, np.nan]
    compared = np.array([True, True, True, True, False])
    decided = compared & np.array([True, True, False, True, True]) & np.array(
        [True, True, True, True, False])
    worse, left = worse_off_decided(net, ref, decided, compared, ["a", "b"])
    assert worse == {"a": pytest.approx(1 / 3), "b": pytest.approx(1 / 3)} and left == 1
    assert worse_off_decided(net, ref, np.zeros(5, dtype=bool), compared, ["a", "b"]) == ({}, 4)


def test_draws_whose_services_are_not_decided_are_counted_not_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The wards of whose_ward with their unit cost one named figure, 9 to 11 (central 10),
    # so the wards stay alike in every draw: at 9 a unit, 300 + 100 * 9 = 1,200 of each
    # year's 1,300 runs one ward for 100 * 6 - 300 = 300; at 11, 90 units for
    # 90 * 4 - 300 = 60; both wards would lose either way. Ward_a or ward_b each year is
    # equally good. Over 13 years (26 choices; rule 2c's first block leaves ward_a's 13th
    # year open, as in test_milp_ties) with the limit at 25, the certificate finds another
    # set, so no draw's services are decided, re-optimised or committed: p_worse_off is
    # over no draw, every compared draw counted.
    # Ring-fenced nothing runs in any draw (650 cannot pay the set-up and enough units).
    import optimiser.solving.highs as highs
    from optimiser.analyses.uncertainty import run_uncertainty
    from optimiser.reports.story import tell, uncertainty_sentences

    monkeypatch.setattr(highs, "SWITCH_LIMIT", 25)
    instance = whose_ward()
    instance["figures"] = {"ward_cost": {"value": 10, "low": 9, "high": 11,
                                         "assumption": "a test"}}
    for ward in instance["interventions"].values():
        ward["unit_cost"] = "ward_cost"
    result = ran(instance, tmp_path / "wards.yaml")
    assert result.scenario("pooled").extra["mip"]["services_decided"] is False
    run_uncertainty(result, 2, 5, workers=1)
    pooled = result.analyses["uncertainty"]["pooled"]
    assert pooled["hindsight"]["compared"] == 2
    assert pooled["hindsight"]["positions_not_decided"] == 2
    assert pooled["hindsight"]["p_worse_off"] == {}
    assert pooled["hindsight"]["p_beats_reference"] == 1.0  # the objective is decided
    assert pooled["committed"]["positions_not_decided"] == 2
    assert pooled["committed"]["p_worse_off"] == {}
    fenced = result.analyses["uncertainty"]["ring_fenced"]
    assert fenced["hindsight"]["positions_not_decided"] == 0  # no reference: nothing read
    said = " ".join(uncertainty_sentences(tell(result, {})))
    assert ("With hindsight, which services run is not decided in 2 of the 2 draws where "
            "pooled and ring_fenced both have a plan") in said
    assert "so no agency's committed position is read as better or worse off" in said
    # the roll-up's draws: the place's objectives add up, its kinds of agency do not
    from optimiser.rollup.draws import draws_sentences, rollup_draws
    from optimiser.rollup.totals import roll_up

    national = rollup_draws(roll_up({"wards": result}))
    assert national is not None
    entry = national["objectives"]["net_benefit"]
    assert entry["places"] == ["wards"] and entry["positions_left_out"] == ["wards"]
    assert entry["agency_kinds"] == {} and entry["p_pooling_pays"] == 1.0
    assert draws_sentences(national)[-1] == (
        "Kinds of agency worse off are over the places whose positions are decided: which "
        "services run is not decided in wards.")


def test_agreement_payments_are_marked_not_decided(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # whose_ward with a 50/50 risk share on the pooled plan, above the lowered limit: rule
    # 2c's first block runs ward_a in 2010-2021 and the plan found runs ward_b in 2022, so
    # (each ward saving its partner 1,500 for 650 of each partner's money a year) NHS
    # 12 * 1,500 - 13 * 650 = 9,550, council 1,500 - 13 * 650 = -6,950 against
    # ring-fenced (0 each); S = 2,600, each ends at 1,300: the NHS pays the council 8,250.
    # Ward_b every year would reverse who pays, so the agreement's words say the payments
    # are not decided.
    import optimiser.solving.highs as highs
    from optimiser.reports.story import agreement_sentences, tell

    monkeypatch.setattr(highs, "SWITCH_LIMIT", 25)
    instance = whose_ward()
    instance["scenarios"]["pooled"]["agreement"] = {"risk_share": {"nhs": 0.5, "council": 0.5}}
    result = ran(instance, tmp_path / "shared.yaml")
    pooled = result.scenario("pooled")
    assert pooled.extra["mip"]["services_decided"] is False
    assert pooled.extra["services"]["ward_b"]["runs"] == [False] * 12 + [True]
    assert pooled.agencies.set_index("agency")["position"].to_dict() == {
        "nhs": pytest.approx(9550.0, rel=1e-9), "council": pytest.approx(-6950.0, rel=1e-9)}
    paid = pooled.transfers
    assert len(paid) == 1 and (paid.iloc[0]["from"], paid.iloc[0]["to"]) == ("nhs", "council")
    assert paid.iloc[0]["amount"] == pytest.approx(8250.0, rel=1e-9)
    said = agreement_sentences(tell(result, {}), "pooled")
    assert said[0].startswith("pooled's agreement is a risk share")
    assert said[-1] == (
        "What pooled's agreement moves is not decided: which services run is not decided in "
        "pooled, so equally good sets of services could change each partner's position and "
        "so the payments, which are shown as the set of services found leaves them.")
    assert agreement_sentences(tell(result, {}), "ring_fenced") == []
