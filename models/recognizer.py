"""The CTC line recogniser: a convolutional stem, a BiLSTM over the width, and a per-frame head.

A line image (B, 1, H, W) becomes log-probabilities (T, B, C) with T ≈ W / 4: the stem collapses the
height and halves the width twice only, so a Vietnamese letter with two marks (NFD: three units plus the
blanks CTC needs between repeats) still has frames enough. Label 0 is the CTC blank, and the codec says so
in every checkpoint, so nothing downstream guesses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor, nn

from hotich.line_image import LineCrop
from hotich.models.backbones import conv_bn_relu, mobilenet_v3_small_gray
from hotich.models.checkpoint import load_yaml_config, read_checkpoint, write_checkpoint
from hotich.models.codec import Codec, Decoded
from hotich.text import Units

__all__ = [
    "CHECKPOINT_FORMAT",
    "CONFIG_DIR",
    "CRNN",
    "STEMS",
    "Checkpoint",
    "Codec",
    "Decoded",
    "RecognizerConfig",
    "build_recognizer",
    "load_checkpoint",
    "load_model_config",
    "save_checkpoint",
]

CONFIG_DIR = Path(__file__).parent / "configs"
CHECKPOINT_FORMAT = "hotich.recognizer/1"
INPUT_NORMALISATION = {"channels": 1, "mean": 0.5, "std": 0.5, "scale": 1 / 255, "pad_value": 1.0}
"""How pixels become inputs: (gray / 255 - mean) / std, padded on the right with white (+1.0)."""


class RecognizerConfig(BaseModel):
    """One recogniser architecture; a YAML file under `models/configs/` names and defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    height: int = Field(32, ge=16)
    crop: LineCrop = "cell"
    """Which rows of a line crop the model sees (`hotich.line_image.LineCrop`)."""
    units: Units = "nfc"
    stem: str = "mobilenet_v3_small"
    channels: tuple[int, ...] = (32, 64, 128, 128, 256)
    """Output channels of each layer of the `plain` stem (unused by other stems)."""
    hidden: int = Field(256, ge=1)
    layers: int = Field(2, ge=1)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)

    @field_validator("stem")
    @classmethod
    def _known_stem(cls, stem: str) -> str:
        if stem not in STEMS:
            raise ValueError(f"unknown stem {stem!r}; known: {sorted(STEMS)}")
        return stem


def load_model_config(name_or_path: str | Path) -> RecognizerConfig:
    """A config by file path, or by name from `models/configs/<name>.yaml`."""
    return load_yaml_config(name_or_path, RecognizerConfig, CONFIG_DIR, "recogniser")


def _plain_stem(config: RecognizerConfig) -> tuple[nn.Module, int]:
    """Conv-BN-ReLU layers, each halving the height; only the first two also halve the width."""
    return conv_bn_relu(config.channels, [(2, 2) if n < 2 else (2, 1) for n in range(len(config.channels))])


def _mobilenet_v3_small_stem(config: RecognizerConfig) -> tuple[nn.Module, int]:
    """MobileNetV3-small halving both axes five times; from the third halving on, only the height, so 32 px
    collapse to 1 while the width keeps 1/4 of its columns (docTR's crnn_mobilenet_v3_small does the same).
    """
    features, channels = mobilenet_v3_small_gray()
    halvings = 0
    for m in features.modules():
        if isinstance(m, nn.Conv2d) and m.stride == (2, 2):
            halvings += 1
            if halvings > 2:
                m.stride = (2, 1)
    return features, channels


STEMS: dict[str, Callable[[RecognizerConfig], tuple[nn.Module, int]]] = {
    "mobilenet_v3_small": _mobilenet_v3_small_stem,
    "plain": _plain_stem,
}
"""Stem name -> builder returning (module, output channels)."""


class CRNN(nn.Module):
    """Stem -> mean over what is left of the height -> BiLSTM -> linear head -> log-softmax."""

    def __init__(self, config: RecognizerConfig, n_classes: int) -> None:
        super().__init__()
        self.config = config
        self.stem, channels = STEMS[config.stem](config)
        self.rnn = nn.LSTM(channels, config.hidden, num_layers=config.layers, bidirectional=True,
                           dropout=config.dropout if config.layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(2 * config.hidden, n_classes)
        # (kernel, stride, padding, dilation) along the width of the convs that change it, in order, for
        # output_lengths. Those that keep the width (most of them) are left out: each conv's floor division
        # became ten tiny ONNX nodes, a tenth of a page's recognition time at the batch sizes pages have.
        self._width_convs = [(m.kernel_size[1], m.stride[1], m.padding[1], m.dilation[1])
                             for m in self.stem.modules() if isinstance(m, nn.Conv2d)
                             and (m.stride[1], 2 * m.padding[1] - m.dilation[1] * (m.kernel_size[1] - 1)) != (1, 0)]

    def output_lengths(self, widths: Tensor) -> Tensor:
        """Valid frames per line: the conv arithmetic applied to each line's own (unpadded) width."""
        lengths = widths.long()
        for k, s, p, d in self._width_convs:
            lengths = torch.div(lengths + 2 * p - d * (k - 1) - 1, s, rounding_mode="floor") + 1
        return lengths

    def logits(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 1, H, W) images and their (B,) true widths -> logits (T, B, C) and (B,) frame counts.

        Exported models stop here: a calibration temperature divides the logits before the softmax.
        """
        features = self.stem(images).mean(dim=2)  # (B, C, T)
        frames = features.shape[2]
        lengths = self.output_lengths(widths).clamp(min=1, max=frames)
        # Packed, so each line's backward pass starts at its own end, not at the batch's widest: through the
        # padding it lost the lines' last letters (v0.9 read held-out lines at 9.9% CER in batches of similar
        # widths and 9.3% one by one).
        packed = nn.utils.rnn.pack_padded_sequence(features.permute(2, 0, 1), lengths.cpu(), enforce_sorted=False)
        seq, _ = nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], total_length=frames)
        logits = self.head(self.dropout(seq))
        return logits, lengths

    def forward(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 1, H, W) images and their (B,) true widths -> log-probs (T, B, C) and (B,) frame counts."""
        logits, lengths = self.logits(images, widths)
        return logits.log_softmax(-1), lengths


def build_recognizer(config: RecognizerConfig) -> tuple[CRNN, Codec]:
    codec = Codec.for_units(config.units)
    return CRNN(config, len(codec)), codec


@dataclass
class Checkpoint:
    model: CRNN
    codec: Codec
    meta: dict[str, Any]
    train_state: dict[str, Any] | None

    @property
    def config(self) -> RecognizerConfig:
        return self.model.config


def save_checkpoint(path: Path, model: CRNN, codec: Codec, train_state: dict[str, Any] | None = None,
                    extra_meta: dict[str, Any] | None = None) -> None:
    """One self-describing file: architecture config, codec (with its blank), input rules, weights, and
    optionally the training state to resume from."""
    config = model.config
    write_checkpoint(path, {"format": CHECKPOINT_FORMAT, "config": config.model_dump(mode="json"),
                            "codec": codec.to_dict(),
                            "input": {"height": config.height, "crop": config.crop, **INPUT_NORMALISATION},
                            **(extra_meta or {})}, model, train_state)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model and codec a checkpoint describes; the model comes back in eval mode."""
    blob = read_checkpoint(path, CHECKPOINT_FORMAT, map_location)
    meta = blob["meta"]
    codec = Codec.from_dict(meta["codec"])
    model = CRNN(RecognizerConfig.model_validate(meta["config"]), len(codec))
    model.load_state_dict(blob["state_dict"])
    return Checkpoint(model.eval(), codec, meta, blob["train_state"])
