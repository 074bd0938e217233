"""The book exports, on synthetic pages (`hotich synth pages` output: page images with their page results)."""

import csv
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import cv2
import openpyxl
import pypdfium2 as pdfium
import pytest
import yaml

from hotich.datasets.synth.batch import write_pages
from hotich.datasets.synth.pages import SynthOptions
from hotich.lexicons import GENDERS
from hotich.numwords import parse_date_words
from hotich.page import BBox, FieldIssue, FieldResult, ImageInfo, PageResult, RecordResult
from hotich.pagexml import validate_page_xml
from hotich.server.exports import (
    FORMATS,
    book_rows,
    code_lists,
    export_book,
    import_sheet,
    split_id_document,
    write_book_csv,
    write_book_json,
    write_book_xlsx,
    write_page_xml_zip,
    write_registration_pdfs,
)
from hotich.server.exports.pdfs import MARGIN
from hotich.server.exports.rows import IdDocument, page_registrations
from hotich.server.exports.tabular import CSV_EXTRA_COLUMNS
from hotich.server.exports.xlsx import IMPORT_SHEET, NOTES_SHEET, REVIEW_SHEET
from hotich.templates import get_template, list_templates

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REFERENCE = SHARED / "reference" / "moj_import_khai_sinh.xlsx"
FIELDS_YAML = SHARED / "domain" / "fields.yaml"
needs_shared = pytest.mark.skipif(not (REFERENCE.is_file() and FIELDS_YAML.is_file()),
                                  reason="../shared is absent: the Ministry's template and fields.yaml are not "
                                         "shipped; the vendored columns.yaml is checked without them")
DATE = re.compile(r"\d\d\.\d\d\.\d{4}")

Book = list[tuple[PageResult, Path]]


def _book(out: Path, template: str, pages: int, seed: int) -> Book:
    write_pages(pages, seed, SynthOptions(template=template, ageing="light"), out, workers=1)
    return [(PageResult.model_validate_json(p.read_text(encoding="utf-8")), p.with_suffix(".png"))
            for p in sorted(out.glob("*.json"))]


@pytest.fixture(scope="module")
def births(tmp_path_factory) -> Book:
    """Three pages of a 2020s birth book, two registrations a page."""
    return _book(tmp_path_factory.mktemp("births"), "khai_sinh.tt04_2020", 3, 41)


@pytest.fixture(scope="module")
def deaths(tmp_path_factory) -> Book:
    return _book(tmp_path_factory.mktemp("deaths"), "khai_tu.nd158_2005", 1, 42)


@pytest.fixture(scope="module")
def marriages(tmp_path_factory) -> Book:
    return _book(tmp_path_factory.mktemp("marriages"), "ket_hon.tt04_2020", 1, 43)


def _pages(book: Book) -> list[PageResult]:
    return [page for page, _ in book]


def _records(book: Book) -> list[RecordResult]:
    return [record for page, _ in book for record in page.records]


def _value(record: RecordResult, key: str) -> str:
    return record.field(key).value or ""


def _unknown(page: PageResult) -> PageResult:
    """A page no template fits (records kept, to show they are ignored all the same)."""
    return page.model_copy(update={"page_id": "cover", "template_id": "unknown", "book_type": "unknown",
                                   "era": "unknown"})


def _reference_sheet(name: str) -> list[tuple]:
    return list(openpyxl.load_workbook(REFERENCE)[name].iter_rows(values_only=True))


# The vendored import schema


def test_vendored_birth_header_keeps_the_templates_spaces_and_code_hints():
    sheet = import_sheet("khai_sinh")
    assert len(sheet.header) == 70
    assert sheet.header[:6] == ("STT", "so ", "quyenSo ", "trangSo ", "ngayDangKy ", "loaiDangKy \ni=[1,2,3,4,5,6]")
    assert sheet.columns[:6] == ("STT", "so", "quyenSo", "trangSo", "ngayDangKy", "loaiDangKy")
    assert {"nksHoTen", "nksGioiTinh", "nksNgaySinh", "meHoTen", "chaHoTen", "nycHoTen"} <= set(sheet.columns)
    with pytest.raises(ValueError, match="no columns for book type 'giam_ho'"):
        import_sheet("giam_ho")


@needs_shared
def test_vendored_schema_is_the_reference_template_and_fields_yaml():
    assert import_sheet("khai_sinh").header == _reference_sheet("DL Import")[0]
    notes = [cell for row in _reference_sheet("Ghi chu") for cell in row if cell is not None]
    for code_list in code_lists():
        assert code_list.title in notes
        assert all(label in notes for label in code_list.codes.values())
    era = next(e for e in yaml.safe_load(FIELDS_YAML.read_text(encoding="utf-8"))["eras"]
               if e["id"] == "csdlhtdt_import_v2019")
    birth = {f["key"]: f["moj"] for f in era["books"]["khai_sinh"]["fields"]}
    for book_type in ("khai_tu", "ket_hon", "nhan_cha_me_con", "xac_nhan_tinh_trang_hon_nhan"):
        book = era["books"][book_type]
        mojs = [birth[k] for k in book["common_fields"]] + [f["moj"] for f in book["fields"]]
        assert import_sheet(book_type).columns == ("STT", *(c for moj in mojs for c in moj.split(",")))


def test_every_template_maps_into_its_books_import_sheet():
    for template in list_templates():
        box = BBox(x0=0, y0=0, x1=10, y1=10)
        fields = [FieldResult(key=f.key, text=f.key, polygon=[(0, 0), (10, 0), (10, 10)], bbox=box)
                  for f in template.fields]
        page = PageResult(page_id="p", image=ImageInfo(filename="p.png", width=10, height=10), template_id=template.id,
                          book_type=template.book_type, era=template.era,
                          records=[RecordResult(index=0, polygon=[(0, 0), (10, 0), (10, 10)], bbox=box, fields=fields)])
        (row,) = page_registrations(page, 1)
        assert set(row.cells) <= set(import_sheet(template.book_type).columns), template.id


# Rows


def test_one_row_per_record_in_book_order(births):
    book = book_rows(_pages(births))
    records = _records(births)
    assert len(book.rows) == len(records) == 6
    assert [row.stt for row in book.rows] == [1, 2, 3, 4, 5, 6]
    assert [row.cells["STT"] for row in book.rows] == ["1", "2", "3", "4", "5", "6"]
    assert [row.number for row in book.rows] == [_value(r, "so") for r in records]
    assert [(row.page_number, row.record_index) for row in book.rows] == [(p, r) for p in (1, 2, 3) for r in (0, 1)]


def test_birth_values_land_in_their_columns_in_the_imports_form(births):
    for row, record in zip(book_rows(_pages(births)).rows, _records(births), strict=True):
        cells = row.cells
        assert cells["nksHoTen"] == _value(record, "nks_ho_ten")
        assert DATE.fullmatch(cells["nksNgaySinh"]) and cells["nksNgaySinh"] == _value(record, "nks_ngay_sinh")
        assert DATE.fullmatch(cells["ngayDangKy"])
        assert cells["nksGioiTinh"] == str(GENDERS[_value(record, "nks_gioi_tinh")]) in ("1", "2")
        assert cells["nksDanToc"] == _value(record, "nks_dan_toc")  # names, not codes
        assert cells["nksQuocTich"] == _value(record, "nks_quoc_tich")
        assert re.fullmatch(r"\d{4}", cells["meNgaySinh"])  # the book writes the mother's year only
        words = cells["nksNgaySinhBangChu"]
        assert words.startswith("Ngày ") and words == words.title()
        assert parse_date_words(words) == datetime.strptime(cells["nksNgaySinh"], "%d.%m.%Y").date()
        document = record.field("nyc_giay_to").text.split()
        if document:
            kind = {"CMND": "1", "CCCD": "4"}[document[0]]
            assert (cells["nycLoaiGiayToTuyThan"], cells["nycSoGiayToTuyThan"]) == (kind, document[-1])
        assert "nycNgayCapGiayToTuyThan" not in cells  # the birth sheet has no such column
        assert cells["nycHoTen"] == _value(record, "nyc_ho_ten")


@pytest.mark.parametrize(("text", "expected"), [
    ("CMND số 021663713", IdDocument(1, "021663713", "", "")),
    ("CCCD số 079096784549", IdDocument(4, "079096784549", "", "")),
    ("Hộ chiếu số B1234567 cấp ngày 5/6/2012 tại Cục Quản lý xuất nhập cảnh",
     IdDocument(2, "B1234567", "05.06.2012", "Cục Quản lý xuất nhập cảnh")),
    ("CMND số 141742143 do CA tỉnh Hải Dương cấp ngày 29/01/2007",
     IdDocument(1, "141742143", "29.01.2007", "CA tỉnh Hải Dương")),
    ("Giấy CMND: 141742143, ngày cấp 29.01.2007, nơi cấp: CA tỉnh Hải Dương",
     IdDocument(1, "141742143", "29.01.2007", "CA tỉnh Hải Dương")),
    ("Giấy chứng minh sĩ quan quân đội số 1234567", IdDocument(6, "1234567", "", "")),
    ("Thẻ căn cước số 001204012345", IdDocument(4, "001204012345", "", "")),  # the CCCD's name since 07.2024
    ("Thẻ căn cước số 2345678", IdDocument(8, "2345678", "", "")),  # an RVN card: another paper
    ("Giấy khai sinh", IdDocument(8, "Giấy khai sinh", "", "")),
])  # fmt: skip
def test_identity_documents_split_into_kind_code_number_date_and_place(text, expected):
    assert split_id_document(text) == expected


def test_a_death_book_gets_the_death_columns(deaths, tmp_path):
    path = write_book_xlsx(_pages(deaths), tmp_path / "deaths.xlsx")
    sheet = openpyxl.load_workbook(path)[IMPORT_SHEET]
    header = tuple(c.value for c in sheet[1])
    assert header == import_sheet("khai_tu").header
    assert header[:2] == ("STT", "so") and "nktHoTen" in header and "nksHoTen" not in header
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(_records(deaths)) == 5
    for row, record in zip(rows, _records(deaths), strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["nktHoTen"] == _value(record, "nkt_ho_ten")
        assert cells["nktGioiTinh"] == str(GENDERS[_value(record, "nkt_gioi_tinh")])
        assert cells["nktNgayChet"] == _value(record, "nkt_ngay_chet") and DATE.fullmatch(cells["nktNgayChet"])
        document = record.field("nkt_giay_to").text
        if document.startswith("CMND"):
            assert (cells["nktLoaiGiayToTuyThan"], cells["nktSoGiayToTuyThan"]) == ("1", document.split()[-1])


def test_a_marriage_book_gets_the_marriage_columns(marriages):
    book = book_rows(_pages(marriages))
    assert book.sheet.header == import_sheet("ket_hon").header
    assert {"chongHoTen", "voHoTen", "ngayXacLapQuanHeHonNhan"} <= set(book.sheet.columns)
    for row, record in zip(book.rows, _records(marriages), strict=True):
        # The printed name fills the column; the same name again by the signature does not replace it.
        assert row.cells["chongHoTen"] == _value(record, "chong_ho_ten")
        assert row.cells["voHoTen"] == _value(record, "vo_ho_ten")
        assert row.cells["voNgaySinh"] == _value(record, "vo_ngay_sinh")


def test_a_signature_fills_the_name_only_where_the_name_was_not_read(births):
    page = _pages(births)[0].model_copy(deep=True)
    name = page.records[0].field("nyc_ho_ten")
    name.text, name.value = "", None
    signature = page.records[1].field("nyc_chu_ky_ten")
    signature.needs_review = True
    first, second = book_rows([page]).rows
    assert first.cells["nycHoTen"] == page.records[0].field("nyc_chu_ky_ten").value
    assert second.cells["nycHoTen"] == page.records[1].field("nyc_ho_ten").value
    assert second.review == ()  # the unsure signature filled nothing


def test_a_places_unit_today_fills_its_dvhc_column(births):
    page = _pages(births)[0].model_copy(deep=True)
    page.records[0].field("nks_noi_sinh").unit = "xã Đồng Thái, tỉnh Ninh Bình"
    first, second = book_rows([page]).rows
    assert first.cells["nksNoiSinhDVHC"] == "xã Đồng Thái, tỉnh Ninh Bình"
    assert "nksNoiSinhDVHC" not in second.cells


def test_blank_record_blocks_make_no_row(births):
    page = _pages(births)[0].model_copy(deep=True)
    for field in page.records[1].fields:
        field.text, field.value = "", None
    assert [row.record_index for row in book_rows([page]).rows] == [0]


def test_book_values_fill_the_columns_a_book_shares(births):
    book = book_rows(_pages(births), {"noiDangKy": "UBND phường 15, quận 11", "quyenSo": "01/1999"})
    assert all(row.cells["noiDangKy"] == "UBND phường 15, quận 11" for row in book.rows)
    assert [row.cells["quyenSo"] for row in book.rows] == [_value(r, "quyen_so") for r in _records(births)]
    for wrong in ({"noiDangKi": "x"}, {"STT": "9"}):
        with pytest.raises(ValueError, match="only columns of its import sheet"):
            book_rows(_pages(births), wrong)


# Files


def test_birth_workbook_has_the_import_sheet_the_code_lists_and_no_review_marks(births, tmp_path):
    pages = _pages(births)
    flagged = pages[1].model_copy(deep=True)
    field = flagged.records[0].field("nks_ho_ten")
    field.needs_review, field.confidence = True, 0.42
    field.issues = [FieldIssue(code="name_not_vietnamese", message="a word of the name is not Vietnamese")]
    path = write_book_xlsx([pages[0], flagged, pages[2]], tmp_path / "births.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == [IMPORT_SHEET, NOTES_SHEET, REVIEW_SHEET]
    sheet = workbook[IMPORT_SHEET]
    assert tuple(c.value for c in sheet[1]) == import_sheet("khai_sinh").header
    assert sheet.max_row == 7 and sheet.max_column == 70
    assert [sheet.cell(r, 1).value for r in range(2, 8)] == [1, 2, 3, 4, 5, 6]
    assert sheet.cell(2, 2).value == _value(pages[0].records[0], "so") and sheet.cell(2, 2).number_format == "@"
    assert "Giấy CMND" in [c.value for c in workbook[NOTES_SHEET]["B"]]
    review = list(workbook[REVIEW_SHEET].iter_rows(values_only=True))
    assert len(review) == 2
    label = next(f.label for f in get_template(flagged.template_id).fields if f.key == "nks_ho_ten")
    assert review[1][:7] == (3, 2, flagged.page_id, 1, "nksHoTen", label, field.text)
    assert review[1][7:] == (0.42, "a word of the name is not Vietnamese")


@needs_shared
def test_birth_workbook_header_is_the_reference_templates_row_1_verbatim(births, tmp_path):
    path = write_book_xlsx(_pages(births), tmp_path / "births.xlsx")
    header = next(openpyxl.load_workbook(path)[IMPORT_SHEET].iter_rows(max_row=1, values_only=True))
    assert header == _reference_sheet("DL Import")[0]


def test_csv_opens_with_vietnamese_intact_and_says_what_to_check(births, tmp_path):
    pages = _pages(births)
    flagged = pages[0].model_copy(deep=True)
    flagged.records[1].field("nyc_giay_to").needs_review = True
    path = write_book_csv([flagged, *pages[1:]], tmp_path / "births.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfSTT,so,")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*import_sheet("khai_sinh").columns, *CSV_EXTRA_COLUMNS]
    assert [row["nksHoTen"] for row in rows] == [_value(r, "nks_ho_ten") for r in _records(births)]
    assert any(not row["nksHoTen"].isascii() for row in rows)
    assert rows[1]["canKiemTra"] == "nycLoaiGiayToTuyThan, nycSoGiayToTuyThan"
    assert rows[0]["canKiemTra"] == "" and (rows[1]["trang"], rows[1]["banGhi"]) == ("1", "2")


def test_json_is_the_page_results_of_the_book(births, tmp_path):
    pages = [_unknown(_pages(births)[0]), *_pages(births)]
    data = json.loads(write_book_json(pages, tmp_path / "book.json").read_text(encoding="utf-8"))
    assert [PageResult.model_validate(d) for d in data] == pages


def test_pdf_zip_holds_one_openable_pdf_per_registration_in_book_order(births, tmp_path):
    path = export_book(_pages(births), [image for _, image in births], tmp_path, ["pdfzip"])["pdfzip"]
    rows = book_rows(_pages(births)).rows
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == sorted(names) and len(names) == len(rows)
        assert names[0] == f"0001_p001_r1_so-{rows[0].number}.pdf"
        for name, row in zip(names, rows, strict=True):
            data = archive.read(name)
            assert data.startswith(b"%PDF-")
            document = pdfium.PdfDocument(data)
            assert len(document) == 1
            width, height = document[0].get_size()
            page = next(p for p, _ in births if p.page_id == row.page_id)
            margin = 2 * MARGIN * min(page.image.width, page.image.height)
            box = row.bbox
            assert width / height == pytest.approx((box.x1 - box.x0 + margin) / (box.y1 - box.y0 + margin), rel=0.05)
            # PDF points at the paper's scale: the crop is as wide on the PDF page as on the book's paper.
            paper_mm = get_template(page.template_id).layout.paper_mm[0]
            expected_mm = (box.x1 - box.x0 + margin) / page.image.width * paper_mm
            assert width / 72 * 25.4 == pytest.approx(expected_mm, rel=0.02)


def test_pdfs_are_cut_from_grey_pages_too(births, tmp_path):
    page, image = births[0]
    grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    with zipfile.ZipFile(write_registration_pdfs([(page, grey)], tmp_path / "grey.zip")) as archive:
        assert [len(pdfium.PdfDocument(archive.read(n))) for n in archive.namelist()] == [1, 1]


def test_page_xml_zip_validates(births, tmp_path):
    with zipfile.ZipFile(write_page_xml_zip(_pages(births), tmp_path / "page.zip")) as archive:
        names = archive.namelist()
        assert names == [f"p{n:03d}_{p.page_id}.xml" for n, p in enumerate(_pages(births), 1)]
        assert all(validate_page_xml(archive.read(n)) == [] for n in names)


def test_an_unidentified_page_contributes_no_registration(births, tmp_path):
    cover = _unknown(_pages(births)[0])
    pages = [cover, *_pages(births)]
    images = [births[0][1], *(image for _, image in births)]
    files = export_book(pages, images, tmp_path, FORMATS)
    assert set(files) == set(FORMATS) and all(p.is_file() for p in files.values())
    assert openpyxl.load_workbook(files["xlsx"])[IMPORT_SHEET].max_row == 1 + 6
    with files["csv"].open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["STT"] for row in rows] == ["1", "2", "3", "4", "5", "6"] and rows[0]["trang"] == "2"
    with zipfile.ZipFile(files["pdfzip"]) as archive:
        assert len(archive.namelist()) == 6 and archive.namelist()[0].startswith("0001_p002_r1")
    # The per-page formats keep every page: they say what was read, and of the cover that is nothing.
    with zipfile.ZipFile(files["pagexml"]) as archive:
        assert len(archive.namelist()) == 4 and validate_page_xml(archive.read(archive.namelist()[0])) == []
    assert len(json.loads(files["json"].read_text(encoding="utf-8"))) == 4


def test_export_book_refuses_before_writing_anything(births, deaths, tmp_path):
    births_pages, images = _pages(births), [image for _, image in births]
    cases = [
        (births_pages + _pages(deaths), None, ["xlsx"], "mix khai_sinh, khai_tu"),
        ([_unknown(births_pages[0])], None, ["json", "csv"], "no page of the book was identified"),
        (births_pages, None, ["json", "pdfzip"], "give the images"),
        (births_pages, images[:1], ["pdfzip"], "one image per page"),
        (births_pages, None, ["xlsx", "docx"], "unknown export formats"),
    ]
    for pages, page_images, formats, message in cases:
        out = tmp_path / message.replace(" ", "_")
        with pytest.raises(ValueError, match=message):
            export_book(pages, page_images, out, formats)
        assert not out.exists()


def test_xlsx_cells_are_text_and_codes_are_strings(births, tmp_path):
    path = write_book_xlsx(_pages(births), tmp_path / "b.xlsx")
    sheet = openpyxl.load_workbook(path)[IMPORT_SHEET]
    columns = import_sheet("khai_sinh").columns
    gender = sheet.cell(2, columns.index("nksGioiTinh") + 1)
    number = sheet.cell(2, columns.index("nksSoDinhDanh") + 1)
    assert isinstance(gender.value, str) and gender.number_format == "@"
    assert number.value == _value(_records(births)[0], "nks_so_dinh_danh") and number.value.startswith("0")
