"""Registers a page image to its book template: finds the printed ruling, aligns the template's rules to
it, and says where every field of every filled record lies on the image.

The books are known in advance, so layout is not predicted from scratch: the template says where every
rule, dotted leader and cell is on the blank page, and the page only has to be aligned to it. That is
done in three steps on a copy 1000 px on its long side, which keeps the stage within its speed budget:

1. Ruling: a black top-hat removes paper tone, stains and lighting; long thin horizontal and vertical
   structures survive a morphological opening with a long line kernel, thick ones (text) are removed by
   a ridge test. Forms' dotted leaders are closed into lines, so they act as ruling too.
2. Global fit: skew, scale and shift from projection profiles of the ruling, then iterative closest-rule
   matching: each expected rule's sample points snap to the nearest detected rule along the rule's
   normal, first the solid rules alone with wide tolerances (a form's leaders are evenly spaced and would
   fit as well one line off), then every rule with narrowing tolerances, fitting an affine map, a
   homography, and last a homography with quadratic terms (a sheet's bow).
3. Local refinement: each rule's offsets from the global fit, smoothed along the rule, are interpolated
   between neighbouring rules into a displacement field, in two passes (wide and smooth for slow bends
   such as a spread's gutter, then narrow for small local ones); where a rule is missing (torn, faded)
   the field falls back to the global fit.

A learned ruling detector (`RulingDetector`, ONNX) can replace the morphology of step 1 with its own
response maps: a small net trained on synthetic pages whose ruling is known exactly.

Which record blocks hold writing is read from the ink inside their field cells once the ruling is taken
out. No torch here: this runs inside the ONNX server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from hotich.inference.layout.ruling import RulingDetector
from hotich.templates import Template

__all__ = ["FieldRegion", "Registration", "crop_field", "register_page"]

WORK_SIDE = 1000
"""Long side, in pixels, of the copy the ruling is detected on."""
_LINE_KERNEL = 41
"""Shortest run (work pixels) a structure must have to count as ruling: longer than handwriting strokes,
shorter than the narrowest column or dotted leader."""
_RIDGE = 4
"""Rows (columns) away from a rule at which its response must have fallen off: text lines are thicker."""
_THRESHOLD = 10
"""Least line response (grey levels above the paper) taken as ruling; noise is gone after the opening."""
_BORDER = 5
"""Work pixels along the image's edges where no rule is looked for: a crop leaves the page's edge there."""
"""Least line response (grey levels above the paper) taken as ruling; noise is gone after the opening."""
_SAMPLE_STEP = 8.0
"""Spacing, in work pixels, of the points sampled along every expected rule."""
_COARSE_STAGE = ((16.0, "affine"), (9.0, "homography"))
_FINE_STAGE = ((5.0, "homography"), (3.5, "quadratic"), (3.0, "quadratic"))
"""Closest-rule matching schedules: search half-width in work pixels and the model fitted with it; the
coarse stage matches solid rules only."""
_LOCAL_PASSES = ((10.0, 15), (4.0, 3))
"""Local refinement passes: how far (work pixels) a rule may lie from the map so far and still be followed,
and the half-width (in sample points) of the running median along it."""
_EVAL_TOL = 0.01
"""Share of the long side within which a rule counts as matched when the fit's quality is reported."""
_RETRY_RESIDUAL = 2.0
"""Residual (work pixels) of the global fit above which a second starting pose is tried."""
_GRID = 48
"""Nodes per side of the displacement field, in template coordinates."""
_INK_THRESHOLD = 30
"""Grey levels above the paper for a pixel to count as writing when deciding which blocks are filled: above
what show-through from the back page leaves."""
_INK_FLOOR = 0.003
"""Least share of a block's cells covered by ink for the block to count as written."""
_FILLED_RATIO = 4.5
"""How many times more ink the last written block holds than any block after it (see `_count_filled`)."""


@dataclass(frozen=True, eq=False)
class FieldRegion:
    """Where one field of one record was written: the cell the template gives it, as found on the image."""

    record: int
    """0-based record block on the page, top to bottom."""
    key: str
    """The template's field key."""
    polygon: np.ndarray
    """(4, 2) float32 x, y pixel corners on the given image, clockwise from top-left."""


@dataclass(frozen=True, eq=False)
class Registration:
    """The template aligned to one page image.

    `residual_px` and `details` say how far to trust it: a page of another template, a blank image or a
    page whose ruling is gone matches few rules (`details["match_share"]`) and leaves a large residual.
    """

    template_id: str
    records_filled: int
    """How many record blocks, from the top, hold writing."""
    fields: tuple[FieldRegion, ...]
    """Every field of every filled record, record by record in template order."""
    residual_px: float
    """Mean distance (image pixels) between the expected rules and the detected rules matched to them after
    the global fit (before local refinement, which would hide how irregular the page is), matching within
    1% of the long side; that whole tolerance when nothing matched. Typically under 2 px on a 2000 px page
    that registered well."""
    details: dict[str, float | str]
    """Diagnostics: rules expected and matched, share of rule length matched, skew, scale, method."""


@dataclass(frozen=True)
class _Rule:
    """A printed rule (or dotted leader) of the blank page, page-normalised."""

    horizontal: bool
    pos: float
    """y of a horizontal rule, x of a vertical one."""
    lo: float
    hi: float
    """Its extent along its own direction."""
    weight: float
    ends: bool
    """Whether its two ends are sharp printed ends, usable to place the page across the rule."""
    kind: str = "rule"
    """"rule": a solid printed rule; "leader": a dotted writing line of a form, one of many alike a line
    apart, so it is matched only once the fit is close; "guide": a faint sub-row rule some books print
    and others do not, so it helps the fit but is not missed when absent."""


@dataclass(frozen=True)
class _Samples:
    """Points along the expected rules, as flat arrays (one entry per point)."""

    u: np.ndarray
    v: np.ndarray
    horizontal: np.ndarray
    """True where the point constrains y (a point on a horizontal rule, or a vertical rule's end)."""
    rule: np.ndarray
    """Index of the point's rule."""
    end: np.ndarray
    """0 for a point on a rule, -1 for the start of a rule (its low end), +1 for its high end."""
    weight: np.ndarray
    major: np.ndarray
    """True for points of solid rules (not leaders or guides): the coarse stage of the fit uses only these."""
    optional: np.ndarray
    """True for points of guide rules, which a book may not print: left out of the quality figures."""


# --- the template's expected ruling ---------------------------------------------------------------------


def _expected_rules(template: Template) -> list[_Rule]:
    """Every rule the blank book prints, page-normalised, as the renderer draws it."""
    layout = template.layout
    rules: list[_Rule] = []
    form = layout.style == "form"
    if layout.style == "table" and layout.ruling != "none":
        rx0, ry0, rx1, ry1 = layout.record_area
        top = layout.header_area[1] if layout.header_area is not None else ry0
        for x in sorted({rx0 + c.x0 * (rx1 - rx0) for c in template.columns} | {rx1}):
            rules.append(_Rule(False, x, top, ry1, 1.0, False))
        ys = {top, ry0, ry1} | {template.record_box(i)[3] for i in range(layout.records_per_page)}
        for y in sorted(ys):
            rules.append(_Rule(True, y, rx0, rx1, 1.5 if y in (top, ry1) else 1.0, False))
        if layout.ruling == "full":
            # Faint guide rows between a block's sub-rows are printed in some books only: a light weight.
            for i in range(layout.records_per_page):
                bx0, by0, bx1, by1 = template.record_box(i)
                for r in range(1, layout.rows_per_record):
                    y = by0 + r * (by1 - by0) / layout.rows_per_record
                    rules.append(_Rule(True, y, bx0, bx1, 0.3, False, "guide"))
    if layout.ruling != "none":
        for box in template.lines:
            rules.extend(_segment(box, 1.0, form))
        for i in range(layout.records_per_page):
            bx0, by0, bx1, by1 = template.record_box(i)
            for x0, y0, x1, y1 in template.record_lines:
                box = (bx0 + x0 * (bx1 - bx0), by0 + y0 * (by1 - by0), bx0 + x1 * (bx1 - bx0), by0 + y1 * (by1 - by0))
                rules.extend(_segment(box, 1.0, form))
    for i in range(layout.records_per_page):
        for spec in template.fields:
            if not spec.prompt:
                continue
            # The dotted leader under each written line, as the renderer prints it (near its bottom).
            x0, y0, x1, y1 = template.field_page_box(spec, i)
            n = template.field_lines(spec)
            line_h = (y1 - y0) / n
            for k in range(n):
                rules.append(_Rule(True, y0 + (k + 1) * line_h - line_h / 6, x0, x1, 0.8, True, "leader"))
    return _merge(rules)


def _segment(box: tuple[float, float, float, float], weight: float, ends: bool) -> list[_Rule]:
    x0, y0, x1, y1 = box
    if abs(y1 - y0) <= abs(x1 - x0):
        return [_Rule(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1), weight, ends)]
    return [_Rule(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1), weight, ends)]


def _merge(rules: list[_Rule]) -> list[_Rule]:
    """One rule where the template prints two on top of each other (a block's bottom, the next one's top)."""
    out: list[_Rule] = []
    for rule in sorted(rules, key=lambda r: (r.horizontal, r.pos, r.lo)):
        last = out[-1] if out else None
        if (
            last is not None
            and last.horizontal == rule.horizontal
            and abs(last.pos - rule.pos) < 1e-3
            and rule.lo <= last.hi + 1e-3
        ):
            kind = "rule" if "rule" in (last.kind, rule.kind) else last.kind
            out[-1] = _Rule(rule.horizontal, last.pos, last.lo, max(last.hi, rule.hi), max(last.weight, rule.weight),
                            last.ends and rule.ends, kind)
        else:
            out.append(rule)
    return out


def _sample(rules: list[_Rule], step_u: float, step_v: float) -> _Samples:
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("u", "v", "horizontal", "rule", "end", "weight", "kind")}

    def add(u: np.ndarray, v: np.ndarray, horizontal: bool, i: int, end: np.ndarray, weight: float) -> None:
        cols["u"].append(u)
        cols["v"].append(v)
        cols["horizontal"].append(np.full(u.size, horizontal))
        cols["rule"].append(np.full(u.size, i))
        cols["end"].append(end.astype(np.int8))
        cols["weight"].append(np.full(u.size, weight))
        cols["kind"].append(np.full(u.size, rules[i].kind))

    for i, r in enumerate(rules):
        step = step_u if r.horizontal else step_v
        n = max(3, int((r.hi - r.lo) / step) + 1)
        t = np.linspace(r.lo, r.hi, n)
        # Keep a little off the ends: a rule's last pixels meet the crossing rule, or are anti-aliased away.
        t = t[(t >= r.lo + step / 2) & (t <= r.hi - step / 2)] if n > 4 else t
        across = np.full(t.size, r.pos)
        add(t if r.horizontal else across, across if r.horizontal else t, r.horizontal, i, np.zeros(t.size), r.weight)
        if r.ends:
            # A rule's ends place the page along it; weighted like a few points of a rule across it.
            ends, at = np.array([r.lo, r.hi]), np.full(2, r.pos)
            add(ends if r.horizontal else at, at if r.horizontal else ends, not r.horizontal, i, np.array([-1, 1]),
                3.0 * r.weight)
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    return _Samples(
        u=flat["u"], v=flat["v"], horizontal=flat["horizontal"], rule=flat["rule"], end=flat["end"],
        weight=flat["weight"].astype(np.float64), major=flat["kind"] == "rule", optional=flat["kind"] == "guide",
    )


# --- the page's ruling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ruling:
    """Line responses of the work image: how strongly each pixel lies on a long thin rule."""

    dark: np.ndarray
    """Black top-hat: ink and print above the local paper tone (uint8)."""
    h: np.ndarray
    v: np.ndarray
    """Responses to horizontal and vertical rules, dotted leaders included on forms."""
    h_solid: np.ndarray
    v_solid: np.ndarray
    """The same for solid rules only (dotted leaders are not closed into lines)."""


def _work_gray(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The grey copy the ruling is found on, `WORK_SIDE` on its long side whatever the input's size (the
    kernels are sized for it), and its scale relative to the input."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4
                                                      else cv2.COLOR_BGR2GRAY)
    scale = WORK_SIDE / max(gray.shape[:2])
    if scale != 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return gray, scale


def _ruling(gray: np.ndarray, close_gaps: bool, model: RulingDetector | None = None) -> _Ruling:
    bg = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (11, 11)))
    dark = cv2.subtract(bg, gray)
    if model is not None:
        # The learned maps replace the morphology's rather than join them: on strongly aged pages of held-out
        # fonts, registration placed more fields with them alone than with the maximum of both (see the card).
        learned = {name: _clear_border(r) for name, r in model.responses(gray).items()}
        h, v = learned["rule_h"], learned["rule_v"]
        h_any = np.maximum(h, learned["leader"]) if close_gaps else h
        return _Ruling(dark=dark, h=h_any, v=v, h_solid=h, v_solid=v)
    h, v = _line_response(dark, False), _line_response(dark.T, False).T
    if not close_gaps:
        return _Ruling(dark=dark, h=h, v=v, h_solid=h, v_solid=v)
    return _Ruling(dark=dark, h=_line_response(dark, True), v=_line_response(dark.T, True).T, h_solid=h, v_solid=v)


def _clear_border(r: np.ndarray) -> np.ndarray:
    """The image's own edges (a sliver of table or scanner lid left by the page crop) are no ruling."""
    r[:_BORDER], r[-_BORDER:], r[:, :_BORDER], r[:, -_BORDER:] = 0, 0, 0, 0
    return r


def _line_response(dark: np.ndarray, close_gaps: bool) -> np.ndarray:
    """Response to long thin horizontal structures: the darkness that persists along a run of the line
    kernel, minus what persists a few rows above or below (text is thick, a rule is not)."""
    d = dark
    if close_gaps:
        # Dotted leaders: close the gaps between dots (a few pixels) so that they read as rules.
        d = cv2.morphologyEx(d, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    # Thicken by a row each way so that a rule skewed by a few degrees keeps a continuous run.
    d = cv2.dilate(d, np.ones((3, 1), np.uint8))
    r = cv2.morphologyEx(d, cv2.MORPH_OPEN, np.ones((1, _LINE_KERNEL), np.uint8))
    near = np.zeros_like(r)
    near[_RIDGE:] = r[:-_RIDGE]
    np.maximum(near[:-_RIDGE], r[_RIDGE:], out=near[:-_RIDGE])
    return _clear_border(cv2.subtract(r, near))


# --- coarse alignment -----------------------------------------------------------------------------------


@dataclass
class _Affine:
    """Coarse pose: template (u, v) -> (a_x u (W - 1) + b_x, a_y v (H - 1) + b_y) in work pixels, then
    rotated by `angle` (radians) about the image centre."""

    angle: float
    ax: float
    bx: float
    ay: float
    by: float

    def matrix(self, w: int, h: int) -> np.ndarray:
        """3x3 map from template (u, v, 1) to work pixels."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        rot = np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]])
        aff = np.array([[self.ax * (w - 1), 0, self.bx], [0, self.ay * (h - 1), self.by], [0, 0, 1]])
        return rot @ aff


_STRIPS = 32
"""Strips a response is cut into for de-skewed projection profiles: each strip's profile is shifted by the
skew at its centre, so a strip's own drift (its width times the skew's tangent) stays under 2 pixels."""


@dataclass(frozen=True)
class _Strips:
    """Profiles of a response cut into strips: `profiles[k]` sums strip k across its width; `centres` are
    the strips' offsets from the image centre across the profile's direction."""

    centres: np.ndarray
    profiles: np.ndarray

    @classmethod
    def of(cls, resp: np.ndarray, along_rows: bool) -> _Strips:
        """Row profiles of vertical strips (`along_rows`), or column profiles of horizontal strips."""
        r = cv2.threshold(resp, _THRESHOLD, 0, cv2.THRESH_TOZERO)[1]
        axis = 1 if along_rows else 0
        n = r.shape[axis]
        edges = np.linspace(0, n, min(_STRIPS, n) + 1).astype(int)
        sums = np.add.reduceat(r, edges[:-1], axis=axis, dtype=np.float32)
        profiles = np.ascontiguousarray(sums.T if along_rows else sums)
        return cls((edges[:-1] + edges[1:] - 1) / 2 - (n - 1) / 2, profiles)

    def deskewed(self, shift_per_px: float) -> np.ndarray:
        """The profile once each strip is moved by `shift_per_px` times its centre offset."""
        n = self.profiles.shape[1]
        idx = np.arange(n)[None, :] + np.round(self.centres * shift_per_px).astype(int)[:, None]
        vals = np.take_along_axis(self.profiles, np.clip(idx, 0, n - 1), axis=1)
        return np.where((idx >= 0) & (idx < n), vals, 0).sum(axis=0)


def _skew(rows: _Strips, cols: _Strips) -> float:
    """The page's residual skew (radians): the angle that makes the rules' projection profiles sharpest.

    A horizontal rule at skew t runs along y = y0 + x tan t, a vertical one along x = x0 - y tan t. Strips
    and profiles are binned by two: sharpness needs no finer, and it quarters the cost of the search."""
    if not rows.profiles.any() and not cols.profiles.any():
        return 0.0

    def half(strips: _Strips) -> _Strips:
        k, n = len(strips.centres) // 2 * 2, strips.profiles.shape[1] // 2 * 2
        binned = strips.profiles[:k, :n].reshape(k // 2, 2, n // 2, 2).sum(axis=(1, 3))
        return _Strips(strips.centres[:k].reshape(-1, 2).mean(axis=1) / 2, binned)

    rows, cols = half(rows), half(cols)

    def sharpness(angle: float) -> float:
        t = math.tan(angle)
        a, b = rows.deskewed(t), cols.deskewed(-t)
        return float(a @ a + b @ b)

    best = 0.0
    for step, reach in ((0.75, 3.0), (0.125, 0.375)):
        angles = best + np.radians(np.arange(-reach, reach + 1e-9, step))
        best = float(angles[int(np.argmax([sharpness(a) for a in angles]))])
    return best


def _smooth(profile: np.ndarray, sigma: float) -> np.ndarray:
    k = np.arange(-int(3 * sigma), int(3 * sigma) + 1)
    kernel = np.exp(-0.5 * (k / sigma) ** 2)
    return np.convolve(profile, kernel / kernel.sum(), mode="same")


def _search_axis(signal: np.ndarray, positions: np.ndarray, weights: np.ndarray, extra: np.ndarray | None,
                 extra_pos: np.ndarray, extra_w: np.ndarray, avoid: float | None = None) -> tuple[float, float]:
    """Best scale a and shift b so that the template's positions p land on the image's peaks at a p n + b.

    `signal` scores positions (a smoothed, normalised profile); `extra` optionally scores a second set of
    positions the same way. Every scale's score over all shifts is one cross-correlation, done for all
    scales at once by FFT; coarse scales first, then finer around the best. Scales within 0.025 of `avoid`
    are left out (a second opinion when the first one fitted badly)."""
    n = signal.size
    size = 1 << math.ceil(math.log2(1.6 * n))  # room for every shift without circular wrap-around
    spec = np.fft.rfft(signal, size)
    spec_extra = np.fft.rfft(extra, size) if extra is not None and extra_pos.size else None
    shifts = np.arange(size)
    shifts = np.where(shifts < size // 2, shifts, shifts - size)
    valid = np.abs(shifts) <= 0.35 * n

    def spikes(scales: np.ndarray, pos: np.ndarray, w: np.ndarray) -> np.ndarray:
        idx = np.clip(np.round(scales[:, None] * pos[None, :] * (n - 1)).astype(int), 0, size - 1)
        flat = (idx + size * np.arange(scales.size)[:, None]).ravel()
        return np.bincount(flat, np.broadcast_to(w, idx.shape).ravel(), scales.size * size).reshape(-1, size)

    def best(scales: np.ndarray) -> tuple[float, float]:
        # score(b) = sum_i w_i signal(a p_i n + b): a cross-correlation per scale.
        cross = spec[None, :] * np.conj(np.fft.rfft(spikes(scales, positions, weights), axis=1))
        if spec_extra is not None:
            cross += spec_extra[None, :] * np.conj(np.fft.rfft(spikes(scales, extra_pos, extra_w), axis=1))
        corr = np.where(valid[None, :], np.fft.irfft(cross, size, axis=1), -np.inf)
        # A preprocessed page sits near scale 1: prefer it when two poses score alike.
        corr -= (0.15 * float(corr.max()) * ((scales - 1.0) / 0.35) ** 2)[:, None]
        i, k = np.unravel_index(int(np.argmax(corr)), corr.shape)
        return float(scales[i]), float(shifts[k])

    scales = np.arange(0.65, 1.1501, 0.01)
    if avoid is not None:
        scales = scales[np.abs(scales - avoid) > 0.025]
    a0, _ = best(scales)
    return best(np.arange(a0 - 0.0075, a0 + 0.0076, 0.0025))


def _coarse(ruling: _Ruling, rules: list[_Rule], avoid_ay: float | None = None) -> _Affine:
    """Skew, then scale and shift along each axis from projection profiles. Rows are placed by the solid
    rules first: a form's dotted leaders are evenly spaced, so on their own they fit as well one line off.
    `avoid_ay` leaves out vertical scales near a pose already tried."""
    w = ruling.h.shape[1]
    row_strips, col_strips = _Strips.of(ruling.h, True), _Strips.of(ruling.v, False)
    angle = _skew(row_strips, col_strips)
    t = math.tan(angle)
    rows, cols = row_strips.deskewed(t), col_strips.deskewed(-t)
    cover = _Strips.of(ruling.h, False).deskewed(-t)  # how much horizontal ruling each column holds
    solid_rows = _Strips.of(ruling.h_solid, True).deskewed(t) if ruling.h is not ruling.h_solid else rows

    def norm(p: np.ndarray) -> np.ndarray:
        peak = float(np.max(np.abs(p))) if p.size else 0.0
        return p / peak if peak > 0 else p

    def length(r: _Rule) -> float:
        return r.weight * (r.hi - r.lo)

    hor = [r for r in rules if r.horizontal]
    ver = [r for r in rules if not r.horizontal]
    ay, by = 1.0, 0.0
    major = [r for r in hor if r.kind == "rule"]
    minor = [r for r in hor if r.kind != "rule"]
    if major and solid_rows.any():
        pos, wts = np.array([r.pos for r in major]), np.array([length(r) for r in major])
        mpos = np.array([r.pos for r in minor]) if minor else np.empty(0)
        mw = np.array([length(r) for r in minor]) if minor else np.empty(0)
        # The leaders count for half as much as the solid rules together, whatever their number.
        mw = mw * 0.5 * wts.sum() / max(mw.sum(), 1e-9)
        ay, by = _search_axis(norm(_smooth(solid_rows, 3.0)), pos, wts, norm(_smooth(rows, 2.0)), mpos, mw, avoid_ay)
    elif hor and rows.any():
        pos, wts = np.array([r.pos for r in hor]), np.array([length(r) for r in hor])
        ay, by = _search_axis(norm(_smooth(rows, 2.0)), pos, wts, None, np.empty(0), np.empty(0), avoid_ay)
    ax, bx = 1.0, 0.0
    if (ver and cols.any()) or (hor and cover.any()):
        pos = np.array([r.pos for r in ver]) if ver else np.zeros(1)
        wts = np.array([length(r) for r in ver]) if ver else np.zeros(1)
        # Where horizontal rules start (+) and end (-): edges of the coverage profile.
        edge = norm(np.gradient(_smooth(cover, 3.0)))
        ends = np.array([e for r in hor for e in (r.lo, r.hi)])
        sign = np.array([s * r.weight for r in hor for s in (1.0, -1.0)])
        ew = 0.5 * (np.sum(wts) / max(1e-9, np.sum(np.abs(sign)))) if wts.any() else 1.0
        signal = norm(_smooth(cols, 2.0)) if cols.any() else np.zeros(w)
        ax, bx = _search_axis(signal, pos, wts, edge, ends, sign * ew)
    return _Affine(angle, ax, bx, ay, by)


# --- closest-rule matching ------------------------------------------------------------------------------


def _project(m: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply a global map (3 x 6: rows x, y and denominator over the basis u, v, 1, u², uv, v²)."""
    basis = (u, v, np.ones_like(u), u * u, u * v, v * v)
    x, y, d = (sum(row[k] * basis[k] for k in range(6) if row[k] != 0) for row in m)
    return x / d, y / d


def _as_map(h: np.ndarray) -> np.ndarray:
    """A 3 x 3 homography as a global map (no quadratic terms)."""
    m = np.zeros((3, 6))
    m[:, :3] = h / h[2, 2]
    return m


def _match(ruling: _Ruling, x: np.ndarray, y: np.ndarray, horizontal: np.ndarray, end: np.ndarray,
           tol: float, solid: bool = False) -> np.ndarray:
    """Offset (work pixels, along each point's search direction) to the nearest detected rule within `tol`;
    NaN where none. Rule points search across their rule; end points search along it for where it ends.
    `solid` matches against solid rules only, so that a frame cannot snap onto a dotted leader."""
    h_resp, v_resp = (ruling.h_solid, ruling.v_solid) if solid else (ruling.h, ruling.v)
    out = np.full(x.size, np.nan)
    t = math.ceil(tol)
    offs = np.arange(-t - 2, t + 3)
    for horiz in (True, False):
        sel = np.nonzero((horizontal == horiz) & (end == 0))[0]
        if sel.size:
            resp, along, across = (h_resp, x[sel], y[sel]) if horiz else (v_resp.T, y[sel], x[sel])
            out[sel] = _nearest_peak(resp, along, across, offs, tol)
        # End points: `horizontal` says the end constrains y, i.e. it is the end of a vertical rule.
        sel = np.nonzero((horizontal == horiz) & (end != 0))[0]
        if sel.size:
            resp, along, across = (v_resp.T, y[sel], x[sel]) if horiz else (h_resp, x[sel], y[sel])
            out[sel] = _rule_end(resp, along, across, end[sel], tol)
    return out


def _nearest_peak(resp: np.ndarray, along: np.ndarray, across: np.ndarray, offs: np.ndarray,
                  tol: float) -> np.ndarray:
    """For rules along the rows of `resp`: the offset across each point to the nearest response peak."""
    h, w = resp.shape
    xi = np.round(along).astype(int)
    base = np.round(across).astype(int)
    inside = (xi >= 0) & (xi < w)
    rows = base[:, None] + offs[None, :]
    vals = resp[np.clip(rows, 0, h - 1), np.clip(xi, 0, w - 1)[:, None]].astype(np.float32)
    vals[(rows < 0) | (rows >= h)] = 0
    vals[~inside] = 0
    core = vals[:, 2:-2]
    peak = (core > _THRESHOLD) & (core >= vals[:, 1:-3]) & (core >= vals[:, 3:-1])
    dist = np.abs(offs[2:-2][None, :] + base[:, None] - across[:, None])
    dist = np.where(peak & (dist <= tol), dist, np.inf)
    k = np.argmin(dist, axis=1)
    found = np.isfinite(dist[np.arange(k.size), k])
    # Sub-pixel: the centroid of the response within two pixels of the peak (a dilated rule is a plateau).
    win = np.take_along_axis(vals, k[:, None] + np.arange(5)[None, :], axis=1)
    centre = (win * np.arange(-2, 3)[None, :]).sum(1) / np.maximum(win.sum(1), 1e-6)
    pos = base + offs[2:-2][k] + centre
    return np.where(found, pos - across, np.nan)


def _rule_end(resp: np.ndarray, along: np.ndarray, across: np.ndarray, end: np.ndarray, tol: float) -> np.ndarray:
    """Offset along the rule from each predicted end to where the detected rule ends; NaN where unclear.

    `resp` runs the rule along its rows; `end` is -1 for a rule's low end (the rule lies at higher
    positions), +1 for its high end. The rule is read in a band of 7 rows around it, gaps of up to 4
    pixels are closed (starved print, a dot pattern), and the end is where the run that holds the rule's
    inside stops."""
    h, w = resp.shape
    t = math.ceil(tol) + 4
    a, c = np.round(along).astype(int), np.round(across).astype(int)
    inside = (a - t >= 0) & (a + t < w) & (c - 3 >= 0) & (c + 3 < h)
    out = np.full(along.size, np.nan)
    if not inside.any():
        return out
    a, c, end = a[inside], c[inside], end[inside]
    cols = a[:, None] + np.arange(-t, t + 1)[None, :]
    band = np.zeros(cols.shape, bool)
    for dr in range(-3, 4):
        band |= resp[(c + dr)[:, None], cols] > _THRESHOLD
    windows = np.lib.stride_tricks.sliding_window_view
    grown = windows(np.pad(band, ((0, 0), (2, 2))), 5, axis=1).any(axis=2)
    closed = windows(np.pad(grown, ((0, 0), (2, 2)), constant_values=True), 5, axis=1).all(axis=2)
    n = closed.shape[1]
    low = end < 0
    # The inside of the rule (beyond the predicted end, 3 pixels in) must be mostly ruling.
    inner = np.where(low[:, None], np.arange(n)[None, :] >= t + 3, np.arange(n)[None, :] <= t - 3)
    ok = ((closed & inner).sum(1) >= 0.5 * inner.sum(1)) & closed[np.arange(len(a)), np.where(low, t + 3, t - 3)]
    # Low end: one past the last gap before the inside; high end: one before the first gap after it.
    gap_before = np.where(~closed & (np.arange(n)[None, :] < t + 3), np.arange(n)[None, :], -1).max(axis=1) + 1
    gap_after = np.where(~closed & (np.arange(n)[None, :] > t - 3), np.arange(n)[None, :], n).min(axis=1) - 1
    edge = np.where(low, gap_before, gap_after)
    offset = a + edge - t - along[inside]
    out[np.nonzero(inside)[0]] = np.where(ok & (np.abs(offset) <= tol), offset, np.nan)
    return out


_MODEL_PARAMS = {"affine": 6, "homography": 8, "quadratic": 14}
"""Leading entries of the parameter vector each model frees: x then y over (u, v, 1), the two
denominator terms, then quadratic terms of x and y over (u², uv, v²)."""


def _solve(u: np.ndarray, v: np.ndarray, target: np.ndarray, horizontal: np.ndarray, weight: np.ndarray,
           current: np.ndarray, model: str, norm: float) -> np.ndarray:
    """Weighted least squares for the map from (u, v) to work pixels, given per-point targets for x (points
    with horizontal False) or y (True). Linearised as in the DLT (multiplied out by the denominator); a
    weak pull toward `current` keeps directions without evidence (no vertical rules found, say) where they
    were. "quadratic" adds u², uv and v² terms to a homography: a sheet's gentle bow or a residual curl."""
    m = current / current[2, 2]
    p0 = np.concatenate([m[0, :3] / norm, m[1, :3] / norm, m[2, :2], m[0, 3:] / norm, m[1, 3:] / norm])
    t = target / norm
    a = np.zeros((u.size, 14))
    quad = np.stack([u * u, u * v, v * v], axis=1)
    for rows, lin, sq in ((~horizontal, 0, 8), (horizontal, 3, 11)):
        a[rows, lin], a[rows, lin + 1], a[rows, lin + 2] = u[rows], v[rows], 1.0
        a[rows, 6], a[rows, 7] = -t[rows] * u[rows], -t[rows] * v[rows]
        a[rows, sq : sq + 3] = quad[rows]
    free = _MODEL_PARAMS[model]
    lhs = a[:, :free]
    rhs = t - a[:, free:] @ p0[free:]
    lam = 1e-4 * max(1.0, float(weight.sum()))
    # Normal equations (at most 14 x 14): far cheaper than an SVD of thousands of rows, well conditioned here.
    weighted = (lhs * weight[:, None]).T
    p = p0.copy()
    p[:free] = np.linalg.solve(weighted @ lhs + lam * np.eye(free), weighted @ rhs + lam * p0[:free])
    return np.array([
        [p[0] * norm, p[1] * norm, p[2] * norm, p[8] * norm, p[9] * norm, p[10] * norm],
        [p[3] * norm, p[4] * norm, p[5] * norm, p[11] * norm, p[12] * norm, p[13] * norm],
        [p[6], p[7], 1.0, 0.0, 0.0, 0.0],
    ])


def _fit(ruling: _Ruling, samples: _Samples, start: np.ndarray) -> np.ndarray:
    """Iterative closest-rule matching from `start`: first the solid rules alone with wide tolerances
    (`_COARSE_STAGE`: they are few and far apart, so a wide search cannot pick the wrong one), then every
    rule, dotted leaders included, with narrow ones (`_FINE_STAGE`)."""
    m = start
    norm = float(max(ruling.h.shape))
    major = samples.major
    stages = [(major, tol, model, True) for tol, model in _COARSE_STAGE] if major.sum() >= 8 else []
    stages += [(np.ones_like(major), tol, model, False) for tol, model in _FINE_STAGE]
    for sel, tol, model, solid in stages:
        u, v, horizontal, end = samples.u[sel], samples.v[sel], samples.horizontal[sel], samples.end[sel]
        x, y = _project(m, u, v)
        d = _match(ruling, x, y, horizontal, end, tol, solid)
        ok = np.isfinite(d)
        if ok.sum() < 8:
            continue
        target = np.where(horizontal, y, x) + np.nan_to_num(d)
        # Tukey weights: a match at the tolerance's edge counts little.
        robust = (1 - (np.nan_to_num(d) / tol) ** 2) ** 2
        fit_model = model if model == "affine" or _spans_both_axes(u[ok], v[ok], horizontal[ok]) else "affine"
        m = _solve(u[ok], v[ok], target[ok], horizontal[ok], (samples.weight[sel] * robust)[ok], m, fit_model, norm)
    return m


def _spans_both_axes(u: np.ndarray, v: np.ndarray, horizontal: np.ndarray) -> bool:
    """Whether the matched points spread over the page enough to fix perspective (else only affine)."""
    def spread(a: np.ndarray) -> float:
        return float(np.ptp(a)) if a.size else 0.0

    h, x = horizontal, ~horizontal
    return min(spread(u[h]), spread(v[h]), spread(u[x]), spread(v[x])) > 0.3


# --- local refinement -----------------------------------------------------------------------------------


def _local_field(ruling: _Ruling, samples: _Samples, rules: list[_Rule], m: np.ndarray) -> _PageMap:
    """The global fit plus a displacement field on a `_GRID` x `_GRID` lattice over template (u, v), built in
    `_LOCAL_PASSES`: each pass measures every rule's offsets from the map so far, smooths them along the
    rule (a wide running median first, for the slow bends a global map cannot follow, such as a spread's
    gutter; a narrow one last, for small local bends), and interpolates them between neighbouring rules.
    A rule too broken to follow keeps offset 0 there, i.e. the map so far."""
    on_rule = samples.end == 0
    u, v, horizontal = samples.u[on_rule], samples.v[on_rule], samples.horizontal[on_rule]
    ids, end = samples.rule[on_rule], samples.end[on_rule]
    grid = np.linspace(0.0, 1.0, _GRID)
    page_map = _PageMap(m, np.zeros((_GRID, _GRID)), np.zeros((_GRID, _GRID)))
    for tol, half_window in _LOCAL_PASSES:
        x, y = page_map(u, v)
        d = _match(ruling, x, y, horizontal, end, tol)
        fields = {True: page_map.dy.copy(), False: page_map.dx.copy()}  # [v index, u index]
        for horiz, field in fields.items():
            order = sorted((i for i, r in enumerate(rules) if r.horizontal == horiz), key=lambda i: rules[i].pos)
            if not order:
                continue
            pos = np.array([rules[i].pos for i in order])
            offsets = np.zeros((len(order), _GRID))
            cover = np.zeros((len(order), _GRID), bool)
            for k, i in enumerate(order):
                rule, sel = rules[i], ids == i
                smoothed = _smooth_offsets(u[sel] if horiz else v[sel], d[sel], half_window)
                if smoothed is not None:
                    offsets[k] = np.interp(grid, *smoothed)
                cover[k] = (grid >= rule.lo - 0.02) & (grid <= rule.hi + 0.02)
            for j in range(_GRID):
                # The rules crossing grid line j, with their offsets where they cross it, interpolated across.
                sel = cover[:, j]
                if not sel.any():
                    continue
                line = np.interp(grid, pos[sel], offsets[sel, j])
                if horiz:
                    field[:, j] += line
                else:
                    field[j, :] += line
        page_map = _PageMap(m, fields[False], fields[True])
    return page_map


def _smooth_offsets(along: np.ndarray, d: np.ndarray, half_window: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A rule's offsets along it, a running median over its matched points; None if too few matched."""
    ok = np.isfinite(d)
    if ok.sum() < max(3, 0.3 * d.size):
        return None
    a, o = along[ok], d[ok]
    k = min(half_window, (o.size - 1) // 2)
    padded = np.pad(o, k, mode="edge")
    return a, np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * k + 1), axis=1)


@dataclass(frozen=True)
class _PageMap:
    """Template (u, v) to work pixels: the global map plus the local displacement field."""

    m: np.ndarray
    dx: np.ndarray
    dy: np.ndarray

    def __call__(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = _project(self.m, u, v)
        n = self.dx.shape[0] - 1
        gu, gv = np.clip(u * n, 0, n), np.clip(v * n, 0, n)
        i0 = np.clip(np.floor(gv).astype(int), 0, n - 1)
        j0 = np.clip(np.floor(gu).astype(int), 0, n - 1)
        fv, fu = gv - i0, gu - j0

        def bilinear(f: np.ndarray) -> np.ndarray:
            return ((f[i0, j0] * (1 - fu) + f[i0, j0 + 1] * fu) * (1 - fv)
                    + (f[i0 + 1, j0] * (1 - fu) + f[i0 + 1, j0 + 1] * fu) * fv)

        return x + bilinear(self.dx), y + bilinear(self.dy)


def _field_corners(template: Template) -> tuple[np.ndarray, np.ndarray]:
    """u and v of every field's four corners (TL, TR, BR, BL) in every record block: (records, fields, 4)."""
    boxes = np.array([[template.field_page_box(spec, i) for spec in template.fields]
                      for i in range(template.layout.records_per_page)]).reshape(
        template.layout.records_per_page, len(template.fields), 4)
    x0, y0, x1, y1 = (boxes[..., k] for k in range(4))
    return np.stack([x0, x1, x1, x0], axis=-1), np.stack([y0, y0, y1, y1], axis=-1)


# --- quality and filled records -------------------------------------------------------------------------


def _quality(ruling: _Ruling, samples: _Samples, rules: list[_Rule], m: np.ndarray, scale: float
             ) -> tuple[float, dict[str, float]]:
    """Residual (image pixels) and match figures of the global fit, guide rules (optional) left out."""
    sel = (samples.end == 0) & ~samples.optional
    tol = _EVAL_TOL * max(ruling.h.shape)
    x, y = _project(m, samples.u[sel], samples.v[sel])
    d = _match(ruling, x, y, samples.horizontal[sel], samples.end[sel], tol)
    ok = np.isfinite(d)
    residual = float(np.mean(np.abs(d[ok]))) if ok.any() else tol
    ids = samples.rule[sel]
    counted = [i for i, r in enumerate(rules) if r.kind != "guide"]
    matched = sum(1 for i in counted if np.mean(ok[ids == i]) >= 0.3)
    w = samples.weight[sel]
    share = float((w * ok).sum() / w.sum()) if w.sum() > 0 else 0.0
    return residual / scale, {
        "rules_expected": float(len(counted)),
        "rules_matched": float(matched),
        "match_share": round(share, 4),
    }


def _filled_records(ruling: _Ruling, corners: tuple[np.ndarray, np.ndarray], page_map: _PageMap
                    ) -> tuple[int, np.ndarray]:
    """How many blocks, from the top, hold writing, and each block's ink density: dark pixels inside its
    field cells once the ruling (and the dotted leaders) are taken out. Blocks are filled top to bottom, so
    the last block with writing ends the run."""
    lines = cv2.dilate(np.maximum(ruling.h, ruling.v), np.ones((5, 5), np.uint8)) > _THRESHOLD
    ink = ((ruling.dark > _INK_THRESHOLD) & ~lines).astype(np.uint8)
    integral = cv2.integral(ink)
    h, w = ink.shape
    xs, ys = page_map(*corners)
    # The cell's inner part, away from the rules around it.
    bx0, bx1 = np.maximum(xs[..., 0], xs[..., 3]), np.minimum(xs[..., 1], xs[..., 2])
    by0, by1 = np.maximum(ys[..., 0], ys[..., 1]), np.minimum(ys[..., 2], ys[..., 3])
    mx, my = 0.06 * (bx1 - bx0), 0.1 * (by1 - by0)
    c0, c1 = (np.clip(bx0 + mx, 0, w).astype(int), np.clip(bx1 - mx, 0, w).astype(int))
    r0, r1 = (np.clip(by0 + my, 0, h).astype(int), np.clip(by1 - my, 0, h).astype(int))
    c1, r1 = np.maximum(c1, c0), np.maximum(r1, r0)
    count = (integral[r1, c1] - integral[r0, c1] - integral[r1, c0] + integral[r0, c0]).sum(axis=1)
    area = ((c1 - c0) * (r1 - r0)).sum(axis=1)
    densities = count / np.maximum(area, 1)
    return _count_filled(densities), densities


def _count_filled(densities: np.ndarray) -> int:
    """How many blocks from the top are filled, from each block's ink density.

    Blocks fill top to bottom, so the answer is where the densities drop: the split at which the least
    inked block above holds at least `_FILLED_RATIO` times the ink of the most inked block below (the
    clearest such split). Show-through from the back page and stains leave some ink in empty blocks; among
    written blocks ink varies by less than that ratio. Without a split that clear every block is filled,
    unless even the densest block holds less than `_INK_FLOOR` (a blank page)."""
    if densities.size == 0 or float(densities.max()) < _INK_FLOOR:
        return 0
    d = np.maximum(densities, 1e-4)
    ratios = [float(d[:k].min() / d[k:].max()) for k in range(1, d.size)]
    if ratios and max(ratios) >= _FILLED_RATIO:
        return int(np.argmax(ratios)) + 1
    return d.size


# --- public API -----------------------------------------------------------------------------------------


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"image must be HxW or HxWx3 (BGR), got shape {image.shape}")
    if min(image.shape[:2]) < 64:
        raise ValueError(f"image {image.shape[1]}x{image.shape[0]} is too small to hold a page")


def register_page(image: np.ndarray, template: Template, ruling_model: RulingDetector | None = None) -> Registration:
    """Align `template` to an upright, roughly deskewed page `image` (BGR or grey uint8) and return every
    field's polygon for every filled record.

    With `ruling_model` (a `RulingDetector`, loaded once and passed for every page) the ruling is found by
    the learned detector instead of the morphology: better on faded, broken and stained ruling, for ~20 ms
    more per page on 2 cores. Without it, the classical morphology alone.

    Raises ValueError for an image that cannot be a page. A page that does not fit the template is not an
    error: it comes back with a low `details["match_share"]` and a high `residual_px`.
    """
    _check_image(image)
    if not isinstance(template, Template):
        raise ValueError(f"template must be a Template, got {type(template).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    gray, scale = _work_gray(image)
    h, w = gray.shape
    form = template.layout.style == "form"
    ruling = _ruling(gray, close_gaps=form, model=ruling_model)
    rules = _expected_rules(template)
    samples = _sample(rules, _SAMPLE_STEP / w, _SAMPLE_STEP / h)
    coarse = _coarse(ruling, rules)
    m = _fit(ruling, samples, _as_map(coarse.matrix(w, h)))
    residual, quality = _quality(ruling, samples, rules, m, scale)
    method = ("learned " if ruling_model is not None else "") + "ruling+closest-rule+local"
    if residual * scale > _RETRY_RESIDUAL:
        # A badly bent page can make the profiles prefer a pose one rule off over most of its height: try the
        # best pose at another vertical scale, and keep whichever fits the ruling better.
        second = _coarse(ruling, rules, avoid_ay=coarse.ay)
        m2 = _fit(ruling, samples, _as_map(second.matrix(w, h)))
        residual2, quality2 = _quality(ruling, samples, rules, m2, scale)
        if residual2 < residual and quality2["match_share"] >= quality["match_share"] - 0.02:
            coarse, m, residual, quality = second, m2, residual2, quality2
            method += ", second pose"
    page_map = _local_field(ruling, samples, rules, m)
    corners = _field_corners(template)
    filled, densities = _filled_records(ruling, corners, page_map)
    xs, ys = page_map(corners[0][:filled], corners[1][:filled])
    quads = np.stack([(xs + 0.5) / scale - 0.5, (ys + 0.5) / scale - 0.5], axis=-1).astype(np.float32)
    regions = tuple(
        FieldRegion(i, spec.key, quads[i, k]) for i in range(filled) for k, spec in enumerate(template.fields)
    )
    details: dict[str, float | str] = {
        "method": method,
        "skew_deg": round(math.degrees(coarse.angle), 3),
        "scale_x": round(coarse.ax, 4),
        "scale_y": round(coarse.ay, 4),
        **quality,
        "block_ink": " ".join(f"{d:.4f}" for d in densities),
    }
    return Registration(template.id, filled, regions, round(residual, 3), details)


def crop_field(image: np.ndarray, polygon: np.ndarray, pad: float = 0.08) -> np.ndarray:
    """The quad `polygon` (4 x, y corners clockwise from top-left) cut out of `image` and rectified
    upright, with `pad` of its height added on every side so that ascenders and diacritics that cross the
    cell's rules are kept; the recogniser sees what a clerk wrote, not where the cell ends."""
    _check_image(image)
    quad = np.asarray(polygon, np.float64)
    if quad.shape != (4, 2) or not np.all(np.isfinite(quad)):
        raise ValueError(f"polygon must be 4 finite x, y corners, got shape {quad.shape}")
    if not math.isfinite(pad) or pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    tl, tr, br, bl = quad
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    d1, d2 = br - tl, bl - tr
    area = 0.5 * abs(float(d1[0] * d2[1] - d1[1] * d2[0]))
    if width < 1 or height < 1 or area < 1:
        raise ValueError(f"polygon {quad.tolist()} is degenerate")
    p = pad * height
    out_w, out_h = max(1, round(width + 2 * p)), max(1, round(height + 2 * p))
    dst = np.array([[p, p], [p + width, p], [p + width, p + height], [p, p + height]], np.float32)
    transform = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(image, transform, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
