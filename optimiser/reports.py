"""Report writers: results.json and the tidy CSV tables, written atomically.

They read the tidy tables of `optimiser.results`, never Pyomo objects. The
whole folder is written aside and moved into place, so a run killed while
writing leaves the previous report complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from optimiser import __version__
from optimiser.errors import OutputError
from optimiser.markdown import write_markdown
from optimiser.pipeline import RunResult
from optimiser.prices import price_table
from optimiser.results import ScenarioResult
from optimiser.rollup import Rollup, rollup_document
from optimiser.story import tell
from optimiser.workbook import write_workbook

TABLES = ("allocation", "funding", "outcomes", "agencies", "transfers")

RULES = {
    "objective": "Each scenario's objective is optimised first; its value is exact to the "
                 "solver's tolerance.",
    "least_pooling": "Among plans with the optimal objective (within a relative 1e-9), pooled "
                     "scenarios take the one that moves the least money (present value) out of "
                     "ring-fences: pooled money pays only for what the ring-fences would block.",
    "pro_rata_pool": "Money a stream puts into the pool is attributed to the interventions the "
                     "pool pays for in proportion to what the pool pays each.",
    "gain_share": "Where transfers are allowed, each protected agency below its reference is paid "
                  "exactly its shortfall by the agencies above theirs, in proportion to their "
                  "surplus.",
    "decided_by_rule": "An agency's position is marked decided_by_rule where plans with the same "
                       "optimal objective give it different positions (position_min to "
                       "position_max); the rules above chose the figure reported.",
}


def default_out(instance_path: Path) -> Path:
    """reports/<instance file stem>/."""
    return Path("reports") / instance_path.stem


def results_document(result: RunResult) -> dict[str, Any]:
    """The contents of results.json (shared/SPEC.md, 'The command')."""
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
        "scenarios": {s.name: _scenario_document(s) for s in result.scenarios},
        **result.analyses,
    }


def _scenario_document(s: ScenarioResult) -> dict[str, Any]:
    units = {k: g["units"].tolist() for k, g in s.allocation.groupby("intervention", sort=False)}
    outcomes = {k: g["achieved"].tolist() for k, g in s.outcomes.groupby("outcome", sort=False)}
    funding: dict[str, dict[str, list[float]]] = {}
    years = sorted(s.allocation["year"].unique().tolist())
    for (stream, item), g in s.funding.groupby(["stream", "intervention"], sort=False):
        per_year = dict(zip(g["year"], g["amount"], strict=True))
        funding.setdefault(stream, {})[item] = [float(per_year.get(y, 0.0)) for y in years]
    agencies = {
        row.agency: {
            "spend": row.spend, "savings": row.savings, "transfers_in": row.transfers_in,
            "transfers_out": row.transfers_out, "net": row.net,
            "position_min": _num(row.position_min), "position_max": _num(row.position_max),
            "decided_by_rule": bool(row.decided_by_rule),
        }
        for row in s.agencies.itertuples(index=False)
    }
    return {
        "status": s.status,
        "objective": s.objective,
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


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def write_json(result: RunResult, folder: Path) -> None:
    """results.json."""
    document = results_document(result)
    (folder / "results.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")


def write_tables(result: RunResult, folder: Path) -> None:
    """One tidy CSV per table: a row per scenario, item and year."""
    for kind in TABLES:
        frame: pd.DataFrame = result.table(kind)
        frame.to_csv(folder / f"{kind}.csv", index=False, float_format="%.10g",
                     lineterminator="\n")


def write_ring_fence_prices(result: RunResult, folder: Path) -> None:
    """ring_fence_prices.csv: rank, stream, agency, reference, lift_gain, marginal_value.

    Written when the `ring_fence_prices` analysis ran; one row per stream, in rank order.
    """
    if "ring_fence_prices" not in result.analyses:
        return
    price_table(result).to_csv(folder / "ring_fence_prices.csv", index=False,
                               float_format="%.10g", lineterminator="\n")



def write_uncertainty(result: RunResult, folder: Path) -> None:
    """draws.csv (scenario, draw, status, objective) and tornado.csv, after `--draws`."""
    if result.uncertainty is None:
        return
    options: dict[str, Any] = {"index": False, "float_format": "%.10g", "lineterminator": "\n"}
    result.uncertainty.draws_table().to_csv(folder / "draws.csv", **options)
    result.uncertainty.tornado().to_csv(folder / "tornado.csv", **options)


def write_documents(result: RunResult, folder: Path) -> None:
    """report.xlsx, report.html and summary.md: one story, from the figures in results.json."""
    # Loaded here, not at the top: matplotlib takes half a second to import, which runs
    # that stop at invalid input need not pay.
    from optimiser.page import write_page

    story = tell(result, RULES)
    write_workbook(story, folder / "report.xlsx")
    write_page(story, folder / "report.html")
    write_markdown(story, folder / "summary.md")


WRITERS: list[Callable[[RunResult, Path], None]] = [
    write_json, write_tables, write_ring_fence_prices, write_uncertainty, write_documents]
"""Every report writer, called in turn on the staged folder."""


def write_reports(result: RunResult, out: Path) -> Path:
    """Run every writer into a folder beside `out`, then move it into place as `out`."""
    with staged_folder(out) as stage:
        for writer in WRITERS:
            writer(result, stage)
    return out


def check_out(out: Path) -> None:
    """Fail early (exit 2) when `out` cannot be a report folder."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: is a file, not a folder")
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out {out}: cannot write in {parent}")


@contextlib.contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a fresh folder beside `out`; on success, move it into place as `out`.

    The old folder is renamed away just before the new one is renamed in, and
    only then deleted. A run killed at any point leaves either the old report or
    the new one complete (an interrupted swap is undone on the next run).
    """
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        yield stage
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            os.replace(out, old)
        os.replace(stage, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def recover(out: Path) -> None:
    """Undo a swap that a killed run left half done, and clear its leftovers."""
    olds = sorted(out.parent.glob(f".{out.name}.old-*"))
    if not out.exists() and olds:
        os.replace(olds[-1], out)
        olds = olds[:-1]
    for leftover in [*olds, *out.parent.glob(f".{out.name}.new-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


ROLLUP_OUT = Path("reports") / "rollup"
"""Where `optimise` writes a roll-up of several places unless told otherwise."""


def rollup_results(rollup: Rollup) -> dict[str, Any]:
    """The roll-up's results.json: the totals, and where each place's own results are."""
    return {
        "tool": {"name": "optimise", "version": __version__},
        "rollup": rollup_document(rollup),
        "places": {stem: f"{stem}/results.json" for stem in rollup.places},
    }


def write_rollup(rollup: Rollup, out: Path) -> Path:
    """Every place's reports in `out/<stem>/`, and `results.json` and `rollup.csv` beside
    them; all written aside and moved into place together."""
    with staged_folder(out) as stage:
        for stem, result in rollup.places.items():
            folder = stage / stem
            folder.mkdir()
            for writer in WRITERS:
                writer(result, folder)
        document = rollup_results(rollup)
        (stage / "results.json").write_text(json.dumps(document, indent=2, allow_nan=False)
                                            + "\n")
        rollup.table.to_csv(stage / "rollup.csv", index=False, float_format="%.10g",
                            lineterminator="\n")
    return out
