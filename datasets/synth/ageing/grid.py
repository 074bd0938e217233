"""A coarse grid over the page: smooth fields (light, stains, warp maps) are computed on it and upsampled.

Cell j covers full-resolution pixel centre (j - 1 + 0.5) * f - 0.5, with one spare cell on every side, so
that `upsample` interpolates right up to the image border instead of clamping the outermost half cell
(which would shift warped content near the border by up to f/2 pixels).
"""

from __future__ import annotations

import math

import cv2
import numpy as np


class Grid:
    def __init__(self, height: int, width: int, factor: int = 4) -> None:
        self.h, self.w, self.f = height, width, factor
        self.ny, self.nx = math.ceil(height / factor) + 2, math.ceil(width / factor) + 2
        self.xs = ((np.arange(self.nx) - 0.5) * factor - 0.5).astype(np.float64)
        self.ys = ((np.arange(self.ny) - 0.5) * factor - 0.5).astype(np.float64)

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution (x, y) of every cell, each (ny, nx) float64."""
        return np.meshgrid(self.xs, self.ys)

    def normalised(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell positions as fractions of the page: x / W, y / H."""
        x, y = self.coords()
        return x / self.w, y / self.h

    def to_cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution positions -> fractional cell indices (for cv2.remap on a grid field)."""
        return (x + 0.5) / self.f + 0.5, (y + 0.5) / self.f + 0.5

    def upsample(self, field: np.ndarray) -> np.ndarray:
        f = self.f
        big = cv2.resize(field, (self.nx * f, self.ny * f), interpolation=cv2.INTER_LINEAR)
        return big[f : f + self.h, f : f + self.w]

    def noise(self, rng: np.random.Generator, cell: float) -> np.ndarray:
        """Smooth zero-mean unit-variance noise with features about `cell` full-resolution pixels wide."""
        small = rng.standard_normal((math.ceil(self.h / cell) + 3, math.ceil(self.w / cell) + 3))
        small = small.astype(np.float32)
        field = cv2.resize(small, (self.nx, self.ny), interpolation=cv2.INTER_CUBIC)
        return (field - field.mean()) / (field.std() + 1e-6)

    def fbm(self, rng: np.random.Generator, cell: float, octaves: int = 4) -> np.ndarray:
        """Fractal noise: octaves from `cell` down, each half the size and weight of the last."""
        total = np.zeros((self.ny, self.nx), np.float32)
        for k in range(octaves):
            if cell / 2**k < self.f:
                break
            total += self.noise(rng, cell / 2**k) * 0.5**k
        return total / (total.std() + 1e-6)
