"""Turn a trained recogniser checkpoint into the served artifact: ONNX files plus a `model.json` card.

The ONNX graph takes `images` (B, 1, H, W) float32 and `widths` (B,) int64 and returns `logits` (B, T, C)
and `lengths` (B,) int64, batch and width both dynamic. It stops at the logits so the card's calibration
temperature can divide them before the softmax, at inference time, without re-exporting.

The int8 variant quantises only MatMul, Gemm and LSTM weights (dynamic quantisation): quantising the
convolutions too was 2-4x slower on the 2-core CPUs we serve from (design.md).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from hotich.datasets.lines import LineSample
from hotich.evaluation.metrics import cer
from hotich.line_image import pad_lines, width_batches
from hotich.models.card import CARD_FORMAT, FP32_FILE, INT8_FILE, PT_FILE, card_header, file_entry, write_card_file
from hotich.models.recognizer import CRNN, Checkpoint, load_checkpoint, save_checkpoint

__all__ = ["export_onnx", "export_recognizer", "parity", "quantize_int8"]

OPSET = 17


class _Logits(nn.Module):
    """The exported graph: batch-first logits and each line's frame count."""

    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        logits, lengths = self.model.logits(images, widths)
        return logits.transpose(0, 1), lengths


def export_onnx(model: CRNN, path: Path) -> Path:
    """Write `model` (eval mode, fp32) as ONNX with dynamic batch and width."""
    model = model.eval()
    height = model.config.height
    images = torch.ones(2, 1, height, 8 * height)
    widths = torch.tensor([8 * height, 5 * height])
    path.parent.mkdir(parents=True, exist_ok=True)
    # The wrapper must be in eval mode: the exporter restores the mode it found, and a fresh module's is
    # training, which would leave `model` training (dropout on) after the export.
    torch.onnx.export(
        _Logits(model).eval(), (images, widths), str(path), dynamo=False, opset_version=OPSET,
        input_names=["images", "widths"], output_names=["logits", "lengths"],
        dynamic_axes={"images": {0: "batch", 3: "width"}, "widths": {0: "batch"},
                      "logits": {0: "batch", 1: "frames"}, "lengths": {0: "batch"}},
    )
    return path


def quantize_int8(fp32: Path, int8: Path) -> Path:
    """Dynamic int8 quantisation of the MatMul, Gemm and LSTM weights only."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), op_types_to_quantize=["MatMul", "Gemm", "LSTM"],
                     weight_type=QuantType.QInt8)
    return int8


def _card(out_dir: Path, checkpoint: Checkpoint, version: str, max_width: int) -> dict[str, Any]:
    meta, state = checkpoint.meta, checkpoint.train_state or {}
    files = {name: file_entry(out_dir / f)
             for name, f in (("int8", INT8_FILE), ("fp32", FP32_FILE), ("pytorch_fp16", PT_FILE))}
    return {
        **card_header(CARD_FORMAT, version, meta),
        "codec": meta["codec"],
        "input": {**meta["input"], "max_width": max_width, "stretch": 1.0},
        "outputs": {"logits": "(batch, frames, classes) float32, before softmax",
                    "lengths": "(batch,) int64, valid frames per line"},
        "files": files,
        "default": "int8",
        "calibration": {"temperature": 1.0},
        "training": {"steps": meta.get("step"), "best_set": meta.get("best_set"), "best_cer": meta.get("best_cer"),
                     "config": state.get("config")},
    }


def _torch_logits(model: CRNN, lines: list[np.ndarray], batch_size: int = 32) -> list[np.ndarray]:
    """The checkpoint's logits, batched exactly as `LineRecognizer.logits` batches (padding changes what the
    stem sees)."""
    out: list[np.ndarray] = [np.empty(0)] * len(lines)
    with torch.no_grad():
        for chunk in width_batches([line.shape[1] for line in lines], batch_size):
            batch, widths = pad_lines([lines[i] for i in chunk])
            logits, lengths = model.logits(torch.from_numpy(batch), torch.from_numpy(widths))
            for k, i in enumerate(chunk):
                out[i] = logits[: int(lengths[k]), k].numpy()
    return out


def parity(checkpoint: Checkpoint, model_dir: Path, samples: list[LineSample]) -> dict[str, float]:
    """Greedy CER of the checkpoint in torch and of both ONNX files on the same lines, decoded alike."""
    from hotich.inference.recognizer import LineRecognizer, decode_lines, read_gray

    images = [read_gray(s.path) for s in samples]
    refs = [s.text for s in samples]
    int8 = LineRecognizer(model_dir, variant="int8")
    lines = [int8.preprocess(image) for image in images]
    result: dict[str, float] = {"cer_torch": cer(refs, [r.text for r in decode_lines(
        _torch_logits(checkpoint.model, lines), checkpoint.codec)])}
    for variant in ("fp32", "int8"):
        recognizer = int8 if variant == "int8" else LineRecognizer(model_dir, variant=variant)
        result[f"cer_{variant}"] = cer(refs, [r.text for r in recognizer.read(images)])
    return result


def export_recognizer(checkpoint_path: Path, out_dir: Path, *, version: str, max_width: int = 1024,
                      parity_samples: list[LineSample] | None = None, parity_set: str | None = None) -> dict[str, Any]:
    """Write the artifact folder: int8 and fp32 ONNX, fp16 weights for fine-tuning, and the card (T = 1 until
    `hotich calibrate recognizer`). With `parity_samples`, the card also records torch-vs-ONNX CER."""
    checkpoint = load_checkpoint(checkpoint_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    export_onnx(checkpoint.model, out_dir / FP32_FILE)
    quantize_int8(out_dir / FP32_FILE, out_dir / INT8_FILE)
    save_checkpoint(out_dir / PT_FILE, copy.deepcopy(checkpoint.model).half(), checkpoint.codec,
                    extra_meta={k: checkpoint.meta.get(k) for k in ("step", "best_set", "best_cer")})
    card = _card(out_dir, checkpoint, version, max_width)
    write_card_file(out_dir, card)
    if parity_samples:
        card["parity"] = {"set": parity_set, "n": len(parity_samples),
                          **parity(checkpoint, out_dir, parity_samples)}
        write_card_file(out_dir, card)
    return card
