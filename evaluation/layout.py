"""Score the layout stage on a folder written by `hotich synth pages`: template, record count, field IoU, speed.

Field IoU compares each true field's polygon with the predicted polygon of the same record and key, both
on the aged image; a field the detector missed, or every field of a page whose template it got wrong,
counts as IoU 0. Figures are broken down by era and by ageing strength.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from hotich.datasets.synth.pages import ageing_bin
from hotich.inference.layout.pipeline import LayoutDetector, PageLayout
from hotich.inference.layout.register import FieldRegion

__all__ = ["LayoutEvaluation", "LayoutFigures", "draw_fields", "evaluate_layout", "field_ious", "polygon_iou",
           "read_page", "truth_files"]

IOU_GOOD = 0.7
DRAW_SIDE = 1600
"""Long side of a drawn page: enough to read the field labels, small enough to commit."""


def polygon_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex polygons ((N, 2) x, y)."""
    a, b = np.asarray(a, np.float32).reshape(-1, 2), np.asarray(b, np.float32).reshape(-1, 2)
    inter, _ = cv2.intersectConvexConvex(cv2.convexHull(a), cv2.convexHull(b))
    union = cv2.contourArea(cv2.convexHull(a)) + cv2.contourArea(cv2.convexHull(b)) - inter
    return float(inter / union) if union > 0 else 0.0


class LayoutFigures(BaseModel):
    template_acc: float
    record_count_acc: float
    field_iou_mean: float
    field_iou_ge_07: float
    n: int


class LayoutEvaluation(LayoutFigures):
    pages_per_s: float
    by_era: dict[str, LayoutFigures]
    by_ageing: dict[str, LayoutFigures]


def _figures(pages: list[dict]) -> LayoutFigures:
    ious = [iou for p in pages for iou in p["ious"]]
    return LayoutFigures(
        template_acc=float(np.mean([p["template_ok"] for p in pages])),
        record_count_acc=float(np.mean([p["count_ok"] for p in pages])),
        field_iou_mean=float(np.mean(ious)) if ious else 0.0,
        field_iou_ge_07=float(np.mean([iou >= IOU_GOOD for iou in ious])) if ious else 0.0,
        n=len(pages),
    )


def field_ious(fields: Sequence[FieldRegion], truth: dict) -> list[float]:
    """IoU of every field of the page's truth with the found field of the same record and key; 0 where none
    was found."""
    found = {(f.record, f.key): f.polygon for f in fields}
    return [polygon_iou(found[(r["index"], f["key"])], f["polygon"]) if (r["index"], f["key"]) in found else 0.0
            for r in truth["records"] for f in r["fields"]]


def truth_files(pages_dir: Path, limit: int | None = None) -> list[Path]:
    """The `<id>.json` truths of a folder of synthetic pages, in order."""
    truths = sorted(Path(pages_dir).glob("*.json"))[:limit]
    if not truths:
        raise FileNotFoundError(f"no page truth (*.json) in {pages_dir}: make pages with `hotich synth pages --out "
                                f"{pages_dir}`")
    return truths


def read_page(path: Path) -> tuple[dict, np.ndarray]:
    """A page's truth and its image (BGR)."""
    truth = json.loads(path.read_text(encoding="utf-8"))
    image = cv2.imread(str(path.parent / truth["image"]["filename"]), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read the page image of {path}")
    return truth, image


def _score_page(layout: PageLayout, truth: dict) -> dict:
    template_ok = layout.template_id == truth["template_id"]
    ious = field_ious(layout.fields if template_ok else (), truth)
    filled = layout.registration.records_filled if layout.registration is not None else 0
    return {"template_ok": template_ok, "count_ok": filled == len(truth["records"]), "ious": ious,
            "era": truth["era"], "ageing": ageing_bin(truth["provenance"]["ageing"]["strength"])}


def draw_fields(image: np.ndarray, layout: PageLayout) -> np.ndarray:
    """A copy of the page (BGR) with every detected field outlined and labelled `record:key`, and the
    identification written at the top."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    scale = max(out.shape[:2]) / 2000
    palette = ((200, 60, 0), (0, 140, 0), (0, 0, 200), (160, 0, 160))
    for f in layout.fields:
        colour = palette[f.record % len(palette)]
        cv2.polylines(out, [np.round(f.polygon).astype(np.int32)], True, colour, max(1, round(2 * scale)))
        x, y = f.polygon[0]
        cv2.putText(out, f"{f.record}:{f.key}", (int(x) + 3, int(y) + round(14 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * scale, colour, 1, cv2.LINE_AA)
    ident = layout.identification
    title = f"{layout.template_id or 'no template'} (classifier {ident.confidence:.3f}; by {layout.identified_by})"
    cv2.putText(out, title, (10, round(40 * scale)),
                cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale, (0, 0, 255), max(1, round(2 * scale)), cv2.LINE_AA)
    return out


def evaluate_layout(pages_dir: Path, detector: LayoutDetector, *, limit: int | None = None,
                    draw_dir: Path | None = None, draw_n: int = 4, progress: bool = True) -> LayoutEvaluation:
    """Run the detector on every `<id>.png` with its `<id>.json` truth in `pages_dir`.

    With `draw_dir`, the `draw_n` pages with the lowest mean field IoU are drawn there (`draw_fields`).
    """
    truths = truth_files(pages_dir, limit)
    pages, seconds = [], 0.0
    for path in tqdm(truths, desc="pages", unit="page", disable=not progress):
        truth, image = read_page(path)
        tick = time.perf_counter()
        layout = detector.analyse(image)
        seconds += time.perf_counter() - tick
        pages.append(_score_page(layout, truth))
    if draw_dir is not None:
        draw_dir.mkdir(parents=True, exist_ok=True)
        hardest = sorted(range(len(pages)), key=lambda i: np.mean(pages[i]["ious"]) if pages[i]["ious"] else 0.0)
        for i in hardest[:draw_n]:
            _, image = read_page(truths[i])
            drawn = draw_fields(image, detector.analyse(image))
            shrink = min(1.0, DRAW_SIDE / max(drawn.shape[:2]))
            drawn = cv2.resize(drawn, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(draw_dir / f"{truths[i].stem}.jpg"), drawn, [cv2.IMWRITE_JPEG_QUALITY, 80])
    groups: dict[str, dict[str, list[dict]]] = {"era": defaultdict(list), "ageing": defaultdict(list)}
    for p in pages:
        groups["era"][p["era"]].append(p)
        groups["ageing"][p["ageing"]].append(p)
    return LayoutEvaluation(**_figures(pages).model_dump(), pages_per_s=len(pages) / seconds,
                            by_era={k: _figures(v) for k, v in sorted(groups["era"].items())},
                            by_ageing={k: _figures(v) for k, v in sorted(groups["ageing"].items())})
