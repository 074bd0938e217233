"""The vendored fonts: handwriting fonts split into train / held-out, and the printed font of blank books."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from PIL import ImageFont

FontSplit = Literal["train", "heldout", "all"]
PrintedStyle = Literal["regular", "bold", "condensed"]

_PRINTED_FILES = {
    "regular": "DejaVuSerif.ttf",
    "bold": "DejaVuSerif-Bold.ttf",
    "condensed": "DejaVuSerifCondensed.ttf",
}


@dataclass(frozen=True)
class HandwritingFont:
    name: str
    path: Path
    basic_layout: bool


def font_dir() -> Path:
    return Path(str(resources.files("hotich.datasets.fonts")))


@cache
def _split() -> dict:
    return yaml.safe_load((font_dir() / "split.yaml").read_text(encoding="utf-8"))


@cache
def handwriting_fonts(split: FontSplit) -> tuple[HandwritingFont, ...]:
    """Handwriting fonts of a split, sorted by name so that seeded choices are stable."""
    if split not in ("train", "heldout", "all"):
        raise ValueError(f"font split must be train, heldout or all, not {split!r}")
    cfg = _split()
    heldout = set(cfg["heldout"])
    excluded = set(cfg.get("excluded") or {})
    basic = set(cfg.get("basic_layout") or [])
    fonts = []
    for path in sorted((font_dir() / "handwriting").glob("*.ttf")):
        name = path.stem
        if name in excluded:
            continue
        if (split == "train" and name in heldout) or (split == "heldout" and name not in heldout):
            continue
        fonts.append(HandwritingFont(name=name, path=path, basic_layout=name in basic))
    return tuple(fonts)


@cache
def load_handwriting(name: str, size: int) -> ImageFont.FreeTypeFont:
    font = next(f for f in handwriting_fonts("all") if f.name == name)
    layout = ImageFont.Layout.BASIC if font.basic_layout else ImageFont.Layout.RAQM
    return ImageFont.truetype(str(font.path), size=size, layout_engine=layout)


@cache
def load_printed(style: PrintedStyle, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / "printed" / _PRINTED_FILES[style]), size=size)


@cache
def ink_height_ratio(name: str) -> float:
    """Ink height of a typical Vietnamese line per unit of font size, as writers' sizes should see it.

    Fonts differ a lot in how large they draw at the same nominal size, and script fonts spend their
    height on loops and flourishes around a small body. The ratio blends the full height of a word with
    diacritics and the x-height (scaled to a typical hand's share of 0.43), so that a writer's chosen
    size means a similar body size in every font.
    """
    font = load_handwriting(name, 100)
    _, y0, _, y1 = font.getbbox("Nguyễn Thị Hằng")
    _, x0, _, x1 = font.getbbox("xnuvwm")
    full = max(y1 - y0, 1) / 100.0
    body = max(x1 - x0, 1) / 100.0 / 0.43
    return float((full * body) ** 0.5)
