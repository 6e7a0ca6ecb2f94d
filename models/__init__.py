"""Pyomo formulations: plain data in, model out. Nothing here reads files or writes reports."""
