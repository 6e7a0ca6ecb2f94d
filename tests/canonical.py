"""Compare two results.json documents figure by figure, whatever order they list things in.

`canonical` turns a document into a map from a path (a tuple of keys) to a leaf value:
maps by key, lists of numbers by position (years), lists of records (transfers,
settlements) by the record's text fields, so that only the order of listing is
forgotten. `differences` lists every path where two documents differ by more than
`rel` relative (with an absolute floor `floor`, for figures that are 0 in one and
rounding in the other), and every path present in one only (a missing number counts
as 0: funding below the rounding floor is not listed).
"""

from __future__ import annotations

import math
from typing import Any

Path = tuple[Any, ...]

IGNORED = frozenset({"sha256", "tables", "timings", "tool", "file", "path", "message", "note",
                     "rank", "basis", "nodes"})
"""Keys whose values are not figures of the place: the file's hash (a reordered file is
another file), timings, the tool, paths, words (messages quote figures but read in the
instance's order; a limit's basis is read from the comments beside its figure, which a
file rewritten in another order does not carry), ranks (their order among equal figures
is a listing) and the nodes HiGHS's branch and bound took (how it searched, not what it
found)."""


def canonical(document: Any, path: Path = ()) -> dict[Path, Any]:
    """Path -> leaf of `document`, lists of records keyed by their text fields."""
    out: dict[Path, Any] = {}
    if isinstance(document, dict):
        for key, value in document.items():
            if key in IGNORED:
                continue
            out.update(canonical(value, (*path, key)))
    elif isinstance(document, list):
        if document and all(isinstance(v, str) for v in document):
            out[path] = sorted(document)  # a list of ids (players): a set
        elif document and all(isinstance(v, dict) for v in document):
            for record in document:
                key = tuple(sorted((k, v) for k, v in record.items()
                                   if isinstance(v, str) and k not in IGNORED))
                out.update(canonical(record, (*path, key)))
        else:
            for n, value in enumerate(document):
                out.update(canonical(value, (*path, n)))
    else:
        out[path] = document
    return out


def differences(a: Any, b: Any, rel: float = 1e-6, floor: float = 1e-6) -> list[str]:
    """Every figure where documents `a` and `b` differ (see the module's docstring)."""
    left, right = canonical(a), canonical(b)
    found = []
    for path in sorted(set(left) | set(right), key=repr):
        x, y = left.get(path, 0.0 if _numeric(right.get(path)) else None), right.get(
            path, 0.0 if _numeric(left.get(path)) else None)
        if _numeric(x) and _numeric(y):
            if not math.isclose(float(x), float(y), rel_tol=rel, abs_tol=floor):
                found.append(f"{'.'.join(map(str, path))}: {x!r} != {y!r}")
        elif x != y:
            found.append(f"{'.'.join(map(str, path))}: {x!r} != {y!r}")
    return found


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
