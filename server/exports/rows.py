"""A book's registrations as rows of the Ministry's import sheet: one row per record, in book order.

Each field goes to its template's `moj` column(s) in the form the import template's sample rows use: dates
as read (dd.mm.yyyy, or mm.yyyy / yyyy when only that is written), gender as its code, ethnicity, nationality
and relationship as names, a date in words as words, and an identity document ("CMND số 011712326 cấp ngày
...") split into its kind's code, its number and its date and place of issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import regex

from hotich.inference.fields.dates import read_date
from hotich.inference.fields.papers import paper_kind
from hotich.inference.pipeline import UNKNOWN_TEMPLATE
from hotich.lexicons import GENDERS
from hotich.numwords import date_to_words
from hotich.page import BBox, FieldResult, PageResult, RecordResult
from hotich.templates import get_template
from hotich.templates.model import FieldSpec, Template
from hotich.text import fold

from .columns import ImportSheet, import_sheet

__all__ = ["STT", "BookRows", "IdDocument", "Registration", "ReviewCell", "book_rows", "page_registrations",
           "split_id_document"]

STT = "STT"
"""The row counter column, first in every import sheet."""
NUMBER = "so"
"""The registration-number column."""
UNIT_SUFFIX = "DVHC"
"""A place column's companion holding the administrative unit (đơn vị hành chính) it lies in today."""


@dataclass(frozen=True)
class ReviewCell:
    """A field the reader was unsure of: the cells it filled and what was read, for the clerk to check."""

    key: str
    label: str
    columns: tuple[str, ...]
    text: str
    confidence: float
    issues: tuple[str, ...]


@dataclass(frozen=True)
class Registration:
    """One record of the book as one row of the import sheet."""

    stt: int
    page_number: int
    """Position of the page in the book, from 1."""
    page_id: str
    record_index: int
    """Position of the record on its page, from 0 (`RecordResult.index`)."""
    bbox: BBox
    """The record's block on the page image, in pixels."""
    cells: dict[str, str]
    """Ministry column -> cell text, STT included; columns left empty are absent."""
    review: tuple[ReviewCell, ...]

    @property
    def number(self) -> str:
        """The registration number as read; "" when none was."""
        return self.cells.get(NUMBER, "")


@dataclass(frozen=True)
class BookRows:
    """A book's import sheet and its rows, in book order."""

    sheet: ImportSheet
    rows: tuple[Registration, ...]

    def values(self, row: Registration) -> list[str]:
        """The row's cells in the sheet's column order, "" where empty."""
        return [row.cells.get(column, "") for column in self.sheet.columns]


@dataclass(frozen=True)
class IdDocument:
    kind: int
    """Code in the Ministry's list: 1 CMND, 2 hộ chiếu, 3 thẻ thường trú, 4 CCCD, 5-7 quân đội / sĩ quan /
    công an, 8 other."""
    number: str
    issued_on: str
    """dd.mm.yyyy, or "" when not written."""
    issued_at: str


def book_rows(pages: Iterable[PageResult], book_values: Mapping[str, str] | None = None) -> BookRows:
    """The registrations of a book whose pages are given in book order; STT counts from 1.

    `book_values` fills columns the whole book shares and no record writes (e.g. `noiDangKy`, the office
    that kept the book); a value a record writes wins. Pages no known template fits contribute nothing, and
    neither do blank record blocks. ValueError when no page was identified or pages of several book types
    are mixed.
    """
    pages = list(pages)
    book_types = sorted({p.book_type for p in pages if p.template_id != UNKNOWN_TEMPLATE})
    if not book_types:
        raise ValueError("no page of the book was identified: there is nothing to export")
    if len(book_types) > 1:
        raise ValueError(f"one book, one book type: these pages mix {', '.join(book_types)}")
    sheet = import_sheet(book_types[0])
    shared = dict(book_values or {})
    stray = sorted(c for c in shared if c not in sheet.columns or c == STT)
    if stray:
        raise ValueError(f"book_values {stray}: a book may set only columns of its import sheet, STT excepted")
    rows: list[Registration] = []
    for page_number, page in enumerate(pages, 1):
        for row in page_registrations(page, page_number, first_stt=len(rows) + 1):
            rows.append(replace(row, cells={**shared, **row.cells}) if shared else row)
    return BookRows(sheet, tuple(rows))


def page_registrations(page: PageResult, page_number: int, first_stt: int = 1) -> list[Registration]:
    """The rows of one page: one per written record, STT from `first_stt`; none for an unidentified page."""
    if page.template_id == UNKNOWN_TEMPLATE:
        return []
    template = get_template(page.template_id)
    _check_columns(template, import_sheet(page.book_type))
    written = [r for r in page.records if not _blank(r)]
    rows = []
    for stt, record in enumerate(written, first_stt):
        cells, review = _record_cells(template, record)
        rows.append(Registration(stt=stt, page_number=page_number, page_id=page.page_id, record_index=record.index,
                                 bbox=record.bbox, cells={STT: str(stt), **cells}, review=review))
    return rows


def _blank(record: RecordResult) -> bool:
    """A record block nothing is written in (the unused end of a book's last page)."""
    return all(f.value is None and not f.text.strip() for f in record.fields)


def _targets(spec: FieldSpec) -> tuple[str, ...]:
    return tuple(c.strip() for c in spec.moj.split(",")) if spec.moj else ()


def _check_columns(template: Template, sheet: ImportSheet) -> None:
    """Every template column must exist in the sheet, and a field feeding several must be one we can split."""
    for spec in template.fields:
        targets = _targets(spec)
        for column in targets:
            if column not in sheet.columns:
                raise ValueError(f"{template.id}: field {spec.key} maps to {column!r}, which is not a column of "
                                 f"the {sheet.book_type} import sheet")
            if len(targets) > 1 and _id_part(column) is None:
                raise ValueError(f"{template.id}: field {spec.key} feeds {', '.join(targets)}; only identity "
                                 f"documents are split over several columns")


def _record_cells(template: Template, record: RecordResult) -> tuple[dict[str, str], tuple[ReviewCell, ...]]:
    cells: dict[str, str] = {}
    review: list[ReviewCell] = []
    for spec in template.fields:
        targets = _targets(spec)
        # Two fields may record one fact (the declarant's name, then the same name by the signature): the
        # first one written fills the column, and only its doubts matter.
        if not targets or any(c in cells for c in targets):
            continue
        field = record.field(spec.key)
        cells.update(_field_cells(spec, targets, field))
        if field.needs_review:
            review.append(ReviewCell(key=spec.key, label=spec.label, columns=targets, text=field.text,
                                     confidence=field.confidence, issues=tuple(i.message for i in field.issues)))
    return cells, tuple(review)


def _field_cells(spec: FieldSpec, targets: tuple[str, ...], field: FieldResult) -> dict[str, str]:
    # The normalised value when the reader made one, else the text as written: nothing read is dropped.
    value = field.value if field.value is not None else " ".join(field.text.split())
    if not value:
        return {}
    if len(targets) > 1:
        return _id_document_cells(targets, split_id_document(value))
    if spec.lexicon == "gender":
        # A reading not on the list stays as read: the field is flagged, and a clerk sees it.
        value = str(GENDERS.get(value, value))
    elif spec.format == "date_words" and field.value is not None:
        value = _date_in_words(field.value)
    # A place's unit today goes to the sheet's "<column>DVHC" when it has one (nksNoiSinh -> nksNoiSinhDVHC).
    return {targets[0]: value} | ({f"{targets[0]}{UNIT_SUFFIX}": field.unit} if field.unit else {})


def _date_in_words(value: str) -> str:
    """A dd.mm.yyyy value in words, capitalised as the template's samples ("Ngày Hai Mươi Bảy Tháng Tám ...")."""
    return date_to_words(datetime.strptime(value, "%d.%m.%Y").date()).title()


_ID_PARTS = ("LoaiGiayToTuyThan", "SoGiayToTuyThan", "NgayCapGiayToTuyThan", "NoiCapGiayToTuyThan")
"""The columns an identity document fills, after the person's prefix (nyc, me, chong, ...)."""


def _id_part(column: str) -> str | None:
    return next((part for part in _ID_PARTS if column.endswith(part)), None)


def _id_document_cells(targets: tuple[str, ...], doc: IdDocument) -> dict[str, str]:
    parts = dict(zip(_ID_PARTS, (str(doc.kind), doc.number, doc.issued_on, doc.issued_at), strict=True))
    return {column: parts[part] for column in targets if (part := _id_part(column)) and parts[part]}


_NEW_ID_CARD = regex.compile(r"can cuoc")
"""Since 07.2024 the CCCD is called "thẻ căn cước"; the RVN's "thẻ căn cước" (7-8 digits) is another paper."""
_ID_NUMBER = regex.compile(r"\b([A-Za-z]{0,2}\d{6,12})\b")
_ISSUED_ON = regex.compile(r"(?i)\bngày\s*(?:cấp)?\s*:?\s*(\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{2,4})")
_ISSUED_BY = regex.compile(r"(?i)\bdo\s+(.+?)\s+cấp\b")
_ISSUED_AT = regex.compile(r"(?i)\b(?:tại|nơi\s+cấp)\s*:?\s+(.+?)\s*(?:,?\s*(?:cấp\s+)?ngày\b|[.;]?$)")


def split_id_document(text: str) -> IdDocument:
    """An identity paper as written ("CCCD số 079096784549", "Hộ chiếu số B1234567 cấp ngày 5/6/2012 tại
    Cục QLXNC", "CMND số 021663713 do CA Hà Nội cấp ngày 12/3/2005") as the import's kind code, number, date
    and place of issue. A paper of no recognised kind is "other" (8); with no number in it, the whole text
    stands as the number, so nothing written is dropped."""
    number_match = _ID_NUMBER.search(text)
    number = number_match[1] if number_match else " ".join(text.split())
    kind = paper_kind(text)
    if kind is None:
        digits = sum(c.isdigit() for c in number)
        kind = 4 if _NEW_ID_CARD.search(fold(text)) and digits == 12 else 8
    issued_on = ""
    if m := _ISSUED_ON.search(text):
        issued_on = read_date(m[1]).value or ""
    place = _ISSUED_BY.search(text) or _ISSUED_AT.search(text)
    return IdDocument(kind=kind, number=number, issued_on=issued_on,
                      issued_at=place[1].strip(" ,.;") if place else "")
