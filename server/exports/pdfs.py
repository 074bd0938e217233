"""One PDF per registration, cut from its page image, all in one zip: the scans the Ministry's import takes
beside the Excel rows."""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from hotich.page import PageResult
from hotich.templates import get_template

from .rows import Registration, page_registrations

__all__ = ["MARGIN", "pdf_name", "write_registration_pdfs"]

MARGIN = 0.015
"""Kept around a record's block, as a share of the page's shorter side: writing strays over the ruling."""
JPEG_QUALITY = 85


def write_registration_pdfs(pages_with_images: Iterable[tuple[PageResult, np.ndarray]], zip_path: Path) -> Path:
    """Zip one single-page PDF per registration (the rows `book_rows` makes, in the same order).

    Pages come in book order with their image as OpenCV reads it (BGR or grey, uint8); one page's image is
    held at a time, so a whole book fits in memory. The PDF page has the paper's size: its resolution follows
    from the template's paper width.
    """
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    stt = 1
    # Stored, not deflated: the PDFs hold JPEG data, which does not compress further.
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        for page_number, (page, image) in enumerate(pages_with_images, 1):
            registrations = page_registrations(page, page_number, first_stt=stt)
            if not registrations:
                continue
            paper_width_mm = get_template(page.template_id).layout.paper_mm[0]
            dpi = image.shape[1] / (paper_width_mm / 25.4)
            for registration in registrations:
                archive.writestr(pdf_name(registration), _pdf(_crop(image, page, registration), dpi))
            stt += len(registrations)
    return zip_path


def pdf_name(registration: Registration) -> str:
    """"0007_p003_r2_so-37.pdf": STT (the row of the Excel), page in the book, record on the page (from 1),
    and the registration number when one was read; names sort in book order."""
    number = re.sub(r"[^0-9A-Za-z]+", "-", registration.number).strip("-")
    suffix = f"_so-{number}" if number else ""
    return f"{registration.stt:04d}_p{registration.page_number:03d}_r{registration.record_index + 1}{suffix}.pdf"


def _crop(image: np.ndarray, page: PageResult, registration: Registration) -> np.ndarray:
    height, width = image.shape[:2]
    # Record boxes are in the pixels of the image the page was read from; the image given may be scaled.
    sx, sy = width / page.image.width, height / page.image.height
    margin = MARGIN * min(height, width)
    box = registration.bbox
    x0, y0 = max(0, math.floor(box.x0 * sx - margin)), max(0, math.floor(box.y0 * sy - margin))
    x1, y1 = min(width, math.ceil(box.x1 * sx + margin)), min(height, math.ceil(box.y1 * sy + margin))
    return image[y0:y1, x0:x1]


def _pdf(crop: np.ndarray, dpi: float) -> bytes:
    pixels = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PDF", resolution=dpi, quality=JPEG_QUALITY)
    return buffer.getvalue()
