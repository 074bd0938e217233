"""The language model as the beam search's prior (shallow fusion): each character a reading adds is weighed
by `weight * log P(char | the characters before)` plus a fixed `bonus`, which pays back the model's cost of
every extra character so that fused readings are not shortened.

A fused reading's confidence cannot come from its frames alone: a letter the model restored is one the
frames found unlikely, yet it is usually right. It is a logistic function of the reading's share of the
final beam and of its frames' confidence, fitted on validation lines.

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

__all__ = ["DEFAULT_LANGUAGE_DIR", "FusedConfidence", "LanguagePrior"]

DEFAULT_LANGUAGE_DIR = Path(str(files("hotich.models"))) / "weights" / "language"
"""The shipped language model."""
_FLOOR = 1e-6
"""Shares and confidences are clipped to [floor, 1 - floor] before their logs."""
_CACHED = 1_000_000
"""Steps kept once computed; a long-running server starts over beyond this."""


@dataclass(frozen=True)
class FusedConfidence:
    """P(the reading is right) = sigmoid(posterior * logit(share of the beam) + frames * log(frame confidence)
    + bias)."""

    posterior: float = 1.0
    frames: float = 0.0
    bias: float = 0.0

    def __call__(self, posterior: float | None, frames: float) -> float:
        share = min(max(posterior if posterior is not None else frames, _FLOOR), 1 - _FLOOR)
        z = (self.posterior * math.log(share / (1 - share)) + self.frames * math.log(max(frames, _FLOOR))
             + self.bias)
        return 1 / (1 + math.exp(-z))


class LanguagePrior:
    """A `decoding.TextPrior`; its state is the folded history the model conditions on."""

    def __init__(self, model: CharLanguageModel, weight: float, bonus: float,
                 confidence: FusedConfidence | None = None, version: str = "unsaved") -> None:
        if weight < 0:
            raise ValueError(f"a language model weight cannot be negative, not {weight}")
        self.model, self.weight, self.bonus, self.version = model, weight, bonus, version
        self.calibration = confidence or FusedConfidence()
        self.initial = model.start
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

    def confidence(self, posterior: float | None, frames: float) -> float:
        return self.calibration(posterior, frames)
