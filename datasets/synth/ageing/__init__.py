"""Page ageing: make a clean rendered ledger page look like a decades-old register page, scanned on a
flatbed or photographed with a phone, and say exactly where every clean pixel went.

`sample_params(strength, rng)` draws every effect's parameters up front (JSON-able via
dataclasses.asdict); `age_page(clean, ink, params, seed)` applies them reproducibly and returns the aged
image with a `PointMap` from clean-page pixels to aged-image pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from .camera import background, capture, lighting
from .geometry import PointMap, point_map, tear_polygons, warp_maps
from .grid import Grid
from .paper import age_sheet
from .params import (
    AgeingParams,
    Background,
    Bleed,
    Camera,
    Curl,
    Geometry,
    Ink,
    Lighting,
    Paper,
    Shadow,
    Stain,
    Tear,
    sample_params,
)

__all__ = [
    "AgeingParams", "Background", "Bleed", "Camera", "Curl", "Geometry", "Ink", "Lighting", "Paper",
    "PointMap", "Shadow", "Stain", "Tear", "age_page", "sample_params", "warp_masks",
]

_GRID = 8  # pixels per cell of the coarse grid that smooth fields are computed on
_MAP_GRID = 4  # finer for the warp maps: interpolating them must stay well within 0.5 px of the PointMap


def age_page(clean: np.ndarray, ink: np.ndarray, params: AgeingParams, seed: int) -> tuple[np.ndarray, PointMap]:
    """Age `clean` (HxWx3 uint8 RGB) whose handwriting is `ink` (HxW uint8 mask).

    Returns the aged HxWx3 uint8 RGB image and the map from clean to aged pixel positions. A page at
    least 1.25 times as wide as it is high is taken for a double page with its gutter at x = W/2.
    Every random choice comes from `seed`: the same inputs give byte-identical output.
    """
    if params.strength <= 0:
        return clean.copy(), PointMap()
    h, w = clean.shape[:2]
    spread = w >= 1.25 * h
    grid = Grid(h, w, _GRID)

    def stream(k: int) -> np.random.Generator:
        # One stream per stage, so switching one effect off leaves the others' randomness as it was.
        return np.random.default_rng([seed, k])

    sheet = age_sheet(clean, ink, params, grid, stream(1), spread)
    pmap = point_map(params.geometry, w, h, spread, fit=params.photo)
    mx, my = warp_maps(pmap, grid)
    cover = ((mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)).astype(np.float32)
    bg = background(params.background, grid, stream(3), cover, params.photo)
    bg = grid.upsample(cv2.cvtColor(np.clip(bg, 0, 255).astype(np.uint8), cv2.COLOR_RGB2RGBA))
    # Torn-off paper shows what lies under the page: cut it in output coordinates, from the background.
    patches = (_patch(pmap(poly), bg) for poly in tear_polygons(params.tears, w, h, stream(2)))
    tears = [p for p in patches if p is not None]
    # BORDER_TRANSPARENT leaves the background wherever the page is not, and blends it in at the page's
    # edge pixels, so the border comes out anti-aliased without an alpha pass.
    fine = Grid(h, w, _MAP_GRID)
    cv2.remap(cv2.cvtColor(sheet, cv2.COLOR_RGB2RGBA), fine.upsample(np.dstack(warp_maps(pmap, fine))), None,
              cv2.INTER_LINEAR, dst=bg, borderMode=cv2.BORDER_TRANSPARENT)
    out = cv2.cvtColor(bg, cv2.COLOR_RGBA2RGB)
    for (x0, y0), cover_mask, under in tears:
        region = out[y0 : y0 + under.shape[0], x0 : x0 + under.shape[1]]
        region[:] = (region + (under.astype(np.float32) - region) * cover_mask).astype(np.uint8)
    light = lighting(params.lighting, grid, stream(4))
    if light is not None:
        out = cv2.multiply(out, grid.upsample(np.clip(light * 255, 0, 255).astype(np.uint8)), scale=1 / 255)
    return capture(out, params.camera, seed, stream(5)), pmap


def warp_masks(masks: np.ndarray, pmap: PointMap) -> np.ndarray:
    """Clean-page masks (C x H x W uint8, C <= 4) moved as `age_page` moved the page under `pmap`, with the
    same maps, so they lie exactly on the aged image (0 off the page; tears and stains are not cut out)."""
    if pmap.is_identity:
        return masks.copy()
    h, w = masks.shape[1:]
    fine = Grid(h, w, _MAP_GRID)
    warped = cv2.remap(np.ascontiguousarray(masks.transpose(1, 2, 0)), fine.upsample(np.dstack(warp_maps(pmap, fine))),
                       None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped.reshape(h, w, -1).transpose(2, 0, 1)


def _patch(poly: np.ndarray, bg: np.ndarray) -> tuple[tuple[int, int], np.ndarray, np.ndarray] | None:
    """Where a tear polygon (output pixels) covers the image: origin, coverage (h, w, 1) and background.

    None when the tear falls wholly outside the frame (a photo can crop the torn corner away)."""
    h, w = bg.shape[:2]
    x0, y0 = np.clip(np.floor(poly.min(0)).astype(int) - 1, 0, [w, h])
    x1, y1 = np.clip(np.ceil(poly.max(0)).astype(int) + 2, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((poly - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return (int(x0), int(y0)), (mask.astype(np.float32) / 255)[..., None], bg[y0:y1, x0:x1, :3].copy()
