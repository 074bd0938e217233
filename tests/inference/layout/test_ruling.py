"""The shipped ruling detector on ONNX Runtime: it finds the printed ruling of strongly aged pages in fonts
it never saw, helps registration there, and refuses what is not a grey work page."""

import numpy as np
import pytest

from hotich.datasets.ruling import page_sample
from hotich.datasets.synth.pages import SynthOptions, generate_page
from hotich.evaluation.layout import polygon_iou
from hotich.inference.layout.register import register_page
from hotich.inference.layout.ruling import DEFAULT_MODEL_DIR, RulingDetector
from hotich.templates import get_template

# A table and a form (dotted leaders), from a seed no training or validation set uses.
PAGES = [(913, 0), (913, 3)]


@pytest.fixture(scope="module")
def detector() -> RulingDetector:
    return RulingDetector(threads=1)


@pytest.fixture(scope="module", params=PAGES, ids=lambda p: f"page{p[1]}")
def sample(request):
    return page_sample(*request.param, SynthOptions(fonts="heldout", ageing="strong"))


def _iou(pred: np.ndarray, truth: np.ndarray) -> float:
    return float((pred & truth).sum() / max(1, (pred | truth).sum()))


def test_finds_the_ruling_of_a_strongly_aged_page(detector, sample):
    probs = detector.probabilities(sample.gray)
    assert probs.shape == sample.masks.shape and probs.dtype == np.float32
    for k, name in enumerate(detector.classes):
        if sample.masks[k].sum() < 100:
            continue
        # The masks are a pixel or two wide: a pixel off is half the IoU, so accept a pixel of play.
        assert _iou(probs[k] > 0.5, sample.masks[k]) > 0.3, name
        near = np.zeros_like(sample.masks[k])
        near[1:-1] = sample.masks[k][:-2] | sample.masks[k][1:-1] | sample.masks[k][2:]
        near[:, 1:-1] |= sample.masks[k][:, :-2] | sample.masks[k][:, 2:]
        assert ((probs[k] > 0.5) & near).sum() / max(1, (probs[k] > 0.5).sum()) > 0.75, name


def test_responses_are_uint8_maps_by_class(detector, sample):
    maps = detector.responses(sample.gray)
    assert set(maps) == {"rule_h", "rule_v", "leader"}
    assert all(m.dtype == np.uint8 and m.shape == sample.gray.shape for m in maps.values())


def _share_placed(page, detector) -> float:
    image = np.ascontiguousarray(page.image[:, :, ::-1])
    reg = register_page(image, get_template(page.truth.template_id), ruling_model=detector)
    assert reg.details["method"].startswith("learned" if detector is not None else "ruling")
    got = {(f.record, f.key): f.polygon for f in reg.fields}
    ious = [polygon_iou(got[(r.index, f.key)], np.array(f.polygon)) if (r.index, f.key) in got else 0.0
            for r in page.truth.records for f in r.fields]
    return float(np.mean(np.array(ious) >= 0.7))


def test_registration_with_the_model_places_the_fields(detector):
    table = generate_page(*PAGES[0], SynthOptions(fonts="heldout", ageing="strong"))
    assert _share_placed(table, detector) > 0.9
    # A hard form page (stained, leaders faded): the morphology places a third of its fields, the model more.
    form = generate_page(*PAGES[1], SynthOptions(fonts="heldout", ageing="strong"))
    assert _share_placed(form, detector) > _share_placed(form, None) + 0.05


@pytest.mark.parametrize("bad", [np.zeros((100, 80, 3), np.uint8), np.zeros((100, 80), np.float32),
                                 np.zeros((4, 80), np.uint8), "page.png"], ids=["bgr", "float", "tiny", "path"])
def test_refuses_what_is_not_a_grey_work_page(detector, bad):
    with pytest.raises(ValueError, match="grey work image"):
        detector.probabilities(bad)


def test_a_missing_model_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="hotich export"):
        RulingDetector(tmp_path)
    assert (DEFAULT_MODEL_DIR / "model.json").is_file()
