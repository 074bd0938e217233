"""Folders of synthetic pages (`hotich synth pages`) as the template identifier's data: each page shrunk
once into a thumbnail cache (PNG, with the page's truth in an index) and then held in memory.

A page has two views: as imaged, and as the layout stage's preprocessing hands it to the identifier
(cropped to the paper, upright, flattened, contrast-normalised). The cache keys the second on a digest of
the preprocessing code, so changing that code remakes them.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from hotich.inference.layout.identify import fit_long_side

__all__ = ["VIEWS", "PageThumb", "load_pages", "preprocessed_gray"]

VIEWS = ("raw", "preprocessed")
"""How a page reaches the identifier: as imaged, or through the layout stage's preprocessing (the pipeline)."""


@dataclass(frozen=True)
class PageThumb:
    """One synthetic page as the classifier's data: its cached thumbnails and what its truth says."""

    page_id: str
    label: int
    template_id: str
    era: str
    strength: float
    image: np.ndarray = field(repr=False)
    """The page as generated: gray uint8, long side = the cache size, aspect kept."""
    corrected: np.ndarray | None = field(default=None, repr=False)
    """The page as the preprocessing stage hands it to the identifier (cropped to the paper, upright,
    flattened, contrast-normalised), likewise; None when the run does not use that view."""

    def view(self, preprocessed: bool) -> np.ndarray:
        return self.corrected if preprocessed and self.corrected is not None else self.image


@cache
def _preprocess_version() -> str:
    """A digest of the preprocessing code: cached preprocessed thumbnails are remade when it changes."""
    from hotich.inference.layout import preprocess

    return hashlib.sha1(Path(preprocess.__file__).read_bytes()).hexdigest()[:8]


def preprocessed_gray(image: np.ndarray, max_side: int = 2000) -> np.ndarray:
    """`image` (gray or RGB/BGR uint8) through the layout stage's preprocessing, as gray: what the pipeline
    gives the identifier. Pages the preprocessing refuses come back as they are."""
    from hotich.inference.layout.preprocess import preprocess_page

    try:
        out = preprocess_page(image, max_side=max_side).image
    except ValueError:
        out = image
    return cv2.cvtColor(out, cv2.COLOR_BGR2GRAY) if out.ndim == 3 else out


def _cache_folder(folder: Path, cache_dir: Path, long_side: int, preprocessed_view: bool) -> Path:
    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:8]
    views = f"raw+pre{_preprocess_version()}" if preprocessed_view else "raw"
    return cache_dir / f"{folder.name}-{digest}-{long_side}-{views}"


def _cache_one(job: tuple[Path, Path, int, bool]) -> dict[str, Any]:
    """Shrink one page into the cache (`<id>.png`, and `<id>.pre.png` through the preprocessing); its index
    row, with the truth file's mtime to notice a page made again since."""
    truth_path, out, long_side, preprocessed_view = job
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    page_id = truth["page_id"]
    bgr = cv2.imread(str(truth_path.parent / truth["image"]["filename"]), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read the image of {truth_path}")
    views = {"file": cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)}
    if preprocessed_view:
        views["preprocessed"] = preprocessed_gray(bgr)
    row = {"page_id": page_id, "template_id": truth["template_id"], "era": truth["era"],
           "strength": float(truth.get("provenance", {}).get("ageing", {}).get("strength", 0.0)),
           "truth_mtime_ns": truth_path.stat().st_mtime_ns}
    for key, gray in views.items():
        name = f"{page_id}.png" if key == "file" else f"{page_id}.pre.png"
        cv2.imwrite(str(out / f"{name}.tmp.png"), fit_long_side(gray, long_side))
        (out / f"{name}.tmp.png").replace(out / name)
        row[key] = name
    return row


def _cached_pages(folder: Path, cache_dir: Path, long_side: int, preprocessed_view: bool, workers: int,
                  progress: bool) -> list[tuple[dict[str, Any], np.ndarray, np.ndarray | None]]:
    """(index row, thumbnail, preprocessed thumbnail or None) of every page in `folder`, shrinking only what
    the cache lacks."""
    truths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not truths:
        raise FileNotFoundError(f"no synthetic pages in {folder}: make some with `hotich synth pages --n N --out "
                                f"{folder}`")
    out = _cache_folder(folder, cache_dir, long_side, preprocessed_view)
    out.mkdir(parents=True, exist_ok=True)
    index_path = out / "index.jsonl"
    cached = {}
    if index_path.is_file():
        cached = {row["page_id"]: row for row in map(json.loads, index_path.read_text(encoding="utf-8").splitlines())}
    rows: list[dict[str, Any] | None] = []
    jobs = []
    for path in truths:
        row = cached.get(path.name.removesuffix(".json"))
        fresh = row is not None and row.get("truth_mtime_ns") == path.stat().st_mtime_ns and all(
            (out / row[key]).is_file() for key in ("file", "preprocessed")[: 1 + preprocessed_view])
        rows.append(row if fresh else None)
        if not fresh:
            jobs.append((path, out, long_side, preprocessed_view))
    if jobs:
        bar = tqdm(total=len(jobs), desc=f"thumbnails {folder.name}", unit="page", mininterval=2.0,
                   disable=not progress)
        if workers > 1 and len(jobs) >= 8:
            # forkserver: a forked child can hang in OpenCV's thread pool (see `train_layout`)
            with multiprocessing.get_context("forkserver").Pool(workers, initializer=cv2.setNumThreads,
                                                                initargs=(1,)) as pool:
                made = [*_progress(pool.imap(_cache_one, jobs, chunksize=4), bar)]
        else:
            made = [*_progress(map(_cache_one, jobs), bar)]
        bar.close()
        fill = iter(made)
        rows = [row if row is not None else next(fill) for row in rows]
        tmp = out / "index.jsonl.tmp"
        tmp.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        tmp.replace(index_path)
    return [(row, cv2.imread(str(out / row["file"]), cv2.IMREAD_GRAYSCALE),
             cv2.imread(str(out / row["preprocessed"]), cv2.IMREAD_GRAYSCALE) if preprocessed_view else None)
            for row in rows]


def _progress(items: Iterator[Any], bar: tqdm) -> Iterator[Any]:
    for item in items:
        bar.update(1)
        yield item


def load_pages(folders: Sequence[Path], classes: Sequence[str], cache_dir: Path, long_side: int, *,
               preprocessed_view: bool = False, workers: int = 1, progress: bool = True) -> list[PageThumb]:
    """Every page of `folders` as a `PageThumb`, with its preprocessed view too when asked; thumbnails are
    made once into `cache_dir` (by `workers` processes) and reused by later runs."""
    pages: list[PageThumb] = []
    for folder in map(Path, folders):
        for row, image, corrected in _cached_pages(folder, cache_dir, long_side, preprocessed_view, workers,
                                                   progress):
            if row["template_id"] not in classes:
                raise ValueError(f"{folder}/{row['page_id']}: template {row['template_id']!r} is not a class of "
                                 f"this model ({len(classes)} classes)")
            pages.append(PageThumb(row["page_id"], classes.index(row["template_id"]), row["template_id"], row["era"],
                                   row["strength"], image, corrected))
    return pages


