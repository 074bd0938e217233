"""The page's warp as an analytic map that can be evaluated both ways, and torn-off paper.

Backward (output pixel -> clean pixel, what cv2.remap needs): q -> u = H^-1 q (the flat page under the
camera) -> p = curl(u) (the sheet bent about a vertical axis). Forward (what ground truth needs) inverts
the homography exactly and the curl by interpolating its monotone 1-D table the other way round, so the
two directions agree to float precision.
"""

from __future__ import annotations

import math

import numpy as np

from .grid import Grid
from .params import Curl, Geometry, Tear

_CORNERS = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])


class _CurlTable:
    """The bent sheet seen from above, separable: p_x = F(u_x), p_y = c_y + (u_y - c_y) * g(u_x).

    A point raised by z (in page widths) sits closer to the camera, so it is magnified by m = 1 + z about
    the page centre, and the sheet's arc length along x exceeds its projected length where it slopes.
    """

    def __init__(self, curl: Curl, width: int, height: int, spread: bool) -> None:
        un = np.linspace(-1.0, 2.0, 6001)  # reaches well past the page: the homography may look outside it
        z = _height(un, curl, spread)
        slope = np.gradient(z, un)
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(1.0, (slope[1:] + slope[:-1]) / 2) * np.diff(un))])
        arc -= np.interp(0.5, un, arc)
        m = 1.0 + z
        flat = 0.5 + (un - 0.5) / m  # where the raised point would lie on the table
        px = (0.5 + np.interp(flat, un, arc)) * width
        # Forward needs F strictly increasing; the sampled parameter ranges keep it so, this only guards.
        self.u = un * width
        self.f = np.maximum.accumulate(px) + np.arange(un.size) * 1e-9
        self.g = 1.0 / m
        self.cy = height / 2

    def backward(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.interp(x, self.u, self.g)
        return np.interp(x, self.u, self.f), self.cy + (y - self.cy) * g

    def forward(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ux = np.interp(x, self.f, self.u)
        return ux, self.cy + (y - self.cy) / np.interp(ux, self.u, self.g)


def _height(un: np.ndarray, c: Curl, spread: bool) -> np.ndarray:
    """Height of the sheet over x (fractions of the width), in page widths."""
    # 0 at the gutter or centre, 1 at the outer edges; |x| rounded off over ~2% of the width, since paper
    # bends rather than folds and the warp maps are interpolated from a coarse grid.
    soft = 0.015
    d = (np.sqrt((un - 0.5) ** 2 + soft**2) - soft) * 2

    def sheet(d: np.ndarray) -> np.ndarray:
        z = c.bow * d**2 + c.edge * np.clip((d - (1.0 - c.edge_width)) / c.edge_width, 0, 1) ** 2
        if spread:
            r = d / c.gutter_width
            z = z + c.gutter * r * np.exp(1.0 - r)  # rises out of the gutter, peaks, flattens
        return z

    # Past the page edge the surface levels off smoothly instead of kinking: no paper is there, but the warp
    # maps straddling the edge are interpolated, and a kink would bend the outermost columns of the page.
    end, eps, tau = sheet(np.array([1.0])), 1e-4, 0.1
    slope = (end - sheet(np.array([1.0 - eps]))) / eps
    beyond = np.maximum(d - 1.0, 0.0)
    return sheet(np.minimum(d, 1.0)) + slope * tau * (1.0 - np.exp(-beyond / tau))


class PointMap:
    """Maps (N, 2) float (x, y) clean-page pixels to aged-image pixels; `inverse` goes back."""

    def __init__(self, homography: np.ndarray | None = None, curl: _CurlTable | None = None) -> None:
        self.h = np.eye(3) if homography is None else homography
        self.h_inv = np.linalg.inv(self.h)
        self.curl = curl

    @property
    def is_identity(self) -> bool:
        return self.curl is None and bool(np.allclose(self.h, np.eye(3), atol=1e-12))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        x, y = pts[:, 0], pts[:, 1]
        if self.curl is not None:
            x, y = self.curl.forward(x, y)
        return np.stack(_project(self.h, x, y), axis=1)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        return np.stack(self.backward(pts[:, 0], pts[:, 1]), axis=1)

    def backward(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = _project(self.h_inv, x, y)
        return (x, y) if self.curl is None else self.curl.backward(x, y)


def _project(h: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w


def point_map(geometry: Geometry, width: int, height: int, spread: bool, fit: bool) -> PointMap:
    """The warp described by `geometry` on a width x height page; `fit` keeps the whole page in frame."""
    size = np.array([width, height], np.float64)
    corners = (_CORNERS - 0.5 + np.asarray(geometry.perspective)) * size
    corners[:, 0] += geometry.shear * corners[:, 1]
    a = math.radians(geometry.rotation)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    corners = corners @ rot.T * geometry.scale + (0.5 + np.asarray(geometry.shift)) * size
    if fit:  # a phone photo shows the whole page: shrink and slide it in rather than crop it
        lo, hi = corners.min(0), corners.max(0)
        margin = 0.025 * size
        k = min(1.0, *((size - 2 * margin) / (hi - lo)))
        corners = (corners - (lo + hi) / 2) * k + (lo + hi) / 2
        lo, hi = corners.min(0), corners.max(0)
        corners += np.maximum(margin - lo, 0) - np.maximum(hi - (size - margin), 0)
    homography = _homography(_CORNERS * size, corners)
    curl = _CurlTable(geometry.curl, width, height, spread) if geometry.curl is not None else None
    return PointMap(homography, curl)


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Exact (float64) homography taking the four `src` points to `dst`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.append(np.linalg.solve(np.array(rows), np.array(rhs)), 1.0).reshape(3, 3)


def warp_maps(pmap: PointMap, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps (output pixel -> clean pixel) on the coarse grid, float32 (ny, nx)."""
    x, y = grid.coords()
    mx, my = pmap.backward(x.ravel(), y.ravel())
    return mx.reshape(x.shape).astype(np.float32), my.reshape(x.shape).astype(np.float32)


def tear_polygons(tears: tuple[Tear, ...], width: int, height: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Outlines (float (n, 2)) of paper torn away, in clean-page pixels."""
    polys = []
    for t in tears:
        n = 64
        s = np.linspace(0.0, 1.0, n)
        # Ragged line: a smooth wander plus fibre-scale jitter, pinned to zero where it meets the edge.
        wander = np.cumsum(rng.normal(0, 1, n))
        wander = (wander - np.linspace(wander[0], wander[-1], n)) / (np.abs(wander).max() + 1e-9)
        fuzz = np.convolve(rng.normal(0, 1, n + 2), [0.25, 0.5, 0.25], "valid")  # fibres, not saw teeth
        rough = t.jag * (0.25 * wander + 0.04 * fuzz)
        if t.corner:
            cx, cy = _CORNERS[t.index] * (width, height)
            ix, iy = (1 if cx == 0 else -1), (1 if cy == 0 else -1)  # into the page
            a = np.array([cx + ix * t.width * width, cy])
            b = np.array([cx, cy + iy * t.depth * width])
            line = a + (b - a) * s[:, None]
            normal = np.array([ix * t.depth, iy * t.width]) / math.hypot(t.depth, t.width)
            bulge = np.sin(np.pi * s) * 0.15 + rough  # torn, not cut: the line sags into the page
            line += normal[None] * (bulge * math.hypot(t.width, t.depth) * width)[:, None]
            past = 4.0  # run the cut a few pixels beyond the sheet so no sliver of paper survives
            pts = np.vstack([a - (0, iy * past), line, b - (ix * past, 0), (cx - ix * past, cy - iy * past)])
        else:
            side = t.index
            along = (width if side in (0, 2) else height) * t.position
            half = t.width * width / 2
            offs = along - half + 2 * half * s
            peak = rng.uniform(0.25, 0.75)  # a tear runs in at a slant and out again, not a round bite
            depth = t.depth * width * np.maximum(np.minimum(s / peak, (1 - s) / (1 - peak)) ** 0.8 + rough, 0)
            edge = {0: 0.0, 1: width, 2: height, 3: 0.0}[side]
            inward = 1 if side in (0, 3) else -1
            if side in (0, 2):
                line = np.stack([offs, edge + inward * depth], 1)
                ends = [[offs[-1], edge - inward * 4], [offs[0], edge - inward * 4]]
            else:
                line = np.stack([edge + inward * depth, offs], 1)
                ends = [[edge - inward * 4, offs[-1]], [edge - inward * 4, offs[0]]]
            pts = np.vstack([line, ends])
        polys.append(pts)
    return polys
