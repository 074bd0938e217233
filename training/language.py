"""Fitting the character language model and choosing how much the beam search trusts it.

The model is counted on the text of the recogniser's own training lines (synthetic field lines and the
Kalapa training writers), never on a validation line. Then, from the shipped recogniser's frames of
validation lines:
- the fusion weight and bonus are the pair whose fused beam search reads the tuning lines (Kalapa's a-half
  writers by default) with the lowest CER;
- the fused readings' confidence is a logistic regression of "the line is exactly right" on the reading's
  share of the beam, its frames' confidence and its length, fitted on the calibration lines (the tuning lines and
  synthetic lines in held-out fonts), since the two differ in how often a line is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
from tqdm import tqdm

from hotich.datasets.lines import LineSample
from hotich.evaluation.metrics import cer
from hotich.inference.language_prior import CONFIDENCE_TERMS, FusedConfidence, LanguagePrior, confidence_terms
from hotich.inference.recognizer import LineRecognizer, decode_lines, read_gray
from hotich.models.language import CharLanguageModel
from hotich.text import nfc

__all__ = ["BONUSES", "WEIGHTS", "Fusion", "LineFrames", "fit_confidence", "tune_fusion"]

WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6)
BONUSES = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class LineFrames:
    """Validation lines as the recogniser sees them: their logits, and the texts they hold."""

    logits: list[np.ndarray]
    texts: list[str]

    @classmethod
    def read(cls, recognizer: LineRecognizer, samples: Sequence[LineSample]) -> LineFrames:
        if not samples:
            raise ValueError("no validation lines to read")
        return cls(recognizer.logits([read_gray(s.path) for s in samples]), [s.text for s in samples])


@dataclass(frozen=True)
class Fusion:
    weight: float
    bonus: float
    cer: float
    """On the tuning lines, with this weight and bonus."""
    cer_greedy: float
    """On the same lines, greedy without the model."""
    grid: dict[str, float]
    """CER of every pair tried, keyed "weight/bonus"."""


def tune_fusion(model: CharLanguageModel, recognizer: LineRecognizer, lines: LineFrames,
                weights: Sequence[float] = WEIGHTS, bonuses: Sequence[float] = BONUSES) -> Fusion:
    """The weight and bonus whose fused beam search reads `lines` with the lowest CER."""
    decode = dict(codec=recognizer.codec, temperature=recognizer.temperature)
    greedy = cer(lines.texts, [r.text for r in decode_lines(lines.logits, **decode)])
    grid = {}
    for weight, bonus in tqdm(list(product(weights, bonuses)), desc="fusion", unit="pair"):
        readings = decode_lines(lines.logits, **decode, prior=LanguagePrior(model, weight, bonus))
        grid[f"{weight:g}/{bonus:g}"] = cer(lines.texts, [r.text for r in readings])
    best = min(grid, key=grid.__getitem__)
    weight, bonus = (float(x) for x in best.split("/"))
    return Fusion(weight, bonus, grid[best], greedy, grid)


def fit_confidence(prior: LanguagePrior, recognizer: LineRecognizer, lines: Sequence[LineFrames]) -> FusedConfidence:
    """The logistic map from `confidence_terms` (share of the beam, frame confidence, length) to P(right) over
    all of `lines`, by Newton's method on the log-loss; each group of lines weighs the same (real lines are
    few, synthetic ones many)."""
    terms, right, weights = [], [], []
    for group in lines:
        weights += [1 / len(group.texts)] * len(group.texts)
        readings = decode_lines(group.logits, recognizer.codec, recognizer.temperature, prior=prior)
        for reading, text in zip(readings, group.texts, strict=True):
            terms.append(confidence_terms(reading.beam_share, reading.frame_confidence or 0.0, len(reading.text)))
            right.append(reading.text == nfc(text).strip())
    x, y, counts = np.array(terms), np.array(right, dtype=np.float64), np.array(weights)
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        hessian = (x * (counts * p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hessian, x.T @ (counts * (p - y)))
    return FusedConfidence(**{name: round(float(v), 4) for name, v in zip(CONFIDENCE_TERMS, w, strict=True)})
