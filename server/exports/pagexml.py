"""The book as PAGE XML: one file per page, in one zip, for eScriptorium and Transkribus users."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

from hotich.page import PageResult
from hotich.pagexml import to_page_xml

__all__ = ["write_page_xml_zip"]


def write_page_xml_zip(pages: Iterable[PageResult], zip_path: Path) -> Path:
    """Zip `to_page_xml` of every page, named "p003_<image name>.xml" so that names sort in book order and
    stay apart when page images share a name. Unidentified pages are kept: their PAGE XML has no region."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for page_number, page in enumerate(pages, 1):
            archive.writestr(f"p{page_number:03d}_{Path(page.image.filename).stem}.xml", to_page_xml(page))
    return zip_path
