"""A few results kept by the identity of the objects they were made from.

An instance and its parts are frozen (pydantic models that are never changed), so what is
made from the very same objects is the same: work every scenario and discount rate of a
run would otherwise repeat (the central instance, the place's tables) is made once and
found again by `Recent`. Only the last few are kept: a run holds one place (a roll-up one
place at a time)."""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")


class Recent(Generic[V]):
    """The last `size` values kept, each under the objects it was made from: `get` finds
    the value made from these very objects (`is`, one by one, in order), `keep` keeps one
    (the oldest dropped beyond `size`)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._kept: list[tuple[tuple[object, ...], V]] = []

    def get(self, *made_from: object) -> V | None:
        """The value kept under exactly these objects, or None."""
        for known, value in self._kept:
            if len(known) == len(made_from) and all(
                    a is b for a, b in zip(known, made_from, strict=True)):
                return value
        return None

    def keep(self, value: V, *made_from: object) -> None:
        """Keep `value` under `made_from`, newest first."""
        self._kept.insert(0, (made_from, value))
        del self._kept[self.size:]
