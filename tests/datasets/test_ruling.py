"""Ruling masks of synthetic pages: the same page with or without them, and on the aged image exactly where
the printed ruling went."""

import cv2
import numpy as np
import pytest

from hotich.datasets.ruling import read_ruling_set, write_ruling_set
from hotich.datasets.synth.pages import SynthOptions, generate_page
from hotich.datasets.synth.render import RULING_CLASSES

FORM = SynthOptions(ageing="strong", template="ket_hon.tt04_2020")


@pytest.fixture(scope="module")
def form_page():
    return generate_page(6, 0, FORM, with_ruling=True)


def test_masks_leave_the_page_unchanged(form_page):
    plain = generate_page(6, 0, FORM)
    assert plain.ruling is None and np.array_equal(plain.image, form_page.image)
    assert form_page.ruling.shape == (len(RULING_CLASSES), *form_page.image.shape[:2])


def test_masks_lie_on_the_aged_ruling(form_page):
    gray = 255.0 - cv2.cvtColor(form_page.image, cv2.COLOR_RGB2GRAY)
    assert form_page.ruling[0].any() and form_page.ruling[2].any()
    for k, mask in enumerate(form_page.ruling):
        if not mask.any():
            continue
        on = (mask > 127).astype(np.uint8)
        # A band 3-6 px off the rule: paper, or the writing on it.
        band = cv2.dilate(on, np.ones((13, 13), np.uint8)) > cv2.dilate(on, np.ones((7, 7), np.uint8))
        assert gray[on > 0].mean() > gray[band].mean() + 15, RULING_CLASSES[k]


def test_samples_are_work_size_and_written_once(tmp_path):
    options = SynthOptions(fonts="heldout", ageing="medium")
    assert write_ruling_set(tmp_path, 9, [0], options) == 1
    assert write_ruling_set(tmp_path, 9, [0], options) == 0
    (sample,) = read_ruling_set(tmp_path)
    assert max(sample.gray.shape) == 1000 and sample.masks.dtype == bool
    assert sample.masks.shape == (len(RULING_CLASSES), *sample.gray.shape)
    assert 0.001 < sample.masks[:2].mean() < 0.1
    with pytest.raises(FileNotFoundError, match="hotich train ruling"):
        read_ruling_set(tmp_path / "empty")
