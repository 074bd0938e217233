"""The template classifier: shapes, self-describing checkpoints, and an ONNX export that computes what torch does."""

import json

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch
from pydantic import ValidationError

from hotich.datasets.synth.batch import write_pages
from hotich.datasets.synth.pages import SynthOptions
from hotich.inference.layout.identify import (
    CARD_FORMAT,
    UNKNOWN,
    TemplateIdentifier,
    load_layout_card,
    normalise_thumbnails,
    page_thumbnail,
)
from hotich.models.layout import (
    LayoutConfig,
    build_classifier,
    export_layout,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
    template_classes,
    update_layout_card,
)
from hotich.models.recognizer import build_recognizer
from hotich.models.recognizer import load_model_config as load_recognizer_config
from hotich.models.recognizer import save_checkpoint as save_recognizer_checkpoint
from hotich.templates import list_templates


@pytest.fixture(scope="module")
def page_images(tmp_path_factory):
    """Three real synthetic pages (gray), of three different templates."""
    out = tmp_path_factory.mktemp("pages")
    write_pages(3, 5, SynthOptions(ageing="light"), out, workers=1)
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(out.glob("synth-*[0-9].png"))]


def test_classes_are_every_template_then_unknown():
    classes, templates = template_classes()
    assert classes[-1] == UNKNOWN and len(classes) == len(list_templates()) + 1 == 14
    assert list(classes[:-1]) == sorted(templates)
    assert templates["khai_sinh.south_pre1975"] == {"book_type": "khai_sinh", "era": "south_pre1975"}


def test_output_shapes(tiny_layout_config):
    model = build_classifier(load_model_config(tiny_layout_config)).eval()
    with torch.no_grad():
        assert model(torch.zeros(3, 1, 64, 64)).shape == (3, 14)
    shipped = build_classifier(load_model_config("layout_classifier")).eval()
    size = shipped.config.size
    with torch.no_grad():
        assert shipped(torch.zeros(1, 1, size, size)).shape == (1, 14)
    # fp32 weights well under the 10 MB budget of the served file
    assert sum(p.numel() for p in shipped.parameters()) * 4 < 8e6


def test_config_checks_its_geometry():
    with pytest.raises(ValidationError, match="multiple of 32"):
        LayoutConfig(name="bad", size=100)
    with pytest.raises(ValidationError, match="unknown backbone"):
        LayoutConfig(name="bad", backbone="resnet")
    with pytest.raises(FileNotFoundError, match="layout_classifier"):
        load_model_config("no_such_model")


def test_checkpoint_round_trip(tiny_layout_config, tmp_path):
    torch.manual_seed(1)
    classes, templates = template_classes()
    model = build_classifier(load_model_config(tiny_layout_config), classes).eval()
    save_checkpoint(tmp_path / "m.pt", model, classes, templates, train_state={"step": 7}, extra_meta={"epoch": 1.0})
    ckpt = load_checkpoint(tmp_path / "m.pt")
    assert ckpt.classes == classes and ckpt.templates == templates and ckpt.train_state == {"step": 7}
    assert ckpt.meta["input"]["size"] == 64 and ckpt.meta["input"]["pad_value"] == 1.0 and ckpt.meta["epoch"] == 1.0
    assert ckpt.config == model.config and not ckpt.model.training
    x = torch.randn(2, 1, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ckpt.model(x), model(x))
    recognizer, codec = build_recognizer(load_recognizer_config("crnn_tiny"))
    save_recognizer_checkpoint(tmp_path / "r.pt", recognizer, codec)
    with pytest.raises(ValueError, match=r"not a hotich\.layout_classifier/1 checkpoint"):
        load_checkpoint(tmp_path / "r.pt")


def test_onnx_computes_what_the_checkpoint_computes(tiny_layout_config, page_images, tmp_path):
    torch.manual_seed(2)
    classes, templates = template_classes()
    model = build_classifier(load_model_config(tiny_layout_config), classes)
    model.train()  # a trained model's BatchNorm statistics, not the initial ones
    with torch.no_grad():
        model(torch.randn(8, 1, 64, 64))
    save_checkpoint(tmp_path / "m.pt", model.eval(), classes, templates)
    thumbs = [page_thumbnail(image, 64) for image in page_images]
    card = export_layout(tmp_path / "m.pt", tmp_path / "artifact", version="0.0-test", parity_pages=page_images)

    assert card["format"] == CARD_FORMAT and card["classes"] == list(classes) and card["templates"] == templates
    assert card["calibration"]["temperature"] == 1.0 and 0.5 <= card["calibration"]["threshold"] < 1
    assert card["parity"]["max_abs_logit_diff"] < 1e-4 and card["parity"]["top1_agreement"] == 1.0
    assert card["files"]["onnx"]["bytes"] == (tmp_path / "artifact" / "model.onnx").stat().st_size
    assert load_layout_card(tmp_path / "artifact") == json.loads((tmp_path / "artifact" / "model.json").read_text())

    identifier = TemplateIdentifier(tmp_path / "artifact", threads=1)
    with torch.no_grad():
        expected = model(torch.from_numpy(normalise_thumbnails(thumbs))).numpy()
    np.testing.assert_allclose(identifier.logits(page_images), expected, atol=1e-4)
    # The batch axis is dynamic: one page alone gives what it gives within a batch.
    np.testing.assert_allclose(identifier.logits(page_images[:1]), expected[:1], atol=1e-4)
    session = ort.InferenceSession(str(tmp_path / "artifact" / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [d.shape for d in session.get_inputs()] == [["batch", 1, 64, 64]]

    update_layout_card(tmp_path / "artifact", metrics={"test": {"acc": 0.5}})
    assert load_layout_card(tmp_path / "artifact")["metrics"]["test"] == {"acc": 0.5}
