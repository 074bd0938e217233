"""The ruling detector: a light U-Net that marks, on a grey work-size page, the pixels that lie on printed
rules (horizontal, vertical) and on a form's dotted leaders.

A page (B, 1, H, W), H and W multiples of the stride (pad with paper), becomes one logit map per class
(B, C, H, W). The page's 4 x 4 pixel blocks are folded into channels (a CPU runs a few wide layers on a
small grid much faster than thin ones on a large grid), a stage at half that grid with dilated
convolutions lets each pixel see a long stretch of rule (so that a stain or a gap does not hide it), an
additive skip brings it back, and the head unfolds one logit per page pixel and class.
Classes, stride and input rules travel in every checkpoint and in the exported card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from hotich.datasets.synth.render import RULING_CLASSES
from hotich.inference.layout.identify import INPUT_NORMALISATION
from hotich.inference.layout.ruling import CARD_FORMAT, ONNX_FILE, normalise_page
from hotich.models.backbones import conv_bn_relu
from hotich.models.card import onnx_card, write_card_file
from hotich.models.checkpoint import load_yaml_config, read_checkpoint, write_checkpoint
from hotich.models.export import OPSET

__all__ = ["CHECKPOINT_FORMAT", "CONFIG_DIR", "RulingCheckpoint", "RulingConfig", "RulingNet", "export_onnx",
           "export_ruling", "load_checkpoint", "load_model_config", "save_checkpoint"]

CONFIG_DIR = Path(__file__).parent / "configs"
CHECKPOINT_FORMAT = "hotich.ruling/1"


class RulingConfig(BaseModel):
    """One ruling-net architecture; a YAML file under `models/configs/` names and defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    unshuffle: int = Field(4, ge=1, le=8)
    """The page's pixels are folded into channels in blocks of this side (and unfolded at the end): the
    convolutions run on a grid this many times coarser, which a CPU runs far faster than thin full-size
    layers, while every output pixel keeps its own logit."""
    channels: tuple[int, int] = (16, 32)
    """Channels on the folded grid and on the grid twice coarser."""
    context_dilations: tuple[int, ...] = (2, 4)
    """Dilations of the extra 3x3 layers on the coarser grid that widen what each pixel sees along a rule."""

    @property
    def stride(self) -> int:
        return 2 * self.unshuffle


def load_model_config(name_or_path: str | Path) -> RulingConfig:
    """A config by file path, or by name from `models/configs/<name>.yaml`."""
    return load_yaml_config(name_or_path, RulingConfig, CONFIG_DIR, "ruling", "ruling*.yaml")


class RulingNet(nn.Module):
    """Normalised grey page -> per-class ruling logits at full resolution (no sigmoid)."""

    def __init__(self, config: RulingConfig, n_classes: int = len(RULING_CLASSES)) -> None:
        super().__init__()
        self.config = config
        k, (c1, c2), dil = config.unshuffle, config.channels, config.context_dilations
        self.fine, _ = conv_bn_relu([c1], [(1, 1)], in_channels=k * k)
        self.coarse, _ = conv_bn_relu([c2, *[c2] * len(dil)], [(2, 2), *[(1, 1)] * len(dil)], in_channels=c1,
                                      dilations=[1, *dil])
        self.lateral = nn.Conv2d(c2, c1, 1)
        self.merge, _ = conv_bn_relu([c1], [(1, 1)], in_channels=c1)
        self.head = nn.Conv2d(c1, n_classes * k * k, 1)

    def forward(self, images: Tensor) -> Tensor:
        """(B, 1, H, W) -> (B, classes, H, W); H and W multiples of the stride."""
        k = self.config.unshuffle
        fine = self.fine(F.pixel_unshuffle(images, k))
        up = F.interpolate(self.lateral(self.coarse(fine)), scale_factor=2.0, mode="bilinear", align_corners=False)
        return F.pixel_shuffle(self.head(self.merge(up + fine)), k)


@dataclass
class RulingCheckpoint:
    model: RulingNet
    classes: tuple[str, ...]
    meta: dict[str, Any]
    train_state: dict[str, Any] | None


def _input_rules(config: RulingConfig) -> dict[str, Any]:
    return {**INPUT_NORMALISATION, "stride": config.stride,
            "size": "the grey page, 1000 px on its long side (registration's work image); pad with paper "
                    "right and below to multiples of stride, and cut the maps back"}


def save_checkpoint(path: Path, model: RulingNet, train_state: dict[str, Any] | None = None,
                    extra_meta: dict[str, Any] | None = None) -> None:
    """One self-describing file: architecture config, classes, input rules, weights, optional training state."""
    write_checkpoint(path, {"format": CHECKPOINT_FORMAT, "config": model.config.model_dump(mode="json"),
                            "classes": list(RULING_CLASSES), "input": _input_rules(model.config),
                            **(extra_meta or {})}, model, train_state)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> RulingCheckpoint:
    """Rebuild the net a checkpoint describes; the model comes back in eval mode."""
    blob = read_checkpoint(path, CHECKPOINT_FORMAT, map_location)
    meta = blob["meta"]
    model = RulingNet(RulingConfig.model_validate(meta["config"]), len(meta["classes"]))
    model.load_state_dict(blob["state_dict"])
    return RulingCheckpoint(model.eval(), tuple(meta["classes"]), meta, blob["train_state"])


# --- the served artifact --------------------------------------------------------------------------------


def export_onnx(model: RulingNet, path: Path) -> Path:
    """Write `model` (fp32) as ONNX: `images` (B, 1, H, W) float32 -> `logits` (B, C, H, W), all dynamic but C."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stride = model.config.stride
    axes = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(model.eval(), (torch.ones(1, 1, 12 * stride, 16 * stride),), str(path), dynamo=False,
                      opset_version=OPSET, input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": axes, "logits": axes})
    return path


def _parity(checkpoint: RulingCheckpoint, model_dir: Path, pages: Sequence[np.ndarray]) -> dict[str, float]:
    """Torch and ONNX on the same pages: the largest logit difference and how often the masks (p > 0.5) agree."""
    from hotich.inference.onnx_session import open_session

    session = open_session(model_dir / ONNX_FILE)
    worst, agree = 0.0, []
    for gray in pages:
        batch = normalise_page(gray, checkpoint.model.config.stride)
        with torch.no_grad():
            expected = checkpoint.model(torch.from_numpy(batch)).numpy()
        got = session.run(None, {"images": batch})[0]
        worst = max(worst, float(np.abs(got - expected).max()))
        agree.append(float(np.mean((got > 0) == (expected > 0))))
    return {"n": len(pages), "max_abs_logit_diff": worst, "mask_agreement": float(np.mean(agree))}


def export_ruling(checkpoint_path: Path, out_dir: Path, *, version: str,
                  parity_pages: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """Write the artifact folder: `model.onnx` (fp32) and its card, with the validation figures the
    checkpoint carries; with `parity_pages` (grey work-size pages), torch-vs-ONNX agreement on them too."""
    checkpoint = load_checkpoint(checkpoint_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = export_onnx(checkpoint.model, out_dir / ONNX_FILE)
    card = onnx_card(CARD_FORMAT, version, checkpoint.meta, checkpoint.train_state, onnx_path,
                     {"logits": "(batch, classes, height, width) float32, before the sigmoid; one map per class"},
                     classes=checkpoint.meta["classes"])
    write_card_file(out_dir, card)
    if parity_pages:
        card["parity"] = _parity(checkpoint, out_dir, parity_pages)
        write_card_file(out_dir, card)
    return card
