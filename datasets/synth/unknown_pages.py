"""Pages of no known template, drawn on the fly for the identifier's `unknown` class: ruled tables and
forms whose columns match no template, pages of plain handwriting or print, blank paper, Kalapa handwritten
lines tiled onto paper (when the shared data is present), and small pieces cut from real pages.

Structured pages go through the ledger renderer and the ledger ageing, so paper, backgrounds and camera
effects tell the classes nothing; only the structure does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from hotich.datasets.fonts import handwriting_fonts
from hotich.datasets.lines import KALAPA_DIR, shared_data_dir
from hotich.datasets.page_thumbnails import PageThumb, preprocessed_gray
from hotich.datasets.synth.ageing import age_page, sample_params
from hotich.datasets.synth.handwriting import sample_writer
from hotich.datasets.synth.render import FieldText, RecordInk, render_page
from hotich.inference.layout.identify import fit_long_side
from hotich.templates import Template, list_templates

__all__ = ["DistractorMaker", "kalapa_lines"]


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


def kalapa_lines(seed: int, n: int = 400) -> list[np.ndarray]:
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
            return fit_long_side(preprocessed_gray(cv2.cvtColor(aged, cv2.COLOR_RGB2BGR), 2 * self.long_side),
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


