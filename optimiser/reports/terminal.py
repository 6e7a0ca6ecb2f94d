"""What `optimise` prints: the answer first, on one screen; every table behind `--detail`.

By default (`print_run`) at most about 60 lines, none wider than the terminal: the
headline in a sentence or two (the story's own, as report.html and summary.md say it),
the scenarios (money in present value; outcomes a year, the mean over the plan: the
documents' basis), who gains and who loses, and last which files to open and where.
Tables are laid out here as plain text (`Column`, `layout`): a column is as wide as its
figures, headers and names wrap at word boundaries, names lose a bracketed aside before
they wrap, and a group of columns that does not fit beside the others goes to a table of
its own; nothing is cut mid-word. `--detail` adds every other table, laid out the same
way, and `--explain` the glossary.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from optimiser.analyses import gains
from optimiser.format import money
from optimiser.pipeline import RunResult
from optimiser.reports import story as told
from optimiser.reports.story import Story, tell
from optimiser.reports.write import RULES
from optimiser.solving.results import ScenarioResult

GAP = "  "
"""Between two columns."""
SCREEN = 60
"""Lines the default view aims to keep within."""
FOOTER = 4
"""Lines after the tables: where to find more (one), the files to open (two or three)."""

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
     "least money pooled; where services have set-up costs, the least set-up money "
     "committed, the fewest services run, then ids in alphabetical order; then the plan "
     "nearest to proportional shares (each partner pools in proportion to what it may pool). "
     "A position marked * would differ under another of the equally good plans."),
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
    """Each column's width: its least, then the room left given to headers up to two lines
    each, then to names a character at a time (so each wraps as little as the others),
    then to headers again, as evenly as makes them take fewest lines."""
    sizes = [c.least() for c in columns]
    room = width - sum(sizes) - len(GAP) * (len(columns) - 1)

    def heads(depth: int) -> list[int]:
        return [w if c.name else _head_width(c.head, depth, w)
                for c, w in zip(columns, sizes, strict=True)]

    two = heads(2)
    if sum(two) - sum(sizes) <= room:
        room -= sum(two) - sum(sizes)
        sizes = two
    names = [n for n, c in enumerate(columns) if c.name]
    while room > 0 and names:
        names = [n for n in names if sizes[n] < columns[n].most()]
        for n in names[:room]:
            sizes[n] += 1
            room -= 1
    deepest = max(len(wrap(c.head, w)) for c, w in zip(columns, sizes, strict=True))
    for depth in range(1, deepest):
        wanted = heads(depth)
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
    # names keep their full width when they can (at most half the line): more tables
    # rather than names wrapped over many lines
    keep = max(first.least(), min(first.most(), width // 2)) if first.name else 0
    kept = Column(first.head, ["x" * keep], right=first.right) if keep else first
    for group in groups:
        pieces = [list(group)] if fits([kept, *group], width) else [[c] for c in group]
        for piece in pieces:
            if tables and fits([kept, *tables[-1], *piece], width):
                tables[-1] += piece
            else:
                tables.append(piece)
    lines: list[str] = []
    for n, columns in enumerate(tables):
        lines += render(title, [first, *columns], width) if n == 0 else [
            "", *render("", [first, *columns], width)]
    for note in notes:
        lines += wrap(note, width)
    return lines


def shorten(names: Sequence[str], width: int) -> list[str]:
    """Names for a column `width` wide: a name too long loses its bracketed asides
    ('Bournemouth Borough Council (unitary)' -> 'Bournemouth Borough Council') unless that
    would make two names alike; what is still too long wraps between words."""
    short = [re.sub(r"\s*\([^)]*\)", "", n).strip() if len(n) > width else n for n in names]
    return [s if s and short.count(s) == 1 else n for s, n in zip(short, names, strict=True)]


CUT = "..."
"""Ends a name `one_line` shortened after a whole word."""


def one_line(names: Sequence[str], width: int) -> list[str]:
    """Names for a column `width` wide, each on one line where it can be: a name too long
    loses its bracketed asides (`shorten`), then words, never part of one: first its last
    words ('cap of Whole-family key worker for...'), and where two names would then read
    alike, words from its middle instead, keeping its end ('cap of Whole-family key...
    in the south'); names alike even so are kept as `shorten` leaves them, to wrap, so no
    two rows read the same unless their names do."""
    short = shorten(names, width)
    level = [0] * len(short)
    while True:
        shown = [_cut(n, width, k) for n, k in zip(short, level, strict=True)]
        alike = [k for k, text in enumerate(shown)
                 if level[k] < 2 and any(shown[j] == text and short[j] != short[k]
                                         for j in range(len(shown)) if j != k)]
        if not alike:
            return shown
        for k in alike:
            level[k] += 1


def _cut(name: str, width: int, level: int) -> str:
    """`name` within `width` by whole words (`one_line`): level 0 keeps its first words,
    1 its first and last words (the last up to half the width), 2 all of them."""
    if len(name) <= width or level >= 2:
        return name
    words = name.split()
    tail: list[str] = []
    if level == 1:
        while len(words) > 1 and len(" ".join([words[-1], *tail])) <= width // 2:
            tail.insert(0, words.pop())
    end = CUT + (" " + " ".join(tail) if tail else "")
    head = ""
    for word in words:
        if len(f"{head} {word}".strip()) + len(end) > width:
            break
        head = f"{head} {word}".strip()
    return head + end if head else name


# --------------------------------------------------------------------- the default view


def print_run(result: RunResult, console: Console, out: Path, detail: bool = False,
              explain: bool = False, story: Story | None = None) -> None:
    """What a run prints: the answer, the scenarios, who gains and who loses, and the files
    to open (`out`, the report folder); with `detail`, every table as well, and with
    `explain` the glossary. `story`: the run's story if already told (the one its reports
    were written from), else told here."""
    if story is None:
        story = tell(result, RULES)
    width = console.width
    lines = headline_lines(story, width)
    lines += ["", *scenario_lines(story, width)]
    outcomes = outcome_lines(story, width)
    rest = ["", *agency_lines(story, width), *uncertainty_lines(story, width)]
    compact = len(lines) + len(outcomes) + len(rest) + FOOTER > SCREEN
    if compact:
        outcomes = outcome_lines(story, width, compact=True)  # a long list of outcomes
    lines += ["", *outcomes, *rest]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if detail:
        for line in detail_lines(story, width, outcomes=compact):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    print_more(console, detail, explain)
    print_open(console, out, "the full story")


def print_more(console: Console, detail: bool, explain: bool,
               tables: str = "every table") -> None:
    """The glossary (`explain`), or where to find it and the other `tables` (`detail`)."""
    if explain:
        console.print()
        print_glossary(console)
    more = [] if detail else [f"--detail for {tables}"]
    more += [] if explain else ["--explain for the terms"]
    if more:
        say(console, "More: " + ", ".join(more) + ".")


def say(console: Console, text: str) -> None:
    """A paragraph wrapped at the terminal's width, between words."""
    for line in wrap(text, console.width):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def print_open(console: Console, out: Path, what: str, rest: str = "") -> None:
    """The last lines of every run: which files to open, ending with the folder's full path
    (so the last line names it)."""
    say(console, f"Open report.html ({what}), report.xlsx (every figure) or summary.md (to "
                 f"paste), written with results.json and the CSVs{rest} to "
                 f"{out.resolve()}{os.sep}")


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
    """Each scenario's status (when some has no plan), objective (when it is not net
    benefit), and its account in present value: net benefit, valued outcomes, cash savings
    and cost."""
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
    account = story.account
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


def outcome_lines(story: Story, width: int, compact: bool = False) -> list[str]:
    """Each outcome a year in each scenario, the mean over the plan, and its target: the
    figures summary.md and report.html give. A row per scenario and a column per outcome;
    `compact` (many outcomes) turns it round: a row per outcome, and a column for the
    headline's two scenarios, the target, and as many others as fit."""
    inst = story.instance
    if not inst.outcomes or story.targets.empty:
        return []
    table = story.targets.set_index(["scenario", "outcome"])
    names = story.scenarios["scenario"].tolist()
    has_target = table["target"].notna().any()
    title = f"Outcomes a year, the mean over {_plan_span(story)} (as in report.html)"

    def achieved(n: str, k: str) -> str:
        return told.count(table.loc[(n, k), "achieved"]) if (n, k) in table.index else "-"

    def target(k: str) -> str:
        goal = table.loc[table.index.get_level_values("outcome") == k, "target"].dropna()
        return told.count(goal.iloc[0]) if len(goal) else ""

    if compact:
        head = story.headline
        shown: list[str] = [n for n in (head.baseline, head.pooled)
                            if n is not None and n in names] or names[:1]
        columns = [Column(n, [achieved(n, k) for k in inst.outcomes]) for n in shown]
        if has_target:
            columns.append(Column("target", [target(k) for k in inst.outcomes]))
        first = Column("outcome", [story.name("outcomes", k) for k in inst.outcomes],
                       right=False, name=True)
        room = width - sum(c.least() + len(GAP) for c in columns)
        first = Column("outcome", shorten(first.cells, max(room, 12)), right=False, name=True)
        for n in names:
            extra = Column(n, [achieved(n, k) for k in inst.outcomes])
            if n not in shown and first.most() + sum(
                    c.least() + len(GAP) for c in [*columns, extra]) <= width:
                columns.append(extra)
        return layout(title, first, [columns], width)
    first = Column("scenario", names + (["target"] if has_target else []), right=False)
    columns = []
    for k in inst.outcomes:
        cells = [achieved(n, k) for n in names] + ([target(k)] if has_target else [])
        columns.append(Column(story.name("outcomes", k), cells))
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
    return layout(title, first, [columns + shown], width, notes)


def _signed(story: Story, value: float) -> str:
    text = story.money(value)
    return "+" + text if (told.snap(value) or 0) > 0 else text


def uncertainty_lines(story: Story, width: int) -> list[str]:
    """After `--draws`: what the draws say, and how any robust plan compares with its
    central plan, in the story's sentences."""
    said = told.uncertainty_sentences(story) + [s for _, s in told.robust_sentences(story)]
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


def detail_lines(story: Story, width: int, outcomes: bool = False) -> list[str]:
    """Every table behind the default view, as plain text `width` wide: the scenarios'
    notes, every scenario's outcomes (when the default view gave only some: `outcomes`)
    and agency positions, the price of each ring-fence, who gains and who loses in each
    pooled scenario with fair shares and settlements, and the draws."""
    result = story.result
    lines: list[str] = []
    for s in result.scenarios:
        if s.status == "optimal" and s.message:
            lines += ["", *wrap(f"{s.name}: {s.message}", width)]
    if outcomes:
        lines += ["", *outcome_lines(story, width)]
    lines += ["", *all_agency_lines(story, width)]
    lines += price_lines(story, width)
    lines += limit_lines(story, width)
    for s in result.scenarios:
        ref = gains.compared(result, s)
        if s.status == "optimal" and s.data is not None and s.data.pooling and ref is not None:
            lines += ["", *gains_lines(story, s, ref, width)]
            for note in [*told.agreement_sentences(story, s.name),
                         *told.fair_share_notes(story, s.name)]:
                lines += wrap(note, width)
            for sentence in settlement_sentences(result, s.name):
                indent = " " * (len(sentence) - len(sentence.lstrip()))
                lines += textwrap.wrap(sentence, width, subsequent_indent=indent + "  ",
                                       break_on_hyphens=False)
    lines += draw_lines(story, width)
    return lines


def all_agency_lines(story: Story, width: int) -> list[str]:
    """Each agency's net position in every scenario with a plan (* decided by rule)."""
    nets = story.gains.set_index(["scenario", "agency"])
    optimal = story.scenarios[story.scenarios["status"] == "optimal"]["scenario"].tolist()
    if nets.empty or not optimal:
        return []
    agencies = list(story.instance.agencies)
    columns = [Column(n, [story.money(nets.loc[(n, a), "net"])
                          + ("*" if nets.loc[(n, a), "decided_by_rule"] else "")
                          for a in agencies]) for n in optimal]
    first = Column("agency", [story.name("agencies", a) for a in agencies], right=False,
                   name=True)
    return layout("Each agency's net position in every scenario (present value: savings - "
                  "spend + transfers; * decided by the tie-break rules)", first,
                  [[c] for c in columns], width)


def price_lines(story: Story, width: int) -> list[str]:
    """The price of each ring-fence, ranked (when the `ring_fence_prices` analysis ran)."""
    prices = story.prices
    if prices.empty:
        return []
    inst = story.instance
    gain = {"net_benefit": "net benefit", "outcomes": "weighted outcomes",
            "cost": "cost saved"}[inst.objective]
    rows = list(prices.itertuples(index=False))

    def figure(value: float | None, rate: bool) -> str:
        if value is None or pd.isna(value):
            return "-"
        if inst.objective == "outcomes":
            return f"{value:,.4g}"
        return story.rate(value) if rate else story.money(value)  # a rate: to the penny

    columns = [
        Column("stream", [story.name("streams", r.stream) for r in rows], right=False,
               name=True),
        Column("agency", [story.name("agencies", r.agency) for r in rows], right=False,
               name=True),
        Column("lift gain", [figure(r.lift_gain, False) for r in rows]),
        Column("one more £ a year", [figure(r.marginal_value, True) for r in rows]),
    ]
    first = Column("rank", ["-" if pd.isna(r.rank) else str(int(r.rank)) for r in rows])
    reference = rows[0].reference
    return ["", *layout(f"The price of each ring-fence: {gain} from lifting it alone, against "
                        f"{reference} (present value)", first, [columns], width)]


SHOWN_LIMITS = 5
"""How many limits `--detail` shows (the documents show them all)."""


def limit_lines(story: Story, width: int) -> list[str]:
    """The limits that matter most in the scenario the documents tell (`limits_focus`):
    at most SHOWN_LIMITS, largest gain from one unit more room first (ties: largest loss),
    with the loss from one unit less, and where the rest are (when `limits` ran); each
    limit on one line (`one_line`)."""
    focus = told.limits_focus(story)
    if focus is None:
        return []
    mine = story.limits[story.limits["scenario"] == focus].to_dict("records")
    if not mine:
        return []

    def size(value: Any) -> float:
        return -1.0 if value is None or pd.isna(value) else float(value)

    mine.sort(key=lambda r: (-size(r["gain"]), -size(r["loss"])))
    shown = mine[:SHOWN_LIMITS]

    def figure(value: Any, edge: bool = False) -> str:
        if edge:
            return "no plan"
        if value is None or pd.isna(value):
            return "-"
        v = float(value)
        if story.instance.objective == "outcomes":
            return f"{v:,.4g}"
        return story.rate(v) if abs(v) < 100 else story.money(v)

    columns = [Column("one more", [figure(r["gain"]) for r in shown]),
               Column("one fewer", [figure(r["loss"], r["pricing"] == "edge") for r in shown])]
    room = width - sum(c.least() + len(GAP) for c in columns)
    # each limit on one line (its full words are in the documents and limits.csv)
    first = Column("limit", one_line([f"{told.LIMIT_WORDS[r['kind']]} of "
                                      f"{story.name(told.LIMIT_KINDS[r['kind']], r['item'])}"
                                      for r in shown], room), right=False, name=True)
    notes = []
    if any(r["pricing"] == "degenerate" for r in shown):
        notes.append("Where the two differ, another limit binds at the same point.")
    rest = len(mine) - len(shown)
    notes.append((f"{rest} more, and " if rest else "") + "what each means: 'What limits the "
                 "plan' in report.html and summary.md, and limits.csv.")
    what = {"net_benefit": "net benefit", "cost": "cost saved",
            "outcomes": "weighted outcomes"}[story.instance.objective]
    return ["", *layout(f"What limits {focus} most: {what} from one unit more room, and lost "
                        "with one unit less", first, [columns], width, notes)]


def gains_lines(story: Story, s: ScenarioResult, ref: ScenarioResult,
                width: int) -> list[str]:
    """Who gains and who loses in one pooled scenario: each agency's position against its
    reference, its fair (Shapley) share of the gain, what the settlement pays or takes."""
    result = story.result
    gap = gains.change(result, s)
    assert gap is not None
    shares = result.analyses.get("shapley", {}).get(s.name)
    payments = result.analyses.get("settlement", {}).get(s.name)
    settled = dict.fromkeys(gap.index, 0.0)
    for p in payments or []:
        settled[p["from"]] -= p["amount"]
        settled[p["to"]] += p["amount"]
    agencies = list(story.instance.agencies)
    nets = s.agencies.set_index("agency")["net"]
    columns = [Column(ref.name, [story.money(nets[a] - gap[a]) for a in agencies]),
               Column(s.name, [story.money(nets[a]) for a in agencies]),
               Column("change", [_signed(story, gap[a]) for a in agencies])]
    agreed = s.extra.get("agreement")
    if isinstance(agreed, dict):  # where the plan leaves each, what the agreement moves
        rows = agreed["positions"]
        columns[2:2] = [
            Column("plan leaves", [_signed(story, rows[a]["plan"] - rows[a]["reference"])
                                   for a in agencies]),
            Column("agreement moves", [_signed(story, rows[a]["moves"]) for a in agencies])]
        columns[-1] = Column("ends", [_signed(story, gap[a]) for a in agencies])
    rows_of = story.gains[story.gains["scenario"] == s.name].set_index("agency")
    tol = told.change_tolerance(rows_of["gain"])
    columns.append(Column("reads as", [
        told.reads_as(story, float(rows_of.loc[a, "gain"]), float(rows_of.loc[a, "gain_low"]),
                      float(rows_of.loc[a, "gain_high"]), tol) for a in agencies], right=False))
    if shares is not None:
        mine = story.shapley[story.shapley["scenario"] == s.name].set_index("agency")
        errors = mine["standard_error"].reindex(agencies)
        if errors.notna().any():  # a sampled estimate is printed with its standard error
            columns.append(Column("Shapley share (sampled, ± standard error)", [
                f"{story.money(shares.get(a, 0.0))} ± {story.money(float(errors[a]))}"
                for a in agencies]))
        else:
            columns.append(Column("Shapley share", [story.money(shares.get(a, 0.0))
                                                    for a in agencies]))
    if payments is not None:
        columns.append(Column("settlement", [
            "" if settled[a] == 0 else ("receives " if settled[a] > 0 else "pays ")
            + story.money(abs(settled[a])) for a in agencies]))
    first = Column("agency", [story.name("agencies", a) for a in agencies], right=False,
                   name=True)
    split = 5 if isinstance(agreed, dict) else 3
    title = f"Who gains and who loses in {s.name}, against {ref.name} (net position, present value"
    if isinstance(agreed, dict):
        title += f"; agreement: {str(agreed['kind']).replace('_', ' ')}"
    return layout(title + ")", first, [columns[:split], columns[split:]], width)


def draw_lines(story: Story, width: int) -> list[str]:
    """After `--draws`: each scenario's spread, each agency's chance of ending worse off,
    and the figures that move the objective most."""
    u = story.uncertainty
    if u is None:
        return []
    shown = story.objective_text
    spread = u.spread
    hindsight = u.hindsight.set_index("scenario").reindex(spread["scenario"])
    groups = [
        [Column(head, [shown(v) for v in spread[key]]) for head, key in
         (("mean", "mean"), ("p5", "p5"), ("p50", "p50"), ("p95", "p95"))],
        [Column("targets met", [told.share(v) for v in spread["p_targets_met"]]),
         Column("beats ref", [told.share(v) for v in spread["p_beats_reference"]])],
        [Column("hindsight mean", [shown(v) for v in hindsight["mean"]]),
         Column("hindsight beats", [told.share(v) for v in hindsight["p_beats_reference"]])],
    ]
    references = sorted({r for r in spread["reference"] if isinstance(r, str) and r})
    lines = ["", *layout(
        f"Uncertainty: {u.draws:,} draws, seed {u.seed}, {u.figures} uncertain figures: each "
        "plan at the central figures, committed",
        Column("scenario", spread["scenario"].tolist(), right=False), groups, width,
        ["Committed: the plan at the central figures buys what its money buys in each draw. "
         "beats ref: the share of draws in which it does better than its reference's "
         f"committed plan ({', '.join(references) or 'none'}). hindsight: every scenario "
         "re-optimised knowing the draw (the best it could have been), over the draws with "
         "a plan."])]
    worse = u.worse_off
    if not worse.empty:
        compared = list(dict.fromkeys(worse["scenario"]))
        chance = worse.set_index(["scenario", "agency"])["probability"]
        agencies = list(story.instance.agencies)
        lines += ["", *layout(
            "Chance each agency ends worse off under the committed plan than under the "
            "reference's (net position after agreed transfers)",
            Column("agency", [story.name("agencies", a) for a in agencies], right=False,
                   name=True),
            [[Column(n, [told.share(chance.get((n, a))) for a in agencies])]
             for n in compared], width)]
    rows = u.tornado.head(10)
    if not rows.empty:
        def end(r: object, side: str) -> str:
            status = getattr(r, f"status_{side}")
            return shown(getattr(r, f"objective_{side}")) if status == "optimal" else status

        rows_ = list(rows.itertuples(index=False))
        columns = [Column("low", [f"{r.low:,.6g}" for r in rows_]),
                   Column("high", [f"{r.high:,.6g}" for r in rows_]),
                   Column("at low", [end(r, "low") for r in rows_]),
                   Column("at high", [end(r, "high") for r in rows_]),
                   Column("swing", [shown(r.swing) if pd.notna(r.swing) else "-"
                                    for r in rows_])]
        lines += ["", *layout(
            f"What moves {u.main} most: its objective with one figure at its low or high, "
            f"the rest central (base {shown(u.base)})",
            Column("figure", [told.figure_name(story.instance, r.figure) for r in rows_],
                   right=False, name=True), [columns], width)]
    return lines


def print_uncertainty(result: RunResult, console: Console) -> None:
    """The draws' tables on their own (benchmarks/uncertainty.py)."""
    for line in draw_lines(tell(result, RULES), console.width):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def settlement_sentences(result: RunResult, scenario: str) -> list[str]:
    """The scenario's settlement in plain English ('Agency A pays Agency B £x.'), or why
    none is proposed (results.json's `settlement_not_decided`); empty when the settlement
    analysis did not run for it."""
    payments = result.analyses.get("settlement", {}).get(scenario)
    why = result.analyses.get("settlement_not_decided", {}).get(scenario)
    if why is not None:
        return told.unsettled_sentences({scenario: why})
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
        lines += [f"  {names[p['from']]} {told.verb(names[p['from']], 'pays')} "
                  f"{names[p['to']]} {money(p['amount'], cur)}." for p in payments]
    short = result.analyses.get("settlement_shortfall", {}).get(scenario, 0.0)
    if short > 0:
        lines.append(f"  The gains cannot cover every loser: together they stay "
                     f"{money(short, cur)} below their positions in {ref}, each "
                     "made good in the same proportion.")
    return lines


def print_by_scenario(console: Console, title: str, first: str,
                      by_scenario: dict[str, dict[str, float]],
                      label: Callable[[str], str], shown: Callable[[float | None], str]) -> None:
    """A table of items (rows) by scenario (columns), when there are any items, laid out as
    every table here (`layout`): a scenario's id is a header never broken, underscores and
    all; scenarios that do not fit beside the others go to a table of their own."""
    items = sorted({k for values in by_scenario.values() for k in values})
    if not items:
        return
    columns = [[Column(name, [shown(values.get(item)) for item in items])]
               for name, values in by_scenario.items()]
    lines = layout(title, Column(first, [label(item) for item in items], right=False,
                                 name=True), columns, console.width)
    for line in [*lines, ""]:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def shown(value: float | None, objective: str, currency: str) -> str:
    """An objective's value: money, or a count for the outcomes objective."""
    if objective == "outcomes":
        return count(value)
    return money(value, currency)


def count(value: float | None) -> str:
    """A whole count for people: 1,234 ('-' when there is none)."""
    return "-" if value is None or pd.isna(value) else f"{value:,.0f}"
