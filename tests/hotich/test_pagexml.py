from hotich.page import BBox, FieldResult, ImageInfo, PageResult, RecordResult, TextLineResult
from hotich.pagexml import to_page_xml, validate_page_xml


def _page() -> PageResult:
    poly = [(10.0, 10.0), (200.0, 10.0), (200.0, 40.0), (10.0, 40.0)]
    field = FieldResult(key="nks_ho_ten", text="Nguyễn Thị Hằng", value="Nguyễn Thị Hằng", polygon=poly,
                        bbox=BBox.around(poly), lines=[TextLineResult(polygon=poly, text="Nguyễn Thị Hằng")])
    empty = FieldResult(key="ghi_chu", polygon=poly, bbox=BBox.around(poly))
    record = RecordResult(index=0, polygon=poly, bbox=BBox.around(poly), fields=[field, empty])
    return PageResult(page_id="p1", image=ImageInfo(filename="p1.png", width=300, height=100),
                      template_id="khai_sinh.nd158_2005", book_type="khai_sinh", era="nd158_2005", records=[record])


def test_page_xml_validates_against_the_2019_schema():
    xml = to_page_xml(_page())
    assert validate_page_xml(xml) == []
    assert "Nguyễn Thị Hằng".encode() in xml
    assert b"structure {type:field; key:nks_ho_ten;}" in xml


def test_validation_reports_what_is_wrong():
    xml = to_page_xml(_page()).replace(b"<Coords", b"<Cords", 1).replace(b"</Coords", b"</Cords", 1)
    errors = validate_page_xml(xml)
    assert errors and "Cords" in errors[0]
