"""The command line: `optimise INSTANCE.yaml [--out DIR]`.

Thin on purpose: parse, call the pipeline and the writers, map domain errors
to one line and an exit status (0 all optimal, 1 some scenario infeasible or
unbounded, 2 invalid input). A traceback only with --debug.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimiser.analyses import ANALYSES, run_analyses
from optimiser.errors import InstanceError, OutputError, UsageError
from optimiser.pipeline import run
from optimiser.reports import check_out, default_out, write_reports
from optimiser.terminal import print_comparison

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def optimise(
    instance: Annotated[Path, typer.Argument(help="The place, as a YAML instance file.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the results (default reports/<instance stem>/).")] = None,
    analyses: Annotated[str, typer.Option(
        "--analyses", help="Which analyses run after the scenarios: 'all', 'none', or a "
        "comma-separated list of: " + ", ".join(ANALYSES) + ".")] = "all",
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Solve every scenario of INSTANCE and compare ring-fenced with pooled plans."""
    console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
    errors = Console(stderr=True)
    target = out if out is not None else default_out(instance)
    try:
        chosen = choose_analyses(analyses)
        check_out(target)
        result = run(instance)
        run_analyses(result, chosen)
        write_reports(result, target)
    except (InstanceError, OutputError, UsageError) as err:
        if debug:
            raise
        errors.print(f"optimise: {err}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        errors.print("optimise: interrupted; the previous report is untouched", markup=False)
        raise typer.Exit(130) from None
    except Exception as err:
        if debug:
            raise
        errors.print(f"optimise: internal error: {type(err).__name__}: {err} "
                     "(run again with --debug for the traceback)", markup=False)
        raise typer.Exit(3) from None
    print_comparison(result, console)
    console.print(f"Results written to {target}/", markup=False, highlight=False)
    raise typer.Exit(0 if result.all_optimal else 1)


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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `optimise` console script."""
    args = sys.argv[1:] if argv is None else argv
    app(args=args, prog_name="optimise")


if __name__ == "__main__":
    main()
