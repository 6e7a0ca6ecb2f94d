"""Every shipped place is a test: it solves, it agrees with the independent reference
solver, and its headline behaves as its story says (instances/README.md). Then the
national roll-ups: the seven 2010 pilots (instances/*.yaml) and, apart from them, the
current Better Care Fund places (instances/bcf/*.yaml): their totals are the sums of
the places, and the command's contract.

Each place is solved once (module fixture) and shared by every test here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlsxwriter
import yaml
from positions import check_markdown, check_page, check_workbook, markdown_tables, positions
from reference import check_account, check_plan, load_instance, positions_of, solve_reference
from reference_milp import check_extended_plan, objective_of_plan, solve_milp_reference

from optimiser.pipeline import RunResult, run
from optimiser.reports.markdown import gainers
from optimiser.reports.page import compared_table
from optimiser.reports.story import compared_scenarios
from optimiser.reports.workbook import make_formats, positions_sheet
from optimiser.reports.write import results_document, story_of
from optimiser.rollup.totals import TOTAL, headline, roll_up, rollup_document

REPO = Path(__file__).resolve().parents[1]
PILOTS = sorted((REPO / "instances").glob("*.yaml"))
"""The seven 2010 Total Place pilots."""
CURRENT = sorted((REPO / "instances" / "bcf").glob("*.yaml"))
"""Today's Better Care Fund places (2025-26 to 2028-29), kept apart from the pilots."""
PLACES = {p.relative_to(REPO / "instances").with_suffix("").as_posix(): p
          for p in [*PILOTS, *CURRENT]}
"""'croydon' (the 2010 pilot) or 'bcf/croydon' (today's place) -> its file."""
STEMS = list(PLACES)
LIBRARY = REPO / "instances" / "figures" / "unit-costs.yaml"
"""The one library of unit costs and prices every shipped place draws on by name."""

# What each place's story says (instances/README.md and the comment at the top of each
# file): pooling gains; these agencies end worse off pooled than ring-fenced (`lose`)
# and these better off (`gain`). Only agencies the story names are checked.
STORIES: dict[str, dict[str, list[str]]] = {
    "bournemouth-dorset-poole": {
        "lose": ["acute", "dorset_cc", "bournemouth_bc", "poole_bc", "dorset_fire"],
        "gain": ["dorset_pct", "bp_pct"],
    },
    "leicester-leicestershire": {"lose": ["uhl"], "gain": ["emas"]},
    "croydon": {"lose": ["nhs_croydon", "croydon_hospital"],
                "gain": ["croydon_council", "jcp", "slam"]},
    "south-tyneside-gateshead-sunderland": {
        "lose": ["acute", "police", "south_tyneside", "gateshead", "sunderland"],
        "gain": ["pcts", "neas", "probation"],
    },
    "bradford": {"lose": ["bradford_mdc", "pct"], "gain": ["acute", "noms", "jcp"]},
    "birmingham": {"lose": ["acute", "pcts", "police", "fire", "probation"],
                   "gain": ["bcc", "wmas", "jcp"]},
    "worcestershire": {"lose": ["jcp", "worcs_cc"], "gain": ["pct", "police"]},
    # Today's places (instances/bcf/): under the NHS Payment Scheme the acute trust that
    # lost in 2010 gains; the commissioner pays. Only claims that hold whichever stream
    # the rules pick to pay (README "Figures chosen by rule": each named position's
    # range lies on one side of its reference): "a+b" is two agencies' nets together
    # where which of the two pays is the rule's choice (services fenced to both).
    "bcf/leicestershire": {"lose": ["llr_icb"], "gain": ["uhl", "leics_cc"]},
    "bcf/bradford": {"lose": ["wy_icb+bradford_mdc"], "gain": ["acute", "yas"]},
    "bcf/croydon": {"lose": ["swl_icb+chs", "met_police", "lfb"], "gain": ["croydon_lbc"]},
}


@pytest.fixture(scope="module")
def solved() -> dict[str, RunResult]:
    """Every shipped place, solved once."""
    return {key: run(path) for key, path in PLACES.items()}


def pilots(solved: dict[str, RunResult]) -> dict[str, RunResult]:
    """The 2010 pilots only, by file stem: what `optimise instances/*.yaml` rolls up."""
    return {key: result for key, result in solved.items() if "/" not in key}


def current(solved: dict[str, RunResult]) -> dict[str, RunResult]:
    """Today's places only, by file stem: what `optimise instances/bcf/*.yaml` rolls up."""
    return {key.split("/")[-1]: result for key, result in solved.items()
            if key.startswith("bcf/")}


def _documents(solved: dict[str, RunResult]) -> dict[str, dict[str, Any]]:
    return {stem: results_document(result) for stem, result in solved.items()}


@pytest.mark.parametrize("stem", STEMS)
def test_account_is_its_definition(stem: str, solved: dict[str, RunResult]) -> None:
    """Every scenario's account and every agency's by-year cash, recomputed from the plan in
    results.json and the instance (tests/reference.py), to 1e-6 relative."""
    instance = load_instance(PLACES[stem])
    failures = [f"{name}: {problem}"
                for name, entry in results_document(solved[stem])["scenarios"].items()
                for problem in check_account(instance, name, entry)]
    assert not failures, "\n".join(failures)


def test_every_place_has_a_story() -> None:
    assert set(STORIES) == set(STEMS)
    assert len(PILOTS) == 7
    assert len(CURRENT) >= 3


EXTENDED = ("setup_cost", "min_scale", "tiers")
"""Fields that make a place a MILP (docs/contract.md, 'Set-up costs, diminishing returns and
carried-over money'): such a place is compared with the independent MILP (reference_milp.py)."""


def _is_extended(instance: dict[str, Any]) -> bool:
    return (any(f in body for body in instance["interventions"].values() for f in EXTENDED)
            or any(body.get("carry_over") for body in instance["streams"].values()))


@pytest.mark.parametrize("stem", STEMS)
def test_place_solves_and_agrees_with_the_reference(stem: str,
                                                    solved: dict[str, RunResult]) -> None:
    path = PLACES[stem]
    tool = results_document(solved[stem])["scenarios"]
    assert all(entry["status"] == "optimal" for entry in tool.values()), stem
    instance = load_instance(path)
    positions = {name: positions_of(entry) for name, entry in tool.items()}
    if _is_extended(instance):
        _agrees_with_the_milp_reference(instance, tool, positions)
        return
    reference = solve_reference(instance, reference_positions=positions)
    failures = []
    for name, want in reference.items():
        got = tool[name]
        assert want["status"] == "optimal", f"{stem} {name}: reference says {want['status']}"
        scale = max(1.0, abs(want["objective"]))
        if abs(got["objective"] - want["objective"]) > 1e-6 * scale:
            failures.append(f"{name}: objective {got['objective']}, reference {want['objective']}")
        ref_name = solved[stem].scenario(name).reference
        ref_entry = tool[ref_name] if instance["scenarios"][name].get("incentives") else None
        failures += [f"{name}: {p}" for p in check_plan(instance, name, got, 1e-6, ref_entry)]
    assert not failures, "\n".join(failures)


def _agrees_with_the_milp_reference(instance: dict[str, Any], tool: dict[str, Any],
                                    positions: dict[str, dict[str, float]]) -> None:
    """Statuses and objectives against scipy's MILP to 1e-6 relative (HiGHS proves its
    optimum), the reported objective that of the reported plan, every constraint kept."""
    assert _is_extended(instance)
    reference = solve_milp_reference(instance, reference_positions=positions)
    failures = []
    for name, want in reference.items():
        got = tool[name]
        assert want["status"] == "optimal", f"{name}: reference says {want['status']}"
        scale = max(1.0, abs(want["objective"]))
        if abs(got["objective"] - want["objective"]) > 1e-6 * scale:
            failures.append(f"{name}: objective {got['objective']}, reference {want['objective']}")
        mine = objective_of_plan(instance, name, got)
        if abs(mine - got["objective"]) > 1e-6 * scale:
            failures.append(f"{name}: reported objective {got['objective']}, its plan's {mine}")
        assert got["mip"]["proven_optimal"] if "mip" in got else True, name
        failures += [f"{name}: {p}" for p in check_extended_plan(instance, name, got)]
    assert not failures, "\n".join(failures)


def _net(result: RunResult, scenario: str) -> pd.Series:
    return result.scenario(scenario).agencies.set_index("agency")["net"]


def _of(net: pd.Series, agencies: str) -> float:
    """The net of one agency, or of several together written 'a+b'."""
    return float(sum(net[a] for a in agencies.split("+")))


@pytest.mark.parametrize("stem", STEMS)
def test_headline_behaves_as_the_story_says(stem: str, solved: dict[str, RunResult]) -> None:
    result = solved[stem]
    ring, pooled = result.scenario("ring_fenced"), result.scenario("pooled")
    assert pooled.objective > ring.objective + 1e5, "pooling should gain at least GBP 0.1m"
    before, after = _net(result, "ring_fenced"), _net(result, "pooled")
    story = STORIES[stem]
    for agency in story["lose"]:
        assert _of(after, agency) < _of(before, agency) - 1.0, f"{agency} should lose"
    for agency in story["gain"]:
        assert _of(after, agency) > _of(before, agency) + 1.0, f"{agency} should gain"
    fair = _net(result, "pooled_fair")
    slack = 1e-6 * max(1.0, before.abs().max())
    assert (fair >= before - slack).all(), "pooled_fair leaves some agency worse off"
    assert result.scenario("pooled_fair").objective >= ring.objective - slack


# The objectives the pilots gave before their shared prices became names of the library
# (the same numbers, written out), to 1e-9 relative. Bournemouth, Dorset and Poole has
# since gained set-up costs, tiers and carried-over money; its objectives before the
# library are checked without them in tests/test_figures.py.
PILOT_OBJECTIVES = {
    "birmingham": {
        "ring_fenced": -20072573.865281846, "pooled": -6458821.191608141,
        "pooled_fair": -6458821.191608141, "birmingham_budget": -6458821.191608141},
    "bradford": {
        "ring_fenced": 229791.19315677066, "pooled": 6211506.979496481,
        "pooled_fair": 6211506.97949648, "older_people_only": 4156004.1157182883},
    "croydon": {
        "ring_fenced": 643710.0407907865, "pooled": 1212350.9583278934,
        "pooled_fair": 1212350.9583278934, "health_and_council": 1212350.9583278934},
    "leicester-leicestershire": {
        "ring_fenced": 13871914.691475473, "pooled": 17039453.952211462,
        "pooled_fair": 16637325.578691443, "ptb_only": 16345609.170554355},
    "south-tyneside-gateshead-sunderland": {
        "ring_fenced": 8208956.803343318, "pooled": 9836080.65013502,
        "pooled_fair": 8850248.386718161, "joint_procurement": 12346279.601765512},
    "worcestershire": {
        "ring_fenced": -268470.7370743832, "pooled": 177574.67338765273,
        "pooled_fair": 81830.91447771934, "without_dwp": 111712.29502147262},
}


def test_pilots_keep_their_objectives_with_the_library(solved: dict[str, RunResult]) -> None:
    assert set(PILOT_OBJECTIVES) == set(pilots(solved)) - {"bournemouth-dorset-poole"}
    for stem, want in PILOT_OBJECTIVES.items():
        got = {s.name: s.objective for s in solved[stem].scenarios}
        assert got == pytest.approx(want, rel=1e-9), stem


def test_every_place_draws_on_the_library_by_name(solved: dict[str, RunResult]) -> None:
    """One library, cited: every shipped place names it in `figures_from` and uses its
    figures by name; every library figure says where it comes from or why."""
    library = yaml.safe_load(LIBRARY.read_text(encoding="utf-8"))["figures"]
    for name, entry in library.items():
        assert ("source" in entry) != ("assumption" in entry), name
        assert entry.get("unit"), name
    used: set[str] = set()
    for stem, result in solved.items():
        path = PLACES[stem]
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        drawn = [(path.parent / f).resolve() for f in data.get("figures_from") or []]
        assert LIBRARY.resolve() in drawn, stem
        names = {n for use in result.prepared.source.uses.values() for n in use.names}
        assert names & set(library), f"{stem} uses no figure of the library by name"
        used |= names
    # A figure no place uses by name is one another figure or a place's working rests on.
    texts = [str(e) for e in library.values()] + [p.read_text(encoding="utf-8")
                                                   for p in PLACES.values()]
    cited = {n for n in library for text in texts if re.search(rf"\b{n}\b", text)}
    unused = set(library) - used - cited
    held = {"qaly_threshold_nice", "ae_attendance_2025_26"}  # for a health-budget view, A&E
    assert unused == held, f"library figures nothing uses or cites: {sorted(unused - held)}"


@pytest.mark.parametrize("stem", [k for k in STORIES if k.startswith("bcf/")])
def test_current_stories_hold_whichever_stream_pays(stem: str,
                                                     solved: dict[str, RunResult]) -> None:
    """Each agency a current place's story names on its own loses (gains) under every plan
    the rules could have picked: its pooled range lies wholly below (above) its
    ring-fenced range (results.json position_min and position_max)."""
    scenarios = results_document(solved[stem])["scenarios"]
    ring, pooled = scenarios["ring_fenced"]["agencies"], scenarios["pooled"]["agencies"]
    story = STORIES[stem]
    for agency in (a for a in story["lose"] if "+" not in a):
        assert pooled[agency]["position_max"] < ring[agency]["position_min"] - 1.0, agency
    for agency in (a for a in story["gain"] if "+" not in a):
        assert pooled[agency]["position_min"] > ring[agency]["position_max"] + 1.0, agency


# Each current place's section 75 clause as its `section_75` scenario (the header's
# AGREEMENT): a risk share in the shares of the partners' in-scope contributions, or
# the 'no worse off' clause (gain_share).
SECTION_75: dict[str, dict[str, float] | str] = {
    "bcf/leicestershire": {"llr_icb": 0.5, "leics_cc": 0.5},
    "bcf/bradford": {"wy_icb": 0.375, "bradford_mdc": 0.625},
    "bcf/croydon": "gain_share",
}


@pytest.mark.parametrize("stem", list(SECTION_75))
def test_section_75_clause_shares_what_pooling_changes(stem: str,
                                                       solved: dict[str, RunResult]) -> None:
    """The agreement moves money, never the plan: the section_75 scenario buys the pooled
    plan (same objective). Risk share: each partner ends at its aligned (ring-fenced)
    position plus its share of the plan's cash surplus S = sum_a (P_a - Pref_a), every
    other agency at its aligned position. No worse off: no agency ends below its aligned
    position (S covers the losses here), and the money moved adds up to nothing."""
    scenarios = results_document(solved[stem])["scenarios"]
    assert scenarios["section_75"]["objective"] == pytest.approx(
        scenarios["pooled"]["objective"], rel=1e-9)
    ring = {a: e["net"] for a, e in scenarios["ring_fenced"]["agencies"].items()}
    plan = {a: e["net"] for a, e in scenarios["pooled"]["agencies"].items()}
    ends = {a: e["net"] for a, e in scenarios["section_75"]["agencies"].items()}
    surplus = sum(plan[a] - ring[a] for a in ring)
    tol = 1e-6 * max(abs(v) for v in ring.values())
    clause = SECTION_75[stem]
    if isinstance(clause, dict):
        for a in ring:
            assert ends[a] == pytest.approx(ring[a] + clause.get(a, 0.0) * surplus, abs=tol), a
    else:
        assert surplus > 0
        assert all(ends[a] >= ring[a] - tol for a in ring)
    assert sum(ends.values()) == pytest.approx(sum(plan.values()), abs=tol)


def test_agreement_surplus_is_one_decided_figure(solved: dict[str, RunResult]) -> None:
    """results.json states each agreement's surplus S and its range among equally good
    plans as decided figures, to 1e-6 of the scenario's largest spend or savings (the
    tolerance its decided_by_rule uses): S is exactly 0 or further from 0 than that, and
    the range is exactly the point [S, S] or wider than that. None of these places has
    two services equally good but one buying cash, so every range is the point. Today's
    Bradford's fair-shares scenario divides a surplus of zero, which the solver reads as
    -4e-8 between -4e-8 and +3e-8: results.json says 0 (and 0 to 0)."""
    checked = 0
    for stem, result in solved.items():
        for name, body in results_document(result)["scenarios"].items():
            agreed = body.get("agreement")
            if not agreed or agreed.get("surplus_min") is None:
                continue
            tol = 1e-6 * max([1.0] + [abs(f[k]) for f in body["agencies"].values()
                                      for k in ("spend", "savings")])
            surplus = agreed["surplus"]
            assert surplus == 0.0 or abs(surplus) > tol, (stem, name, surplus)
            assert agreed["surplus_min"] == surplus == agreed["surplus_max"], (stem, name)
            checked += 1
    assert checked >= 6
    fair = results_document(solved["bcf/bradford"])["scenarios"]["pooled_fair"]["agreement"]
    assert (fair["surplus_min"], fair["surplus"], fair["surplus_max"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("stem", list(SECTION_75))
def test_section_75_positions_in_the_documents(stem: str, solved: dict[str, RunResult],
                                               tmp_path: Path) -> None:
    """summary.md and report.xlsx (tests/positions.py) hold, for the section_75 scenario
    and the headline's, each agency's reference position, the change the plan leaves it,
    what the agreement moves and where it ends, as results.json has them, with each range
    among equally good plans, and never read a change whose range spans zero as a gain or
    a loss. Under a risk share every end is w_a S whatever the plan's split: no range."""
    result = solved[stem]
    doc = results_document(result)
    names = {a: spec.name or a for a, spec in result.instance.agencies.items()}
    # each document's who-gains part as its writer writes it (the whole documents are
    # checked on the small places in tests/test_reports.py and tests/test_positions.py)
    story = story_of(result)
    book = xlsxwriter.Workbook(str(tmp_path / "report.xlsx"))
    positions_sheet(story, book, make_formats(book, story.currency))
    book.close()
    summary = "\n\n".join(gainers(story))
    assert not check_workbook(tmp_path / "report.xlsx", doc)
    assert not check_markdown(summary, doc, names)
    assert "section_75" in markdown_tables(summary)
    tables = "".join(compared_table(story, n) for n in compared_scenarios(story))
    assert 'id="positions-section_75"' in tables
    assert not check_page(tables, doc)
    ends = [p for p in positions(doc) if p.scenario == "section_75"]
    if isinstance(SECTION_75[stem], dict):
        assert all(p.ends_high - p.ends_low <= 1e-6 * max(1.0, abs(p.ends)) for p in ends)
    # the plan's own ranges are the place's: some of them span zero (so the
    # documents have a 'could gain or lose' to write), none of the agreed ends do here
    assert any(p.plan_low < -1 and p.plan_high > 1 for p in ends)


def test_section_75_risk_share_turns_the_icb_round(solved: dict[str, RunResult]) -> None:
    """Leicestershire: the plan leaves the ICB worse off than aligned budgets and UHL
    better off; under the risk share UHL's gain goes to the partners (a reset of its
    fixed payment), and the ICB ends above its aligned position."""
    scenarios = results_document(solved["bcf/leicestershire"])["scenarios"]
    ring, pooled, s75 = (scenarios[n]["agencies"] for n in ("ring_fenced", "pooled",
                                                             "section_75"))
    assert pooled["llr_icb"]["net"] < ring["llr_icb"]["net"] < s75["llr_icb"]["net"]
    assert pooled["uhl"]["net"] > ring["uhl"]["net"]
    assert s75["uhl"]["net"] == pytest.approx(ring["uhl"]["net"], abs=1.0)


def test_bournemouth_acute_trusts_keep_their_floor(solved: dict[str, RunResult]) -> None:
    """The trusts' max_net_cost 0 holds in every scenario."""
    result = solved["bournemouth-dorset-poole"]
    for s in result.scenarios:
        assert _net(result, s.name)["acute"] >= -1e-6


def test_every_agency_has_a_kind_of_its_time(solved: dict[str, RunResult]) -> None:
    """Primary care trusts (abolished 2013) in the pilots only; integrated care boards
    (from July 2022) in today's places only."""
    for stem, result in solved.items():
        kinds = {a: spec.kind for a, spec in result.instance.agencies.items()}
        missing = [a for a, kind in kinds.items() if kind is None]
        assert not missing, f"{stem}: no kind for {missing}"
        of_other_time = {"pct"} if stem.startswith("bcf/") else {"icb"}
        assert not set(kinds.values()) & of_other_time, stem
    for stem, result in current(solved).items():
        assert "icb" in {spec.kind for spec in result.instance.agencies.values()}, stem


def test_birmingham_models_a_stated_share_of_its_count(solved: dict[str, RunResult]) -> None:
    """GBP 112m a year of the GBP 7.3bn counted, as its header says (about 1.5%)."""
    streams = solved["birmingham"].instance.streams.values()
    total = sum(float(s.budget) for s in streams)  # type: ignore[arg-type]
    assert total == pytest.approx(112e6)
    assert total / 7.3e9 == pytest.approx(0.015, abs=0.001)
    assert len(solved["birmingham"].instance.interventions) >= 25


# ----------------------------------------------------------------------------- roll-up


@pytest.mark.parametrize("which", ["pilots", "current"])
def test_rollup_totals_are_the_sums_of_the_places(which: str,
                                                  solved: dict[str, RunResult]) -> None:
    solved = pilots(solved) if which == "pilots" else current(solved)
    rollup = roll_up(solved)
    table = rollup.table
    places, totals = table[table["place"] != TOTAL], table[table["place"] == TOTAL]
    keys = ["scenario", "measure", "item"]
    summed = (places.groupby(keys)
              .agg(value_sum=("value", "sum"),
                   vs_ring_fenced_sum=("vs_ring_fenced", lambda v: v.sum(min_count=1)),
                   counted=("place", "nunique"))
              .reset_index())
    joined = totals.merge(summed, on=keys, how="left")
    assert len(joined) == len(totals)
    assert joined["value"].to_numpy() == pytest.approx(joined["value_sum"].to_numpy())
    both = joined["vs_ring_fenced"].notna()
    assert joined.loc[both, "vs_ring_fenced"].to_numpy() == pytest.approx(
        joined.loc[both, "vs_ring_fenced_sum"].to_numpy())
    assert (joined["places"] == joined["counted"]).all()
    # Against the places' own results, independently of the table:
    docs = _documents(solved)
    for scenario in ("ring_fenced", "pooled", "pooled_fair"):
        want = sum(d["scenarios"][scenario]["objective"] for d in docs.values())
        got = totals[(totals["scenario"] == scenario) & (totals["measure"] == "objective")]
        assert float(got["value"].sum()) == pytest.approx(want)
        spend = sum(a["spend"] for d in docs.values()
                    for a in d["scenarios"][scenario]["agencies"].values())
        got = totals[(totals["scenario"] == scenario) & (totals["measure"] == "spend")]
        assert float(got["value"].iloc[0]) == pytest.approx(spend)
    # Kinds: the councils' net is every council's net, summed.
    council = sum(a["net"] for stem, d in docs.items()
                  for name, a in d["scenarios"]["pooled"]["agencies"].items()
                  if solved[stem].instance.agencies[name].kind == "council")
    got = totals[(totals["scenario"] == "pooled") & (totals["measure"] == "kind_net")
                 & (totals["item"] == "council")]
    assert float(got["value"].iloc[0]) == pytest.approx(council)
    # Accounts: cash and valued outcomes added apart, returns recomputed from the sums.
    document = rollup_document(rollup)["scenarios"]
    for scenario in ("ring_fenced", "pooled"):
        account = document[scenario]["account"]
        for key in ("cost", "cash_savings", "cash_net", "outcome_value", "net_benefit"):
            want = sum(d["scenarios"][scenario]["account"][key] for d in docs.values())
            assert account[key] == pytest.approx(want), (scenario, key)
        assert account["financial_return"] == pytest.approx(
            account["cash_savings"] / account["cost"])
        assert account["outcome_value"] + account["cash_net"] == pytest.approx(
            account["net_benefit"])
    change = document["pooled"]["vs_ring_fenced"]["account"]
    assert change["cash_net"] == pytest.approx(
        document["pooled"]["account"]["cash_net"] - document["ring_fenced"]["account"]["cash_net"])


def test_rollup_adds_only_outcomes_that_share_an_id(solved: dict[str, RunResult]) -> None:
    solved = pilots(solved)
    rollup = roll_up(solved)
    table = rollup.table
    outcomes = table[table["measure"] == "outcome"]
    added = set(outcomes[outcomes["place"] == TOTAL]["item"])
    per_place = outcomes[outcomes["place"] != TOTAL].groupby("item")["place"].nunique()
    assert added == set(per_place[per_place >= 2].index)
    assert "admissions_avoided" in added  # five places avoid admissions
    mean_a_year = solved["croydon"].scenario("pooled").outcomes.groupby("outcome")[
        "achieved"].mean()["school_ready"]
    row = outcomes[(outcomes["place"] == "croydon") & (outcomes["scenario"] == "pooled")
                   & (outcomes["item"] == "school_ready")]
    assert float(row["value"].iloc[0]) == pytest.approx(mean_a_year)


def test_rollup_headline_reads_as_the_treasury_would(solved: dict[str, RunResult]) -> None:
    text = headline(roll_up(pilots(solved)))
    assert text[0].startswith("If these 7 places pooled: £")
    assert "more net benefit (PV)" in text[0]
    assert "admissions avoided a year" in text[0]
    assert "more in valued outcomes and" in text[0] and "net public cash (PV)" in text[0]
    assert "_" not in text[0].split(";")[0]  # outcomes by their names, not their ids
    assert all("took 'birmingham_budget'" not in line for line in text)  # one place only


def cli(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, check=False, timeout=300)


def _with_library(folder: Path) -> None:
    """The shared prices beside a copied instance, where its `figures_from` looks for them."""
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "figures" / "unit-costs.yaml").write_text(LIBRARY.read_text())


def test_rollup_invalid_place_exit_2_nothing_written(tmp_path: Path) -> None:
    _with_library(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "instances" / "croydon.yaml").read_text().replace(
        "kind: pct", "kind: primary_care_trust"))
    done = cli(REPO / "instances" / "worcestershire.yaml", bad, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr and "agencies.nhs_croydon.kind" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_rollup_infeasible_somewhere_exit_1(tmp_path: Path) -> None:
    done = cli(REPO / "tests" / "data" / "infeasible.yaml",
               REPO / "tests" / "data" / "ringfence_vs_pooled.yaml", "--out", tmp_path / "out")
    assert done.returncode == 1, done.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["rollup"]["scenarios"]["ring_fenced"]["not_optimal"]
    assert (tmp_path / "out" / "infeasible" / "results.json").is_file()


def test_rollup_refuses_two_files_with_one_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    _with_library(tmp_path / "a")
    copy = tmp_path / "a" / "croydon.yaml"
    copy.write_text((REPO / "instances" / "croydon.yaml").read_text())
    done = cli(REPO / "instances" / "croydon.yaml", copy, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "share the name croydon" in done.stderr
    assert not (tmp_path / "out").exists()
