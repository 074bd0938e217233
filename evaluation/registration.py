"""Score registration alone on a folder written by `hotich synth pages`: each page registered to its TRUE
template (no identification, no preprocessing), field IoU against the truth, and the time it takes.

This isolates what the ruling detection changes: `evaluate_registration(pages, ruling_model=None)` is the
classical morphology, with a `RulingDetector` the learned maps replace it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from hotich.evaluation.layout import IOU_GOOD, field_ious, read_page, truth_files
from hotich.inference.layout.register import register_page
from hotich.inference.layout.ruling import RulingDetector
from hotich.templates import get_template

__all__ = ["RegistrationFigures", "evaluate_registration"]


class RegistrationFigures(BaseModel):
    field_iou_mean: float
    field_iou_ge_07: float
    record_count_acc: float
    ms_per_page: float
    n: int


def evaluate_registration(pages_dir: Path, ruling_model: RulingDetector | None = None, *, limit: int | None = None,
                          progress: bool = True) -> RegistrationFigures:
    """Register every `<id>.png` of `pages_dir` to the template its `<id>.json` names; a true field the
    registration does not return (its record was not found filled) counts as IoU 0."""
    truths = truth_files(pages_dir, limit)
    ious: list[float] = []
    counts_ok, seconds = 0, 0.0
    for path in tqdm(truths, desc="pages", unit="page", disable=not progress):
        truth, image = read_page(path)
        template = get_template(truth["template_id"])
        tick = time.perf_counter()
        reg = register_page(image, template, ruling_model=ruling_model)
        seconds += time.perf_counter() - tick
        ious += field_ious(reg.fields, truth)
        counts_ok += reg.records_filled == len(truth["records"])
    return RegistrationFigures(field_iou_mean=float(np.mean(ious)) if ious else 0.0,
                               field_iou_ge_07=float(np.mean([iou >= IOU_GOOD for iou in ious])) if ious else 0.0,
                               record_count_acc=counts_ok / len(truths), ms_per_page=1000 * seconds / len(truths),
                               n=len(truths))
