"""Uploads as page images: sizes checked from the header before decoding, PDFs rendered page by page."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from hotich.inference.images import PDF_LONG_SIDE, BadInput, decode_image, pdf_page_count, pdf_pages


def _png(width: int, height: int) -> bytes:
    return cv2.imencode(".png", np.full((height, width, 3), 200, np.uint8))[1].tobytes()


def _pdf(sizes_pt: list[tuple[int, int]]) -> bytes:
    buffer = io.BytesIO()
    # Pillow writes a page of w x h pixels at `resolution` dpi: at 72 dpi one pixel is one point.
    pages = [Image.new("RGB", size, (200, 200, 200)) for size in sizes_pt]
    pages[0].save(buffer, format="PDF", resolution=72, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def test_images_decode_to_bgr_and_their_size_is_checked_first():
    assert decode_image(_png(600, 400)).shape == (400, 600, 3)
    with pytest.raises(BadInput, match="MP") as huge:
        decode_image(_png(3000, 2000), max_megapixels=5)
    assert huge.value.kind == "too_large"
    with pytest.raises(BadInput) as small:
        decode_image(_png(120, 80))
    assert small.value.kind == "too_small"


@pytest.mark.parametrize(("data", "kind"), [(b"", "empty"), (b"%PDF-1.7 ...", "pdf"), (b"GIF89a....", "not_an_image")])
def test_what_is_no_image_says_so(data, kind):
    with pytest.raises(BadInput) as refused:
        decode_image(data)
    assert refused.value.kind == kind


def test_pdf_pages_render_at_200_dpi_up_to_a_long_side_and_only_those_asked():
    data = _pdf([(595, 842), (1191, 1684), (595, 842)])  # A4, A2 (points), A4
    assert pdf_page_count(data) == 3
    a4, a2 = list(pdf_pages(data, max_pages=10, first=0, last=1))
    assert abs(a4.shape[0] - round(842 * 200 / 72)) <= 2 and a4.shape[2] == 3
    assert max(a2.shape[:2]) <= PDF_LONG_SIDE + 1
    with pytest.raises(BadInput, match="pages 1-3"):
        next(pdf_pages(data, max_pages=10, first=3, last=3))
    with pytest.raises(BadInput, match="3 pages"):
        next(pdf_pages(data, max_pages=2))
