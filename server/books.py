"""A whole book as uploaded: one PDF, one zip of page images, or several image files (a folder upload),
checked and unpacked into the job's folder before anything is recorded, so a refused upload leaves nothing
behind. Zip entries that climb out of the folder (`../`), zip bombs and oversized books are refused with
the reason."""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hotich.inference.images import BadInput, is_pdf, pdf_page_count

__all__ = ["IMAGE_SUFFIXES", "BookPage", "unpack_book"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
MAX_RATIO = 200
"""A zip entry that inflates more than this is a bomb: scans compress a few times at most."""


@dataclass(frozen=True)
class BookPage:
    """Where page `index` of the book comes from: an image file, or page `pdf_page` of a PDF."""

    index: int
    path: Path
    pdf_page: int | None = None


def _natural(name: str) -> list[object]:
    """"page 2" before "page 10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise BadInput("unsafe_path", f"zip entry {name!r} points outside the book's folder: refused")
    return path


def _from_zip(data_path: Path, folder: Path, max_pages: int, max_bytes: int) -> list[BookPage]:
    try:
        archive = zipfile.ZipFile(data_path)
    except zipfile.BadZipFile:
        raise BadInput("corrupt", "the zip file is damaged or truncated: it could not be opened") from None
    with archive:
        entries = []
        for info in archive.infolist():
            path = _safe_name(info.filename)
            if info.is_dir() or path.parts[0] == "__MACOSX" or path.name.startswith("."):
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise BadInput("not_an_image", f"zip entry {info.filename!r} is not a page image "
                                               f"({', '.join(IMAGE_SUFFIXES)})")
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_RATIO:
                raise BadInput("zip_bomb", f"zip entry {info.filename!r} inflates {ratio:.0f} times: refused as a "
                                           "zip bomb")
            entries.append(info)
        if not entries:
            raise BadInput("empty", "the zip holds no page images")
        if len(entries) > max_pages:
            raise BadInput("too_many_pages", f"the zip holds {len(entries)} pages; up to {max_pages} are read at "
                                             "once: split the book into parts")
        total = sum(info.file_size for info in entries)
        if total > max_bytes:
            raise BadInput("too_large", f"the zip inflates to {total / 2**20:.0f} MB; up to "
                                        f"{max_bytes / 2**20:.0f} MB is accepted")
        pages = []
        for index, info in enumerate(sorted(entries, key=lambda i: _natural(i.filename))):
            target = folder / f"{index:05d}{PurePosixPath(info.filename).suffix.lower()}"
            with archive.open(info) as source, target.open("wb") as sink:
                # Stop at the declared size: a lying header cannot inflate past it.
                shutil.copyfileobj(_Limited(source, info.file_size), sink)
            pages.append(BookPage(index, target))
        return pages


class _Limited:
    """A zip entry's stream that ends at its declared size."""

    def __init__(self, stream: zipfile.ZipExtFile, limit: int) -> None:
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        chunk = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(chunk)
        return chunk


def unpack_book(files: list[tuple[str, bytes]], folder: Path, max_pages: int, max_bytes: int) -> list[BookPage]:
    """The pages of an uploaded book, written into `folder` (which must not exist; it is removed again when
    the upload is refused). `files` are (filename, bytes): one PDF, one zip, or page images."""
    if not files or all(not data for _, data in files):
        raise BadInput("empty", "no book was uploaded: send a PDF, a zip of page images, or the page images")
    folder.mkdir(parents=True)
    try:
        if len(files) == 1 and is_pdf(files[0][1]):
            n = pdf_page_count(files[0][1])
            if n > max_pages:
                raise BadInput("too_many_pages", f"the PDF has {n} pages; up to {max_pages} are read at once: "
                                                 "split the book into parts")
            if n == 0:
                raise BadInput("empty", "the PDF has no pages")
            path = folder / "book.pdf"
            path.write_bytes(files[0][1])
            return [BookPage(i, path, pdf_page=i) for i in range(n)]
        if len(files) == 1 and files[0][1][:4] == b"PK\x03\x04":
            path = folder / "upload.zip"
            path.write_bytes(files[0][1])
            pages = _from_zip(path, folder, max_pages, max_bytes)
            path.unlink()
            return pages
        if len(files) > max_pages:
            raise BadInput("too_many_pages", f"{len(files)} pages were sent; up to {max_pages} are read at once")
        pages = []
        for index, (name, data) in enumerate(sorted(files, key=lambda f: _natural(f[0]))):
            suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
            if suffix not in IMAGE_SUFFIXES or is_pdf(data):
                raise BadInput("not_an_image", f"{name!r} is not a page image ({', '.join(IMAGE_SUFFIXES)}); send a "
                                               "book as one PDF, one zip, or its page images")
            target = folder / f"{index:05d}{suffix}"
            target.write_bytes(data)
            pages.append(BookPage(index, target))
        return pages
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
