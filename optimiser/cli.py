"""The command line: `optimise INSTANCE.yaml... [--out DIR]`, and `optimise template [FOLDER]`.

Thin on purpose: parse, call the pipeline and the writers, map domain errors
to one line and an exit status (0 all optimal, 1 some scenario infeasible or
unbounded, or a plan with set-up decisions that HiGHS stopped on before proving it
optimal, 2 invalid input). A traceback only with --debug.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from optimiser import __version__
from optimiser.analyses import ANALYSES, run_analyses
from optimiser.analyses.discounting import other_rates
from optimiser.errors import InstanceError, OutputError, UsageError
from optimiser.pipeline import RunResult, prepare_many, run, run_prepared
from optimiser.progress import RunProgress
from optimiser.reports.prefetch import prefetch
from optimiser.reports.terminal import print_glossary, print_run
from optimiser.reports.write import check_out, default_out, told_story, write_reports
from optimiser.safe import PlainConsole
from optimiser.solving.highs import SolverError, set_mip_limits
from optimiser.workers import Stopped, set_workers, stop_run, stop_workers

if TYPE_CHECKING:
    from optimiser.rollup.totals import Rollup

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def optimise(
    instances: Annotated[list[Path] | None, typer.Argument(
        help="The place, as a YAML instance file; several places are solved and added up.",
        metavar="INSTANCE.yaml", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR",
        help="Folder for the results. Default: reports/<instance file name without .yaml>/ "
        "in the current folder (reports/rollup/ for several places). The run's last lines "
        "name it.")] = None,
    detail: Annotated[bool, typer.Option(
        "--detail", help="Print every table: every scenario's agency positions, outcomes "
        "with targets, the price of each ring-fence, the five limits that matter most, fair "
        "shares and settlements.")] = False,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Say what the terms mean (net benefit, present value, Shapley "
        "share, lift gain, the tie-break rules...); alone, without an instance, just that."
        )] = False,
    analyses: Annotated[str, typer.Option(
        "--analyses", metavar="LIST", help="Which analyses run after the scenarios: 'all' "
        "(the default), 'none', or some of " + ", ".join(ANALYSES) + ", separated by commas."
        )] = "all",
    draws: Annotated[int | None, typer.Option(
        "--draws", metavar="N", help="Solve every scenario for N draws of the instance's "
        "ranges ({low, central, high}) and report the spread.")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", metavar="N", help="Seed of the draws (default 0): same seed, same "
        "figures.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", metavar="N", help="Local processes solving the draws, the places of a "
        "roll-up and the exact fair shares of 13 to 16 agencies (default: the machine's "
        "cores).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="Solve them on the Dask cluster at this "
        "address instead (e.g. tcp://10.0.0.5:8786).")] = None,
    mip_gap: Annotated[float | None, typer.Option(
        "--mip-gap", metavar="SHARE", help="Stop branching on set-up decisions once the "
        "plan is within this relative gap of the optimum (e.g. 0.01); a plan not proven "
        "optimal is reported 'feasible' with its gap, exit status 1. Default: a proven "
        "optimum.")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="SECONDS", help="Seconds HiGHS may spend on each solve with "
        "set-up decisions; the best plan found by then is reported with its gap (exit "
        "status 1).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Solve every scenario of a place and compare ring-fenced with pooled budgets."""
    console = PlainConsole()
    errors = PlainConsole(stderr=True)
    if not instances:
        if explain:
            print_glossary(console)
            raise typer.Exit(0)
        errors.print("optimise: give a place's instance file, e.g. optimise "
                     "instances/bournemouth-dorset-poole.yaml (optimise --help for more)",
                     markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    progress = RunProgress(errors)
    several = len(instances) > 1
    if several:  # the roll-up's modules: imported only by a run of several places
        from optimiser.rollup.write import ROLLUP_OUT, write_rollup

        default = ROLLUP_OUT
    else:
        default = default_out(instances[0])
    target = out if out is not None else default
    before = catch_stops()
    try:
        chosen = choose_analyses(analyses)
        check_draws(draws, seed, workers, scheduler)
        check_mip(mip_gap, time_limit)
        check_out(target, instances)
        if several:
            rollup = solve_places(instances, chosen, progress, draws, seed or 0, workers,
                                  scheduler)
            progress.stage("Reports")
            write_rollup(rollup, target)
        else:
            result = run(instances[0], progress=progress, ready=prefetch,
                         rates=other_rates if "discount_sensitivity" in chosen else None)
            run_analyses(result, chosen)
            if draws is not None:
                run_draws(result, draws, seed or 0, workers, scheduler)
            progress.stage("Reports")
            write_reports(result, target)
        progress.close()
    except (InstanceError, OutputError, UsageError, SolverError) as err:
        progress.close()  # SolverError: figures beyond double precision (the input's)
        if debug:
            raise
        errors.print(f"optimise: {err}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt as err:
        progress.close()
        stop_workers()
        how = "terminated" if isinstance(err, Stopped) and err.terminated else "interrupted"
        errors.print(f"optimise: {how}; the previous report is untouched", markup=False)
        raise typer.Exit(130) from None
    except Exception as err:
        progress.close()
        if debug:
            raise
        errors.print(f"optimise: internal error: {type(err).__name__}: {err}. This is a bug "
                     f"in optimise {__version__}, not in your input: please report it to the "
                     "optimise maintainers with this message and the output of the same "
                     "command run again with --debug (and the instance, if you can share "
                     "it)", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    finally:
        release_stops(before)
        set_mip_limits()  # the next run in this process starts from the defaults
        set_workers()
    if several:
        from optimiser.rollup.draws import draws_sentences, rollup_draws
        from optimiser.rollup.terminal import print_rollup

        print_rollup(rollup, console, target, detail, explain)
        for sentence in draws_sentences(rollup_draws(rollup)):
            console.print(sentence, soft_wrap=True)
        all_optimal = rollup.all_optimal
    else:
        print_run(result, console, target, detail, explain, told_story(result))
        all_optimal = result.all_optimal
    raise typer.Exit(0 if all_optimal else 1)


STOPS = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop a run (`catch_stops`): a service manager's or `kill`'s, Ctrl-C."""


def catch_stops() -> list[Any] | None:
    """From now on, SIGTERM stops the run as Ctrl-C does, and both stop it safely
    (`stop_run`): no worker process solves on (SIGTERM reaches this process alone, Ctrl-C
    every process of the command), no report is left half-written (the staged folder is
    removed, the previous report untouched), exit status 130. Returns the handlers it
    replaces, for `release_stops` (None off the main thread, where signals cannot be
    caught)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    # a signal the command was started to ignore (nohup, a background job) stays ignored
    return [signal.signal(s, _stop_signal) if signal.getsignal(s) != signal.SIG_IGN
            else signal.SIG_IGN for s in STOPS]


def release_stops(before: list[Any] | None) -> None:
    """Put back the handlers `catch_stops` replaced."""
    for s, handler in zip(STOPS, before or [], strict=False):
        signal.signal(s, handler)


def _stop_signal(signum: int, frame: FrameType | None) -> None:
    stop_run(terminated=signum == signal.SIGTERM)


def solve_places(paths: list[Path], analyses: list[str],
                 progress: RunProgress | None = None, draws: int | None = None,
                 seed: int = 0, workers: int | None = None,
                 scheduler: str | None = None) -> Rollup:
    """Validate every place first (nothing is solved unless all are valid), then solve
    each and run its analyses, side by side on the workers (`optimiser.rollup.places`:
    `workers` local processes, default the machine's cores when worth it, or the Dask
    cluster at `scheduler`), and add them up. With `draws`, the places are solved here
    in turn and each one's draws run on the workers, with the same seed."""
    from optimiser.rollup.places import solve_all
    from optimiser.rollup.totals import check_addable, roll_up

    prepared = prepare_many(paths)
    check_addable(prepared)
    prefetch()
    if draws is None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        places, files, _ = solve_all(prepared, analyses, count, scheduler, progress,
                                     auto=workers is None)
        rollup = roll_up(places)
        rollup.files = files
        return rollup
    places = {}
    for place in prepared:
        places[place.path.stem] = result = run_prepared(place, progress=progress)
        run_analyses(result, analyses)
        run_draws(result, draws, seed, workers, scheduler)
    return roll_up(places)


def choose_analyses(spec: str) -> list[str]:
    """The analyses named by --analyses, in their running order; OutputError if unknown."""
    if spec.strip() == "all":
        return list(ANALYSES)
    if spec.strip() == "none":
        return []
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in ANALYSES]
    if unknown:
        raise UsageError(f"--analyses: unknown analysis {', '.join(unknown)}; choose from "
                         f"all, none, {', '.join(ANALYSES)}")
    return [n for n in ANALYSES if n in names]


def check_draws(draws: int | None, seed: int | None, workers: int | None,
                scheduler: str | None) -> None:
    """UsageError unless the draw and worker options make sense together; then record
    the workers for the run's stages that spread their work (`optimiser.workers`)."""
    if draws is None and seed is not None:
        raise UsageError("--seed only applies with --draws N")
    if draws is not None and draws < 1:
        raise UsageError(f"--draws: give at least 1 draw (got {draws})")
    if seed is not None and seed < 0:
        raise UsageError(f"--seed: give a whole number >= 0 (got {seed})")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: give at least 1 (got {workers})")
    if workers is not None and scheduler is not None:
        raise UsageError("--workers and --scheduler: choose one (the cluster has its own "
                         "workers)")
    if scheduler is not None and not dask_installed():
        raise UsageError(DASK_MISSING)
    set_workers(workers, scheduler)


DASK_MISSING = ("--scheduler needs Dask, an optional extra that is not installed here: "
                "pip install 'optimise[dask]' (or use local processes with --workers N)")


def dask_installed() -> bool:
    """Whether dask.distributed can be imported (the optional `optimise[dask]` extra)."""
    import importlib.util

    try:
        return importlib.util.find_spec("dask.distributed") is not None
    except (ImportError, ValueError):
        return False


def check_mip(gap: float | None, time_limit: float | None) -> None:
    """UsageError unless --mip-gap and --time-limit make sense; then set them for every MILP
    of the run (defaults when not given: a proven optimum, no time limit)."""
    if gap is not None and not 0 <= gap < 1:
        raise UsageError(f"--mip-gap: give a share between 0 and 1, such as 0.01 (got {gap})")
    if time_limit is not None and not time_limit > 0:
        raise UsageError(f"--time-limit: give a number of seconds above 0 (got {time_limit})")
    set_mip_limits(gap, time_limit)


def run_draws(result: RunResult, draws: int, seed: int, workers: int | None,
              scheduler: str | None) -> None:
    """Run the draws as a stage of the run's progress."""
    from optimiser.analyses.uncertainty import run_uncertainty, total_points

    note = hindsight_note(result, draws)
    if note:
        PlainConsole(stderr=True).print(f"optimise: {note}", soft_wrap=True)
    result.progress.stage("Draws", total_points(result, draws))
    run_uncertainty(result, draws, seed, workers, scheduler, result.progress.advance)


def hindsight_note(result: RunResult, draws: int) -> str:
    """What a user asking for draws of a place with set-up decisions should expect ('' for
    an LP place): every re-optimised (hindsight) draw of a scenario with them re-solves
    its MILP by branch and bound, then decides which services run by rules 2 to 2c
    (README 'Figures chosen by rule'), each one more branch and bound; the committed
    figures evaluate the central plan in each draw and need no solve."""
    milp = [s.name for s in result.scenarios if s.extra.get("mip") is not None]
    if not milp:
        return ""
    return (f"{len(milp)} of the {len(result.scenarios)} scenarios have set-up decisions, so "
            f"each of the {draws:,} re-optimised (hindsight) draws re-solves them by branch "
            "and bound and decides which services run by rules 2 to 2c: that can take many "
            "minutes for a thousand draws. The committed figures (the central plan in each "
            "draw, uncertainty.<scenario>.committed) need no solve and are the ones to "
            "read for this place; a few dozen draws give their spread")


template_app = typer.Typer(add_completion=False, rich_markup_mode=None)


@template_app.command()
def template(
    folder: Annotated[Path, typer.Argument(
        metavar="FOLDER", help="Folder for place.yaml and place.xlsx (default: the current "
        "folder).", show_default=False)] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write a starter workbook (every column explained) and a YAML instance that names it."""
    from optimiser.inputs.template import write_template  # openpyxl: only the template needs it

    try:
        written = write_template(folder, force)
    except OutputError as err:
        PlainConsole(stderr=True).print(f"optimise: {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    PlainConsole().print(f"Wrote {written[0]} and {written[1]}: a small example place "
                         f"where pooling pays. Run it as it is: optimise {written[0]}; then "
                         "put your own place in the workbook (its README sheet explains "
                         "every column).", markup=False, highlight=False)


USAGE = """\
Usage: optimise INSTANCE.yaml [OPTIONS]          solve a place
       optimise INSTANCE.yaml INSTANCE.yaml ...  solve several and add them up
       optimise template [FOLDER] [--force]      write a starter place to edit
       optimise --explain                        what the terms mean
"""

ABOUT = ("Solve every scenario of a place (agencies, budget streams with ring-fences, "
         "interventions, outcomes, scenarios) and compare ring-fenced with pooled budgets: "
         "what to buy, what it achieves, and who gains and who loses. The answer is printed "
         "first; the full story is in report.html, every figure in report.xlsx, in the "
         "results folder (--out).")

EXIT = ("Exit status: 0 every scenario solved; 1 some scenario has no plan (infeasible or "
        "unbounded: the reports say why) or a plan not proven optimal (--mip-gap, "
        "--time-limit); 2 the input is not valid (one message with the file and line; "
        "nothing written).")

TEMPLATE_ABOUT = ("Write FOLDER/place.yaml and FOLDER/place.xlsx: a small example place (a "
                  "council, an acute trust, community health services) where pooling pays, "
                  "ready to run. The workbook holds the agencies, streams, interventions and "
                  "outcomes, one sheet each; its README sheet explains every column.")


def help_text(command: typer.Typer, usage: str, about: str, after: str, width: int) -> str:
    """The help of `optimise` or `optimise template`: the usage, what it does, and every
    option of the command with its help (read from the command, so none is missed)."""
    width = max(60, min(width, 100))
    wrap = lambda text, indent="": textwrap.fill(  # noqa: E731
        text, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)
    params = typer.main.get_command(command).params
    rows = []
    for p in params:
        if p.param_type_name != "option":
            continue
        name = ", ".join(p.opts)
        if not getattr(p, "is_flag", False) and p.metavar:
            name += f" {p.metavar}"
        rows.append((name, getattr(p, "help", None) or ""))
    rows.append(("-h, --help", "Show this help and exit."))
    left = max(len(name) for name, _ in rows) + 4
    lines = [usage, wrap(about), "", "Options:"]
    for name, text in rows:
        body = textwrap.wrap(text, width - left, break_on_hyphens=False) or [""]
        lines.append(f"  {name}".ljust(left) + body[0])
        lines += [" " * left + line for line in body[1:]]
    if after:
        lines += ["", wrap(after)]
    return "\n".join(lines)


def wants_help(args: list[str]) -> bool:
    """Whether the command line asks for help (before any '--')."""
    head = args[:args.index("--")] if "--" in args else args
    return "--help" in head or "-h" in head


export_app = typer.Typer(add_completion=False, rich_markup_mode=None)
EXPORT_ABOUT = ("Write the place as plain YAML in the contract's format for other tools, "
                "reviewers and auditors: every named figure and spreadsheet table resolved to "
                "its number, every range to its central value (or as drawn in draw N), and a "
                "comment beside each number naming where it came from. optimise gives the "
                "same figures on the copy.")


@export_app.command()
def export(
    instance: Annotated[Path, typer.Argument(help="The place, as a YAML instance file.",
                                             metavar="INSTANCE.yaml")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="The file to write (default: print to the terminal).")] = None,
    draw: Annotated[int | None, typer.Option(
        "--draw", help="Write every range as drawn in draw N of --draws (default: its "
        "central value).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws (with --draw).")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Write the place as plain YAML in the contract's format: every named figure and
    spreadsheet table resolved, each number with a comment naming where it came from."""
    from optimiser.pipeline import prepare
    from optimiser.reports.export import export_text

    errors = PlainConsole(stderr=True)
    try:
        if draw is not None and draw < 0:
            raise UsageError(f"--draw: give a draw number >= 0 (got {draw})")
        if seed < 0:
            raise UsageError(f"--seed: give a whole number >= 0 (got {seed})")
        text = export_text(prepare(instance), draw, seed)
        if out is None:
            sys.stdout.write(text)
            return
        if out.is_dir():
            raise OutputError(f"--out {out}: a folder; name the file to write")
        if out.resolve() == instance.resolve():
            raise OutputError(f"--out {out}: that is the instance itself; name another file")
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as err:
            raise OutputError(f"--out {out}: cannot write it ({err.strerror or err})") from None
    except (InstanceError, OutputError, UsageError) as err:
        if debug:
            raise
        errors.print(f"optimise: {err}", soft_wrap=True)
        raise typer.Exit(2) from None
    PlainConsole(stderr=True).print(f"Wrote {out}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `optimise` console script (`optimise template`, `optimise export`
    or an instance)."""
    args = sys.argv[1:] if argv is None else argv
    width = PlainConsole().width
    if args[:1] == ["template"]:
        if wants_help(args[1:]):
            print(help_text(template_app, "Usage: optimise template [FOLDER] [--force]\n",
                            TEMPLATE_ABOUT, "", width))
            return
        template_app(args=args[1:], prog_name="optimise template")
    elif args[:1] == ["export"]:
        if wants_help(args[1:]):
            print(help_text(export_app, "Usage: optimise export INSTANCE.yaml [--out FILE] "
                            "[--draw N] [--seed S]\n", EXPORT_ABOUT, "", width))
            return
        export_app(args=args[1:], prog_name="optimise export")
    elif not args or wants_help(args):
        print(help_text(app, USAGE, ABOUT, EXIT, width))
    else:
        app(args=args, prog_name="optimise")


RUN_GC_THRESHOLD = (20_000, 10, 10)
"""Python's garbage collection thresholds while the command runs (Python's own: 700, 10,
10): a young-object sweep every 20,000 new objects instead of every 700. A run makes
hundreds of thousands of short-lived objects (tables, their rows, the solver's lists),
nearly none of them in reference cycles: on a Birmingham-sized place the default
thresholds sweep about 400 times for about 0.1 s of CPU, these about 12 times for 0.03 s,
with the same peak memory (and on the quarter-size big place)."""


@contextmanager
def run_collection() -> Iterator[None]:
    """Python's garbage collection as the command runs: the objects alive when it starts
    (the imports'), and at the end all of them, kept out of it (frozen), and garbage swept
    less often in between (RUN_GC_THRESHOLD); the thresholds restored after. The
    benchmarks time the stages of a run under the same settings."""
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.freeze()


def entry() -> None:
    """The `optimise` command as a process of its own (`python -m optimiser`, the console
    script): `main` under `run_collection`. Sweeping the few hundred thousand objects a
    large place leaves costs half a second at exit, for memory the exit frees anyway."""
    with run_collection():
        main()


if __name__ == "__main__":
    entry()
