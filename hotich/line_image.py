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


def _flat_runs(ink: np.ndarray, length: int) -> np.ndarray:
    """The 0/1 `ink` opened by a 1 x `length` row, as cv2.morphologyEx would, from two running sums:
    OpenCV's opening costs `length` per pixel, a third of the ink band's time on wide lines."""
    w = ink.shape[1]
    depth = cv2.CV_16U if length < 2**16 else cv2.CV_32S
    left = length // 2
    # an erosion counts what lies beyond the edges as ink, a dilation as paper
    padded = cv2.copyMakeBorder(ink, 0, 0, left, length - 1 - left, cv2.BORDER_CONSTANT, value=1)
    sums = cv2.boxFilter(padded, depth, (length, 1), normalize=False, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    eroded = (sums[:, :w] == length).astype(np.uint8)
    return (cv2.boxFilter(eroded, depth, (length, 1), normalize=False, borderType=cv2.BORDER_CONSTANT) > 0).astype(
        np.uint8)


def _rules(ink: np.ndarray) -> np.ndarray:
    """Ink that belongs to ruling rather than writing: long flat runs (dotted guides and slightly tilted cell
    borders once thickened and joined) and tall thin ones (cell borders at the ends)."""
    h, w = ink.shape
    thick = cv2.dilate(ink, np.ones((3, max(3, h // 8)), np.uint8))
    flat = _flat_runs(thick, max(2 * h, w // 6))
    tall = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(2, int(0.7 * h)), 1), np.uint8))
    return (flat | tall).astype(bool)


def _ink(darkness: np.ndarray) -> np.ndarray:
    """0/1: darker than its paper by more than Otsu's threshold, and by at least 20."""
    otsu, ink = cv2.threshold(darkness, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return ink if otsu >= 20 else cv2.threshold(darkness, 20, 1, cv2.THRESH_BINARY)[1]


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
        return _band(gray)
    # INTER_AREA keeps faint strokes as lighter pixels rather than dropping them.
    small = cv2.resize(gray, (w // scale, h // scale), interpolation=cv2.INTER_AREA)
    top, bottom = _band(small)
    if (top, bottom) == (0, small.shape[0]):
        return 0, h
    return top * scale, min(h, (bottom + 1) * scale)


def _band(gray: np.ndarray) -> tuple[int, int]:
    """`ink_band` at the crop's own scale."""
    h, w = gray.shape
    if h < 12 or w < 12:
        return 0, h
    size = max(3, (h // 3) | 1)
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    darkness = cv2.subtract(paper, gray)
    # Twice: dark cell borders would otherwise set a threshold that faint writing falls under.
    ink = _ink(darkness)
    darkness[cv2.dilate(_rules(ink).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 0
    ink = _ink(darkness)
    ink[_rules(ink)] = 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stats = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= 3]
    if len(stats) == 0:
        return 0, h
    top, bottom = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT]
    # each component spreads its area evenly over its rows: a tall stroke does not outweigh a word's body
    per_row = stats[:, cv2.CC_STAT_AREA] / stats[:, cv2.CC_STAT_HEIGHT]
    profile = np.zeros(h + 1)
    np.add.at(profile, top, per_row)
    np.add.at(profile, bottom, -per_row)
    window = max(1, h // 10)
    profile = np.convolve(np.cumsum(profile[:h]), np.ones(window) / window, mode="same")
    peak = int(profile.argmax())
    dense = np.flatnonzero(profile < 0.35 * profile[peak])
    core_top = int(dense[dense < peak].max()) + 1 if (dense < peak).any() else 0
    core_bottom = int(dense[dense > peak].min()) if (dense > peak).any() else h
    core = max(core_bottom - core_top, 4)
    near = (bottom > core_top - 0.9 * core) & (top < core_bottom + 0.5 * core)
    y0 = max(0, min(int(top[near].min()), core_top - int(0.8 * core)) - 2)
    y1 = min(h, max(int(bottom[near].max()), core_bottom + core // 2) + 2)
    if (y0 == 0 or y1 == h) and y1 - y0 < 0.6 * h:
        return 0, h  # against an edge and short: more likely what is left of a border than writing
    if y1 - y0 < 0.3 * h:  # a speck, not a line: keep a third of the crop around it
        middle, half = (y0 + y1) // 2, int(0.15 * h) + 1
        y0, y1 = max(0, middle - half), min(h, middle + half)
    return y0, y1


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
