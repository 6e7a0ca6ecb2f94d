"""What `optimise` prints: the answer first, on one screen; every table behind `--detail`.

By default (`print_run`) at most about 60 lines, none wider than the terminal: the
headline in a sentence or two (the story's own, as report.html and summary.md say it),
the scenarios (money in present value; outcomes a year, the mean over the plan: the
documents' basis), who gains and who loses, and last which files to open and where.
Tables are laid out here as plain text (`Column`, `layout`): a column is as wide as its
figures, headers and names wrap at word boundaries, names lose a bracketed aside before
they wrap, and a group of columns that does not fit beside the others goes to a table of
its own; nothing is cut mid-word. `--detail` adds the full tables (rich) and `--explain`
prints the glossary.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from optimiser.analyses import gains
from optimiser.format import money, pence
from optimiser.pipeline import RunResult
from optimiser.reports import story as told
from optimiser.reports.story import Story, tell
from optimiser.reports.write import RULES
from optimiser.solving.results import ScenarioResult

GAP = "  "
"""Between two columns."""

GLOSSARY: list[tuple[str, str]] = [
    ("ring-fenced, pooled", "A ring-fenced scenario lets each budget stream pay only for the "
     "interventions in its ring-fence; a pooled one lets each stream put up to its pool_share "
     "of its budget into one pool a year that pays for anything."),
    ("reference", "The scenario a pooled one is compared with: by default the first scenario "
     "without pooling (ring_fenced)."),
    ("present value (PV)", "Money over the whole plan, each year's figure discounted at the "
     "instance's discount_rate (the Green Book's 3.5% by default) back to the first year."),
    ("net benefit", "The present value of the outcomes (each at its value per unit) plus the "
     "cashable savings, minus the cost of what is bought."),
    ("objective (PV)", "What each scenario's plan makes as large (net benefit, weighted "
     "outcomes) or as small (cost) as it can, within budgets, ring-fences and targets."),
    ("outcomes a year", "What the plan achieves in a year, the mean over the years of the "
     "plan (as in report.html and summary.md); a target is met only if met every year."),
    ("net position", "An agency's cashable savings minus its spend, plus gain-share transfers "
     "in, minus transfers out, in present value. 'Gains' and 'loses' compare it with the "
     "reference scenario."),
    ("decided by rule (*)", "Several plans can be equally good; the tie-break rules "
     "(results.json 'rules', summary.md 'Figures chosen by rule') choose the one reported: "
     "least money pooled, pooled money shared pro rata. A position marked * would differ "
     "under another of the equally good plans."),
    ("lift gain", "The price of a ring-fence: how much the objective improves when that one "
     "stream alone may pool its money (pool_share 1), every other stream ring-fenced."),
    ("one more £ a year", "What one more pound a year in a stream's budget adds to the "
     "objective (its shadow price), with its ring-fence in place."),
    ("Shapley share", "An agency's fair share of what pooling gains: its average addition to "
     "the gain over every order in which the agencies could join the pool. The shares add up "
     "to the whole gain."),
    ("settlement", "Payments, after a pooled plan, from the agencies that gain to those that "
     "lose, bringing each loser back to its reference position where the gains allow."),
    ("gain-share transfers", "Payments inside a scenario with transfers: true, so that no "
     "agency ends worse off than in its reference."),
]


# --------------------------------------------------------------------- plain-text tables


@dataclass
class Column:
    """One column of a plain-text table: a header and a cell per row.

    `name` columns (agencies, outcomes) may wrap at word boundaries; other columns
    (ids, figures) never wrap, so a column is at least as wide as its widest cell.
    """

    head: str
    cells: list[str]
    right: bool = True
    name: bool = False

    def least(self) -> int:
        """The narrowest the column can be without cutting a word."""
        words = _words(self.head)
        if self.name:
            words += [w for cell in self.cells for w in _words(cell)]
            return max(map(len, words), default=1)
        return max([*map(len, words), *map(len, self.cells), 1])

    def most(self) -> int:
        """The width that puts every cell and the header on one line."""
        return max([len(self.head), *map(len, self.cells), 1])


def _words(text: str) -> list[str]:
    return text.split()


def wrap(text: str, width: int) -> list[str]:
    """Lines of `text` at most `width` wide, broken between words (a word wider than the
    column, which `Column.least` prevents, is folded rather than overflowing)."""
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def widths(columns: Sequence[Column], width: int) -> list[int]:
    """Each column's width: its least, then the room left given first to names (so they
    need not wrap), then to headers, as evenly as makes the header take fewest lines."""
    sizes = [c.least() for c in columns]
    room = width - sum(sizes) - len(GAP) * (len(columns) - 1)
    for n, c in enumerate(columns):
        if c.name and room > 0:
            grow = min(room, c.most() - sizes[n])
            sizes[n] += grow
            room -= grow
    for depth in range(1, max(len(wrap(c.head, w)) for c, w in zip(columns, sizes,
                                                                     strict=True))):
        wanted = [w if c.name else _head_width(c.head, depth, w)
                  for c, w in zip(columns, sizes, strict=True)]
        if sum(wanted) - sum(sizes) <= room:
            return wanted
    return sizes


def _head_width(head: str, depth: int, least: int) -> int:
    """The narrowest width, at least `least`, at which `head` takes at most `depth` lines."""
    w = least
    while len(wrap(head, w)) > depth:
        w += 1
    return w


def render(title: str, columns: Sequence[Column], width: int) -> list[str]:
    """A table as lines of text: the title (wrapped), headers (wrapped, aligned at the
    bottom), a rule, then the rows; names wrap onto further lines of their row."""
    sizes = widths(columns, width)
    lines = wrap(title, width) if title else []
    heads = [wrap(c.head, w) for c, w in zip(columns, sizes, strict=True)]
    depth = max(map(len, heads))
    heads = [[""] * (depth - len(h)) + h for h in heads]
    lines += [_row([h[k] for h in heads], columns, sizes) for k in range(depth)]
    lines.append(GAP.join("-" * w for w in sizes))
    for r in range(len(columns[0].cells)):
        parts = [wrap(c.cells[r], w) if c.name else [c.cells[r]]
                 for c, w in zip(columns, sizes, strict=True)]
        for k in range(max(map(len, parts))):
            lines.append(_row([p[k] if k < len(p) else "" for p in parts], columns, sizes))
    return lines


def _row(cells: Sequence[str], columns: Sequence[Column], sizes: Sequence[int]) -> str:
    return GAP.join(cell.rjust(w) if c.right else cell.ljust(w)
                    for cell, c, w in zip(cells, columns, sizes, strict=True)).rstrip()


def fits(columns: Sequence[Column], width: int) -> bool:
    """Whether the columns fit side by side in `width` without cutting a word."""
    return sum(c.least() for c in columns) + len(GAP) * (len(columns) - 1) <= width


def layout(title: str, first: Column, groups: Sequence[Sequence[Column]], width: int,
           notes: Sequence[str] = ()) -> list[str]:
    """One table if every group fits beside `first`, else as many tables as it takes, each
    starting with `first` and holding whole groups (a group too wide alone is split)."""
    tables: list[list[Column]] = []
    for group in groups:
        pieces = [list(group)] if fits([first, *group], width) else [[c] for c in group]
        for piece in pieces:
            if tables and fits([first, *tables[-1], *piece], width):
                tables[-1] += piece
            else:
                tables.append(piece)
    lines: list[str] = []
    for n, columns in enumerate(tables):
        lines += render(title if n == 0 else "", [first, *columns], width)
    for note in notes:
        lines += wrap(note, width)
    return lines


def shorten(names: Sequence[str], width: int) -> list[str]:
    """Names for a column `width` wide: a name too long loses its bracketed asides
    ('Bournemouth Borough Council (unitary)' -> 'Bournemouth Borough Council') unless that
    would make two names alike; what is still too long wraps between words."""
    short = [re.sub(r"\s*\([^)]*\)", "", n).strip() if len(n) > width else n for n in names]
    return [s if s and short.count(s) == 1 else n for s, n in zip(short, names, strict=True)]


# --------------------------------------------------------------------- the default view


def print_run(result: RunResult, console: Console, out: Path, detail: bool = False,
              explain: bool = False) -> None:
    """What a run prints: the answer, the scenarios, who gains and who loses, and the files
    to open (`out`, the report folder); with `detail`, every table as well, and with
    `explain` the glossary."""
    story = tell(result, RULES)
    width = console.width
    lines = headline_lines(story, width)
    lines += ["", *scenario_lines(story, width)]
    lines += ["", *outcome_lines(story, width)]
    lines += ["", *agency_lines(story, width)]
    lines += uncertainty_lines(story, width)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if detail:
        console.print()
        print_comparison(result, console)
        print_uncertainty(result, console)
    print_more(console, detail, explain)
    print_open(console, out, "the full story")


def print_more(console: Console, detail: bool, explain: bool,
               tables: str = "ring-fence prices, fair shares, settlements") -> None:
    """The glossary (`explain`), or where to find it and the other `tables` (`detail`)."""
    if explain:
        console.print()
        print_glossary(console)
    more = [] if detail else [f"--detail prints every table ({tables})"]
    more += [] if explain else ["--explain says what the terms mean"]
    if more:
        say(console, "More: " + "; ".join(more) + ".")


def say(console: Console, text: str) -> None:
    """A paragraph wrapped at the terminal's width, between words."""
    for line in wrap(text, console.width):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def print_open(console: Console, out: Path, what: str, rest: str = "") -> None:
    """The last lines of every run: which files to open, with the folder's full path."""
    folder = out.resolve()
    say(console, f"Open {folder / 'report.html'} ({what}); beside it report.xlsx (every "
                 f"figure), summary.md (to paste into a submission) and results.json with the "
                 f"CSV tables (for programs){rest}.")


def headline_lines(story: Story, width: int) -> list[str]:
    """The place, then the answer in a sentence or two: the story's headline and who gains
    and who loses (the same sentences as report.html and summary.md)."""
    inst = story.instance
    title = f"{inst.name}: {told.years(inst.years)} from {inst.start_year}"
    said = [story.headline.sentence, *told.who_gains(story)]
    said += [f"Scenario {r.scenario} is {r.status}: {r.message.rstrip('.')}."
             for r in story.scenarios.itertuples(index=False) if r.status != "optimal"]
    lines = [*wrap(title, width), ""]
    for sentence in said:
        lines += wrap(sentence, width)
    return lines


def _plan_span(story: Story) -> str:
    inst = story.instance
    last = inst.start_year + inst.years - 1
    return str(inst.start_year) if inst.years == 1 else f"{inst.start_year}-{last}"


def scenario_lines(story: Story, width: int) -> list[str]:
    """Each scenario's objective, net benefit, spend and savings (present value)."""
    inst = story.instance
    rows = story.scenarios
    optimal = rows["status"] == "optimal"
    first = Column("scenario", rows["scenario"].tolist(), right=False)
    columns: list[Column] = []
    if not optimal.all():
        columns.append(Column("status", rows["status"].tolist(), right=False))
    if inst.objective != "net_benefit":
        heads = {"outcomes": "objective (weighted outcomes)", "cost": "objective (cost)"}
        columns.append(Column(heads[inst.objective],
                              [story.objective_text(v) for v in rows["objective"]]))
    account = getattr(story, "account", pd.DataFrame())
    if not account.empty and len(account) == len(rows):
        # the Treasury's split: net benefit = valued outcomes + cash savings - cost
        rows = account.set_index("scenario").loc[rows["scenario"]].reset_index()
        money_columns: tuple[tuple[str, str], ...] = (
            ("net_benefit", "net benefit"), ("outcome_value", "valued outcomes"),
            ("cash_savings", "cash savings"), ("cost", "cost"))
        said = ": net benefit is the valued outcomes plus the cash savings, minus the cost"
    else:
        money_columns = (("net_benefit", "net benefit"), ("spend", "spend"),
                         ("savings", "savings"))
        said = ""
    for key, head in money_columns:
        columns.append(Column(head, [story.money(v) for v in rows[key]]))
    title = (f"Scenarios, in present value over {_plan_span(story)} (discounted at "
             f"{inst.discount_rate:.1%} a year){said}")
    return layout(title, first, [columns], width)


def outcome_lines(story: Story, width: int) -> list[str]:
    """Each outcome a year in each scenario, the mean over the plan, and its target: the
    figures summary.md and report.html give."""
    inst = story.instance
    if not inst.outcomes or story.targets.empty:
        return []
    table = story.targets.set_index(["scenario", "outcome"])
    names = story.scenarios["scenario"].tolist()
    has_target = table["target"].notna().any()
    first = Column("scenario", names + (["target"] if has_target else []), right=False)
    columns = []
    for k in inst.outcomes:
        cells = [told.count(table.loc[(n, k), "achieved"]) if (n, k) in table.index else "-"
                 for n in names]
        if has_target:
            goal = table.loc[table.index.get_level_values("outcome") == k, "target"].dropna()
            cells.append(told.count(goal.iloc[0]) if len(goal) else "")
        columns.append(Column(story.name("outcomes", k), cells))
    title = f"Outcomes a year, the mean over {_plan_span(story)} (as in report.html)"
    return layout(title, first, [[c] for c in columns], width)


def agency_lines(story: Story, width: int) -> list[str]:
    """Each agency's net position, the headline's pooled scenario against its reference and
    the change, then as many other scenarios as fit beside them."""
    inst = story.instance
    head = story.headline
    gains_ = story.gains
    optimal = story.scenarios[story.scenarios["status"] == "optimal"]["scenario"].tolist()
    if gains_.empty or not optimal:
        return []
    nets = gains_.set_index(["scenario", "agency"])
    agencies = list(inst.agencies)

    def column(scenario: str) -> Column:
        cells = []
        for a in agencies:
            row = nets.loc[(scenario, a)]
            cells.append(story.money(row["net"]) + ("*" if row["decided_by_rule"] else ""))
        return Column(scenario, cells)

    columns: list[Column] = []
    if head.net_benefit is not None and head.pooled and head.baseline and head.pooled in optimal:
        columns += [column(head.baseline), column(head.pooled)]
        changes = [nets.loc[(head.pooled, a), "gain"] for a in agencies]
        columns.append(Column("change", [_signed(story, v) for v in changes]))
        title = (f"Who gains and who loses: each agency's net position (present value), "
                 f"{head.pooled} against {head.baseline}")
        others = [n for n in optimal if n not in (head.baseline, head.pooled)]
    else:
        title = "Each agency's net position (present value)"
        others = optimal
    names = [spec.name for spec in inst.agencies.values()]
    room = width - sum(c.least() + len(GAP) for c in columns)
    first = Column("agency", shorten(names, max(room, 12)), right=False, name=True)
    shown: list[Column] = []
    for n in others:  # more scenarios only while every name keeps to one line
        extra = column(n)
        if first.most() + sum(c.least() + len(GAP) for c in [*columns, *shown, extra]) <= width:
            shown.append(extra)
    notes = []
    if any(nets.loc[(c.head, a), "decided_by_rule"] for c in [*columns, *shown]
           if c.head in optimal for a in agencies):
        notes.append("* decided by the tie-break rules among equally good plans "
                     "(optimise --explain).")
    if len(shown) < len(others):
        notes.append("Every scenario's positions: --detail, or report.xlsx (Agencies).")
    return layout(title, first, [columns + shown], width, notes)


def _signed(story: Story, value: float) -> str:
    text = story.money(value)
    return "+" + text if (told.snap(value) or 0) > 0 else text


def uncertainty_lines(story: Story, width: int) -> list[str]:
    """After `--draws`: what the draws say, in the story's sentences."""
    said = told.uncertainty_sentences(story)
    if not said:
        return []
    return ["", *wrap(" ".join(said), width)]


def print_glossary(console: Console) -> None:
    """What the terms of the terminal and the reports mean (`optimise --explain`)."""
    width = console.width
    for term, text in GLOSSARY:
        for line in textwrap.wrap(f"{term}: {text}", width, subsequent_indent="  ",
                                  break_on_hyphens=False):
            console.print(line, markup=False, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------- --detail: every table


def print_comparison(result: RunResult, console: Console) -> None:
    """Each scenario's status and objective, outcomes against targets, agency positions,
    ring-fence prices and who gains and who loses in every pooled scenario."""
    inst = result.instance
    cur = inst.currency
    names = [s.name for s in result.scenarios]
    head = Table(title=f"{inst.name}: {inst.years} years from {inst.start_year}, "
                       f"objective {inst.objective}")
    head.add_column("scenario", overflow="fold")
    head.add_column("status")
    head.add_column("objective (PV)", justify="right")
    head.add_column("spend (PV)", justify="right")
    head.add_column("savings (PV)", justify="right")
    for s in result.scenarios:
        spend = s.agencies["spend"].sum() if s.status == "optimal" else None
        saved = s.agencies["savings"].sum() if s.status == "optimal" else None
        shown = money(s.objective, cur) if inst.objective != "outcomes" else (
            "-" if s.objective is None else f"{s.objective:,.1f}")
        head.add_row(s.name, s.reported_status, shown, money(spend, cur), money(saved, cur))
    console.print(head)
    for s in result.scenarios:
        if s.status != "optimal":
            console.print(f"{s.name} is {s.status}: {s.message}", markup=False, highlight=False)
        elif s.message:
            console.print(f"{s.name}: {s.message}", markup=False, highlight=False)

    targets = told.targets_table(result)
    if not targets.empty:
        table = Table(title="Outcomes a year (mean over the plan; target in brackets)")
        table.add_column("outcome")
        for n in names:
            table.add_column(n, justify="right", overflow="fold")
        mean = targets.set_index(["scenario", "outcome"])
        for k in inst.outcomes:
            row = [inst.outcomes[k].name or k]
            for n in names:
                if (n, k) not in mean.index:
                    row.append("-")
                    continue
                got, target = mean.loc[(n, k), "achieved"], mean.loc[(n, k), "target"]
                row.append(told.count(got) + ("" if pd.isna(target)
                                              else f" ({told.count(target)})"))
            table.add_row(*row)
        console.print(table)

    agencies = result.table("agencies")
    if not agencies.empty:
        table = Table(title="Agency net position (PV: savings - spend + transfers); "
                            "* decided by the tie-break rules")
        table.add_column("agency")
        for n in names:
            table.add_column(n, justify="right", overflow="fold")
        for a, spec in inst.agencies.items():
            row = [spec.name]
            for n in names:
                hit = agencies[(agencies["scenario"] == n) & (agencies["agency"] == a)]
                if hit.empty:
                    row.append("-")
                    continue
                mark = "*" if bool(hit["decided_by_rule"].iloc[0]) else ""
                row.append(money(float(hit["net"].iloc[0]), cur) + mark)
            table.add_row(*row)
        console.print(table)
    print_ring_fence_prices(result, console)
    print_gains(result, console)


def print_ring_fence_prices(result: RunResult, console: Console) -> None:
    """The price of each ring-fence, ranked (when the `ring_fence_prices` analysis ran)."""
    prices = result.analyses.get("ring_fence_prices")
    if not prices:
        return
    inst = result.instance
    reference = next(iter(prices.values()))["reference"]
    gain = {"net_benefit": "net benefit", "outcomes": "weighted outcomes",
            "cost": "cost saved"}[inst.objective]
    table = Table(title=f"Price of each ring-fence: {gain} from lifting it alone, against "
                        f"'{reference}' (PV)")
    table.add_column("rank", justify="right")
    table.add_column("stream")
    table.add_column("agency")
    table.add_column("lift gain", justify="right")
    table.add_column("one more £ a year", justify="right")
    ranked = sorted(prices.items(), key=lambda kv: (kv[1]["rank"] is None, kv[1]["rank"] or 0))
    for stream, entry in ranked:
        spec = inst.streams[stream]
        row = [str(entry["rank"] or "-"), spec.name or stream, inst.agencies[spec.agency].name]
        for key in ("lift_gain", "marginal_value"):
            value = entry[key]
            if value is None:
                row.append("-")
            elif inst.objective == "outcomes":
                row.append(f"{value:,.4g}")
            elif key == "lift_gain":
                row.append(money(value, inst.currency))
            else:
                row.append(pence(value, inst.currency))  # a rate per pound, not an amount
        table.add_row(*row)
    console.print(table)


def print_uncertainty(result: RunResult, console: Console) -> None:
    """The draws: each scenario's objective spread, its chance of beating its reference,
    each agency's chance of ending worse off, and the tornado's top figures."""
    u = result.uncertainty
    if u is None:
        return
    cur = result.instance.currency
    shown = (lambda v: money(v, cur)) if result.instance.objective != "outcomes" else (
        lambda v: "-" if v is None else f"{v:,.1f}")
    table = Table(title=f"Uncertainty: {u.draws} draws, seed {u.seed}, {len(u.figures)} "
                        f"uncertain figures ({u.where}, {u.seconds:.1f} s): each plan at the "
                        "central figures, committed")
    for name in ("scenario", "mean", "p5", "p50", "p95", "targets met", "beats ref",
                 "hindsight mean", "hindsight beats"):
        table.add_column(name, justify="left" if name == "scenario" else "right",
                         overflow="fold")
    committed = {name: u.committed_summary(name) for name in u.scenarios}
    hindsight = {name: u.summary(name) for name in u.scenarios}

    def pct(p: float | None) -> str:
        return "-" if p is None else f"{p:.0%}"

    for name, s in committed.items():
        h = hindsight[name]
        table.add_row(name, shown(s["mean"]), shown(s["p5"]), shown(s["p50"]), shown(s["p95"]),
                      pct(s["p_targets_met"]), pct(s["p_beats_reference"]),
                      shown(h["mean"]), pct(h["p_beats_reference"]))
    console.print(table)
    references = sorted({s["reference"] for s in committed.values() if s["reference"]})
    console.print(
        "Committed: the plan at the central figures buys what its money buys in each draw. "
        "beats ref: the share of draws in which it does better than its reference's "
        f"committed plan ({', '.join(references) or 'none'}). hindsight: every scenario "
        "re-optimised knowing the draw (the best it could have been), over the draws "
        "with a plan.", markup=False, highlight=False)
    compared = [n for n, s in committed.items() if s["p_worse_off"]]
    if compared:
        table = Table(title="Chance each agency ends worse off under the committed plan than "
                            "under the reference's (net position after agreed transfers)")
        table.add_column("agency")
        for n in compared:
            table.add_column(n, justify="right", overflow="fold")
        for a, spec in result.instance.agencies.items():
            table.add_row(spec.name, *(f"{committed[n]['p_worse_off'][a]:.0%}"
                                       for n in compared))
        console.print(table)
    rows = u.tornado().head(10)
    if not rows.empty:
        table = Table(title=f"What moves {u.main} most: its objective with one figure at its "
                            f"low or high, the rest central (base {shown(u.base)})")
        table.add_column("figure", overflow="fold")
        for name in ("low", "high", "at low", "at high", "swing"):
            table.add_column(name, justify="right")
        for r in rows.itertuples(index=False):
            at_low = shown(r.objective_low) if r.status_low == "optimal" else r.status_low
            at_high = shown(r.objective_high) if r.status_high == "optimal" else r.status_high
            table.add_row(r.figure.removeprefix("interventions."), f"{r.low:,.6g}",
                          f"{r.high:,.6g}", at_low, at_high,
                          shown(r.swing) if pd.notna(r.swing) else "-")
        console.print(table)


def print_gains(result: RunResult, console: Console) -> None:
    """For each pooled scenario with a reference: every agency's change against it, its fair
    (Shapley) share of the pooling gain and what the settlement pays or takes; the
    settlement in words."""
    for s in result.scenarios:
        ref = gains.compared(result, s)
        if s.status != "optimal" or s.data is None or not s.data.pooling or ref is None:
            continue
        console.print(gains_table(result, s, ref))
        for line in settlement_sentences(result, s.name):
            console.print(line, markup=False, highlight=False)


def gains_table(result: RunResult, s: ScenarioResult, ref: ScenarioResult) -> Table:
    """The gainers-and-losers table of one pooled scenario."""
    cur = result.instance.currency
    gap = gains.change(result, s)
    assert gap is not None
    shares = result.analyses.get("shapley", {}).get(s.name)
    payments = result.analyses.get("settlement", {}).get(s.name)
    settled = dict.fromkeys(gap.index, 0.0)
    for p in payments or []:
        settled[p["from"]] -= p["amount"]
        settled[p["to"]] += p["amount"]
    table = Table(title=f"Who gains and who loses in {s.name}, against {ref.name} "
                        "(net position, PV)")
    heads = ["agency", ref.name, s.name, "change"]
    heads += [] if shares is None else ["Shapley share"]
    heads += [] if payments is None else ["settlement"]
    for head in heads:
        table.add_column(head, justify="left" if head == "agency" else "right",
                         overflow="fold")
    nets = s.agencies.set_index("agency")["net"]
    for a, spec in result.instance.agencies.items():
        row = [spec.name, money(nets[a] - gap[a], cur), money(nets[a], cur),
               _coloured(gap[a], cur)]
        if shares is not None:
            row.append(money(shares.get(a, 0.0), cur))
        if payments is not None:
            moved = settled[a]
            row.append("" if moved == 0 else ("receives " if moved > 0 else "pays ")
                       + money(abs(moved), cur))
        table.add_row(*row)
    return table


def _coloured(value: float, currency: str) -> str:
    text = money(value, currency)
    if value > 0:
        return f"[green]+{text}[/green]"
    return f"[red]{text}[/red]" if value < 0 else text


def settlement_sentences(result: RunResult, scenario: str) -> list[str]:
    """The scenario's settlement in plain English ('Agency A pays Agency B £x.'); empty
    when the settlement analysis did not run for it."""
    payments = result.analyses.get("settlement", {}).get(scenario)
    if payments is None:
        return []
    cur = result.instance.currency
    names = {a: spec.name for a, spec in result.instance.agencies.items()}
    ref = result.scenario(scenario).reference
    if not payments:
        lines = [f"Settlement for {scenario}: no agency is worse off than in {ref}; "
                 "no payments are needed."]
    else:
        total = sum(p["amount"] for p in payments)
        lines = [f"Settlement for {scenario} (present value; {money(total, cur)} "
                 f"moves in all):"]
        lines += [f"  {names[p['from']]} {told.verb(names[p['from']], 'pays')} {names[p['to']]} "
                  f"{money(p['amount'], cur)}." for p in payments]
    short = result.analyses.get("settlement_shortfall", {}).get(scenario, 0.0)
    if short > 0:
        lines.append(f"  The gains cannot cover every loser: together they stay "
                     f"{money(short, cur)} below their positions in {ref}, each "
                     "made good in the same proportion.")
    return lines


def print_by_scenario(console: Console, title: str, first: str,
                       by_scenario: dict[str, dict[str, float]],
                       label: Callable[[str], str], shown: Callable[[float | None], str]) -> None:
    """A table of items (rows) by scenario (columns), when there are any items."""
    items = sorted({k for values in by_scenario.values() for k in values})
    if not items:
        return
    table = Table(title=title)
    table.add_column(first)
    for name in by_scenario:
        table.add_column(name, justify="right", overflow="fold")
    for item in items:
        table.add_row(label(item), *(shown(values.get(item)) for values in by_scenario.values()))
    console.print(table)


def shown(value: float | None, objective: str, currency: str) -> str:
    """An objective's value: money, or a count for the outcomes objective."""
    if objective == "outcomes":
        return count(value)
    return money(value, currency)


def count(value: float | None) -> str:
    """A whole count for people: 1,234 ('-' when there is none)."""
    return "-" if value is None or pd.isna(value) else f"{value:,.0f}"
