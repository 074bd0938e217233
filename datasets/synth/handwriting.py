"""Writes a string the way one person would: a font, a slant, a wobbling baseline, a pen and an ink.

The result is an ink-coverage mask (uint8, 0 = paper, 255 = full ink); the page renderer places it in a
cell and colours it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hotich.datasets.fonts import HandwritingFont, ink_height_ratio, load_handwriting

INKS: dict[str, tuple[int, int, int]] = {
    "blue": (28, 48, 140),
    "blue_black": (25, 32, 80),
    "black": (28, 28, 34),
    "violet": (70, 40, 120),
    "faded_blue": (80, 100, 165),
    "faded_black": (85, 82, 80),
}
_INK_WEIGHTS = {"blue": 0.36, "blue_black": 0.18, "black": 0.26, "violet": 0.05, "faded_blue": 0.09,
                "faded_black": 0.06}


@dataclass(frozen=True)
class WriterStyle:
    """One writer's hand. Every choice is drawn once per writer, so a record (or book) looks consistent."""

    font: str
    size: float
    """Ink height of a line as a share of the cell height."""
    slant: float
    """Horizontal shear (x += slant * height above the baseline); positive leans right."""
    wobble: float
    """Baseline wobble amplitude as a share of the ink height."""
    wobble_period: float
    """Wobble period in ink heights."""
    word_gap: float
    """Extra space between words as a share of the ink height."""
    pen: int
    """Stroke change in pixels: negative thins (fine nib), positive thickens (ballpoint pressed hard)."""
    ink: str
    opacity: float
    drift: float
    """How far the writing climbs or falls across a cell, as a share of the ink height."""


def sample_writer(fonts: tuple[HandwritingFont, ...], rng: np.random.Generator) -> WriterStyle:
    ink_names = list(_INK_WEIGHTS)
    weights = np.array([_INK_WEIGHTS[k] for k in ink_names])
    return WriterStyle(
        font=fonts[int(rng.integers(len(fonts)))].name,
        size=float(rng.uniform(0.55, 0.85)),
        slant=float(np.clip(rng.normal(0.12, 0.12), -0.15, 0.4)),
        wobble=float(rng.uniform(0.0, 0.06)),
        wobble_period=float(rng.uniform(3.0, 9.0)),
        word_gap=float(rng.uniform(-0.05, 0.35)),
        pen=int(rng.choice([-1, 0, 0, 0, 1, 1, 2])),
        ink=ink_names[int(rng.choice(len(ink_names), p=weights / weights.sum()))],
        opacity=float(rng.uniform(0.8, 1.0)),
        drift=float(rng.uniform(-0.12, 0.12)),
    )


def writer_font(style: WriterStyle, ink_height: int) -> ImageFont.FreeTypeFont:
    """The writer's font at the size whose ink is about `ink_height` pixels tall."""
    return load_handwriting(style.font, max(6, round(ink_height / ink_height_ratio(style.font))))


def render_text(text: str, style: WriterStyle, ink_height: int, rng: np.random.Generator) -> np.ndarray:
    """Render `text` so that its ink is about `ink_height` pixels tall; returns the coverage mask."""
    font = writer_font(style, ink_height)
    words = text.split()
    gap = max(1, round(font.getlength(" ") + style.word_gap * ink_height))
    ascent, descent = font.getmetrics()
    widths = [max(1, round(font.getlength(w))) for w in words]
    pad = ink_height
    width = sum(widths) + gap * max(len(words) - 1, 0) + 2 * pad
    height = ascent + descent + 2 * pad
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    x = pad
    for word, w in zip(words, widths, strict=True):
        # Each word sits a little above or below the line: people do not write on rails.
        dy = rng.normal(0.0, 0.04) * ink_height
        draw.text((x, pad + dy), word, font=font, fill=255)
        x += w + gap
    mask = np.asarray(canvas)
    mask = _shape_line(mask, style, ink_height, baseline=pad + ascent, rng=rng)
    return _trim(mask)


def _shape_line(mask: np.ndarray, style: WriterStyle, ink_height: int, baseline: float,
                rng: np.random.Generator) -> np.ndarray:
    """Slant, wobble and drift in one remap; then the pen."""
    h, w = mask.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    period = max(style.wobble_period * ink_height, 8.0)
    phase = rng.uniform(0, 2 * np.pi)
    wobble = style.wobble * ink_height * np.sin(2 * np.pi * xs[0] / period + phase)
    drift = style.drift * ink_height * (xs[0] / max(w, 1))
    # dst -> src: a point at height (baseline - y) above the line came from x - slant * that height.
    map_x = xs + style.slant * (ys - baseline)
    map_y = ys + (wobble + drift)[None, :]
    out = cv2.remap(mask, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderValue=0)
    # A fine nib only shows on large writing; eroding small strokes would erase them.
    if style.pen > 0 or (style.pen < 0 and ink_height >= 36):
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(style.pen) + 1, abs(style.pen) + 1))
        out = cv2.dilate(out, k) if style.pen > 0 else cv2.erode(out, k)
    return out


def _trim(mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask.max(axis=1) > 16)
    cols = np.flatnonzero(mask.max(axis=0) > 16)
    if rows.size == 0 or cols.size == 0:
        return np.zeros((1, 1), np.uint8)
    return np.ascontiguousarray(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def strike_through(mask: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Cross out written text with one or two hand-drawn strokes, as clerks correct an entry."""
    out = mask.copy()
    h, w = out.shape
    thickness = max(1, round(h / 14) + style.pen)
    for _ in range(int(rng.integers(1, 3))):
        y0 = h * rng.uniform(0.4, 0.6)
        y1 = y0 + h * rng.uniform(-0.15, 0.15)
        cv2.line(out, (0, round(y0)), (w - 1, round(y1)), 255, thickness, lineType=cv2.LINE_AA)
    return out
