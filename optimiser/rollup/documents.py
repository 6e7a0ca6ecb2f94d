"""The national roll-up's own report.html, report.xlsx and summary.md, beside its results.json.

All three tell one story (optimiser.rollup.story). On the page, every number carries
`data-value` and `data-src` as on a place's page (optimiser.reports.page): '/'-paths into the
roll-up's results.json joined by ' + ' and ' - '; a path that starts `places/<stem>/`
continues in the results.json that `places/<stem>` names (that place's own). Each place
links to its own report.html.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pandas as pd
import xlsxwriter

from optimiser import __version__
from optimiser.reports import charts
from optimiser.reports.markdown import table
from optimiser.reports.page import (
    card,
    esc,
    figure,
    figure_block,
    footer_block,
    html_page,
    per_scenario_head,
)
from optimiser.reports.story import count
from optimiser.reports.workbook import CREATED, Column, Sheet, make_formats
from optimiser.rollup.charts import rollup_kinds_chart, rollup_places_chart
from optimiser.rollup.story import (
    OBJECTIVE_NAMES,
    RollupStory,
    kind_change_text,
    leading_outcomes,
    lent,
    not_optimal,
    places_cell,
    tell_rollup,
)
from optimiser.rollup.totals import POOLED, RING_FENCED, Rollup, left_out_sentences
from optimiser.safe import md_link, md_text, url_segment


def write_rollup_documents(rollup: Rollup, folder: Path) -> None:
    """report.html, report.xlsx and summary.md of the roll-up, into `folder`."""
    story = tell_rollup(rollup)
    (folder / "report.html").write_text(rollup_page(story), encoding="utf-8")
    write_rollup_workbook(story, folder / "report.xlsx")
    (folder / "summary.md").write_text(rollup_summary(story), encoding="utf-8")


def title(story: RollupStory) -> str:
    """'National roll-up of 7 places'."""
    n = len(story.rollup.places)
    return f"National roll-up of {n} place{'s' if n != 1 else ''}"


def sentences(story: RollupStory) -> list[str]:
    """The Treasury's sentences (results.json's headline), then what they leave out."""
    said = list(story.document["headline"])
    for name in story.shared:
        entry = story.document["scenarios"][name]
        if entry["missing"]:
            said.append(f"{name} is not a scenario of {', '.join(entry['missing'])}: its "
                        "totals leave those places out.")
    if not story.single.empty:
        said.append("Scenarios only one place ran are not added up: "
                    + ", ".join(f"{r.own} ({r.place})" for r in story.single.itertuples()) + ".")
    said += not_optimal(story)
    return said + left_out_sentences(story.rollup)


# ------------------------------------------------------------------------------ the page


def rollup_page(story: RollupStory) -> str:
    """The whole page."""
    meta = (f"{esc(story.currency)} at constant prices &middot; present values at each "
            "place's own discount rate over its own horizon &middot; outcomes a year")
    sections = [headline_section(story), brief_section(story), places_section(story),
                totals_section(story), kinds_section(story), outcomes_section(story),
                method_section(story)]
    return html_page(f"{title(story)}: pooled against ring-fenced budgets",
                     "Budget pooling appraisal: national roll-up", title(story), meta,
                     sections, footer_block(provenance(story)), LINKS)


LINKS = "a { color: var(--navy); text-underline-offset: .15em; } a:hover { color: var(--ink); }"
"""The page's links to each place's report."""


def headline_section(story: RollupStory) -> str:
    """The Treasury's sentence and its key figures: the gain, the outcomes most places share."""
    cards = []
    totals = story.totals[story.totals["scenario"] == POOLED]
    compared = story.document["scenarios"].get(POOLED, {}).get("compared_with_ring_fenced", [])
    who = (f"these {len(compared)} places" if len(compared) == len(story.rollup.places)
           else f"the {len(compared)} places with both plans")
    for row in totals.dropna(subset=["objective_change"]).itertuples(index=False):
        kind, change = row.objective_kind, row.objective_change
        base = totals_value(story, RING_FENCED, kind)
        shown = (("+" if change >= 0.5 else "") + story.money(change) if kind != "outcomes"
                 else f"{change:+,.1f}")
        cards.append(card(
            CARD_LABELS[kind].format(who=who),
            figure(change, shown, f"{row.src}/vs_ring_fenced/objective/{kind}", tag="div",
                   css="big"),
            f"{story.objective_text(base, kind)} ring-fenced, "
            f"{story.objective_text(row.objective, kind)} pooled, over {len(compared)} "
            "places"))
    pooled = story.outcomes[story.outcomes["scenario"] == POOLED].set_index("outcome",
                                                                             drop=False)
    for row in pooled.loc[leading_outcomes(story.outcomes, POOLED)].itertuples(index=False):
        cards.append(card(
            f"{row.name} a year",
            figure(row.change, f"{row.change:+,.0f}",
                   f"rollup/scenarios/{POOLED}/vs_ring_fenced/outcomes/{row.outcome}",
                   tag="div", css="big"),
            f"added over the {row.places} places that count it"))
    return (f'<section id="headline"><p class="lead">{esc(story.lead)}</p>'
            f'<div class="cards">{"".join(cards)}</div></section>')


CARD_LABELS = {"net_benefit": "Net benefit added if {who} pooled (PV)",
               "cost": "Change in cost if {who} pooled (PV)",
               "outcomes": "Weighted outcomes added if {who} pooled (PV)"}


def better(change: float | None, kind: str) -> str:
    """' gain' or ' loss' (the page's colours) for a change in an objective of `kind`."""
    if change is None or pd.isna(change) or abs(change) < 0.5:
        return ""
    return " gain" if (change < 0) == (kind == "cost") else " loss"


def totals_value(story: RollupStory, scenario: str, kind: str) -> float | None:
    """A scenario's objective total of one kind (None when no place ran it)."""
    return story.document["scenarios"].get(scenario, {}).get("objective", {}).get(kind)


def brief_section(story: RollupStory) -> str:
    """Every scenario's sentence, and what the totals leave out."""
    items = "".join(f"<li>{esc(s)}</li>" for s in sentences(story))
    return f'<section id="brief"><h2>In brief</h2><ul class="brief">{items}</ul></section>'


def places_section(story: RollupStory) -> str:
    """Each place: its objective ring-fenced and pooled, the gain, a link to its report."""
    mixed = story.places["objective_kind"].nunique() > 1
    rows = []
    for r in story.places.to_dict("records"):
        base = f"places/{r['place']}/scenarios"
        kind = r["objective_kind"]
        ring = f"{base}/{r['ring_fenced']}/objective"
        pooled = f"{base}/{r['pooled']}/objective"
        rows.append(
            f'<tr><td><a href="{url_segment(r["place"])}/report.html"><strong>{esc(r["name"])}'
            f'</strong></a><span class="sub">{esc(r["headline"])}</span></td>'
            + (f"<td>{esc(kind.replace('_', ' '))}</td>" if mixed else "")
            + f"<td class=num>{r['solved']} of {r['scenarios']}</td>"
            + figure(r["ring_fenced_value"],
                     story.objective_text(r["ring_fenced_value"], kind, full=True), ring)
            + figure(r["pooled_value"], story.objective_text(r["pooled_value"], kind,
                                                             full=True), pooled)
            + figure(r["gain"], story.objective_text(r["gain"], kind, full=True),
                     f"{pooled} - {ring}", css="num" + better(r["gain"], kind))
            + "</tr>")
    unit = "" if mixed else f"<br>{esc(story.places['objective_kind'].iloc[0].replace('_', ' '))}"
    head = ("<tr><th>Place (its own report)</th>" + ("<th>Objective</th>" if mixed else "")
            + f"<th class=num>Scenarios solved</th><th class=num>{RING_FENCED}{unit}</th>"
            f"<th class=num>{POOLED}{unit}</th><th class=num>Gain</th></tr>")
    svg = charts.svg(lambda: rollup_places_chart(story), "places")
    return ('<section id="places"><h2>The places</h2>'
            + figure_block("places", svg, "Each place's objective (present value) with its "
                           "budgets ring-fenced and pooled, as its own report gives it.")
            + f'<table id="places-table"><thead>{head}</thead><tbody>{"".join(rows)}'
            "</tbody></table>"
            '<p class="note">Each place links to its own report, with every figure behind '
            "these.</p></section>")


def totals_section(story: RollupStory) -> str:
    """Every scenario two or more places ran: its totals, and the change against
    ring-fenced; the scenarios only one place ran."""
    rows = []
    first = ~story.totals["scenario"].duplicated()
    for r, once in zip(story.totals.to_dict("records"), first, strict=True):
        kind, src = r["objective_kind"], r["src"]
        money_cells = ("".join(figure(r[k], story.full(r[k]), f"{src}/{k}")
                               for k in ("spend", "savings", "net")) if once
                       else "<td></td>" * 3)
        rows.append(
            f"<tr><td><strong>{esc(r['scenario'])}</strong></td>"
            f"<td class=num>{places_cell(r['places'], r['of'], r['positions'])}</td>"
            + figure(r["objective"], story.objective_text(r["objective"], kind, full=True),
                     f"{src}/objective/{kind}")
            + figure(r["objective_change"],
                     story.objective_text(r["objective_change"], kind, full=True),
                     f"{src}/vs_ring_fenced/objective/{kind}")
            + money_cells + "</tr>")
    kinds = set(story.totals["objective_kind"])
    named = OBJECTIVE_NAMES[next(iter(kinds))] if len(kinds) == 1 else "Objective"
    head = ("<tr><th>Scenario</th><th class=num>Places</th>"
            f"<th class=num>{esc(named)} (PV)</th><th class=num>Change against "
            f"{RING_FENCED}</th><th class=num>Spend (PV)</th><th class=num>Savings (PV)</th>"
            "<th class=num>Savings less spend (PV)</th></tr>")
    single = ""
    if not story.single.empty:
        cells = "".join(
            f"<tr><td>{esc(r.place)}</td><td>{esc(r.own)}</td>"
            + figure(r.objective, story.objective_text(r.objective, r.objective_kind, True),
                     f"rollup/scenarios/{r.scenario}/objective/{r.objective_kind}")
            + figure(r.objective_change,
                     story.objective_text(r.objective_change, r.objective_kind, True),
                     f"rollup/scenarios/{r.scenario}/vs_ring_fenced/objective/"
                     f"{r.objective_kind}")
            + "</tr>" for r in story.single.itertuples(index=False))
        single = ("<details><summary>Scenarios only one place ran "
                  f"({len(story.single)})</summary><table id=\"single-table\"><thead><tr>"
                  "<th>Place</th><th>Scenario</th><th class=num>Objective (PV)</th>"
                  f"<th class=num>Change against {RING_FENCED}</th></tr></thead>"
                  f"<tbody>{cells}</tbody></table></details>")
    if story.totals.empty:
        return ""
    return ('<section id="totals"><h2>Added up</h2><p>Each scenario that two or more places '
            "ran, added over the places that ran it; the change is added over the places "
            f"that also have a {RING_FENCED} plan.</p>"
            f'<table id="totals-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            f"</table>{single}</section>")


def kinds_section(story: RollupStory) -> str:
    """Net positions by kind of agency: ring-fenced, and each scenario's change."""
    kinds = story.kinds
    if kinds.empty:
        return ""
    names = [n for n in story.shared if n != RING_FENCED]
    wide = kinds.set_index(["kind", "scenario"])
    order = kinds.drop_duplicates("kind").sort_values("name", kind="mergesort")
    rows = []
    for r in order.itertuples(index=False):
        cells = []
        if (r.kind, RING_FENCED) in wide.index:
            net = wide.loc[(r.kind, RING_FENCED), "net"]
            cells.append(figure(net, story.full(net), f"rollup/scenarios/{RING_FENCED}/"
                                f"agency_kinds/{r.kind}/net"))
        else:
            cells.append('<td class="num">-</td>')
        for n in names:
            change = wide["change"].get((r.kind, n))
            reads = wide["reads"].get((r.kind, n))
            tone = "" if reads == "either" else better(change, "net_benefit")
            shown = "-" if change is None or pd.isna(change) else kind_change_text(
                story, change, wide["change_min"].get((r.kind, n)),
                wide["change_max"].get((r.kind, n)), reads)
            cells.append(figure(change, shown, f"rollup/scenarios/{n}/vs_ring_fenced/"
                                f"agency_kinds/{r.kind}/net", css=f"num{tone}"))
        rows.append(f"<tr><td>{esc(r.name)}</td>{''.join(cells)}</tr>")
    last = "".join(f"<th class=num>Change, {esc(n)}</th>" for n in names)
    svg = charts.svg(lambda: rollup_kinds_chart(story), "kinds")
    return ('<section id="kinds"><h2>Gains and losses by kind of agency</h2>'
            + figure_block("kinds", svg, "Each kind of agency's change in net position "
                           "(present value of savings less spend, plus transfers) against "
                           f"{RING_FENCED}, added over the places with both plans.")
            + '<table id="kinds-table">'
            + per_scenario_head("Kind of agency (net position, PV)", [RING_FENCED], last)
            + f"<tbody>{''.join(rows)}</tbody></table>"
            '<p class="note">An agency without a <code>kind</code> in its instance is counted '
            "as unclassified.</p></section>")


def outcomes_section(story: RollupStory) -> str:
    """Outcomes a year, added up where places share the id; the rest per place."""
    shared, unshared = story.outcomes, story.unshared
    if shared.empty and unshared.empty:
        return ""
    parts = []
    if not shared.empty:
        names = list(dict.fromkeys(shared["scenario"]))
        wide = shared.set_index(["outcome", "scenario"])
        rows = []
        for r in shared.drop_duplicates("outcome").itertuples(index=False):
            cells = [f"<td class=num>{r.places}</td>"]
            for n in names:
                value = wide["value"].get((r.outcome, n))
                cells.append(figure(value, "-" if value is None else count(value),
                                    f"rollup/scenarios/{n}/outcomes/{r.outcome}"))
            change = wide["change"].get((r.outcome, POOLED))
            if POOLED in names:
                shown = "-" if change is None or pd.isna(change) else f"{change:+,.0f}"
                cells.append(figure(change, shown, f"rollup/scenarios/{POOLED}/vs_ring_fenced/"
                                    f"outcomes/{r.outcome}"))
            rows.append(f"<tr><td>{esc(r.name)}<span class=\"sub\"><code>{esc(r.outcome)}"
                        f"</code></span></td>{''.join(cells)}</tr>")
        last = (f"<th class=num>Change, {POOLED}</th>" if POOLED in names else "")
        parts.append('<table id="outcomes-table">'
                     + per_scenario_head("Outcome (a year)", ["Places", *names], last)
                     + f"<tbody>{''.join(rows)}</tbody></table>")
    if not unshared.empty:
        rows = [f"<tr><td>{esc(r.place)}</td><td>{esc(r.name)}</td><td>{esc(r.scenario)}</td>"
                + figure(r.value, count(r.value),
                         f"rollup/outcomes_by_place/{r.place}/{r.scenario}/{r.outcome}")
                + "</tr>" for r in unshared.itertuples(index=False)]
        parts.append("<details><summary>Outcomes only one place counts "
                     f"({unshared['outcome'].nunique()})</summary>"
                     '<table id="unshared-table"><thead><tr><th>Place</th><th>Outcome</th>'
                     "<th>Scenario</th><th class=num>A year</th></tr></thead>"
                     f"<tbody>{''.join(rows)}</tbody></table></details>")
    return ('<section id="outcomes"><h2>Outcomes a year</h2><p>Effective outcomes a year '
            "(the mean over each place's plan), added up where two or more places count an "
            "outcome under the same id.</p>" + "".join(parts) + "</section>")


def method_section(story: RollupStory) -> str:
    """How the places add up."""
    doc = story.document
    notes = [f"Money: {doc['money']}.", f"Outcomes: {doc['outcomes']}.",
             "Scenarios are matched by name. A place without a ring_fenced scenario lends its "
             "reference scenario (the first without pooling) to that name, and one without "
             "pooled its first fully pooled scenario."]
    said = lent(story)
    if said:
        notes.append("Here: " + "; ".join(said) + ".")
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f'<section id="method"><h2>How the places add up</h2><ul>{items}</ul></section>'


def provenance(story: RollupStory) -> list[tuple[str, str]]:
    """The tool's version and each place's file and SHA-256."""
    items = [("optimise version", __version__), ("Python version", platform.python_version())]
    items += [(f"{r.file}", r.sha256) for r in story.places.itertuples(index=False)]
    return items


# --------------------------------------------------------------------------- the workbook


def write_rollup_workbook(story: RollupStory, path: Path) -> None:
    """report.xlsx: Summary (the sentences and the totals), Places, Agency kinds, Outcomes,
    Roll-up (rollup.csv's long table) and Provenance; the same figures give the same bytes."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})
    book.set_properties({"title": title(story), "author": "optimise", "created": CREATED})
    formats = make_formats(book, story.currency)
    objective = ("money" if set(story.places["objective_kind"]) <= {"net_benefit", "cost"}
                 else "number")

    sheet = Sheet(book.add_worksheet("Summary"), formats)
    sheet.cell(0, 0, title(story), "title", fit=False)
    sheet.cell(1, 0, story.lead, "headline", fit=False)
    said = sentences(story)
    for n, line in enumerate(said):
        sheet.cell(2 + n, 0, line, "prose", fit=False)
    row = len(said) + 3
    sheet.cell(row, 0, "Added up: each scenario two or more places ran (PV)", "heading",
               fit=False)
    sheet.table(row + 1, story.totals, [
        Column("Scenario", "scenario"), Column("Places", "places", "int"),
        Column("Of", "of", "int"), Column("Objective", "objective_kind"),
        Column("Total", "objective", objective),
        Column(f"Change against {RING_FENCED}", "objective_change", objective),
        Column("Spend", "spend", "money"), Column("Savings", "savings", "money"),
        Column("Savings less spend", "net", "money")])
    sheet.finish(2)

    sheet = Sheet(book.add_worksheet("Places"), formats)
    sheet.table(0, story.places, [
        Column("Place", "place"), Column("Name", "name"), Column("Objective", "objective_kind"),
        Column("Scenarios solved", "solved", "int"), Column("Scenarios", "scenarios", "int"),
        Column(f"Its {RING_FENCED}", "ring_fenced"), Column(f"Its {POOLED}", "pooled"),
        Column(f"Objective, {RING_FENCED}", "ring_fenced_value", objective),
        Column(f"Objective, {POOLED}", "pooled_value", objective),
        Column("Gain", "gain", objective), Column("Its report", "place"),
        Column("Headline", "headline")])
    link = book.add_format({"font_color": "#1F3B73", "underline": 1})
    for n, stem in enumerate(story.places["place"]):  # a link, relative, never a formula
        sheet.sheet.write_url(n + 1, 10, f"external:{url_segment(stem)}/report.html", link,
                              "report.html")
    sheet.finish(1, 2)

    for name, frame, columns in (
        ("Agency kinds", story.kinds, [
            Column("Scenario", "scenario"), Column("Kind", "kind"), Column("Name", "name"),
            Column("Spend", "spend", "money"), Column("Savings", "savings", "money"),
            Column("Net", "net", "money"),
            Column(f"Net, change against {RING_FENCED}", "change", "money"),
            Column("Least change", "change_min", "money"),
            Column("Greatest change", "change_max", "money")]),
        ("Outcomes", pd.concat([story.outcomes.assign(place="TOTAL"),
                                story.unshared.assign(places=1)], ignore_index=True), [
            Column("Scenario", "scenario"), Column("Place", "place"),
            Column("Outcome", "outcome"), Column("Name", "name"),
            Column("Places", "places", "int"), Column("A year", "value", "count"),
            Column(f"Change against {RING_FENCED}", "change", "count")]),
        ("Roll-up", story.rollup.table, [
            Column("Scenario", "scenario"), Column("Place", "place"),
            Column("Measure", "measure"), Column("Item", "item"),
            Column("Places", "places", "int"), Column("Value", "value", "number"),
            Column(f"Change against {RING_FENCED}", "vs_ring_fenced", "number")]),
    ):
        sheet = Sheet(book.add_worksheet(name), formats)
        sheet.table(0, frame, columns)
        sheet.finish(1)

    sheet = Sheet(book.add_worksheet("Provenance"), formats)
    items = pd.DataFrame(provenance(story), columns=["item", "value"])
    sheet.table(0, items, [Column("Item", "item"), Column("Value", "value")])
    sheet.finish(1)
    book.close()


# ------------------------------------------------------------------------- the summary


def rollup_summary(story: RollupStory) -> str:
    """summary.md: the Treasury's sentence, the totals, kinds of agency, outcomes, places."""
    parts = [f"# {md_text(title(story))}", f"**{md_text(story.lead)}**",
             "\n".join(f"- {md_text(s)}" for s in sentences(story))]
    if not story.totals.empty:
        first = ~story.totals["scenario"].duplicated()
        rows = [[r.scenario, places_cell(r.places, r.of, r.positions), r.objective_kind,
                 story.objective_text(r.objective, r.objective_kind, True),
                 story.objective_text(r.objective_change, r.objective_kind, True),
                 *((story.full(r.spend), story.full(r.savings), story.full(r.net)) if once
                   else ("", "", ""))]
                for r, once in zip(story.totals.itertuples(index=False), first, strict=True)]
        parts += ["## Added up (present value)",
                  table(["Scenario", "Places", "Objective", "Total",
                         f"Change against {RING_FENCED}", "Spend", "Savings",
                         "Savings less spend"], rows, right_from=3)]
    changes = story.kinds[story.kinds["scenario"] == POOLED].dropna(subset=["change"])
    if not changes.empty:
        ring = story.kinds[story.kinds["scenario"] == RING_FENCED].set_index("kind")["net"]
        rows = [[r.name, story.full(ring.get(r.kind)), story.full(r.net),
                 kind_change_text(story, r.change, r.change_min, r.change_max, r.reads)]
                for r in changes.sort_values("change", ascending=False,
                                             kind="mergesort").itertuples(index=False)]
        parts += [f"## Gains and losses by kind of agency ({POOLED} against {RING_FENCED})",
                  table(["Kind of agency", f"{RING_FENCED} (PV)", f"{POOLED} (PV)", "Change"],
                        rows)]
    outcomes = story.outcomes[story.outcomes["scenario"] == POOLED]
    if not outcomes.empty:
        rows = [[r.name, r.places, "-" if pd.isna(r.change) else f"{r.change:+,.0f}",
                 count(r.value)] for r in outcomes.itertuples(index=False)]
        parts += ["## Outcomes a year, added up where places share them",
                  table(["Outcome", "Places", f"Change, {POOLED}", f"{POOLED} a year"], rows)]
    rows = [[md_link(r.name, r.place, "report.html"), r.objective_kind,
             story.objective_text(r.ring_fenced_value, r.objective_kind, True),
             story.objective_text(r.pooled_value, r.objective_kind, True),
             story.objective_text(r.gain, r.objective_kind, True)]
            for r in story.places.itertuples(index=False)]
    parts += ["## The places", table(["Place", "Objective", RING_FENCED, POOLED, "Gain"], rows,
                                     right_from=2),
              f"_Produced by optimise {__version__}; every figure is in results.json, each "
              "place's in its own folder._"]
    return "\n\n".join(parts) + "\n"
