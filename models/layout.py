"""The template-and-era identifier: a small CNN that classifies a gray page thumbnail into one of the book
templates (book type × era) or `unknown`.

A page (B, 1, S, S) becomes class logits (B, C). The backbone halves the thumbnail down to an S/32 grid
(MobileNetV3-small, random init, one gray channel), a `pool` x `pool` average keeps a coarse sense of where
things are on the page (column rulings sit at fixed places), and a small head names the class. The
classes, the templates' book types and eras, and the input rules travel in every checkpoint and in the
exported card, so nothing downstream needs the template files to read an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import Tensor, nn

from hotich.inference.layout.identify import (
    CARD_FORMAT,
    INPUT_NORMALISATION,
    ONNX_FILE,
    UNKNOWN,
    as_gray,
    normalise_thumbnails,
    page_thumbnail,
)
from hotich.models.backbones import conv_bn_relu, mobilenet_v3_small_gray
from hotich.models.card import onnx_card, update_card, write_card_file
from hotich.models.checkpoint import load_yaml_config, read_checkpoint, write_checkpoint
from hotich.models.export import OPSET
from hotich.templates import list_templates

__all__ = [
    "BACKBONES",
    "CHECKPOINT_FORMAT",
    "CONFIG_DIR",
    "LayoutCheckpoint",
    "LayoutClassifier",
    "LayoutConfig",
    "build_classifier",
    "export_layout",
    "export_onnx",
    "load_checkpoint",
    "load_model_config",
    "save_checkpoint",
    "template_classes",
    "update_layout_card",
]

CONFIG_DIR = Path(__file__).parent / "configs"
CHECKPOINT_FORMAT = "hotich.layout_classifier/1"
RESIZE_RULE = "gray; long side to size (area averaging), centred on a white size x size square"


class LayoutConfig(BaseModel):
    """One classifier architecture; a YAML file under `models/configs/` names and defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    size: int = Field(256, ge=32)
    """Side of the square thumbnail the page is shrunk onto."""
    backbone: str = "mobilenet_v3_small"
    channels: tuple[int, ...] = (16, 32, 64, 128, 128)
    """Output channels of each stride-2 layer of the `plain` backbone (unused by other backbones)."""
    pool: int = Field(2, ge=1, le=4)
    """The backbone's output grid is averaged to pool x pool cells before the head."""
    hidden: int = Field(256, ge=0)
    """Width of the head's hidden layer; 0: a single linear layer."""
    dropout: float = Field(0.2, ge=0.0, lt=1.0)

    @field_validator("backbone")
    @classmethod
    def _known_backbone(cls, backbone: str) -> str:
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; known: {sorted(BACKBONES)}")
        return backbone

    @model_validator(mode="after")
    def _grid_divides(self) -> LayoutConfig:
        # ONNX exports adaptive pooling only when the pooled grid divides the feature grid exactly.
        stride = self.stride
        if self.size % stride or (self.size // stride) % self.pool:
            raise ValueError(f"size {self.size} must be a multiple of {stride} (the backbone's stride) x "
                             f"{self.pool} (pool)")
        return self

    @property
    def stride(self) -> int:
        return 32 if self.backbone == "mobilenet_v3_small" else 2 ** len(self.channels)


def load_model_config(name_or_path: str | Path) -> LayoutConfig:
    """A config by file path, or by name from `models/configs/<name>.yaml`."""
    return load_yaml_config(name_or_path, LayoutConfig, CONFIG_DIR, "layout classifier", "layout*.yaml")


def template_classes() -> tuple[tuple[str, ...], dict[str, dict[str, str]]]:
    """The classes of a new classifier (every shipped template id, sorted, then `unknown`) and each
    template's book type and era."""
    templates = sorted(list_templates(), key=lambda t: t.id)
    return (*(t.id for t in templates), UNKNOWN), {t.id: {"book_type": t.book_type, "era": t.era} for t in templates}


def _mobilenet_v3_small(config: LayoutConfig) -> tuple[nn.Module, int]:
    return mobilenet_v3_small_gray()


def _plain(config: LayoutConfig) -> tuple[nn.Module, int]:
    """Conv-BN-ReLU layers, each halving both axes: small and fast, for tests and smoke runs."""
    return conv_bn_relu(config.channels, [(2, 2)] * len(config.channels))


BACKBONES: dict[str, Callable[[LayoutConfig], tuple[nn.Module, int]]] = {
    "mobilenet_v3_small": _mobilenet_v3_small,
    "plain": _plain,
}
"""Backbone name -> builder returning (module, output channels)."""


class LayoutClassifier(nn.Module):
    """Backbone -> pool x pool average -> head -> class logits (no softmax: the card's temperature divides
    the logits first, at inference)."""

    def __init__(self, config: LayoutConfig, n_classes: int) -> None:
        super().__init__()
        self.config = config
        self.backbone, channels = BACKBONES[config.backbone](config)
        self.pool = nn.AdaptiveAvgPool2d(config.pool)
        features = channels * config.pool**2
        head: list[nn.Module] = [nn.Flatten(), nn.Dropout(config.dropout)]
        if config.hidden:
            head += [nn.Linear(features, config.hidden), nn.Hardswish(inplace=True), nn.Dropout(config.dropout)]
            features = config.hidden
        head.append(nn.Linear(features, n_classes))
        self.head = nn.Sequential(*head)

    def forward(self, images: Tensor) -> Tensor:
        """(B, 1, S, S) normalised thumbnails -> (B, classes) logits."""
        return self.head(self.pool(self.backbone(images)))


def build_classifier(config: LayoutConfig, classes: Sequence[str] | None = None) -> LayoutClassifier:
    return LayoutClassifier(config, len(classes) if classes is not None else len(template_classes()[0]))


@dataclass
class LayoutCheckpoint:
    model: LayoutClassifier
    classes: tuple[str, ...]
    templates: dict[str, dict[str, str]]
    meta: dict[str, Any]
    train_state: dict[str, Any] | None

    @property
    def config(self) -> LayoutConfig:
        return self.model.config


def save_checkpoint(path: Path, model: LayoutClassifier, classes: Sequence[str], templates: dict[str, dict[str, str]],
                    train_state: dict[str, Any] | None = None, extra_meta: dict[str, Any] | None = None) -> None:
    """One self-describing file: architecture config, classes with their book types and eras, input rules,
    weights, and optionally the training state to resume from."""
    write_checkpoint(path, {"format": CHECKPOINT_FORMAT, "config": model.config.model_dump(mode="json"),
                            "classes": list(classes), "templates": templates,
                            "input": {"size": model.config.size, **INPUT_NORMALISATION, "resize": RESIZE_RULE},
                            **(extra_meta or {})}, model, train_state)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> LayoutCheckpoint:
    """Rebuild the classifier a checkpoint describes; the model comes back in eval mode."""
    blob = read_checkpoint(path, CHECKPOINT_FORMAT, map_location)
    meta = blob["meta"]
    model = LayoutClassifier(LayoutConfig.model_validate(meta["config"]), len(meta["classes"]))
    model.load_state_dict(blob["state_dict"])
    return LayoutCheckpoint(model.eval(), tuple(meta["classes"]), meta["templates"], meta, blob["train_state"])


# --- the served artifact --------------------------------------------------------------------------------


def export_onnx(model: LayoutClassifier, path: Path) -> Path:
    """Write `model` (fp32) as ONNX: `images` (B, 1, S, S) float32 -> `logits` (B, classes), batch dynamic."""
    size = model.config.size
    path.parent.mkdir(parents=True, exist_ok=True)
    # Export in eval mode (dropout off, BatchNorm on its running statistics), and leave the model so.
    torch.onnx.export(model.eval(), (torch.ones(2, 1, size, size),), str(path), dynamo=False, opset_version=OPSET,
                      input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    return path


def _parity(checkpoint: LayoutCheckpoint, model_dir: Path, pages: Sequence[np.ndarray]) -> dict[str, float]:
    """Torch and ONNX logits on the same pages: the largest difference and how often top-1 agrees."""
    import onnxruntime as ort

    thumbs = [page_thumbnail(as_gray(page), checkpoint.config.size) for page in pages]
    batch = normalise_thumbnails(thumbs)
    with torch.no_grad():
        expected = checkpoint.model(torch.from_numpy(batch)).numpy()
    session = ort.InferenceSession(str(model_dir / ONNX_FILE), providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": batch})[0]
    return {"n": len(thumbs), "max_abs_logit_diff": float(np.abs(got - expected).max()),
            "top1_agreement": float(np.mean(got.argmax(1) == expected.argmax(1)))}


def export_layout(checkpoint_path: Path, out_dir: Path, *, version: str,
                  parity_pages: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """Write the artifact folder: `model.onnx` (fp32; the convolutions would only slow down under int8, see
    design.md) and its card, with the calibration and validation figures the checkpoint carries.

    With `parity_pages` (page images, gray or BGR uint8), the card also records torch-vs-ONNX agreement on
    them.
    """
    checkpoint = load_checkpoint(checkpoint_path)
    meta = checkpoint.meta
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = export_onnx(checkpoint.model, out_dir / ONNX_FILE)
    calibration = meta.get("calibration") or {"temperature": 1.0, "threshold": 0.5, "fitted_on": None}
    card = onnx_card(CARD_FORMAT, version, meta, checkpoint.train_state, onnx_path,
                     {"logits": "(batch, classes) float32, before softmax; divide by the calibration temperature"},
                     classes=meta["classes"], templates=meta["templates"], calibration=calibration)
    write_card_file(out_dir, card)
    if parity_pages:
        card["parity"] = _parity(checkpoint, out_dir, parity_pages)
        write_card_file(out_dir, card)
    return card


def update_layout_card(model_dir: Path, **sections: dict[str, Any]) -> dict[str, Any]:
    """Merge `sections` into the layout card's top-level sections (one level deep) and save it."""
    return update_card(model_dir, CARD_FORMAT, **sections)
