"""The compiled ink band computes each step as OpenCV computes it, so bands do not move when it replaces them."""

import cv2
import numpy as np
import pytest

from hotich._ink_band import band, components, ruled_ink


def _opencv_ink(darkness: np.ndarray) -> np.ndarray:
    otsu, ink = cv2.threshold(darkness, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return ink if otsu >= 20 else cv2.threshold(darkness, 20, 1, cv2.THRESH_BINARY)[1]


def _opencv_rules(ink: np.ndarray) -> np.ndarray:
    h, w = ink.shape
    thick = cv2.dilate(ink, np.ones((3, max(3, h // 8)), np.uint8))
    flat = cv2.morphologyEx(thick, cv2.MORPH_OPEN, np.ones((1, max(2 * h, w // 6)), np.uint8))
    tall = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(2, int(0.7 * h)), 1), np.uint8))
    return (flat | tall).astype(bool)


def _opencv_ruled_ink(gray: np.ndarray) -> np.ndarray:
    """The steps in OpenCV, as the band was first written: paper by a dilation, ink by Otsu twice, ruling opened
    away."""
    size = max(3, (gray.shape[0] // 3) | 1)
    darkness = cv2.subtract(cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))), gray)
    ink = _opencv_ink(darkness)
    darkness[cv2.dilate(_opencv_rules(ink).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 0
    ink = _opencv_ink(darkness)
    ink[_opencv_rules(ink)] = 0
    return ink


def _ruled_line(rng: np.random.Generator) -> np.ndarray:
    """A cell band of random size: strokes of random darkness on uneven paper, a rule, a dotted guide, borders."""
    h, w = int(rng.integers(12, 120)), int(rng.integers(12, 700))
    gray = np.clip(rng.normal(rng.uniform(170, 250), rng.uniform(1, 15), (h, w)), 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, 30))):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.line(gray, (x, y), (x + int(rng.integers(-20, 20)), y + int(rng.integers(-h // 2, h // 2 + 1))),
                 int(rng.integers(0, 160)), int(rng.integers(1, 4)))
    if rng.random() < 0.5:
        gray[int(rng.integers(0, h)), :] = int(rng.integers(40, 120))
    if rng.random() < 0.5:
        gray[int(rng.integers(0, h)), :: int(rng.integers(2, 8))] = int(rng.integers(60, 160))
    if rng.random() < 0.5:
        gray[:, : int(rng.integers(1, 4))] = int(rng.integers(40, 120))
    return gray


@pytest.mark.parametrize("seed", range(4))
def test_ruled_ink_is_opencvs(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        gray = _ruled_line(rng)
        assert np.array_equal(ruled_ink(gray), _opencv_ruled_ink(gray)), gray.shape


@pytest.mark.parametrize("seed", range(4))
def test_components_are_opencvs_in_opencvs_order(seed):
    # the band sums the components' rows in their order, so the order must be OpenCV's too
    rng = np.random.default_rng(seed)
    for _ in range(50):
        h, w = int(rng.integers(1, 90)), int(rng.integers(1, 400))
        ink = (rng.random((h, w)) < rng.uniform(0.02, 0.7)).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        expected = stats[1:][:, [cv2.CC_STAT_AREA, cv2.CC_STAT_TOP, cv2.CC_STAT_HEIGHT]]
        assert np.array_equal(components(ink), expected), (h, w)


def test_band_of_paper_or_a_tiny_crop_is_the_whole_crop():
    assert band(np.full((40, 200), 230, np.uint8)) == (0, 40)
    assert band(np.zeros((11, 300), np.uint8)) == (0, 11)
    with pytest.raises(ValueError):
        band(np.zeros((40, 200), np.float32))
