"""Draws a clean page: the blank book (printed matter and ruling) and the handwriting in its cells.

Output is the page before any ageing, the handwriting's ink mask, and where each field was written.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from hotich.datasets.fonts import load_printed
from hotich.datasets.synth.handwriting import INKS, WriterStyle, render_text, strike_through, writer_font
from hotich.templates import Checkbox, FieldSpec, Printed, Template

PRINT_INK = (30, 30, 32)
PAPER = (250, 249, 246)
CHECKBOX_SIZE = 0.0068
"""Cap height of checkbox labels, and side of their squares, as a share of the page height."""
RULING_CLASSES = ("rule_h", "rule_v", "leader")
"""Channels of a page's ruling mask: solid horizontal rules, solid vertical rules, dotted leaders."""


@dataclass(frozen=True)
class FieldText:
    key: str
    text: str
    struck: str | None = None


@dataclass(frozen=True)
class RecordInk:
    """What one writer put into one record block."""

    writer: WriterStyle
    fields: dict[str, FieldText]
    tick: str | None = None


@dataclass(frozen=True)
class WrittenLine:
    box: tuple[int, int, int, int]
    """The band of the cell this line was written in, in pixels (x0, y0, x1, y1)."""
    text: str


@dataclass(frozen=True)
class PlacedField:
    record: int
    key: str
    box: tuple[int, int, int, int]
    """The field's cell in pixels (x0, y0, x1, y1)."""
    text: str
    struck: str | None
    lines: list[WrittenLine]


@dataclass(frozen=True)
class RenderedPage:
    image: np.ndarray
    ink: np.ndarray
    fields: list[PlacedField]
    ruling: np.ndarray
    """(3, H, W) uint8, 255 on each printed rule (`RULING_CLASSES`), drawn whole: the truth a ruling
    detector learns, which bridges the gaps the press left."""


def page_size(template: Template, long_side: int) -> tuple[int, int]:
    w_mm, h_mm = template.layout.paper_mm
    scale = long_side / max(w_mm, h_mm)
    return round(w_mm * scale), round(h_mm * scale)


def render_page(template: Template, records: list[RecordInk], page_number: int, long_side: int,
                rng: np.random.Generator) -> RenderedPage:
    """Render the page with `records` filling the first record blocks, top to bottom."""
    w, h = page_size(template, long_side)
    canvas = Image.new("RGB", (w, h), PAPER)
    _draw_printed(canvas, template, page_number)
    image = np.array(canvas)
    ruling = np.zeros((len(RULING_CLASSES), h, w), np.uint8)
    _draw_ruling(image, ruling, template, rng)
    _mark_leaders(ruling, template)
    ink = np.zeros((h, w), np.uint8)
    placed: list[PlacedField] = []
    for index, record in enumerate(records):
        for spec in template.fields:
            box = _pixel_box(template.field_page_box(spec, index), w, h)
            field = record.fields.get(spec.key, FieldText(spec.key, ""))
            lines = (
                _write_field(image, ink, box, template.field_lines(spec), field, record.writer, rng)
                if field.text
                else []
            )
            placed.append(PlacedField(index, spec.key, box, field.text, field.struck, lines))
        if record.tick is not None:
            _tick(image, ink, template, index, record, rng)
    return RenderedPage(image=image, ink=ink, fields=placed, ruling=ruling)


def _pixel_box(box: tuple[float, float, float, float], w: int, h: int) -> tuple[int, int, int, int]:
    return round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)


# --- the blank book -------------------------------------------------------------------------------------


def _draw_printed(canvas: Image.Image, template: Template, page_number: int) -> None:
    draw = ImageDraw.Draw(canvas)
    w, h = canvas.size
    for item in template.printed:
        _print(draw, item, (0.0, 0.0, 1.0, 1.0), w, h, page=page_number)
    for index in range(template.layout.records_per_page):
        block = template.record_box(index)
        for item in template.record_printed:
            _print(draw, item, block, w, h, page=page_number)
        for spec in template.fields:
            if spec.prompt:
                _print_prompt(draw, template, spec, index, w, h)
        for box in template.checkboxes:
            _print_checkbox(draw, box, block, w, h)
    if template.layout.style == "table" and template.layout.header_area is not None:
        _print_column_titles(draw, template, w, h)


def _print(draw: ImageDraw.ImageDraw, item: Printed, frame: tuple[float, float, float, float], w: int, h: int,
           page: int) -> None:
    fx0, fy0, fx1, fy1 = frame
    x = (fx0 + item.at[0] * (fx1 - fx0)) * w
    y = (fy0 + item.at[1] * (fy1 - fy0)) * h
    font = load_printed("bold" if item.bold else "regular", max(8, round(item.size * h * 1.4)))
    anchor = {"left": "ls", "center": "ms", "right": "rs"}[item.align]
    draw.text((x, y), item.text.format(page=page), font=font, fill=PRINT_INK, anchor=anchor)


def _checkbox_square(box: Checkbox, block: tuple[float, float, float, float], w: int, h: int) -> tuple[float, ...]:
    """The printed square of a checkbox, in pixels: its right edge at the anchor, sitting on the baseline."""
    side = h * CHECKBOX_SIZE * 1.1
    x1 = (block[0] + box.at[0] * (block[2] - block[0])) * w
    y1 = (block[1] + box.at[1] * (block[3] - block[1])) * h
    return x1 - side, y1 - side, x1, y1


def _print_checkbox(draw: ImageDraw.ImageDraw, box: Checkbox, block: tuple[float, float, float, float], w: int,
                    h: int) -> None:
    x0, y0, x1, y1 = _checkbox_square(box, block, w, h)
    draw.rectangle((x0, y0, x1, y1), outline=PRINT_INK, width=max(1, round(h / 1000)))
    font = load_printed("regular", max(8, round(h * CHECKBOX_SIZE * 1.4)))
    draw.text((x0 - h * CHECKBOX_SIZE * 0.6, y1), box.label, font=font, fill=PRINT_INK, anchor="rs")


def _print_prompt(draw: ImageDraw.ImageDraw, template: Template, spec: FieldSpec, index: int, w: int,
                  h: int) -> None:
    """The label before a form's writing space, then a dotted leader on each line the writer writes on."""
    x0, _, x1, _ = _pixel_box(template.field_page_box(spec, index), w, h)
    size, dot_w, bases = _leaders(template, spec, index, w, h)
    font = load_printed("regular", size)
    for n, base in enumerate(bases):
        if n == 0:
            draw.text((x0 - size * 0.3, base), spec.prompt, font=font, fill=PRINT_INK, anchor="rs")
        for x in range(x0, x1, max(3, size // 3)):
            draw.rectangle((x, base - dot_w + 1, x + dot_w - 1, base), fill=PRINT_INK)


def _leaders(template: Template, spec: FieldSpec, index: int, w: int, h: int) -> tuple[int, int, list[int]]:
    """A form field's prompt size, the side of its leader dots, and the pixel row each leader's dots end on."""
    _, y0, _, y1 = _pixel_box(template.field_page_box(spec, index), w, h)
    line_h = (y1 - y0) / template.field_lines(spec)
    size = max(8, round(min(line_h * 0.42, h * 0.0125)))
    return size, max(1, size // 9), [round(y0 + (n + 1) * line_h - max(2, line_h / 6))
                                     for n in range(template.field_lines(spec))]


def _mark_leaders(ruling: np.ndarray, template: Template) -> None:
    """Every dotted leader, as one solid line in the leader channel of `ruling`."""
    h, w = ruling.shape[1:]
    for index in range(template.layout.records_per_page):
        for spec in template.fields:
            if not spec.prompt:
                continue
            x0, _, x1, _ = _pixel_box(template.field_page_box(spec, index), w, h)
            _, dot_w, bases = _leaders(template, spec, index, w, h)
            for base in bases:
                ruling[2, base - dot_w + 1 : base + 1, x0:x1] = 255


def _print_column_titles(draw: ImageDraw.ImageDraw, template: Template, w: int, h: int) -> None:
    assert template.layout.header_area is not None
    _, ay0, _, ay1 = template.layout.header_area
    rx0, _, rx1, _ = template.layout.record_area
    top, bottom = ay0 * h, ay1 * h
    size = max(8, round(h * 0.0105))
    font = load_printed("condensed", size)
    for number, col in enumerate(template.columns, start=1):
        cx0 = (rx0 + col.x0 * (rx1 - rx0)) * w
        cx1 = (rx0 + col.x1 * (rx1 - rx0)) * w
        lines = _wrap(draw, col.title, font, max(cx1 - cx0 - size * 0.6, size))
        line_h = size * 1.25
        y = top + (bottom - top - line_h * (len(lines) + 1)) / 2 + line_h
        for line in lines:
            draw.text(((cx0 + cx1) / 2, y), line, font=font, fill=PRINT_INK, anchor="ms")
            y += line_h
        draw.text(((cx0 + cx1) / 2, bottom - size * 0.4), f"({number})", font=font, fill=PRINT_INK, anchor="ms")


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _draw_ruling(image: np.ndarray, ruling: np.ndarray, template: Template, rng: np.random.Generator) -> None:
    """Printed rules, each of uneven weight and with the odd gap where the press starved of ink; each is also
    marked whole in `ruling`'s horizontal or vertical channel."""
    h, w = image.shape[:2]
    layout = template.layout
    weight = max(1, round(h / 900))
    if layout.ruling == "none":
        return
    light = layout.ruling == "light"
    segments: list[tuple[tuple[float, float, float, float], int]] = []
    if layout.style == "table":
        rx0, ry0, rx1, ry1 = layout.record_area
        top = layout.header_area[1] if layout.header_area is not None else ry0
        xs = sorted({rx0 + c.x0 * (rx1 - rx0) for c in template.columns} | {rx1})
        for x in xs:
            segments.append(((x, top, x, ry1), weight))
        segments.append(((rx0, top, rx1, top), weight + 1))
        segments.append(((rx0, ry1, rx1, ry1), weight + 1))
        if layout.header_area is not None:
            segments.append(((rx0, ry0, rx1, ry0), weight + 1))
        guide_rows = not light and rng.random() < 0.5
        for index in range(layout.records_per_page):
            bx0, by0, bx1, by1 = template.record_box(index)
            segments.append(((bx0, by1, bx1, by1), weight))
            if guide_rows:
                for r in range(1, layout.rows_per_record):
                    y = by0 + r * (by1 - by0) / layout.rows_per_record
                    segments.append(((bx0, y, bx1, y), 0))
    for line in template.lines:
        segments.append((line, weight))
    for index in range(layout.records_per_page):
        bx0, by0, bx1, by1 = template.record_box(index)
        for x0, y0, x1, y1 in template.record_lines:
            box = (bx0 + x0 * (bx1 - bx0), by0 + y0 * (by1 - by0), bx0 + x1 * (bx1 - bx0), by0 + y1 * (by1 - by0))
            segments.append((box, weight))
    for (x0, y0, x1, y1), thickness in segments:
        p0, p1 = (x0 * w, y0 * h), (x1 * w, y1 * h)
        _rule(image, p0, p1, thickness, light, rng)
        vertical = abs(p1[1] - p0[1]) > abs(p1[0] - p0[0])
        cv2.line(ruling[int(vertical)], (round(p0[0]), round(p0[1])), (round(p1[0]), round(p1[1])), 255,
                 max(1, thickness))


def _rule(image: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], thickness: int, light: bool,
          rng: np.random.Generator) -> None:
    """One printed rule: a weight of its own, ink that thins and thickens along it, the odd gap."""
    length = float(np.hypot(p1[0] - p0[0], p1[1] - p0[1]))
    if length < 1:
        return
    base = float(rng.normal(165 if light else 70, 15))
    if thickness == 0:
        base, thickness = min(235.0, base + 110), 1
    else:
        thickness = max(1, thickness + int(rng.choice([-1, 0, 0, 1])))
    t = 0.0
    while t < length:
        seg = float(rng.uniform(30, 200))
        a, b = t / length, min(t + seg, length) / length
        t += seg
        if rng.random() < 0.05:
            # The press starved of ink for a few pixels.
            a = min(b, a + float(rng.uniform(6, 24)) / length)
        shade = int(np.clip(base + rng.normal(0, 18), 15, 235))
        q0 = (round(p0[0] + a * (p1[0] - p0[0])), round(p0[1] + a * (p1[1] - p0[1])))
        q1 = (round(p0[0] + b * (p1[0] - p0[0])), round(p0[1] + b * (p1[1] - p0[1])))
        cv2.line(image, q0, q1, (shade, shade, shade + 2), thickness, lineType=cv2.LINE_AA)


# --- the handwriting ------------------------------------------------------------------------------------


def _write_field(image: np.ndarray, ink: np.ndarray, box: tuple[int, int, int, int], n_lines: int,
                 field: FieldText, writer: WriterStyle, rng: np.random.Generator) -> list[WrittenLine]:
    """Write the field into its cell, wrapping onto the cell's lines as a clerk would."""
    x0, y0, x1, y1 = box
    line_h = (y1 - y0) / n_lines
    margin = max(2, round(line_h * 0.08))
    inner_w, inner_h = x1 - x0 - 2 * margin, round(line_h) - 2 * margin
    if inner_w < 8 or inner_h < 6:
        return []
    ink_height = max(6, round(min(writer.size * line_h, inner_h * 0.95)))
    pieces = _wrap_words(field.text, writer, ink_height, inner_w, n_lines)
    written: list[WrittenLine] = []
    for i, piece in enumerate(pieces):
        mask = render_text(piece, writer, ink_height, rng)
        if i == 0 and field.struck:
            wrong = strike_through(render_text(field.struck, writer, ink_height, rng), writer, rng)
            mask = _side_by_side(wrong, mask, gap=ink_height // 2)
        mask = _fit(mask, inner_w, inner_h)
        mh, mw = mask.shape
        slack_x, slack_y = inner_w - mw, inner_h - mh
        top = y0 + round(i * line_h)
        x = x0 + margin + round(rng.uniform(0, slack_x * _indent_share(mw, inner_w, i, len(pieces))))
        y = top + margin + inner_h - mh - round(rng.uniform(0, slack_y * 0.6))
        _composite(image, ink, mask, x, y, writer, rng)
        written.append(WrittenLine((x0, top, x1, y0 + round((i + 1) * line_h)), piece))
    return written


def _indent_share(width: int, room: int, line: int, lines: int) -> float:
    """How much of the free room a clerk may leave before the writing: short entries float anywhere,
    a first line starts near the left, continuation lines start at the left."""
    if lines == 1 and width < room * 0.3:
        return 1.0
    return 0.25 if line == 0 else 0.05


def _wrap_words(text: str, writer: WriterStyle, ink_height: int, width: int, n_lines: int) -> list[str]:
    """Break `text` into at most `n_lines` lines, each about as wide as the cell allows."""
    words = text.split()
    if n_lines == 1 or len(words) <= 1:
        return [text]
    font = writer_font(writer, ink_height)
    total = font.getlength(text)
    # Squeezing a little beats starting a line; a clerk wraps only when it would not fit.
    needed = min(n_lines, max(1, int(np.ceil(total / (width * 1.15)))))
    if needed == 1:
        return [text]
    target = total / needed
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > target * 1.08 and len(lines) < needed - 1:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def _side_by_side(left: np.ndarray, right: np.ndarray, gap: int) -> np.ndarray:
    h = max(left.shape[0], right.shape[0])
    out = np.zeros((h, left.shape[1] + gap + right.shape[1]), np.uint8)
    out[h - left.shape[0] :, : left.shape[1]] = left
    out[h - right.shape[0] :, left.shape[1] + gap :] = right
    return out


def _fit(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """Shrink to the cell. Writers squeeze letters sideways before they write smaller."""
    mh, mw = mask.shape
    sx = min(1.0, width / mw)
    sy = min(1.0, height / mh, sx / 0.75)
    sx = min(sx, sy / 0.75) if sy < 1.0 else sx
    if sx >= 1.0 and sy >= 1.0:
        return mask
    size = (max(1, min(width, int(mw * sx))), max(1, min(height, int(mh * sy))))
    return cv2.resize(mask, size, interpolation=cv2.INTER_AREA)


def _composite(image: np.ndarray, ink: np.ndarray, mask: np.ndarray, x: int, y: int, writer: WriterStyle,
               rng: np.random.Generator) -> None:
    mh, mw = mask.shape
    h, w = ink.shape
    if x < 0 or y < 0 or x + mw > w or y + mh > h:
        return
    # Pen pressure varies along the line: a smooth random profile dims or darkens stretches of it.
    knots = rng.uniform(0.75, 1.0, size=max(2, mw // 40 + 2))
    pressure = np.interp(np.linspace(0, len(knots) - 1, mw), np.arange(len(knots)), knots)
    alpha = mask.astype(np.float32) / 255.0 * (writer.opacity * pressure)[None, :].astype(np.float32)
    colour = np.array(INKS[writer.ink], np.float32)
    roi = image[y : y + mh, x : x + mw].astype(np.float32)
    roi = roi * (1.0 - alpha[..., None]) + colour * alpha[..., None]
    image[y : y + mh, x : x + mw] = roi.astype(np.uint8)
    ink_roi = ink[y : y + mh, x : x + mw]
    np.maximum(ink_roi, (alpha * 255).astype(np.uint8), out=ink_roi)


def _tick(image: np.ndarray, ink: np.ndarray, template: Template, index: int, record: RecordInk,
          rng: np.random.Generator) -> None:
    """Tick the printed box whose value the record carries, with the record's pen."""
    box = next((b for b in template.checkboxes if b.value == record.tick), None)
    if box is None:
        return
    h, w = ink.shape
    x0, y0, x1, y1 = _checkbox_square(box, template.record_box(index), w, h)
    s = (x1 - x0) * rng.uniform(0.5, 0.75)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    pts = np.array([[cx - s, cy], [cx - s * 0.2, cy + s * 0.8], [cx + s * 1.3, cy - s * 1.3]], np.float32)
    pts += rng.normal(0, s * 0.08, pts.shape).astype(np.float32)
    left, top = (np.floor(pts.min(axis=0)) - 3).astype(int)
    right, bottom = (np.ceil(pts.max(axis=0)) + 3).astype(int)
    mask = np.zeros((bottom - top, right - left), np.uint8)
    thickness = max(1, round(h / 700) + max(0, record.writer.pen))
    cv2.polylines(mask, [np.round(pts - [left, top]).astype(np.int32)], False, 255, thickness, lineType=cv2.LINE_AA)
    _composite(image, ink, mask, int(left), int(top), record.writer, rng)
