"""python -m optimiser (and the `optimise` command): Ctrl-C while the libraries load
ends the run quietly, exit status 130, as it does once the run has started.

Python's garbage collector is off while the libraries load: the imports make a few
hundred thousand objects, none of them garbage, and collecting as they are made costs
about a twentieth of the imports' time. They are then frozen (never swept again, as
`entry` does with the run's) and collection resumes.
"""

import gc
import os
import sys

# numpy's OpenBLAS starts a worker thread a core as it is imported, and they spin
# before they sleep: about 0.07 s of CPU a process, for nothing here (the run's
# matrix products are small). One thread, unless the caller chose a number; the
# products are then also the same on every machine, whatever its cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

gc.disable()
try:
    from optimiser.cli import entry
except KeyboardInterrupt:  # pragma: no cover - timing-dependent
    sys.stderr.write("optimise: interrupted\n")
    raise SystemExit(130) from None
finally:
    gc.freeze()
    gc.enable()


def run() -> None:
    """The console script: `entry`, its imports above already guarded; Ctrl-C outside the
    run (while the options are read) and a closed pipe (`optimise --help | head`) end it
    quietly too."""
    try:
        entry()
    except KeyboardInterrupt:
        sys.stderr.write("optimise: interrupted\n")
        raise SystemExit(130) from None
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        raise SystemExit(141) from None


if __name__ == "__main__":
    run()
