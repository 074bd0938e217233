"""Registration on real synthetic pages: field cells found where the renderer drew them, filled records
counted, and pages that do not fit reported as such rather than crashing."""

import dataclasses

import cv2
import numpy as np
import pytest

from hotich.datasets.synth.ageing import Bleed, age_page, sample_params
from hotich.datasets.synth.pages import SynthOptions, generate_page
from hotich.datasets.synth.render import render_page
from hotich.inference.layout.register import FieldRegion, Registration, crop_field, register_page
from hotich.page import PageResult
from hotich.templates import get_template, list_templates

SEED = 21
"""Pages 0..12 of this run cover the 13 templates once each; page 5 has 1 of 5 blocks filled, page 10 4 of 5."""


def bgr(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Area IoU of two polygons (a truth polygon may have more than 4 points), rasterised at 1/4 pixel."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    lo = np.floor(np.minimum(a.min(0), b.min(0))) - 1
    size = (np.ceil(np.maximum(a.max(0), b.max(0))) + 1 - lo).astype(int) * 4
    ma = np.zeros((size[1], size[0]), np.uint8)
    mb = np.zeros_like(ma)
    cv2.fillPoly(ma, [np.round((a - lo) * 4).astype(np.int32)], 1)
    cv2.fillPoly(mb, [np.round((b - lo) * 4).astype(np.int32)], 1)
    union = np.count_nonzero(ma | mb)
    return np.count_nonzero(ma & mb) / union if union else 0.0


def field_ious(truth: PageResult, reg: Registration, warp: np.ndarray | None = None) -> list[float]:
    """IoU of every truth field with the registered one (0 where registration has none). `warp` (2x3)
    moves the truth polygons onto an image the page was warped to."""
    found = {(f.record, f.key): f.polygon for f in reg.fields}
    out = []
    for record in truth.records:
        for field in record.fields:
            poly = np.asarray(field.polygon, np.float64)
            if warp is not None:
                poly = poly @ warp[:, :2].T + warp[:, 2]
            got = found.get((record.index, field.key))
            out.append(iou(poly, got) if got is not None else 0.0)
    return out


@pytest.fixture(scope="module")
def clean_pages() -> dict[str, tuple[np.ndarray, PageResult]]:
    """One un-aged page per template (BGR image, truth), generated in-process."""
    pages = {}
    for index in range(len(list_templates())):
        page = generate_page(SEED, index, SynthOptions(ageing="none"))
        pages[page.truth.template_id] = (bgr(page.image), page.truth)
    return pages


@pytest.fixture(scope="module")
def light_pages() -> list[tuple[np.ndarray, PageResult]]:
    """Lightly aged scans (paper tone, faded print, a small skew): a spread table, a light-ruled table and
    two forms."""
    ids = ["khai_tu.nd158_2005", "ket_hon.nd04cp_1961", "khai_sinh.tt04_2020", "khai_sinh.south_pre1975"]
    pages = []
    for i, template_id in enumerate(ids):
        page = generate_page(SEED + 1, i, SynthOptions(ageing="light", fonts="heldout", template=template_id))
        pages.append((bgr(page.image), page.truth))
    return pages


@pytest.fixture(scope="module")
def strong_scan() -> tuple[np.ndarray, PageResult]:
    """The worst flatbed scan the ageing makes (stains, faded ink and print, noise, a few degrees of skew)
    of a page with 4 of its 5 blocks written, the back page's writing showing through the empty block."""
    page = generate_page(SEED, 10, SynthOptions(ageing="none", fonts="heldout"))
    params = sample_params(1.0, np.random.default_rng(3), photo=False)
    params = dataclasses.replace(params, bleed=Bleed(opacity=0.1, shift=(0.01, 0.004), blur=2.5))
    aged, to_aged = age_page(page.clean, page.ink, params, seed=11)
    h, w = aged.shape[:2]
    records = []
    for record in page.truth.records:
        fields = [f.model_copy(update={"polygon": [tuple(p) for p in np.clip(
            to_aged(np.asarray(f.polygon, np.float64)), 0, [w - 1, h - 1]).tolist()]}) for f in record.fields]
        records.append(record.model_copy(update={"fields": fields}))
    return bgr(aged), page.truth.model_copy(update={"records": records})


def test_fixture_covers_every_template_and_partly_filled_pages(clean_pages):
    assert sorted(clean_pages) == sorted(t.id for t in list_templates())
    partial = [t for t, (_, truth) in clean_pages.items()
               if len(truth.records) < get_template(t).layout.records_per_page]
    assert partial, "the run should hold at least one partly filled page, or record counting goes untested"


@pytest.mark.parametrize("template_id", [t.id for t in list_templates()])
def test_clean_page_cells_and_record_count(clean_pages, template_id):
    image, truth = clean_pages[template_id]
    template = get_template(template_id)
    reg = register_page(image, template)
    assert reg.template_id == template_id
    assert reg.records_filled == len(truth.records)
    ious = np.array(field_ious(truth, reg))
    assert (ious >= 0.7).mean() >= 0.98, f"IoU mean {ious.mean():.3f}, min {ious.min():.3f}"
    assert len(reg.fields) == reg.records_filled * len(template.fields)
    assert reg.details["match_share"] > 0.6
    assert reg.residual_px < 3.0


def test_light_aged_pages(light_pages):
    for image, truth in light_pages:
        reg = register_page(image, get_template(truth.template_id))
        assert reg.records_filled == len(truth.records), truth.page_id
        ious = np.array(field_ious(truth, reg))
        assert (ious >= 0.7).mean() >= 0.98, f"{truth.template_id}: IoU mean {ious.mean():.3f}"


def test_strong_scan_with_show_through(strong_scan):
    image, truth = strong_scan
    assert truth.template_id == "khai_tu.nd158_2005" and len(truth.records) == 4
    reg = register_page(image, get_template(truth.template_id))
    assert reg.records_filled == 4
    ious = np.array(field_ious(truth, reg))
    assert (ious >= 0.7).mean() >= 0.98, f"IoU mean {ious.mean():.3f}"


@pytest.mark.parametrize("template_id", ["ket_hon.nd158_2005", "khai_tu.tt04_2020", "khai_sinh.south_pre1975"])
def test_shifted_scaled_rotated_page(clean_pages, template_id):
    """The residual error preprocessing leaves: 1 degree of rotation, 3% scale, a shift of ~1% of the page."""
    image, truth = clean_pages[template_id]
    h, w = image.shape[:2]
    warp = cv2.getRotationMatrix2D((w / 2, h / 2), 1.0, 0.97)
    warp[:, 2] += (0.012 * w, -0.008 * h)
    moved = cv2.warpAffine(image, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=(240, 242, 244))
    reg = register_page(moved, get_template(template_id))
    assert reg.records_filled == len(truth.records)
    ious = np.array(field_ious(truth, reg, warp))
    assert (ious >= 0.7).mean() >= 0.98, f"IoU mean {ious.mean():.3f}"
    assert abs(float(reg.details["skew_deg"]) + 1.0) < 0.5  # the image y axis points down: -1 degree


@pytest.mark.parametrize("template_id", ["khai_sinh.nd83_1998", "ket_hon.tt04_2020"])
def test_blank_book_page_has_no_filled_records(template_id):
    """A printed page nobody wrote on: the ruling is found, no block counts as filled."""
    template = get_template(template_id)
    page = render_page(template, [], 3, 2000, np.random.default_rng(5))
    reg = register_page(bgr(page.image), template)
    assert reg.records_filled == 0
    assert reg.fields == ()
    assert reg.details["match_share"] > 0.6


def test_blank_image_is_a_poor_registration():
    reg = register_page(np.full((1414, 2000, 3), 246, np.uint8), get_template("khai_sinh.nd158_2005"))
    assert reg.records_filled == 0
    assert reg.details["match_share"] < 0.1
    assert reg.residual_px >= 5.0


def test_wrong_template_is_a_poor_registration(clean_pages):
    image, _ = clean_pages["khai_sinh.nd158_2005"]  # a ruled table across a spread
    right = register_page(image, get_template("khai_sinh.nd158_2005"))
    wrong = register_page(image, get_template("ket_hon.tt04_2020"))  # a form of single pages
    assert wrong.details["match_share"] < 0.5
    assert wrong.details["match_share"] < right.details["match_share"] - 0.3
    assert wrong.residual_px > 2 * right.residual_px


def test_grey_input_gives_the_same_cells(clean_pages):
    image, truth = clean_pages["khai_sinh.south_pre1975"]
    template = get_template(truth.template_id)
    colour = register_page(image, template)
    grey = register_page(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), template)
    assert grey.records_filled == colour.records_filled
    for a, b in zip(colour.fields, grey.fields, strict=True):
        assert isinstance(a, FieldRegion) and a.key == b.key
        assert a.polygon.shape == (4, 2) and a.polygon.dtype == np.float32
        np.testing.assert_allclose(a.polygon, b.polygon, atol=1.5)


def test_polygons_are_clockwise_from_top_left(clean_pages):
    image, truth = clean_pages["ket_hon.nd83_1998"]
    reg = register_page(image, get_template(truth.template_id))
    for f in reg.fields:
        tl, tr, br, bl = f.polygon
        assert tl[0] < tr[0] and bl[0] < br[0] and tl[1] < bl[1] and tr[1] < br[1]


def test_crop_field_is_upright_with_the_quad_aspect():
    # A 300 x 60 cell turned by 10 degrees, its left third dark, drawn on paper.
    image = np.full((400, 500, 3), 250, np.uint8)
    centre, angle = np.array([250.0, 200.0]), np.radians(10)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[-150, -30], [150, -30], [150, 30], [-150, 30]], np.float64)
    quad = (corners @ rot.T + centre).astype(np.float32)
    dark = np.array([[-150, -30], [-50, -30], [-50, 30], [-150, 30]], np.float64) @ rot.T + centre
    cv2.fillConvexPoly(image, np.round(dark * 16).astype(np.int32), (20, 20, 20), cv2.LINE_AA, 4)
    crop = crop_field(image, quad, pad=0.1)
    assert crop.shape == (72, 312, 3)  # 60 + 2 * 6 high, 300 + 2 * 6 wide
    grey = crop.mean(axis=2)
    inner = grey[6:66, 6:306]
    assert inner[:, 5:95].mean() < 40 and inner[:, 110:].mean() > 230  # the dark third is on the left
    assert crop_field(image, quad, pad=0.0).shape == (60, 300, 3)
    assert crop_field(image[:, :, 0], quad).ndim == 2


def test_crop_field_on_a_registered_page(clean_pages):
    image, truth = clean_pages["khai_sinh.nd158_2005"]
    reg = register_page(image, get_template(truth.template_id))
    field = next(f for f in reg.fields if f.key == "nks_noi_sinh")
    crop = crop_field(image, field.polygon)
    w = np.linalg.norm(field.polygon[1] - field.polygon[0])
    h = np.linalg.norm(field.polygon[3] - field.polygon[0])
    assert crop.shape[0] == pytest.approx(h * 1.16, abs=2) and crop.shape[1] == pytest.approx(w + 0.16 * h, abs=2)


@pytest.mark.parametrize(
    "image",
    [np.zeros((500, 500, 3), np.float32), np.zeros(500, np.uint8), np.zeros((40, 500, 3), np.uint8),
     np.zeros((500, 500, 2), np.uint8), [[0, 1], [2, 3]]],
)
def test_bad_images_raise(image):
    with pytest.raises(ValueError):
        register_page(image, get_template("khai_sinh.nd158_2005"))


def test_bad_arguments_raise():
    image = np.full((300, 300, 3), 250, np.uint8)
    with pytest.raises(ValueError):
        register_page(image, "khai_sinh.nd158_2005")
    with pytest.raises(ValueError):
        crop_field(image, np.zeros((3, 2)))
    with pytest.raises(ValueError):
        crop_field(image, np.array([[10, 10], [10, 10], [10, 10], [10, 10]], np.float32))
    with pytest.raises(ValueError):
        crop_field(image, np.array([[0, 0], [50, 0], [50, 20], [0, 20]], np.float32), pad=-1)
