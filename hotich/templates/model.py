"""What a book template says: page geometry, printed matter and, for each field, where it is written.

Coordinates are normalised. Page-level items use the page (0..1 across the imaged surface); field boxes
use the record block they belong to, so one field definition serves every record on the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FieldType = Literal["text", "name", "date", "place", "enum", "number"]
Box = tuple[float, float, float, float]


def _check_box(box: Box, what: str) -> None:
    x0, y0, x1, y1 = box
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ValueError(f"{what} {list(box)} must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Printed(_Strict):
    """Text printed on the blank book (titles, labels). `at` is the anchor on the baseline, page-normalised
    for page items and block-normalised for record items; `{page}` is replaced by the page number."""

    text: str
    at: tuple[float, float]
    size: float = Field(gt=0, lt=0.2, description="cap height as a share of the page height")
    bold: bool = False
    align: Literal["left", "center", "right"] = "left"


class Checkbox(_Strict):
    """A printed box in each record block (`at` is block-normalised), ticked when the record's
    `checkbox_source` value equals `value`."""

    label: str
    at: tuple[float, float]
    value: str


class Column(_Strict):
    title: str
    x0: float
    x1: float


class Cell(_Strict):
    """A field's place in a ruled table: a column, sub-rows of the record block, a share of the width."""

    column: int = Field(ge=0)
    row: int = Field(ge=0)
    rows: int = Field(default=1, ge=1)
    span: tuple[float, float] = (0.0, 1.0)


class FieldSpec(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: FieldType
    source: str = Field(description="what the field shows, as content names it, e.g. child.birth_date")
    format: str = "plain"
    optional: bool = False
    moj: str | None = Field(default=None, description="Ministry import column(s), comma-separated")
    lexicon: str | None = None
    prompt: str | None = Field(default=None, description="label printed before the writing space (forms)")
    box: Box | None = None
    lines: int = Field(default=1, ge=1, le=12, description="written lines a form box holds")
    cell: Cell | None = None

    @model_validator(mode="after")
    def _one_geometry(self) -> FieldSpec:
        if (self.box is None) == (self.cell is None):
            raise ValueError("give exactly one of box (forms) or cell (tables)")
        if self.box is not None:
            _check_box(self.box, "box")
        if self.cell is not None and self.lines != 1:
            raise ValueError("lines applies to form boxes; a table cell's lines are its rows")
        if self.cell is not None and not (0.0 <= self.cell.span[0] < self.cell.span[1] <= 1.0):
            raise ValueError(f"cell.span {list(self.cell.span)} must satisfy 0 <= a < b <= 1")
        return self


class Layout(_Strict):
    style: Literal["table", "form"]
    paper_mm: tuple[float, float] = Field(description="width, height of the imaged surface")
    spread: bool = Field(description="a double page: a gutter runs down the middle")
    records_per_page: int = Field(ge=1, le=12)
    record_area: Box
    header_area: Box | None = None
    rows_per_record: int = Field(default=1, ge=1, le=8)
    ruling: Literal["full", "light", "none"] = "full"

    @model_validator(mode="after")
    def _boxes(self) -> Layout:
        _check_box(self.record_area, "record_area")
        if self.header_area is not None:
            _check_box(self.header_area, "header_area")
        return self


class Validity(_Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class Template(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")
    book_type: str
    era: str
    title: str
    valid: Validity
    layout: Layout
    columns: list[Column] = Field(default_factory=list)
    printed: list[Printed] = Field(default_factory=list)
    record_printed: list[Printed] = Field(default_factory=list, description="printed in every record block")
    lines: list[Box] = Field(default_factory=list, description="printed rules, page-normalised x0 y0 x1 y1")
    record_lines: list[Box] = Field(default_factory=list, description="printed rules in every record block")
    checkboxes: list[Checkbox] = Field(default_factory=list)
    checkbox_source: str | None = None
    fields: list[FieldSpec]

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        if self.id != f"{self.book_type}.{self.era}":
            raise ValueError(f"id must be '<book_type>.<era>', here {self.book_type}.{self.era}")
        keys = [f.key for f in self.fields]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"duplicate field keys {dupes}")
        for col in self.columns:
            if not 0.0 <= col.x0 < col.x1 <= 1.0:
                raise ValueError(f"column {col.title!r} must satisfy 0 <= x0 < x1 <= 1")
        for f in self.fields:
            if f.cell is None:
                continue
            if f.cell.column >= len(self.columns):
                raise ValueError(f"field {f.key}: column {f.cell.column} but only {len(self.columns)} columns")
            if f.cell.row + f.cell.rows > self.layout.rows_per_record:
                raise ValueError(f"field {f.key}: rows {f.cell.row}+{f.cell.rows} exceed rows_per_record")
        for line in [*self.lines, *self.record_lines]:
            if not all(0.0 <= v <= 1.0 for v in line):
                raise ValueError(f"line {list(line)} must lie within 0..1")
        if self.checkboxes and self.checkbox_source is None:
            raise ValueError("checkboxes need a checkbox_source")
        return self

    def field_lines(self, spec: FieldSpec) -> int:
        """How many lines of writing the field's space holds."""
        return spec.cell.rows if spec.cell is not None else spec.lines

    def record_box(self, index: int) -> Box:
        """The page-normalised box of the `index`-th record block (top to bottom)."""
        if not 0 <= index < self.layout.records_per_page:
            raise IndexError(f"{self.id} has {self.layout.records_per_page} records per page, not {index + 1}")
        x0, y0, x1, y1 = self.layout.record_area
        h = (y1 - y0) / self.layout.records_per_page
        return (x0, y0 + index * h, x1, y0 + (index + 1) * h)

    def field_box(self, spec: FieldSpec) -> Box:
        """The field's box inside its record block, block-normalised."""
        if spec.box is not None:
            return spec.box
        assert spec.cell is not None
        col = self.columns[spec.cell.column]
        width = col.x1 - col.x0
        rows = self.layout.rows_per_record
        a, b = spec.cell.span
        return (
            col.x0 + a * width,
            spec.cell.row / rows,
            col.x0 + b * width,
            (spec.cell.row + spec.cell.rows) / rows,
        )

    def field_page_box(self, spec: FieldSpec, record: int) -> Box:
        """The field's box on the page, page-normalised, for the `record`-th block."""
        rx0, ry0, rx1, ry1 = self.record_box(record)
        fx0, fy0, fx1, fy1 = self.field_box(spec)
        w, h = rx1 - rx0, ry1 - ry0
        return (rx0 + fx0 * w, ry0 + fy0 * h, rx0 + fx1 * w, ry0 + fy1 * h)
