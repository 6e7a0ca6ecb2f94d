"""Each agency's position three ways, worked out from results.json alone (independently of
the reports), and read back from the documents a finance lead prints: summary.md's tables
and report.xlsx's 'Who gains' sheet. Shared by tests/test_positions.py (small places) and
tests/test_instances.py (the shipped places with agreements).

The ranges are the contract's: the plan leaves agency a the change g_a = P_a - Pref_a,
which equally good plans could make anything in [min P_a - max Pref_a, max P_a - min
Pref_a]; an agreement then moves money by its rule (docs/contract.md, agreements), so
where it ends follows from g:
- risk share and fair shares: Pref_a + w_a S, S = sum_b g_b, whatever the split of S;
- gain share with S >= 0: a loser is made whole and a gainer keeps g_a S / U
  (U = sum of the gains), so an end in [g_lo+ S / sum g_hi+, min(g_hi+, S)];
- gain share with S < 0: a gainer pays all and a loser keeps g_a (-S) / D, so an end in
  [max(g_lo-, S), g_hi- (-S) / sum |g_lo-|] (x+ = max(x, 0), x- = min(x, 0)).
S itself may differ among equally good plans (results.json's agreement.surplus_min and
surplus_max, where wider than 1e-6 of the scenario's largest spend or savings): then a
risk share's or fair shares' end lies in w_a [S_lo, S_hi], and a gain share's in the
union of the bounds above over S in [max(S_lo, 0), S_hi] and [S_lo, min(S_hi, 0)].
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

REL = 1e-6
NOT_DECIDED = "not decided: equally good sets of services could change it"
"""How a change reads where which services run is not decided (docs/contract.md)."""


@dataclass(frozen=True)
class Position:
    """One agency in one compared scenario."""

    scenario: str
    agency: str
    reference: float
    plan: float
    plan_low: float
    plan_high: float
    moves: float
    ends: float
    ends_low: float
    ends_high: float
    tol: float
    """Below this a change is none: 1e-6 of the scenario's largest change (at least 1)."""
    decided: bool = True
    """Whether which services run is decided in the scenario and its reference (results.json's
    mip.services_decided): where not, no range is known (NaN) and the change reads
    NOT_DECIDED, never a gain or a loss."""

    @property
    def spans_zero(self) -> bool:
        """Whether equally good plans could make where it ends a gain or a loss."""
        return self.ends_low < -self.tol and self.ends_high > self.tol


def positions(doc: dict[str, Any]) -> list[Position]:
    """Every agency of every optimal scenario that results.json compares with an optimal
    reference: where the plan leaves it, what the agreement moves, where it ends."""
    out = []
    scenarios = doc["scenarios"]
    for name, body in scenarios.items():
        ref_name = body.get("reference")
        if body["status"] != "optimal" or not ref_name:
            continue
        ref = scenarios[ref_name]
        if ref["status"] != "optimal":
            continue
        agreed = body.get("agreement")
        plan, low, high, moves = {}, {}, {}, {}
        for a, mine in body["agencies"].items():
            theirs = ref["agencies"][a]
            moved_ref = theirs["transfers_in"] - theirs["transfers_out"]
            moves[a] = mine["transfers_in"] - mine["transfers_out"]
            plan[a] = mine["net"] - moves[a] - theirs["net"]
            low[a] = min(plan[a], mine["position_min"] - theirs["position_max"] - moved_ref)
            high[a] = max(plan[a], mine["position_max"] - theirs["position_min"] - moved_ref)
        ends_low, ends_high = dict(low), dict(high)
        if agreed is not None:
            surplus = sum(plan.values())
            assert abs(surplus - agreed["surplus"]) <= REL * max(1.0, abs(surplus))
            scale = max([1.0] + [abs(f[k]) for f in body["agencies"].values()
                                 for k in ("spend", "savings")])
            s_lo, s_hi = agreed.get("surplus_min"), agreed.get("surplus_max")
            if s_lo is None or s_hi is None or s_hi - s_lo <= REL * scale:
                s_lo = s_hi = surplus
            ends_low, ends_high = _agreed(agreed, plan, low, high, min(s_lo, surplus),
                                          max(s_hi, surplus))
        ends = {a: mine["net"] - ref["agencies"][a]["net"]
                for a, mine in body["agencies"].items()}
        tol = 1e-6 * max(1.0, *(abs(v) for v in ends.values()))
        decided = all(scenarios[n].get("mip", {}).get("services_decided", True)
                      for n in (name, ref_name))
        unknown = {a: math.nan for a in plan}
        if not decided:
            low = high = ends_low = ends_high = unknown
        out += [Position(name, a, ref["agencies"][a]["net"], plan[a], low[a], high[a],
                         moves[a], ends[a], min(ends[a], ends_low[a]) if decided else math.nan,
                         max(ends[a], ends_high[a]) if decided else math.nan, tol, decided)
                for a in body["agencies"]]
    return out


def _agreed(agreed: dict[str, Any], plan: dict[str, float], low: dict[str, float],
            high: dict[str, float], s_lo: float,
            s_hi: float) -> tuple[dict[str, float], dict[str, float]]:
    kind = agreed["kind"]
    if kind in ("risk_share", "fair_shares"):
        shares = agreed.get("shares")
        if not shares:
            return low, high
        ends = [{a: shares.get(a, 0.0) * s for a in plan} for s in (s_lo, s_hi)]
        return ({a: min(e[a] for e in ends) for a in plan},
                {a: max(e[a] for e in ends) for a in plan})
    lows: list[dict[str, float]] = []
    highs: list[dict[str, float]] = []
    if s_hi >= 0:
        gains = sum(max(v, 0.0) for v in high.values())
        lows.append({a: max(low[a], 0.0) * max(s_lo, 0.0) / gains if gains else 0.0
                     for a in plan})
        highs.append({a: min(max(high[a], 0.0), s_hi) for a in plan})
    if s_lo < 0:
        losses = sum(max(-v, 0.0) for v in low.values())
        lows.append({a: max(min(low[a], 0.0), s_lo) for a in plan})
        highs.append({a: min(high[a], 0.0) * -min(s_hi, 0.0) / losses if losses else 0.0
                      for a in plan})
    return ({a: min(d[a] for d in lows) for a in plan},
            {a: max(d[a] for d in highs) for a in plan})


def pounds(value: float, sign: bool = True) -> str:
    """Whole pounds as the tables print a change: +£1,671, -£197, £0."""
    value = 0.0 if abs(value) < 0.5 else value
    text = f"£{abs(value):,.0f}"
    return ("-" + text if value < 0 else "+" + text if value > 0 and sign else text)


def close(got: float, want: float) -> bool:
    return abs(got - want) <= REL * max(1.0, abs(want))


def workbook_rows(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """report.xlsx's 'Who gains' sheet: (scenario, agency) -> its row by header (the second
    'Least' and 'Greatest' belong to where it ends)."""
    sheet = openpyxl.load_workbook(path)["Who gains"]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows))
    keys = ["scenario", "reference", "agreement", "agency", "name", "reference_net", "plan",
            "plan_low", "plan_high", "moves", "ends", "ends_low", "ends_high", "reads"]
    assert header == ["Scenario", "Reference", "Agreement", "Agency", "Name",
                      "Reference position", "The plan leaves it (change)", "Least", "Greatest",
                      "The agreement moves", "It ends (change)", "Least", "Greatest",
                      "Reads as"], header
    out = {}
    for row in rows:
        if row[3] is None:
            break
        entry = dict(zip(keys, row, strict=True))
        out[(entry["scenario"], entry["agency"])] = entry
    return out


def check_workbook(path: Path, doc: dict[str, Any]) -> list[str]:
    """Every compared agency's row in 'Who gains' against results.json."""
    rows = workbook_rows(path)
    problems = []
    for p in positions(doc):
        row = rows.get((p.scenario, p.agency))
        if row is None:
            problems.append(f"{p.scenario}/{p.agency}: no row")
            continue
        for key in ("reference", "plan", "plan_low", "plan_high", "moves", "ends", "ends_low",
                    "ends_high"):
            want = getattr(p, key)
            got = row["reference_net" if key == "reference" else key]
            if math.isnan(want):
                if got is not None:
                    problems.append(f"{p.scenario}/{p.agency} {key}: {got}, not blank")
                continue
            if not close(float(got), want):
                problems.append(f"{p.scenario}/{p.agency} {key}: {got} against {want}")
        problems += _reading(p, str(row["reads"]))
    return problems


def _reading(p: Position, reads: str) -> list[str]:
    """A change whose services are not decided reads NOT_DECIDED; one whose range spans zero
    'could gain or lose, <low> to <high>'; any other reads as its sign says."""
    if not p.decided:
        ok = reads == NOT_DECIDED
    elif p.spans_zero:
        ok = reads.startswith("could gain or lose, ")
    else:
        want = "gain" if p.ends > p.tol else "loss" if p.ends < -p.tol else None
        ok = reads == want if want else reads not in ("gain", "loss")
    return [] if ok else [f"{p.scenario}/{p.agency} reads {reads!r} ({p})"]


def markdown_tables(text: str) -> dict[str, dict[str, list[str]]]:
    """summary.md's who-gains tables: scenario -> agency display name -> its cells."""
    out: dict[str, dict[str, list[str]]] = {}
    for block in re.split(r"\n(?=## )", text):
        found = re.match(r"## Who gains and who loses(?: in (\S+) \(against| \((\S+) against)",
                         block)
        if not found:
            continue
        scenario = found.group(1) or found.group(2)
        lines = [line for line in block.splitlines() if line.startswith("| ")][2:]
        out[scenario] = {cells[0]: cells[1:] for line in lines
                         for cells in [[c.strip() for c in line.strip("|").split(" | ")]]}
    return out


def check_markdown(text: str, doc: dict[str, Any], names: dict[str, str],
                   agreed_only: bool = False) -> list[str]:
    """Every agreement scenario's table in summary.md (and the headline's, unless
    `agreed_only`) against results.json: the figures, each range where it has one, and the
    reading."""
    tables = markdown_tables(text)
    problems = []
    for p in positions(doc):
        agreed = "agreement" in doc["scenarios"][p.scenario]
        if agreed_only and not agreed:
            continue
        if p.scenario not in tables:
            if agreed:
                problems.append(f"{p.scenario}: no table in summary.md")
            continue
        cells = tables[p.scenario].get(names[p.agency])
        if cells is None:
            problems.append(f"{p.scenario}/{p.agency}: no row")
            continue
        if agreed:
            plan, moves, ends, reads = cells[1], cells[2], cells[3], cells[4]
            problems += _cell(p, "plan", plan, p.plan, p.plan_low, p.plan_high)
            if moves != pounds(p.moves):
                problems.append(f"{p.scenario}/{p.agency} moves {moves} against {p.moves}")
        else:
            ends, reads = cells[2], cells[3]
        problems += _cell(p, "ends", ends, p.ends, p.ends_low, p.ends_high)
        problems += _reading(p, reads)
        if reads.startswith("could gain or lose, ") and reads != (
                f"could gain or lose, {pounds(p.ends_low)} to {pounds(p.ends_high)}"):
            problems.append(f"{p.scenario}/{p.agency} reads {reads}")
        if cells[0] != pounds(p.reference, sign=False):
            problems.append(f"{p.scenario}/{p.agency} reference {cells[0]}")
        if (p.spans_zero or not p.decided) and not agreed:  # the headline's sentence too
            name = names[p.agency]
            problems += [f"{p.scenario}/{p.agency}: '{name} {verb}' in the summary"
                         for verb in ("gains £", "gain £", "loses £", "lose £")
                         if f"{name} {verb}" in text]
    return problems


def _cell(p: Position, what: str, cell: str, value: float, low: float, high: float) -> list[str]:
    """'+£1,671' or, where equally good plans could give another figure, '+£1,671 (-£1,278
    to +£1,671)'."""
    want = pounds(value) + (f" ({pounds(low)} to {pounds(high)})" if high - low > p.tol
                            else "")
    # the range is shown wherever the reports find one wider than their tolerance (relative
    # to the scenario's largest change): accept it shown where it is below a pound
    alone = pounds(value)
    if cell == want or (cell.startswith(alone) and pounds(low) == pounds(high) == alone):
        return []
    return [f"{p.scenario}/{p.agency} {what}: {cell!r}, want {want!r}"]


CHANGE = re.compile(
    r'<td class="num[^"]*" data-value="([^"]+)" data-src="scenarios/([^/"]+)/'
    r'(?:agencies/([^/"]+)/net - scenarios/[^/"]+/agencies/[^/"]+/net|'
    r'agreement/positions/([^/"]+)/plan - [^"]+)">[^<]*'
    r'(?:<span class="sub range" data-low="([^"]+)" data-high="([^"]+)">(.*?)</span>)?'
    r"</td>(?:<td>([^<]*)</td>)?")
"""A change cell of report.html's who-gains tables: its value, scenario, agency (where it
ends, or where the plan leaves it), its range where it has one, and the reading after it."""


def check_page(text: str, doc: dict[str, Any]) -> list[str]:
    """Every agreement scenario's change cells in report.html (and the headline's) against
    results.json: the change where the plan leaves it and where it ends, each range (data-low,
    data-high, and the text between) and the reading."""
    import html

    found: dict[tuple[str, str, str], tuple[float, str | None, str | None, str, str]] = {}
    for m in CHANGE.finditer(text):
        value, scenario, ends_of, plan_of, low, high, shown, reads = m.groups()
        key = (scenario, ends_of or plan_of, "ends" if ends_of else "plan")
        shown = re.sub(r"<[^>]+>", "", shown or "")  # the figures' own spans
        found[key] = (float(value), low, high, html.unescape(shown),
                      html.unescape(reads or ""))
    problems = []
    for p in positions(doc):
        agreed = "agreement" in doc["scenarios"][p.scenario]
        for what in (("plan", "ends") if agreed else ("ends",)):
            cell = found.get((p.scenario, p.agency, what))
            if cell is None:
                if agreed:
                    problems.append(f"{p.scenario}/{p.agency} {what}: no cell")
                continue
            value, low, high, shown, reads = cell
            want = getattr(p, what)
            lo, hi = getattr(p, f"{what}_low"), getattr(p, f"{what}_high")
            if not close(value, want):
                problems.append(f"{p.scenario}/{p.agency} {what}: {value} against {want}")
            if (low is None) == (p.decided and hi - lo > p.tol):
                problems.append(f"{p.scenario}/{p.agency} {what}: range {low}, {high} against "
                                f"{lo}, {hi}")
            elif low is not None and high is not None and not (
                    close(float(low), lo) and close(float(high), hi)
                    and shown == f"{pounds(lo)} to {pounds(hi)}"):
                problems.append(f"{p.scenario}/{p.agency} {what}: range {shown} ({low}, "
                                f"{high}) against {lo}, {hi}")
            if what == "ends":
                problems += _reading(p, reads)
    return problems
