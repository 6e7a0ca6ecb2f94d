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

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from optimiser.errors import UsageError

if TYPE_CHECKING:  # imported where a pool is made: a run without one never loads them
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor

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


def _start(shared: Any, owner: int | None = None) -> None:
    """A local worker's start: keep `shared`; and, given the process that started the
    pool (`owner`), leave Ctrl-C to it (a terminal sends it to every process of the
    command: the run ends its workers itself, `_stop`, rather than each printing its
    own interrupted task) and end this worker as soon as that process has ended
    (`_orphaned`)."""
    global _SHARED
    _SHARED = shared
    if owner is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if owner is not None:
        threading.Thread(target=_orphaned, args=(owner,), daemon=True,
                         name="optimise-owner-watch").start()


ORPHAN_POLL = 0.5
"""Seconds between a worker's checks that its run goes on, where the system cannot tell
it when the run ends (no pidfd)."""


def _orphaned(owner: int) -> None:
    """Wait until process `owner` (the run) has ended, however it ended (SIGKILL too),
    then end this worker at once: a worker outlives its run only by this wait. A worker
    holds its own task queue's both ends, so nothing else would ever tell it."""
    try:
        handle = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here: ask every ORPHAN_POLL seconds
        while True:
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass  # alive, someone else's
            time.sleep(ORPHAN_POLL)
    select.select([handle], [], [])
    os._exit(1)


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


_POOLS: list[ProcessPoolExecutor] = []
"""The local pools working now (`_on_processes`), for `stop_workers`."""
STOP_WAIT = 5.0
"""Seconds `stop_workers` waits for each worker process to end once told to."""


def stop_workers(wait: bool = True) -> None:
    """End every local worker process working now, at once (`_stop`): a run told to stop
    leaves none solving on. Ctrl-C in a terminal reaches the workers too; SIGTERM reaches
    this process alone, so the command's handler calls this (without `wait`: it only
    signals) and again, waiting, as the run ends; then every process this one started
    and has not collected goes too (the interpreter would wait for each as it exits). A
    worker left all the same (started in the instant the run was stopped) ends itself
    when the run has ended (`_orphaned`)."""
    for pool in list(_POOLS):
        _stop(pool, wait)
    processing = sys.modules.get("multiprocessing")  # not imported: no process started
    if wait and processing is not None:  # and any started as the run was stopped, before
        for process in processing.active_children():  # its pool knew of it
            process.terminate()
            process.join(STOP_WAIT)


def _stop(pool: ProcessPoolExecutor, wait: bool = True) -> None:
    """Terminate the pool's worker processes (SIGTERM; their tasks are abandoned) and,
    with `wait`, reap each (at most STOP_WAIT seconds each)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    tasks = getattr(pool, "_call_queue", None)
    if tasks is not None:  # tasks still queued for the workers are dropped: never wait
        tasks.cancel_join_thread()  # to write them into a pipe nobody reads
    for process in processes:
        with contextlib.suppress(Exception):  # already gone
            process.terminate()
    if wait:
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(STOP_WAIT)
        # the pool's own thread sees its workers gone and closes its pipes; once it has,
        # nothing is left for the interpreter to wake as it exits (Python 3.11 would write
        # to the closed pipe and print the error)
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(STOP_WAIT)


def _on_processes(function: Callable[[S, T], R], shared: S, tasks: Sequence[T], count: int,
                  preload: Sequence[str]) -> Iterator[tuple[int, R]]:
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor, as_completed

    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(list(preload))
        context = server
    else:
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start,
                             initargs=(shared, os.getpid())) as pool:
        _POOLS.append(pool)
        try:
            futures: dict[Future[tuple[R, float]], int] = {}
            for n, task in enumerate(tasks):
                futures[pool.submit(_call, function, task)] = n
                _stopped()
            for future in as_completed(futures):
                _stopped()
                yield futures[future], _count(future.result())
        except BaseException as err:
            # abandoned (stopped, a task failed, the caller stopped early): no worker goes
            # on with its task, and leaving the pool waits for none
            _stop(pool)  # first: shutting down forgets the processes
            pool.shutdown(wait=False, cancel_futures=True)
            if not isinstance(err, KeyboardInterrupt | GeneratorExit):
                _stopped()  # a worker the stop ended: the run stops, no task failed
            raise
        finally:
            _POOLS.remove(pool)
    _stopped()  # told to stop as the last answer came


class Stopped(KeyboardInterrupt):
    """The run was told to stop (`stop_run`), by SIGTERM (`terminated`) or Ctrl-C: it
    ends as Ctrl-C ends it."""

    def __init__(self, terminated: bool = True) -> None:
        super().__init__()
        self.terminated = terminated


_STOPPING: Stopped | None = None
"""Set by `stop_run` while local workers run: `_on_processes` raises it."""


def stop_run(terminated: bool = True) -> None:
    """Stop the run (the command's SIGTERM and SIGINT handler, on the main thread). Where
    local workers run, end them (`stop_workers`, signals only) and mark the run stopping:
    the pool raises Stopped where it is safe to (between submissions and results, never
    inside the pool's own locks and threads, which an exception raised at any point could
    leave held, so that the run would hang as it exits); elsewhere, or told twice, raise
    Stopped here and now, as Ctrl-C raises KeyboardInterrupt."""
    global _STOPPING
    if not _POOLS or _STOPPING is not None:
        raise Stopped(terminated)
    _STOPPING = Stopped(terminated)
    stop_workers(wait=False)


def _stopped() -> None:
    """Raise the Stopped `stop_run` marked the run stopping with (once)."""
    global _STOPPING
    if _STOPPING is not None:
        stopped, _STOPPING = _STOPPING, None
        raise stopped


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
