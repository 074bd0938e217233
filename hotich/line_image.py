"""The recogniser's view of a line image, shared by training and inference so the two cannot drift apart.

Grayscale, optionally cut down to the band of rows the writing occupies (`crop="ink"`), resized to a fixed
height keeping the aspect ratio, optionally widened by a `stretch` (width clipped to [height, max_width]), then
normalised as
`(gray / 255 - 0.5) / 0.5`, so paper is near +1.0 and ink near -1.0; batches are padded on the right with
paper. Torch-free: the ONNX server uses it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from hotich._ink_band import band

__all__ = ["BACKGROUND", "LineCrop", "ink_band", "pad_lines", "preprocess_line", "read_gray",
           "resize_line", "resized_width", "width_batches"]

LineCrop = Literal["cell", "ink"]
"""cell: the crop as cut (a cell's band, where handwriting may fill a third of the height); ink: only the rows
the writing occupies, so its letters fill the model's height whatever the cell was."""

BACKGROUND = 1.0
"""White paper after normalisation: the value batches are padded with."""
WIDTH_SPREAD = 0.1
"""How much wider than its narrowest line a batch's widest may be: the recogniser's squeeze-and-excitation
layers average over the padded width, so padding changes what a line reads (held-out lines in batches of
32: 9.2% CER within 10%, 9.6% without a limit)."""


def read_gray(path: Path) -> np.ndarray:
    """A line image file as 2-D uint8 grayscale, with an error that names the file when it cannot be read."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None or gray.size == 0:
        raise ValueError(f"cannot read image {path}: missing, corrupt or not an image")
    return gray


BAND_ROWS = 48
"""A line crop at least twice this tall has its ink band found on a copy shrunk by a whole factor to about this
height: a third of the work on Kalapa's 96 px lines (1.0 against 2.9 ms of CPU), CER within 0.15 point on its
validation and training writers; the band's pixel margins grow by the same factor."""


def ink_band(gray: np.ndarray) -> tuple[int, int]:
    """(top, bottom) rows of the writing in a line crop, its marks and descenders included; the whole height
    when there is no writing to find.

    The core is the densest run of rows (where the letters' bodies are); every ink component reaching into
    it or close above or below it (tone marks, dots, descenders) widens the band, ruling does not; the
    band keeps a margin of the core's height above and half of it below, as marks sit high.
    """
    h, w = gray.shape
    scale = h // BAND_ROWS
    if scale < 2 or w < 12 * scale:
        return band(np.ascontiguousarray(gray))
    # INTER_AREA keeps faint strokes as lighter pixels rather than dropping them.
    small = cv2.resize(gray, (w // scale, h // scale), interpolation=cv2.INTER_AREA)
    top, bottom = band(small)
    if (top, bottom) == (0, small.shape[0]):
        return 0, h
    return top * scale, min(h, (bottom + 1) * scale)


def resized_width(h: int, w: int, height: int, max_width: int, stretch: float = 1.0) -> int:
    """The width of an h x w line (its ink band, for `crop="ink"`) resized to `height`, aspect kept and then
    multiplied by `stretch`, within [height, max_width]."""
    return int(np.clip(round(w * height / h * stretch), height, max_width))


def resize_line(gray: np.ndarray, height: int, max_width: int, crop: LineCrop = "cell",
                stretch: float = 1.0) -> np.ndarray:
    if not stretch > 0:
        raise ValueError(f"stretch must be positive, not {stretch}")
    if gray.ndim != 2 or gray.dtype != np.uint8 or gray.size == 0:
        raise ValueError(f"expected a non-empty 2-D uint8 grayscale image, got {gray.dtype} of shape {gray.shape}")
    if crop == "ink":
        top, bottom = ink_band(gray)
        gray = gray[top:bottom]
    h, w = gray.shape
    width = resized_width(h, w, height, max_width, stretch)
    if (h, w) == (height, width):
        return gray
    # INTER_AREA averages when shrinking (no aliasing of thin strokes); it is blocky when enlarging.
    shrinking = h > height
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def preprocess_line(gray: np.ndarray, height: int, max_width: int, crop: LineCrop = "cell",
                    stretch: float = 1.0) -> np.ndarray:
    """A grayscale uint8 line image as the recogniser's input: float32 (height, W), paper +1, ink -1.

    W = round(w * height / h * stretch) of the (cropped) line, clipped to [height, max_width] (so extreme lines
    are squeezed or stretched). `stretch` is the recogniser card's `input.stretch`: chosen on validation lines
    after training (`hotich calibrate stretch`), as the models read unseen writers better with more frames to
    each letter than their training lines gave them.
    """
    return (resize_line(gray, height, max_width, crop, stretch).astype(np.float32) / 255.0 - 0.5) / 0.5


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


def width_batches(widths: Sequence[int], batch_size: int, spread: float = WIDTH_SPREAD) -> list[list[int]]:
    """Indices of lines by width, narrowest first, cut into batches of at most `batch_size` lines whose widest
    is at most `1 + spread` times their narrowest."""
    batches: list[list[int]] = []
    for i in np.argsort(widths, kind="stable").tolist():
        if not batches or len(batches[-1]) == batch_size or widths[i] > widths[batches[-1][0]] * (1 + spread):
            batches.append([])
        batches[-1].append(i)
    return batches
