"""Ruling sets: synthetic pages at the size the layout stage finds ruling on, with exact ruling masks.

Each sample is one generated page as `<page id>.npz`: `gray` (H, W) uint8, the aged page shrunk to
`WORK_SIDE` on its long side as registration shrinks it, and `masks` (3, H, W) bool, the printed ruling
on that image (`RULING_CLASSES`: solid horizontal rules, solid vertical rules, dotted leaders), warped
with the page by the ageing's own maps. Torch-free; the training loop crops from these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hotich.datasets.synth.pages import SynthOptions, generate_page, page_id
from hotich.datasets.synth.render import RULING_CLASSES
from hotich.inference.layout.identify import fit_long_side
from hotich.inference.layout.register import WORK_SIDE

__all__ = ["RULING_CLASSES", "RulingSample", "page_sample", "read_ruling_set", "write_ruling_set"]

_MASK_LEVEL = 40
"""Least share (of 255) of a shrunk pixel a rule must cover to count: a 1 px rule of the 2000 px page
covers half a work pixel, or a quarter when it straddles two."""


@dataclass(frozen=True)
class RulingSample:
    gray: np.ndarray
    """(H, W) uint8 work-size page."""
    masks: np.ndarray
    """(len(RULING_CLASSES), H, W) bool."""


def page_sample(seed: int, index: int, options: SynthOptions) -> RulingSample:
    """The `index`-th page of the synthetic run seeded `seed`, at work size, with its ruling masks."""
    page = generate_page(seed, index, options, with_ruling=True)
    assert page.ruling is not None
    gray = fit_long_side(cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY), WORK_SIDE)
    h, w = gray.shape
    masks = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA) >= _MASK_LEVEL for m in page.ruling])
    return RulingSample(gray, masks)


def write_ruling_set(out: Path, seed: int, indices: Iterable[int], options: SynthOptions) -> int:
    """Write the samples of pages `indices` not already in `out`; returns how many were written."""
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for index in indices:
        path = out / f"{page_id(seed, index)}.npz"
        if path.is_file():
            continue
        sample = page_sample(seed, index, options)
        tmp = path.with_name(f"{path.stem}.tmp.npz")
        np.savez_compressed(tmp, gray=sample.gray, masks=sample.masks)
        tmp.replace(path)  # a half-written sample never looks complete
        written += 1
    return written


def read_ruling_set(root: Path) -> list[RulingSample]:
    """Every sample in `root`, in name order."""
    paths = sorted(p for p in Path(root).glob("*.npz") if not p.stem.endswith(".tmp"))
    if not paths:
        raise FileNotFoundError(f"no ruling samples (*.npz) in {root}: `hotich train ruling` writes them, or "
                                f"call hotich.datasets.ruling.write_ruling_set")
    samples = []
    for path in paths:
        with np.load(path) as blob:
            samples.append(RulingSample(blob["gray"], blob["masks"]))
    return samples
