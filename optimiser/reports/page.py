"""report.html: the story on one self-contained page (no network: inline CSS and SVG).

Every number on the page is a `data-value` attribute beside its formatted text,
with `data-src` naming where results.json holds it: '/'-separated paths (`*` for
every key or item at that level) joined by ' + ' and ' - '. Where a path holds
several figures (a wildcard, or a list a year), `data-op` says how the page
combined them (`sum` or `mean`). So a test, or a sceptical reader with a script,
can check every figure against results.json. Figures taken from the instance
itself (targets) carry `data-instance` instead; net benefit worked out for an
objective other than net_benefit carries `data-net-benefit` naming the scenario
(or 'pooled - baseline' for a difference) whose plan it was worked out from. A change
in an agency's position that equally good plans could move carries its range beneath it
as `data-low` and `data-high`.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pandas as pd

from optimiser.analyses.prices import price_sentences
from optimiser.reports import charts, gainsplot
from optimiser.reports.story import (
    AGREEMENT_NAMES,
    APPRAISAL,
    LIMIT_KINDS,
    LIMIT_WORDS,
    Story,
    account_text,
    agreement_kind,
    agreement_sentences,
    by_key,
    change_tolerance,
    compared_scenarios,
    count,
    discount_sentences,
    fair_share_notes,
    figure_name,
    focus_limits,
    gain_text,
    limits_focus,
    limits_sentences,
    missing,
    narrative,
    net_benefit_paragraph,
    picture_not_drawn,
    range_text,
    ranged,
    rate_name,
    reading,
    reads_as,
    robust_sentences,
    scenario_moves,
    share,
    signed_money,
    snap,
    uncertainty_sentences,
    unsettled_sentences,
    years,
)
from optimiser.reports.uncertaintyplot import MAX_BARS
from optimiser.safe import html_text

STYLE = """
:root { --ink:#1b1f24; --muted:#5f6b7a; --rule:#dfe3e8; --navy:#1f3b73; --soft:#f4f6f9;
  --gain:#1f7a6f; --loss:#b4442f; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Liberation Sans", sans-serif; }
.masthead { background: var(--navy); color: #fff; padding: 2.2rem 0 1.8rem; }
.wrap { max-width: 60rem; margin: 0 auto; padding: 0 1.5rem; }
.kicker { margin: 0; text-transform: uppercase; letter-spacing: .12em; font-size: .75rem;
  opacity: .8; }
h1 { margin: .3rem 0 .4rem; font-size: 2rem; line-height: 1.2; font-weight: 700; }
.meta { margin: 0; opacity: .85; font-size: .9rem; }
main { padding-bottom: 2rem; }
section { margin-top: 2.4rem; }
h2 { font-size: 1.3rem; color: var(--navy); margin: 0 0 .6rem; padding-bottom: .3rem;
  border-bottom: 2px solid var(--rule); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p, li { max-width: 46rem; }
.lead { font-size: 1.45rem; line-height: 1.35; font-weight: 650; margin: 1.6rem 0 1.2rem;
  max-width: 50rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
  gap: .9rem; }
.card { background: var(--soft); border-left: 4px solid var(--navy); padding: .8rem 1rem;
  border-radius: 0 6px 6px 0; }
.card .label { font-size: .8rem; color: var(--muted); text-transform: uppercase;
  letter-spacing: .05em; }
.card .big { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.card .from { font-size: .9rem; color: var(--muted); }
.brief li { margin: .3rem 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 .4rem; font-size: .9rem;
  font-variant-numeric: tabular-nums; }
th, td { padding: .45rem .6rem; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--rule); }
thead th { background: var(--soft); font-weight: 600; border-bottom: 2px solid #c9cfd6;
  font-size: .82rem; }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
td:first-child { min-width: 9rem; }
td .sub { display: block; color: var(--muted); font-size: .8rem; }
td.num .range { white-space: normal; font-size: .9em; }
.nb { white-space: nowrap; }
.gain { color: var(--gain); } .loss { color: var(--loss); }
.ruled::after { content: "*"; color: var(--muted); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .78rem;
  font-weight: 600; background: #e3f1ee; color: var(--gain); }
.badge.bad { background: #f7e4e0; color: var(--loss); }
figure { margin: .8rem 0 0; }
svg.chart { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
.note { color: var(--muted); font-size: .88rem; }
details summary { cursor: pointer; color: var(--navy); font-weight: 600; }
code { font-size: .85em; background: var(--soft); padding: 0 .25rem; border-radius: 3px; }
footer { border-top: 1px solid var(--rule); margin-top: 3rem; padding: 1.2rem 0 2rem;
  color: var(--muted); font-size: .82rem; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
footer dt { font-weight: 600; } footer dd { margin: 0; word-break: break-all; }
@page { size: A4 portrait; margin: 14mm 12mm; }
@page wide { size: A4 landscape; margin: 12mm; }
@media print {
  body { font-size: 9.5pt; line-height: 1.4; }
  .masthead { background: none; color: var(--ink); padding: 0 0 .6rem; }
  .wrap { max-width: none; padding: 0; }
  p, li { max-width: none; }
  .lead { font-size: 13pt; }
  .cards { grid-template-columns: repeat(3, 1fr); }
  .card .big { font-size: 14pt; }
  section { margin-top: 1.2rem; break-inside: auto; }
  h2, h3 { break-after: avoid; }
  .scroll { overflow: visible; }
  .scroll.wide { page: wide; }
  table { font-size: 7.5pt; width: 100%; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; }
  th, td { padding: 2px 4px; overflow-wrap: anywhere; }
  td.num { white-space: nowrap; }
  td:first-child { min-width: 0; }
  td.source, td code, code { white-space: normal; overflow-wrap: anywhere; word-break: break-word; }
  table.positions th, table.positions td { overflow-wrap: normal; }
  #limits-table th, #limits-table td { overflow-wrap: normal; }
  #limits-table td.source { overflow-wrap: anywhere; }
  svg.chart { max-height: 150mm; width: auto; max-width: 100%; }
  details > summary { list-style: none; }
  footer dd { word-break: break-all; }
  #assumptions-table { table-layout: fixed; }
  #assumptions-table col.line { width: 5%; } #assumptions-table col.figure { width: 25%; }
  #assumptions-table col.value { width: 13%; } #assumptions-table col.kind { width: 10%; }
  #assumptions-table col.note { width: 47%; }
}
"""
WIDE_COLUMNS = 7
"""A table with more columns than this prints on a landscape page (`@page wide`)."""


def esc(text: object) -> str:
    """Text for HTML (`optimiser.safe.html_text`)."""
    return html_text(text)


def figure(value: float | None, text: str, src: str = "", op: str = "", tag: str = "td",
           css: str = "num", instance: str = "", computed: str = "") -> str:
    """A number: its formatted text, its exact value and where results.json holds it."""
    if value is None or missing(value):
        return f'<{tag} class="{css}">-</{tag}>'
    attrs = f' data-value="{float(value)!r}"'
    attrs += f' data-src="{esc(src)}"' if src else ""
    attrs += f' data-op="{esc(op)}"' if op else ""
    attrs += f' data-instance="{esc(instance)}"' if instance else ""
    attrs += f' data-net-benefit="{esc(computed)}"' if computed else ""
    return f'<{tag} class="{css}"{attrs}>{esc(text)}</{tag}>'


def signed(story: Story, value: float, full: bool = False) -> str:
    """Money with a sign: +£1.2m, -£300 (whole units with `full`: +£1,234,567)."""
    return signed_money(story, value, full)


def write_page(story: Story, path: Path) -> None:
    """Write report.html for `story` at `path`."""
    path.write_text(page(story), encoding="utf-8")


def page(story: Story) -> str:
    """The whole page."""
    inst = story.instance
    sections = [headline_section(story), appraisal_section(story), brief_section(story),
                scenarios_section(story), allocation_section(story), outcomes_section(story),
                gains_section(story), cash_section(story), graph_section(story),
                uncertainty_section(story), robust_section(story), limits_section(story),
                discount_section(story), prices_section(story),
                settlement_section(story),
                rules_section(story), assumptions_section(story)]
    objective = inst.objective.replace("_", " ")
    meta = (f"{years(inst.years)} from {inst.start_year} &middot; objective: {esc(objective)}\n"
            f"&middot; {esc(inst.currency)} at constant prices &middot; present values "
            f"discounted at\n{inst.discount_rate:.1%} a year")
    return html_page(f"{inst.name}: pooled against ring-fenced budgets",
                     "Budget pooling appraisal", inst.name, meta, sections,
                     provenance_footer(story))


def html_page(title: str, kicker: str, heading: str, meta: str, sections: list[str],
              footer: str, style: str = "") -> str:
    """A self-contained page: the masthead (`meta` is HTML), the sections (wide tables
    scroll within the column) and the footer; `style` adds to the page's CSS."""
    body = "".join(s for s in sections if s)
    body = re.sub(r"<table .*?</table>", _scrolling, body, flags=re.S)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{STYLE}{style}</style>
</head>
<body>
<header class="masthead"><div class="wrap">
<p class="kicker">{esc(kicker)}</p>
<h1>{esc(heading)}</h1>
<p class="meta">{meta}</p>
</div></header>
<main class="wrap">
{body}
</main>
{footer}
</body>
</html>
"""


def _scrolling(found: re.Match[str]) -> str:
    """A table in a box that scrolls sideways on screen; one with more than WIDE_COLUMNS
    columns is marked wide, and prints on a landscape page."""
    table = found.group(0)
    head = table.split("</thead>", 1)[0] if "</thead>" in table else table.split("</tr>", 1)[0]
    wide = head.count("<th") > WIDE_COLUMNS or 'class="wide"' in table[:200]
    return f'<div class="scroll{" wide" if wide else ""}">{table}</div>'


def headline_section(story: Story) -> str:
    """The headline sentence and its key figures."""
    head = story.headline
    cards = []
    if head.net_benefit is not None:
        base, pool = head.baseline, head.pooled
        rows = story.scenarios.set_index("scenario")
        src = computed = ""
        if story.instance.objective == "net_benefit":
            src = f"scenarios/{pool}/objective - scenarios/{base}/objective"
        else:
            computed = f"{pool} - {base}"
        cards.append(card(
            "Net benefit added by pooling (PV)",
            figure(head.net_benefit, signed(story, head.net_benefit), src, tag="div",
                   css="big", computed=computed),
            f"{story.money(rows.loc[base, 'net_benefit'])} ring-fenced, "
            f"{story.money(rows.loc[pool, 'net_benefit'])} pooled"))
        for k, change in head.outcomes.items():
            cards.append(card(
                f"{story.name('outcomes', k)} a year",
                figure(change, ("+" if change > 0 else "") + count(change),
                       f"scenarios/{pool}/outcomes/{k} - scenarios/{base}/outcomes/{k}",
                       "mean", tag="div", css="big"),
                f"mean over the plan, {pool} against {base}"))
    cards += _uncertainty_card(story)
    return (f'<section id="headline"><p class="lead">{esc(head.sentence)}</p>'
            f'<div class="cards">{"".join(cards)}</div></section>')


def appraisal_section(story: Story) -> str:
    """The Green Book's appraisal of every scenario with a plan: costs, cashable savings,
    valued outcomes, net present social value, the two returns and the payback year."""
    names = optimal(story)
    if not names:
        return ""
    account = story.account.set_index("scenario")
    rows = []
    for label, key, kind in APPRAISAL:
        cells = [figure(account.loc[n, key], account_text(story, kind, account.loc[n, key]),
                        f"scenarios/{n}/account/{key}") for n in names]
        strong = key in ("cash_net", "net_benefit")
        shown = f"<strong>{esc(label)}</strong>" if strong else esc(label)
        rows.append(f"<tr><td>{shown}</td>{''.join(cells)}</tr>")
    return ('<section id="appraisal"><h2>The appraisal</h2>'
            '<p class="note">Present values at constant prices. Costs and cashable savings are '
            "public cash; valued outcomes are the instance's money values of what the plan "
            "achieves, which no budget receives.</p>"
            f'<table id="appraisal-table">{per_scenario_head("Green Book measure", names)}'
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p id="net-benefit-made-of">{esc(net_benefit_paragraph(story))}</p></section>')


def cash_section(story: Story) -> str:
    """Each agency's cash in each year of the plan (undiscounted), in the headline's two
    scenarios (every scenario's is in agencies_by_year.csv)."""
    head = story.headline
    names = [n for n in (head.baseline, head.pooled) if n in optimal(story)] or optimal(story)[:1]
    if not names or story.cash.empty:
        return ""
    first = story.instance.start_year
    year_list = list(range(first, first + story.instance.years))
    cash = story.cash  # each cell looked up in a dict: a frame's .loc per cell is slow
    keys = list(zip(cash["scenario"], cash["agency"], cash["year"], strict=True))
    parts = {part: dict(zip(keys, cash[part], strict=True)) for part in ("spend", "savings")}
    blocks = []
    for n in names:
        rows = []
        for a in story.instance.agencies:
            for part, word in (("spend", "spends"), ("savings", "saves")):
                cells = [figure(parts[part][(n, a, y)], story.full(parts[part][(n, a, y)]),
                                f"scenarios/{n}/agencies/{a}/by_year/{part}/{y - first}")
                         for y in year_list]
                rows.append(f"<tr><td>{esc(story.name('agencies', a))} {word}</td>"
                            f"{''.join(cells)}</tr>")
        blocks.append(f"<h3>{esc(n)}</h3>"
                      f'<table class="wide" id="cash-table-{esc(n)}">'
                      f"{per_scenario_head('Agency', [str(y) for y in year_list])}"
                      f"<tbody>{''.join(rows)}</tbody></table>")
    return ('<section id="cash" class="wide-section"><h2>Each agency\'s cash, year by year</h2>'
            "<p>Cash at constant prices, not discounted: what each agency's budgets spend "
            "and the cashable savings that reach it, in the year they arrive. Discounted, "
            "they add up to the present values above.</p>" + "".join(blocks) + "</section>")


def _uncertainty_card(story: Story) -> list[str]:
    """The share of draws in which the headline's pooled scenario beats its reference."""
    u, pooled = story.uncertainty, story.headline.pooled
    if u is None or pooled is None:
        return []
    row = u.spread.set_index("scenario").loc[pooled]
    p = row["p_beats_reference"]
    if pd.isna(p):
        return []
    return [card(f"Draws in which {pooled}'s committed plan beats {row['reference']}'s",
                  figure(p, share(p), f"uncertainty/{pooled}/committed/p_beats_reference",
                         tag="div", css="big"),
                  f"of {row['compared']:,} draws, each plan as committed at the central "
                  "figures")]


def card(label: str, big: str, sub: str) -> str:
    """A key figure: its label, the figure, and what it compares."""
    return (f'<div class="card"><div class="label">{esc(label)}</div>{big}'
            f'<div class="from">{esc(sub)}</div></div>')


def brief_section(story: Story) -> str:
    """The narrative, a sentence a line."""
    items = "".join(f"<li>{esc(s)}</li>" for s in narrative(story))
    return f'<section id="brief"><h2>In brief</h2><ul class="brief">{items}</ul></section>'


def scenarios_section(story: Story) -> str:
    """Every scenario: status, objective, spend, savings, net benefit, transfers."""
    rows = []
    net_src = story.instance.objective == "net_benefit"
    for r in story.scenarios.itertuples(index=False):
        ok = r.status == "optimal"
        badge = f'<span class="badge{"" if ok else " bad"}">{esc(r.status)}</span>'
        why = "" if ok else f'<span class="sub">{esc(r.message)}</span>'
        base = f"scenarios/{r.scenario}"
        rows.append(
            f"<tr><td><strong>{esc(r.scenario)}</strong>"
            f'<span class="sub">{esc(r.description)}</span></td><td>{badge}{why}</td>'
            + figure(r.objective, story.objective_text(r.objective, full=True), f"{base}/objective")
            + figure(r.spend, story.full(r.spend), f"{base}/agencies/*/spend", "sum")
            + figure(r.savings, story.full(r.savings), f"{base}/agencies/*/savings", "sum")
            + figure(r.net_benefit, story.full(r.net_benefit),
                     f"{base}/objective" if net_src else "",
                     computed="" if net_src else r.scenario)
            + figure(r.transferred, story.full(r.transferred), f"{base}/transfers/*/amount",
                     "sum")
            + "</tr>")
    head = ("<tr><th>Scenario</th><th>Status</th><th class=num>Objective</th>"
            "<th class=num>Spend (PV)</th><th class=num>Savings (PV)</th>"
            "<th class=num>Net benefit (PV)</th><th class=num>Transfers (PV)</th></tr>")
    note = ("" if net_src else '<p class="note">Net benefit is the present value of outcomes '
            "plus savings minus cost, worked out from each plan whatever its objective.</p>")
    return (f'<section id="scenarios"><h2>The scenarios</h2><table id="scenario-table">'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{note}"
            f"{diagnosis_table(story)}</section>")


MONEY_REQUIREMENTS = {"max_net_cost", "no_worse_off"}
"""Requirements measured in money (present value); the others count units or outcomes."""


def diagnosis_table(story: Story) -> str:
    """Each requirement an infeasible scenario cannot meet, and by how much at least."""
    if story.diagnosis.empty:
        return ""
    numbered = story.diagnosis.assign(
        n=story.diagnosis.groupby("scenario", sort=False).cumcount())
    rows = []
    for r in numbered.to_dict("records"):
        shown = story.full if r["constraint"] in MONEY_REQUIREMENTS else count
        base = f"scenarios/{r['scenario']}/diagnosis/{r['n']}"
        year = "" if pd.isna(r["year"]) else r["year"]
        rows.append(f"<tr><td>{esc(r['scenario'])}</td><td>{esc(r['constraint'])}</td>"
                    f"<td>{esc(r['item'])}</td><td>{year}</td>"
                    + "".join(figure(r[k], shown(r[k]), f"{base}/{k}")
                              for k in ("required", "achievable", "shortfall"))
                    + "</tr>")
    return ("<h3>Why there is no plan</h3><p class=\"note\">The least shortfall in each "
            "requirement that cannot hold (money in present value).</p>"
            '<table id="diagnosis-table"><thead><tr><th>Scenario</th><th>Requirement</th>'
            "<th>Of</th><th>Year</th><th class=num>Required</th><th class=num>Achievable</th>"
            f"<th class=num>Shortfall</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def figure_block(name: str, svg: str, caption: str) -> str:
    """A chart's SVG with its caption, or nothing when there is no chart."""
    if not svg:
        return ""
    return (f'<figure id="figure-{name}" data-chart="{name}">{svg}'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def per_scenario_head(first: str, names: list[str], last: str = "") -> str:
    """A table head: the row label's column, then a number column per name."""
    cells = "".join(f"<th class=num>{esc(n)}</th>" for n in names)
    return f"<thead><tr><th>{esc(first)}</th>{cells}{last}</tr></thead>"


def optimal(story: Story) -> list[str]:
    """Scenarios with a plan."""
    return charts.optimal_names(story)


def allocation_section(story: Story) -> str:
    """Where the money goes: spending per intervention, ring-fenced to pooled."""
    names = optimal(story)
    svg = charts.svg(lambda: charts.spending_chart(story), "spend")
    spending = story.spending
    spend = dict(zip(zip(spending["scenario"], spending["intervention"], strict=True),
                     spending["amount"], strict=True))
    rows = []
    for i in story.instance.interventions:
        cells = []
        for n in names:
            value = float(spend.get((n, i), 0.0))
            cells.append(figure(value, story.full(value), f"scenarios/{n}/funding/*/{i}",
                                "sum"))
        rows.append(f"<tr><td>{esc(story.name('interventions', i))}</td>{''.join(cells)}</tr>")
    table = (f'<table id="spending-table">{per_scenario_head("Intervention", names)}'
             f"<tbody>{''.join(rows)}</tbody></table>") if names else ""
    charted, used = charts.charted_interventions(story)
    which = ("each intervention" if len(charted) == used else
             f"the {len(charted)} interventions (of {used} with spend) with the most")
    return ('<section id="allocation"><h2>Where the money goes</h2>'
            + figure_block("allocation", svg, f"Spend on {which} over the plan (cash at "
                     f"constant prices) in {', '.join(charts.compared(story))}. Hatched: money "
                     "that came through the pool, out of another stream's ring-fence. The "
                     "table gives every scenario" + (" and intervention." if len(charted) < used
                                                     else "."))
            + table + "</section>")


def outcomes_section(story: Story) -> str:
    """Outcomes a year against targets."""
    names = optimal(story)
    if not names or not story.instance.outcomes:
        return ""
    svg = charts.svg(lambda: charts.outcomes_chart(story), "outcomes")
    keys = ["scenario", "outcome"]
    targets, achieved, met_by = (by_key(story.targets, keys, c)
                                 for c in ("target", "achieved", "met"))
    rows = []
    for k, spec in story.instance.outcomes.items():
        target = targets[(names[0], k)]
        cells = [figure(target, count(target), instance=f"outcomes/{k}/target", op="mean")]
        for n in names:
            got, met = achieved[(n, k)], met_by[(n, k)]
            css = "num" + (" loss" if met is False else "")
            cells.append(figure(got, count(got), f"scenarios/{n}/outcomes/{k}", "mean", css=css))
        rows.append(f"<tr><td>{esc(spec.name or k)}</td>{''.join(cells)}</tr>")
    head = per_scenario_head("Outcome", ["Target a year", *names])
    return ('<section id="outcomes"><h2>Outcomes against targets</h2>'
            + figure_block("outcomes", svg, "Each outcome a year (mean over the plan) in every "
                     "scenario with a plan; the dashed line is the target.")
            + f'<table id="outcomes-table">{head}<tbody>{"".join(rows)}</tbody></table>'
            + "</section>")


def gains_section(story: Story) -> str:
    """Each agency's net position in every scenario; then, for the headline's pooled
    scenario and every scenario with an agreement, each agency's change against the
    reference (three ways where an agreement moves money), each with its range among
    equally good plans, read by `reading`; what each agreement does and the fair-share
    notes, in words."""
    names = optimal(story)
    if not names:
        return ""
    svg = charts.svg(lambda: charts.gains_chart(story), "gains")
    keys = ["scenario", "agency"]
    nets, ruled = (by_key(story.gains, keys, c) for c in ("net", "decided_by_rule"))
    rows = []
    for a in story.instance.agencies:
        cells = []
        for n in names:
            net = nets[(n, a)]
            css = "num ruled" if bool(ruled[(n, a)]) else "num"
            cells.append(figure(net, story.full(net), f"scenarios/{n}/agencies/{a}/net",
                                css=css))
        rows.append(f"<tr><td>{esc(story.name('agencies', a))}</td>{''.join(cells)}</tr>")
    shown = compared_scenarios(story)
    others = [(s.name, fair_share_notes(story, s.name)) for s in story.result.scenarios
              if s.status == "optimal" and s.name not in shown]
    notes = "".join(f'<p class="note">In {esc(n)}: {esc(note)}</p>'
                    for n, said in others for note in said)
    return ('<section id="gains"><h2>Who gains and who loses</h2>'
            + figure_block("gains", svg, "Each agency's change in net position (present value of "
                     "savings minus spend, plus transfers) against the scenario it is "
                     "compared with, after any agreement. Hatched: equally good plans could "
                     "change it; grey: they could make it a gain or a loss.")
            + "".join(compared_table(story, n) for n in shown)
            + "<h3>Net position in every scenario</h3>"
            + '<table id="gains-table">'
            + per_scenario_head("Agency (net position, PV)", names)
            + f"<tbody>{''.join(rows)}</tbody></table>"
            + '<p class="note">* decided by rule: plans with the same optimal objective give '
            "this agency other positions; see 'Figures chosen by rule'.</p>"
            + notes + "</section>")


def compared_table(story: Story, name: str) -> str:
    """One scenario's agencies against its reference: the reference position, then the
    scenario's position and the change (no agreement), or where the plan leaves each, what
    the agreement moves and where it ends; every change with its range among equally good
    plans beneath it (also as data-low and data-high) where it has one, and how the reports
    read it (`reads_as`). The agreement's sentences and the fair-share notes follow."""
    rows = story.gains[story.gains["scenario"] == name]
    ref = str(rows["reference"].iloc[0])
    tol = change_tolerance(rows["gain"])
    agreed = scenario_moves(story, name)
    body = []
    for r in rows.itertuples(index=False):
        a = r.agency
        net = f"scenarios/{name}/agencies/{a}/net"
        cells = [figure(r.reference_net, story.full(r.reference_net),
                        f"scenarios/{ref}/agencies/{a}/net")]
        if agreed:
            at = f"scenarios/{name}/agreement/positions/{a}"
            cells += [change_cell(story, r.plan, r.plan_low, r.plan_high, tol,
                                  f"{at}/plan - {at}/reference", toned=False),
                      figure(r.moves, signed(story, r.moves, full=True), f"{at}/moves")]
        else:
            css = "num ruled" if bool(r.decided_by_rule) else "num"
            cells.append(figure(r.net, story.full(r.net), net, css=css))
        cells.append(change_cell(story, r.gain, r.gain_low, r.gain_high, tol,
                                 f"{net} - scenarios/{ref}/agencies/{a}/net"))
        cells.append(f"<td>{esc(reads_as(story, r.gain, r.gain_low, r.gain_high, tol, True))}"
                     "</td>")
        body.append(f"<tr><td>{esc(story.name('agencies', a))}</td>{''.join(cells)}</tr>")
    heads = ([ref + " (PV)", "The plan leaves it", "The agreement moves", "It ends"] if agreed
             else [ref + " (PV)", name + " (PV)", "Change"])
    head = ("<thead><tr><th>Agency</th>" + "".join(f"<th class=num>{esc(h)}</th>" for h in heads)
            + "<th>Reads as</th></tr></thead>")
    kind = agreement_kind(story, name)
    title = (f"{name} against {ref}" + (f"; agreement: {AGREEMENT_NAMES.get(kind, kind)}"
                                        if kind else ""))
    said = "".join(f"<p>{esc(t)}</p>" for t in agreement_sentences(story, name))
    notes = "".join(f'<p class="note">{esc(t)}</p>' for t in fair_share_notes(story, name))
    return (f"<h3>{esc(title)}</h3>{said}"
            f'<table id="positions-{esc(name)}" class="positions">{head}'
            f"<tbody>{''.join(body)}</tbody></table>{notes}")


def change_cell(story: Story, change: float, low: float, high: float, tol: float, src: str,
                toned: bool = True) -> str:
    """A change in position: its figure, coloured as `reading` reads it (`toned`), with its
    range among equally good plans beneath it where it has one (data-low, data-high)."""
    read = reading(change, low, high, tol)
    css = "num" + (f" {read}" if toned and read in ("gain", "loss") else "")
    text = esc(signed(story, change, full=True))
    if ranged(low, high, tol):  # each figure kept whole on its line (`.nb`)
        ends = range_text(story, low, high, True).split(" to ")
        text += (f'<span class="sub range" data-low="{float(low)!r}" '
                 f'data-high="{float(high)!r}"><span class="nb">{esc(ends[0])} to</span> '
                 f'<span class="nb">{esc(ends[1])}</span></span>')
    return (f'<td class="{css}" data-value="{float(change)!r}" data-src="{esc(src)}">'
            f"{text}</td>")


def graph_section(story: Story) -> str:
    """The gains graph of the place's main pooled scenario (`gainsplot.headline`) and of
    those with transfers, each where its positions are decided (`picture_not_drawn`);
    where there is no main pooled scenario to draw, or a picture is not drawn, why not."""
    runs = {r.name: r for r in story.result.prepared.runs}
    main = gainsplot.headline(story.result)
    pooled = [n for n in optimal(story) if runs[n].scenario.pooling and
              (n == main or runs[n].scenario.transfers)]
    undrawn = [why for why in (picture_not_drawn(story.result, n) for n in pooled) if why]
    pooled = [n for n in pooled if picture_not_drawn(story.result, n) is None]
    figures = [figure_block(f"gains-graph-{n}", charts.svg(partial(charts.gains_graph, story, n),
                                                     f"graph{k}"),
                      f"Money between the agencies in {n}.")
               for k, n in enumerate(pooled)]
    why = " ".join(w for w in (gainsplot.missing_picture(story.result), *undrawn) if w)
    if not any(figures) and not why:
        return ""
    said = f'<p id="no-gains-graph">{esc(why)}</p>' if why else ""
    return (f'<section id="gains-graph"><h2>The money between the agencies</h2>'
            f"{said}{''.join(figures)}</section>")


def uncertainty_section(story: Story) -> str:
    """After `--draws`: each scenario's objective over the draws, the chance of beating its
    reference and of each agency ending worse off, and the tornado."""
    u = story.uncertainty
    if u is None:
        return ""
    said = "".join(f"<li>{esc(s)}</li>" for s in uncertainty_sentences(story))
    spread = charts.svg(lambda: charts.spread_chart(story), "spread")
    tornado = charts.svg(lambda: charts.tornado_chart(story), "tornado")
    shown = min(len(u.tornado), MAX_BARS)
    which = (f"the {shown} of {len(u.tornado)} uncertain figures that move it most"
             if shown < len(u.tornado) else "every uncertain figure")
    return ('<section id="uncertainty"><h2>How sure are these figures?</h2>'
            f'<ul class="brief">{said}</ul>'
            "<h3>The committed plans over the draws</h3>"
            + figure_block("spread", spread, "Each scenario's plan at the central figures, "
                     "committed, in every draw: the bar runs from the 5th to the 95th "
                     "percentile; the diamond is the plan with every figure at its central "
                     "value, as in the rest of this report.")
            + _spread_table(story)
            + _worse_off_table(story)
            + _hindsight_table(story)
            + f"<h3>What moves {esc(u.main)} most</h3>"
            + figure_block("tornado", tornado, f"{u.main}'s objective with one figure at its low "
                     f"or its high and every other figure central, for {which}; widest swing "
                     "on top.")
            + _tornado_table(story)
            + '<p class="note">Each draw takes every uncertain figure from its triangular '
            "range, independently of the others (a named figure once, for every number that "
            "uses it); a drawn deadweight or optimism bias moves every effect and saving of "
            "its intervention together. A committed plan spends the money its central plan "
            "gives each intervention each year, buying what that money buys at the draw's "
            "unit cost (up to max_units). draw_figures.csv holds every draw's figures. The "
            "same seed gives the same figures on any machine.</p></section>")


def robust_section(story: Story) -> str:
    """Scenarios with a robust plan: it against the central plan, committed, over its sample,
    and at the central figures."""
    found = story.result.analyses.get("robust") or {}
    if not found:
        return ""
    said = "".join(f"<li>{esc(s)}</li>" for _, s in robust_sentences(story))
    rows = []
    central = story.scenarios.set_index("scenario")["objective"]
    for name, entry in found.items():
        if entry.get("plan") is None:
            continue
        src = f"robust/{name}"
        rows.append(
            f"<tr><td><strong>{esc(name)}</strong></td>"
            + figure(entry["mean"], story.objective_text(entry["mean"]), f"{src}/mean")
            + figure(entry["central_plan_mean"], story.objective_text(entry["central_plan_mean"]),
                     f"{src}/central_plan_mean")
            + figure(entry["objective"], story.objective_text(entry["objective"]),
                     f"{src}/objective")
            + figure(central[name], story.objective_text(central[name]),
                     f"scenarios/{name}/objective")
            + "</tr>")
    head = ("<tr><th>Scenario</th><th class=num>Robust plan, committed (sample mean)</th>"
            "<th class=num>Central plan, committed (sample mean)</th>"
            "<th class=num>Robust plan at central figures</th>"
            "<th class=num>Central plan at central figures</th></tr>")
    table = (f'<table id="robust-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
             "</table>") if rows else ""
    return ('<section id="robust"><h2>Robust plans</h2>'
            f'<ul class="brief">{said}</ul>{table}'
            '<p class="note">A robust plan is the money allocation with the best mean committed '
            "objective over a sample of draws, found as one LP (sample average "
            "approximation); it keeps every constraint of its scenario at the central "
            "figures.</p></section>")


def _spread_table(story: Story) -> str:
    """Scenario: the plan at central figures, and committed over the draws: mean and
    percentiles, the chance of meeting every target and of beating the reference."""
    u = story.uncertainty
    assert u is not None
    references = set(u.spread["reference"].dropna())
    one = next(iter(references)) if len(references) == 1 else None
    central = story.scenarios.set_index("scenario")["objective"]
    rows = []
    for r in u.spread.to_dict("records"):
        name, src = r["scenario"], f"uncertainty/{r['scenario']}/committed"
        against = ("" if one is not None or pd.isna(r["reference"]) else
                   f'<span class="sub">against {esc(r["reference"])}</span>')
        if r["no_plan"]:
            rows.append(f"<tr><td><strong>{esc(name)}</strong>{against}</td>"
                        '<td class="num loss" colspan="7">no plan at the central figures'
                        "</td></tr>")
            continue
        rows.append(
            f"<tr><td><strong>{esc(name)}</strong>{against}</td>"
            + figure(central[name], story.objective_text(central[name]),
                     f"scenarios/{name}/objective")
            + "".join(figure(r[k], story.objective_text(r[k]), f"{src}/{k}")
                      for k in ("mean", "p5", "p50", "p95"))
            + figure(r["p_targets_met"], share(r["p_targets_met"]), f"{src}/p_targets_met")
            + (figure(r["p_beats_reference"], share(r["p_beats_reference"]),
                      f"{src}/p_beats_reference") if pd.notna(r["p_beats_reference"])
               else "<td class=num>-</td>")
            + "</tr>")
    beats = f"Beats {esc(one)}" if one is not None else "Beats its reference"
    head = ("<tr><th>Scenario</th><th class=num>Every figure central</th><th class=num>Mean"
            "</th><th class=num>5th percentile</th><th class=num>Median</th>"
            "<th class=num>95th percentile</th><th class=num>Every target met</th>"
            f"<th class=num>{beats}</th></tr>")
    return (f'<table id="spread-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            "</table>")


def _hindsight_table(story: Story) -> str:
    """Scenario: re-optimised with hindsight of each draw: mean and percentiles, draws
    without a plan, the chance of beating the reference."""
    u = story.uncertainty
    assert u is not None
    rows = []
    for r in u.hindsight.to_dict("records"):
        name, src = r["scenario"], f"uncertainty/{r['scenario']}/hindsight"
        unsolved = int(r["no_plan"])
        rows.append(
            f"<tr><td><strong>{esc(name)}</strong></td>"
            + "".join(figure(r[k], story.objective_text(r[k]), f"{src}/{k}")
                      if pd.notna(r[k]) else "<td class=num>-</td>"
                      for k in ("mean", "p5", "p50", "p95"))
            + figure(unsolved, f"{unsolved:,} of {r['draws']:,}",
                     f"{src}/infeasible + {src}/unbounded",
                     css="num loss" if unsolved else "num")
            + (figure(r["p_beats_reference"], share(r["p_beats_reference"]),
                      f"{src}/p_beats_reference") if pd.notna(r["p_beats_reference"])
               else "<td class=num>-</td>")
            + "</tr>")
    head = ("<tr><th>Scenario</th><th class=num>Mean</th><th class=num>5th percentile</th>"
            "<th class=num>Median</th><th class=num>95th percentile</th>"
            "<th class=num>Draws with no plan</th><th class=num>Beats its reference</th></tr>")
    return ("<h3>With hindsight</h3><p>Each scenario re-optimised in every draw, knowing "
            "that draw's figures: what the best plan could have been, not what a plan "
            "committed now delivers (a pooled plan beats a ring-fenced one with hindsight "
            "almost by construction). Over the draws with a plan.</p>"
            f'<table id="hindsight-table"><thead>{head}</thead><tbody>{"".join(rows)}'
            "</tbody></table>")


def _worse_off_table(story: Story) -> str:
    """Agency x scenario: the share of draws in which the agency ends worse off (net
    position, after transfers) than under the scenario's reference."""
    u = story.uncertainty
    assert u is not None
    if u.worse_off.empty:
        return ""
    wide = u.worse_off.pivot(index="agency", columns="scenario", values="probability")
    names = [n for n in u.spread["scenario"] if n in wide.columns]
    rows = []
    for a in story.instance.agencies:
        cells = [figure(wide.loc[a, n], share(wide.loc[a, n]),
                        f"uncertainty/{n}/committed/p_worse_off/{a}",
                        css="num loss" if wide.loc[a, n] >= 0.5 else "num") for n in names]
        rows.append(f"<tr><td>{esc(story.name('agencies', a))}</td>{''.join(cells)}</tr>")
    references = sorted(set(u.spread.set_index("scenario").loc[names, "reference"]))
    return ("<h3>Who may end worse off</h3><p>The share of the draws in which each agency's "
            "net position under the committed plan, after the transfers it agreed, ends "
            f"below its position under {esc(' / '.join(references))}'s committed plan in "
            "the same draw.</p>"
            f'<table id="worse-off-table">{per_scenario_head("Agency", names)}'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _tornado_table(story: Story) -> str:
    """Every uncertain figure's range and the objective at each end, widest swing first."""
    u = story.uncertainty
    assert u is not None
    if u.tornado.empty:
        return ""
    rows = []
    for r in u.tornado.to_dict("records"):
        src = f"tornado/figures/{r['n']}"
        ends = "".join(
            figure(r[f"objective_{end}"], story.objective_text(r[f"objective_{end}"], full=True),
                   f"{src}/objective_{end}") if r[f"status_{end}"] == "optimal"
            else f'<td class="num loss">no plan ({esc(r[f"status_{end}"])})</td>'
            for end in ("low", "high"))
        rows.append(
            f"<tr><td>{esc(figure_name(story.instance, r['figure']))}"
            f'<span class="sub"><code>{esc(r["figure"])}</code></span></td>'
            + "".join(figure(r[k], f"{r[k]:,.6g}", f"{src}/{k}")
                      for k in ("low", "central", "high"))
            + ends
            + figure(r["swing"], story.objective_text(r["swing"], full=True), f"{src}/swing")
            + "</tr>")
    head = ("<tr><th>Figure</th><th class=num>Low</th><th class=num>Central</th>"
            "<th class=num>High</th><th class=num>Objective at its low</th>"
            "<th class=num>Objective at its high</th><th class=num>Swing</th></tr>")
    return (f"<details open><summary>The {len(u.tornado)} uncertain figures, their ranges and the "
            f'objective at each end</summary><table id="tornado-table"><thead>{head}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table></details>")


def limits_section(story: Story) -> str:
    """What limits the plan: each binding cap, minimum, target, floor and budget of the
    headline's scenario, with what one unit more room would gain and one unit less would
    lose, what the two mean (`limit_reading`), and whether the figure behind it is sourced
    or an assumption (every scenario's are in limits.csv). Printed on a landscape page."""
    focus = limits_focus(story)
    if focus is None:
        return ""
    said = "".join(f"<p><strong>{esc(t)}</strong></p>" for t in limits_sentences(story))
    rows = []
    for r, reading_text in focus_limits(story, focus):
        basis = {"source": "sourced"}.get(r["basis"], r["basis"])
        css = "" if r["basis"] == "source" else ' class="loss"'
        loss = ('<td class="num">no plan</td>' if r["pricing"] == "edge" else
                figure(r["loss"], gain_text(story, r["loss"]), f"{r['src']}/loss"))
        rows.append(
            f"<tr><td>{esc(LIMIT_WORDS[r['kind']])}</td>"
            f"<td>{esc(story.name(LIMIT_KINDS[r['kind']], r['item']))}</td>"
            f"<td>{esc(r['years'] or 'the whole plan')}</td>"
            + figure(r["gain"], gain_text(story, r["gain"]), f"{r['src']}/gain") + loss
            + f'<td class="reading">{esc(reading_text)}</td><td{css}>{esc(basis)}</td>'
            f'<td class="source">{esc(r["note"])}</td></tr>')
    table = ("<p>The plan reaches no limit.</p>" if not rows else
             '<table id="limits-table" class="wide"><thead><tr><th>Limit</th><th>Of</th>'
             "<th>Binding in</th><th class=num>Gain from one unit more room</th>"
             "<th class=num>Loss from one unit less room</th><th>What it means</th>"
             "<th>Figure</th><th>Source or assumption</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    return ('<section id="limits"><h2>What limits the plan</h2>'
            f"<p>Every limit {esc(focus)} reaches: what one unit more room would gain and what "
            "one unit less would lose, in the objective's terms, for one unit a year in every "
            "year it binds. Where the plan meets two limits at once the two figures differ. "
            "The figure column says whether the limit is sourced or an "
            f"assumption.</p>{said}{table}</section>")


def discount_section(story: Story) -> str:
    """Every scenario's objective and account at each discount rate tried, and its rank."""
    table = story.discounting
    if table.empty:
        return ""
    own = story.instance.discount_rate
    rows = []
    for r in table.to_dict("records"):
        src = r["src"]
        rows.append(
            f"<tr><td>{esc(r['scenario'])}</td><td>{esc(rate_name(r['rate'], own))}</td>"
            + figure(r["objective"], story.objective_text(r["objective"], full=True),
                     f"{src}/objective")
            + "".join(figure(r[k], story.full(r[k]), f"{src}/account/{k}")
                      for k in ("cash_net", "outcome_value", "net_benefit"))
            + figure(r["payback_year"], account_text(story, "year", r["payback_year"]),
                     f"{src}/account/payback_year")
            + f"<td class=num>{'-' if pd.isna(r['rank']) else int(r['rank'])}</td></tr>")
    head = ("<thead><tr><th>Scenario</th><th>Discount rate</th><th class=num>Objective</th>"
            "<th class=num>Net cash (PV)</th><th class=num>Valued outcomes (PV)</th>"
            "<th class=num>Net benefit (PV)</th><th class=num>Pays for itself by</th>"
            "<th class=num>Rank</th></tr></thead>")
    said = "".join(f"<p><strong>{esc(t)}</strong></p>" for t in discount_sentences(story))
    return ('<section id="discounting"><h2>At other discount rates</h2>'
            "<p>Every scenario solved again at the Green Book's 3.5% and at its 1.5% for "
            "health effects (and at the instance's own rate where it is another), nothing "
            f"else changed.</p>{said}"
            f'<table id="discount-table">{head}<tbody>{"".join(rows)}</tbody></table>'
            "</section>")


def prices_section(story: Story) -> str:
    """The price of each ring-fence, ranked."""
    prices = story.prices
    if prices.empty:
        return ('<section id="prices"><h2>The price of each ring-fence</h2><p class="note">'
                "Not computed in this run.</p></section>")
    rows = []
    for r in prices.itertuples(index=False):
        src = f"ring_fence_prices/{r.stream}"
        rows.append(
            f"<tr><td>{'-' if pd.isna(r.rank) else r.rank}</td>"
            f"<td>{esc(story.name('streams', r.stream))}</td>"
            + figure(r.lift_gain, story.objective_text(r.lift_gain, full=True),
                     f"{src}/lift_gain")
            + figure(r.marginal_value, story.rate(r.marginal_value), f"{src}/marginal_value")
            + "</tr>")
    head = ("<thead><tr><th>Rank</th><th>Stream</th><th class=num>Gain from lifting it "
            "alone</th><th class=num>Value of one more unit of budget</th></tr></thead>")
    sentences = list(price_sentences(story.result).values())
    reference = prices["reference"].iloc[0]
    return (f'<section id="prices"><h2>The price of each ring-fence</h2>'
            "<p>What the objective gains when one stream alone may pool (up to its own pool "
            f"share) while every other stays ring-fenced as in {esc(reference)}, and what one "
            "more unit of that stream's budget is worth at the margin.</p>"
            f"<p><strong>{esc(sentences[0])}</strong></p>"
            f'<table id="prices-table">{head}<tbody>{"".join(rows)}</tbody></table></section>')


def settlement_section(story: Story) -> str:
    """Payments under agreements, settlement payments and fair shares."""
    transfers = story.result.table("transfers")
    parts = []
    if not transfers.empty:
        numbered = transfers.assign(n=transfers.groupby("scenario", sort=False).cumcount())
        rows = [_payment(story, r["scenario"], r["from"], r["to"], r["amount"],
                         f"scenarios/{r['scenario']}/transfers/{r['n']}/amount")
                for r in numbered.to_dict("records")]
        parts.append(_payments_table("Payments under agreements", "transfers-table", rows))
    if not story.settlement.empty:
        rows = [_payment(story, r["scenario"], r["from"], r["to"], r["amount"], r["src"])
                for r in story.settlement.to_dict("records")]
        parts.append(_payments_table("Settlement", "settlement-table", rows))
    parts += [f'<p class="note">In {esc(k)} the gain cannot make every loser whole: the '
              "settlement falls "
              + figure(v, story.full(v), f"settlement_shortfall/{k}", tag="span", css="")
              + " short.</p>" for k, v in story.shortfall.items() if (snap(v) or 0) > 0]
    parts += [f'<p class="note">{esc(s)}</p>' for s in unsettled_sentences(story.unsettled)]
    if not story.shapley.empty:
        sampled = bool(story.shapley["standard_error"].notna().any())

        def error(se: float, src: str) -> str:
            if not sampled:
                return ""
            if pd.isna(se):
                return '<td class="num">exact</td>'
            return figure(se, story.objective_text(se, full=True), src)

        rows = [f"<tr><td>{esc(r.scenario)}</td><td>{esc(story.name('agencies', r.agency))}"
                f"</td>{figure(r.value, story.objective_text(r.value, full=True), r.src)}"
                f"{error(r.standard_error, r.se_src)}</tr>"
                for r in story.shapley.itertuples(index=False)]
        head = "<th class=num>Standard error</th>" if sampled else ""
        note = ('<p class="note">Beyond 16 agencies the shares are estimated from sampled '
                "joining orders, each with its standard error: the true share lies within two "
                "standard errors of the estimate about 95 times in 100.</p>" if sampled else "")
        parts.append("<h3>Fair shares of the pooling gain (Shapley values)</h3>"
                     '<table id="shapley-table"><thead><tr><th>Scenario</th><th>Agency</th>'
                     f"<th class=num>Share</th>{head}</tr></thead><tbody>{''.join(rows)}"
                     f"</tbody></table>{note}")
    if not parts:
        return ""
    return (f'<section id="settlement"><h2>Transfers, settlements and fair shares</h2>'
            f"{''.join(parts)}</section>")


def _payment(story: Story, scenario: str, payer: str, payee: str, amount: float,
             src: str) -> str:
    return (f"<tr><td>{esc(scenario)}</td><td>{esc(story.name('agencies', payer))}</td>"
            f"<td>{esc(story.name('agencies', payee))}</td>"
            f"{figure(amount, story.full(amount), src)}</tr>")


def _payments_table(title: str, ident: str, rows: list[str]) -> str:
    return (f"<h3>{esc(title)} (present value)</h3><table id=\"{ident}\"><thead><tr>"
            "<th>Scenario</th><th>From</th><th>To</th><th class=num>Amount</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def rules_section(story: Story) -> str:
    """The tie-break rules, and each figure they decided."""
    rules = "".join(f"<li><strong>{esc(k.replace('_', ' '))}.</strong> {esc(v)}</li>"
                    for k, v in story.rules.items())
    rows = "".join(
        f"<tr><td>{esc(r.scenario)}</td><td>{esc(story.name('agencies', r.agency))}</td>"
        + figure(r.position, story.full(r.position),
                 f"scenarios/{r.scenario}/agencies/{r.agency}/net + "
                 f"scenarios/{r.scenario}/agencies/{r.agency}/transfers_out - "
                 f"scenarios/{r.scenario}/agencies/{r.agency}/transfers_in")
        + figure(r.position_min, story.full(r.position_min),
                 f"scenarios/{r.scenario}/agencies/{r.agency}/position_min")
        + figure(r.position_max, story.full(r.position_max),
                 f"scenarios/{r.scenario}/agencies/{r.agency}/position_max")
        + "</tr>"
        for r in story.decided.itertuples(index=False))
    body = ("<h3>Positions these rules decided</h3><p>Plans with the same optimal objective "
            "give these agencies any position (before transfers) between the least and the "
            "greatest shown; the rules above chose the one reported.</p>"
            '<table id="decided-table"><thead><tr><th>Scenario</th><th>Agency</th>'
            "<th class=num>Reported</th><th class=num>Least</th><th class=num>Greatest</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>" if rows else
            "<p>No agency's position depended on these rules: every optimal plan gives "
            "the same positions.</p>")
    return (f'<section id="rules"><h2>Figures chosen by rule</h2><p>The optimum often leaves '
            "open which stream pays for what, and so each agency's position. These rules "
            f"decide them, the same on every run:</p><ol>{rules}</ol>{body}</section>")


def assumptions_section(story: Story) -> str:
    """The instance's figures with their sources and assumptions: each by what it names
    (its dotted path beneath, wrapped), its value, and whether it is sourced, an assumption
    or arithmetic on figures (`optimiser.inputs.assumptions.classify`). It prints on a
    landscape page, every column and every source whole."""
    table = story.assumptions
    if table.empty:
        body = '<p class="note">The instance file states no sources or assumptions.</p>'
    else:
        rows = "".join(
            f"<tr><td>{'' if pd.isna(r.line) else int(r.line)}</td>"
            f"<td>{esc(path_label(story, r.path))}"
            f'<span class="sub"><code>{esc(r.path)}</code></span></td>'
            f"<td>{esc(r.value)}</td><td>{esc(r.kind)}</td>"
            f'<td class="source">{esc(r.note)}</td></tr>'
            for r in table.itertuples(index=False))
        counts = table["kind"].value_counts()
        summary = ", ".join(f"{n} {k}" for k, n in counts.items())
        body = ('<details open><summary>' f"{len(table)} figures with a source or an "
                f"assumption ({esc(summary)})</summary>"
                '<table id="assumptions-table" class="wide"><colgroup><col class="line">'
                '<col class="figure"><col class="value"><col class="kind"><col class="note">'
                "</colgroup><thead><tr><th>Line</th><th>Figure</th><th>Value</th><th>Kind</th>"
                "<th>Source or assumption</th></tr>"
                f"</thead><tbody>{rows}</tbody></table></details>")
    return ('<section id="assumptions"><h2>Assumptions and sources</h2>'
            "<p>Every figure the instance gives a source or an assumption for, the figures "
            "its header comment names (its prices), and its named figures. 'Arithmetic on "
            "assumptions' is a figure worked out from figures that are themselves "
            f"assumptions: it is no better sourced than they are.</p>{body}</section>")


def path_label(story: Story, path: str) -> str:
    """A figure's dotted path by what it names: 'interventions.telecare.savings.acute' ->
    'Telecare: saving to Acute hospital trusts'; 'header: Prices used throughout' -> 'Prices
    used throughout (header)'; 'figures.x' -> 'named figure x'."""
    if path.startswith("header: "):
        return path.removeprefix("header: ") + " (header)"
    parts = path.split(".")
    if parts[0] == "figures" and len(parts) > 1:
        return f"named figure {parts[1]}"
    kinds = {"interventions", "streams", "agencies", "outcomes", "scenarios"}
    if parts[0] not in kinds or len(parts) < 2:
        return path.replace("_", " ")
    name = story.name(parts[0], parts[1]) if parts[0] != "scenarios" else parts[1]
    rest = parts[2:]
    if len(rest) == 2 and rest[0] == "savings":
        what = f"saving to {story.name('agencies', rest[1])}"
    elif len(rest) == 2 and rest[0] == "effects":
        what = f"effect on {story.name('outcomes', rest[1])}"
    else:
        what = " ".join(rest).replace("_", " ")
    return f"{name}: {what}" if what else name


def provenance_footer(story: Story) -> str:
    """Versions and the instance's identity."""
    return footer_block(story.provenance)


def footer_block(items: list[tuple[str, str]]) -> str:
    """The page's footer: where the figures are, and what produced them."""
    listed = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return (f'<footer id="provenance"><div class="wrap"><p>Produced by <code>optimise</code>. '
            f"The figures are in results.json beside this page.</p><dl>{listed}</dl></div>"
            "</footer>")
