"""Line datasets for the recogniser: each written line of each field, cut from an aged synthetic page.

Crops are the band of the cell a line was written in, as the layout stage will cut them at inference.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from hotich.datasets.synth.pages import SyntheticPage
from hotich.page import BBox

LABELS_FILE = "labels.tsv"


def line_crops(page: SyntheticPage) -> list[tuple[str, np.ndarray, str]]:
    """(file stem, RGB crop, text) for every non-empty written line of the page."""
    rng = np.random.default_rng(zlib.crc32(page.truth.page_id.encode()))
    h, w = page.image.shape[:2]
    crops = []
    for record in page.truth.records:
        for field in record.fields:
            for n, line in enumerate(field.lines):
                box = BBox.around(line.polygon)
                x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
                # A little jitter in the cut, as the layout stage will not cut exactly either.
                pad_y = (y1 - y0) * rng.uniform(-0.03, 0.12, size=2)
                pad_x = (y1 - y0) * rng.uniform(-0.05, 0.2, size=2)
                top, bottom = int(max(0, y0 - pad_y[0])), int(min(h, y1 + pad_y[1]))
                left, right = int(max(0, x0 - pad_x[0])), int(min(w, x1 + pad_x[1]))
                if bottom - top < 8 or right - left < 8:
                    continue
                stem = f"{page.truth.page_id}_r{record.index}_{field.key}_l{n}"
                crops.append((stem, page.image[top:bottom, left:right], line.text))
    return crops


def encode_png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()
