"""Fitting the recogniser's inference settings on lines from writers outside training: its temperature and its
stretch.

A line's confidence is the product of its characters' confidences after a softmax at temperature T
(`hotich.inference.decoding`). T = 1 is what training leaves: CTC models are overconfident on writers they
never saw. One T for the whole model, fitted on lines from writers outside training by minimising the
log-loss of "the line is exactly right"; greedy text does not depend on T, only its confidence does.

The stretch widens every line after it is resized to the model's height (`hotich.line_image.preprocess_line`).
Fitted first, as it changes the logits the temperature is fitted on: the lowest mean CER over the sets given,
each set weighing the same, so that one kind of writing (real lines, synthetic fonts) cannot pick it alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from hotich.datasets.lines import LineSample
from hotich.evaluation.metrics import cer_nopunct, expected_calibration_error
from hotich.inference.recognizer import LineRecognizer, decode_lines, read_gray
from hotich.models.codec import Codec
from hotich.text import nfc

__all__ = ["STRETCHES", "Calibration", "StretchFit", "fit_stretch", "fit_temperature"]

STRETCHES = (1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3)
"""The stretches tried: v0.9.1 read Kalapa's validation writers best at 1.15-1.2 and synthetic held-out fonts
at 1.1, both worse by 1.3."""

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


@dataclass(frozen=True)
class StretchFit:
    stretch: float
    cer_nopunct: dict[float, dict[str, float]]
    """Greedy CER ignoring punctuation and case, per stretch tried, per set."""


def fit_stretch(recognizer: LineRecognizer, line_sets: Mapping[str, Sequence[LineSample]],
                stretches: Sequence[float] = STRETCHES, progress: bool = True) -> StretchFit:
    """The stretch among `stretches` whose greedy readings have the lowest mean CER over `line_sets` (each set
    weighs the same); `recognizer` is left with the stretch it came with."""
    if not line_sets or not stretches or any(not samples for samples in line_sets.values()):
        raise ValueError("need at least one stretch and one non-empty line set")
    images = {name: [read_gray(s.path) for s in samples] for name, samples in line_sets.items()}
    kept = recognizer.stretch
    scores: dict[float, dict[str, float]] = {}
    try:
        with tqdm(total=len(stretches) * len(line_sets), unit="set", desc="stretch", disable=not progress) as bar:
            for stretch in stretches:
                recognizer.stretch = float(stretch)
                scores[float(stretch)] = {}
                for name, samples in line_sets.items():
                    texts = [r.text for r in recognizer.read(images[name])]
                    scores[float(stretch)][name] = cer_nopunct([s.text for s in samples], texts)
                    bar.update()
    finally:
        recognizer.stretch = kept
    best = min(scores, key=lambda stretch: (float(np.mean(list(scores[stretch].values()))), abs(stretch - 1.0)))
    return StretchFit(stretch=best, cer_nopunct=scores)
