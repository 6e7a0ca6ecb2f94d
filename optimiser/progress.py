"""Progress of a run, stage by stage (scenarios, each analysis, draws, reports), on stderr.

Nothing shows until the run has taken more than SHOW_AFTER seconds, so quick
runs print nothing; then every stage gets a bar of its own. Nothing shows at
all when the console is not a terminal (a pipe, a file, a test), and the bars'
module is then not even imported.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

SHOW_AFTER = 2.0
"""Seconds a run may take before its progress appears."""


class RunProgress:
    """A run's progress: `stage(name, total)` starts a stage (finishing the one before),
    `expect(total)` corrects its total once known, `advance(n)` counts work done.

    Without a console, or on one that is not a terminal, every call does nothing.
    """

    def __init__(self, console: Console | None = None, after: float = SHOW_AFTER) -> None:
        self.enabled = console is not None and console.is_terminal
        self.after = after
        self.started = time.perf_counter()
        self.shown = False
        self.bar: Progress | None = None
        if self.enabled:
            from rich.progress import (  # here: only a terminal shows the bars
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=console, transient=False)
        self.task: TaskID | None = None
        self.total = 1

    def stage(self, description: str, total: int = 1) -> None:
        """Start a stage of `total` units of work; the stage before is complete."""
        if self.bar is None:
            return
        self._finish()
        self.total = max(total, 1)
        self.task = self.bar.add_task(description, total=self.total)
        self._show_when_due()

    def expect(self, total: int) -> None:
        """The current stage has `total` units of work in all."""
        if self.bar is not None and self.task is not None:
            self.total = max(total, 1)
            self.bar.update(self.task, total=self.total)

    def advance(self, n: int = 1) -> None:
        """`n` more units of the current stage are done."""
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, n)
            self._show_when_due()

    def close(self) -> None:
        """Finish the last stage and stop drawing."""
        if self.bar is None:
            return
        self._finish()
        if self.shown:
            self.bar.stop()
            self.shown = False

    def _finish(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.total)
            self.task = None

    def _show_when_due(self) -> None:
        if (self.bar is not None and not self.shown
                and time.perf_counter() - self.started > self.after):
            self.bar.start()
            self.shown = True
