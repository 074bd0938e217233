"""Page preprocessing, the first stage of the layout detector: from a phone photo or a flatbed scan of a
register page to an upright, deskewed, flattened, contrast-normalised page, with a record of every step.

Every geometric step is estimated on a small grey copy of the page (about 1000 px on the long side) and
composed into one input -> output map: a homography (perspective, quarter turns, deskew, the downscale)
followed by an optional smooth vertical displacement (dewarp). The full-size image is warped once, at the
end. The same map carries points both ways, so fields found on the corrected page can be reported on the
page the user sent (`PreprocessedPage.to_input`).

Steps run in this order, each one also usable alone:

1. perspective (`find_page`): the paper's quadrilateral against the table or scanner lid around it;
2. orientation (`detect_orientation`): quarter turns, from the direction of the text lines and from where
   Vietnamese diacritics and baselines sit;
3. deskew (`estimate_skew`): the residual small angle of the ruling and text lines;
4. dewarp (`estimate_curl`): the bow of a curled page, from the long ruling lines;
5. contrast (`normalise_contrast`): uneven light and yellowed paper flattened, contrast stretched.

The page frame comes first because it needs no orientation (a quadrilateral is one whatever way up) and
everything after it reads the page alone, without the table's texture around it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np

__all__ = [
    "ALL_STEPS",
    "Displacement",
    "Orientation",
    "PageFrame",
    "PreprocessedPage",
    "Skew",
    "StepReport",
    "detect_orientation",
    "estimate_curl",
    "estimate_skew",
    "find_page",
    "normalise_contrast",
    "preprocess_page",
]

ALL_STEPS: tuple[str, ...] = ("perspective", "orientation", "deskew", "dewarp", "contrast")
"""Every step, in the order `preprocess_page` runs them."""

MAX_PIXELS = 100_000_000
"""Larger inputs are refused: no register page needs more, and decoding one already costs gigabytes."""
MIN_SIDE = 128
"""Smaller inputs are refused: nothing handwritten is readable on them."""

_ANALYSIS_SIDE = 1000  # long side of the grey copy the geometry is estimated on
_FRAME_SIDE = 400  # about the long side of the colour copy the page frame is found on (a whole factor)
_MAP_STEP = 8  # full-resolution pixels between the nodes of the dewarp map before it is upsampled


# ----------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StepReport:
    """What one step did, so that a page that reads badly can be traced to the step that went wrong."""

    name: str
    """"perspective", "orientation", "deskew", "dewarp" or "contrast"."""
    applied: bool
    """Whether the step changed the page (false when it found nothing to correct or was not sure)."""
    details: dict[str, float | str]
    """The step's measurements, e.g. {"angle": 1.7, "confidence": 0.93}, and a "note" when it did nothing."""
    ms: float
    """Wall time the step took, milliseconds."""


@dataclass(frozen=True, eq=False)
class Displacement:
    """A smooth vertical displacement over a corrected page: pixel (x, y) of the corrected page shows what
    the flat page held at (x, y + dy(x, y)).

    dy is piecewise linear in x between `knots` and linear in y: dy = a(x) + b(x) * (y' - y0) / y_scale,
    with y' = y held within [y_min, y_max] (the lines the field was measured on: it is not extrapolated
    beyond them). That is what a sheet bent about a vertical axis does to its ruling (the bow grows with
    the distance from the page's middle), and it is a bilinear interpolation of a coarse map, so it is
    cheap to evaluate at any point and to invert.
    """

    knots: np.ndarray
    """(K,) increasing x positions, pixels."""
    a: np.ndarray
    """(K,) displacement at y = y0, pixels."""
    b: np.ndarray
    """(K,) change of the displacement per `y_scale` pixels down."""
    y0: float
    y_scale: float
    y_min: float = -np.inf
    y_max: float = np.inf

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        y = np.clip(np.asarray(y, np.float64), self.y_min, self.y_max)
        return np.interp(x, self.knots, self.a) + np.interp(x, self.knots, self.b) * (y - self.y0) / self.y_scale

    def rescaled(self, k: float) -> Displacement:
        """The same field on a copy of the page resized by `k` (pixel centres kept, as cv2.resize does)."""
        return Displacement(
            knots=(self.knots + 0.5) * k - 0.5,
            a=self.a * k,
            b=self.b * k,
            y0=(self.y0 + 0.5) * k - 0.5,
            y_scale=self.y_scale * k,
            y_min=(self.y_min + 0.5) * k - 0.5,
            y_max=(self.y_max + 0.5) * k - 0.5,
        )


@dataclass(frozen=True, eq=False)
class PreprocessedPage:
    """The corrected page and how it relates to the page the user sent.

    Points map exactly both ways: fields are found on `image` and reported on the input with `to_input`.
    """

    image: np.ndarray
    """The corrected page, grey uint8."""
    steps: tuple[StepReport, ...]
    """One report per step that ran, in order."""
    matrix: np.ndarray = field(repr=False)
    """(3, 3) homography from input pixels to corrected-page pixels before the dewarp: the downscale to
    `max_side`, perspective, quarter turns and deskew composed."""
    displacement: Displacement | None = field(default=None, repr=False)
    """The dewarp applied after `matrix`, on the corrected page; None when the page was not dewarped."""
    input_size: tuple[int, int] = (0, 0)
    """(width, height) of the input image."""

    def step(self, name: str) -> StepReport | None:
        """The report of the step called `name`, None if it did not run."""
        return next((s for s in self.steps if s.name == name), None)

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) float x, y on the corrected page -> the same points on the input image."""
        pts = _as_points(points)
        if self.displacement is not None:
            pts = np.stack([pts[:, 0], pts[:, 1] + self.displacement(pts[:, 0], pts[:, 1])], axis=1)
        return _apply(np.linalg.inv(self.matrix), pts)

    def to_output(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) float x, y on the input image -> the same points on the corrected page."""
        flat = _apply(self.matrix, _as_points(points))
        if self.displacement is None:
            return flat
        # Invert y + dy(x, y) = y_flat by fixed-point iteration: dy changes slowly with y (|d dy/dy| << 1).
        x, y = flat[:, 0], flat[:, 1].copy()
        for _ in range(8):
            y = flat[:, 1] - self.displacement(x, y)
        return np.stack([x, y], axis=1)


@dataclass(frozen=True, eq=False)
class PageFrame:
    """Where the paper is in a photo: its corners and the size of the flattened page."""

    corners: np.ndarray | None
    """(4, 2) float x, y of the top-left, top-right, bottom-right and bottom-left corners as the image shows
    them (not the page's own top: orientation comes later), or None when no frame was found."""
    size: tuple[int, int] = (0, 0)
    """(width, height) of the rectified page, pixels of the input, at the aspect ratio of its paper."""
    note: str = ""
    """Why no frame was found, or what was found."""
    contrast: float = 0.0
    """How far the paper's colour stands from the background's, in units of their spread."""

    def homography(self) -> np.ndarray:
        """(3, 3) input pixels -> the rectified page."""
        if self.corners is None:
            raise ValueError("no page frame was found; there is nothing to rectify")
        w, h = self.size
        dst = np.array([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], np.float32)
        return cv2.getPerspectiveTransform(self.corners.astype(np.float32), dst).astype(np.float64)


@dataclass(frozen=True)
class Orientation:
    """Which way up the page lies."""

    angle: int
    """0, 90, 180 or 270: the page is shown turned by this many degrees counter-clockwise, as
    np.rot90(upright, angle // 90) would show it; np.rot90(image, -angle // 90) puts it upright."""
    confidence: float
    """0..1: how sure both decisions (lines horizontal or vertical; which side is up) are."""
    horizontal: float
    """-1..1: how much more the text lines run across the image than down it."""
    upright: float
    """Evidence that the tops of the text lines point up in the image after the quarter turn (positive) or
    down (negative): ink above versus below the line cores, and baselines sharper than top lines."""
    sure: bool
    """False when the up/down evidence was too weak to turn the page over; `angle` then keeps its side up."""


@dataclass(frozen=True)
class Skew:
    """The small angle the page's lines make with the image's horizontal."""

    angle: float
    """Degrees, counter-clockwise as seen on screen (the lines rise to the right when positive); rotating
    the image by -angle levels them."""
    confidence: float
    """0..1: how much more aligned the ink is at `angle` than at a typical angle of the search."""


@dataclass(frozen=True, eq=False)
class CurlEstimate:
    """How a page's ruling bends, and the displacement that straightens it."""

    displacement: Displacement | None
    """None when the lines are already straight (or too few were found to tell)."""
    max_shift: float
    """Largest correction of one part of a line relative to another part of it (peak to peak along the
    line), pixels of the image given."""
    lines: int
    """Ruling-line pieces the estimate rests on."""
    residual: float
    """RMS distance of the traced lines from the fitted model, pixels of the image given."""
    bend: float = 0.0
    """Largest departure of a line from straight (a tilt taken out), pixels of the image given: what decides
    whether the page is dewarped."""
    before: float = 0.0
    """RMS distance of the traced lines from straight level lines, pixels of the image given."""
    note: str = ""


# ------------------------------------------------------------------------------------------- the chain


def preprocess_page(image: np.ndarray, *, max_side: int = 2000, steps: Sequence[str] = ALL_STEPS) -> PreprocessedPage:
    """Turn a page image (BGR or grey uint8) into an upright, deskewed, flattened, contrast-normalised grey page.

    `steps` picks which of `ALL_STEPS` run; they always run in the order of `ALL_STEPS`. An image longer
    than `max_side` is shrunk to it first, and the corrected page is about that size; `to_input` maps back
    to the pixels of the image given.
    """
    image = _check_image(image)
    unknown = [s for s in steps if s not in ALL_STEPS]
    if unknown:
        raise ValueError(f"unknown preprocessing step(s) {unknown}; choose from {list(ALL_STEPS)}")
    if max_side < 4 * MIN_SIDE:
        raise ValueError(f"max_side={max_side} is too small to read a page on; use at least {4 * MIN_SIDE}")
    start = time.perf_counter()
    page = _Correction(image, max_side)
    overhead_ms = (time.perf_counter() - start) * 1000
    reports: list[StepReport] = []
    for name, step in (("perspective", page.perspective), ("orientation", page.orientation),
                       ("deskew", page.deskew), ("dewarp", page.dewarp)):
        if name in steps:
            t0 = time.perf_counter()
            applied, details = step()
            reports.append(StepReport(name, applied, details, (time.perf_counter() - t0) * 1000))
    t0 = time.perf_counter()
    out = page.warp()
    # The one full-size warp serves every geometric step: its time (and the downscale's) is booked on the last
    # step that changed the page, or on the first step when none did.
    extra = (time.perf_counter() - t0) * 1000 + overhead_ms
    if reports:
        i = max((j for j, r in enumerate(reports) if r.applied), default=0)
        r = reports[i]
        reports[i] = StepReport(r.name, r.applied, r.details | {"warp_ms": round(extra, 2)}, r.ms + extra)
    if "contrast" in steps:
        t0 = time.perf_counter()
        out, details = _normalise_contrast(out)
        reports.append(StepReport("contrast", True, details, (time.perf_counter() - t0) * 1000))
    ih, iw = image.shape[:2]
    return PreprocessedPage(image=out, steps=tuple(reports), matrix=page.m @ _scale_matrix(page.scale),
                            displacement=page.displacement, input_size=(iw, ih))


Details = dict[str, float | str]


class _Correction:
    """One page being corrected: the map composed so far and the analysis copies its steps measure on.

    Pixels: "working" is the input shrunk to max_side; `m` maps working pixels to the page as corrected so
    far, whose size is `size`; the analysis copies are the working image shrunk by `k` (about 1000 px).
    """

    def __init__(self, image: np.ndarray, max_side: int) -> None:
        ih, iw = image.shape[:2]
        self.scale = min(1.0, max_side / max(ih, iw))
        full = image
        if self.scale < 1.0:
            full = cv2.resize(full, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        # The corrected page is grey: identification and registration read grey, and a grey page warps and
        # flattens in a third of a colour one's time (24 test pages: ~30 ms of the layout's ~200). Finding the
        # page's edges looks at colour, on the small analysis copy.
        self.full = full if full.ndim == 2 else cv2.cvtColor(full, cv2.COLOR_BGR2GRAY)
        fh, fw = full.shape[:2]
        self.k = k = min(1.0, _ANALYSIS_SIDE / max(fh, fw))
        small = cv2.resize(full, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1.0 else full
        self.small = small if small.ndim == 3 else cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        self.small_gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        self.to_small = _scale_matrix(k)
        self.from_small = np.linalg.inv(self.to_small)
        self.m = np.eye(3)
        self.size = (fw, fh)
        self.displacement: Displacement | None = None
        self._view: _View | None = None

    def current(self, img: np.ndarray) -> np.ndarray:
        """An analysis copy (`small` or `small_gray`) as the page is corrected so far."""
        h = self.to_small @ self.m @ self.from_small
        if np.allclose(h, np.eye(3), atol=1e-9):
            return img
        return cv2.warpPerspective(img, h, _scaled_size(self.size, self.k), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)

    @property
    def view(self) -> _View:
        if self._view is None:
            self._view = _View(self.current(self.small_gray))
        return self._view

    def perspective(self) -> tuple[bool, Details]:
        frame = find_page(self.current(self.small))
        details: Details = {"contrast": round(frame.contrast, 2), "note": frame.note}
        if frame.corners is None:
            return False, details
        corners = _apply(self.from_small, frame.corners)
        on_input = _apply(np.linalg.inv(self.m @ _scale_matrix(self.scale)), corners)
        self.size = (max(2, round(frame.size[0] / self.k)), max(2, round(frame.size[1] / self.k)))
        self.m = PageFrame(corners, self.size).homography() @ self.m
        self._view = None
        details |= {"width": float(self.size[0]), "height": float(self.size[1]),
                    "corners": " ".join(f"{x:.1f},{y:.1f}" for x, y in on_input)}
        return True, details

    def orientation(self) -> tuple[bool, Details]:
        o, skew = _orientation(self.view)
        details: Details = {"angle": float(o.angle), "confidence": round(o.confidence, 3),
                            "horizontal": round(o.horizontal, 3), "upright": round(o.upright, 3)}
        if not o.sure:
            details["note"] = "not sure which side is up: that side was left as it was"
        turns = -o.angle // 90
        self._view = self.view.turned(turns, skew)  # the lines' angle survives the quarter turn
        if o.angle == 0:
            return False, details
        turn, self.size = _quarter_turn(turns, self.size)
        self.m = turn @ self.m
        return True, details

    def deskew(self) -> tuple[bool, Details]:
        angle, confidence = self.view.skew
        details: Details = {"angle": round(angle, 3), "confidence": round(confidence, 3)}
        if confidence < _MIN_SKEW_CONFIDENCE:
            details["note"] = "no dominant line direction: left as it was"
            return False, details
        if abs(angle) < _LEVEL_DEG:
            details["note"] = "already level"
            return False, details
        w, h = self.size
        rotation = np.vstack([cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -angle, 1.0), [0, 0, 1]])
        self.m = rotation @ self.m
        self._view = self.view.warped(self.to_small @ rotation @ self.from_small, _scaled_size(self.size, self.k))
        return True, details

    def dewarp(self) -> tuple[bool, Details]:
        k = self.k
        c = _curl(self.view.ink, _MIN_CURL_PX * k)
        details: Details = {"max_shift": round(c.max_shift / k, 2), "bend": round(c.bend / k, 2),
                            "lines": float(c.lines), "rms_before": round(c.before / k, 3),
                            "rms_after": round(c.residual / k, 3)}
        if c.displacement is None:
            details["note"] = c.note
            return False, details
        self.displacement = c.displacement.rescaled(1 / k)
        return True, details

    def warp(self) -> np.ndarray:
        return _warp(self.full, self.m, self.size, self.displacement)


class _View:
    """A grey analysis copy of the page and what is measured on it, each measured once: the orientation,
    deskew and dewarp steps share the ink and the skew rather than recompute them."""

    def __init__(self, gray: np.ndarray | None, ink: np.ndarray | None = None,
                 skew: tuple[float, float] | None = None) -> None:
        self.gray = gray
        self._ink = ink
        self._text: np.ndarray | None = None
        self._skew = skew

    @property
    def ink(self) -> np.ndarray:
        if self._ink is None:
            assert self.gray is not None
            self._ink = _ink(self.gray)
        return self._ink

    @property
    def text(self) -> np.ndarray:
        """The ink without the ruling."""
        if self._text is None:
            self._text = _remove_ruling(self.ink)
        return self._text

    @property
    def skew(self) -> tuple[float, float]:
        """(angle, confidence) of the dominant line direction."""
        if self._skew is None:
            self._skew = _skew_search(self.ink)
        return self._skew

    def turned(self, turns: int, skew: tuple[float, float]) -> _View:
        """The view of the page turned by np.rot90(..., turns), whose lines make `skew` with the horizontal."""
        if turns % 4 == 0:
            self._skew = skew
            return self
        return _View(None, np.ascontiguousarray(np.rot90(self.ink, turns)), skew)

    def warped(self, m: np.ndarray, size: tuple[int, int]) -> _View:
        """The view's ink through the (small) homography `m`: enough for the dewarp that follows."""
        ink = cv2.warpPerspective(self.ink, m, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        return _View(None, ink)


# ------------------------------------------------------------------------------------- 1. page frame


_FRAME_BORDER = 0.012  # share of the long side read as "surely background" along the image's edges
_MIN_FRAME_CONTRAST = 2.5  # paper/background colour distance (in their spreads) below which none is looked for
_MIN_PAGE_AREA = 0.2  # share of the image the page must cover
_ASPECT_SNAP = 0.06  # a measured aspect ratio this close to a template's paper is taken to be that paper's


def find_page(image: np.ndarray) -> PageFrame:
    """The paper's quadrilateral in a photo (BGR or grey), against the table or lid around it.

    The background's colour is read along the image's edges and the paper's in its middle; every pixel
    goes to the nearer of the two, the largest paper region's outline gets a straight line fitted to each
    side (robustly: tears and curled corners are left out) and the corners are where those lines meet.
    Returns a frame without corners, and a note saying why, when the edges show no background (a scan, or
    a photo cropped to the page), the page runs off the image or nothing page-shaped is found.
    """
    image = _check_image(image)
    h, w = image.shape[:2]
    k = 1.0 / max(1, round(max(h, w) / _FRAME_SIDE))  # a whole factor: cv2's fast area averaging
    small = cv2.resize(image, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1.0 else image
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    sh, sw = small.shape[:2]
    features = _colour_features(small)
    b = max(2, round(_FRAME_BORDER * max(sh, sw)))
    ring = np.concatenate([features[:, :b].reshape(3, -1), features[:, -b:].reshape(3, -1),
                           features[:, b:-b, :b].reshape(3, -1), features[:, b:-b, -b:].reshape(3, -1)], axis=1).T
    middle = features[:, sh // 4 : 3 * sh // 4 : 2, sw // 4 : 3 * sw // 4 : 2].reshape(3, -1).T
    middle = middle[middle[:, 0] >= np.median(middle[:, 0])]  # blank paper: ink and shadow left out
    paper = _ColourModel.fit(middle, dimming=_PAPER_DIMMING)
    background = _ColourModel.fit(ring)
    contrast = float(min(paper.distance(background.mean[:, None])[0], background.distance(paper.mean[:, None])[0]))
    if contrast < _MIN_FRAME_CONTRAST:
        return PageFrame(None, note="no background around the page (a scan, or the photo shows only the page)",
                         contrast=contrast)
    mask = (paper.distance(features) < background.distance(features)).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return PageFrame(None, note="no paper-coloured region", contrast=contrast)
    outline = max(contours, key=cv2.contourArea)
    if cv2.contourArea(outline) < _MIN_PAGE_AREA * sh * sw:
        return PageFrame(None, note="no page-sized paper region", contrast=contrast)
    pts = outline.reshape(-1, 2).astype(np.float64)
    on_edge = (pts[:, 0] <= 1) | (pts[:, 1] <= 1) | (pts[:, 0] >= sw - 2) | (pts[:, 1] >= sh - 2)
    if on_edge.mean() > 0.05:
        return PageFrame(None, note="the page runs off the image: its edges are not all visible",
                         contrast=contrast)
    quad = _fit_quad(pts, cv2.convexHull(outline).reshape(-1, 2).astype(np.float64), max(sh, sw))
    if quad is None:
        return PageFrame(None, note="the paper's outline is not a quadrilateral", contrast=contrast)
    # The colour classes place the outline to a pixel or two of the small copy and can stop short where the
    # paper's edge has browned: each side moves to the strongest dark-to-light step near it, on a finer copy.
    r = min(1.0, _ANALYSIS_SIDE / max(h, w))
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if r < 1.0:
        gray = cv2.resize(gray, None, fx=r, fy=r, interpolation=cv2.INTER_AREA)
    scale = r / k
    refined = _refine_sides(cv2.LUT(gray, _LOG), (quad + 0.5) * scale - 0.5, reach=round(0.04 * max(gray.shape)))
    if refined is None or not _plausible_quad(refined, gray.shape[1], gray.shape[0]):
        return PageFrame(None, note="the paper's outline is not a plausible quadrilateral", contrast=contrast)
    if not _background_outside(mask, (refined + 0.5) / scale - 0.5):
        return PageFrame(None, note="the page's outline is uncertain: paper on both sides of an edge",
                         contrast=contrast)
    size = _page_size(refined)
    corners = (refined + 0.5) / r - 0.5
    return PageFrame(corners, (max(2, round(size[0] / r)), max(2, round(size[1] / r))),
                     note="page found against its background", contrast=contrast)


_LOG = np.log(np.arange(256, dtype=np.float32) + 8.0)


def _colour_features(bgr: np.ndarray) -> np.ndarray:
    """(3, H, W) float32: log brightness, then log(R/G) and log(B/G). Light and shadow move the first only
    (they multiply all channels alike), so paper in shadow keeps its colour."""
    b, g, r = (cv2.LUT(c, _LOG) for c in cv2.split(bgr))
    return np.stack([(b + g + r) * (1 / 3), r - g, b - g])


_PAPER_DIMMING = 0.25  # log brightness: paper in shadow is up to ~40% darker than in the middle of the page
_FEATURE_FLOOR = np.array([0.04, 0.015, 0.015], np.float32)  # smallest spread of each feature


@dataclass(frozen=True, eq=False)
class _ColourModel:
    """A colour as robust per-feature centre and spread; `dimming` tolerates darker samples."""

    mean: np.ndarray
    spread: np.ndarray
    dimming: float = 0.0

    @classmethod
    def fit(cls, samples: np.ndarray, dimming: float = 0.0) -> _ColourModel:
        mu = np.median(samples, axis=0)
        sd = 1.4826 * np.median(np.abs(samples - mu), axis=0)
        return cls(mu.astype(np.float32), np.maximum(sd, _FEATURE_FLOOR).astype(np.float32), dimming)

    def distance(self, features: np.ndarray) -> np.ndarray:
        """Distance in spreads of (3, ...) features; darker than the centre costs less by `dimming`."""
        total = np.zeros(features.shape[1:], np.float32)
        for c in range(3):
            d = (features[c] - self.mean[c]) / self.spread[c]
            if c == 0 and self.dimming:
                d = np.where(d < 0, d * (self.spread[0] / (self.spread[0] + self.dimming)), d)
            total += d * d
        return np.sqrt(total)


def _background_outside(mask: np.ndarray, quad: np.ndarray, share: float = 0.6) -> bool:
    """Whether a strip just outside every side of `quad` is mostly background in `mask` (paper = 255): a
    quadrilateral cutting into the page has paper on both sides of that side."""
    h, w = mask.shape
    centre = quad.mean(axis=0)
    offset = 0.015 * max(h, w)
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        u = (p1 - p0) / max(math.hypot(*(p1 - p0)), 1e-9)
        n = np.array([u[1], -u[0]])
        if n[0] * (centre[0] - p0[0]) + n[1] * (centre[1] - p0[1]) > 0:
            n = -n  # pointing out of the page
        pts = p0 + np.linspace(0.1, 0.9, 40)[:, None] * (p1 - p0) + offset * n
        inside = (pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= h - 1)
        if inside.sum() < 10:
            continue  # the side is at the image's edge: nothing to check against
        xi, yi = np.round(pts[inside]).astype(int).T
        if (mask[yi, xi] == 0).mean() < share:
            return False
    return True


def _fit_quad(outline: np.ndarray, hull: np.ndarray, side: int) -> np.ndarray | None:
    """Corners (4, 2) TL, TR, BR, BL from a page outline: a rough quadrilateral from the hull, then each side
    refitted robustly to the outline points along its middle (corners may be torn or curled)."""
    peri = cv2.arcLength(hull.astype(np.float32), True)
    rough = None
    for eps in np.linspace(0.01, 0.08, 15):
        approx = cv2.approxPolyDP(hull.astype(np.float32), eps * peri, True).reshape(-1, 2)
        if len(approx) == 4:
            rough = approx.astype(np.float64)
            break
        if len(approx) < 4:
            break
    if rough is None:
        rough = cv2.boxPoints(cv2.minAreaRect(hull.astype(np.float32))).astype(np.float64)
    rough = _order_corners(rough)
    lines = []
    for i in range(4):
        p0, p1 = rough[i], rough[(i + 1) % 4]
        length = math.hypot(*(p1 - p0))
        u = (p1 - p0) / max(length, 1e-9)
        n = np.array([-u[1], u[0]])
        rel = outline - p0
        t = (rel[:, 0] * u[0] + rel[:, 1] * u[1]) / max(length, 1e-9)
        d = rel[:, 0] * n[0] + rel[:, 1] * n[1]
        near = outline[(t > 0.1) & (t < 0.9) & (np.abs(d) < 0.03 * side)]
        lines.append(_robust_line(near) if len(near) >= 10 else (p0, u))
    return _intersect(lines)


def _robust_line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point on, and the direction of, the line through `points`, outliers damped (Huber)."""
    vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    return np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)


def _intersect(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """Corner i where side i - 1 meets side i, for four sides given as (point, direction)."""
    corners = []
    for i in range(4):
        (pa, ua), (pb, ub) = lines[i - 1], lines[i]
        det = ub[0] * ua[1] - ua[0] * ub[1]  # of [ua, -ub] as columns
        if abs(det) < 1e-6:
            return None
        d = pb - pa
        s = (ub[0] * d[1] - d[0] * ub[1]) / det
        corners.append(pa + s * ua)
    return np.array(corners)


def _refine_sides(log_gray: np.ndarray, quad: np.ndarray, reach: int, window: int = 6) -> np.ndarray | None:
    """Each side of `quad` moved to the strongest step from dark (outside) to light (inside) within `reach`
    pixels of it, measured along the side's normal at many points and fitted with a robust line."""
    centre = quad.mean(axis=0)
    offsets = np.arange(-reach - window, reach + window + 1, dtype=np.float64)
    lines = []
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        u = (p1 - p0) / max(math.hypot(*(p1 - p0)), 1e-9)
        n = np.array([-u[1], u[0]])
        if n[0] * (centre[0] - p0[0]) + n[1] * (centre[1] - p0[1]) < 0:
            n = -n  # pointing into the page
        base = p0 + np.linspace(0.06, 0.94, 64)[:, None] * (p1 - p0)
        pts = base[:, None, :] + offsets[None, :, None] * n
        prof = cv2.remap(log_gray, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
        c = np.concatenate([np.zeros((prof.shape[0], 1)), np.cumsum(prof, axis=1)], axis=1)
        j = np.arange(window, prof.shape[1] - window)
        step = ((c[:, j + 1 + window] - c[:, j + 1]) - (c[:, j] - c[:, j - window])) / window
        prior = 1.0 - 0.3 * np.abs(offsets[j]) / max(reach, 1)  # nearer the colour outline is likelier
        score = step * prior
        best = np.argmax(score, axis=1)
        rows = np.arange(len(best))
        strength = step[rows, best]
        pos = offsets[j][best].copy()
        inner = (best > 0) & (best < len(j) - 1)
        s0, s1, s2 = (score[rows[inner], best[inner] + d] for d in (-1, 0, 1))
        denom = s0 - 2 * s1 + s2
        pos[inner] += np.where(denom < 0, 0.5 * (s0 - s2) / np.where(denom < 0, denom, -1), 0)
        good = strength > max(0.05, 0.5 * float(np.median(strength)))
        if good.sum() < 8:
            lines.append((p0, u))
            continue
        lines.append(_robust_line(base[good] + pos[good, None] * n))
    return _intersect(lines)


def _order_corners(quad: np.ndarray) -> np.ndarray:
    """Four corners as top-left, top-right, bottom-right, bottom-left (clockwise on screen)."""
    centre = quad.mean(axis=0)
    order = np.argsort(np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0]))  # clockwise on screen
    quad = quad[order]
    first = int(np.argmin(quad.sum(axis=1)))
    return np.roll(quad, -first, axis=0)


def _plausible_quad(quad: np.ndarray, w: int, h: int) -> bool:
    margin = 0.03 * max(w, h)
    if (quad[:, 0] < -margin).any() or (quad[:, 0] > w - 1 + margin).any():
        return False
    if (quad[:, 1] < -margin).any() or (quad[:, 1] > h - 1 + margin).any():
        return False
    if cv2.contourArea(quad.astype(np.float32)) < _MIN_PAGE_AREA * w * h:
        return False
    for i in range(4):
        a, b = quad[i - 1] - quad[i], quad[(i + 1) % 4] - quad[i]
        cos = (a[0] * b[0] + a[1] * b[1]) / (math.hypot(*a) * math.hypot(*b) + 1e-9)
        if abs(cos) > math.cos(math.radians(60)):  # every corner between 60 and 120 degrees
            return False
    return True


def _page_size(quad: np.ndarray) -> tuple[float, float]:
    """(width, height) of the flattened page: the quadrilateral's area at its paper's aspect ratio."""
    tl, tr, br, bl = quad
    w = (math.hypot(*(tr - tl)) + math.hypot(*(br - bl))) / 2
    h = (math.hypot(*(bl - tl)) + math.hypot(*(br - tr))) / 2
    ratio = max(w, h) / max(min(w, h), 1e-9)
    known = _paper_ratios()
    nearest = min(known, key=lambda r: abs(ratio / r - 1))
    if abs(ratio / nearest - 1) < _ASPECT_SNAP:
        ratio = nearest
    area = w * h
    long_, short = math.sqrt(area * ratio), math.sqrt(area / ratio)
    return (long_, short) if w >= h else (short, long_)


@cache
def _paper_ratios() -> tuple[float, ...]:
    """Long/short side ratios of every template's paper."""
    from hotich.templates import list_templates

    ratios = {round(max(t.layout.paper_mm) / min(t.layout.paper_mm), 4) for t in list_templates()}
    return tuple(sorted(ratios)) or (math.sqrt(2),)


# ----------------------------------------------------------------------------------- 2. orientation


_HORIZONTAL_SURE = 0.2  # line-direction cue: |value| beyond this is certain (pages measure 0.3 .. 0.75)
_UPRIGHT_SURE = 0.3  # up/down cue: |value| beyond this turns a page over (upright pages measure 0.7 .. 6)


def detect_orientation(image: np.ndarray) -> Orientation:
    """Which quarter turn the page (BGR or grey) shows.

    Across or down: printed and written lines run across an upright page, so once the ruling is removed and
    the text blurred to about its line height, the remaining brightness changes mostly from line to line
    (vertical gradients). Up or down, on the levelled text lines: Vietnamese piles its marks above the
    letters (tone marks, circumflexes, breves, capitals, ascenders; below only the dot and a few descenders),
    and letters sit on a sharp baseline while their tops are ragged; both point the same way on every
    register page measured.
    """
    return _orientation(_View(_analysis_gray(image)))[0]


def _orientation(view: _View) -> tuple[Orientation, tuple[float, float]]:
    """The orientation, and the (angle, confidence) skew of the page's lines once it is turned upright."""
    horizontal = _line_direction(view.text)
    candidates = (0, 180) if horizontal >= 0 else (90, 270)
    if horizontal >= 0:
        text = view.text
        skew = view.skew
    else:  # look at it as it would be after undoing a quarter turn counter-clockwise
        text = np.ascontiguousarray(np.rot90(view.text, -1))
        skew = _skew_search(np.ascontiguousarray(np.rot90(view.ink, -1)))
    upright = _upright_evidence(_rotate(text, -skew[0]))
    sure = abs(upright) >= _UPRIGHT_SURE
    chosen = candidates[0] if upright >= 0 or (not sure and candidates[0] == 0) else candidates[1]
    # 0.5 on the threshold of turning a page over, towards 1 as the evidence grows.
    confidence = min(1.0, abs(horizontal) / _HORIZONTAL_SURE) * abs(upright) / (abs(upright) + _UPRIGHT_SURE)
    orientation = Orientation(angle=chosen, confidence=float(confidence), horizontal=float(horizontal),
                              upright=float(upright), sure=sure)
    return orientation, skew


def _line_direction(text: np.ndarray) -> float:
    """-1..1, positive when the text runs across the image: the structure tensor of the text blurred to
    about a line height, whose gradients run from line to line."""
    half = cv2.resize(text, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    f = cv2.GaussianBlur(half.astype(np.float32), (0, 0), 2.0)
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1)
    ex, ey = float(np.sum(gx * gx)), float(np.sum(gy * gy))
    return (ey - ex) / (ey + ex + 1e-9)


def _upright_evidence(text: np.ndarray, strip: int = 100) -> float:
    """Positive when the levelled text's line tops point up: two cues, each in units of its typical size.

    In vertical strips (narrow enough for a table column), the ink profile splits into text lines; each
    line's core is where its profile is at least half its peak. Ink above the cores (marks, capitals,
    ascenders) against ink below (dots, descenders) is one cue; the other is how much sharper the profile
    of letters' bottom edges (the baseline) is than that of their top edges.
    """
    on = (text > 0).view(np.uint8)
    w = on.shape[1]
    starts = np.arange(0, max(1, w - strip // 2), strip)
    profiles = np.add.reduceat(on, starts, axis=1, dtype=np.int32).astype(np.float64)  # (h, strips)
    tops = np.add.reduceat(on[1:] & (1 - on[:-1]), starts, axis=1, dtype=np.int32).astype(np.float64)
    bottoms = np.add.reduceat(on[:-1] & (1 - on[1:]), starts, axis=1, dtype=np.int32).astype(np.float64)
    tops[1:] += tops[:-1].copy()  # pairs of rows: an edge that wavers by a row still counts as aligned
    bottoms[1:] += bottoms[:-1].copy()
    counted = (tops.sum(axis=0) >= 30) & (bottoms.sum(axis=0) >= 30)
    sharp_top = float(((tops * tops).sum(axis=0) / np.maximum(tops.sum(axis=0), 1))[counted].sum())
    sharp_bottom = float(((bottoms * bottoms).sum(axis=0) / np.maximum(bottoms.sum(axis=0), 1))[counted].sum())
    above = below = 0.0
    for p in profiles.T:
        rows = np.nonzero(p > 0.5)[0]
        if rows.size == 0:
            continue
        breaks = np.nonzero(np.diff(rows) > 3)[0]
        firsts = np.concatenate([[rows[0]], rows[breaks + 1]])
        lasts = np.concatenate([rows[breaks], [rows[-1]]]) + 1
        for a, b in zip(firsts, lasts, strict=True):
            if not 4 <= b - a <= 40:
                continue
            q = p[a:b]
            core = np.nonzero(q >= 0.5 * q.max())[0]
            above += q[: core[0]].sum()
            below += q[core[-1] + 1 :].sum()
    marks = (above - below) / (above + below + 1e-9)
    baseline = (sharp_bottom - sharp_top) / (sharp_bottom + sharp_top + 1e-9)
    return float(np.clip(marks / 0.2, -3, 3) + np.clip(baseline / 0.03, -3, 3))


# --------------------------------------------------------------------------------------- 3. deskew


_MAX_SKEW_DEG = 10.0
_LEVEL_DEG = 0.02  # below this the page is left as it is
_MIN_SKEW_CONFIDENCE = 0.05


def estimate_skew(image: np.ndarray, *, max_angle: float = _MAX_SKEW_DEG) -> Skew:
    """The angle of the page's dominant line direction (ruling and text lines) within ±max_angle degrees.

    The ink's projection profile along a direction is sharpest (largest sum of squares) when the
    direction follows the lines: a coarse search over the whole range, then a fine one around the best.
    """
    angle, confidence = _skew_search(_ink(_analysis_gray(image)), max_angle)
    return Skew(angle=angle, confidence=confidence)


def _skew_search(ink: np.ndarray, max_angle: float = _MAX_SKEW_DEG) -> tuple[float, float]:
    """(angle, confidence): a coarse search on a quarter-size copy of the ink, a fine one on a half-size copy."""
    half = cv2.resize(ink, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    fine_points = _Points(half)
    if fine_points.count < 200:
        return 0.0, 0.0
    coarse_points = _Points(cv2.resize(half, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    coarse_scores = np.array([coarse_points.energy(a) for a in coarse])
    best = float(coarse[int(np.argmax(coarse_scores))])
    step = 0.05
    fine = best + np.arange(-0.5, 0.5 + 1e-9, step)
    fine_scores = np.array([fine_points.energy(a) for a in fine])
    i = int(np.argmax(fine_scores))
    angle = float(fine[i])
    if 0 < i < len(fine) - 1:  # parabola through the peak and its neighbours
        s0, s1, s2 = fine_scores[i - 1 : i + 2]
        denom = s0 - 2 * s1 + s2
        if denom < 0:
            angle += step * 0.5 * (s0 - s2) / denom
    top = float(coarse_scores.max())
    confidence = 1.0 - float(np.median(coarse_scores)) / top if top > 0 else 0.0
    return float(angle), confidence


class _Points:
    """Ink pixels (weighted by their coverage) for projection profiles at any angle."""

    def __init__(self, ink: np.ndarray) -> None:
        ys, xs = np.nonzero(ink > 48)
        self.count = ys.size
        self.weights = ink[ys, xs].astype(np.float64)
        self.x = xs - ink.shape[1] / 2
        self.y = ys - ink.shape[0] / 2
        self.offset = math.hypot(*ink.shape) / 2 + 2
        self.bins = int(2 * self.offset) + 2

    def energy(self, degrees: float) -> float:
        """Sum of squares of the projection profile across lines at `degrees` (counter-clockwise)."""
        a = math.radians(degrees)
        r = (self.y * math.cos(a) + self.x * math.sin(a) + self.offset).astype(np.int64)
        p = np.bincount(r, self.weights, minlength=self.bins)
        return float((p * p).sum())


# --------------------------------------------------------------------------------------- 4. dewarp


_MIN_CURL_PX = 1.0  # full-resolution-equivalent pixels; smaller bows are left alone
_CURL_KNOTS = 97
_CURL_SMOOTH = 1.0  # bending penalty, relative to the samples per knot


def estimate_curl(image: np.ndarray, *, min_shift: float | None = None) -> CurlEstimate:
    """The vertical displacement that straightens the page's long horizontal ruling lines.

    Line pieces are traced (their centre row in every column) and fitted jointly: each piece has its own
    height, and all share one displacement field, piecewise linear across the page (fine enough for the
    sharp rise out of a book's gutter) and linear down it, with a smoothness penalty. Pages whose lines
    are straight to within `min_shift` pixels (default: 1 px of a 2000 px page) are left alone.
    """
    gray = _analysis_gray(image)
    k = gray.shape[1] / image.shape[1]
    estimate = _curl(_ink(gray), _MIN_CURL_PX * max(gray.shape) / 2000 if min_shift is None else min_shift * k)
    if k == 1:
        return estimate
    d = estimate.displacement
    return dataclasses.replace(estimate, displacement=None if d is None else d.rescaled(1 / k),
                               max_shift=estimate.max_shift / k, residual=estimate.residual / k,
                               bend=estimate.bend / k, before=estimate.before / k)


def _curl(ink: np.ndarray, min_shift: float) -> CurlEstimate:
    """`estimate_curl` on the ink of an analysis copy; everything in that copy's pixels."""
    h, w = ink.shape
    # A dark line along the image's top or bottom is the page's own edge (or the scanner lid's), not ruling.
    samples = [(x, y) for x, y in _trace_lines(ink) if 0.025 * h < np.median(y) < 0.975 * h]
    if len(samples) < 4:
        return CurlEstimate(None, 0.0, len(samples), 0.0, note="too few long ruling lines to measure a bow")
    fit = _fit_displacement(samples, w, h)
    if fit is None:
        return CurlEstimate(None, 0.0, len(samples), 0.0, note="the ruling lines do not determine a bow")
    field, residual, straight = fit
    # Measured along the traced lines themselves (long ones), where the field rests on data.
    shift = bend = 0.0
    for x, y in samples:
        if np.ptp(x) < 0.15 * w:
            continue
        d = field(x, np.full_like(x, np.median(y)))
        shift = max(shift, float(np.ptp(d)))  # how far parts of the line move relative to each other
        u = x - x.mean()
        slope = (d * u).sum() / max(float((u * u).sum()), 1e-9)
        bend = max(bend, float(np.abs(d - d.mean() - slope * u).max()))  # what a tilt does not explain
    estimate = CurlEstimate(None, shift, len(samples), residual, bend=bend, before=straight)
    if bend < min_shift or residual > 0.7 * straight:
        return dataclasses.replace(estimate, note="the ruling is straight already")
    return dataclasses.replace(estimate, displacement=field, note="bow straightened")


def _bending(weights: np.ndarray) -> np.ndarray:
    """D^T W D for the second-difference operator D on len(weights) + 2 knots: the bending penalty's normal
    matrix, each knot's bending weighted."""
    nk = len(weights) + 2
    out = np.zeros((nk, nk))
    stencil = np.outer([1.0, -2.0, 1.0], [1.0, -2.0, 1.0])
    for m, wm in enumerate(weights):
        out[m : m + 3, m : m + 3] += wm * stencil
    return out


def _trace_lines(ink: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Long horizontal line pieces as (x, y) samples of their centre, every few columns."""
    w = ink.shape[1]
    # A one-pixel vertical dilation lets a horizontal opening keep line pieces sloping up to ~15 degrees
    # (a book's gutter) while text, with no long horizontal runs, goes.
    thick = cv2.dilate(ink, np.ones((3, 1), np.uint8))
    length = max(15, w // 60)
    lines = cv2.morphologyEx(thick, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    out = []
    step = 4
    for i in range(1, n):
        x0, y0, bw, bh, _area = stats[i]
        if bw < 0.08 * w or bh > 0.25 * bw + 12:
            continue
        sub = labels[y0 : y0 + bh, x0 : x0 + bw] == i
        counts = sub.sum(axis=0)
        cols = np.arange(0, bw, step)
        counts = counts[cols]
        rows = np.arange(bh, dtype=np.float64)[:, None]
        centre = (sub[:, cols] * rows).sum(axis=0) / np.maximum(counts, 1)
        typical = np.median(counts[counts > 0]) if (counts > 0).any() else 0
        good = (counts > 0) & (counts <= 2 * typical + 1)
        if good.sum() < 8:
            continue
        out.append(((cols[good] + x0).astype(np.float64), centre[good] + y0))
    return out


def _fit_displacement(samples: list[tuple[np.ndarray, np.ndarray]], w: int, h: int
                      ) -> tuple[Displacement, float, float] | None:
    """Least squares: y_obs = offset_i + a(x) + b(x) (y_i - h/2) / h over all pieces i, with a and b
    piecewise linear on _CURL_KNOTS knots, penalised for bending, and of zero mean (a constant belongs to
    the pieces' offsets). Three rounds, dropping samples far from the fit (text touching a line).

    Returns the field, the RMS residual, and for comparison the RMS distance of the samples from straight
    level pieces."""
    nk, npieces = _CURL_KNOTS, len(samples)
    knots = np.linspace(0, w - 1, nk)
    spacing = knots[1] - knots[0]
    n = 2 * nk + npieces
    x = np.concatenate([s[0] for s in samples])
    y = np.concatenate([s[1] for s in samples])
    piece = np.concatenate([np.full(s[0].size, i) for i, s in enumerate(samples)])
    level = np.array([np.median(s[1]) for s in samples])
    yn = ((level - h / 2) / h)[piece]
    j = np.clip((x / spacing).astype(np.int64), 0, nk - 2)
    t = x / spacing - j
    # Each sample's row of the design matrix has five non-zeros: these columns, these values.
    cols = np.stack([j, j + 1, nk + j, nk + j + 1, 2 * nk + piece], axis=1)
    vals = np.stack([1 - t, t, (1 - t) * yn, t * yn, np.ones_like(t)], axis=1)
    smooth = _CURL_SMOOTH * x.size / nk
    bending = [np.ones(nk - 2), np.ones(nk - 2)]  # per-knot weight of the bending penalty, for a and b
    straight = float(np.sqrt(np.mean((y - level[piece]) ** 2)))
    keep = np.ones(x.size)
    solution = np.zeros(n)
    residual = y - level[piece]
    for _ in range(3):
        # The penalties: second differences of a and of b, and their zero means.
        prior = 1e-6 * np.eye(n)
        for base, weights in zip((0, nk), bending, strict=True):
            prior[base : base + nk, base : base + nk] += smooth * _bending(weights) + 100.0
        wv = vals * keep[:, None]
        normal = prior + np.bincount((cols[:, :, None] * n + cols[:, None, :]).ravel(),
                                     (wv[:, :, None] * vals[:, None, :]).ravel(), minlength=n * n).reshape(n, n)
        rhs = np.bincount(cols.ravel(), (wv * y[:, None]).ravel(), minlength=n)
        # The pieces' offsets only meet the field (block q), never each other (diagonal d): eliminate them
        # and solve the small field system alone.
        f = 2 * nk
        p_, q, d = normal[:f, :f], normal[:f, f:], np.diag(normal[f:, f:]).copy()
        # Both OpenCV and numpy hand these to OpenBLAS, whose threads stall on a busy machine:
        # `LayoutDetector.analyse` holds it to one thread.
        scaled = np.ascontiguousarray(q / np.sqrt(d))
        reduced = p_ - cv2.mulTransposed(scaled, False)
        right = rhs[:f, None] - cv2.gemm(q, (rhs[f:] / d)[:, None], 1, None, 0)
        ok, field_part = cv2.solve(np.ascontiguousarray(reduced), right, flags=cv2.DECOMP_CHOLESKY)
        if not ok:
            return None
        field_part = field_part.ravel()
        solution = np.concatenate([field_part, (rhs[f:] - cv2.gemm(q, field_part[:, None], 1, None, 0,
                                                                   flags=cv2.GEMM_1_T).ravel()) / d])
        residual = y - (vals * solution[cols]).sum(axis=1)
        spread = 1.4826 * float(np.median(np.abs(residual[keep > 0]))) + 0.1
        keep = (np.abs(residual) < 3 * spread).astype(np.float64)
        # A book's gutter is a fold, not a curve: where the fit bends much more than elsewhere, let it bend
        # (Huber weights on the second differences), so the fold stays sharp instead of smeared.
        for i, base in enumerate((0, nk)):
            second = np.abs(np.diff(solution[base : base + nk], 2))
            typical = 3.0 * float(np.median(second)) + 1e-6
            bending[i] = np.minimum(1.0, typical / np.maximum(second, 1e-12))
    # Outside the lines' reach the field is held at its last measured value rather than extrapolated.
    a, b = solution[:nk].copy(), solution[nk : 2 * nk].copy()
    first, last = int(j.min()), int(j.max()) + 1
    for v in (a, b):
        v[:first] = v[first]
        v[last + 1 :] = v[last]
    field = Displacement(knots=knots, a=a, b=b, y0=h / 2, y_scale=float(h), y_min=float(level.min()),
                         y_max=float(level.max()))
    rms = float(np.sqrt(np.mean(residual[keep > 0] ** 2))) if keep.any() else float("inf")
    return field, rms, straight


# ------------------------------------------------------------------------------------- 5. contrast


_BACKGROUND_CELL = 8  # the lighting is estimated on a copy this many times smaller
_CLOSING = 7  # at that scale: removes ink strokes and words up to ~50 px of a 2000 px page


def normalise_contrast(image: np.ndarray) -> np.ndarray:
    """Uneven light, shadows and yellowed paper flattened to white paper, then the contrast stretched.

    The paper's colour under the local light is estimated per channel on a small copy (a morphological
    closing removes the ink, a blur smooths what is left), the image is divided by it, and the levels are
    stretched so that the darkest ink reaches black. Returns uint8 with the image's own channels (grey or BGR).
    """
    return _normalise_contrast(_check_image(image))[0]


def _normalise_contrast(image: np.ndarray) -> tuple[np.ndarray, dict[str, float | str]]:
    h, w = image.shape[:2]
    f = _BACKGROUND_CELL
    small = cv2.resize(image, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_CLOSING, _CLOSING))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.GaussianBlur(background, (0, 0), 2.0)
    background = np.maximum(background, 1)
    flat = cv2.divide(image, cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR), scale=255)
    grey = flat[::4, ::4] if flat.ndim == 2 else cv2.cvtColor(flat[::4, ::4], cv2.COLOR_BGR2GRAY)
    black, white = (float(v) for v in np.percentile(grey, (0.5, 50)))
    black = min(black, 0.6 * white)
    lut = np.clip((np.arange(256) - black) * 255.0 / max(white - black, 1.0), 0, 255).astype(np.uint8)
    out = cv2.LUT(flat, lut)
    return out, {"black": round(black, 1), "white": round(white, 1),
                 "light_min": float(background.min()), "light_max": float(background.max())}


# -------------------------------------------------------------------------------------------- helpers


def _check_image(image: np.ndarray) -> np.ndarray:
    """The image as 2-D grey or 3-channel BGR uint8, or a ValueError that says what to pass instead."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy image (as cv2.imread returns), got {type(image).__name__}")
    if image.size == 0:
        raise ValueError(f"empty image {image.shape}: the file was probably not read; check the path and format")
    if image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {image.dtype}: scale to 0..255 and convert, "
                         "e.g. cv2.convertScaleAbs(image, alpha=255 / image.max())")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected a grey (H, W) or BGR (H, W, 3) image, got shape {image.shape}")
    h, w = image.shape[:2]
    if h * w > MAX_PIXELS:
        raise ValueError(f"image of {w}x{h} = {h * w / 1e6:.0f} megapixels is larger than the "
                         f"{MAX_PIXELS // 1_000_000} allowed: shrink it first (pages read well at 2000 px)")
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image of {w}x{h} is too small to read a page on: send at least {MIN_SIDE} px on "
                         "the short side (about 2000 px on the long side is best)")
    if max(h, w) > 20 * min(h, w):
        raise ValueError(f"image of {w}x{h} is a strip, not a page: send the whole page")
    return image


def _analysis_gray(image: np.ndarray) -> np.ndarray:
    image = _check_image(image)
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    k = _ANALYSIS_SIDE / max(gray.shape)
    if k < 1.0:
        gray = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    return gray


def _ink(gray: np.ndarray) -> np.ndarray:
    """Dark marks (print, ruling, handwriting) as 255 on 0, whatever the light: a local-mean threshold."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12)


def _remove_ruling(ink: np.ndarray) -> np.ndarray:
    """The ink without long horizontal and vertical lines (and their neighbourhood): text, marks, dots."""
    length = max(ink.shape) // 25
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    ruling = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(ink, cv2.bitwise_not(ruling))


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """`image` turned counter-clockwise (on screen) by `degrees` about its centre, same size."""
    if abs(degrees) < 1e-3:
        return image
    h, w = image.shape[:2]
    rot = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(image, rot, (w, h), flags=cv2.INTER_NEAREST)


def _scale_matrix(k: float) -> np.ndarray:
    """Pixels of an image -> pixels of that image resized by `k` (pixel centres kept, as cv2.resize does)."""
    return np.array([[k, 0.0, 0.5 * k - 0.5], [0.0, k, 0.5 * k - 0.5], [0.0, 0.0, 1.0]])


def _scaled_size(size: tuple[int, int], k: float) -> tuple[int, int]:
    return max(1, round(size[0] * k)), max(1, round(size[1] * k))


def _quarter_turn(turns: int, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The pixel map of np.rot90(image, turns) (counter-clockwise quarter turns) and the new (w, h)."""
    m = np.eye(3)
    w, h = size
    for _ in range(turns % 4):
        m = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w - 1.0], [0.0, 0.0, 1.0]]) @ m
        w, h = h, w
    return m, (w, h)


def _as_points(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        pts = pts.reshape(-1, 2)
    return pts


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(N, 2) points through a 3x3 homography."""
    pts = _as_points(pts)
    x, y = pts[:, 0], pts[:, 1]
    # Written out rather than as a (N, 2) @ (2, 3) product, which would wake the BLAS thread pool for nothing.
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return np.stack([(m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w], axis=1)


def _warp(full: np.ndarray, m: np.ndarray, size: tuple[int, int], displacement: Displacement | None) -> np.ndarray:
    """The working image through homography `m` and then `displacement`, in one resampling."""
    w, h = size
    if displacement is None:
        for turns in range(4):  # quarter turns alone move pixels exactly
            turn, turned = _quarter_turn(turns, (full.shape[1], full.shape[0]))
            if turned == (w, h) and np.allclose(m, turn, atol=1e-9):
                return np.rot90(full, turns).copy()  # a copy, never the caller's own array
        return cv2.warpPerspective(full, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # The source position of every output pixel on a coarse grid (one spare node beyond each border, so the
    # upsampled map interpolates up to the edge), upsampled by cv2.resize: the map is smooth.
    g = _MAP_STEP
    nx, ny = math.ceil(w / g) + 2, math.ceil(h / g) + 2
    gx, gy = np.meshgrid((np.arange(nx) - 0.5) * g - 0.5, (np.arange(ny) - 0.5) * g - 0.5)
    flat_y = gy + displacement(gx, gy)
    src = _apply(np.linalg.inv(m), np.stack([gx.ravel(), flat_y.ravel()], axis=1))
    coarse = src.reshape(ny, nx, 2).astype(np.float32)
    maps = cv2.resize(coarse, (nx * g, ny * g), interpolation=cv2.INTER_LINEAR)[g : g + h, g : g + w]
    return cv2.remap(full, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
