"""Report writers: results.json and the tidy CSV tables, written atomically.

They read the tidy tables of `optimiser.solving.results`, never Pyomo objects. The
whole folder is written aside and moved into place, so a run killed while
writing leaves the previous report complete.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimiser import __version__
from optimiser.analyses.gains import combined_graph, wrong_pockets
from optimiser.analyses.limits import limits_table
from optimiser.analyses.prices import price_table
from optimiser.errors import OutputError
from optimiser.pipeline import RunResult
from optimiser.reports.markdown import write_markdown
from optimiser.reports.story import (
    Story,
    account_table,
    diagnosis_table,
    picture_not_drawn,
    tell,
)
from optimiser.safe import formatted_once, printable, write_csv
from optimiser.solving.results import ScenarioResult, written_rows

TABLES = ("allocation", "funding", "outcomes", "agencies", "transfers")
"""The tidy tables written one CSV each; `agencies_by_year.csv` (the `cash` table) and
`account.csv` are written beside them (`write_tables`)."""

RULES = {
    "objective": "Each scenario's objective is optimised first; its value is exact to the "
                 "solver's tolerance.",
    "least_pooling": "Among plans with the optimal objective (within a relative 1e-9), pooled "
                     "scenarios take the one that moves the least money (present value) out of "
                     "ring-fences: pooled money pays only for what the ring-fences would block.",
    "services_set_up": "Where services have set-up costs, minimum scales or tiers, which ones "
                       "run among equally good plans is decided by rule, never by branch and "
                       "bound: least pooling over every on/off choice, then the least set-up "
                       "cost committed (present value), then the fewest services run (years "
                       "and tier bands counted), then the services whose ids sort first, "
                       "earliest year first (ids, never positions in the file); where a "
                       "branch and bound proves that no other set of choices meets the rules "
                       "before the ids, the choices are decided without them. The rules need a "
                       "proven optimum; above 120 on/off choices the ids decide the first 12 "
                       "only. Where which services run is not decided (a plan stopped with a "
                       "gap or time limit, a rule not proven, or a larger place with equally "
                       "good sets left), the scenario's mip.services_decided is false, its "
                       "message says so, and no position another set could change is called a "
                       "gain or a loss.",
    "proportional_shares": "Among the plans left by the rules above, the plan reported is the "
                           "one nearest to proportional shares, the unique plan minimising the "
                           "sum over every payment of (payment)^2 / (what its payer could pay): "
                           "each stream puts money into the pool in proportion to what it may "
                           "pool, streams whose ring-fences hold the same service pay for it in "
                           "proportion to their budgets, the pool pays for services in "
                           "proportion to what each could use, and equally good services are "
                           "bought in proportion to what each could use, as far as budgets, "
                           "ring-fences and limits allow. It does not depend on the order the "
                           "instance lists anything.",
    "pro_rata_pool": "Money a stream puts into the pool is attributed to the interventions the "
                     "pool pays for in proportion to what the pool pays each.",
    "gain_share": "Where transfers are allowed, each protected agency below its reference is paid "
                  "exactly its shortfall by the agencies above theirs, in proportion to their "
                  "surplus.",
    "decided_by_rule": "An agency's position is marked decided_by_rule where plans with the same "
                       "optimal objective give it different positions (position_min to "
                       "position_max); the rules above decide the figure reported, completely, "
                       "and the range says how far another rule could move it.",
    "settlement": "For each pooled scenario without transfers: the payments that bring every "
                  "agency back to at least its net position in the reference scenario, straight "
                  "from the agencies above theirs to those below, so exactly the total shortfall "
                  "moves (whole pence, present value). Where it has a choice it pays back along "
                  "wrong pockets (a gainer pays an agency whose delivery saved it money), and "
                  "among those it takes the payments nearest to each loser being paid by the "
                  "gainers in proportion to their gains. Where "
                  "the gains cannot cover every loser, each is made good in the same proportion "
                  "and settlement_shortfall says what is left uncovered. Where which services "
                  "run is not decided in the scenario or its reference, no settlement is "
                  "proposed and settlement_not_decided says why.",
    "shapley": "For each pooled scenario without incentives: each agency's Shapley value of the "
               "pooling game, whose players are the agencies and where a coalition's value is "
               "the scenario's objective with every stream held outside it unable to pool "
               "(pool_share 0); the gain is the improvement on ring-fencing (a fall in cost for "
               "the cost objective), and the shares add up to it. Exact up to 16 agencies with "
               "poolable money; beyond, estimated from sampled pairs of joining orders (each "
               "order and its reverse) until every standard error is within a thousandth of "
               "the gain or a budget set by the model's size is spent (the standard errors "
               "and how the sample was drawn in the scenario's pooling_game).",
}


def default_out(instance_path: Path) -> Path:
    """reports/<instance file stem>/."""
    return Path("reports") / instance_path.stem


def results_document(result: RunResult, to_write: bool = False) -> dict[str, Any]:
    """The contents of results.json (docs/contract.md, 'The command'); `to_write` (for
    `json_text`), each scenario's funding as a `FundingText`, the same JSON."""
    inst = result.instance
    return {
        "instance": {
            "name": inst.name,
            "file": str(result.prepared.path),
            "sha256": result.prepared.sha256,
            "currency": inst.currency,
            "start_year": inst.start_year,
            "years": inst.years,
            "discount_rate": inst.discount_rate,
            "objective": inst.objective,
            **({"tables": result.prepared.source.tables} if result.prepared.source.tables
               else {}),
        },
        "tool": {"name": "optimise", "version": __version__},
        "rules": RULES,
        "scenarios": {s.name: _scenario_document(s, to_write) for s in result.scenarios},
        **result.analyses,
    }


def _scenario_document(s: ScenarioResult, to_write: bool = False) -> dict[str, Any]:
    units = _grouped(s.allocation, "intervention", "units")
    outcomes = _grouped(s.outcomes, "outcome", "achieved")
    years = sorted(s.allocation["year"].unique().tolist())
    funding: Any = (FundingText(s.funding, years) if to_write
                    else _funding_document(s.funding, years))
    spend, savings = _grouped(s.cash, "agency", "spend"), _grouped(s.cash, "agency", "savings")
    by_year = {agency: {"spend": spend[agency], "savings": savings[agency]} for agency in spend}
    agencies = {
        row.agency: {
            "spend": row.spend, "savings": row.savings, "transfers_in": row.transfers_in,
            "transfers_out": row.transfers_out, "net": row.net,
            "position_min": _num(row.position_min), "position_max": _num(row.position_max),
            "decided_by_rule": bool(row.decided_by_rule),
            "by_year": by_year.get(row.agency, {"spend": [], "savings": []}),
        }
        for row in s.agencies.itertuples(index=False)
    }
    return {
        "status": s.reported_status,
        "objective": s.objective,
        "account": dict(s.account),
        "message": s.message,
        "reference": s.reference,
        "units": units,
        "funding": funding,
        "outcomes": outcomes,
        "agencies": agencies,
        "transfers": [{"from": r[1], "to": r[2], "amount": r[3]}
                      for r in s.transfers.itertuples(index=False)],
        **s.extra,
    }


def _grouped(frame: pd.DataFrame, key: str, column: str) -> dict[Any, list[Any]]:
    """key -> the list of `column`'s values in its rows, in table order, keys in the order
    they first appear (as `frame.groupby(key, sort=False)[column]` lists them), read a
    column at a time rather than a group at a time."""
    codes, keys = pd.factorize(frame[key], sort=False)
    if (codes < 0).any():  # a missing key: grouped as pandas groups it
        return {k: g[column].tolist() for k, g in frame.groupby(key, sort=False)}
    values = frame[column].to_numpy()[np.argsort(codes, kind="stable")].tolist()
    ends = np.cumsum(np.bincount(codes, minlength=len(keys))).tolist()
    return {k: values[start:end]
            for k, start, end in zip(keys.tolist(), [0, *ends][:-1], ends, strict=True)}


def _funding_document(funding: pd.DataFrame,
                      years: list[int]) -> dict[str, dict[str, list[float]]]:
    """stream -> intervention -> money a year (0 where a year has none), streams and their
    interventions in the order they first appear in the funding table."""
    out: dict[str, dict[str, list[float]]] = {}
    index, table = _funding_table(funding, years)
    for (stream, item), row in zip(index, table.tolist(), strict=True):
        out.setdefault(stream, {})[item] = row
    return out


def _funding_table(funding: pd.DataFrame,
                   years: list[int]) -> tuple[list[tuple[Any, Any]], np.ndarray]:
    """The (stream, intervention) pairs of the funding table in the order they first appear,
    and (pair, year) the money in `years` (0 where a year has none)."""
    pairs, index = _pairs(funding["stream"], funding["intervention"])
    kept = funding["year"].isin(years).to_numpy()
    table = np.zeros((len(index), len(years)))
    table[pairs[kept], np.searchsorted(years, funding["year"].to_numpy()[kept])] = (
        funding["amount"].to_numpy()[kept])
    return index, table


class FundingText:
    """A scenario's results.json `funding` (`_funding_document`) that `json_text` writes
    straight from the funding table, a stream at a time: each distinct number's repr made
    once, each year's list joined from them. The same text as the object written by
    `json_text` (a number that is not finite is refused by writing the object)."""

    def __init__(self, funding: pd.DataFrame, years: list[int]) -> None:
        self.funding, self.years = funding, years

    def text(self, indent: str) -> Iterator[str]:
        """The funding object's JSON as `json_text(_funding_document(...), indent)` writes it."""
        index, table = _funding_table(self.funding, self.years)
        if not index or not np.isfinite(table).all():
            yield from json_text(_funding_document(self.funding, self.years), indent)
            return
        rows = map(", ".join, formatted_once(table, repr).tolist())
        inner, deeper = indent + "  ", indent + "    "
        keys: dict[Any, str] = {}
        streams: dict[Any, list[str]] = {}
        for (stream, item), row in zip(index, rows, strict=True):
            key = keys.get(item)
            if key is None:
                key = keys[item] = _PLAIN.encode(_json_key(item))
            streams.setdefault(stream, []).append(f"\n{deeper}{key}: [{row}]")
        yield "{"
        for n, (stream, lines) in enumerate(streams.items()):
            yield (f"{',' if n else ''}\n{inner}{_PLAIN.encode(_json_key(stream))}: {{"
                   + ",".join(lines) + f"\n{inner}}}")
        yield f"\n{indent}}}"


def _pairs(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """Each row's (first, second) pair as a code into the distinct pairs, in the order they
    first appear (as `pd.factorize` of the two columns' MultiIndex gives them), found from
    each column's codes rather than from a tuple a row."""
    a, a_keys = pd.factorize(first.to_numpy(dtype=object), sort=False)
    b, b_keys = pd.factorize(second.to_numpy(dtype=object), sort=False)
    if (a < 0).any() or (b < 0).any() or not len(b_keys):  # a missing key, or no rows
        pairs, index = pd.factorize(pd.MultiIndex.from_arrays([first, second]))
        return pairs, list(index)
    codes, found = pd.factorize(a.astype(np.int64) * len(b_keys) + b, sort=False)
    return codes, list(zip(a_keys.take(found // len(b_keys)).tolist(),
                           b_keys.take(found % len(b_keys)).tolist(), strict=True))


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def write_json(result: RunResult, folder: Path) -> None:
    """results.json (`json_text`)."""
    document = results_document(result, to_write=True)
    with open(folder / "results.json", "w", encoding="utf-8") as out:
        out.writelines(json_text(document))
        out.write("\n")


def json_text(value: Any, indent: str = "") -> Iterator[str]:
    """`value` as JSON, in pieces: an object a member a line, indented two spaces a level;
    a list of numbers (or other plain values) on one line, as the contract's yearly
    figures are read; any other list an item a line. The same document as
    `json.dumps(value, indent=2)` (nothing rounded, NaN refused), at about half the size
    on a large place; an object's members on one line each are joined into one piece."""
    inner = indent + "  "
    if isinstance(value, FundingText):
        yield from value.text(indent)
    elif isinstance(value, dict) and value:
        run = ["{"]
        comma = ""
        for key, item in value.items():
            run.append(f"{comma}\n{inner}{_PLAIN.encode(_json_key(key))}: ")
            comma = ","
            if isinstance(item, FundingText) or _nested(item):
                yield "".join(run)
                run = []
                yield from json_text(item, inner)
            else:  # as the last branch below writes it, without a call a member
                run.append(_plain_text(item))
        run.append(f"\n{indent}}}")
        yield "".join(run)
    elif _nested(value):
        yield "["
        for n, item in enumerate(value):
            yield f"\n{inner}" if n == 0 else f",\n{inner}"
            yield from json_text(item, inner)
        yield f"\n{indent}]"
    else:
        yield _plain_text(value)


_PLAIN = json.JSONEncoder(allow_nan=False)
"""`json.dumps(value, allow_nan=False)`'s encoder, made once."""
_NUMBERS = frozenset({float, int})
"""The types of a list `_plain_text` writes itself: JSON writes each as its `repr`."""
_FLAT = frozenset({float, int, str, bool, type(None)})
"""Types that are never written over several lines."""


def _plain_text(value: Any) -> str:
    """`json.dumps(value, allow_nan=False)`: a list of finite floats and ints (a year's
    figures) joined from each number's repr, as the encoder writes them; anything else,
    or a number that is not finite (refused), through the encoder."""
    if type(value) is list and _NUMBERS.issuperset(map(type, value)):
        text = ", ".join(map(repr, value))
        if "n" not in text:  # 'nan', 'inf': no finite number's repr has an n
            return f"[{text}]"
    return _PLAIN.encode(value)


def _nested(value: Any) -> bool:
    """Whether `json_text` writes `value` over several lines: a non-empty object, or a
    list holding an object or a list."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list | tuple) and not _FLAT.issuperset(map(type, value)) and any(
        isinstance(v, dict | list | tuple) for v in value)


def _json_key(key: Any) -> str:
    """A member name as `json.dumps` writes a key that is not a string."""
    return key if isinstance(key, str) else json.dumps(key)


def write_tables(result: RunResult, folder: Path) -> None:
    """One tidy CSV per table: a row per scenario, item and year (`written_rows`: without
    the allocation's rows of interventions not bought that year)."""
    for kind in TABLES:
        frame: pd.DataFrame = written_rows(kind, result.table(kind))
        write_csv(frame, folder / f"{kind}.csv")
    write_csv(result.table("cash"), folder / "agencies_by_year.csv")
    write_csv(account_table(result), folder / "account.csv")


def write_diagnosis(result: RunResult, folder: Path) -> None:
    """diagnosis.csv: every infeasible scenario's least shortfall, a row per requirement.

    Written when some scenario is infeasible.
    """
    frame = diagnosis_table(result)
    if frame.empty:
        return
    write_csv(frame, folder / "diagnosis.csv")


def write_ring_fence_prices(result: RunResult, folder: Path) -> None:
    """ring_fence_prices.csv: rank, stream, agency, reference, lift_gain, marginal_value.

    Written when the `ring_fence_prices` analysis ran; one row per stream, in rank order.
    """
    if "ring_fence_prices" not in result.analyses:
        return
    write_csv(price_table(result), folder / "ring_fence_prices.csv")


def write_limits(result: RunResult, folder: Path) -> None:
    """limits.csv: every scenario's binding limits with their prices (when the limits
    analysis ran)."""
    if "limits" not in result.analyses:
        return
    write_csv(limits_table(result.analyses["limits"]).drop(columns="src"),
              folder / "limits.csv")


def write_uncertainty(result: RunResult, folder: Path) -> None:
    """draws.csv (scenario, draw, status, objective), draw_figures.csv (draw, figure, value;
    every digit, so that any draw can be recomputed) and tornado.csv, after `--draws`."""
    if result.uncertainty is None:
        return
    write_csv(result.uncertainty.draws_table(), folder / "draws.csv")
    write_csv(result.uncertainty.draw_figures(), folder / "draw_figures.csv", float_format=None)
    write_csv(result.uncertainty.tornado(), folder / "tornado.csv")


def write_gains(result: RunResult, folder: Path) -> None:
    """gains.graphml (every optimal scenario's agency graph in one) and wrong_pockets.csv."""
    if not any(s.status == "optimal" for s in result.scenarios):
        return
    import networkx as nx  # here: a tenth of a second

    graph = combined_graph(result)
    for _node, attributes in graph.nodes(data=True):  # names: XML cannot hold control codes
        attributes.update({k: printable(v) for k, v in attributes.items() if isinstance(v, str)})
    nx.write_graphml(graph, folder / "gains.graphml")
    write_csv(wrong_pockets(result), folder / "wrong_pockets.csv")


def write_gains_pictures(result: RunResult, folder: Path) -> None:
    """gains.svg: the picture of the money between the agencies (`gainsplot`), where the
    scenario it shows has decided positions (`optimiser.reports.story.picture_not_drawn`;
    the page says why where it does not)."""
    from optimiser.reports import gainsplot

    shown = gainsplot.headline(result)
    if shown is not None and picture_not_drawn(result, shown) is None:
        gainsplot.write_gains_pictures(result, folder)


DOCUMENTS = ("xlsx", "html", "md")


def write_documents(result: RunResult, folder: Path,
                    parts: Sequence[str] = DOCUMENTS) -> None:
    """report.xlsx, report.html and summary.md (or those of them in `parts`): one story,
    from the figures in results.json."""
    story = story_of(result)
    if "xlsx" in parts:
        from optimiser.reports.workbook import write_workbook  # xlsxwriter: only here

        write_workbook(story, folder / "report.xlsx")
    if "html" in parts:
        # Loaded here, not at the top: the page's modules (networkx among them) are
        # imported only by runs that write it.
        from optimiser.reports.page import write_page

        write_page(story, folder / "report.html")
    if "md" in parts:
        write_markdown(story, folder / "summary.md")


def write_page_document(result: RunResult, folder: Path) -> None:
    """report.html (`write_documents`)."""
    write_documents(result, folder, ("html",))


def write_book_documents(result: RunResult, folder: Path) -> None:
    """report.xlsx and summary.md (`write_documents`)."""
    write_documents(result, folder, ("xlsx", "md"))


_told: tuple[RunResult, Story] | None = None
"""The story of the reports being written (`write_all`), told once for every document."""
_last_told: tuple[RunResult, Story] | None = None
"""The story the last `write_all` told, for the terminal to print (`told_story`)."""


def told_story(result: RunResult) -> Story | None:
    """The story the last reports written were told from, if they were `result`'s (the
    command prints it right after writing them, so it is told once), else None."""
    return _last_told[1] if _last_told is not None and _last_told[0] is result else None


def story_of(result: RunResult) -> Story:
    """`tell(result)`: the story being written if it is `result`'s, else told afresh."""
    if _told is not None and _told[0] is result:
        return _told[1]
    return tell(result, RULES)


WRITERS: list[Callable[[RunResult, Path], None]] = [
    write_json, write_tables, write_diagnosis, write_ring_fence_prices, write_limits,
    write_uncertainty, write_gains, write_gains_pictures, write_page_document,
    write_book_documents]
"""Every report writer, called in turn on the staged folder."""

def write_all(result: RunResult, folder: Path,
              writers: Sequence[Callable[[RunResult, Path], None]] | None = None) -> None:
    """Every writer of WRITERS (or `writers`) on `result` into `folder`, in turn; the story
    the documents tell is told once."""
    global _told, _last_told
    chosen = WRITERS if writers is None else writers
    _last_told = None
    if any(w in (write_page_document, write_book_documents, write_documents) for w in chosen):
        _told = _last_told = (result, tell(result, RULES))
    try:
        for writer in chosen:
            writer(result, folder)
    finally:
        _told = None


def write_reports(result: RunResult, out: Path,
                  writers: Sequence[Callable[[RunResult, Path], None]] | None = None) -> Path:
    """Run every writer (or those given: a test that reads only results.json asks for
    `[write_json]`) into a folder beside `out`, then move it into place as `out`."""
    with staged_folder(out, inputs_of(result)) as stage:
        write_all(result, stage, writers)
    return out


def inputs_of(result: RunResult) -> list[Path]:
    """The files a run read: the instance and every table it names."""
    return [result.prepared.path, *map(Path, result.prepared.source.tables)]


MANIFEST = ".optimise-manifest.json"
"""The list of files a report holds, written last into its folder: `optimise` removes or
replaces only the files a manifest lists (and the manifest itself)."""
EARLIER_NAMES = frozenset({
    "results.json", *(f"{kind}.csv" for kind in TABLES), "diagnosis.csv",
    "ring_fence_prices.csv", "draws.csv", "tornado.csv", "gains.graphml", "wrong_pockets.csv",
    "gains.png", "report.xlsx", "report.html", "summary.md", "rollup.csv", "account.csv",
    "agencies_by_year.csv", "draw_figures.csv", "limits.csv"})
"""What a report folder held before reports carried a manifest: such a folder (its
results.json from optimise) is taken as optimise's when it holds these names only."""
MAX_LISTED = 3


def write_manifest(folder: Path) -> None:
    """`folder`/MANIFEST: every file below `folder`, as '/'-separated relative paths."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not p.is_symlink() and p.name != MANIFEST)
    document = {"tool": "optimise", "version": __version__, "files": files}
    (folder / MANIFEST).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def report_files(folder: Path) -> set[str] | None:
    """The files below `folder` that optimise wrote ('/'-separated relative paths, the
    manifest included), or None when the folder is not a report of optimise's.

    From the folder's manifest; for a folder written before manifests, its results.json
    (from optimise) and the files with the names a report had then (`EARLIER_NAMES`).
    """
    try:
        document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = None
    if isinstance(document, dict) and document.get("tool") == "optimise" and isinstance(
            document.get("files"), list):
        files = {f for f in document["files"] if isinstance(f, str) and _relative(f)}
        return files | {MANIFEST}
    if not is_report_folder(folder):
        return None
    found = set()
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if (path.is_file() and not path.is_symlink() and path.name in EARLIER_NAMES
                and len(relative.parts) <= 2):
            found.add(relative.as_posix())
    return found


def _relative(name: str) -> bool:
    """Whether a manifest entry is a plain path inside the folder (no '..', not absolute)."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..")
                                                            for p in parts)


def foreign_files(folder: Path, ours: set[str]) -> list[str]:
    """Entries below `folder` that are not optimise's (files, links, pipes; folders that
    hold none of `ours`), as relative paths, in order."""
    parents = {"/".join(f.split("/")[:n]) for f in ours for n in range(1, f.count("/") + 1)}
    found: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root).relative_to(folder)
        for name in sorted(dirs):
            relative = (here / name).as_posix()
            if relative not in parents or (Path(root) / name).is_symlink():
                found.append(relative + "/")
        dirs[:] = [d for d in dirs if (here / d).as_posix() in parents
                   and not (Path(root) / d).is_symlink()]
        found += [(here / name).as_posix() for name in sorted(files)
                  if (here / name).as_posix() not in ours
                  or not (Path(root) / name).is_file() or (Path(root) / name).is_symlink()]
    return sorted(found)


def check_out(out: Path, inputs: Sequence[Path] = ()) -> None:
    """Fail early (OutputError, exit 2) when `out` cannot be a report folder.

    `out` must be a folder that does not exist yet, an empty folder, or a report
    folder optimise wrote holding nothing else (the report replaces it whole: a
    folder holding other files, the run's instance or tables among them, is refused
    rather than emptied); and it must be somewhere files can be written.
    """
    if out.is_symlink() and not out.exists():
        raise OutputError(f"--out {out}: is a link to nothing")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file, not a folder")
    where = out.resolve()
    for path in inputs:
        if path.resolve().is_relative_to(where):
            raise OutputError(
                f"--out {out}: holds {path}, which this run reads; the report replaces its "
                "folder whole, so choose a folder of its own (e.g. reports/<name>)")
    parent = where.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"--out {out}: {parent} is a file, not a folder")
    if out.is_dir():
        _check_contents(out)
    _check_writable(out, out if out.is_dir() else parent)
    _check_writable(out, where.parent if where.parent.exists() else parent)


def _check_contents(out: Path) -> None:
    """OutputError unless the folder is empty or holds only a report of optimise's."""
    try:
        if not any(out.iterdir()):
            return
        ours = report_files(out)
        foreign = foreign_files(out, ours or set())
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot read the folder: {exc.strerror or exc}"
                          ) from None
    if not foreign:
        return
    listed = ", ".join(foreign[:MAX_LISTED]) + (
        f" and {len(foreign) - MAX_LISTED} more" if len(foreign) > MAX_LISTED else "")
    what = ("is a folder of other files" if ours is None else
            "holds files optimise did not write")
    raise OutputError(f"--out {out}: {what} ({listed}); a report replaces its folder whole "
                      "and optimise removes only files it wrote, so choose a new or empty "
                      "folder, or move those files out")


def _check_writable(out: Path, folder: Path) -> None:
    """OutputError unless a folder can be made (and removed) in `folder`."""
    try:
        probe = tempfile.mkdtemp(prefix=".optimise-probe-", dir=folder)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write in {folder}: "
                          f"{exc.strerror or exc}") from None


def is_report_folder(folder: Path) -> bool:
    """True when `folder` holds a results.json that optimise wrote."""
    try:
        document = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    tool = document.get("tool") if isinstance(document, dict) else None
    return isinstance(tool, dict) and tool.get("name") == "optimise"


@contextlib.contextmanager
def staged_folder(out: Path, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    """Yield a fresh folder beside `out`; on success, move it into place as `out`.

    The writers fill `.<name>.new-<pid>-*`; its manifest is written and its files
    flushed to disk, then it swaps places with the old report in one atomic step
    where the system allows (Linux `renameat2(RENAME_EXCHANGE)`), else by two renames
    with the old one parked as `.<name>.old-<pid>`. A run killed at any point leaves
    the old report or the new one complete at `out`, except in the instant between
    the two renames, which the next run undoes (`recover`). Interrupted (Ctrl-C) or
    failed writes remove the staged folder and leave `out` untouched. Of the old
    report only the files its manifest lists are deleted: anything put there while
    the run was going stays, in `.<name>.old-<pid>`.
    """
    check_out(out, inputs)
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        recover(out)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-{os.getpid()}-",
                                      dir=out.parent))
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot write in {out.parent}: "
                          f"{exc.strerror or exc}") from None
    swapped = False
    try:
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it private; a report is not
        yield stage
        write_manifest(stage)
        _flush(stage)
        if out.exists() and _exchange(stage, out):
            swapped = True  # `stage` now holds the old report
            _park(stage, out)
        else:
            _swap_by_renames(stage, out)
            swapped = True
        _flush_folder(out.parent)
    except BaseException as exc:
        if not swapped:
            shutil.rmtree(stage, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(f"--out {out}: cannot write the report: "
                              f"{exc.strerror or exc}") from None
        raise


def discard(folder: Path) -> bool:
    """Delete the files of the report in `folder` that optimise wrote, then the folders
    left empty; True when nothing else was there (the folder is gone)."""
    ours = report_files(folder) or set()
    for name in sorted(ours):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
    for root, _dirs, _files in sorted(os.walk(folder), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(root)
    return not folder.exists()


def _park(old: Path, out: Path) -> None:
    """Discard the old report now at `old`; what optimise did not write stays, renamed to
    `.<name>.old-<pid>` beside `out`."""
    if not discard(old):
        os.replace(old, out.parent / f".{out.name}.old-{os.getpid()}")


def _swap_by_renames(stage: Path, out: Path) -> None:
    """Park the old report, rename the new one in, then delete the old (restored on failure)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    parked = out.exists()
    if parked:
        os.replace(out, old)
    try:
        os.replace(stage, out)
    except BaseException:
        if parked:
            os.replace(old, out)
        raise
    discard(old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    rename = getattr(_libc(), "renameat2", None) if sys.platform.startswith("linux") else None
    if rename is None:
        return False
    at_fdcwd, exchange = -100, 2
    done = rename(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), exchange)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV):
        return False  # the file system or kernel cannot exchange: fall back to renames
    raise OSError(code, os.strerror(code), str(b))


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to load
        return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _flush(folder: Path) -> None:
    """fsync every file in `folder`, then the folder, so a crash cannot leave empty files."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _flush_folder(folder)


def _flush_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - folders cannot be opened on this system
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse to sync folders
        pass
    finally:
        os.close(fd)


def recover(out: Path) -> None:
    """Undo a swap that a killed run left half done, and clear dead runs' leftovers.

    Leftovers of a run that is still going (its process id is alive) are left alone.
    """
    olds = sorted((p for p in out.parent.glob(f".{out.name}.old-*") if not _alive(p)),
                  key=lambda p: p.stat().st_mtime)
    if not out.exists() and olds:
        os.replace(olds[-1], out)
        olds = olds[:-1]
    for old in olds:  # a parked old report: only its files that optimise wrote go
        with contextlib.suppress(OSError):
            discard(old)
    for new in out.parent.glob(f".{out.name}.new-*"):  # staged folders: all optimise's
        if not _alive(new):
            shutil.rmtree(new, ignore_errors=True)


def _alive(leftover: Path) -> bool:
    """Whether the run that made `.<name>.new-<pid>-*` or `.<name>.old-<pid>` is still going."""
    tail = leftover.name.rsplit(".", 1)[-1]  # new-<pid>-xxxx or old-<pid>
    pid = tail.split("-")[1] if tail.count("-") >= 1 else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True
