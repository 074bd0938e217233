"""The book as the Ministry's import workbook: sheet "DL Import" as the import template has it, its code
lists on "Ghi chu", and the cells a clerk should check on "Cần kiểm tra", kept off the sheet that is imported."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from hotich.page import PageResult

from .columns import code_lists
from .rows import STT, BookRows, book_rows

__all__ = ["IMPORT_SHEET", "NOTES_SHEET", "REVIEW_HEADER", "REVIEW_SHEET", "write_book_xlsx"]

IMPORT_SHEET = "DL Import"
NOTES_SHEET = "Ghi chu"
REVIEW_SHEET = "Cần kiểm tra"
REVIEW_HEADER = ("STT", "Trang", "Mã trang", "Bản ghi", "Cột", "Trường", "Chữ đọc được", "Độ tin cậy", "Vấn đề")
_TEXT = "@"
"""Excel's text format, as the template's data cells have: a date or a leading zero stays as typed."""


def write_book_xlsx(pages: Iterable[PageResult], path: Path, book_values: Mapping[str, str] | None = None) -> Path:
    """Write the book's import workbook to `path` (`book_rows` says which pages and records make rows)."""
    book = book_rows(pages, book_values)
    workbook = Workbook()
    _import_sheet(workbook.active, book)
    _notes_sheet(workbook.create_sheet(NOTES_SHEET))
    _review_sheet(workbook.create_sheet(REVIEW_SHEET), book)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _header(sheet: Worksheet, header: Iterable[str]) -> None:
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _import_sheet(sheet: Worksheet, book: BookRows) -> None:
    sheet.title = IMPORT_SHEET
    _header(sheet, book.sheet.header)
    for row in book.rows:
        # STT is a number in the template; every other cell is text, codes included ("1", not 1).
        sheet.append([row.stt if column == STT else (value or None)
                      for column, value in zip(book.sheet.columns, book.values(row), strict=True)])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.number_format = _TEXT


def _notes_sheet(sheet: Worksheet) -> None:
    for code_list in code_lists():
        sheet.append([code_list.title])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        for code, label in code_list.codes.items():
            sheet.append([code, label])
        sheet.append([])


def _review_sheet(sheet: Worksheet, book: BookRows) -> None:
    _header(sheet, REVIEW_HEADER)
    for row in book.rows:
        for item in row.review:
            sheet.append([row.stt, row.page_number, row.page_id, row.record_index + 1, ", ".join(item.columns),
                          item.label, item.text, round(item.confidence, 3), "; ".join(item.issues)])
    sheet.auto_filter.ref = sheet.dimensions
