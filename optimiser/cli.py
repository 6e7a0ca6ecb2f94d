"""The command line: `optimise INSTANCE.yaml... [--out DIR]`, and `optimise template [FOLDER]`.

Thin on purpose: parse, call the pipeline and the writers, map domain errors
to one line and an exit status (0 all optimal, 1 some scenario infeasible or
unbounded, 2 invalid input). A traceback only with --debug.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimiser.analyses import ANALYSES, run_analyses
from optimiser.errors import InstanceError, OutputError, UsageError
from optimiser.pipeline import RunResult, prepare_many, run, run_prepared
from optimiser.progress import RunProgress
from optimiser.reports.beside import prefetch
from optimiser.reports.terminal import print_comparison, print_uncertainty
from optimiser.reports.write import check_out, default_out, write_reports
from optimiser.rollup.terminal import print_rollup
from optimiser.rollup.totals import Rollup, check_addable, roll_up
from optimiser.rollup.write import ROLLUP_OUT, write_rollup

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def optimise(
    instances: Annotated[list[Path], typer.Argument(
        help="The place, as a YAML instance file; several places are solved and added up.",
        metavar="INSTANCE.yaml...")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the results (default reports/<instance stem>/, or "
        "reports/rollup/ for several places).")] = None,
    analyses: Annotated[str, typer.Option(
        "--analyses", help="Which analyses run after the scenarios: 'all', 'none', or a "
        "comma-separated list of: " + ", ".join(ANALYSES) + ".")] = "all",
    draws: Annotated[int | None, typer.Option(
        "--draws", help="Solve every scenario for N draws of the instance's ranges "
        "({low, central, high}) and report the spread.")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seed of the draws (default 0): same seed, same figures.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Local processes solving the draws (default: the machine's "
        "cores).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Solve the draws on the Dask cluster at this address "
        "(e.g. tcp://10.0.0.5:8786).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Solve every scenario of INSTANCE and compare ring-fenced with pooled plans.

    Given several instances, solve each into DIR/<stem>/ and add them up.
    `optimise template [FOLDER]` writes a starter workbook and a YAML that names it.
    """
    console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
    errors = Console(stderr=True)
    progress = RunProgress(errors)
    several = len(instances) > 1
    default = ROLLUP_OUT if several else default_out(instances[0])
    target = out if out is not None else default
    try:
        chosen = choose_analyses(analyses)
        check_draws(draws, seed, workers, scheduler)
        check_out(target, instances)
        if several:
            if draws is not None:
                raise UsageError("--draws works on one instance at a time; run each place "
                                 "on its own for its uncertainty")
            rollup = solve_places(instances, chosen, progress)
            progress.stage("Reports")
            write_rollup(rollup, target)
        else:
            result = run(instances[0], progress=progress, ready=prefetch)
            run_analyses(result, chosen)
            if draws is not None:
                run_draws(result, draws, seed or 0, workers, scheduler)
            progress.stage("Reports")
            write_reports(result, target)
        progress.close()
    except (InstanceError, OutputError, UsageError) as err:
        progress.close()
        if debug:
            raise
        errors.print(f"optimise: {err}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        progress.close()
        errors.print("optimise: interrupted; the previous report is untouched", markup=False)
        raise typer.Exit(130) from None
    except Exception as err:
        progress.close()
        if debug:
            raise
        errors.print(f"optimise: internal error: {type(err).__name__}: {err} "
                     "(run again with --debug for the traceback)", markup=False)
        raise typer.Exit(3) from None
    if several:
        print_rollup(rollup, console)
        all_optimal = rollup.all_optimal
    else:
        print_comparison(result, console)
        print_uncertainty(result, console)
        all_optimal = result.all_optimal
    console.print(f"Results written to {target}/", markup=False, highlight=False)
    raise typer.Exit(0 if all_optimal else 1)


def solve_places(paths: list[Path], analyses: list[str],
                 progress: RunProgress | None = None) -> Rollup:
    """Validate every place first (nothing is solved unless all are valid), then solve
    each, run its analyses and add them up."""
    prepared = prepare_many(paths)
    check_addable(prepared)
    prefetch()
    places = {}
    for place in prepared:
        places[place.path.stem] = result = run_prepared(place, progress=progress)
        run_analyses(result, analyses)
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
    """UsageError unless the draw options make sense together."""
    if draws is None:
        given = [name for name, v in (("--seed", seed), ("--workers", workers),
                                      ("--scheduler", scheduler)) if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)} only apply with --draws N")
        return
    if draws < 1:
        raise UsageError(f"--draws: give at least 1 draw (got {draws})")
    if seed is not None and seed < 0:
        raise UsageError(f"--seed: give a whole number >= 0 (got {seed})")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: give at least 1 (got {workers})")
    if workers is not None and scheduler is not None:
        raise UsageError("--workers and --scheduler: choose one (the cluster has its own "
                         "workers)")


def run_draws(result: RunResult, draws: int, seed: int, workers: int | None,
              scheduler: str | None) -> None:
    """Run the draws as a stage of the run's progress."""
    from optimiser.analyses.uncertainty import run_uncertainty, total_points

    result.progress.stage("Draws", total_points(result, draws))
    run_uncertainty(result, draws, seed, workers, scheduler, result.progress.advance)


template_app = typer.Typer(add_completion=False, rich_markup_mode=None)


@template_app.command()
def template(
    folder: Annotated[Path, typer.Argument(
        help="Folder for place.yaml and place.xlsx (default: the current folder).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write a starter workbook (every column explained) and a YAML instance that names it."""
    from optimiser.inputs.template import write_template  # openpyxl: only the template needs it

    try:
        written = write_template(folder, force)
    except OutputError as err:
        Console(stderr=True).print(f"optimise: {err}", markup=False, highlight=False,
                                   soft_wrap=True)
        raise typer.Exit(2) from None
    Console().print(f"Wrote {written[0]} and {written[1]}. Edit the workbook (its README sheet "
                    f"explains every column), then run: optimise {written[0]}",
                    markup=False, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `optimise` console script (`optimise template` or an instance)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["template"]:
        template_app(args=args[1:], prog_name="optimise template")
    else:
        app(args=args, prog_name="optimise")


def entry() -> None:
    """The `optimise` command as a process of its own (`python -m optimiser`, the console
    script): `main`, with the objects alive after the imports, and at the end all of them,
    kept out of Python's garbage collection. Sweeping the few hundred thousand objects a
    large place leaves costs half a second at exit, for memory the exit frees anyway."""
    gc.freeze()
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    entry()
