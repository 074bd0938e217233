"""One synthetic ledger page, from a seed to its files: aged image, clean image, JSON truth, PAGE XML.

A page is a page of one commune's book for one year: its registrations follow each other in number and
date, written by one clerk or by several, then the paper ages and the page is scanned or photographed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from hotich.datasets.fonts import FontSplit, handwriting_fonts
from hotich.datasets.synth.ageing import PointMap, age_page, sample_params, warp_masks
from hotich.datasets.synth.content import (
    Registration,
    WritingHabits,
    expected_registrations,
    format_value,
    normalise_value,
    sample_book,
    sample_habits,
    sample_registrations,
)
from hotich.datasets.synth.handwriting import sample_writer
from hotich.datasets.synth.render import FieldText, PlacedField, RecordInk, render_page
from hotich.page import BBox, FieldResult, ImageInfo, PageResult, RecordResult, TextLineResult
from hotich.pagexml import to_page_xml
from hotich.templates import Template, get_template, list_templates

Ageing = Literal["none", "light", "medium", "strong", "mixed"]
AGEING_STRENGTH: dict[str, float] = {"none": 0.0, "light": 0.25, "medium": 0.55, "strong": 1.0}
AGEING_BINS = (("none", 0.05), ("light", 0.4), ("medium", 0.75), ("strong", math.inf))
"""Ageing strength -> report bin: the first whose upper bound exceeds it (`--ageing strong` is 1.0)."""
# Fixed so that the same seed writes the same bytes; the real creation time would break that.
CREATED = dt.datetime(2026, 1, 1)
PARTLY_FILLED_SHARE = 0.12
"""Share of pages that are the last written page of a book, with blocks left empty below the last record."""


def ageing_bin(strength: float) -> str:
    """The report bin (none, light, medium, strong) of a page's ageing strength (its truth's provenance)."""
    return next(name for name, upper in AGEING_BINS if strength < upper)


@dataclass(frozen=True)
class SynthOptions:
    fonts: FontSplit = "train"
    ageing: Ageing = "mixed"
    template: str | None = None
    long_side: int = 2000


@dataclass(frozen=True)
class SyntheticPage:
    truth: PageResult
    image: np.ndarray
    """The aged page, RGB."""
    clean: np.ndarray
    """The same page before ageing, RGB; field geometry in `truth` refers to `image`, not to this."""
    ink: np.ndarray
    """Where the handwriting is on the clean page (0..255)."""
    ruling: np.ndarray | None = None
    """With `generate_page(..., with_ruling=True)`: (3, H, W) uint8 masks of the printed ruling on the aged
    image, one channel per `render.RULING_CLASSES`, each rule drawn whole (gaps and fading bridged)."""


def page_id(seed: int, index: int) -> str:
    return f"synth-{seed}-{index:06d}"


def generate_page(seed: int, index: int, options: SynthOptions, with_ruling: bool = False) -> SyntheticPage:
    """The `index`-th page of the run seeded `seed`; independent of every other page. `with_ruling` adds the
    ruling masks (the same page either way)."""
    rng = np.random.default_rng([seed, index])
    templates = list_templates()
    # Without a chosen template, pages cycle through all of them: every book type and era equally often.
    template = get_template(options.template) if options.template else templates[index % len(templates)]
    year = int(rng.integers(template.valid.start.year, template.valid.end.year + 1))
    book = sample_book(template.book_type, template.era, year, rng)
    per_page = template.layout.records_per_page
    total = expected_registrations(book)
    pages_in_book = -(-total // per_page)
    page_number = int(rng.integers(1, pages_in_book + 1))
    first_number = (page_number - 1) * per_page + 1
    filled = min(per_page, total - first_number + 1)
    if filled == per_page and per_page > 1 and rng.random() < PARTLY_FILLED_SHARE:
        filled = int(rng.integers(1, per_page))
    registrations = sample_registrations(book, first_number, page_number, filled, rng)

    fonts = handwriting_fonts(options.fonts)
    one_clerk = rng.random() < 0.5
    clerk = (sample_writer(fonts, rng), sample_habits(template.era, rng))
    inks: list[RecordInk] = []
    values: list[dict[str, str | None]] = []
    for reg in registrations:
        writer, habits = clerk if one_clerk else (sample_writer(fonts, rng), sample_habits(template.era, rng))
        texts, normalised = _fill(template, reg, habits, rng)
        tick = reg.values.get(template.checkbox_source) if template.checkbox_source else None
        inks.append(RecordInk(writer=writer, fields=texts, tick=str(tick) if tick is not None else None))
        values.append(normalised)

    rendered = render_page(template, inks, page_number, options.long_side, rng)
    strength = AGEING_STRENGTH.get(options.ageing)
    if strength is None:
        strength = float(rng.uniform(0.0, 1.0))
    params = sample_params(strength, rng)
    aged, to_aged = age_page(rendered.image, rendered.ink, params, seed=int(rng.integers(2**31 - 1)))

    pid = page_id(seed, index)
    h, w = aged.shape[:2]
    records = [
        _record(template, i, rendered.fields, values[i], to_aged, rendered.image.shape[:2], (w, h))
        for i in range(len(registrations))
    ]
    truth = PageResult(
        page_id=pid,
        image=ImageInfo(filename=f"{pid}.png", width=w, height=h),
        template_id=template.id,
        book_type=template.book_type,
        era=template.era,
        records=records,
        provenance={
            "generator": "hotich synth pages",
            "seed": seed,
            "index": index,
            "options": dataclasses.asdict(options),
            "writers": sorted({ink.writer.font for ink in inks}),
            "book": {"year": book.year, "office": book.office_name, "volume": book.volume, "page": page_number},
            "ageing": dataclasses.asdict(params),
        },
    )
    ruling = warp_masks(rendered.ruling, to_aged) if with_ruling else None
    return SyntheticPage(truth=truth, image=aged, clean=rendered.image, ink=rendered.ink, ruling=ruling)


def _fill(template: Template, reg: Registration, habits: WritingHabits, rng: np.random.Generator
          ) -> tuple[dict[str, FieldText], dict[str, str | None]]:
    """The text a clerk writes in each field of one record, and each field's normalised value."""
    texts: dict[str, FieldText] = {}
    normalised: dict[str, str | None] = {}
    corrected: set[str] = set()
    for spec in template.fields:
        value = reg.values[spec.source]
        text = format_value(value, spec.format, habits, rng)
        struck = None
        # A correction is struck through once, in the first field that shows the corrected value.
        if spec.source in reg.corrections and spec.source not in corrected and text:
            struck = reg.corrections[spec.source]
            corrected.add(spec.source)
        texts[spec.key] = FieldText(spec.key, text, struck)
        normalised[spec.key] = normalise_value(value, spec.format) if text else None
    return texts, normalised


def _record(template: Template, index: int, placed: list[PlacedField], values: dict[str, str | None],
            to_aged: PointMap, clean_hw: tuple[int, int], size: tuple[int, int]) -> RecordResult:
    ch, cw = clean_hw
    x0, y0, x1, y1 = template.record_box(index)
    polygon = _warp_box((x0 * cw, y0 * ch, x1 * cw, y1 * ch), to_aged, size)
    fields = []
    for f in placed:
        if f.record != index:
            continue
        field_polygon = _warp_box(f.box, to_aged, size)
        fields.append(
            FieldResult(
                key=f.key,
                text=f.text,
                value=values[f.key],
                polygon=field_polygon,
                bbox=BBox.around(field_polygon),
                struck_text=f.struck,
                lines=[TextLineResult(polygon=_warp_box(line.box, to_aged, size), text=line.text) for line in f.lines],
            )
        )
    return RecordResult(index=index, polygon=polygon, bbox=BBox.around(polygon), fields=fields)


def _warp_box(box: tuple[float, float, float, float], to_aged: PointMap, size: tuple[int, int]
              ) -> list[tuple[float, float]]:
    """A pixel box as a polygon in the aged image, with points along long edges so curl bends them."""
    x0, y0, x1, y1 = box
    n = max(2, int(np.ceil((x1 - x0) / 160)) + 1)
    xs = np.linspace(x0, x1, n)
    top = np.stack([xs, np.full(n, y0)], axis=1)
    bottom = np.stack([xs[::-1], np.full(n, y1)], axis=1)
    points = to_aged(np.concatenate([top, bottom]).astype(np.float64))
    w, h = size
    points[:, 0] = np.clip(points[:, 0], 0, w - 1)
    points[:, 1] = np.clip(points[:, 1], 0, h - 1)
    return [(round(float(x), 1), round(float(y), 1)) for x, y in points]


def write_page(page: SyntheticPage, out: Path) -> None:
    """Write `<id>.png` (aged), `<id>.clean.png`, `<id>.xml` (PAGE) and, last, `<id>.json` (truth) into `out`.

    The truth file appears only once everything else is on disk, so a page with a `.json` is complete.
    """
    pid = page.truth.page_id
    png = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    cv2.imwrite(str(out / f"{pid}.png"), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR), png)
    cv2.imwrite(str(out / f"{pid}.clean.png"), cv2.cvtColor(page.clean, cv2.COLOR_RGB2BGR), png)
    (out / f"{pid}.xml").write_bytes(to_page_xml(page.truth, created=CREATED))
    tmp = out / f"{pid}.json.tmp"
    tmp.write_text(page.truth.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(out / f"{pid}.json")


def is_written(out: Path, seed: int, index: int, options: SynthOptions) -> bool:
    """Whether `out` already holds this page, complete and made with the same options."""
    path = out / f"{page_id(seed, index)}.json"
    if not path.is_file():
        return False
    try:
        truth = PageResult.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return truth.provenance.get("options") == dataclasses.asdict(options)
