"""Which book template (book type × era) a page image shows, with a calibrated confidence, on ONNX Runtime.

The artifact is a folder with `model.onnx` (a small CNN: gray page thumbnail -> class logits) and
`model.json`, its card: the classes (the template ids plus `unknown`), the input size and normalisation,
the calibration temperature and the confidence threshold below which no template is named. Nothing here
knows how the model was trained, and nothing imports torch.

The page the model sees is made by `page_thumbnail` alone, in training and at inference alike: grayscale,
the long side resized to the input size (area averaging), centred on a square of white paper, then
`(gray / 255 - mean) / std`, so paper is near +1 and ink near -1, as for the recogniser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hotich.inference.decoding import softmax
from hotich.inference.onnx_session import open_session
from hotich.line_image import BACKGROUND
from hotich.models.card import load_card

__all__ = [
    "CARD_FORMAT",
    "DEFAULT_MODEL_DIR",
    "INPUT_NORMALISATION",
    "ONNX_FILE",
    "UNKNOWN",
    "Identification",
    "TemplateIdentifier",
    "as_gray",
    "fit_long_side",
    "load_layout_card",
    "normalise_thumbnails",
    "pad_square",
    "page_thumbnail",
]

CARD_FORMAT = "hotich.layout_classifier.onnx/1"
ONNX_FILE = "model.onnx"
UNKNOWN = "unknown"
"""The class of pages that show no known template (blank paper, other documents, torn-off pieces)."""
DEFAULT_MODEL_DIR = Path(str(files("hotich.models"))) / "weights" / "layout"
"""The shipped template identifier."""
INPUT_NORMALISATION = {"channels": 1, "mean": 0.5, "std": 0.5, "scale": 1 / 255, "pad_value": BACKGROUND}
"""(gray * scale - mean) / std; the square is padded with white paper (pad_value after normalisation)."""
PAPER = 255
"""The pad colour of a thumbnail before normalisation: white, which normalises to `pad_value`."""


def as_gray(image: np.ndarray) -> np.ndarray:
    """A page image (gray (H, W) or (H, W, 1), BGR (H, W, 3) or BGRA (H, W, 4), uint8) as 2-D uint8 gray."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy page image, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim == 3 and image.shape[2] in (3, 4) and image.dtype == np.uint8 and image.size:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if image.ndim != 2 or image.dtype != np.uint8 or min(image.shape) < 8:
        raise ValueError(f"expected a uint8 grayscale or BGR page image at least 8 px on each side, got "
                         f"{image.dtype} of shape {image.shape}")
    return image


def fit_long_side(gray: np.ndarray, size: int) -> np.ndarray:
    """`gray` resized so that its long side is `size`, keeping the aspect (area averaging when shrinking)."""
    h, w = gray.shape[:2]
    scale = size / max(h, w)
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    if (out_h, out_w) == (h, w):
        return gray
    return cv2.resize(gray, (out_w, out_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def pad_square(gray: np.ndarray, size: int) -> np.ndarray:
    """`gray` (long side <= `size`) centred on a `size` x `size` square of white paper."""
    h, w = gray.shape[:2]
    if max(h, w) > size:
        raise ValueError(f"cannot pad a {w}x{h} image into a {size} px square")
    out = np.full((size, size), PAPER, np.uint8)
    y, x = (size - h) // 2, (size - w) // 2
    out[y : y + h, x : x + w] = gray
    return out


def page_thumbnail(gray: np.ndarray, size: int) -> np.ndarray:
    """The classifier's view of a page before normalisation: (size, size) uint8, the page centred on white."""
    return pad_square(fit_long_side(gray, size), size)


def normalise_thumbnails(thumbs: Sequence[np.ndarray], spec: dict[str, Any] | None = None) -> np.ndarray:
    """Thumbnails (size, size) uint8 -> the model's input batch (B, 1, size, size) float32."""
    spec = spec or INPUT_NORMALISATION
    batch = np.stack(thumbs).astype(np.float32)[:, None]
    return (batch * np.float32(spec["scale"]) - np.float32(spec["mean"])) / np.float32(spec["std"])


def load_layout_card(model_dir: Path) -> dict[str, Any]:
    return load_card(model_dir, CARD_FORMAT)


@dataclass(frozen=True)
class Identification:
    """Which template a page shows."""

    template_id: str | None
    """None when the best class is `unknown` or its confidence is below the card's threshold."""
    confidence: float
    """Calibrated probability of `template_id`, or of `unknown` when `template_id` is None."""
    top3: tuple[tuple[str, float], ...]
    """The three most probable classes with their probabilities, best first (may include `unknown`)."""
    book_type: str | None
    era: str | None


class TemplateIdentifier:
    """A template-identifier artifact loaded into ONNX Runtime; load it once and call it per page.

    `threads` caps ONNX Runtime's intra-op threads (default: $HOTICH_THREADS, else ONNX Runtime's choice).
    """

    def __init__(self, model_dir: Path | None = None, threads: int | None = None) -> None:

        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.card = load_layout_card(self.model_dir)
        self.classes: tuple[str, ...] = tuple(self.card["classes"])
        self.templates: dict[str, dict[str, str]] = self.card["templates"]
        self.input: dict[str, Any] = self.card["input"]
        self.size = int(self.input["size"])
        self.temperature = float(self.card["calibration"]["temperature"])
        self.threshold = float(self.card["calibration"]["threshold"])
        self.session = open_session(self.model_dir / self.card["files"]["onnx"]["file"], threads)

    @property
    def version(self) -> str:
        return f"{self.card['name']}-{self.card['version']}"

    def thumbnails(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [page_thumbnail(as_gray(image), self.size) for image in images]

    def logits(self, images: Sequence[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Raw class logits (N, classes) of page images (gray or BGR uint8), in input order."""
        if isinstance(images, np.ndarray):
            raise ValueError("identify_batch takes a sequence of page images; use identify for one image")
        thumbs = self.thumbnails(images)
        if not thumbs:
            return np.zeros((0, len(self.classes)), np.float32)
        out = [self.session.run(None, {"images": normalise_thumbnails(thumbs[i : i + batch_size], self.input)})[0]
               for i in range(0, len(thumbs), batch_size)]
        return np.concatenate(out)

    def probabilities(self, images: Sequence[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Calibrated class probabilities (N, classes), columns in the order of `self.classes`."""
        return softmax(self.logits(images, batch_size), self.temperature)

    def decide(self, probs: np.ndarray) -> Identification:
        """One page's class probabilities -> the identification the card's threshold allows."""
        order = np.argsort(-probs, kind="stable")
        top3 = tuple((self.classes[i], float(probs[i])) for i in order[:3])
        best, p_best = top3[0]
        if best == UNKNOWN or p_best < self.threshold:
            p_unknown = float(probs[self.classes.index(UNKNOWN)])
            return Identification(None, p_unknown, top3, None, None)
        info = self.templates[best]
        return Identification(best, p_best, top3, info["book_type"], info["era"])

    def identify(self, image: np.ndarray) -> Identification:
        """The template one page image (gray or BGR uint8, any size) shows."""
        return self.identify_batch([image])[0]

    def identify_batch(self, images: Sequence[np.ndarray], batch_size: int = 16) -> list[Identification]:
        """Identify each page (gray or BGR uint8, any size), `batch_size` at a time through the network."""
        return [self.decide(p) for p in self.probabilities(images, batch_size)]
