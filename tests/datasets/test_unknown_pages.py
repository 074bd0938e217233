"""The identifier's drawn `unknown` pages: every kind, in both views, reproducible from its generator."""

import numpy as np
import pytest

from hotich.datasets.lines import KALAPA_DIR, shared_data_dir
from hotich.datasets.page_thumbnails import load_pages
from hotich.datasets.synth.unknown_pages import DistractorMaker, kalapa_lines
from hotich.models.layout import template_classes


def test_drawn_unknown_pages_are_pages_of_their_own(light_pages_dir, tmp_path):
    classes, _ = template_classes()
    pages = load_pages([light_pages_dir], classes, tmp_path, 96, preprocessed_view=True, progress=False)
    assert len(pages) == 13 and {p.template_id for p in pages} == set(classes[:-1])
    assert all(max(p.corrected.shape) == 96 and p.view(True) is p.corrected for p in pages)
    maker = DistractorMaker(96, pages, kalapa=[np.full((40, 300), 255, np.uint8)])
    for kind in maker.KINDS:
        for pre in (False, True):
            a = maker.draw(kind, np.random.default_rng(1), pre)
            b = maker.draw(kind, np.random.default_rng(1), pre)
            assert a.dtype == np.uint8 and a.ndim == 2 and max(a.shape) == 96, (kind, pre)
            np.testing.assert_array_equal(a, b)
    assert maker(np.random.default_rng(2)).shape[0] > 0


@pytest.mark.skipif(shared_data_dir() is None or not (shared_data_dir() / KALAPA_DIR).is_dir(),
                    reason="needs ../shared/data/kalapa2023 (real handwriting, not in the repository)")
def test_kalapa_lines_are_tiled_onto_unknown_pages():
    lines = kalapa_lines(seed=0, n=5)
    assert len(lines) == 5 and all(line.dtype == np.uint8 for line in lines)
    page = DistractorMaker(128, [], lines).draw("kalapa", np.random.default_rng(0))
    assert max(page.shape) == 128 and page.min() < 128  # ink on the page
