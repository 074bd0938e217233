"""Registration scored alone, with the true template: classical and with the shipped ruling detector."""

import pytest

from hotich.datasets.synth.batch import write_pages
from hotich.datasets.synth.pages import SynthOptions
from hotich.evaluation.registration import evaluate_registration
from hotich.inference.layout.ruling import RulingDetector


@pytest.fixture(scope="module")
def pages_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    write_pages(2, 917, SynthOptions(fonts="heldout", ageing="medium"), out, workers=1)
    return out


@pytest.mark.parametrize("learned", [False, True], ids=["classical", "learned"])
def test_scores_every_field_of_every_page(pages_dir, learned):
    figures = evaluate_registration(pages_dir, RulingDetector(threads=1) if learned else None, progress=False)
    assert figures.n == 2 and figures.ms_per_page > 0
    assert figures.field_iou_ge_07 > 0.8 and 0.8 < figures.field_iou_mean <= 1


def test_an_empty_folder_says_how_to_make_pages(tmp_path):
    with pytest.raises(FileNotFoundError, match="hotich synth pages"):
        evaluate_registration(tmp_path, progress=False)
