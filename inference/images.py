"""Page images from what users send: image files (PNG, JPEG, TIFF, BMP, WebP) and PDF pages, checked before
anything large is decoded, with errors that say what was wrong and what to send instead."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

__all__ = ["PDF_DPI", "PDF_LONG_SIDE", "BadInput", "decode_image", "is_pdf", "pdf_page_count", "pdf_pages"]

PDF_DPI = 200
"""Resolution PDF pages are rendered at (registry scans are 200-300 dpi) ..."""
PDF_LONG_SIDE = 3000
"""... unless that makes the long side longer than this: the layout stage works at about 2000 px."""


class BadInput(ValueError):
    """An upload that cannot be read as a page; `kind` is a machine-readable reason."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def is_pdf(data: bytes) -> bool:
    return data[:5] == b"%PDF-"


def decode_image(data: bytes, max_megapixels: float = 60.0) -> np.ndarray:
    """An image file's bytes as a BGR uint8 page; its size is checked from the header before decoding."""
    if not data:
        raise BadInput("empty", "the upload is empty: send the page image's bytes")
    if is_pdf(data):
        raise BadInput("pdf", "this is a PDF: send it where PDFs are accepted, or one page as an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BadInput("too_large", f"the image is over {Image.MAX_IMAGE_PIXELS / 1e6:.0f} MP; pages up to "
                                    f"{max_megapixels:.0f} MP are read: scan at 300 dpi or less") from None
    except (UnidentifiedImageError, OSError):
        raise BadInput("not_an_image", "not an image file this service reads (PNG, JPEG, TIFF, BMP, WebP)") from None
    _check_size(width, height, max_megapixels)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise BadInput("corrupt", "the image file is damaged or truncated: it could not be decoded; send it again")
    return image


def _check_size(width: int, height: int, max_megapixels: float) -> None:
    if width * height > max_megapixels * 1e6:
        raise BadInput("too_large", f"the image is {width} x {height} px ({width * height / 1e6:.0f} MP); pages up "
                                    f"to {max_megapixels:.0f} MP are read: scan at 300 dpi or less")
    if min(width, height) < 200:
        raise BadInput("too_small", f"the image is {width} x {height} px: too small to hold a register page")


def _document(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise BadInput("corrupt", "the PDF is damaged, truncated or encrypted: it could not be opened") from None


def pdf_page_count(data: bytes) -> int:
    document = _document(data)
    try:
        return len(document)
    finally:
        document.close()


def pdf_pages(data: bytes, max_pages: int, max_megapixels: float = 60.0, first: int = 0,
              last: int | None = None) -> Iterator[np.ndarray]:
    """Pages `first`..`last` (inclusive, default: to the end) of a PDF rendered at `PDF_DPI` (at most
    `PDF_LONG_SIDE` px long) as BGR images; refused whole when it holds more than `max_pages` pages."""
    document = _document(data)
    try:
        n = len(document)
        if n == 0:
            raise BadInput("empty", "the PDF has no pages")
        if n > max_pages:
            raise BadInput("too_many_pages", f"the PDF has {n} pages; up to {max_pages} are read at once: split the "
                                             "book into parts")
        last = n - 1 if last is None else last
        if not 0 <= first <= last < n:
            raise BadInput("no_such_page", f"the PDF has pages 1-{n}, not {first + 1}-{last + 1}")
        for index in range(first, last + 1):
            page = document[index]
            width, height = page.get_size()
            scale = min(PDF_DPI / 72, PDF_LONG_SIDE / max(width, height, 1))
            _check_size(round(width * scale), round(height * scale), max_megapixels)
            bitmap = page.render(scale=scale, grayscale=False)
            rgb = np.asarray(bitmap.to_pil().convert("RGB"))
            page.close()
            yield cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    finally:
        document.close()
