"""summary.md: a short Markdown summary, fit to paste into a submission.

The headline, a table of scenarios, who gains and who loses, the price of each
ring-fence and any settlement (when computed), what the draws say (after
`--draws`), and the figures decided by rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

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
    focus_limits,
    gain_text,
    limits_focus,
    limits_sentences,
    narrative,
    net_benefit_paragraph,
    range_text,
    ranged,
    rate_name,
    reads_as,
    robust_sentences,
    scenario_moves,
    share,
    signed_money,
    uncertainty_sentences,
    unsettled_sentences,
    years,
)
from optimiser.safe import Markdown, md_text


def cell(text: object) -> str:
    """Text for a Markdown table cell (`optimiser.safe.md_text`: markup escaped, one line)."""
    return md_text(text, line_start=False)


def table(header: Sequence[str], rows: Sequence[Sequence[object]], right_from: int = 1,
          right_to: int | None = None) -> str:
    """A Markdown table; columns from `right_from` on (to `right_to`, when given) are
    right-aligned (numbers)."""
    last = len(header) if right_to is None else right_to
    align = ["--:" if right_from <= n < last else "---" for n in range(len(header))]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(story: Story, path: Path) -> None:
    """Write summary.md for `story` at `path`."""
    path.write_text(summary(story), encoding="utf-8")


def summary(story: Story) -> str:
    """The whole summary."""
    inst = story.instance
    parts = [
        f"# {md_text(inst.name)}",
        f"**{md_text(story.headline.sentence)}**",
        f"{years(inst.years)} from {inst.start_year}; objective "
        f"{inst.objective.replace('_', ' ')}; {inst.currency} at constant prices; present "
        "values discounted at "
        f"{inst.discount_rate:.1%} a year.",
        *appraisal(story),
        "\n".join(f"- {md_text(s)}" for s in narrative(story)),
        "## Scenarios",
        scenarios_table(story),
        *services(story),
        *gainers(story),
        *limits(story),
        *discounting(story),
        *prices(story),
        *payments(story),
        *uncertainty(story),
        *robust(story),
        *rules(story),
        f"_Produced by optimise from {md_text(story.result.prepared.path.name)} "
        f"(SHA-256 {story.result.prepared.sha256[:12]}...); every figure is in results.json._",
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def scenarios_table(story: Story) -> str:
    """Status, objective, spend, savings, net benefit and each outcome a year per scenario."""
    outcomes = list(story.instance.outcomes)
    targets = story.targets
    achieved = by_key(targets, ["scenario", "outcome"], "achieved") if not targets.empty \
        else {}
    goals: dict[Any, Any] = {}  # each outcome's target in its first row
    if not targets.empty:
        for k, goal in zip(targets["outcome"].tolist(), targets["target"].to_numpy(),
                           strict=True):
            goals.setdefault(k, goal)
    header = ["Scenario", "Status", "Objective", "Spend (PV)", "Savings (PV)",
              "Net benefit (PV)"]
    for k in outcomes:
        shown = f" (target {count(goals[k])})" if k in goals and pd.notna(goals[k]) else ""
        header.append(f"{story.name('outcomes', k)} a year{shown}")
    rows = []
    for r in story.scenarios.itertuples(index=False):
        shown = story.result.scenario(r.scenario).reported_status
        status = shown if shown == "optimal" else f"{shown}: {r.message}"
        row = [r.scenario, status, story.objective_text(r.objective, full=True),
               story.full(r.spend), story.full(r.savings), story.full(r.net_benefit)]
        for k in outcomes:
            row.append(count(achieved[(r.scenario, k)]) if (r.scenario, k) in achieved
                       else "-")
        rows.append(row)
    return table(header, rows, right_from=2)


def services(story: Story) -> list[str]:
    """Services with set-up costs or minimum scales: the years each runs, the set-up costs
    paid (cash, undiscounted) and the streams that pay them, per scenario with a plan."""
    rows = []
    start = story.instance.start_year
    for s in story.result.scenarios:
        found = s.extra.get("services")
        if s.status != "optimal" or not isinstance(found, dict):
            continue
        for item, entry in found.items():
            runs = [start + t for t, on in enumerate(entry["runs"]) if on]
            when = ("never" if not runs else "every year" if len(runs) == len(entry["runs"])
                    else ", ".join(map(str, runs)))
            payers = sorted(entry["setup_paid_by"].items(), key=lambda kv: -sum(kv[1]))
            rows.append([s.name, story.name("interventions", item), when,
                         story.full(sum(entry["setup_cost"])),
                         ", ".join(story.name("streams", k) for k, _ in payers) or "-"])
    if not rows:
        return []
    return ["## Services that run or do not (set-up costs and minimum scales)",
            table(["Scenario", "Service", "Runs", "Set-up costs paid (cash)", "Paid by"], rows,
                  right_from=3),
            "A service with a set-up cost or a minimum scale runs in a year or does not; "
            "its set-up cost is shared among the streams that pay for it that year, in "
            "proportion to what each pays."]


def appraisal(story: Story) -> list[str]:
    """The Green Book appraisal of every scenario with a plan (account.csv)."""
    shown = story.account[story.account["status"] == "optimal"]
    if shown.empty:
        return []
    names = shown["scenario"].tolist()
    account = shown.set_index("scenario")
    rows = [[label, *[account_text(story, kind, account.loc[n, key]) for n in names]]
            for label, key, kind in APPRAISAL]
    return ["## The appraisal (present values)", table(["Measure", *names], rows),
            md_text(net_benefit_paragraph(story))]


def gainers(story: Story) -> list[str]:
    """Who gains and who loses: for the headline's pooled scenario each agency's net
    position against the reference and the change; for every scenario with an agreement,
    each agency's position three ways (as the plan leaves it, what the agreement moves,
    where it ends), with what the agreement does in words. Beside every change that could
    differ among equally good plans, its range; a change whose range spans zero is never
    read as a gain or a loss (`reads_as`). Then the fair-share notes."""
    out: list[str] = []
    shown = compared_scenarios(story)
    for name in shown:
        rows = story.gains[story.gains["scenario"] == name]
        ref = str(rows["reference"].iloc[0])
        tol = change_tolerance(rows["gain"])
        if scenario_moves(story, name):
            table_rows = [[story.name("agencies", r.agency), story.full(r.reference_net),
                           _change(story, r.plan, r.plan_low, r.plan_high, tol),
                           signed_money(story, r.moves, full=True),
                           _change(story, r.gain, r.gain_low, r.gain_high, tol),
                           reads_as(story, r.gain, r.gain_low, r.gain_high, tol, full=True)]
                          for r in rows.itertuples(index=False)]
            kind = str(agreement_kind(story, name))
            out += [f"## Who gains and who loses in {md_text(name)} (against {md_text(ref)}; "
                    f"agreement: {AGREEMENT_NAMES.get(kind, kind)})",
                    md_text(" ".join(agreement_sentences(story, name))),
                    table(["Agency", f"{ref} (PV)", "The plan leaves it", "The agreement moves",
                           "It ends", "Reads as"], table_rows, right_to=5)]
        else:
            table_rows = [[story.name("agencies", r.agency), story.full(r.reference_net),
                           Markdown(cell(story.full(r.net)) + ("*" if r.decided_by_rule else "")),
                           _change(story, r.gain, r.gain_low, r.gain_high, tol),
                           reads_as(story, r.gain, r.gain_low, r.gain_high, tol, full=True)]
                          for r in rows.itertuples(index=False)]
            out += [f"## Who gains and who loses ({md_text(name)} against {md_text(ref)})",
                    table(["Agency", f"{ref} (PV)", f"{name} (PV)", "Change", "Reads as"],
                          table_rows, right_to=4)]
        out += [md_text(note) for note in fair_share_notes(story, name)]
    if shown:
        out.append("Net position: present value of savings minus spend, plus transfers in, "
                   "minus transfers out; changes against the reference. Where equally good "
                   "plans could give another figure, its range follows in brackets (least to "
                   "greatest); the rules chose the one shown. * decided by rule (see below).")
    others = [(s.name, fair_share_notes(story, s.name)) for s in story.result.scenarios
              if s.status == "optimal" and s.name not in shown]
    others = [(n, notes) for n, notes in others if notes]
    if others:
        out += ["### Fair shares in the other pooled scenarios",
                "\n".join(f"- In {md_text(n)}: {md_text(note)}" for n, notes in others
                          for note in notes)]
    return out


def _change(story: Story, change: float, low: float, high: float, tol: float) -> str:
    """A change in position with its range among equally good plans where it has one:
    '+£1,671 (-£1,278 to +£1,671)'."""
    text = signed_money(story, change, full=True)
    return text + (f" ({range_text(story, low, high, full=True)})" if ranged(low, high, tol)
                   else "")


def limits(story: Story) -> list[str]:
    """What limits the headline's plan: each limit's gain from one unit more room and loss
    from one unit less, what the two mean (`limit_reading`), and its figure's basis."""
    focus = limits_focus(story)
    if focus is None:
        return []
    rows = [[LIMIT_WORDS[r["kind"]], story.name(LIMIT_KINDS[r["kind"]], r["item"]),
             r["years"] or "the whole plan", gain_text(story, r["gain"]),
             gain_text(story, r["loss"]) if r["pricing"] != "edge" else "no plan",
             reading_text, r["basis"], r["note"]] for r, reading_text in focus_limits(story, focus)]
    out = ["## What limits the plan", md_text(" ".join(limits_sentences(story)))]
    if rows:
        out.append(table(["Limit", "Of", "Binding in", "Gain from one unit more room",
                          "Loss from one unit less room", "What it means", "Figure",
                          "Source or assumption"], rows, right_from=3, right_to=5))
    return out


def discounting(story: Story) -> list[str]:
    """Every scenario's objective, net cash, valued outcomes and rank at each rate tried."""
    frame = story.discounting
    if frame.empty:
        return []
    own = story.instance.discount_rate
    rows = [[r["scenario"], rate_name(r["rate"], own),
             story.objective_text(r["objective"], full=True), story.full(r["cash_net"]),
             story.full(r["outcome_value"]), story.full(r["net_benefit"]),
             "-" if pd.isna(r["rank"]) else int(r["rank"])] for r in frame.to_dict("records")]
    return ["## At other discount rates", md_text(" ".join(discount_sentences(story))),
            table(["Scenario", "Discount rate", "Objective", "Net cash (PV)",
                   "Valued outcomes (PV)", "Net benefit (PV)", "Rank"], rows, right_from=2)]


def prices(story: Story) -> list[str]:
    """The price of each ring-fence, when computed."""
    if story.prices.empty:
        return []
    rows = [["-" if pd.isna(r.rank) else r.rank, story.name("streams", r.stream),
             story.objective_text(r.lift_gain, True),
             story.rate(r.marginal_value)]
            for r in story.prices.itertuples(index=False)]
    return ["## The price of each ring-fence",
            table(["Rank", "Stream", "Gain from lifting it alone",
                   "Value of one more unit of budget"], rows, right_from=2)]


def payments(story: Story) -> list[str]:
    """Payments under agreements and settlement payments, when there are any."""
    frames = [("Payments under agreements", story.result.table("transfers")),
              ("Settlement", story.settlement)]
    out = []
    for title, frame in frames:
        if frame.empty:
            continue
        rows = [[r["scenario"], story.name("agencies", r["from"]), story.name("agencies", r["to"]),
                 story.full(r["amount"])] for r in frame.to_dict("records")]
        out += [f"## {title} (present value)",
                table(["Scenario", "From", "To", "Amount"], rows, right_from=3)]
    unsettled = unsettled_sentences(story.unsettled)
    if unsettled:
        out += ["## Settlement not proposed", "\n".join(f"- {md_text(s)}" for s in unsettled)]
    return out


def uncertainty(story: Story) -> list[str]:
    """After `--draws`: what the draws say in a paragraph, and each scenario's spread."""
    u = story.uncertainty
    if u is None:
        return []
    rows = [[r.scenario, *(story.objective_text(v) for v in (r.mean, r.p5, r.p50, r.p95)),
             share(r.p_targets_met), share(r.p_beats_reference)]
            if not r.no_plan else [r.scenario, "no plan", "", "", "", "", ""]
            for r in u.spread.itertuples(index=False)]
    back = [[r.scenario, *(story.objective_text(v) for v in (r.mean, r.p5, r.p50, r.p95)),
             f"{r.no_plan:,} of {r.draws:,}", share(r.p_beats_reference)]
            for r in u.hindsight.itertuples(index=False)]
    return ["## How sure are these figures?", md_text(" ".join(uncertainty_sentences(story))),
            "Committed: each scenario's plan at the central figures, in every draw.",
            table(["Scenario", "Mean", "5th percentile", "Median", "95th percentile",
                   "Every target met", "Beats its reference"], rows),
            "With hindsight: every scenario re-optimised knowing each draw's figures.",
            table(["Scenario", "Mean", "5th percentile", "Median", "95th percentile",
                   "Draws with no plan", "Beats its reference"], back)]


def robust(story: Story) -> list[str]:
    """Scenarios with a robust plan, against their central plan."""
    said = robust_sentences(story)
    if not said:
        return []
    return ["## Robust plans", md_text(" ".join(s for _, s in said))]


def rules(story: Story) -> list[str]:
    """The tie-break rules, and the positions they decided."""
    listed = "\n".join(f"{n}. **{md_text(key.replace('_', ' '))}**: {md_text(text)}"
                       for n, (key, text) in enumerate(story.rules.items(), start=1))
    out = ["## Figures chosen by rule", listed]
    decided = story.decided
    if not decided.empty:
        rows = [[r.scenario, story.name("agencies", r.agency), story.full(r.position),
                 story.full(r.position_min), story.full(r.position_max)]
                for r in decided.itertuples(index=False)]
        out += ["Positions (before transfers, PV) the rules chose among plans with the same "
                "optimal objective:",
                table(["Scenario", "Agency", "Reported", "Least", "Greatest"], rows,
                      right_from=2)]
    return out
