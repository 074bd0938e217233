"""Temperature calibration of line confidences.

A line's confidence is the product of its characters' confidences after a softmax at temperature T
(`hotich.inference.decoding`). T = 1 is what training leaves: CTC models are overconfident on writers they
never saw. One T for the whole model, fitted on lines from writers outside training by minimising the
log-loss of "the line is exactly right"; greedy text does not depend on T, only its confidence does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hotich.evaluation.metrics import expected_calibration_error
from hotich.inference.recognizer import decode_lines
from hotich.models.codec import Codec
from hotich.text import nfc

__all__ = ["Calibration", "fit_temperature"]

TEMPERATURES = np.round(np.geomspace(0.5, 4.0, 43), 4)
"""The grid searched: wide enough for every model we trained, fine enough (5% steps) for ECE."""


@dataclass(frozen=True)
class Calibration:
    temperature: float
    ece_before: float
    """ECE at T = 1."""
    ece_after: float
    log_loss_before: float
    log_loss_after: float
    line_acc: float
    n: int


def _log_loss(confidences: np.ndarray, correct: np.ndarray) -> float:
    p = np.clip(confidences, 1e-6, 1 - 1e-6)
    return float(-np.mean(np.where(correct, np.log(p), np.log1p(-p))))


def fit_temperature(logits: Sequence[np.ndarray], codec: Codec, texts: Sequence[str]) -> Calibration:
    """The temperature that makes greedy line confidences fit line correctness on these lines."""
    if not logits or len(logits) != len(texts):
        raise ValueError(f"need one text per line and at least one line, got {len(logits)} lines, {len(texts)} texts")
    readings = decode_lines(logits, codec, 1.0)
    correct = np.array([r.text == nfc(t).strip() for r, t in zip(readings, texts, strict=True)])
    losses = {}
    for t in TEMPERATURES:
        conf = np.array([r.confidence for r in decode_lines(logits, codec, float(t))])
        losses[float(t)] = (_log_loss(conf, correct), conf)
    best = min(losses, key=lambda t: losses[t][0])
    before = np.array([r.confidence for r in readings])
    return Calibration(
        temperature=best,
        ece_before=expected_calibration_error(before.tolist(), correct.tolist()),
        ece_after=expected_calibration_error(losses[best][1].tolist(), correct.tolist()),
        log_loss_before=_log_loss(before, correct),
        log_loss_after=losses[best][0],
        line_acc=float(correct.mean()),
        n=len(texts),
    )
