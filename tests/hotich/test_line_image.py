"""The recogniser's view of a line: normalisation, resizing bounds, batching with paper."""

import numpy as np
import pytest

from hotich.line_image import BACKGROUND, pad_lines, preprocess_line


def test_preprocess_line_normalises_paper_to_plus_one_and_ink_to_minus_one():
    gray = np.full((64, 200), 255, np.uint8)
    gray[20:40, 50:150] = 0
    out = preprocess_line(gray, 32, 1024)
    assert out.dtype == np.float32 and out.shape == (32, 100)
    assert out[0, 0] == pytest.approx(1.0) and out[15, 50] == pytest.approx(-1.0)
    assert preprocess_line(np.full((32, 40), 51, np.uint8), 32, 1024)[0, 0] == pytest.approx(51 / 255 / 0.5 - 1)


@pytest.mark.parametrize(("shape", "width"), [((32, 10), 32), ((32, 5000), 1024), ((96, 1452), 484), ((16, 40), 80)])
def test_preprocess_line_width_keeps_aspect_within_bounds(shape, width):
    assert preprocess_line(np.full(shape, 200, np.uint8), 32, 1024).shape == (32, width)


def test_preprocess_line_rejects_colour_images():
    with pytest.raises(ValueError, match="2-D uint8"):
        preprocess_line(np.zeros((32, 100, 3), np.uint8), 32, 1024)


def test_pad_lines_pads_with_paper_and_keeps_widths():
    lines = [preprocess_line(np.zeros((32, w), np.uint8), 32, 1024) for w in (40, 90, 60)]
    batch, widths = pad_lines(lines)
    assert batch.shape == (3, 1, 32, 90) and widths.tolist() == [40, 90, 60]
    assert np.all(batch[0, 0, :, 40:] == BACKGROUND) and np.all(batch[1, 0] == -1.0)


def test_pad_lines_rejects_mixed_heights_and_empty_batches():
    with pytest.raises(ValueError, match="one height"):
        pad_lines([np.ones((32, 40), np.float32), np.ones((48, 40), np.float32)])
    with pytest.raises(ValueError, match="zero lines"):
        pad_lines([])
