import math

import pytest
import torch
from pydantic import ValidationError

from hotich.models.recognizer import (
    RecognizerConfig,
    build_recognizer,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
)


@pytest.mark.parametrize("name", ["crnn_mobilenet_small", "crnn_tiny"])
def test_crnn_output_shapes_and_lengths_follow_the_widths(name):
    torch.manual_seed(0)
    model, codec = build_recognizer(load_model_config(name))
    model.eval()
    widths = torch.tensor([301, 150, 17])
    images = torch.ones(3, 1, 32, 301)
    log_probs, lengths = model(images, widths)
    assert log_probs.shape == (math.ceil(301 / 4), 3, len(codec))
    assert lengths.tolist() == [math.ceil(w / 4) for w in widths.tolist()]
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-4)
    # The stem collapses the 32 px height to one row.
    assert model.stem(images).shape[2] == 1


def test_a_line_reads_the_same_alone_and_beside_a_wider_one():
    # crnn_tiny's plain stem has no width-wide pooling, so only the LSTM could let padding in.
    torch.manual_seed(0)
    model, _ = build_recognizer(load_model_config("crnn_tiny"))
    model.eval()
    line = torch.rand(1, 1, 32, 96) * 2 - 1
    padded = torch.cat([torch.cat([line, torch.ones(1, 1, 32, 304)], dim=3), torch.rand(1, 1, 32, 400) * 2 - 1])
    with torch.no_grad():
        alone, (n,) = model(line, torch.tensor([96]))
        beside, lengths = model(padded, torch.tensor([96, 400]))
    assert lengths.tolist() == [n, 100]
    # Only the convolutions of the last frames see paper where, alone, they saw the edge (through the padding,
    # the backward LSTM reached the last frame 0.05 away).
    assert torch.allclose(beside[:n, 0], alone[:n, 0], atol=2e-3)


def test_default_model_fits_the_onnx_size_budget():
    model, _ = build_recognizer(load_model_config("crnn_mobilenet_small"))
    params = sum(p.numel() for p in model.parameters())
    assert params <= 5_000_000
    assert params * 4 <= 20e6  # fp32 bytes


def test_checkpoint_round_trip_restores_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model, codec = build_recognizer(load_model_config("crnn_tiny").model_copy(update={"units": "nfd"}))
    model.eval()
    images, widths = torch.rand(2, 1, 32, 120) * 2 - 1, torch.tensor([120, 80])
    expected, _ = model(images, widths)
    save_checkpoint(tmp_path / "m.pt", model, codec, train_state={"step": 7})
    ckpt = load_checkpoint(tmp_path / "m.pt")
    got, _ = ckpt.model(images, widths)
    assert torch.equal(got, expected)
    assert ckpt.codec.alphabet == codec.alphabet and ckpt.codec.units == "nfd"
    assert ckpt.meta["codec"]["blank"] == 0
    assert ckpt.meta["input"]["height"] == 32
    assert ckpt.train_state == {"step": 7}


def test_configs_are_checked():
    with pytest.raises(ValidationError, match="unknown stem"):
        RecognizerConfig(name="x", stem="resnet9000")
    with pytest.raises(FileNotFoundError, match="crnn_tiny"):
        load_model_config("no_such_model")
