"""The book as CSV (the import sheet's rows plus where each came from and what to check) and as JSON (the page
results themselves)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from hotich.page import PageResult

from .rows import book_rows

__all__ = ["CSV_EXTRA_COLUMNS", "write_book_csv", "write_book_json"]

CSV_EXTRA_COLUMNS = ("trang", "maTrang", "banGhi", "canKiemTra")
"""After the Ministry's columns: the page's position in the book, its id, the record's position on the page
(from 1), and the Ministry columns a clerk should check."""


def write_book_csv(pages: Iterable[PageResult], path: Path, book_values: Mapping[str, str] | None = None) -> Path:
    """One row per registration under the import sheet's column names (without the template's spaces and code
    hints). UTF-8 with a byte-order mark, without which Excel takes the file for the local code page."""
    book = book_rows(pages, book_values)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*book.sheet.columns, *CSV_EXTRA_COLUMNS])
        for row in book.rows:
            review = ", ".join(column for item in row.review for column in item.columns)
            writer.writerow([*book.values(row), row.page_number, row.page_id, row.record_index + 1, review])
    return path


def write_book_json(pages: Iterable[PageResult], path: Path) -> Path:
    """The page results as one JSON array, in book order, every page included (identified or not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = [page.model_dump(mode="json") for page in pages]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
