"""Places as pages of past years wrote them, read back to the unit they lie in today.

Communes are drawn from the administrative-unit lists and years from 1956 to 2024; the page generator
writes each as its year named it (the RVN's provinces before 1976 in the South, the merged provinces of
1976–1991, Hà Tây until 2008) and knows the commune's unit today. `current_unit` must find that unit from
the written text alone. Figures are given per period, because the older names are the hard ones.
"""

from __future__ import annotations

import time

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from hotich.datasets.synth.content import admin
from hotich.datasets.synth.content.places import make_place, provinces
from hotich.inference.fields.places import current_unit

__all__ = ["PERIODS", "PlaceFigures", "PlacesEvaluation", "evaluate_places"]

PERIODS = ((1956, 1975), (1976, 1991), (1992, 2008), (2009, 2024))
"""Before reunification; the merged provinces; the 61–64 provinces; the 63 provinces."""


class PlaceFigures(BaseModel):
    n: int
    found: float
    """Share of places given a unit."""
    right: float
    """Share of places given the right unit (commune and province)."""


class PlacesEvaluation(PlaceFigures):
    places_per_s: float
    by_period: dict[str, PlaceFigures]


def _figures(found: list[bool], right: list[bool]) -> PlaceFigures:
    return PlaceFigures(n=len(found), found=float(np.mean(found)), right=float(np.mean(right)))


def evaluate_places(n: int = 2000, seed: int = 0, progress: bool = True) -> PlacesEvaluation:
    """`n` places (communes and years drawn with `seed`), written as their year wrote them, read back."""
    rng = np.random.default_rng(seed)
    units = admin.units()
    rows: list[tuple[str, bool, bool]] = []
    started = time.perf_counter()
    for k in tqdm(rng.choice(len(units), n, replace=False), desc="places", unit="place", disable=not progress):
        unit = units[int(k)]
        first, last = PERIODS[int(rng.integers(len(PERIODS)))]
        year = int(rng.integers(first, last + 1))
        south_before_1976 = year < 1976 and provinces()[unit.province_key].side_of(unit) == "south"
        place = make_place(unit, year, "south_pre1975" if south_before_1976 else "")
        read = current_unit(place.text())
        rows.append((f"{first}-{last}", read is not None, (read or "").casefold() == (place.current or "").casefold()))
    seconds = time.perf_counter() - started
    by_period = {f"{a}-{b}": _figures([f for p, f, _ in rows if p == f"{a}-{b}"],
                                      [r for p, _, r in rows if p == f"{a}-{b}"]) for a, b in PERIODS}
    overall = _figures([f for _, f, _ in rows], [r for _, _, r in rows])
    return PlacesEvaluation(**overall.model_dump(), places_per_s=len(rows) / seconds, by_period=by_period)
