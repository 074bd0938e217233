"""A whole book read on this machine, without the service (`hotich book`): the same unpacking, pipeline and
exports as a book job. Each page's result is written as it is read, so a run that is stopped or killed
starts again at the first page without one."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
from tqdm import tqdm

from hotich.inference.images import decode_image, pdf_pages
from hotich.inference.pipeline import Pipeline
from hotich.page import PageResult
from hotich.server.books import IMAGE_SUFFIXES, unpack_book
from hotich.server.exports import export_book

__all__ = ["read_book"]


def _input_files(source: Path) -> list[tuple[str, bytes]]:
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no page images ({', '.join(IMAGE_SUFFIXES)}) in {source}")
        return [(p.name, p.read_bytes()) for p in files]
    return [(source.name, source.read_bytes())]


def read_book(source: Path, out: Path, pipeline: Pipeline, formats: Sequence[str] = ("xlsx", "pdfzip", "json"),
              max_pages: int = 5000, progress: bool = True) -> dict[str, Path]:
    """Read `source` (a PDF, a zip of page images, or a folder of them) into `out`: pages/ (each page's image
    and result) and the exports in `formats`; returns format -> file."""
    pages_dir = out / "pages"
    if not pages_dir.is_dir():
        out.mkdir(parents=True, exist_ok=True)
        staging = out / "pages.partial"
        shutil.rmtree(staging, ignore_errors=True)
        unpack_book(_input_files(source), staging, max_pages=max_pages, max_bytes=64 * 2**30)
        staging.rename(pages_dir)  # a half-unpacked book is never taken for a whole one
    sources = sorted(p for p in pages_dir.iterdir() if p.suffix.lower() in (*IMAGE_SUFFIXES, ".pdf"))
    pdf = next((p for p in sources if p.suffix == ".pdf"), None)
    images = _pdf_images(pdf, pages_dir) if pdf is not None else [p for p in sources if p.suffix != ".pdf"]
    results = []
    for image_path in tqdm(images, unit="page", desc="pages", disable=not progress):
        result_path = image_path.with_suffix(".json")
        if not result_path.is_file():
            result = pipeline.read_page(decode_image(image_path.read_bytes(), max_megapixels=200),
                                        page_id=f"{source.stem}-p{len(results) + 1:04d}", filename=image_path.name)
            partial = result_path.with_suffix(".json.partial")
            partial.write_text(result.model_dump_json(), encoding="utf-8")
            partial.rename(result_path)
        results.append(PageResult.model_validate_json(result_path.read_text(encoding="utf-8")))
    return export_book(results, images, out, formats, stem=source.stem)


def _pdf_images(pdf: Path, pages_dir: Path) -> list[Path]:
    """The PDF's pages rendered once to PNG files beside it."""
    data = pdf.read_bytes()
    images = []
    for index, image in enumerate(pdf_pages(data, max_pages=10**6, max_megapixels=200)):
        path = pages_dir / f"{index:05d}.png"
        if not path.is_file():
            cv2.imwrite(str(path), image)
        images.append(path)
    return images
