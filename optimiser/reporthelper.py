"""A second process that writes the slowest reports while this one writes the rest.

On a large place the reports take seconds (the charts, the workbook). When the
machine has a core to spare, a helper process (`python -m optimiser.reporthelper`,
a fresh interpreter) is started as soon as the place is loaded, so that its
imports (matplotlib above all) happen while this process solves. When the
reports are due it is sent the figures (the run's results without the solver's
objects, pickled) and writes the web page and the gains picture
(`optimiser.reports.write_helped`) into the same staged folder while this
process writes the others. A file has the same bytes whichever process writes
it. A helper that is not ready when the reports are due is not waited for: this
process writes everything itself.

The two talk through the helper's stdin and stdout: it says `ready`, is sent one
job (a length and a pickle), and answers `done` or the traceback of its failure.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import select
import struct
import subprocess
import sys
import traceback
from pathlib import Path
from typing import IO

from optimiser.pipeline import Prepared, RunResult
from optimiser.placemodel import PlaceModels
from optimiser.progress import RunProgress

HELP_FROM = 2_000
"""Figures (interventions x years x scenarios) from which the reports are worth a helper."""

READY = b"ready\n"


def worth_helping(prepared: Prepared) -> bool:
    """Whether a place's reports are large enough, and the machine has a core to spare."""
    inst = prepared.instance
    size = len(inst.interventions) * inst.years * max(len(prepared.runs), 1)
    return size >= HELP_FROM and (os.cpu_count() or 1) > 1


class ReportHelper:
    """A helper process, from its start (`start`) to its end (`close`)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.warm = False

    @classmethod
    def start(cls) -> ReportHelper:
        """Start a helper on this interpreter, able to import this copy of optimiser."""
        root = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(
            [sys.executable, "-m", "optimiser.reporthelper"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path})
        return cls(process)

    def ready(self) -> bool:
        """Whether the helper has finished its imports (never waits)."""
        out = self.process.stdout
        if (not self.warm and out is not None and self.process.poll() is None
                and select.select([out], [], [], 0)[0]):
            self.warm = out.readline() == READY
        return self.warm

    def submit(self, result: RunResult, folder: Path) -> None:
        """Send the helper `result`'s figures; it starts writing into `folder`."""
        job = pickle.dumps((portable(result), str(folder)), protocol=pickle.HIGHEST_PROTOCOL)
        assert self.process.stdin is not None
        self.process.stdin.write(struct.pack("<Q", len(job)) + job)
        self.process.stdin.close()

    def wait(self) -> None:
        """Wait until the helper has written its files; RuntimeError if it failed."""
        assert self.process.stdout is not None
        answer = self.process.stdout.read().decode("utf-8", "replace")
        self.process.wait()
        if answer.strip() != "done":
            raise RuntimeError("the report helper failed: "
                               + (answer.strip() or f"it stopped ({self.process.returncode})"))

    def close(self) -> None:
        """Stop the helper (at once, if it is still importing or writing)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def portable(result: RunResult) -> RunResult:
    """`result` without what lives in HiGHS (models, their handles), so it can be pickled."""
    scenarios = [dataclasses.replace(s, lp=None, model=None) for s in result.scenarios]
    return dataclasses.replace(result, scenarios=scenarios, models=PlaceModels(),
                               progress=RunProgress())


def serve(jobs: IO[bytes], answers: IO[bytes]) -> None:
    """The helper: import the writers, say so, write the one job sent, say how it went."""
    from optimiser import page, reports  # noqa: F401 - matplotlib, imported while waiting

    answers.write(READY)
    answers.flush()
    head = jobs.read(8)
    if len(head) < 8:
        return
    job = jobs.read(struct.unpack("<Q", head)[0])
    try:
        result, folder = pickle.loads(job)
        reports.write_helped(result, Path(folder))
        answers.write(b"done\n")
    except Exception:  # every failure goes back to the main process, which reports it
        answers.write(traceback.format_exc(limit=-3).encode())
    answers.flush()


if __name__ == "__main__":
    # The protocol keeps stdout; anything else printed goes to stderr.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, channel)
