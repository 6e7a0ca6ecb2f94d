"""A run killed while writing (SIGKILL, Ctrl-C, SIGTERM) leaves the previous report whole,
and a run stopped while its worker processes solve leaves none of them running.

Each test writes a report, then runs the command again in a fresh process whose
report writers are patched to die half-way, and compares the folder byte for byte.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_core import TOY
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.reports import write as reports

DRIVER = """
import os, signal, sys
from pathlib import Path
from optimiser import cli
from optimiser.reports import write as reports

mode, instance, out = sys.argv[1:4]


def dying_writer(result, folder):
    (Path(folder) / "half-written.csv").write_text("scenario,units\\nring_fenced,")
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)  # as a service manager stops a job
        (Path(folder) / "after-the-signal.csv").write_text("never")
        return
    raise KeyboardInterrupt


def die_between_renames(stage, out):
    os.replace(out, out.parent / f".{out.name}.old-{os.getpid()}")
    os.kill(os.getpid(), signal.SIGKILL)


if mode == "swap":
    reports._exchange = lambda a, b: False
    reports._swap_by_renames = die_between_renames
else:
    reports.WRITERS.insert(1, dying_writer)  # after results.json, before the tables
cli.main([instance, "--out", out])
"""


def optimise(instance: Path, out: Path) -> int:
    """The command, in this process (only the runs that must die get their own)."""
    return CliRunner().invoke(app, [str(instance), "--out", str(out)]).exit_code


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def first_report(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    instance = tmp_path / "place.yaml"
    instance.write_text(TOY)
    out = tmp_path / "out"
    assert optimise(instance, out) == 0
    before = snapshot(out)
    assert {"results.json", "allocation.csv", "agencies.csv"} <= set(before)
    # the second run solves a different plan, so a mixed folder would show
    instance.write_text(TOY.replace("max_units: 50", "max_units: 40"))
    return instance, out, before


def killed(mode: str, instance: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", DRIVER, mode, str(instance), str(out)],
                          capture_output=True, text=True, check=False)


def test_sigkill_mid_write_leaves_the_previous_report(tmp_path: Path) -> None:
    instance, out, before = first_report(tmp_path)
    done = killed("sigkill", instance, out)
    assert done.returncode == -signal.SIGKILL
    assert snapshot(out) == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.new-")]
    assert len(leftovers) == 1  # the killed run's staged folder, cleared by the next run
    assert optimise(instance, out) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    after = snapshot(out)
    assert set(after) == set(before) and after["results.json"] != before["results.json"]


@pytest.mark.parametrize(("mode", "said"), [("interrupt", "interrupted"),
                                             ("sigterm", "terminated")])
def test_stopped_mid_write_leaves_the_previous_report(tmp_path: Path, mode: str,
                                                      said: str) -> None:
    """Ctrl-C, and SIGTERM as Ctrl-C (before, SIGTERM killed the process outright and left
    its staged folder beside the report): exit 130, the previous report untouched."""
    instance, out, before = first_report(tmp_path)
    done = killed(mode, instance, out)
    assert done.returncode == 130
    assert f"{said}; the previous report is untouched" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


DRAWS = """\
name: draws
years: 1
discount_rate: 0
agencies:
  council: {name: Council}
  nhs: {name: NHS}
streams:
  nhs_budget: {agency: nhs, budget: 1000, ring_fence: []}
interventions:
  prevention:
    agency: council
    unit_cost: {low: 5, central: 10, high: 12}
    max_units: 50
    savings: {nhs: {low: 0, central: 10, high: 40}}
scenarios:
  ring_fenced: {pooling: false}
  pooled: {pooling: true}
"""
"""A place whose draws are many small LPs: --draws 10**6 would take minutes."""


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        found[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    return found


def _descendants(pid: int) -> dict[int, int]:
    """`pid`'s descendants, each with its depth below it (1: a child)."""
    parents = _parents()
    depth = {pid: 0}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in depth and child not in depth:
                depth[child] = depth[parent] + 1
                grew = True
    del depth[pid]
    return depth


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _poll(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_sigterm_stops_the_worker_processes(tmp_path: Path) -> None:
    """`--draws` on two worker processes, SIGTERM to the command alone (as a service
    manager or `kill` sends it; Ctrl-C in a terminal reaches the workers too) once the
    workers run: the command ends at once, exit status 130 as for an interrupt, no
    process it started is left running, nothing is written. Before, the command died
    and left its workers (and their server) running with nobody to collect them."""
    instance = tmp_path / "draws.yaml"
    instance.write_text(DRAWS)
    out = tmp_path / "out"
    with open(tmp_path / "stderr", "w") as errors:
        command = subprocess.Popen(
            [sys.executable, "-m", "optimiser", str(instance), "--draws", "1000000",
             "--workers", "2", "--analyses", "none", "--out", str(out)],
            stdout=subprocess.DEVNULL, stderr=errors)
        started: dict[int, int] = {}

        def working() -> bool:
            """Whether the two workers run (forked below a server process) or the command
            ended; every process it started is kept in `started`."""
            started.update(_descendants(command.pid))
            return sum(d >= 2 for d in started.values()) >= 2 or command.poll() is not None

        try:
            assert _poll(working, 60), "no workers started"
            assert command.poll() is None, (tmp_path / "stderr").read_text()
            command.send_signal(signal.SIGTERM)
            assert command.wait(timeout=30) == 130
        finally:
            if command.poll() is None:
                command.kill()
        stopped = _poll(lambda: not any(_running(p) for p in started), 10)
        left = [p for p in started if _running(p)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert stopped, f"processes left running: {left}"
    said = (tmp_path / "stderr").read_text()
    assert "optimise: terminated; the previous report is untouched" in said
    assert "Traceback" not in said
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_kill_between_the_two_renames_is_undone(tmp_path: Path) -> None:
    """Where the folders cannot be exchanged atomically, the next run puts the old one back."""
    instance, out, before = first_report(tmp_path)
    done = killed("swap", instance, out)
    assert done.returncode == -signal.SIGKILL
    assert not out.exists()
    reports.recover(out)
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_exchange_swaps_whole_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("b")
    if not reports._exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("this system cannot exchange two paths atomically")
    assert (tmp_path / "a" / "x").read_text() == "b"
    assert (tmp_path / "b" / "x").read_text() == "a"


def test_report_folder_is_readable_like_any_other(tmp_path: Path) -> None:
    """The staged folder is private while written; the report takes the usual permissions."""
    instance = tmp_path / "place.yaml"
    instance.write_text(TOY)
    assert optimise(instance, tmp_path / "out") == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~mask


def test_leftovers_of_a_live_run_are_kept(tmp_path: Path) -> None:
    """A second run does not delete the staged folder of a run still writing."""
    out = tmp_path / "out"
    out.mkdir()
    live = tmp_path / f".out.new-{os.getppid()}-abc"
    dead = tmp_path / ".out.new-999999999-abc"
    live.mkdir()
    dead.mkdir()
    reports.recover(out)
    assert live.exists() and not dead.exists()
