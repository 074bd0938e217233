"""One call for every export of a book: what the service and `hotich book` use."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from hotich.inference.images import decode_image
from hotich.page import PageResult

from .pagexml import write_page_xml_zip
from .pdfs import write_registration_pdfs
from .rows import book_rows
from .tabular import write_book_csv, write_book_json
from .xlsx import write_book_xlsx

__all__ = ["FORMATS", "export_book"]

FORMATS: dict[str, str] = {
    "xlsx": ".xlsx",
    "csv": ".csv",
    "json": ".json",
    "pagexml": ".pagexml.zip",
    "pdfzip": ".pdf.zip",
}
"""Export format -> the ending of its file's name."""


def export_book(
    pages: Sequence[PageResult],
    images: Sequence[Path] | None,
    out_dir: Path,
    formats: Iterable[str] = tuple(FORMATS),
    *,
    stem: str = "book",
    book_values: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write the book in each of `formats` to `out_dir`/<stem><ending>; returns format -> file.

    `pages` are the book's page results in book order and `images` their page image files, in the same order
    (needed by "pdfzip" only). `book_values` fills import columns the whole book shares (see `book_rows`).
    Everything is checked before any file is written.
    """
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export formats {unknown}; choose among {', '.join(FORMATS)}")
    if "pdfzip" in formats and images is None:
        raise ValueError("the pdfzip export cuts each registration from its page image: give the images")
    if images is not None and len(images) != len(pages):
        raise ValueError(f"{len(pages)} pages but {len(images)} images: give one image per page, in the same order")
    if {"xlsx", "csv", "pdfzip"} & set(formats):
        book_rows(pages, book_values)  # raises what the registration exports would, before a file is written
    written: dict[str, Path] = {}
    for fmt in formats:
        path = out_dir / f"{stem}{FORMATS[fmt]}"
        if fmt == "xlsx":
            written[fmt] = write_book_xlsx(pages, path, book_values)
        elif fmt == "csv":
            written[fmt] = write_book_csv(pages, path, book_values)
        elif fmt == "json":
            written[fmt] = write_book_json(pages, path)
        elif fmt == "pagexml":
            written[fmt] = write_page_xml_zip(pages, path)
        else:
            assert images is not None
            written[fmt] = write_registration_pdfs(_with_images(pages, images), path)
    return written


def _with_images(pages: Sequence[PageResult], images: Sequence[Path]) -> Iterator[tuple[PageResult, np.ndarray]]:
    """Each page with its image, decoded as the reader decodes uploads, one at a time."""
    for page, path in zip(pages, images, strict=True):
        yield page, decode_image(path.read_bytes())
