"""A place solved as `optimise` solves it, with only results.json written: for the tests
that read nothing else (writing every report, the workbook, the page and its charts, costs
far more than the solving of a small place). tests/test_core.py and tests/test_reports.py
run the real command and write everything."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimiser.analyses import run_analyses
from optimiser.pipeline import run
from optimiser.reports.write import write_json, write_reports


def results_only(path: Path, out: Path, analyses: Sequence[str] = ()) -> tuple[int, dict[str, Any]]:
    """Solve `path`, run `analyses` (none by default), write out/results.json through the
    report writers' staging; return the command's exit status (0 every scenario optimal,
    else 1) and the document."""
    result = run(path)
    run_analyses(result, list(analyses))
    write_reports(result, out, [write_json])
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return (0 if result.all_optimal else 1), document
