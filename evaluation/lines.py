"""Score a line reader on a line dataset: accuracy, calibration and speed, with the same keys for every engine.

Engines: `hotich` (our recogniser artifact on ONNX Runtime) and `tesseract` (Tesseract's `vie` model, the
generic-OCR baseline, when the `tesseract` binary is installed). Lines/s is wall time of the engine's read
of the image files, decoding included, so both engines pay the same costs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel
from tqdm import tqdm

from hotich.datasets.lines import LineSample
from hotich.evaluation.metrics import expected_calibration_error, score_lines
from hotich.inference.decoding import TextPrior
from hotich.inference.recognizer import LineRecognizer, read_gray
from hotich.text import nfc

__all__ = ["ENGINES", "HotichEngine", "LineEngine", "LineEvaluation", "LineResult", "TesseractEngine",
           "evaluate_lines"]


class LineEngine(Protocol):
    name: str

    def read(self, paths: Sequence[Path]) -> list[tuple[str, float]]:
        """(text, confidence in [0, 1]) for each line image file."""
        ...


class HotichEngine:
    name = "hotich"

    def __init__(self, recognizer: LineRecognizer, beam_width: int = 1, batch_size: int = 32,
                 prior: TextPrior | None = None) -> None:
        self.recognizer, self.beam_width, self.batch_size, self.prior = recognizer, beam_width, batch_size, prior

    def read(self, paths: Sequence[Path]) -> list[tuple[str, float]]:
        with ThreadPoolExecutor(self.recognizer.workers) as pool:  # decoding files lets go of the GIL
            images = list(pool.map(read_gray, paths))
        readings = self.recognizer.read(images, batch_size=self.batch_size,
                                        beam_width=self.beam_width, prior=self.prior)
        return [(r.text, r.confidence) for r in readings]


class TesseractEngine:
    """`tesseract IMAGE stdout -l vie --psm 7 tsv`, one line per call, two calls at a time (2 cores)."""

    name = "tesseract"

    def __init__(self, language: str = "vie", workers: int = 2) -> None:
        self.binary = shutil.which("tesseract")
        if self.binary is None:
            raise FileNotFoundError("tesseract is not installed: `apt-get install tesseract-ocr tesseract-ocr-vie`")
        langs = subprocess.run([self.binary, "--list-langs"], capture_output=True, text=True, check=False).stdout
        if language not in langs.split():
            raise FileNotFoundError(f"tesseract has no {language!r} model: `apt-get install tesseract-ocr-{language}`")
        self.language, self.workers = language, workers

    def _one(self, path: Path) -> tuple[str, float]:
        run = subprocess.run([self.binary, str(path), "stdout", "-l", self.language, "--psm", "7", "tsv"],
                             capture_output=True, text=True, check=False,
                             env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        words, confs = [], []
        for row in run.stdout.splitlines()[1:]:
            cols = row.split("\t")
            if len(cols) == 12 and cols[11].strip() and float(cols[10]) >= 0:
                words.append(cols[11].strip())
                confs.append(float(cols[10]) / 100)
        return nfc(" ".join(words)), (sum(confs) / len(confs) if confs else 0.0)

    def read(self, paths: Sequence[Path]) -> list[tuple[str, float]]:
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self._one, paths))


ENGINES = ("hotich", "tesseract")


class LineResult(BaseModel):
    path: str
    reference: str
    text: str
    confidence: float


class LineEvaluation(BaseModel):
    engine: str
    model: str | None
    cer: float
    wer: float
    cer_nopunct: float
    """CER ignoring punctuation and case."""
    line_acc: float
    ece: float
    """Expected calibration error of line confidence against exact line correctness."""
    lines_per_s: float
    n: int


def evaluate_lines(engine: LineEngine, samples: Sequence[LineSample], *, model: str | None = None,
                   chunk: int = 256, progress: bool = True) -> tuple[LineEvaluation, list[LineResult]]:
    """Read every sample with `engine` and score it; also each line's result, for error listings."""
    if not samples:
        raise ValueError("no lines to evaluate")
    outputs: list[tuple[str, float]] = []
    seconds = 0.0
    with tqdm(total=len(samples), desc=engine.name, unit="line", disable=not progress, leave=False) as bar:
        for start in range(0, len(samples), chunk):
            paths = [s.path for s in samples[start : start + chunk]]
            tick = time.perf_counter()
            outputs += engine.read(paths)
            seconds += time.perf_counter() - tick
            bar.update(len(paths))
    refs = [s.text for s in samples]
    texts = [t for t, _ in outputs]
    scores = score_lines(refs, texts)
    ece = expected_calibration_error([c for _, c in outputs], [nfc(r) == nfc(t) for r, t in zip(refs, texts,
                                                                                                strict=True)])
    evaluation = LineEvaluation(engine=engine.name, model=model, cer=scores.cer, wer=scores.wer,
                                cer_nopunct=scores.cer_nopunct, line_acc=scores.line_acc, ece=ece,
                                lines_per_s=len(samples) / seconds, n=scores.n)
    results = [LineResult(path=str(s.path), reference=s.text, text=t, confidence=c)
               for s, (t, c) in zip(samples, outputs, strict=True)]
    return evaluation, results
