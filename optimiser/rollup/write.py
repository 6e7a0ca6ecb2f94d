"""The roll-up's files: every place's own report in its folder, and the roll-up's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optimiser import __version__
from optimiser.reports.write import inputs_of, staged_folder, write_all
from optimiser.rollup.draws import rollup_draws
from optimiser.rollup.places import put_files
from optimiser.rollup.totals import Rollup, rollup_document
from optimiser.safe import write_csv

ROLLUP_OUT = Path("reports") / "rollup"
"""Where `optimise` writes a roll-up of several places unless told otherwise."""


def rollup_results(rollup: Rollup) -> dict[str, Any]:
    """The roll-up's results.json: the totals, and where each place's own results are."""
    document = {
        "tool": {"name": "optimise", "version": __version__},
        "rollup": rollup_document(rollup),
        "places": {stem: f"{stem}/results.json" for stem in rollup.places},
    }
    drawn = rollup_draws(rollup)
    if drawn is not None:
        document["uncertainty"] = drawn
    return document


def write_rollup(rollup: Rollup, out: Path) -> Path:
    """Every place's reports in `out/<stem>/`, and beside them the roll-up's `results.json`,
    `rollup.csv`, `report.html`, `report.xlsx` and `summary.md`; all written aside and moved
    into place together."""
    from optimiser.rollup.documents import write_rollup_documents  # only where it is written

    inputs = [path for result in rollup.places.values() for path in inputs_of(result)]
    with staged_folder(out, inputs) as stage:
        for stem, result in rollup.places.items():
            folder = stage / stem
            folder.mkdir()
            if stem in rollup.files:
                put_files(folder, rollup.files[stem])
            else:
                write_all(result, folder)
        document = rollup_results(rollup)
        (stage / "results.json").write_text(json.dumps(document, indent=2, allow_nan=False)
                                            + "\n")
        write_csv(rollup.table, stage / "rollup.csv")
        write_rollup_documents(rollup, stage)
    return out
