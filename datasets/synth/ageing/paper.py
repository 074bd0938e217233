"""What time does to the sheet itself, in page coordinates: tone, fibre, yellowing, stains, fading, bleed.

Smooth effects are one gain and one offset field on the coarse grid (out = clean * gain + offset, so black
print lifts toward the paper colour while blank paper takes the paper's colour); only the handwriting fade,
the bleed-through and the fibre grain need full resolution, and those run as uint8 OpenCV arithmetic.
"""

from __future__ import annotations

import cv2
import numpy as np

from .grid import Grid
from .params import AgeingParams, Stain

_FOXING = np.array([0.3, 0.55, 0.9], np.float32)  # rust spots take blue, keep red
_BROWN_INK = np.array([150.0, 105.0, 70.0], np.float32)  # where oxidised ink drifts
_BLEED_TINT = (1.0, 0.95, 0.8)  # the back's blue ink shows as a cool grey


def page_fields(params: AgeingParams, grid: Grid, rng: np.random.Generator,
                spread: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gain and offset fields (ny, nx, 3) float32 on the grid, in page coordinates."""
    p = params.paper
    xn, yn = grid.normalised()
    gain = np.empty((grid.ny, grid.nx, 3), np.float32)
    gain[:] = np.asarray(p.tone, np.float32)
    if p.texture:  # broad cloudiness of the sheet plus the finer mottle of its fibre mat
        cloud = 0.7 * grid.fbm(rng, 400.0, 2) + grid.fbm(rng, 48.0, 2)
        gain *= (1.0 + p.texture * np.clip(cloud, -3, 3))[..., None]
    if p.yellow_edge:
        aspect = grid.h / grid.w
        edge = np.minimum(np.minimum(xn, 1 - xn), np.minimum(yn, 1 - yn) * aspect) / min(1.0, aspect)
        ragged = np.clip(1.0 + 0.5 * grid.fbm(rng, 150.0), 0.2, 2.0)
        yellow = p.yellow_edge * np.exp(-np.maximum(edge, 0) / p.yellow_width) * ragged
        gain *= 1.0 - np.clip(yellow, 0, 0.9)[..., None] * np.array([0.15, 0.32, 0.62], np.float32)
    for stain in params.stains:
        gain *= 1.0 - _stain(grid, rng, stain)[..., None] * np.asarray(stain.colour, np.float32)
    light = params.lighting
    if spread and light.gutter:
        # A bound book's gutter never lies flat on the glass and the light falls off into it.
        dist = np.abs(xn - 0.5) / light.gutter_width
        gain *= (1.0 - light.gutter * np.exp(-(dist**1.5)))[..., None]
    offset = np.zeros_like(gain)
    if params.ink.print_fade:
        lift = params.ink.print_fade * np.clip(1.0 + 0.3 * grid.fbm(rng, 200.0), 0.4, 1.6)
        offset = gain * (255.0 * np.minimum(lift, 0.9))[..., None]  # black drifts toward the paper colour
        gain = gain - offset / 255.0
    return gain, offset


def _stain(grid: Grid, rng: np.random.Generator, stain: Stain) -> np.ndarray:
    x, y = grid.coords()
    radius = stain.radius * grid.w
    r = np.hypot(x - stain.x * grid.w, y - stain.y * grid.h) / radius
    r = r + 0.25 * grid.fbm(rng, radius * 0.8, 3)  # irregular outline
    inside = np.clip((1.0 - r) / 0.15, 0, 1) * np.clip(0.7 + 0.3 * grid.fbm(rng, radius * 0.5, 2), 0, 1.5)
    rim = np.exp(-(((r - 1.0) / 0.05) ** 2))  # tide line where the water stopped and dried
    return (stain.darkness * (inside + stain.rim * rim)).astype(np.float32)


def _foxing(page: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Rust-brown spots a few pixels across with a soft, uneven halo, multiplied into the page in place."""
    h, w = page.shape[:2]
    for _ in range(count):
        r = rng.uniform(2.0, 7.0) * (2.5 if rng.random() < 0.15 else 1.0)
        cx, cy, half = rng.uniform(0, w), rng.uniform(0, h), int(3 * r) + 2
        x0, y0 = max(int(cx) - half, 0), max(int(cy) - half, 0)
        x1, y1 = min(int(cx) + half, w), min(int(cy) + half, h)
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.hypot(xx - cx, yy - cy) / r
        spot = np.exp(-(d**2)) * (1.0 + 0.3 * rng.standard_normal(d.shape)) + 0.25 * np.exp(-d)
        dark = np.clip(rng.uniform(0.15, 0.45) * spot, 0, 0.8)[..., None] * _FOXING
        page[y0:y1, x0:x1] = (page[y0:y1, x0:x1] * (1.0 - dark)).astype(np.uint8)


def age_sheet(clean: np.ndarray, ink: np.ndarray, params: AgeingParams, grid: Grid, rng: np.random.Generator,
              spread: bool) -> np.ndarray:
    """The aged sheet in page coordinates, uint8 RGB of the clean page's size."""
    page = clean
    ink_p = params.ink
    if ink_p.fade or ink_p.brown:
        page = _fade_handwriting(page, ink, params, grid, rng)
    gain, offset = page_fields(params, grid, rng, spread)
    gain8 = grid.upsample(np.clip(gain * 255.0, 0, 255).astype(np.uint8))
    dark = _bleed(clean, ink, params, grid, rng) if params.bleed.opacity else None
    if params.paper.fibre:
        fibre = _fibre(grid, rng, params.paper.fibre)
        dark = fibre if dark is None else cv2.add(dark, fibre)
    if dark is not None:
        tinted = [dark if t == 1.0 else cv2.multiply(dark, t) for t in _BLEED_TINT]
        gain8 = cv2.subtract(gain8, cv2.merge(tinted))
    page = cv2.multiply(page, gain8, scale=1 / 255)
    if params.ink.print_fade:
        page = cv2.add(page, grid.upsample(np.clip(offset, 0, 255).astype(np.uint8)))
    if params.paper.foxing:
        _foxing(page, rng, params.paper.foxing)
    if params.paper.specks:
        _specks(page, rng, params.paper.specks)
    return page


def _fade_handwriting(page: np.ndarray, ink: np.ndarray, params: AgeingParams, grid: Grid,
                      rng: np.random.Generator) -> np.ndarray:
    """Blend handwriting toward the paper (fading) and toward brown (oxidised ink), unevenly."""
    f, b = params.ink.fade, params.ink.brown
    uneven = np.clip(1.0 + 0.6 * params.ink.unevenness * grid.fbm(rng, 160.0), 0.2, 1.8)
    weight = grid.upsample(np.clip((f + b) * uneven * 255, 0, 230).astype(np.uint8))
    weight = cv2.multiply(weight, ink, scale=1 / 255)
    target = (f * 255.0 + b * _BROWN_INK) / (f + b)
    w3 = cv2.merge([weight, weight, weight])
    kept = cv2.multiply(page, cv2.subtract((255.0, 255.0, 255.0, 0.0), w3), scale=1 / 255)
    return cv2.add(kept, cv2.multiply(w3, (*(float(t) / 255 for t in target), 0.0)))


def _bleed(clean: np.ndarray, ink: np.ndarray, params: AgeingParams, grid: Grid,
           rng: np.random.Generator) -> np.ndarray:
    """Darkening (uint8, 1 channel) from the back page's ink and ruling showing through, mirrored."""
    b = params.bleed
    h, w = ink.shape
    dark = np.maximum(cv2.subtract(255, cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY)), ink)
    half = cv2.resize(dark, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    # Mirror and shift in one affine warp: the back's text sits a little off the front's.
    shift = np.float32([[-1, 0, w // 2 - 1 + b.shift[0] * w / 2], [0, 1, b.shift[1] * h / 2]])
    half = cv2.warpAffine(half, shift, (w // 2, h // 2), borderMode=cv2.BORDER_CONSTANT)
    half = cv2.GaussianBlur(half, (0, 0), max(b.blur / 2, 0.5))
    patchy = np.clip(b.opacity * (1.0 + 0.5 * grid.fbm(rng, 250.0)), 0, 0.6)  # glue, damp: uneven show-through
    patchy = cv2.resize(patchy, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)  # random: alignment moot
    half = (half * patchy).astype(np.uint8)
    return cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)


def _fibre(grid: Grid, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Fine darkening grain of paper fibres (uint8, 1 channel), a couple of pixels across."""
    h, w = grid.h, grid.w
    grain = rng.integers(0, 256, ((h + 1) // 2, (w + 1) // 2), dtype=np.uint8)
    lut = np.clip(np.arange(256) / 255 * 2 * amount, 0, 255).astype(np.uint8)
    grain = cv2.GaussianBlur(cv2.LUT(grain, lut), (3, 3), 0)
    return cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR)


def _specks(page: np.ndarray, rng: np.random.Generator, count: int) -> None:
    h, w = page.shape[:2]
    for _ in range(count):
        grey = float(rng.uniform(70, 170))
        colour = (grey, grey * 0.9, grey * 0.8)
        centre = (int(rng.uniform(0, w) * 16), int(rng.uniform(0, h) * 16))
        cv2.circle(page, centre, int(rng.uniform(0.4, 1.6) * 16), colour, -1, cv2.LINE_AA, 4)
