"""How much room CTC has for each choice of output units on a line dataset.

CTC must emit every unit of a line in its own frame, plus a blank between two equal neighbours. NFD
(base letter + up to two combining marks) makes Vietnamese lines longer in units than NFC does: this
measures by how much, against the frames the recogniser has (one per 4 px of width at its input height),
so the choice of units rests on the data rather than on taste. The accuracy side of the comparison comes
from training both (see the model card).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from PIL import Image

from hotich.datasets.lines import LineSample
from hotich.text import Units, to_units, unit_inventory

__all__ = ["UnitBudget", "ctc_frames_needed", "unit_budget"]

WIDTH_STRIDE = 4
"""Pixels of input width per output frame in the shipped architectures (`hotich.models.recognizer`)."""


def ctc_frames_needed(units: Sequence[str]) -> int:
    """The fewest frames a CTC path for `units` takes: one per unit, one more per repeated neighbour."""
    return len(units) + sum(a == b for a, b in pairwise(units))


@dataclass(frozen=True)
class UnitBudget:
    units: Units
    classes: int
    """Output classes, blank included."""
    units_per_line: float
    frames_per_unit: float
    """Mean over lines of frames available / frames needed: below 1 a line cannot be emitted at all."""
    infeasible: float
    """Share of lines needing more frames than they have."""
    tight: float
    """Share of lines with fewer than 2 frames per needed frame (little slack for wide or cursive writing)."""
    n: int


def unit_budget(samples: Sequence[LineSample], units: Units, height: int = 32, max_width: int = 1024) -> UnitBudget:
    needed, frames = [], []
    for sample in samples:
        with Image.open(sample.path) as im:
            w, h = im.size
        width = int(np.clip(round(w * height / h), height, max_width))
        frames.append(width // WIDTH_STRIDE)
        needed.append(max(1, ctc_frames_needed(to_units(sample.text, units))))
    ratio = np.array(frames) / np.array(needed)
    return UnitBudget(units=units, classes=len(unit_inventory(units)) + 1,
                      units_per_line=float(np.mean([len(to_units(s.text, units)) for s in samples])),
                      frames_per_unit=float(ratio.mean()), infeasible=float((ratio < 1).mean()),
                      tight=float((ratio < 2).mean()), n=len(samples))
