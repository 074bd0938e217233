"""Export: the ONNX files compute what the checkpoint computes, the card describes them, the fp16 weights reload."""

import json

import numpy as np
import pytest
import torch

from hotich.datasets.lines import read_line_folder
from hotich.datasets.synth.batch import write_lines
from hotich.datasets.synth.pages import SynthOptions
from hotich.inference.recognizer import LineRecognizer, read_gray
from hotich.line_image import pad_lines, preprocess_line
from hotich.models.card import load_card
from hotich.models.export import export_recognizer
from hotich.models.recognizer import build_recognizer, load_checkpoint, load_model_config, save_checkpoint


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    write_lines(12, 3, SynthOptions(), root / "lines", workers=1)
    torch.manual_seed(0)
    model, codec = build_recognizer(load_model_config("crnn_tiny"))
    save_checkpoint(root / "model.pt", model.eval(), codec)
    samples = read_line_folder(root / "lines")
    export_recognizer(root / "model.pt", root / "artifact", version="0.0-test", parity_samples=samples,
                      parity_set="synthetic")
    return root, samples


def test_onnx_logits_match_the_checkpoint_for_any_batch_and_width(exported):
    root, samples = exported
    checkpoint = load_checkpoint(root / "model.pt")
    lines = [preprocess_line(read_gray(s.path), 32, 1024) for s in samples[:5]]
    batch, widths = pad_lines(lines)
    with torch.no_grad():
        expected, lengths = checkpoint.model.logits(torch.from_numpy(batch), torch.from_numpy(widths))
    fp32 = LineRecognizer(root / "artifact", variant="fp32")
    got, got_lengths = fp32.session.run(None, {"images": batch, "widths": widths})
    assert got_lengths.tolist() == lengths.tolist()
    for k in range(len(lines)):
        np.testing.assert_allclose(got[k, : int(lengths[k])], expected[: int(lengths[k]), k].numpy(), atol=1e-4)


def test_card_lists_files_with_checksums_and_records_parity(exported):
    root, samples = exported
    card = load_card(root / "artifact")
    assert card["default"] == "int8" and card["calibration"]["temperature"] == 1.0
    assert set(card["files"]) == {"int8", "fp32", "pytorch_fp16"}
    assert card["files"]["int8"]["bytes"] < card["files"]["fp32"]["bytes"]
    assert card["parity"]["n"] == len(samples)
    assert card["parity"]["cer_fp32"] == pytest.approx(card["parity"]["cer_torch"], abs=1e-3)
    assert card["codec"]["alphabet"][card["codec"]["blank"]] == ""
    json.dumps(card)


def test_int8_reads_like_fp32_and_fp16_weights_reload_for_finetuning(exported):
    root, samples = exported
    images = [read_gray(s.path) for s in samples]
    fp32 = LineRecognizer(root / "artifact", variant="fp32").logits(images)
    int8 = LineRecognizer(root / "artifact").logits(images)
    assert all(a.shape == b.shape for a, b in zip(fp32, int8, strict=True))
    assert np.mean([np.abs(a - b).mean() for a, b in zip(fp32, int8, strict=True)]) < 0.05
    reloaded = load_checkpoint(root / "artifact" / "model.pt")
    original = load_checkpoint(root / "model.pt")
    for name, tensor in original.model.state_dict().items():
        assert reloaded.model.state_dict()[name].dtype == tensor.dtype
        torch.testing.assert_close(reloaded.model.state_dict()[name], tensor, atol=2e-3, rtol=2e-3)


def test_an_ink_crop_model_is_fed_ink_crops_by_the_server(exported, tmp_path):
    root, samples = exported
    checkpoint = load_checkpoint(root / "model.pt")
    checkpoint.model.config = checkpoint.model.config.model_copy(update={"crop": "ink"})
    save_checkpoint(tmp_path / "ink.pt", checkpoint.model, checkpoint.codec)
    export_recognizer(tmp_path / "ink.pt", tmp_path / "artifact", version="0.0-ink")
    recognizer = LineRecognizer(tmp_path / "artifact", variant="fp32")
    assert load_card(tmp_path / "artifact")["input"]["crop"] == recognizer.crop == "ink"
    images = [read_gray(s.path) for s in samples[:3]]
    for image, line_logits in zip(images, recognizer.logits(images, batch_size=1), strict=True):
        ink = preprocess_line(image, 32, 1024, crop="ink")
        with torch.no_grad():
            expected, _ = checkpoint.model.logits(torch.from_numpy(ink)[None, None], torch.tensor([ink.shape[1]]))
        np.testing.assert_allclose(line_logits, expected[:, 0].numpy(), atol=1e-4)
