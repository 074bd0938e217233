"""The learned ruling detector, on ONNX Runtime: per-pixel probabilities that a work-size page pixel lies on
a printed rule, as line-response maps registration can use next to (or instead of) its morphology.

The artifact is a folder with `model.onnx` (a small fully convolutional net: normalised gray page ->
one logit map per ruling class) and `model.json`, its card: the classes, the stride the input's sides must
be a multiple of, and the normalisation. The page is padded with paper up to that multiple, and the maps
are cut back to the page. No torch here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from hotich.inference.onnx_session import open_session
from hotich.models.card import load_card

__all__ = ["CARD_FORMAT", "DEFAULT_MODEL_DIR", "ONNX_FILE", "RESPONSE_SCALE", "RulingDetector", "load_ruling_card",
           "normalise_page"]

CARD_FORMAT = "hotich.ruling.onnx/1"
ONNX_FILE = "model.onnx"
DEFAULT_MODEL_DIR = Path(str(files("hotich.models"))) / "weights" / "ruling"
"""The shipped ruling detector."""
RESPONSE_SCALE = 255
"""A probability p becomes the response p * RESPONSE_SCALE (uint8), on the grey-level scale registration's
thresholds use: its `_THRESHOLD` of 10 is then p = 0.04."""


def load_ruling_card(model_dir: Path | None = None) -> dict[str, Any]:
    return load_card(Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR, CARD_FORMAT)


def normalise_page(gray: np.ndarray, stride: int, mean: float = 0.5, std: float = 0.5) -> np.ndarray:
    """(1, 1, H', W') float32 model input: `(gray / 255 - mean) / std`, padded right and below with paper
    (white) up to multiples of `stride`."""
    if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8 or min(gray.shape) < 8:
        shape = gray.shape if isinstance(gray, np.ndarray) else type(gray).__name__
        raise ValueError(f"expected a 2-D uint8 grey work image at least 8 px on each side, got {shape}; convert "
                         f"the page to grey and shrink it to the work size first")
    h, w = gray.shape
    padded = np.full((1, 1, -(-h // stride) * stride, -(-w // stride) * stride), 255, np.uint8)
    padded[0, 0, :h, :w] = gray
    return ((padded.astype(np.float32) / 255 - mean) / std).astype(np.float32)


class RulingDetector:
    """Ruling probabilities of a work-size grey page; load once, call for every page."""

    def __init__(self, model_dir: Path | None = None, threads: int | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.card = load_ruling_card(self.model_dir)
        self.classes: tuple[str, ...] = tuple(self.card["classes"])
        rules = self.card["input"]
        self.stride, self.mean, self.std = int(rules["stride"]), float(rules["mean"]), float(rules["std"])
        self.session = open_session(self.model_dir / self.card["files"]["onnx"]["file"], threads)

    @property
    def version(self) -> str:
        return f"{self.card['name']}-{self.card['version']}"

    def logits(self, gray: np.ndarray) -> np.ndarray:
        """(classes, H, W) float32 logits for a (H, W) uint8 grey page."""
        logits = self.session.run(None, {"images": normalise_page(gray, self.stride, self.mean, self.std)})[0]
        h, w = gray.shape
        return logits[0, :, :h, :w]

    def probabilities(self, gray: np.ndarray) -> np.ndarray:
        """(classes, H, W) float32 in [0, 1] for a (H, W) uint8 grey page."""
        return 0.5 * (1 + np.tanh(0.5 * self.logits(gray)))  # the sigmoid, without exp's overflow

    def responses(self, gray: np.ndarray) -> dict[str, np.ndarray]:
        """Each class's map as uint8 line responses (`RESPONSE_SCALE`), by class name."""
        probs = self.probabilities(gray)
        return {name: (probs[k] * RESPONSE_SCALE + 0.5).astype(np.uint8) for k, name in enumerate(self.classes)}
