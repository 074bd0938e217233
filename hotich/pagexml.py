"""PAGE XML (PRImA, 2019-07-15 schema) for a page result, for eScriptorium and Transkribus users.

Each record is a TextRegion holding one TextRegion per field; a field's written lines are its TextLines.
Keys and indices travel in the `custom` attribute, in PAGE's own `structure {...}` convention.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources

from lxml import etree

from hotich.page import PageResult, Point

NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
SCHEMA_LOCATION = f"{NS} {NS}/pagecontent.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def to_page_xml(result: PageResult, created: dt.datetime | None = None) -> bytes:
    """Serialise `result`; pass `created` for byte-identical output across runs."""
    stamp = (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    root = etree.Element(f"{{{NS}}}PcGts", nsmap={None: NS, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", SCHEMA_LOCATION)
    meta = _sub(root, "Metadata")
    _sub(meta, "Creator").text = "hotich-ocr"
    _sub(meta, "Created").text = stamp
    _sub(meta, "LastChange").text = stamp
    page = _sub(root, "Page", imageFilename=result.image.filename, imageWidth=str(result.image.width),
                imageHeight=str(result.image.height),
                custom=f"template {{id:{result.template_id}; era:{result.era}; book_type:{result.book_type};}}")
    for record in result.records:
        region = _sub(page, "TextRegion", id=f"r{record.index}",
                      custom=f"structure {{type:record; index:{record.index};}}")
        _coords(region, record.polygon)
        for field in record.fields:
            field_region = _sub(region, "TextRegion", id=f"r{record.index}_{field.key}",
                                custom=f"structure {{type:field; key:{field.key};}}")
            _coords(field_region, field.polygon)
            for n, line in enumerate(field.lines):
                text_line = _sub(field_region, "TextLine", id=f"r{record.index}_{field.key}_l{n}")
                _coords(text_line, line.polygon)
                _text(text_line, line.text)
            _text(field_region, field.text, field.confidence)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)


def _coords(parent: etree._Element, polygon: list[Point]) -> None:
    points = " ".join(f"{max(0, round(x))},{max(0, round(y))}" for x, y in polygon)
    _sub(parent, "Coords", points=points)


def _text(parent: etree._Element, text: str, confidence: float | None = None) -> None:
    equiv = _sub(parent, "TextEquiv", **({"conf": f"{confidence:.4f}"} if confidence is not None else {}))
    _sub(equiv, "Unicode").text = text


@cache
def _schema() -> etree.XMLSchema:
    path = resources.files("hotich.schemas") / "pagecontent-2019-07-15.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def validate_page_xml(xml: bytes) -> list[str]:
    """Schema errors of a PAGE XML document; an empty list means it validates."""
    schema = _schema()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
