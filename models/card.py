"""The recogniser artifact's contract: a folder with `model.json` (the card) and the ONNX files it lists.

Torch-free, so the ONNX server reads cards with what `hotich export recognizer` writes them with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CARD_FILE", "CARD_FORMAT", "FP32_FILE", "INT8_FILE", "PT_FILE", "load_card", "update_card",
           "write_card_file"]

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
