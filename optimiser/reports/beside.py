"""Report writers run in a second process beside this one, and their imports made early.

Writing the reports is pure Python (the workbook's cells, matplotlib's charts), so
threads would take turns on Python's lock; a second process writes some of them
at the same time instead. It is a fork of this one, made after the run: it
shares every figure, the prepared story and every module already imported, at
no cost, and writes its files into the same staged folder. Its writers are
named in `ASIDE` by the caller; everything else is written here. The files are
the same bytes either way: the same writers run on the same figures.

If the second process cannot be made (no `fork`, one core) its writers run here,
after the others; if it fails, they run here again, so an error is raised, with
its traceback, exactly as without it. It dies with this process (Linux
`PR_SET_PDEATHSIG`), so a run killed while writing leaves nothing behind.

`prefetch` imports the writers' heavy libraries (matplotlib for the charts,
networkx for the graph) in a background thread while the solver works: HiGHS
lets go of Python's lock while it solves, so the imports cost the run little.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Writer = Callable[[Any, Path], None]

PREFETCHED = ("networkx", "matplotlib", "optimiser.reports.page", "optimiser.reports.gainsplot")
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


def prefetched() -> None:
    """Wait for `prefetch` to finish (no import may be half done when the process forks)."""
    if _prefetching is not None:
        _prefetching.join()


ONE_PROCESS = "OPTIMISE_ONE_PROCESS"
"""Environment variable: set to 1, every writer runs in this process (for measurements)."""


def can_fork() -> bool:
    """Whether writers can run in a second process here: Linux (fork, and the child dies
    with its parent), at least two cores, and not `ONE_PROCESS`."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and (os.cpu_count() or 1) >= 2 and os.environ.get(ONE_PROCESS) != "1")


class Beside:
    """A forked process running some writers into `folder`."""

    def __init__(self, pid: int, pipe: int, writers: list[Writer]) -> None:
        self.pid = pid
        self.pipe = pipe
        self.writers = writers

    @classmethod
    def start(cls, writers: list[Writer], result: Any, folder: Path) -> Beside | None:
        """Fork; the child runs `writers` and exits (0 when all succeeded). None if the
        fork fails."""
        prefetched()
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the child: write, report, exit without running any exit handler
            status = 1
            try:
                os.close(read)
                _die_with(parent)
                for writer in writers:
                    writer(result, folder)
                status = 0
            except BaseException:
                with contextlib.suppress(Exception):
                    os.write(write, traceback.format_exc().encode()[-8000:])
            finally:
                os._exit(status)
        os.close(write)
        return cls(pid, read, writers)

    def finish(self) -> tuple[bool, str]:
        """Wait for the child: (whether every writer succeeded, the child's traceback)."""
        with os.fdopen(self.pipe, "rb") as pipe:
            said = pipe.read().decode(errors="replace")
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status) == 0, said

    def stop(self) -> None:
        """End the child (this process failed or was interrupted) and wait for it."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.pipe)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _die_with(parent: int) -> None:
    """Have the kernel kill this (forked) process when its parent dies (Linux)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def run_writers(writers: Sequence[Writer], aside: Sequence[Writer], result: Any,
                folder: Path) -> None:
    """Every writer of `writers` on `result` into `folder`, those also in `aside` in a
    second process beside this one where possible (module doc)."""
    chosen = list(writers)
    apart = [w for w in chosen if w in aside] if can_fork() else []
    beside = Beside.start(apart, result, folder) if apart else None
    try:
        for writer in chosen:
            if beside is None or writer not in apart:
                writer(result, folder)
    except BaseException:
        if beside is not None:
            beside.stop()
        raise
    if beside is not None:
        done, _ = beside.finish()
        if not done:  # write them here: the same error, if any, with its own traceback
            for writer in apart:
                writer(result, folder)
