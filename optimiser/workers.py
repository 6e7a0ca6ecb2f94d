"""Where independent pieces of work run: here, in local processes, or on a Dask cluster.

One way for every part of a run that splits into independent tasks (the draws, the
places of a roll-up, the parts of an exact Shapley walk): `on_workers(function,
shared, tasks, ...)` calls `function(shared, task)` for every task and yields
`(position of the task, its answer)` as each finishes. `shared` is sent to each
worker once (a local process gets it when it starts; a Dask cluster holds it,
scattered to every worker), each task on its own.

- `scheduler` given: tasks on the Dask cluster at that address (the optional extra
  `optimise[dask]`);
- else `workers` > 1 (and more than one task): that many local processes, forked
  from a clean server that imported `preload` once (a fresh process importing the
  solver stack takes seconds; forking the process that has been solving could
  inherit HiGHS's threads);
- else here, in turn.

Callers put the answers in the tasks' order, so what they make of them is the same
whichever worker ran which task. `set_workers` records the command line's choice
(`--workers`, `--scheduler`) for the stages that read it (`chosen`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from optimiser.errors import UsageError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT = "20s"
"""How long `--scheduler` waits for the Dask scheduler to answer."""


@dataclass(frozen=True)
class Workers:
    """The command line's choice of workers: `count` local processes (None: the machine's
    cores) or the Dask cluster at `scheduler`."""

    count: int | None = None
    scheduler: str | None = None

    @property
    def processes(self) -> int:
        """Local processes to use: `count`, or the machine's cores."""
        return self.count if self.count is not None else (os.cpu_count() or 1)


_CHOSEN = Workers()
_HERE = threading.local()
"""`working_here` in force on this thread."""


def set_workers(count: int | None = None, scheduler: str | None = None) -> None:
    """Record `--workers` and `--scheduler` for this process's run (defaults when None)."""
    global _CHOSEN
    _CHOSEN = Workers(count, scheduler)


def chosen() -> Workers:
    """The workers the command line chose (`set_workers`); one, this process, within
    `working_here`."""
    return Workers(1) if getattr(_HERE, "on", False) else _CHOSEN


@contextmanager
def working_here() -> Iterator[None]:
    """Within it, on this thread, `chosen()` is this process alone: a task already running
    on a worker does not spread its own work again."""
    before = getattr(_HERE, "on", False)
    _HERE.on = True
    try:
        yield
    finally:
        _HERE.on = before


def on_workers(
    function: Callable[[S, T], R],
    shared: S,
    tasks: Sequence[T],
    workers: int = 1,
    scheduler: str | None = None,
    preload: Sequence[str] = (),
) -> Iterator[tuple[int, R]]:
    """`(n, function(shared, tasks[n]))` for every task, as each finishes (module doc).

    `function` must be a module-level function (it is sent by name to the workers).
    """
    if scheduler is not None:
        yield from _on_dask(function, shared, tasks, scheduler)
        return
    if workers <= 1 or len(tasks) <= 1:
        for n, task in enumerate(tasks):
            yield n, function(shared, task)
        return
    yield from _on_processes(function, shared, tasks, min(workers, len(tasks)), preload)


def where(workers: int, scheduler: str | None, tasks: int) -> str:
    """Where `on_workers` runs `tasks` tasks, in words."""
    if scheduler is not None:
        return f"Dask cluster at {scheduler}"
    if workers <= 1 or tasks <= 1:
        return "1 process"
    return f"{min(workers, tasks)} local processes"


_SHARED: Any = None
"""What a local worker process was given to share among its tasks."""


def _start(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call(function: Callable[[Any, Any], Any], task: Any) -> tuple[Any, float]:
    return _timed(function, _SHARED, task)


def _timed(function: Callable[[Any, Any], Any], shared: Any, task: Any) -> tuple[Any, float]:
    """`function(shared, task)` and the processor seconds it took where it ran."""
    started = time.process_time()
    answer = function(shared, task)
    return answer, time.process_time() - started


_spent = 0.0


def spent() -> float:
    """Processor seconds that tasks have taken on other processes (local workers, a Dask
    cluster) since this process started: for measurements, beside this process's own."""
    return _spent


def _count(answer: tuple[R, float]) -> R:
    global _spent
    _spent += answer[1]
    return answer[0]


def _on_processes(function: Callable[[S, T], R], shared: S, tasks: Sequence[T], count: int,
                  preload: Sequence[str]) -> Iterator[tuple[int, R]]:
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(list(preload))
        context = server
    else:
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start,
                             initargs=(shared,)) as pool:
        futures = {pool.submit(_call, function, task): n for n, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], _count(future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _on_dask(function: Callable[[S, T], R], shared: S, tasks: Sequence[T],
             scheduler: str) -> Iterator[tuple[int, R]]:
    """Tasks on an existing Dask cluster, `shared` scattered to every worker once."""
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError as err:
        raise UsageError("--scheduler needs Dask, an optional extra that is not installed "
                         f"here: pip install 'optimise[dask]' ({err})") from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                         f"({type(err).__name__}: {err})") from None
    with client:
        held = client.scatter(shared, broadcast=True)
        futures = {client.submit(_timed, function, held, task, pure=False): n
                   for n, task in enumerate(tasks)}
        try:
            for future in dask_completed(list(futures), loop=client.loop):
                yield futures[future], _count(future.result())
        finally:
            client.cancel(list(futures))
