"""The report writers' heavy imports, made early in a background thread.

`prefetch` imports the writers' heavy libraries (networkx for the graph, the page's
modules, xlsxwriter for the workbook) in a background thread while the solver works: HiGHS
lets go of Python's lock while it solves, so the imports cost the run little.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Sequence

PREFETCHED = ("networkx", "optimiser.reports.page", "optimiser.reports.gainsplot",
              "optimiser.reports.workbook")
"""Modules the default run's report writers import, loaded early by `prefetch`."""

_prefetching: threading.Thread | None = None


def prefetch(modules: Sequence[str] = PREFETCHED) -> None:
    """Start importing `modules` in a background thread (once a process; errors ignored:
    whoever needs a module imports it again and sees the error then)."""
    global _prefetching
    if _prefetching is not None or all(m in sys.modules for m in modules):
        return

    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    _prefetching = threading.Thread(target=load, name="optimise-prefetch", daemon=True)
    _prefetching.start()
