import dataclasses
import itertools
import json

import cv2
import numpy as np
import pytest

from hotich.datasets.synth.ageing import AgeingParams, PointMap, age_page, sample_params

H, W = 700, 990  # a double page (wider than 1.25 x high), small to keep the tests fast


def make_page(height: int = H, width: int = W) -> tuple[np.ndarray, np.ndarray]:
    """A clean ledger spread: two ruled tables, black printed headings, blue handwriting; and its ink mask."""
    page = np.full((height, width, 3), 250, np.uint8)
    ink = np.zeros((height, width), np.uint8)
    half = width // 2
    rows = np.linspace(0.16 * height, 0.92 * height, 12).astype(int)
    for x0 in (0, half):
        left, right = x0 + int(0.07 * half), x0 + int(0.93 * half)
        cv2.putText(page, "SO DANG KY KHAI SINH", (left, int(0.09 * height)), cv2.FONT_HERSHEY_SIMPLEX,
                    height / 900, (20, 20, 20), max(1, height // 500), cv2.LINE_AA)
        for y in rows:
            cv2.line(page, (left, int(y)), (right, int(y)), (30, 30, 30), 1, cv2.LINE_AA)
        for x in np.linspace(left, right, 4).astype(int):
            cv2.line(page, (int(x), int(rows[0])), (int(x), int(rows[-1])), (30, 30, 30), 1, cv2.LINE_AA)
        for i, (a, b) in enumerate(itertools.pairwise(rows)):
            text = ("Nguyen Van An", "12/03/1981", "Ha Noi")[i % 3]
            cv2.putText(ink, text, (left + 8 + (i * 37) % 40, int(b - (b - a) * 0.25)),
                        cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, height / 1000, 255, max(1, height // 450), cv2.LINE_AA)
    blue = np.array([25, 40, 140], np.float32)
    alpha = ink[..., None] / 255.0
    page = (page * (1 - alpha) + blue * alpha).astype(np.uint8)
    return page, ink


@pytest.fixture(scope="module")
def page() -> tuple[np.ndarray, np.ndarray]:
    return make_page()


def test_strength_zero_is_identity(page):
    clean, ink = page
    params = sample_params(0.0, np.random.default_rng(0))
    out, pmap = age_page(clean, ink, params, seed=3)
    assert np.array_equal(out, clean)
    pts = np.array([[0.0, 0.0], [12.5, 300.25], [W - 1, H - 1]])
    np.testing.assert_allclose(pmap(pts), pts)


@pytest.mark.parametrize("photo", [False, True])
def test_reproducible_and_seed_dependent(page, photo):
    clean, ink = page
    params = sample_params(0.8, np.random.default_rng(1), photo=photo)
    a, map_a = age_page(clean, ink, params, seed=11)
    b, map_b = age_page(clean, ink, params, seed=11)
    c, _ = age_page(clean, ink, params, seed=12)
    assert a.shape == clean.shape and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    pts = np.array([[100.0, 100.0], [500.0, 400.0]])
    np.testing.assert_array_equal(map_a(pts), map_b(pts))


def test_same_params_from_same_rng():
    a = sample_params(0.7, np.random.default_rng(5))
    b = sample_params(0.7, np.random.default_rng(5))
    assert a == b


@pytest.mark.parametrize("strength", [0.3, 0.6, 1.0])
def test_shape_dtype_and_json(page, strength):
    clean, ink = page
    for seed in range(3):
        params = sample_params(strength, np.random.default_rng(seed))
        out, _ = age_page(clean, ink, params, seed=seed)
        assert out.shape == clean.shape and out.dtype == np.uint8
        text = json.dumps(dataclasses.asdict(params))
        assert json.loads(text)["strength"] == pytest.approx(strength)
    assert isinstance(params, AgeingParams)


def _dots_page() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    clean = np.full((H, W, 3), 250, np.uint8)
    xs, ys = np.meshgrid(np.linspace(0.15, 0.85, 6) * W, np.linspace(0.15, 0.85, 5) * H)
    centres = np.stack([xs.ravel(), ys.ravel()], 1)
    for x, y in centres:
        cv2.circle(clean, (round(x), round(y)), 6, (0, 0, 0), -1)
    return clean, np.zeros((H, W), np.uint8), centres


@pytest.mark.parametrize("photo", [False, True])
def test_point_map_follows_ink(photo):
    clean, ink, centres = _dots_page()
    for seed in range(4):
        params = sample_params(1.0, np.random.default_rng(100 + seed), photo=photo)
        out, pmap = age_page(clean, ink, params, seed=seed)
        grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
        moved = pmap(centres)
        assert np.all((moved >= 0) & (moved < [W, H])), "interior points must stay in the image"
        for x, y in moved:
            xi, yi = round(x), round(y)
            dot = grey[yi - 1 : yi + 2, xi - 1 : xi + 2].mean()
            ring = np.concatenate([grey[yi - 16, xi - 16 : xi + 17], grey[yi + 16, xi - 16 : xi + 17],
                                   grey[yi - 16 : yi + 17, xi - 16], grey[yi - 16 : yi + 17, xi + 16]])
            assert dot < np.median(ring) - 40, (seed, x, y, dot, np.median(ring))


@pytest.mark.parametrize("seed", range(6))
def test_warp_round_trip(seed):
    from hotich.datasets.synth.ageing.geometry import point_map

    params = sample_params(1.0, np.random.default_rng(seed), photo=seed % 2 == 0)
    pmap = point_map(params.geometry, W, H, spread=True, fit=params.photo)
    rng = np.random.default_rng(seed)
    pts = rng.uniform([0, 0], [W, H], (500, 2))
    back = pmap.inverse(pmap(pts))
    assert np.abs(back - pts).max() < 0.5
    out_pts = rng.uniform([0.1 * W, 0.1 * H], [0.9 * W, 0.9 * H], (500, 2))
    assert np.abs(pmap(pmap.inverse(out_pts)) - out_pts).max() < 0.5


def test_curl_bends_lines():
    """A photo with a curled page does not map straight rows of points onto straight lines."""
    from hotich.datasets.synth.ageing import Curl, Geometry
    from hotich.datasets.synth.ageing.geometry import point_map

    geometry = Geometry(scale=0.85, curl=Curl(gutter=0.04, edge=0.03))
    pmap = point_map(geometry, W, H, spread=True, fit=True)
    row = np.stack([np.linspace(0, W, 50), np.full(50, 0.2 * H)], 1)
    ys = pmap(row)[:, 1]
    assert np.ptp(ys) > 5
    assert isinstance(pmap, PointMap)


@pytest.mark.parametrize("seed", range(4))
def test_image_warp_agrees_with_point_map(seed):
    """The remap maps are interpolated from a coarse grid; they must stay within 0.5 px of the exact warp."""
    from hotich.datasets.synth.ageing import _MAP_GRID
    from hotich.datasets.synth.ageing.geometry import point_map, warp_maps
    from hotich.datasets.synth.ageing.grid import Grid

    params = sample_params(1.0, np.random.default_rng(seed), photo=True)
    pmap = point_map(params.geometry, W, H, spread=True, fit=True)
    grid = Grid(H, W, _MAP_GRID)
    maps = grid.upsample(np.dstack(warp_maps(pmap, grid)))
    qx, qy = np.meshgrid(np.arange(W, dtype=float), np.arange(H, dtype=float))
    exact = pmap.inverse(np.stack([qx.ravel(), qy.ravel()], 1))
    on_page = np.all((exact >= 0) & (exact < [W, H]), axis=1)
    assert np.abs(maps.reshape(-1, 2) - exact)[on_page].max() < 0.5
