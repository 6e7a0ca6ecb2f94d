"""python -m optimiser."""

from optimiser.cli import entry

entry()
