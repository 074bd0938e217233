"""The page result: what reading one page produces, and what ground truth looks like.

Ground truth and predictions share these models (truth fills text and geometry only), so evaluation
compares like with like. Coordinates are absolute pixels of the page image, origin top-left.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

Point = tuple[float, float]


class BBox(BaseModel):
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def around(cls, polygon: list[Point]) -> BBox:
        xs = [p[0] for p in polygon]
        ys = [p[1] for p in polygon]
        return cls(x0=min(xs), y0=min(ys), x1=max(xs), y1=max(ys))


class Alternative(BaseModel):
    text: str
    confidence: float = Field(ge=0.0, le=1.0)


class FieldIssue(BaseModel):
    code: str
    message: str


class TextLineResult(BaseModel):
    """One line of writing inside a field (a field may wrap over several lines of its cell)."""

    polygon: list[Point]
    text: str


class FieldResult(BaseModel):
    key: str
    text: str = ""
    """What is written in the cell (NFC), corrections excluded."""
    value: str | None = None
    """The normalised value (dates as dd.mm.yyyy, enums as their canonical name); None when empty."""
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    needs_review: bool = False
    polygon: list[Point]
    bbox: BBox
    alternatives: list[Alternative] = Field(default_factory=list)
    issues: list[FieldIssue] = Field(default_factory=list)
    unit: str | None = None
    """For a place: the administrative unit it lies in today (commune and province in the 34-province
    structure of 07/2025, "xã Đồng Thái, tỉnh Ninh Bình"), as the import's ĐVHC columns hold it; None when
    the place names no unit that could be found."""
    struck_text: str | None = None
    """Text written and struck through in the cell before the value (a correction), if any."""
    lines: list[TextLineResult] = Field(default_factory=list)


class RecordResult(BaseModel):
    index: int
    """Position of the record block on the page, from 0, top to bottom."""
    polygon: list[Point]
    bbox: BBox
    fields: list[FieldResult]

    def field(self, key: str) -> FieldResult:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(f"record {self.index} has no field {key!r}")


class ImageInfo(BaseModel):
    filename: str
    width: int
    height: int


class PageResult(BaseModel):
    page_id: str
    image: ImageInfo
    template_id: str
    template_confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    book_type: str
    era: str
    records: list[RecordResult]
    model_versions: dict[str, str] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    provenance: dict[str, object] = Field(default_factory=dict)
    """How the page came to be: for synthetic pages the generator's seed and settings."""
