"""The recogniser's view of a line: the ink band, normalisation, resizing bounds, batching with paper."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from hotich.datasets.fonts import load_handwriting
from hotich.line_image import BACKGROUND, ink_band, pad_lines, preprocess_line, width_batches


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


def test_stretch_widens_a_line_after_its_height_is_fixed_and_keeps_the_bounds():
    gray = np.full((64, 200), 200, np.uint8)
    assert preprocess_line(gray, 32, 1024, stretch=1.5).shape == (32, 150)
    assert preprocess_line(np.full((32, 1000), 200, np.uint8), 32, 1024, stretch=1.5).shape == (32, 1024)
    with pytest.raises(ValueError, match="stretch must be positive"):
        preprocess_line(gray, 32, 1024, stretch=0.0)


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


def _cell_with_writing(text: str = "Nguyễn Thị Hằng 1992") -> tuple[np.ndarray, int, int]:
    """A cell band 90 px tall: handwriting ~25 px tall near its bottom, over a dotted guide, under the previous
    row's rule, between two cell borders; and the rows its letters' ink spans."""
    writing = Image.new("L", (520, 90), 255)
    ImageDraw.Draw(writing).text((20, 40), text, font=load_handwriting("patrick-hand", 26), fill=40)
    rows = np.flatnonzero((np.asarray(writing) < 128).any(axis=1))
    gray = np.asarray(writing).copy()
    gray[3:5, :] = 60                # the rule above
    gray[74, ::6] = 90               # dotted guide under the writing
    gray[:, 2:4] = gray[:, -4:-2] = 60  # cell borders
    return gray, int(rows.min()), int(rows.max()) + 1


def test_ink_band_keeps_the_writing_and_its_marks_and_drops_the_ruling():
    gray, top, bottom = _cell_with_writing()
    y0, y1 = ink_band(gray)
    assert y0 <= top and y1 >= bottom  # tone marks above and descenders below included
    assert y0 > 5                      # the rule above is not writing
    assert (y1 - y0) < 0.75 * gray.shape[0]


def test_a_tall_crop_is_banded_on_a_shrunk_copy_much_as_at_full_size():
    gray, top, bottom = _cell_with_writing()  # 90 px: banded as it is
    tall = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)  # 180 px: shrunk to 45 rows first
    (y0, y1), (t0, t1) = ink_band(gray), ink_band(tall)
    assert t0 <= 2 * top and t1 >= 2 * bottom  # the writing and its marks
    assert t0 > 10                             # not the rule above (rows 6-9 at this size)
    # the shrunk copy's pixel margins are twice as wide here
    assert 2 * y0 - 12 <= t0 <= 2 * y0 and 2 * y1 <= t1 <= 2 * y1 + 12


def _ink_rows(line: np.ndarray) -> int:
    return int((line < 0).any(axis=1).sum())


def test_ink_crop_makes_the_writing_fill_the_model_height():
    gray, _, _ = _cell_with_writing()
    cell, ink = preprocess_line(gray, 32, 1024), preprocess_line(gray, 32, 1024, crop="ink")
    assert ink.shape[1] > cell.shape[1]  # the same line, taller letters: more frames for CTC
    assert _ink_rows(ink) > 1.3 * _ink_rows(cell)


def test_ink_band_of_a_blank_cell_is_the_whole_cell():
    blank = np.full((60, 300), 235, np.uint8)
    blank[50, ::5] = 120  # only a dotted guide
    assert ink_band(blank) == (0, 60)


def test_ink_band_takes_views_and_tiny_crops():
    gray, _, _ = _cell_with_writing()
    wide = np.full((90, 1100), 255, np.uint8)
    wide[:, 20:540] = gray
    assert ink_band(wide[:, 20:540]) == ink_band(gray)  # a view into a wider image, not contiguous
    assert ink_band(gray[:11]) == (0, 11) and ink_band(gray[:, :11]) == (0, 90)


def test_width_batches_keep_similar_widths_together_and_cover_every_line():
    widths = [100, 30, 31, 200, 105, 32, 33, 34, 210, 109]
    batches = width_batches(widths, batch_size=3, spread=0.1)
    assert sorted(i for batch in batches for i in batch) == list(range(len(widths)))
    for batch in batches:
        assert len(batch) <= 3
        assert max(widths[i] for i in batch) <= 1.1 * min(widths[i] for i in batch)
    assert [[widths[i] for i in batch] for batch in batches] == [[30, 31, 32], [33, 34], [100, 105, 109], [200, 210]]
