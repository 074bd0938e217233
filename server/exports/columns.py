"""The Ministry's import sheets: the header row for each book type and the code lists, from `columns.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

__all__ = ["CodeList", "ImportSheet", "code_lists", "import_sheet"]


@dataclass(frozen=True)
class ImportSheet:
    book_type: str
    header: tuple[str, ...]
    """Row 1 of sheet "DL Import", verbatim: some cells carry trailing spaces or a code hint after a newline."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names (`so`, `loaiDangKy`, ...), in header order: each header cell up to its first space."""
        return tuple(cell.split()[0] for cell in self.header)


@dataclass(frozen=True)
class CodeList:
    title: str
    codes: dict[int, str]


@cache
def _data() -> dict:
    text = (resources.files("hotich.server.exports") / "columns.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def import_sheet(book_type: str) -> ImportSheet:
    """The import sheet of `book_type`; ValueError for a book the Ministry's import has no columns for."""
    headers = _data()["headers"]
    if book_type not in headers:
        raise ValueError(f"the Ministry's import has no columns for book type {book_type!r}; "
                         f"it has {', '.join(headers)}")
    return ImportSheet(book_type, tuple(headers[book_type]))


def code_lists() -> list[CodeList]:
    """The code lists of the import template's sheet "Ghi chu", in its order."""
    return [CodeList(c["title"], dict(c["codes"])) for c in _data()["code_lists"]]
