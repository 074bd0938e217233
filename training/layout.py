"""Train the template-and-era identifier on folders of synthetic pages (`hotich synth pages`), whose truth
JSON names each page's template.

Pages are shrunk once into a thumbnail cache (PNG, long side `cache_scale` x the input size, so crops
and warps still have pixels to spare) and held in memory: an epoch then costs augmentation and the
network only. Every batch also holds `unknown` pages, drawn fresh each time: blank paper, pages of plain
handwriting or print, ruled tables and forms whose columns match no template, Kalapa handwritten lines
tiled onto paper (when the shared data is present), and small pieces cut from real pages. The drawn pages
are rendered by the same renderer and aged by the same ageing as the ledger pages, so paper, backgrounds
and camera effects tell the classes nothing; only the structure does.

The batch order and every augmentation are pure functions of (seed, step, slot), so `resume` continues
exactly where `last.pt` stopped. Each epoch ends with a validation (accuracy overall, per era, per ageing
strength, per template, and how many drawn pages are called `unknown`); the best epoch is `best.pt`. When
the run is complete, a temperature and a confidence threshold are fitted with `best.pt` on the validation
set (each page also once augmented: real books are harder than clean synthetic pages) and written into it,
for `hotich.models.layout.export_layout` to put on the card.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import albumentations as A
import cv2
import numpy as np
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from hotich.datasets.fonts import handwriting_fonts
from hotich.datasets.lines import KALAPA_DIR, shared_data_dir
from hotich.datasets.synth.ageing import age_page, sample_params
from hotich.datasets.synth.handwriting import sample_writer
from hotich.datasets.synth.render import FieldText, RecordInk, render_page
from hotich.evaluation.metrics import expected_calibration_error
from hotich.inference.decoding import softmax
from hotich.inference.layout.identify import (
    UNKNOWN,
    TemplateIdentifier,
    fit_long_side,
    normalise_thumbnails,
    pad_square,
    page_thumbnail,
)
from hotich.models.layout import (
    LayoutClassifier,
    build_classifier,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
    template_classes,
    update_layout_card,
)
from hotich.templates import Template, list_templates
from hotich.training.calibration import TEMPERATURES

__all__ = [
    "AGEING_BINS",
    "DEFAULT_CONFIG",
    "VIEWS",
    "DistractorMaker",
    "LayoutBatches",
    "LayoutCalibration",
    "PageAugment",
    "PageThumb",
    "TrainConfig",
    "TrainResult",
    "ValSet",
    "evaluate",
    "evaluate_artifact",
    "fit_temperature",
    "load_pages",
    "load_train_config",
    "train_layout",
]

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "layout.yaml"
VIEWS = ("raw", "preprocessed")
"""How a page reaches the identifier: as imaged, or through the layout stage's preprocessing (the pipeline)."""
AGEING_BINS = (("none", 0.05), ("light", 0.4), ("medium", 0.75), ("strong", math.inf))
"""Ageing strength -> report bin: the first whose upper bound exceeds it (`--ageing strong` is 1.0)."""


class TrainConfig(BaseModel):
    """A training run. Relative paths are taken from the working directory (the repository root)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "layout_classifier"
    """A config name under models/configs/ or a path to a model YAML (ignored with --resume)."""
    train: list[Path] = Field(default_factory=lambda: [Path("var/layout/pages/train")])
    """Folders of synthetic pages (made by `hotich synth pages`) to train on."""
    val: list[Path] = Field(default_factory=lambda: [Path("var/layout/pages/val")])
    """Folders of synthetic pages to validate (and calibrate) on; best in fonts held out of training."""
    cache_dir: Path = Path("var/layout/cache")
    """Where page thumbnails are kept between runs (one sub-folder per page folder and size)."""
    cache_scale: float = Field(1.5, ge=1.0, le=4.0)
    """Cached thumbnails' long side, as a multiple of the model's input size."""
    unknown_share: float = Field(0.125, ge=0.0, lt=1.0)
    """Share of every batch made of drawn `unknown` pages."""
    val_unknown: int = Field(60, ge=0)
    """Drawn `unknown` pages in the validation set (the same ones at every evaluation)."""
    kalapa: bool = True
    """Tile Kalapa handwritten lines (<shared data>/kalapa2023, read-only) onto some `unknown` pages."""
    preprocessed_share: float = Field(0.5, ge=0.0, le=1.0)
    """Share of training pages (and drawn ones) shown as the layout stage's preprocessing hands them to the
    identifier (cropped to the paper, upright, flattened, contrast-normalised); the rest as imaged. Above
    0, every page's preprocessed thumbnail is cached too and validation scores both views."""
    augment: float = Field(1.0, ge=0.0, le=2.0)
    """Strength of the augmentation of every training page; 0 turns it off."""
    batch_size: int = Field(32, ge=2)
    lr: float = Field(2e-3, gt=0.0)
    """Peak learning rate of the one-cycle schedule."""
    weight_decay: float = Field(0.05, ge=0.0)
    warmup: float = Field(0.1, gt=0.0, lt=1.0)
    grad_clip: float = Field(5.0, gt=0.0)
    epochs: int = Field(20, ge=1)
    """Passes over the training pages; validation after each."""
    checkpoint_dir: Path = Path("var/runs/layout")
    seed: int = 0
    num_workers: int = Field(1, ge=0)
    """Data-loading processes (they draw the `unknown` pages); on 2 cores one is enough."""
    threads: int = Field(2, ge=1)


def load_train_config(path: Path = DEFAULT_CONFIG) -> TrainConfig:
    return TrainConfig.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


# --- the page cache -------------------------------------------------------------------------------------


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


def _preprocessed(image: np.ndarray, max_side: int = 2000) -> np.ndarray:
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
        views["preprocessed"] = _preprocessed(bgr)
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


def ageing_bin(strength: float) -> str:
    return next(name for name, upper in AGEING_BINS if strength < upper)


# --- drawn `unknown` pages ------------------------------------------------------------------------------


@cache
def _words() -> tuple[str, ...]:
    """Vietnamese words to write on drawn pages: every word of the synthetic content's data files."""
    root = Path(str(files("hotich.datasets.synth.content"))) / "data"
    words: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(key)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            words.update(w for w in node.split() if w.isalpha())

    for path in sorted(root.glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return tuple(sorted(words))


def _text(rng: np.random.Generator, low: int, high: int) -> str:
    words = _words()
    return " ".join(words[i] for i in rng.integers(len(words), size=int(rng.integers(low, high + 1))))


@cache
def _template_columns() -> tuple[tuple[float, ...], ...]:
    """The right edges of every shipped table template's columns: drawn tables must differ from these."""
    return tuple(tuple(c.x1 for c in t.columns) for t in list_templates() if t.layout.style == "table")


def _table(rng: np.random.Generator) -> dict[str, Any]:
    """A ruled register of random columns (none like a shipped template's), titles and records."""
    while True:
        n = int(rng.integers(2, 16))
        edges = np.round(np.cumsum(rng.dirichlet(np.full(n, 2.0))), 3)
        edges[-1] = 1.0
        if np.all(np.diff(np.concatenate([[0.0], edges])) > 0.015) and not any(
                len(cols) == n and np.max(np.abs(np.asarray(cols) - edges)) < 0.05 for cols in _template_columns()):
            break
    spread = rng.random() < 0.5
    paper = (594, 420) if spread else ((420, 297) if rng.random() < 0.6 else (297, 420))
    top = float(rng.uniform(0.04, 0.12))
    header = float(rng.uniform(0.05, 0.16))
    bottom = float(rng.uniform(0.88, 0.97))
    margin = float(rng.uniform(0.02, 0.07))
    rows = int(rng.integers(1, 6))
    columns = [{"title": _text(rng, 1, 7), "x0": float(a), "x1": float(b)}
               for a, b in zip(np.concatenate([[0.0], edges[:-1]]), edges, strict=True)]
    fields = [{"key": f"c{i}", "label": "c", "type": "text", "source": "c",
               "cell": {"column": i, "row": 0, "rows": rows}} for i in range(n)]
    title = {"text": _text(rng, 2, 6).upper(), "at": [float(rng.uniform(0.2, 0.8)), max(0.02, top - 0.015)],
             "size": float(rng.uniform(0.008, 0.016)), "bold": True, "align": "center"}
    printed = [title] if rng.random() < 0.8 else []
    layout = {"style": "table", "paper_mm": paper, "spread": spread, "records_per_page": int(rng.integers(1, 9)),
              "header_area": [margin, top, 1 - margin, top + header],
              "record_area": [margin, top + header, 1 - margin, bottom], "rows_per_record": rows,
              "ruling": str(rng.choice(["full", "light"]))}
    return {"layout": layout, "columns": columns, "printed": printed, "fields": fields}


def _form(rng: np.random.Generator) -> dict[str, Any]:
    """A form of random prompts with dotted writing lines, one to three records a page."""
    records = int(rng.integers(1, 4))
    fields, lines = [], []
    y = float(rng.uniform(0.02, 0.1))
    while y < 0.9:
        height = float(rng.uniform(0.04, 0.12))
        x = 0.0
        for _ in range(int(rng.integers(1, 4))):
            x0 = x + float(rng.uniform(0.12, 0.3))
            x1 = min(1.0, x0 + float(rng.uniform(0.15, 0.6)))
            if x0 >= 0.95 or x1 - x0 < 0.05:
                break
            fields.append({"key": f"f{len(fields)}", "label": "f", "type": "text", "source": "f",
                           "prompt": _text(rng, 1, 4) + ":", "box": [x0, y, x1, min(1.0, y + height)]})
            x = x1
        if rng.random() < 0.3:
            lines.append([0.0, min(1.0, y + height + 0.005), 1.0, min(1.0, y + height + 0.005)])
        y += height + float(rng.uniform(0.0, 0.05))
    if rng.random() < 0.6:
        lines += [[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0]]
    layout = {"style": "form", "paper_mm": (297, 420) if rng.random() < 0.75 else (420, 297), "spread": False,
              "records_per_page": records, "record_area": [0.06, 0.04, 0.95, 0.96],
              "ruling": str(rng.choice(["full", "light", "none"]))}
    printed = [{"text": _text(rng, 2, 6).upper(), "at": [0.5, 0.03], "size": 0.01, "bold": True,
                "align": "center"}] if rng.random() < 0.5 else []
    return {"layout": layout, "printed": printed, "record_lines": lines, "fields": fields}


def _text_page(rng: np.random.Generator, handwritten: bool) -> dict[str, Any]:
    """A page of writing without a ledger's structure: a letter, notes, a ruled notebook, a printed text."""
    landscape = rng.random() < 0.25
    x0, x1 = float(rng.uniform(0.05, 0.15)), float(rng.uniform(0.85, 0.95))
    y0, y1 = float(rng.uniform(0.04, 0.15)), float(rng.uniform(0.8, 0.96))
    n_lines = int(rng.integers(6, 36))
    pitch = (y1 - y0) / n_lines
    printed, fields, lines = [], [], []
    if rng.random() < 0.5:
        printed.append({"text": _text(rng, 2, 6).upper(), "at": [0.5, max(0.03, y0 - 0.01)], "size": 0.012,
                        "bold": True, "align": "center"})
    if handwritten:
        for k in range(0, n_lines, 12):
            span = min(12, n_lines - k)
            fields.append({"key": f"t{k}", "label": "t", "type": "text", "source": "t", "lines": span,
                           "box": [x0, y0 + k * pitch, x1, y0 + (k + span) * pitch]})
        if rng.random() < 0.5:  # a ruled notebook or letter pad
            lines += [[0.0, y0 + (k + 1) * pitch, 1.0, y0 + (k + 1) * pitch] for k in range(n_lines)]
    else:
        size = float(np.clip(pitch * 0.45, 0.006, 0.02))
        printed += [{"text": _text(rng, 3, 14), "at": [x0, y0 + (k + 0.8) * pitch], "size": size}
                    for k in range(n_lines) if rng.random() < 0.92]
    layout = {"style": "form", "paper_mm": (420, 297) if landscape else (297, 420), "spread": False,
              "records_per_page": 1, "record_area": [0.0, 0.0, 1.0, 1.0], "ruling": "light"}
    return {"layout": layout, "printed": printed, "lines": lines, "fields": fields}


def _blank(rng: np.random.Generator) -> dict[str, Any]:
    """Blank paper, at most with a page number or a frame."""
    printed = [{"text": str(int(rng.integers(1, 300))), "at": [0.95, 0.98], "size": 0.008,
                "align": "right"}] if rng.random() < 0.3 else []
    lines = [[0.05, 0.05, 0.95, 0.05], [0.05, 0.95, 0.95, 0.95], [0.05, 0.05, 0.05, 0.95],
             [0.95, 0.05, 0.95, 0.95]] if rng.random() < 0.2 else []
    spread = rng.random() < 0.3
    layout = {"style": "form", "paper_mm": (594, 420) if spread else (297, 420), "spread": spread,
              "records_per_page": 1, "record_area": [0.0, 0.0, 1.0, 1.0], "ruling": "light"}
    return {"layout": layout, "printed": printed, "lines": lines, "fields": []}


def _kalapa_lines(seed: int, n: int = 400) -> list[np.ndarray]:
    """Up to `n` Kalapa line images (gray, paper normalised to white), read once from the shared data; []
    when it is absent. Only held in memory: the images are never copied anywhere."""
    root = shared_data_dir()
    if root is None or not (root / KALAPA_DIR).is_dir():
        return []
    paths = sorted((root / KALAPA_DIR).glob("*.jpg"))
    lines = []
    for i in np.random.default_rng(seed).permutation(len(paths))[:n]:
        gray = cv2.imread(str(paths[i]), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            continue
        paper = max(1.0, float(np.percentile(gray, 90)))
        lines.append(np.clip(gray.astype(np.float32) * (255 / paper), 0, 255).astype(np.uint8))
    return lines


class DistractorMaker:
    """Draws `unknown` pages (gray, long side `long_side`), each a pure function of its random generator.

    Structured pages are rendered at twice `long_side` by the ledger renderer and aged by the ledger
    ageing at a random strength; pieces of real pages come from `pages` (thumbnails at `long_side`). With
    `preprocessed`, a page comes as the layout stage's preprocessing would hand it to the identifier.
    """

    KINDS = ("table", "form", "handwriting", "print", "blank", "kalapa", "piece")

    def __init__(self, long_side: int, pages: Sequence[PageThumb], kalapa: Sequence[np.ndarray] = (),
                 weights: dict[str, float] | None = None) -> None:
        self.long_side = long_side
        self.pages = pages
        self.kalapa = list(kalapa)
        weights = weights or {"table": 0.25, "form": 0.12, "handwriting": 0.12, "print": 0.1, "blank": 0.08,
                              "kalapa": 0.1, "piece": 0.23}
        kinds = [k for k in self.KINDS if weights.get(k, 0) > 0 and (k != "kalapa" or self.kalapa)
                 and (k != "piece" or self.pages)]
        p = np.array([weights[k] for k in kinds])
        self.kinds, self.p = kinds, p / p.sum()
        self.fonts = handwriting_fonts("train")

    def __call__(self, rng: np.random.Generator, preprocessed: bool = False) -> np.ndarray:
        kind = self.kinds[int(rng.choice(len(self.kinds), p=self.p))]
        return self.draw(kind, rng, preprocessed)

    def draw(self, kind: str, rng: np.random.Generator, preprocessed: bool = False) -> np.ndarray:
        if kind == "piece":
            return self._piece(rng, preprocessed)
        spec = {"table": _table, "form": _form, "blank": _blank, "kalapa": _blank,
                "handwriting": lambda r: _text_page(r, handwritten=True),
                "print": lambda r: _text_page(r, handwritten=False)}[kind](rng)
        template = Template.model_validate({"id": "distractor.drawn", "book_type": "distractor", "era": "drawn",
                                            "title": "", "valid": {"start": "1900-01-01", "end": "2100-01-01"},
                                            **spec})
        records = []
        filled = 1 if kind == "handwriting" else int(rng.integers(0, template.layout.records_per_page + 1))
        for _ in range(filled):
            texts = {f.key: FieldText(f.key, _text(rng, 1, 8 * template.field_lines(f)) if rng.random() < 0.8 else "")
                     for f in template.fields}
            records.append(RecordInk(writer=sample_writer(self.fonts, rng), fields=texts))
        page = render_page(template, records, int(rng.integers(1, 300)), 2 * self.long_side, rng)
        clean, ink = page.image, page.ink
        if kind == "kalapa":
            self._tile_kalapa(clean, ink, rng)
        params = sample_params(float(rng.uniform(0.0, 1.0)), rng)
        aged, _ = age_page(clean, ink, params, seed=int(rng.integers(2**31 - 1)))
        if preprocessed:
            return fit_long_side(_preprocessed(cv2.cvtColor(aged, cv2.COLOR_RGB2BGR), 2 * self.long_side),
                                 self.long_side)
        return fit_long_side(cv2.cvtColor(aged, cv2.COLOR_RGB2GRAY), self.long_side)

    def _tile_kalapa(self, clean: np.ndarray, ink: np.ndarray, rng: np.random.Generator) -> None:
        """Real handwritten lines pasted down the page, darkest pixel wins (the lines keep their own paper)."""
        h, w = ink.shape
        line_h = max(8, round(h * float(rng.uniform(0.025, 0.05))))
        y = round(h * float(rng.uniform(0.03, 0.12)))
        while y + line_h < h * 0.95:
            line = self.kalapa[int(rng.integers(len(self.kalapa)))]
            width = min(round(line.shape[1] * line_h / line.shape[0]), round(w * 0.9))
            line = cv2.resize(line, (width, line_h), interpolation=cv2.INTER_AREA)
            x = int(rng.integers(round(w * 0.03), max(round(w * 0.03) + 1, w - width)))
            region = clean[y : y + line_h, x : x + width]
            region[:] = np.minimum(region, line[:, :, None])
            ink[y : y + line_h, x : x + width] = np.maximum(ink[y : y + line_h, x : x + width], 255 - line)
            y += round(line_h * float(rng.uniform(1.0, 1.8)))

    def _piece(self, rng: np.random.Generator, preprocessed: bool) -> np.ndarray:
        """A small piece (6-30% of the area) of a real page, enlarged to a whole thumbnail."""
        image = self.pages[int(rng.integers(len(self.pages)))].view(preprocessed)
        h, w = image.shape
        area, aspect = float(rng.uniform(0.06, 0.3)), float(np.exp(rng.uniform(-0.7, 0.7)))
        cw, ch = min(w, round(math.sqrt(area * w * h * aspect))), min(h, round(math.sqrt(area * w * h / aspect)))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        return fit_long_side(image[y : y + ch, x : x + cw], self.long_side)


# --- augmentation ---------------------------------------------------------------------------------------


class PageAugment:
    """Label-preserving distortions of a cached page, then the model's thumbnail.

    Geometry at the cache size (small rotations and shear, perspective, crops and zoom that keep most of
    the page), then the shrink to the input size, then tone, blur, noise and JPEG, and last the white
    padding, which inference always adds untouched. `strength` scales every magnitude and probability.
    """

    def __init__(self, size: int, strength: float = 1.0) -> None:
        self.size = size
        s = strength

        def p(base: float) -> float:
            return min(1.0, base * s)

        edge = cv2.BORDER_REPLICATE
        self._geometry = A.Compose([
            A.Affine(rotate=(-3 * s, 3 * s), shear=(-2 * s, 2 * s), scale=(1 - 0.04 * s, 1 + 0.04 * s),
                     translate_percent=(-0.02 * s, 0.02 * s), border_mode=edge, p=p(0.7)),
            A.Perspective(scale=(0.01, 0.01 + 0.04 * s), border_mode=edge, p=p(0.4)),
            A.CropAndPad(percent=(-0.05 * s, 0.02 * s), keep_size=False, border_mode=edge, p=p(0.5)),
        ])
        self._tone = A.Compose([
            A.RandomBrightnessContrast(brightness_limit=0.15 * s, contrast_limit=0.25 * s, p=p(0.6)),
            A.RandomGamma(gamma_limit=(100 - 20 * s, 100 + 25 * s), p=p(0.3)),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(0.2, 0.2 + 0.6 * s)),
                     A.MotionBlur(blur_limit=(3, 3))], p=p(0.25)),
            A.GaussNoise(std_range=(0.005, 0.005 + 0.025 * s), p=p(0.2)),
            A.ImageCompression(quality_range=(max(20, round(95 - 60 * s)), 95), p=p(0.3)),
        ])

    def __call__(self, gray: np.ndarray, seed: int) -> np.ndarray:
        """A cached page (gray uint8) -> an augmented (size, size) thumbnail; the same seed, the same output."""
        for k, pipeline in enumerate((self._geometry, self._tone)):
            pipeline.set_random_state(np.random.default_rng([seed, k]), random.Random(seed * 2 + k))
        gray = self._geometry(image=gray)["image"]
        gray = self._tone(image=fit_long_side(gray, self.size))["image"]
        return pad_square(gray, self.size)


# --- training data --------------------------------------------------------------------------------------


class LayoutTrainSet(Dataset):
    """Keys (index, seed) -> (normalised thumbnail (1, S, S), class): a page for index >= 0, a drawn
    `unknown` page for index -1."""

    def __init__(self, pages: Sequence[PageThumb], size: int, unknown: int, distractors: DistractorMaker,
                 augment: PageAugment | None, preprocessed_share: float = 0.0) -> None:
        self.pages, self.size, self.unknown = pages, size, unknown
        self.distractors, self.augment, self.preprocessed_share = distractors, augment, preprocessed_share

    def __len__(self) -> int:
        return len(self.pages)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, int]:
        index, seed = key
        rng = np.random.default_rng([seed, 1])
        pre = bool(rng.random() < self.preprocessed_share)
        if index >= 0:
            gray, label = self.pages[index].view(pre), self.pages[index].label
        else:
            gray, label = self.distractors(rng, pre), self.unknown
        thumb = self.augment(gray, seed) if self.augment is not None else page_thumbnail(gray, self.size)
        return torch.from_numpy(normalise_thumbnails([thumb])[0]), label


class LayoutBatches:
    """Batches of (index, seed) keys, forever, from any step: each epoch a fresh shuffle of the pages, each
    batch `pages_per_batch` of them plus `unknown` drawn pages; all of it a pure function of (seed, step)."""

    def __init__(self, n_pages: int, batch_size: int, unknown: int, seed: int, start_step: int = 0) -> None:
        if unknown >= batch_size:
            raise ValueError(f"{unknown} unknown pages leave no room for pages in a batch of {batch_size}")
        self.n_pages, self.unknown, self.seed, self.start_step = n_pages, unknown, seed, start_step
        self.pages_per_batch = batch_size - unknown
        self.steps_per_epoch = math.ceil(n_pages / self.pages_per_batch)

    def batch(self, step: int) -> list[tuple[int, int]]:
        epoch, b = divmod(step, self.steps_per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(self.n_pages)
        indices = [*perm[b * self.pages_per_batch : (b + 1) * self.pages_per_batch].tolist(), *[-1] * self.unknown]
        seeds = np.random.SeedSequence([self.seed, step]).generate_state(len(indices), np.uint32)
        return [(int(i), int(s)) for i, s in zip(indices, seeds, strict=True)]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1


def _init_worker(worker_id: int) -> None:
    cv2.setNumThreads(1)  # the loader processes share the cores with the model: no extra OpenCV threads


# --- validation -----------------------------------------------------------------------------------------


@dataclass
class ValSet:
    """Validation thumbnails, made once: every page unaugmented in each view the run uses, a fixed set of
    drawn `unknown` pages, and (for calibration only) one augmented copy of each page, the harder pages a
    real book brings."""

    thumbs: np.ndarray
    """(N, S, S) uint8: the pages (in each view), then the drawn pages."""
    labels: np.ndarray
    groups: list[dict[str, str]]
    """Per thumbnail: view, era, ageing bin, template (drawn pages: their view only)."""
    augmented: np.ndarray
    """(pages, S, S) uint8: each page once more, augmented, in one of its views."""
    augmented_labels: np.ndarray

    @classmethod
    def build(cls, pages: Sequence[PageThumb], size: int, unknown_label: int, distractors: DistractorMaker,
              n_unknown: int, seed: int) -> ValSet:
        views = [False, True] if pages and pages[0].corrected is not None else [False]
        thumbs, groups, labels = [], [], []
        for pre in views:
            for p in pages:
                thumbs.append(page_thumbnail(p.view(pre), size))
                groups.append({"view": VIEWS[pre], "era": p.era, "ageing": ageing_bin(p.strength),
                               "template": p.template_id})
                labels.append(p.label)
        for k in range(n_unknown):
            pre = views[k % len(views)]
            thumbs.append(page_thumbnail(distractors(np.random.default_rng([seed, 7, k]), pre), size))
            groups.append({"view": VIEWS[pre]})
            labels.append(unknown_label)
        augment = PageAugment(size)
        seeds = np.random.SeedSequence([seed, 8]).generate_state(len(pages))
        augmented = [augment(p.view(views[k % len(views)]), int(seeds[k])) for k, p in enumerate(pages)]
        return cls(np.stack(thumbs), np.asarray(labels), groups,
                   np.stack(augmented) if augmented else np.zeros((0, size, size), np.uint8),
                   np.asarray([p.label for p in pages], dtype=np.int64))

    def calibration_set(self) -> tuple[np.ndarray, np.ndarray]:
        """Thumbnails and labels to fit the temperature and threshold on: all of the above."""
        return np.concatenate([self.thumbs, self.augmented]), np.concatenate([self.labels, self.augmented_labels])


@torch.no_grad()
def _logits(model: LayoutClassifier, thumbs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    was_training = model.training
    model.eval()
    out = [model(torch.from_numpy(normalise_thumbnails(thumbs[i : i + batch_size]))).numpy()
           for i in range(0, len(thumbs), batch_size)]
    model.train(was_training)
    return np.concatenate(out)


def _scores(probs: np.ndarray, labels: np.ndarray, groups: Sequence[dict[str, str]], classes: Sequence[str]
            ) -> dict[str, Any]:
    """Accuracy overall and per group, the mean log-loss, and how the `unknown` class fares."""
    unknown = classes.index(UNKNOWN)
    pred = probs.argmax(1)
    right = pred == labels
    is_page = labels != unknown
    by: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for ok, group in zip(right, groups, strict=True):
        for name, value in group.items():
            by[name][value].append(bool(ok))
    return {
        "n": len(labels), "acc": float(right.mean()),
        "loss": float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)))),
        "page_acc": float(right[is_page].mean()) if is_page.any() else None,
        "unknown_recall": float(right[~is_page].mean()) if (~is_page).any() else None,
        "pages_called_unknown": float((pred[is_page] == unknown).mean()) if is_page.any() else None,
        **{f"per_{name}": {k: round(float(np.mean(v)), 4) for k, v in sorted(values.items())}
           for name, values in by.items()},
    }


def _summary(scores: dict[str, Any]) -> str:
    unknown = f", unknown recall {scores['unknown_recall']:.2%}" if scores.get("unknown_recall") is not None else ""
    eras = ", ".join(f"{k} {v:.0%}" for k, v in scores.get("per_era", {}).items())
    return (f"val acc {scores['acc']:.2%} (pages {scores['page_acc']:.2%}{unknown}), val loss {scores['loss']:.3f}; "
            f"per era {eras}")


def evaluate(model: LayoutClassifier, val: ValSet, classes: Sequence[str]) -> tuple[dict[str, Any], np.ndarray]:
    """Validation scores of `model` (at temperature 1) and its logits."""
    logits = _logits(model, val.thumbs)
    return _scores(softmax(logits), val.labels, val.groups, classes), logits


# --- calibration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutCalibration:
    temperature: float
    threshold: float
    """Naming a template needs at least this calibrated confidence."""
    ece_before: float
    """ECE of the top class's probability at T = 1."""
    ece_after: float
    log_loss_before: float
    log_loss_after: float
    accepted: float
    """Share of the validation pages (not drawn ones) named at the threshold."""
    accepted_acc: float | None
    """Accuracy among everything named at the threshold (drawn pages named count as wrong)."""
    n: int


def _nll(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, unknown: int, precision: float = 0.995,
                    min_errors: int = 5) -> LayoutCalibration:
    """The temperature (from the recogniser's grid, `training.calibration.TEMPERATURES`) that minimises the
    log-loss of the true class; then the lowest threshold (>= 0.5) at which what is named is right at least
    `precision` of the time, or, when none is, the one that comes closest.

    With fewer than `min_errors` mistakes among `logits`, the log-loss always prefers a sharper softmax and
    cannot tell over-confidence from skill, so the temperature is then never taken below 1.
    """
    if len(logits) == 0 or len(logits) != len(labels):
        raise ValueError(f"need one label per page and at least one page, got {len(logits)} and {len(labels)}")
    errors = int(np.sum(np.asarray(logits).argmax(1) != labels))
    grid = [float(t) for t in TEMPERATURES if errors >= min_errors or t >= 1.0]
    losses = {t: _nll(softmax(logits, t), labels) for t in grid}
    best = min(losses, key=losses.__getitem__)
    probs = softmax(logits, best)
    pred, conf = probs.argmax(1), probs.max(1)
    right = pred == labels
    named = pred != unknown
    choice: tuple[float, float] | None = None  # (threshold, precision there)
    for t in np.round(np.arange(0.5, 1.0, 0.01), 2):
        accepted = named & (conf >= t)
        p = float(right[accepted].mean()) if accepted.any() else 0.0
        if p >= precision:
            choice = (float(t), p)
            break
        if choice is None or p > choice[1]:
            choice = (float(t), p)
    assert choice is not None
    threshold = choice[0]
    accepted = named & (conf >= threshold)
    before = softmax(logits)
    return LayoutCalibration(
        temperature=best, threshold=threshold,
        ece_before=expected_calibration_error(before.max(1).tolist(), (before.argmax(1) == labels).tolist()),
        ece_after=expected_calibration_error(conf.tolist(), right.tolist()),
        log_loss_before=_nll(before, labels), log_loss_after=losses[best],
        accepted=float(accepted[labels != unknown].mean()) if (labels != unknown).any() else 0.0,
        accepted_acc=float(right[accepted].mean()) if accepted.any() else None, n=len(labels),
    )


# --- the training loop ----------------------------------------------------------------------------------


@dataclass
class TrainResult:
    step: int
    epoch: float
    checkpoint_dir: Path
    best_acc: float | None
    pages_per_s: float
    """Training throughput of this run (validation excluded)."""
    losses: list[float] = field(default_factory=list)
    """Cross-entropy of every step this run made."""
    calibration: LayoutCalibration | None = None
    """Fitted when the run completed its last epoch."""


def train_layout(config: TrainConfig, *, resume: bool = False, max_steps: int | None = None,
                 progress: bool = True) -> TrainResult:
    """Train a template identifier; checkpoints and history.jsonl go to `config.checkpoint_dir`.

    `max_steps` stops this run once that many steps are done in all (the schedule still spans
    `config.epochs`), saving `last.pt` so that `resume=True` carries on.
    """
    torch.set_num_threads(config.threads)
    out = config.checkpoint_dir
    last_path, best_path, history_path = out / "last.pt", out / "best.pt", out / "history.jsonl"
    state: dict[str, Any] = {}
    if resume:
        if not last_path.is_file():
            raise FileNotFoundError(f"nothing to resume: no {last_path}")
        ckpt = load_checkpoint(last_path)
        model, classes, templates, state = ckpt.model, ckpt.classes, ckpt.templates, ckpt.train_state or {}
    else:
        if last_path.exists():
            raise FileExistsError(f"{last_path} exists: pass --resume, or choose another checkpoint_dir")
        torch.manual_seed(config.seed)
        classes, templates = template_classes()
        model = build_classifier(load_model_config(config.model), classes)
        out.mkdir(parents=True, exist_ok=True)
        history_path.write_text("", encoding="utf-8")
    size = model.config.size
    unknown = classes.index(UNKNOWN)
    cache_side = round(size * config.cache_scale)

    say = tqdm.write
    views = {"preprocessed_view": config.preprocessed_share > 0, "workers": config.threads, "progress": progress}
    pages = load_pages(config.train, classes, config.cache_dir, cache_side, **views)
    val_pages = load_pages(config.val, classes, config.cache_dir, cache_side, **views)
    kalapa = _kalapa_lines(config.seed) if config.kalapa else []
    if config.kalapa and not kalapa:
        say(f"no {KALAPA_DIR} under the shared data folder: drawn `unknown` pages without real handwriting")
    distractors = DistractorMaker(cache_side, pages, kalapa)
    val = ValSet.build(val_pages, size, unknown, DistractorMaker(cache_side, val_pages, kalapa),
                       config.val_unknown, config.seed)
    n_unknown = round(config.batch_size * config.unknown_share)
    if config.unknown_share > 0:
        n_unknown = max(1, n_unknown)
    sampler = LayoutBatches(len(pages), config.batch_size, n_unknown, config.seed, start_step=state.get("step", 0))
    total = config.epochs * sampler.steps_per_epoch
    train_set = LayoutTrainSet(pages, size, unknown, distractors,
                               PageAugment(size, config.augment) if config.augment > 0 else None,
                               config.preprocessed_share)

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total,
                                                    pct_start=min(0.5, max(config.warmup, 2 / total)))
    step = state.get("step", 0)
    best: list[float] | None = state.get("best")  # (accuracy, -loss) of best.pt
    if state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])  # dropout
    stop = min(total, max_steps) if max_steps is not None else total
    data = {"train": [str(f) for f in config.train], "val": [str(f) for f in config.val], "pages": len(pages),
            "val_pages": len(val_pages), "val_unknown": config.val_unknown, "unknown_per_batch": n_unknown,
            "kalapa_lines": len(kalapa), "thumbnail_cache": str(config.cache_dir)}
    command = state.get("command") or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    # forkserver, not fork: the cache and validation set above ran OpenCV's thread pool, and a forked child
    # hangs in the first OpenCV call that touches that pool (the threads it waits for were not copied).
    loader = DataLoader(train_set, batch_sampler=sampler, num_workers=config.num_workers, worker_init_fn=_init_worker,
                        multiprocessing_context="forkserver" if config.num_workers else None)
    loss_fn = torch.nn.CrossEntropyLoss()

    def checkpoint(path: Path, extra: dict[str, Any]) -> None:
        train_state = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                       "torch_rng": torch.get_rng_state(), "best": best, "data": data, "command": command,
                       "config": config.model_dump(mode="json")}
        save_checkpoint(path, model, classes, templates, train_state,
                        extra_meta={"step": step, "epoch": step / sampler.steps_per_epoch, **extra})

    say(f"training {model.config.name} ({sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{size} px) from step {step} to {stop} of {total} ({config.epochs} epochs of {sampler.steps_per_epoch} "
        f"steps); {len(pages)} pages + {n_unknown} drawn unknown per batch of {config.batch_size}; validation "
        f"{len(val_pages)} pages + {config.val_unknown} drawn")
    model.train()
    losses: list[float] = []
    window: list[float] = []
    seconds, samples = 0.0, 0
    bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True, disable=not progress)
    batches = iter(loader)
    while step < stop:
        tick = time.perf_counter()
        images, labels = next(batches)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        seconds += time.perf_counter() - tick
        samples += len(labels)
        losses.append(loss.item())
        window.append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(window[-50:]):.3f}", pages_s=f"{samples / seconds:.1f}")

        if step % sampler.steps_per_epoch == 0 or step == total:
            scores, _ = evaluate(model, val, classes)
            improved = best is None or [scores["acc"], -scores["loss"]] > best
            if improved:
                best = [scores["acc"], -scores["loss"]]
            checkpoint(last_path, {"val": scores})
            if improved:
                checkpoint(best_path, {"val": scores})
            record = {"step": step, "epoch": round(step / sampler.steps_per_epoch, 3), "lr": scheduler.get_last_lr()[0],
                      "train_loss": float(np.mean(window)), "pages_per_s": samples / seconds, "best": improved,
                      "val": scores}
            with history_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            say(f"epoch {record['epoch']:g} (step {step}): loss {record['train_loss']:.3f}; {_summary(scores)}"
                + (" *best*" if improved else ""))
            window = []
    bar.close()
    calibration = None
    if step == total:
        calibration = _calibrate(best_path, val, classes)
        with history_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, "calibration": asdict(calibration)}) + "\n")
        named = (f"{calibration.accepted_acc:.2%} of them right" if calibration.accepted_acc is not None
                 else "none named")
        say(f"calibration on validation ({calibration.n}): temperature {calibration.temperature:g}, ECE "
            f"{calibration.ece_before:.2%} -> {calibration.ece_after:.2%}; threshold {calibration.threshold:g} names "
            f"{calibration.accepted:.1%} of pages, {named}")
    elif step % sampler.steps_per_epoch:
        checkpoint(last_path, {})  # stopped by max_steps within an epoch: keep the state for --resume
    return TrainResult(step=step, epoch=step / sampler.steps_per_epoch, checkpoint_dir=out,
                       best_acc=best[0] if best else None, pages_per_s=samples / seconds if seconds else 0.0,
                       losses=losses, calibration=calibration)


def _calibrate(best_path: Path, val: ValSet, classes: Sequence[str]) -> LayoutCalibration:
    """Fit the temperature and threshold of best.pt on the validation set and write them into it."""
    ckpt = load_checkpoint(best_path)
    thumbs, labels = val.calibration_set()
    calibration = fit_temperature(_logits(ckpt.model, thumbs), labels, classes.index(UNKNOWN))
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "config", "classes", "templates", "input",
                                                            "parameters")}
    meta["calibration"] = {**asdict(calibration), "fitted_on": "validation pages, each also once augmented, and "
                                                               "drawn unknown pages"}
    save_checkpoint(best_path, ckpt.model, ckpt.classes, ckpt.templates, ckpt.train_state, extra_meta=meta)
    return calibration


# --- evaluating a served artifact -----------------------------------------------------------------------


def evaluate_artifact(model_dir: Path | None, folders: Sequence[Path], *, preprocess: bool = False,
                      threads: int | None = None, record_as: str | None = None, progress: bool = True
                      ) -> dict[str, Any]:
    """Score an exported identifier (ONNX Runtime, as served) on folders of synthetic pages read at full size.

    `acc` counts a page right when `identify` names its template (a page left unnamed is wrong); `top1_acc`
    ignores the threshold. Also: accuracy per era, ageing strength and template, how many pages are named
    and how many of those are right, ECE of the confidence, and ms per page (the network alone, one page at
    a time, and the whole call with the thumbnail). With `preprocess`, each page first goes through the
    layout stage's preprocessing, as in the pipeline (its time not counted). `record_as` also writes the
    figures into the card's metrics under that name.
    """
    identifier = TemplateIdentifier(model_dir, threads=threads)
    classes = identifier.classes
    truths = [p for folder in folders for p in sorted(Path(folder).glob("*.json"))]
    if not truths:
        raise FileNotFoundError(f"no synthetic pages in {[str(f) for f in folders]}")
    labels, groups, thumbs, probs = [], [], [], []
    named, correct = [], []
    call_seconds = 0.0
    for path in tqdm(truths, desc="pages", unit="page", disable=not progress):
        truth = json.loads(path.read_text(encoding="utf-8"))
        image = cv2.imread(str(path.parent / truth["image"]["filename"]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read the image of {path}")
        if preprocess:
            image = _preprocessed(image)
        tick = time.perf_counter()
        page_probs = identifier.probabilities([image])[0]
        result = identifier.decide(page_probs)
        call_seconds += time.perf_counter() - tick
        thumbs.append(identifier.thumbnails([image])[0])
        probs.append(page_probs)
        labels.append(classes.index(truth["template_id"]))
        strength = float(truth.get("provenance", {}).get("ageing", {}).get("strength", 0.0))
        groups.append({"era": truth["era"], "ageing": ageing_bin(strength), "template": truth["template_id"]})
        named.append(result.template_id is not None)
        correct.append(result.template_id == truth["template_id"])
    batch = normalise_thumbnails(thumbs[:1], identifier.input)
    for _ in range(5):
        identifier.session.run(None, {"images": batch})
    tick = time.perf_counter()
    for thumb in thumbs:
        identifier.session.run(None, {"images": normalise_thumbnails([thumb], identifier.input)})
    model_ms = 1000 * (time.perf_counter() - tick) / len(thumbs)
    scores = _scores(np.stack(probs), np.asarray(labels), groups, classes)
    named_a, correct_a = np.asarray(named), np.asarray(correct)
    top1 = [classes[int(i)] for i in np.stack(probs).argmax(1)]
    result = {
        "pages": len(truths), "folders": [str(f) for f in folders], "view": VIEWS[preprocess],
        "acc": float(correct_a.mean()),
        "top1_acc": scores["acc"], "named": float(named_a.mean()),
        "named_acc": float(correct_a[named_a].mean()) if named_a.any() else None,
        "ece": expected_calibration_error([float(p.max()) for p in probs],
                                          [t == classes[y] for t, y in zip(top1, labels, strict=True)]),
        "log_loss": scores["loss"], "per_era": scores["per_era"], "per_ageing": scores["per_ageing"],
        "per_template": scores["per_template"], "confusions": dict(Counter(
            f"{classes[y]} -> {t}" for t, y in zip(top1, labels, strict=True) if t != classes[y]).most_common(10)),
        "model_ms_per_page": model_ms, "identify_ms_per_page": 1000 * call_seconds / len(truths),
        "threads": threads, "threshold": identifier.threshold, "temperature": identifier.temperature,
    }
    if record_as:
        update_layout_card(identifier.model_dir, metrics={record_as: result})
    return result
