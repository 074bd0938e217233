"""What the capture adds, in output-image coordinates: the surface around the page, light and shadow,
then the optics and the sensor (blur, noise, tone curve, JPEG)."""

from __future__ import annotations

import math
from statistics import NormalDist

import albumentations as A
import cv2
import numpy as np

from .grid import Grid
from .params import Background, Camera, Lighting, Shadow

# Uniform bytes -> standard-normal values: full-resolution Gaussian noise at the cost of a table lookup
# (numpy's normal sampler alone would eat a third of the page's time budget).
_NORMAL = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)])
_SHADOW_TINT = np.array([1.0, 0.95, 0.86], np.float32)  # shadows keep the cooler ambient light


def background(bg: Background, grid: Grid, rng: np.random.Generator, cover: np.ndarray,
               photo: bool) -> np.ndarray:
    """The scanner lid or table (ny, nx, 3) float32, darkened where the page casts its shadow."""
    xn, yn = grid.normalised()
    if bg.kind == "wood":
        along, across = (xn, yn) if rng.random() < 0.5 else (yn, xn)
        waver = 1.2 * grid.noise(rng, 1500.0) + 0.3 * grid.noise(rng, 500.0)  # grain bends round knots
        rings = across * rng.uniform(25, 45) + waver + 0.1 * along
        grain = 0.5 + 0.5 * np.sin(2 * np.pi * rings)
        tone = 0.84 + 0.14 * grain**3 + 0.04 * grid.fbm(rng, 40.0, 2)
    elif bg.kind == "cloth":
        period = 3.0 * grid.f / grid.w
        weave = np.sin(2 * np.pi * xn / period) * np.sin(2 * np.pi * yn * grid.h / grid.w / period)
        tone = 1.0 + 0.1 * grid.fbm(rng, 350.0) + 0.04 * weave
    else:
        tone = 1.0 + (0.06 if bg.kind == "dark" else 0.01) * grid.fbm(rng, 300.0)
    out = np.asarray(bg.colour, np.float32) * tone[..., None].astype(np.float32)
    # The page stands a little off the glass or the table and shades what is next to it.
    sigma = (4.0 if photo else 1.5) * 4 / grid.f
    dx, dy = rng.uniform(0.5, 2.0, 2) * sigma
    shade = cv2.warpAffine(cover, np.float32([[1, 0, dx], [0, 1, dy]]), (grid.nx, grid.ny),
                           borderMode=cv2.BORDER_REPLICATE)
    shade = cv2.GaussianBlur(shade, (0, 0), sigma)
    return out * (1.0 - (0.45 if photo else 0.3) * shade)[..., None]


def lighting(light: Lighting, grid: Grid, rng: np.random.Generator) -> np.ndarray | None:
    """Light falling on the whole frame (ny, nx, 3) float32 in [0, 1], or None when flat."""
    if not (light.gradient or light.vignette or light.shadows or light.white_balance != (1.0, 1.0, 1.0)):
        return None
    xn, yn = grid.normalised()
    a = math.radians(light.angle)
    along = ((xn - 0.5) * math.cos(a) + (yn - 0.5) * math.sin(a)) / (0.5 * (abs(math.cos(a)) + abs(math.sin(a))))
    corner = ((xn - 0.5) ** 2 + (yn - 0.5) ** 2) * 2  # 0 at the centre, 1 in the corners
    level = (1.0 - light.gradient * (1.0 + along) / 2) * (1.0 - light.vignette * corner)
    out = level.astype(np.float32)[..., None] * np.asarray(light.white_balance, np.float32)
    for shadow in light.shadows:
        out *= 1.0 - shadow.darkness * _shadow_mask(shadow, grid, rng)[..., None] * _SHADOW_TINT
    return out


def _shadow_mask(s: Shadow, grid: Grid, rng: np.random.Generator) -> np.ndarray:
    """A soft blob entering from one side, the outline of a hand or a phone held over the page."""
    t = np.linspace(0.0, 1.0, 24)
    along = s.start + (s.end - s.start) * t
    depth = s.depth * np.sin(np.pi * t) ** 0.6 * (1.0 + 0.15 * rng.normal(0, 1, t.size).cumsum() / 3)
    along = np.concatenate([[along[0]], along, [along[-1]]])
    depth = np.concatenate([[-0.1], depth, [-0.1]])
    x, y = {0: (along, depth), 1: (1 - depth, along), 2: (along, 1 - depth), 3: (depth, along)}[s.side]
    cells = np.stack([(x * grid.w + 0.5) / grid.f + 0.5, (y * grid.h + 0.5) / grid.f + 0.5], 1)
    mask = np.zeros((grid.ny, grid.nx), np.float32)
    cv2.fillPoly(mask, [np.round(cells * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
    return cv2.GaussianBlur(mask, (0, 0), max(s.softness * grid.w / grid.f, 0.5))


def capture(img: np.ndarray, cam: Camera, seed: int, rng: np.random.Generator) -> np.ndarray:
    """Optics, then sensor noise, then the tone curve and JPEG: the order a camera or scanner applies them."""
    if cam.blur == "gaussian":
        img = A.Compose([A.GaussianBlur(blur_limit=0, sigma_limit=(cam.blur_size, cam.blur_size), p=1)],
                        seed=seed)(image=img)["image"]
    elif cam.blur == "motion":
        k = int(cam.blur_size) | 1
        img = A.Compose([A.MotionBlur(blur_limit=(k, k), angle_range=(cam.blur_angle, cam.blur_angle),
                                      direction_range=(0.0, 0.0), allow_shifted=False, p=1)],
                        seed=seed)(image=img)["image"]
    elif cam.blur == "defocus":
        img = cv2.filter2D(img, -1, _disk(cam.blur_size))  # A.Defocus always convolves 17x17: too slow here
    if cam.noise or cam.chroma_noise:
        img = _sensor_noise(img, cam, rng)
    post = []
    if cam.brightness or cam.contrast:
        post.append(A.RandomBrightnessContrast(brightness_limit=(cam.brightness, cam.brightness),
                                               contrast_limit=(cam.contrast, cam.contrast), p=1))
    if cam.jpeg_quality is not None:
        post.append(A.ImageCompression(quality_range=(cam.jpeg_quality, cam.jpeg_quality), p=1))
    if post:
        img = A.Compose(post, seed=seed)(image=img)["image"]
    return img


def _disk(radius: float) -> np.ndarray:
    """Defocus kernel: a disk with anti-aliased rim."""
    r = math.ceil(radius)
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    kernel = np.clip(radius + 0.5 - np.hypot(x, y), 0, 1).astype(np.float32)
    return kernel / kernel.sum()


def _sensor_noise(img: np.ndarray, cam: Camera, rng: np.random.Generator) -> np.ndarray:
    """Grain a couple of pixels across (demosaicking and denoising smear a sensor's per-pixel noise),
    luminance plus coarser colour blotches, as separate dark and light saturating uint8 parts."""
    h, w = img.shape[:2]
    hh, hw = (h + 1) // 2, (w + 1) // 2
    grain = rng.integers(0, 256, (hh, hw), dtype=np.uint8)
    parts = []
    for sign in (-1, 1):
        lut = np.clip(np.round(sign * _NORMAL * cam.noise), 0, 255).astype(np.uint8)
        luma = cv2.LUT(grain, lut)
        parts.append(cv2.merge([luma, luma, luma]))
    if cam.chroma_noise:
        blotch = rng.standard_normal((h // 8 + 1, w // 8 + 1, 3)).astype(np.float32) * cam.chroma_noise
        blotch = cv2.resize(blotch, (hw, hh), interpolation=cv2.INTER_LINEAR)
        parts = [cv2.add(part, np.clip(sign * blotch, 0, 255).astype(np.uint8))
                 for part, sign in zip(parts, (-1, 1), strict=True)]
    dark, light = (cv2.resize(part, (w, h), interpolation=cv2.INTER_LINEAR) for part in parts)
    return cv2.add(cv2.subtract(img, dark), light)
