"""The recogniser's view of a line image, shared by training and inference so the two cannot drift apart.

Grayscale, resized to a fixed height keeping the aspect ratio (width clipped to [height, max_width]), then
normalised as `(gray / 255 - 0.5) / 0.5`, so paper is near +1.0 and ink near -1.0; batches are padded on
the right with paper. Torch-free: the ONNX server uses it as it is.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["BACKGROUND", "pad_lines", "preprocess_line", "resize_line"]

BACKGROUND = 1.0
"""White paper after normalisation: the value batches are padded with."""


def resize_line(gray: np.ndarray, height: int, max_width: int) -> np.ndarray:
    if gray.ndim != 2 or gray.dtype != np.uint8 or gray.size == 0:
        raise ValueError(f"expected a non-empty 2-D uint8 grayscale image, got {gray.dtype} of shape {gray.shape}")
    h, w = gray.shape
    width = int(np.clip(round(w * height / h), height, max_width))
    if (h, w) == (height, width):
        return gray
    # INTER_AREA averages when shrinking (no aliasing of thin strokes); it is blocky when enlarging.
    shrinking = h > height
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def preprocess_line(gray: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """A grayscale uint8 line image as the recogniser's input: float32 (height, W), paper +1, ink -1.

    W = round(w * height / h), clipped to [height, max_width] (so extreme lines are squeezed or stretched).
    """
    return (resize_line(gray, height, max_width).astype(np.float32) / 255.0 - 0.5) / 0.5


def pad_lines(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed lines of one height as (B, 1, H, Wmax) float32 padded with paper, and their widths (B,)."""
    if not lines:
        raise ValueError("cannot batch zero lines")
    heights = {line.shape[0] for line in lines}
    if len(heights) != 1:
        raise ValueError(f"lines in a batch must share one height, got {sorted(heights)}")
    widths = np.array([line.shape[1] for line in lines], dtype=np.int64)
    batch = np.full((len(lines), 1, heights.pop(), int(widths.max())), BACKGROUND, dtype=np.float32)
    for k, line in enumerate(lines):
        batch[k, 0, :, : line.shape[1]] = line
    return batch, widths
