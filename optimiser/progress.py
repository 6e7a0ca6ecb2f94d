"""A progress bar that shows itself only once a run has taken more than a couple of seconds."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

SHOW_AFTER = 2.0
"""Seconds a run may take before its progress bar appears."""


@contextlib.contextmanager
def progress_bar(
    total: int, description: str, console: Console, after: float = SHOW_AFTER
) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; the bar (on `console`) appears at the first advance after `after`
    seconds, so quick runs print nothing."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=console, transient=False)
    task = bar.add_task(description, total=total)
    started = time.perf_counter()
    shown = False

    def advance(n: int) -> None:
        nonlocal shown
        bar.advance(task, n)
        if not shown and time.perf_counter() - started > after:
            bar.start()
            shown = True

    try:
        yield advance
    finally:
        if shown:
            bar.stop()
