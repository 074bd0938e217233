"""Page preprocessing on real generated pages: crafted rotations, skew, perspective and bow of a clean page
with known geometry, and an aged phone photo checked against the generator's truth."""

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from hotich.datasets.synth.batch import write_pages
from hotich.datasets.synth.pages import SynthOptions, page_id
from hotich.inference.layout.preprocess import (
    ALL_STEPS,
    MAX_PIXELS,
    detect_orientation,
    estimate_curl,
    estimate_skew,
    find_page,
    normalise_contrast,
    preprocess_page,
)
from hotich.templates import get_template

SEED = 11  # pages 0 and 1 of this run are phone photos (0 curled), page 2 a flatbed scan


class Page:
    def __init__(self, folder: Path, index: int) -> None:
        stem = folder / page_id(SEED, index)
        self.truth = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        self.aged = cv2.imread(str(stem.with_suffix(".png")))
        self.clean = cv2.imread(str(stem.with_suffix(".clean.png")))
        self.template = get_template(self.truth["template_id"])

    @property
    def photo(self) -> bool:
        return bool(self.truth["provenance"]["ageing"]["photo"])

    def ruling_rows(self) -> list[tuple[float, float, float]]:
        """(x0, x1, y) of the long horizontal rules under each record block of the clean table page."""
        h, w = self.clean.shape[:2]
        rows = []
        for i in range(self.template.layout.records_per_page):
            x0, _, x1, y1 = self.template.record_box(i)
            rows.append((x0 * w, x1 * w, y1 * h))
        return rows


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Page]:
    out = tmp_path_factory.mktemp("preprocess-pages")
    write_pages(3, SEED, SynthOptions(ageing="strong"), out, workers=1)
    loaded = [Page(out, i) for i in range(3)]
    assert [p.photo for p in loaded] == [True, True, False], "the generator's seeds changed: pick pages anew"
    assert loaded[1].template.layout.style == "table"
    return loaded


@pytest.fixture(scope="module")
def clean(pages) -> Page:
    """A clean two-page table spread, upright and level."""
    return pages[1]


def _grid(w: int, h: int, n: int = 9) -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(0, w - 1, n), np.linspace(0, h - 1, n))
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _affine(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    return points @ m[:, :2].T + m[:, 2]


# ------------------------------------------------------------------------------------------ orientation


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_orientation_turns_a_rotated_page_upright(clean, turns):
    rotated = np.ascontiguousarray(np.rot90(clean.clean, turns))
    result = preprocess_page(rotated, steps=("orientation",))
    report = result.step("orientation")
    assert report.applied and report.details["angle"] == 90 * turns
    assert report.details["confidence"] > 0.5
    grey = cv2.cvtColor(rotated, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(result.image, np.rot90(grey, -turns))  # quarter turns move pixels exactly
    # A pixel of the corrected page maps back to the same pixel of the rotated input.
    h, w = clean.clean.shape[:2]
    for x, y in [(10, 20), (w - 31, 7), (w // 2, h - 5)]:
        xi, yi = np.round(result.to_input(np.array([[x, y]], float))[0]).astype(int)
        assert grey[yi, xi] == result.image[y, x]


def test_orientation_leaves_an_upright_page(pages):
    for page in pages:
        o = detect_orientation(page.clean)
        assert o.angle == 0 and o.sure, (page.truth["template_id"], o)


def test_orientation_of_aged_pages_in_every_quarter_turn(pages):
    for page in pages:
        for turns in range(4):
            image = np.ascontiguousarray(np.rot90(page.aged, turns))
            result = preprocess_page(image, steps=("perspective", "orientation"))
            assert result.step("orientation").details["angle"] == 90 * turns, (page.truth["page_id"], turns)


# --------------------------------------------------------------------------------------------- deskew


def test_deskew_levels_a_page_turned_four_degrees(clean):
    h, w = clean.clean.shape[:2]
    turn = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 4.0, 1.0)  # counter-clockwise on screen
    skewed = cv2.warpAffine(clean.clean, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    result = preprocess_page(skewed, steps=ALL_STEPS)
    report = result.step("deskew")
    assert report.applied and abs(report.details["angle"] - 4.0) <= 0.5
    assert abs(estimate_skew(result.image).angle) < 0.15
    # The rules under the record blocks come out horizontal, and where they were on the clean page.
    for x0, x1, y in clean.ruling_rows():
        ends = result.to_output(_affine(np.array([[x0 + 20, y], [x1 - 20, y]]), turn))
        assert abs(ends[1, 1] - ends[0, 1]) < 3.0
        assert np.abs(ends - [[x0 + 20, y], [x1 - 20, y]]).max() < 6.0


def test_skew_sign_and_level_page(clean):
    assert abs(estimate_skew(clean.clean).angle) < 0.1
    h, w = clean.clean.shape[:2]
    turn = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -2.5, 1.0)
    skewed = cv2.warpAffine(clean.clean, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    assert estimate_skew(skewed).angle == pytest.approx(-2.5, abs=0.2)


# -------------------------------------------------------------------------------------------- perspective


def _photographed(clean_image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The page under a tilted camera, on a dark textured table; returns the photo and the page's corners."""
    h, w = clean_image.shape[:2]
    src = np.array([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], np.float32)
    corners = np.array([(260, 180), (1880, 120), (1960, 1390), (200, 1300)], np.float32)
    homography = cv2.getPerspectiveTransform(src, corners)
    rng = np.random.default_rng(3)
    table = rng.normal(0, 6, (1500, 2150, 3)) + np.array([38, 44, 52])
    photo = np.clip(cv2.GaussianBlur(table, (0, 0), 2), 0, 255).astype(np.uint8)
    cv2.warpPerspective(clean_image, homography, (2150, 1500), dst=photo, flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_TRANSPARENT)
    return photo, corners


def test_perspective_finds_and_flattens_a_photographed_page(clean):
    photo, corners = _photographed(clean.clean)
    frame = find_page(photo)
    assert frame.corners is not None, frame.note
    assert np.abs(frame.corners - corners).max() < 6.0
    ratio = max(frame.size) / min(frame.size)
    assert ratio == pytest.approx(max(clean.clean.shape[:2]) / min(clean.clean.shape[:2]), rel=0.01)

    result = preprocess_page(photo, max_side=2200)
    assert result.step("perspective").applied
    h, w = result.image.shape[:2]
    assert w > h
    mapped = result.to_output(corners.astype(float))
    assert np.abs(mapped - [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)]).max() < 8.0
    # Ruling comes out horizontal: the rules' ends on the clean page, through the photo, to the output.
    src = np.array([(0, 0), (clean.clean.shape[1] - 1, 0), (clean.clean.shape[1] - 1, clean.clean.shape[0] - 1),
                    (0, clean.clean.shape[0] - 1)], np.float32)
    to_photo = cv2.getPerspectiveTransform(src, corners)
    for x0, x1, y in clean.ruling_rows():
        ends = cv2.perspectiveTransform(np.array([[[x0 + 20, y], [x1 - 20, y]]], np.float32), to_photo)[0]
        out = result.to_output(ends.astype(float))
        assert abs(out[1, 1] - out[0, 1]) < 3.0


def test_perspective_leaves_a_scan_alone(pages):
    scan = pages[2]
    assert not scan.photo
    result = preprocess_page(scan.aged)
    report = result.step("perspective")
    assert not report.applied and "background" in report.details["note"]
    assert find_page(scan.clean).corners is None


# -------------------------------------------------------------------------------------------- dewarp


def _bowed(clean_image: np.ndarray, depth: float) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The page with its lines bowed into a parabola `depth` px deep in the middle; and the point map."""
    h, w = clean_image.shape[:2]

    def bow(x: np.ndarray) -> np.ndarray:
        return depth * (1 - ((x - (w - 1) / 2) / ((w - 1) / 2)) ** 2)

    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    bowed = cv2.remap(clean_image, xs, ys - bow(xs).astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)
    return bowed, lambda p: np.stack([p[:, 0], p[:, 1] + bow(p[:, 0])], axis=1)


def test_dewarp_straightens_a_bowed_page(clean):
    bowed, to_bowed = _bowed(clean.clean, 15.0)
    result = preprocess_page(bowed)
    report = result.step("dewarp")
    assert report.applied and report.details["max_shift"] == pytest.approx(15.0, abs=4.0)
    assert not result.step("perspective").applied
    for x0, x1, y in clean.ruling_rows():
        along = np.stack([np.linspace(x0 + 10, x1 - 10, 40), np.full(40, y)], axis=1)
        out = result.to_output(to_bowed(along))
        assert np.ptp(out[:, 1]) < 2.0
    # And on the image itself: each rule is one dark row across the page.
    gray = result.image.astype(float)
    for x0, x1, y in clean.ruling_rows():
        centre = result.to_output(to_bowed(np.array([[(x0 + x1) / 2, y]])))[0, 1]
        rows = []
        for x in np.linspace(x0 + 40, x1 - 40, 15).astype(int):
            band = gray[int(centre) - 8 : int(centre) + 9, x - 20 : x + 21].mean(axis=1)
            rows.append(int(np.argmin(band)))
        # The odd gap in a printed rule leaves a column without it: two such are allowed.
        assert np.ptp(sorted(rows)[1:-1]) <= 2, rows


def test_dewarp_leaves_straight_lines_alone(clean):
    estimate = estimate_curl(clean.clean)
    assert estimate.displacement is None and estimate.bend < 1.0, estimate
    result = preprocess_page(clean.clean)
    assert not result.step("dewarp").applied


# ------------------------------------------------------------------------------------ aged photo pages


def test_photo_fields_come_out_level(pages):
    page = pages[0]
    assert page.photo and page.truth["provenance"]["ageing"]["geometry"]["curl"] is not None
    result = preprocess_page(page.aged)
    assert result.step("perspective").applied
    angles = []
    for record in page.truth["records"]:
        for field in record["fields"]:
            polygon = np.array(field["polygon"], float)
            top = result.to_output(polygon[: len(polygon) // 2])
            dx, dy = top[-1] - top[0]
            angles.append(abs(np.degrees(np.arctan2(dy, dx))))
    angles = np.array(angles)
    assert np.median(angles) < 0.5
    assert np.percentile(angles, 90) < 1.0
    assert angles.max() < 2.5


@pytest.mark.parametrize("index", [0, 1, 2])
def test_points_go_there_and_back(pages, index):
    page = pages[index]
    result = preprocess_page(page.aged)
    h, w = page.aged.shape[:2]
    points = _grid(w, h)
    assert np.abs(result.to_input(result.to_output(points)) - points).max() < 1.5
    oh, ow = result.image.shape[:2]
    out_points = _grid(ow, oh)
    assert np.abs(result.to_output(result.to_input(out_points)) - out_points).max() < 1.5


# ------------------------------------------------------------------------------------------- contrast


def test_contrast_flattens_a_shadow(clean):
    w = clean.clean.shape[1]
    light = np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :, None]
    shaded = (clean.clean.astype(np.float32) * light).astype(np.uint8)
    out = normalise_contrast(shaded)
    assert out.shape == shaded.shape and out.dtype == np.uint8
    gray = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    left, right = np.median(gray[:, : w // 5]), np.median(gray[:, -w // 5 :])
    assert abs(float(left) - float(right)) < 8 and left > 230
    assert np.percentile(gray, 1) < 90  # ink stays dark


def test_grey_input_gives_a_grey_page_and_plain_reports(clean):
    gray = cv2.cvtColor(clean.clean, cv2.COLOR_BGR2GRAY)
    result = preprocess_page(gray)
    assert result.image.shape == gray.shape and result.image.dtype == np.uint8
    assert [s.name for s in result.steps] == list(ALL_STEPS)
    for step in result.steps:
        assert step.ms >= 0 and all(type(v) in (float, str) for v in step.details.values()), step
    json.dumps([s.details for s in result.steps])


def test_output_never_shares_the_input(clean):
    result = preprocess_page(clean.clean, steps=())
    assert not np.shares_memory(result.image, clean.clean)


def test_large_input_is_shrunk_and_mapped_back(clean):
    big = cv2.resize(clean.clean, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
    result = preprocess_page(big, steps=(), max_side=2000)
    assert max(result.image.shape[:2]) == 2000
    scale = 2000 / max(big.shape[:2])
    mapped = result.to_input(np.array([[100.0, 50.0]]))
    assert mapped[0] == pytest.approx([100.5 / scale - 0.5, 50.5 / scale - 0.5], abs=0.01)


# ----------------------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty image"),
        (np.zeros((500, 400, 3), np.float32), "uint8"),
        (np.zeros((500, 400, 2), np.uint8), "grey .* or BGR"),
        (np.zeros((60, 400), np.uint8), "too small"),
        (np.broadcast_to(np.zeros((1, 1), np.uint8), (10_001, 10_001)), "megapixels .* shrink it"),
        ([[0, 1], [2, 3]], "numpy image"),
    ],
)
def test_bad_input_says_what_to_do(image, message):
    with pytest.raises(ValueError, match=message):
        preprocess_page(image)


def test_bad_options_say_what_to_do(clean):
    with pytest.raises(ValueError, match="choose from"):
        preprocess_page(clean.clean, steps=("deskew", "sharpen"))
    with pytest.raises(ValueError, match="max_side"):
        preprocess_page(clean.clean, max_side=100)
    assert MAX_PIXELS == 100_000_000
