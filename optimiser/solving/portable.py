"""A compiled model as plain arrays, to be rebuilt in another process.

HiGHS's objects cannot be pickled, so a model sent to a worker process (or a Dask
worker) travels as `PortableLP`: the LP HiGHS holds (costs, bounds, the matrix, the
sense and offset, the binaries), the options that change its answers, its basis,
and the `CompiledLP` bookkeeping beside it. `rebuilt` makes a new HiGHS from it in
the worker, as `highs.clone` does in this process: the same model, options and
starting basis, so a re-solve there starts where it would here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from optimiser.solving.highs import CompiledLP, new_highs

OPTIONS = ("random_seed", "simplex_strategy", "mip_rel_gap", "mip_abs_gap", "time_limit")
"""The HiGHS options that `clone` carries over, and so does a portable model."""


@dataclass(frozen=True)
class PortableLP:
    """What `rebuilt` needs to make `portable(lp)`'s model again, anywhere."""

    arrays: dict[str, np.ndarray]
    matrix_format: int
    sense: int
    offset: float
    options: dict[str, Any]
    basis: tuple[np.ndarray, np.ndarray] | None
    """(column statuses, row statuses) as HiGHS numbers them; None without a valid basis."""
    fields: dict[str, Any]
    """Every field of the `CompiledLP` but its HiGHS."""


def portable(lp: CompiledLP) -> PortableLP:
    """`lp`'s model, options and basis as plain data (module doc)."""
    h = lp.highs
    model = h.getLp()
    a = model.a_matrix_
    arrays = {
        "col_cost": np.asarray(model.col_cost_, dtype=float),
        "col_lower": np.asarray(model.col_lower_, dtype=float),
        "col_upper": np.asarray(model.col_upper_, dtype=float),
        "row_lower": np.asarray(model.row_lower_, dtype=float),
        "row_upper": np.asarray(model.row_upper_, dtype=float),
        "start": np.asarray(a.start_, dtype=np.int32),
        "index": np.asarray(a.index_, dtype=np.int32),
        "value": np.asarray(a.value_, dtype=float),
        "integrality": np.asarray([int(v) for v in model.integrality_], dtype=np.uint8),
    }
    start = h.getBasis()
    basis = None
    if start.valid:
        basis = (np.array([int(s) for s in start.col_status], dtype=np.int8),
                 np.array([int(s) for s in start.row_status], dtype=np.int8))
    options = {o: h.getOptionValue(o)[1] for o in OPTIONS}
    fields = {f.name: getattr(lp, f.name) for f in dataclasses.fields(lp)
              if f.name not in ("highs", "first_bases")}  # the bases: of this HiGHS only
    return PortableLP(arrays, int(a.format_), int(model.sense_), float(model.offset_),
                      options, basis, fields)


def rebuilt(form: PortableLP) -> CompiledLP:
    """A new HiGHS holding `form`'s model, options and basis, and its `CompiledLP`."""
    h = new_highs()
    for option, value in form.options.items():
        h.setOptionValue(option, value)
    arr = form.arrays
    model = highspy.HighsLp()
    model.num_col_ = len(arr["col_cost"])
    model.num_row_ = len(arr["row_lower"])
    model.col_cost_ = arr["col_cost"]
    model.col_lower_ = arr["col_lower"]
    model.col_upper_ = arr["col_upper"]
    model.row_lower_ = arr["row_lower"]
    model.row_upper_ = arr["row_upper"]
    model.a_matrix_.format_ = highspy.MatrixFormat(form.matrix_format)
    model.a_matrix_.num_col_ = model.num_col_
    model.a_matrix_.num_row_ = model.num_row_
    model.a_matrix_.start_ = arr["start"]
    model.a_matrix_.index_ = arr["index"]
    model.a_matrix_.value_ = arr["value"]
    model.sense_ = highspy.ObjSense(form.sense)
    model.offset_ = form.offset
    if len(arr["integrality"]):
        model.integrality_ = [highspy.HighsVarType(int(v)) for v in arr["integrality"]]
    h.passModel(model)
    if form.basis is not None:
        basis = highspy.HighsBasis()
        basis.col_status = [highspy.HighsBasisStatus(int(s)) for s in form.basis[0]]
        basis.row_status = [highspy.HighsBasisStatus(int(s)) for s in form.basis[1]]
        basis.valid = True
        h.setBasis(basis)
    fields = dict(form.fields)
    if fields.get("loaded") is not None:
        fields["loaded"] = fields["loaded"].copy()
    fields["costs"] = dict(fields["costs"])
    fields["rows"] = list(fields["rows"])
    return CompiledLP(highs=h, **fields)
