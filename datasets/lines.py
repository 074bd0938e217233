"""Line datasets for the recogniser: a folder of line images with `labels.tsv` (`filename<TAB>text`, NFC).

Every real or synthetic line set uses this one format (design.md, "Line datasets"). The image a model sees
is made by `preprocess_line` alone, in training here and at inference, so the two cannot drift apart:
grayscale, resized to a fixed height keeping the aspect ratio (width clipped to [height, max_width]), then
normalised as `(gray / 255 - 0.5) / 0.5`, so paper is near +1.0 and ink near -1.0.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from hotich.datasets.synth.lines import LABELS_FILE
from hotich.text import nfc

if TYPE_CHECKING:
    from hotich.datasets.augment import Augment

log = logging.getLogger(__name__)

BACKGROUND = 1.0
"""White paper after normalisation: the value batches are padded with."""


@dataclass(frozen=True)
class LineSample:
    """One line image and its text (NFC)."""

    path: Path
    text: str


def read_line_folder(root: Path) -> list[LineSample]:
    """The samples listed in `root/labels.tsv`, in file order, every image checked to exist.

    Texts are NFC-normalised and stripped of leading and trailing whitespace (a line image cannot show
    it, so a recogniser cannot learn it). Rows whose text is then empty are skipped, with a warning that
    counts them; blank rows are ignored.
    """
    root = Path(root)
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise FileNotFoundError(
            f"{labels} not found: a line folder holds images and a {LABELS_FILE} of filename<TAB>text rows; "
            f"run `hotich synth lines --out {root}` to make a synthetic one"
        )
    samples: list[LineSample] = []
    empty = 0
    # utf-8-sig: a spreadsheet-saved file starts with a byte-order mark that would otherwise join the first
    # file name. Split on "\n" only: str.splitlines also splits on separators a label might hold.
    for number, row in enumerate(labels.read_text(encoding="utf-8-sig").split("\n"), start=1):
        row = row.removesuffix("\r")
        if not row.strip():
            continue
        name, tab, text = row.partition("\t")
        if not tab or not name:
            raise ValueError(f"{labels}, line {number}: expected filename<TAB>text, got {row!r}")
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(f"{labels}, line {number}: image {name!r} is listed but missing ({path})")
        text = nfc(text).strip()
        if not text:
            empty += 1
            continue
        samples.append(LineSample(path, text))
    if empty:
        log.warning("%s: skipped %d rows with empty text", labels, empty)
    return samples


def _writer(sample: LineSample) -> int:
    prefix = sample.path.name.partition("_")[0]
    if not prefix.isdigit():
        raise ValueError(f"{sample.path.name}: Kalapa files are named <writer number>_<line>.jpg")
    return int(prefix)


def kalapa_split(root: Path, n_val_writers: int = 20) -> tuple[list[LineSample], list[LineSample]]:
    """Kalapa 2023 lines as (train, val), split by writer, never by line.

    The writer is the file-name part before '_' (`<writer>_<n>.jpg`, one folder of 27 lines each in the
    original set). Writers are sorted numerically and every k-th is held out, k = writers // n_val_writers,
    starting at the k-th: with 100 writers and 20 held out, k = 5 and the writers at sorted positions 4, 9,
    ..., 99 (0-based) are validation. Spreading the choice over the whole id range, rather than taking the
    last 20, draws from every run of ids the set holds (7-18, 258-277, ...). The choice is fixed: no seed.
    """
    samples = read_line_folder(root)
    writers = sorted({_writer(s) for s in samples})
    if not 0 < n_val_writers < len(writers):
        raise ValueError(f"n_val_writers must be in [1, {len(writers) - 1}] for {len(writers)} writers")
    k = len(writers) // n_val_writers
    val_writers = set(writers[k - 1 :: k][:n_val_writers])
    train = [s for s in samples if _writer(s) not in val_writers]
    val = [s for s in samples if _writer(s) in val_writers]
    return train, val


def shared_data_dir() -> Path | None:
    """The shared real-data folder: $HOTICH_SHARED_DATA, else ../shared/data beside the repository.

    None when it is absent: users of the package have no ../shared, and the data may not be redistributed.
    """
    env = os.environ.get("HOTICH_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if path.is_dir():
        return path
    if env:
        log.warning("HOTICH_SHARED_DATA=%s is not a folder", env)
    return None


def _resize(gray: np.ndarray, height: int, max_width: int) -> np.ndarray:
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
    return (_resize(gray, height, max_width).astype(np.float32) / 255.0 - 0.5) / 0.5


class LineDataset(Dataset):
    """(image (1, height, W) float32 as `preprocess_line` makes it, NFC text) for each sample.

    With `augment`, the line is resized to `height` first, augmented there (the scale its effects are tuned
    for), then normalised.
    """

    def __init__(
        self, samples: list[LineSample], height: int = 32, max_width: int = 1024, augment: Augment | None = None
    ) -> None:
        if height < 8 or max_width < height:
            raise ValueError(f"need 8 <= height <= max_width, got height={height}, max_width={max_width}")
        self.samples = samples
        self.height = height
        self.max_width = max_width
        self.augment = augment
        self._worker_seeded = False

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        sample = self.samples[i]
        gray = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            raise ValueError(f"cannot read image {sample.path}: missing, corrupt or not an image")
        if self.augment is not None:
            self._seed_worker(self.augment)
            gray = self.augment(_resize(gray, self.height, self.max_width))
        image = preprocess_line(gray, self.height, self.max_width)
        return torch.from_numpy(image)[None], sample.text

    def _seed_worker(self, augment: Augment) -> None:
        # Each DataLoader worker starts as a copy of this dataset, augmenter state included: unseeded, every
        # worker would replay the same "random" sequence. Torch gives each worker its own seed (reproducible
        # under torch.manual_seed); persistent workers keep theirs across epochs.
        info = get_worker_info()
        if info is not None and not self._worker_seeded:
            augment.reseed(info.seed)
            self._worker_seeded = True


def collate_lines(batch: list[tuple[torch.Tensor, str]]) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Stack lines of one height into (B, 1, H, Wmax), padded on the right with paper (`BACKGROUND`);
    also their true widths (B,) int64, for CTC input lengths, and their texts."""
    if not batch:
        raise ValueError("cannot collate an empty batch")
    heights = {image.shape[-2] for image, _ in batch}
    if len(heights) != 1:
        raise ValueError(f"lines in a batch must share one height, got {sorted(heights)}")
    widths = torch.tensor([image.shape[-1] for image, _ in batch], dtype=torch.int64)
    images = torch.full((len(batch), 1, heights.pop(), int(widths.max())), BACKGROUND, dtype=torch.float32)
    for k, (image, _) in enumerate(batch):
        images[k, :, :, : image.shape[-1]] = image
    return images, widths, [text for _, text in batch]
