"""Line datasets for the recogniser: each written line of each field, cut from an aged synthetic page.

Crops are the band of the cell a line was written in, as the layout stage will cut them at inference. The
page pipeline also cuts the bands nobody wrote on (a name that fits on the first of a cell's two lines, an
empty optional field); with `blank` > 0 some of those are cut too, labelled with an empty text, so that
the recogniser learns to read nothing there rather than a cell border as "1".
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from hotich.datasets.synth.pages import SyntheticPage
from hotich.page import BBox, FieldResult
from hotich.templates import get_template

LABELS_FILE = "labels.tsv"


def _cut(image: np.ndarray, box: BBox, rng: np.random.Generator) -> np.ndarray | None:
    """The box with a little jitter, as the layout stage will not cut exactly either; None if too small."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    pad_y = (y1 - y0) * rng.uniform(-0.03, 0.12, size=2)
    pad_x = (y1 - y0) * rng.uniform(-0.05, 0.2, size=2)
    top, bottom = int(max(0, y0 - pad_y[0])), int(min(h, y1 + pad_y[1]))
    left, right = int(max(0, x0 - pad_x[0])), int(min(w, x1 + pad_x[1]))
    if bottom - top < 8 or right - left < 8:
        return None
    return image[top:bottom, left:right]


def _blank_bands(field: FieldResult, n_lines: int) -> list[tuple[int, BBox]]:
    """(line index, box) of the bands of the field's cell below its last written line."""
    cell = BBox.around(field.polygon)
    step = (cell.y1 - cell.y0) / n_lines
    return [(n, BBox(x0=cell.x0, y0=cell.y0 + n * step, x1=cell.x1, y1=cell.y0 + (n + 1) * step))
            for n in range(len(field.lines), n_lines)]


def line_crops(page: SyntheticPage, blank: float = 0.0) -> list[tuple[str, np.ndarray, str]]:
    """(file stem, RGB crop, text) for every non-empty written line of the page, and for a share `blank` of
    the bands left unwritten (text "")."""
    rng = np.random.default_rng(zlib.crc32(page.truth.page_id.encode()))
    template = get_template(page.truth.template_id)
    lines_held = {spec.key: template.field_lines(spec) for spec in template.fields}
    crops = []
    for record in page.truth.records:
        for field in record.fields:
            cuts = [(n, BBox.around(line.polygon), line.text) for n, line in enumerate(field.lines)]
            if blank > 0:
                cuts += [(n, box, "") for n, box in _blank_bands(field, lines_held[field.key]) if rng.random() < blank]
            for n, box, text in cuts:
                crop = _cut(page.image, box, rng)
                if crop is not None:
                    crops.append((f"{page.truth.page_id}_r{record.index}_{field.key}_l{n}", crop, text))
    return crops


def encode_png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()
