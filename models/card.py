"""Every model artifact's contract: a folder with `model.json` (the card, whose `format` names the model
kind) and the files it lists with their checksums. The recogniser's file names are defined here.

Torch-free, so the ONNX server reads cards with what `hotich export ...` writes them with.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["CARD_FILE", "CARD_FORMAT", "FP32_FILE", "INT8_FILE", "PT_FILE", "card_header", "file_entry", "load_card",
           "onnx_card", "sha256_file", "update_card", "write_card_file"]

CARD_FORMAT = "hotich.recognizer.onnx/1"
CARD_FILE = "model.json"
INT8_FILE = "model.onnx"
"""The served default: int8 weights for MatMul/Gemm/LSTM."""
FP32_FILE = "model.fp32.onnx"
PT_FILE = "model.pt"
"""fp16 PyTorch weights (no optimizer state): the starting point of `hotich train recognizer --init`."""


def load_card(model_dir: Path, card_format: str = CARD_FORMAT) -> dict[str, Any]:
    """The card in `model_dir`, checked to be of `card_format` (every artifact kind names its own)."""
    path = Path(model_dir) / CARD_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no model card {path}: an artifact folder holds {CARD_FILE} and its ONNX files "
                                f"(`hotich export ...` writes one)")
    card = json.loads(path.read_text(encoding="utf-8"))
    if card.get("format") != card_format:
        raise ValueError(f"{path} is not a {card_format} card (format {card.get('format')!r})")
    return card


def sha256_file(path: Path) -> str:
    """The hex digest a card records for each of its files."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def card_header(card_format: str, version: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The first entries of every card, from its training checkpoint's `meta`."""
    return {"format": card_format, "name": meta["config"]["name"], "version": version,
            "architecture": meta["config"], "parameters": meta["parameters"]}


def file_entry(path: Path) -> dict[str, Any]:
    """A card's record of one of its files: name, size and checksum."""
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def onnx_card(card_format: str, version: str, meta: dict[str, Any], train_state: dict[str, Any] | None,
              onnx_path: Path, outputs: dict[str, str], **sections: Any) -> dict[str, Any]:
    """The card of a one-file ONNX artifact, from its training checkpoint's `meta` (config, parameters, input
    rules, epoch, step, validation figures) and training state (data, command, config); `sections` add
    top-level entries of the model kind's own (classes, calibration, ...)."""
    state = train_state or {}
    return {
        **card_header(card_format, version, meta),
        **sections,
        "input": meta["input"],
        "outputs": outputs,
        "files": {"onnx": file_entry(onnx_path)},
        "training": {"epoch": meta.get("epoch"), "step": meta.get("step"), "data": state.get("data"),
                     "command": state.get("command"), "config": state.get("config")},
        "metrics": {"val": meta.get("val")},
    }


def write_card_file(model_dir: Path, card: dict[str, Any]) -> Path:
    path = Path(model_dir) / CARD_FILE
    tmp = path.with_name(f"{CARD_FILE}.tmp")
    tmp.write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a card
    return path


def update_card(model_dir: Path, card_format: str = CARD_FORMAT, **sections: dict[str, Any]) -> dict[str, Any]:
    """Merge `sections` into the card's top-level sections of those names (one level deep) and save it."""
    card = load_card(model_dir, card_format)
    for name, values in sections.items():
        card[name] = {**card.get(name, {}), **values}
    write_card_file(model_dir, card)
    return card
