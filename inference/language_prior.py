"""The language model as the beam search's prior (shallow fusion): each character a reading adds is weighed
by `weight * log P(char | the characters before)` plus a fixed `bonus`, which pays back the model's cost of
every extra character so that fused readings are not shortened.

A fused reading's confidence cannot come from its frames alone: a letter the model restored is one the
frames found unlikely, yet it is usually right. It is a logistic function of the reading's share of the
final beam, of its frames' confidence and of its length, fitted on validation lines.

The weight, bonus and confidence coefficients are the language card's `fusion`, chosen on validation lines
by `hotich train language`.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from hotich.models.language import END, CharLanguageModel, fold

__all__ = ["CONFIDENCE_TERMS", "DEFAULT_LANGUAGE_DIR", "FusedConfidence", "LanguagePrior", "confidence_terms"]

DEFAULT_LANGUAGE_DIR = Path(str(files("hotich.models"))) / "weights" / "language"
"""The shipped language model."""
_FLOOR = 1e-6
"""Shares and confidences are clipped to [floor, 1 - floor] before their logs."""
_CACHED = 1_000_000
"""Steps kept once computed; a long-running server starts over beyond this."""


CONFIDENCE_TERMS = ("posterior", "frames", "length", "posterior_length", "bias")
"""The terms of a fused confidence, in the order `confidence_terms` gives them."""


def confidence_terms(posterior: float | None, frames: float, length: int) -> tuple[float, ...]:
    """A fused reading's `CONFIDENCE_TERMS`: the logit of its share of the beam, the log of its frames'
    confidence, log(1 + its characters), the first times the third, and 1."""
    share = min(max(posterior if posterior is not None else frames, _FLOOR), 1 - _FLOOR)
    logit, size = math.log(share / (1 - share)), math.log1p(length)
    return logit, math.log(max(frames, _FLOOR)), size, logit * size, 1.0


@dataclass(frozen=True)
class FusedConfidence:
    """P(the reading is right) = sigmoid(sum of each coefficient times its term of `confidence_terms`).

    The length terms are there because a long line (a Kalapa address) with the same share of the beam and
    frame confidence as a short one (a field) is right less often: with recogniser v0.6, one map over both
    kinds of line without them was 4.8% off on held-out writers (ECE on kalapa-val-b), with them 2.5%.
    """

    posterior: float = 1.0
    frames: float = 0.0
    length: float = 0.0
    posterior_length: float = 0.0
    bias: float = 0.0

    def __call__(self, posterior: float | None, frames: float, length: int) -> float:
        terms = confidence_terms(posterior, frames, length)
        z = sum(getattr(self, name) * term for name, term in zip(CONFIDENCE_TERMS, terms, strict=True))
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


class LanguagePrior:
    """A `decoding.TextPrior`; its state is the folded history the model conditions on."""

    def __init__(self, model: CharLanguageModel, weight: float, bonus: float,
                 confidence: FusedConfidence | None = None, version: str = "unsaved") -> None:
        if weight < 0:
            raise ValueError(f"a language model weight cannot be negative, not {weight}")
        self.model, self.weight, self.bonus, self.version = model, weight, bonus, version
        self.calibration = confidence or FusedConfidence()
        self.initial = model.start
        self.ceiling = bonus
        """A character's weight is at most the bonus: the model's log-probabilities are at most 0."""
        self._steps: dict[tuple[str, str], tuple[str, float]] = {}
        """(state, character) -> step: a beam's prefixes share few histories, so most steps are seen before."""

    @classmethod
    def shipped(cls, model_dir: Path | None = None) -> LanguagePrior:
        """The model in `model_dir` (default: the shipped one) with the fusion its card records."""
        model, card = CharLanguageModel.load(model_dir or DEFAULT_LANGUAGE_DIR)
        fusion = card["fusion"]
        # Counts and fusion together are the model: a checksum of both names its version.
        digest = hashlib.sha256((card["files"]["counts"]["sha256"] + json.dumps(fusion, sort_keys=True)).encode())
        version = f"{card['name']}-{digest.hexdigest()[:8]}"
        return cls(model, float(fusion["weight"]), float(fusion["bonus"]), FusedConfidence(**fusion["confidence"]),
                   version)

    def step(self, state: str, char: str) -> tuple[str, float]:
        key = (state, char)
        if key not in self._steps:
            if len(self._steps) > _CACHED:
                self._steps.clear()
            folded = fold(char)
            log_weight = self.weight * math.log(self.model.probability(state, folded)) + self.bonus
            self._steps[key] = (state + folded)[1:] if state else "", log_weight
        return self._steps[key]

    def end(self, state: str) -> float:
        return self.weight * math.log(self.model.probability(state, END))

    def confidence(self, posterior: float | None, frames: float, length: int) -> float:
        return self.calibration(posterior, frames, length)
