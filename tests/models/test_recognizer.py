import math

import pytest
import torch
from pydantic import ValidationError

from hotich.models.recognizer import (
    Codec,
    RecognizerConfig,
    build_recognizer,
    greedy_decode,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
)
from hotich.text import CHARSET, LETTERS, nfc


@pytest.mark.parametrize("units", ["nfc", "nfd"])
def test_codec_round_trips_every_vietnamese_letter(units):
    codec = Codec.for_units(units)
    assert codec.blank == 0 and codec.alphabet[0] == ""
    for text in (LETTERS, CHARSET, "Nguyễn Thị Hường, sinh ngày 12/03/1987 tại Quảng Ngãi"):
        ids = codec.encode(text)
        assert codec.blank not in ids
        decoded = codec.decode(ids)
        assert decoded.text == nfc(text)
        assert len(decoded.confidences) == len(decoded.text)
    assert not codec.unknown


def test_codec_leaves_out_unknown_characters_and_counts_them():
    codec = Codec.for_units("nfc")
    assert codec.decode(codec.encode("a€b€")).text == "ab"
    assert codec.unknown == {"€": 2}


def test_nfd_character_is_as_sure_as_its_least_sure_unit():
    codec = Codec.for_units("nfd")
    ids = codec.encode("ệa")  # e, dot below, circumflex, a
    decoded = codec.decode(ids, [0.9, 0.5, 0.8, 0.7])
    assert decoded.text == "ệa"
    assert decoded.confidences == (0.5, 0.7)


def test_greedy_decode_merges_repeats_and_drops_blanks():
    codec = Codec.for_units("nfc")
    a, b = codec.encode("ab")
    frames = [a, a, 0, a, b, b, 0]
    probs = [0.6, 0.9, 0.99, 0.7, 0.8, 0.5, 0.99]
    log_probs = torch.full((len(frames), 1, len(codec)), -30.0)
    for t, (label, p) in enumerate(zip(frames, probs, strict=True)):
        log_probs[t, 0, label] = math.log(p)
    [decoded] = greedy_decode(log_probs, torch.tensor([len(frames)]), codec)
    assert decoded.text == "aab"
    assert decoded.confidences == pytest.approx((0.9, 0.7, 0.8))
    # Frames past a line's length are padding and are ignored.
    [short] = greedy_decode(log_probs, torch.tensor([3]), codec)
    assert short.text == "a"


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
