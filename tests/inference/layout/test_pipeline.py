"""The whole layout stage with the shipped identifier: hard pages of every template come out identified,
counted and cut, with field polygons on the image the caller sent."""


import cv2
import numpy as np
import pytest

from hotich.evaluation.layout import field_ious, read_page, truth_files
from hotich.inference.layout.pipeline import LayoutDetector, ruling_fit
from hotich.inference.layout.preprocess import preprocess_page
from hotich.inference.layout.register import register_page
from hotich.templates import get_template, list_templates


@pytest.fixture(scope="module")
def detector() -> LayoutDetector:
    return LayoutDetector(threads=2)


def _pages(pages_dir) -> list[tuple[np.ndarray, dict]]:
    return [read_page(path)[::-1] for path in truth_files(pages_dir)]


def test_strongly_aged_pages_of_every_template(detector, strong_pages_dir):
    pages = _pages(strong_pages_dir)
    assert {truth["template_id"] for _, truth in pages} == {t.id for t in list_templates()}
    ious = []
    for image, truth in pages:
        layout = detector.analyse(image)
        assert layout.template_id == truth["template_id"], layout.identification.top3
        assert layout.registration.records_filled == len(truth["records"]), truth["image"]["filename"]
        assert set(layout.timings_ms) == {"preprocess", "identify", "register"}
        ious += field_ious(layout.fields, truth)
    assert np.mean(np.asarray(ious) >= 0.7) >= 0.95, np.mean(ious)


def test_fields_of_a_turned_page_land_on_the_turned_image(detector, strong_pages_dir):
    image, truth = _pages(strong_pages_dir)[3]
    turned = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    h = image.shape[0]
    layout = detector.analyse(turned)
    assert layout.template_id == truth["template_id"]
    # A quarter turn clockwise sends (x, y) to (h - 1 - y, x).
    for record in truth["records"]:
        for field in record["fields"]:
            field["polygon"] = [[h - 1 - y, x] for x, y in field["polygon"]]
    ious = field_ious(layout.fields, truth)
    assert np.mean(np.asarray(ious) >= 0.7) >= 0.9


def test_a_sheet_of_no_template_is_not_cut(detector):
    blank = np.full((1400, 1000, 3), 236, np.uint8)
    cv2.putText(blank, "Hoa don ban hang", (100, 200), cv2.FONT_HERSHEY_SIMPLEX, 2, (40, 40, 40), 3)
    layout = detector.analyse(blank)
    assert layout.identification.template_id is None and layout.template_id is None
    assert layout.identified_by == "none" and layout.registration is None and layout.fields == ()


def test_the_ruling_tells_a_template_from_its_sibling_of_another_era(strong_pages_dir):
    image, truth = _pages(strong_pages_dir)[0]
    page = preprocess_page(image).image
    true = get_template(truth["template_id"])
    siblings = [t for t in list_templates() if t.book_type == true.book_type and t.id != true.id]
    fits = {t.id: ruling_fit(register_page(page, t)) for t in [true, *siblings]}
    assert max(fits, key=fits.get) == true.id, fits
