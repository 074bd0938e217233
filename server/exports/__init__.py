"""Exports of a digitized book, as library functions the service and the CLI call: the Ministry of Justice's
import workbook (sheet "DL Import", one row per registration, its header cell for cell as the Ministry's
template has it), one PDF per registration cut from its page image (zipped), CSV and JSON for other systems,
and PAGE XML for eScriptorium and Transkribus. Pages no known template fits contribute no registration.
"""

from hotich.server.exports.book import FORMATS, export_book
from hotich.server.exports.columns import CodeList, ImportSheet, code_lists, import_sheet
from hotich.server.exports.pagexml import write_page_xml_zip
from hotich.server.exports.pdfs import write_registration_pdfs
from hotich.server.exports.rows import BookRows, Registration, ReviewCell, book_rows, split_id_document
from hotich.server.exports.tabular import write_book_csv, write_book_json
from hotich.server.exports.xlsx import write_book_xlsx

__all__ = [
    "FORMATS",
    "BookRows",
    "CodeList",
    "ImportSheet",
    "Registration",
    "ReviewCell",
    "book_rows",
    "code_lists",
    "export_book",
    "import_sheet",
    "split_id_document",
    "write_book_csv",
    "write_book_json",
    "write_book_xlsx",
    "write_page_xml_zip",
    "write_registration_pdfs",
]
