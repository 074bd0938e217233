"""Line datasets as PyTorch sees them: images made by `hotich.line_image.preprocess_line`, optionally
augmented, batched with paper padding. Only training needs this module (and torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch.utils.data import Dataset, get_worker_info

from hotich.datasets.lines import LineSample
from hotich.line_image import LineCrop, pad_lines, preprocess_line, read_gray, resize_line

if TYPE_CHECKING:
    from hotich.datasets.augment import Augment

__all__ = ["LineDataset", "collate_lines"]


class LineDataset(Dataset):
    """(image (1, height, W) float32 as `preprocess_line` makes it, NFC text) for each sample.

    With `augment`, the line is cropped (`crop`) and resized to `height` first, augmented there (the scale its
    effects are tuned for), then normalised.
    """

    def __init__(
        self, samples: list[LineSample], height: int = 32, max_width: int = 1024, augment: Augment | None = None,
        crop: LineCrop = "cell",
    ) -> None:
        if height < 8 or max_width < height:
            raise ValueError(f"need 8 <= height <= max_width, got height={height}, max_width={max_width}")
        self.samples = samples
        self.height = height
        self.max_width = max_width
        self.augment = augment
        self.crop: LineCrop = crop
        self._worker_seeded = False

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        sample = self.samples[i]
        gray = read_gray(sample.path)
        if self.augment is not None:
            self._seed_worker(self.augment)
            gray = self.augment(resize_line(gray, self.height, self.max_width, self.crop))
        image = preprocess_line(gray, self.height, self.max_width, "cell" if self.augment else self.crop)
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
    """Lines of one height as (B, 1, H, Wmax) padded with paper, their true widths (B,) int64, their texts."""
    images, widths = pad_lines([image[0].numpy() for image, _ in batch])
    return torch.from_numpy(images), torch.from_numpy(widths), [text for _, text in batch]
