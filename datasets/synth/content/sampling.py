"""Fast weighted choices on a numpy Generator.

`Generator.choice(p=...)` costs ~6 µs a call; a page samples a few hundred values and must stay under a
millisecond or two, so every draw here is one `rng.random()` plus a bisect over precomputed cumulative weights.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from itertools import accumulate
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class Weighted(Generic[T]):
    """An immutable discrete distribution over items, sampled with one uniform draw."""

    __slots__ = ("_cum", "_total", "items")

    def __init__(self, weights: Mapping[T, float] | Iterable[tuple[T, float]]):
        pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
        pairs = [(item, float(w)) for item, w in pairs if w > 0]
        if not pairs:
            raise ValueError("a distribution needs at least one item with a positive weight")
        self.items: tuple[T, ...] = tuple(item for item, _ in pairs)
        self._cum = list(accumulate(w for _, w in pairs))
        self._total = self._cum[-1]

    def pick(self, rng: np.random.Generator) -> T:
        # min() guards the (theoretical) float case where random()*total rounds up to total
        return self.items[min(bisect_right(self._cum, rng.random() * self._total), len(self.items) - 1)]


def chance(rng: np.random.Generator, p: float) -> bool:
    return rng.random() < p


def choose(rng: np.random.Generator, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def randint(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi] (both ends included)."""
    return lo + int(rng.random() * (hi - lo + 1))


def clipped_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, rng.normal(mean, sd)))


def date_between(rng: np.random.Generator, first: date, last: date) -> date:
    """A uniform date in [first, last]."""
    return first + timedelta(days=randint(rng, 0, max(0, (last - first).days)))


def in_years(weights: Mapping[str, object], year: int) -> dict[str, float]:
    """Resolve a vocabulary table whose weights are a number or [weight, from_year, to_year]."""
    out: dict[str, float] = {}
    for item, w in weights.items():
        if isinstance(w, list):
            weight, first, last = w
            if first <= year <= last:
                out[item] = float(weight)
        else:
            out[item] = float(w)  # type: ignore[arg-type]
    return out
