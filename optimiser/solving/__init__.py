"""Solving: the only stage that talks to HiGHS.

Owns compiling a model to standard form and handing it to HiGHS (`highs`: the
lexicographic stages, rule 3's QP, numerics checked apart from the solver, MILP stages),
one compiled model per place switched between scenarios (`placemodel`), why a scenario
has no plan (`diagnose`), and the tidy results and the Treasury's account read from a
plan (`results`, `account`). A non-optimal scenario is a result, never a crash.
"""
