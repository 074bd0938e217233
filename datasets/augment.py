"""Training-time augmentation of handwritten line images (grayscale uint8, dark ink on light paper).

Meant for lines already resized to the recogniser's height (about 32 px; `LineDataset` resizes, augments,
then normalises): pixel-sized effects (the 2x2 ink kernel, blur kernels) are tuned for that scale. Every
effect stays mild enough that a person still reads the same text, since the label is not changed.
"""

from __future__ import annotations

import random
from typing import Any

import albumentations as A
import cv2
import numpy as np

_INK_KERNEL = np.ones((2, 2), np.uint8)


class _InkWidth(A.ImageOnlyTransform):
    """Thicken or thin the strokes by one pixel: pens, pressure and scans vary stroke width."""

    def get_params(self) -> dict[str, Any]:
        return {"thicken": self.py_random.random() < 0.5}

    def apply(self, img: np.ndarray, thicken: bool, **params: Any) -> np.ndarray:
        # Ink is dark: a min filter (erode) grows it, a max filter (dilate) shrinks it.
        if thicken:
            return cv2.erode(img, _INK_KERNEL)
        thinned = cv2.dilate(img, _INK_KERNEL)
        # Hairline strokes (fine pens, faint synthetic ink at 32 px) vanish under a 2x2 max filter:
        # thin only when at least half of the ink survives it.
        threshold = (int(np.median(img)) + int(img.min())) // 2
        survives = np.count_nonzero(thinned < threshold) >= 0.5 * np.count_nonzero(img < threshold)
        return thinned if survives else img


class _HorizontalJitter(A.ImageOnlyTransform):
    """Pad or crop each end by a few pixels: the layout stage will not cut lines exactly."""

    def __init__(self, max_fraction: float, p: float) -> None:
        super().__init__(p=p)
        self.max_fraction = max_fraction

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        m = max(1, round(height * self.max_fraction))
        left, right = self.py_random.randint(-m, m), self.py_random.randint(-m, m)
        # Never crop a short line away: keep at least half its width.
        if -(min(left, 0) + min(right, 0)) > width // 2:
            left, right = max(left, 0), max(right, 0)
        return {"left": left, "right": right}

    def apply(self, img: np.ndarray, left: int, right: int, **params: Any) -> np.ndarray:
        img = img[:, max(0, -left) : img.shape[1] - max(0, -right)]
        if left > 0 or right > 0:
            # Pad with the paper tone (the median: ink is a minority of a line's pixels), not white:
            # phone photos have grey paper, and a white band would be a cue absent at inference.
            paper = int(np.median(img))
            img = cv2.copyMakeBorder(img, 0, 0, max(0, left), max(0, right), cv2.BORDER_CONSTANT, value=paper)
        return np.ascontiguousarray(img)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_fraction",)


class _RotateShear(A.ImageOnlyTransform):
    """Tilt the baseline and slant the letters, filling uncovered corners with the paper tone."""

    def __init__(self, max_degrees: float, p: float) -> None:
        super().__init__(p=p)
        self.max_degrees = max_degrees

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        # Cap the tilt so the ends of the line move at most 10% of its height: a long line turned by
        # the full angle would push its first and last letters out of a tight crop, and the label with them.
        max_rotate = min(self.max_degrees, float(np.degrees(np.arctan(0.2 * height / width))))
        return {
            "angle": self.py_random.uniform(-max_rotate, max_rotate),
            "shear": self.py_random.uniform(-self.max_degrees, self.max_degrees),
        }

    def apply(self, img: np.ndarray, angle: float, shear: float, **params: Any) -> np.ndarray:
        height, width = img.shape[:2]
        rotate = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0), [0, 0, 1]])
        k = np.tan(np.radians(shear))
        slant = np.array([[1, k, -k * height / 2], [0, 1, 0], [0, 0, 1]])
        # A constant fill, not replicated edges: box borders at a crop's edge would smear into bands.
        return cv2.warpAffine(
            img,
            (slant @ rotate)[:2],
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=int(np.median(img)),
        )

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_degrees",)


class _WidthScale(A.ImageOnlyTransform):
    """Make the letters wider or narrower: writers differ in how wide they write for a given height (v0.9.1 read
    Kalapa's training writers at 5.5% CER, and at 14.1% with their lines squeezed to 0.8 of their width)."""

    def __init__(self, max_change: float, p: float) -> None:
        super().__init__(p=p)
        self.max_change = max_change

    def get_params(self) -> dict[str, Any]:
        # Log-uniform: squeezing by a factor is as likely as widening by it.
        reach = np.log1p(self.max_change)
        return {"factor": float(np.exp(self.py_random.uniform(-reach, reach)))}

    def apply(self, img: np.ndarray, factor: float, **params: Any) -> np.ndarray:
        height, width = img.shape[:2]
        # At least the height: the shortest line the recogniser's width bounds allow.
        target = max(height, round(width * factor))
        return cv2.resize(img, (target, height), interpolation=cv2.INTER_AREA if target < width else cv2.INTER_LINEAR)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_change",)


class _PaperInkTone(A.ImageOnlyTransform):
    """Shift the paper tone and scale the ink's contrast against it.

    Not `A.RandomBrightnessContrast`: its contrast multiplies pixel values about 0, so on light paper a
    contrast gain saturates the paper at white and faint ink (pencil-grey synthetic ink, faded registers)
    washes out with it. Here contrast pivots on the paper tone, so the ink keeps at least `contrast[0]` of it.
    """

    def __init__(self, shift: float, contrast: tuple[float, float], p: float) -> None:
        super().__init__(p=p)
        self.shift = shift
        self.contrast = contrast

    def get_params(self) -> dict[str, Any]:
        return {
            "beta": 255 * self.py_random.uniform(-self.shift, self.shift),
            "alpha": self.py_random.uniform(*self.contrast),
        }

    def apply(self, img: np.ndarray, beta: float, alpha: float, **params: Any) -> np.ndarray:
        paper = float(np.median(img))
        lut = np.clip((np.arange(256) - paper) * alpha + paper + beta, 0, 255).astype(np.uint8)
        return cv2.LUT(img, lut)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("shift", "contrast")


class Augment:
    """Random, label-preserving distortions of one handwritten line: `gray (H, W) uint8 -> gray (H, W') uint8`.

    `strength` scales every magnitude (degrees, pixels, noise, blur) and every probability (capped at 1);
    1.0 is the tuned default. `seed` (>= 0) makes the sequence of outputs reproducible; `reseed` gives each
    data-loader worker its own sequence. The width may change by a few pixels (end jitter, ±3 px at 32 px), and
    with `width` > 0 by up to that share (0.25: half the lines drawn between 0.8 and 1.25 times as wide).
    """

    def __init__(self, strength: float = 1.0, seed: int | None = None, width: float = 0.0) -> None:
        if not 0 < strength <= 3:
            # 0 is no augmentation (pass augment=None); past 3 the text is no longer reliably legible.
            raise ValueError(f"strength must be in (0, 3], not {strength}")
        if not 0 <= width < 1:
            raise ValueError(f"width must be in [0, 1), not {width}")
        s = strength

        def p(base: float) -> float:
            return min(1.0, base * s)

        # These warps move pixels by a pixel or two, so replicating the edge row or column is invisible.
        edge = cv2.BORDER_REPLICATE
        self._pipeline = A.Compose(
            [
                _InkWidth(p=p(0.3)),
                A.OneOf(
                    [
                        # Displacements up to ~2 px at 32 px height: wobbly strokes, letters still intact.
                        A.ElasticTransform(alpha=10.0 * s, sigma=4.0, border_mode=edge),
                        A.GridDistortion(num_steps=6, distort_limit=0.08 * s, border_mode=edge),
                    ],
                    p=p(0.3),
                ),
                _RotateShear(max_degrees=3.0 * s, p=p(0.5)),
                # Only when asked: a transform that never fires still draws from the shared random stream.
                *([_WidthScale(max_change=width, p=0.5)] if width > 0 else []),
                _HorizontalJitter(max_fraction=0.1 * s, p=p(0.5)),
                A.OneOf(
                    [
                        A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(0.3, 0.3 + 0.6 * s)),
                        A.MotionBlur(blur_limit=(3, 3)),
                    ],
                    p=p(0.25),
                ),
                _PaperInkTone(shift=0.08 * s, contrast=(max(0.5, 1 - 0.25 * s), 1 + 0.4 * s), p=p(0.5)),
                A.RandomGamma(gamma_limit=(max(50, 100 - 10 * s), 100 + 30 * s), p=p(0.3)),
                A.GaussNoise(std_range=(0.01, 0.01 + 0.025 * s), p=p(0.3)),
                A.ImageCompression(quality_range=(max(20, round(95 - 50 * s)), 95), p=p(0.3)),
            ]
        )
        self.seed = seed
        if seed is not None:
            self._start_stream(seed)

    def reseed(self, worker_seed: int) -> None:
        """Start a new random sequence for this copy (one per data-loader worker, which all begin as copies
        of one state), from `worker_seed` mixed with the constructor's seed: augmenters made with different
        seeds stay different when reseeded alike, as datasets of one `ConcatDataset` are in one worker."""
        entropy = [worker_seed] if self.seed is None else [worker_seed, self.seed]
        self._start_stream(int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0]))

    def _start_stream(self, seed: int) -> None:
        # One generator pair shared by every transform, not `A.Compose(seed=...)`: albumentations 2.0 seeds
        # each transform with the same seed, so transforms of equal probability would always fire together.
        self._pipeline.set_random_state(np.random.default_rng(seed), random.Random(seed))

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ValueError(f"Augment takes a 2-D uint8 grayscale line, got {gray.dtype} of shape {gray.shape}")
        return self._pipeline(image=gray)["image"]
