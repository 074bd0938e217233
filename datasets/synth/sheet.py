"""A contact sheet: many generated pages on one image, to look at them side by side."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from hotich.datasets.fonts import load_printed


def contact_sheet(pages_dir: Path, out: Path, n: int = 12, columns: int = 4, cell: int = 640) -> int:
    """Tile the first `n` pages of `pages_dir` (by file name) into `out`; returns how many were tiled."""
    truths = sorted(pages_dir.glob("*.json"))[:n]
    if not truths:
        raise FileNotFoundError(f"no page truth (*.json) in {pages_dir}: run `hotich synth pages` first")
    rows = math.ceil(len(truths) / columns)
    label_h = 28
    sheet = Image.new("RGB", (columns * cell, rows * (cell + label_h)), (40, 40, 40))
    draw = ImageDraw.Draw(sheet)
    font = load_printed("regular", 18)
    for k, path in enumerate(truths):
        truth = json.loads(path.read_text(encoding="utf-8"))
        image = cv2.imread(str(pages_dir / truth["image"]["filename"]), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{truth['image']['filename']} listed in {path.name} is missing or unreadable")
        h, w = image.shape[:2]
        scale = cell / max(h, w)
        thumb = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        x, y = (k % columns) * cell, (k // columns) * (cell + label_h)
        tile = Image.fromarray(np.ascontiguousarray(thumb[:, :, ::-1]))
        sheet.paste(tile, (x + (cell - tile.width) // 2, y + label_h + (cell - tile.height) // 2))
        strength = truth.get("provenance", {}).get("ageing", {}).get("strength")
        label = f"{truth['template_id']}" + (f"  ageing {strength:.2f}" if strength is not None else "")
        draw.text((x + 8, y + 4), label, font=font, fill=(235, 235, 235))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=85)
    return len(truths)
