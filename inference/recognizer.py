"""Read line images with a recogniser artifact (`model.onnx` + `model.json`) on ONNX Runtime.

The artifact is self-describing: its card gives the input height, normalisation, codec (with the CTC
blank) and calibration temperature, so nothing here knows how the model was trained. Lines are batched by
width (little padding) and decoded one by one: greedily by default, by beam search when asked, and within
a field's closed list or grammar when one is given, weighed by a language prior when one is given.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal, TypeVar

import cv2
import numpy as np

from hotich.inference.decoding import PRUNE, Constraint, Hypothesis, TextPrior, beam_search, greedy, softmax
from hotich.inference.onnx_session import open_session, thread_cap
from hotich.line_image import LineCrop, pad_lines, preprocess_line, read_gray, width_batches
from hotich.models.card import load_card
from hotich.models.codec import Codec

CONSTRAINED_BEAM = 10
"""The least beam a constrained line is searched with: one path cannot wait for an allowed reading."""
PRIOR_BEAM = 10
"""The least beam a line weighed by a language prior is searched with (the width its weights were chosen at)."""
PRIOR_PRUNE = 3e-3
"""Under a language prior, labels less likely than this in a frame are not tried (on kalapa-val-a 3e-3 read
within 0.1 point of CER of 1e-3, twice as fast)."""

__all__ = ["DEFAULT_MODEL_DIR", "LineReading", "LineRecognizer", "decode_lines", "read_gray"]

Item = TypeVar("Item")

DEFAULT_MODEL_DIR = Path(str(files("hotich.models"))) / "weights" / "recognizer"
"""The shipped recogniser."""


@dataclass(frozen=True)
class LineReading:
    """What the recogniser read on one line."""

    text: str
    confidence: float
    """Calibrated probability that the whole line is right."""
    char_confidences: tuple[float, ...]
    alternatives: tuple[Hypothesis, ...] = ()
    """The next best readings (beam search only), best first."""
    beam_share: float | None = None
    """The reading's share of the final beam (beam search only)."""
    frame_confidence: float | None = None
    """The frames' own confidence in the reading, before a language prior's calibration replaced it."""


def _as_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] in (3, 4):
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = cv2.cvtColor(image, code)
    if image.ndim != 2 or image.dtype != np.uint8 or image.size == 0:
        raise ValueError(f"expected a non-empty uint8 grayscale or BGR line image, got {image.dtype} {image.shape}")
    return image


def decode_lines(logits: Sequence[np.ndarray], codec: Codec, temperature: float = 1.0, *, beam_width: int = 1,
                 constraints: Sequence[Constraint | None] | None = None, alternatives: int = 0,
                 prior: TextPrior | None = None) -> list[LineReading]:
    """Per-line logits (T_i, C) -> readings. Greedy unless a beam, a constraint, alternatives or a language
    `prior` are asked for (a prior searches at least `PRIOR_BEAM` wide).

    A constrained line that no allowed value fits comes back empty with confidence 0, for review.
    """
    if constraints is not None and len(constraints) != len(logits):
        raise ValueError(f"{len(constraints)} constraints for {len(logits)} lines")
    readings = []
    for i, line_logits in enumerate(logits):
        probs = softmax(line_logits, temperature)
        constraint = constraints[i] if constraints is not None else None
        if constraint is None and beam_width <= 1 and alternatives == 0 and prior is None:
            best = greedy(probs, codec)
            readings.append(LineReading(best.text, best.confidence, best.char_confidences))
            continue
        width = max(beam_width, alternatives + 1, CONSTRAINED_BEAM if constraint is not None else 1,
                    PRIOR_BEAM if prior is not None else 1)
        hyps = beam_search(probs, codec, beam_width=width, constraint=constraint, top_k=alternatives + 1, prior=prior,
                           prune=PRIOR_PRUNE if prior is not None else PRUNE)
        if not hyps:
            readings.append(LineReading("", 0.0, ()))
            continue
        best = hyps[0]
        if prior is not None:
            hyps = [dataclasses.replace(h, confidence=prior.confidence(h.posterior, h.confidence, len(h.text)))
                    for h in hyps]
        readings.append(LineReading(best.text, hyps[0].confidence, best.char_confidences, tuple(hyps[1:]),
                                    beam_share=best.posterior, frame_confidence=best.confidence))
    return readings


class LineRecognizer:
    """A recogniser artifact loaded into ONNX Runtime.

    `variant` picks the int8 or fp32 file (default: the card's). `threads` caps the batches run at once, one
    ONNX Runtime thread each (default: $HOTICH_THREADS, else every core). CUDA is used when `providers` asks
    for it and the installed ONNX Runtime has it.
    """

    def __init__(self, model_dir: Path | None = None, *, variant: Literal["int8", "fp32"] | None = None,
                 threads: int | None = None, providers: Sequence[str] | None = None) -> None:

        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.card = load_card(self.model_dir)
        variant = variant or self.card["default"]
        if variant not in self.card["files"]:
            raise ValueError(f"{self.model_dir} has no {variant} model; it has {sorted(self.card['files'])}")
        self.variant = variant
        self.codec = Codec.from_dict(self.card["codec"])
        self.height = int(self.card["input"]["height"])
        self.max_width = int(self.card["input"]["max_width"])
        self.crop: LineCrop = self.card["input"].get("crop", "cell")  # cards before v0.8 cut nothing
        self.stretch = float(self.card["input"].get("stretch", 1.0))  # cards before v0.9.2 widen nothing
        self.temperature = float(self.card["calibration"]["temperature"])
        self.workers = thread_cap(threads) or os.cpu_count() or 1
        """Threads that prepare a call's lines and run its batches (no faster with more than its cores)."""
        # One intra-op thread per run, runs side by side: ONNX Runtime splits the LSTM's small per-frame
        # products across threads poorly (kalapa-val at batch 32 on 2 cores: 2.3-2.6 ms a line as two
        # one-thread runs against 3.3-3.6 ms as one two-thread run).
        self.session = open_session(self.model_dir / self.card["files"][variant]["file"], 1, providers)

    @property
    def version(self) -> str:
        return f"{self.card['name']}-{self.card['version']}-{self.variant}"

    def logits(self, images: Sequence[np.ndarray], batch_size: int = 32) -> list[np.ndarray]:
        """Raw logits (T_i, C) of each line (grayscale or BGR uint8), cut to its own frames, in input order."""
        out: list[np.ndarray] = [np.empty(0)] * len(images)
        for indices, logits in self.batches(images, batch_size):
            for i, line_logits in zip(indices, logits, strict=True):
                out[i] = line_logits
        return out

    def batches(self, images: Sequence[Item], batch_size: int = 32, load: Callable[[Item], np.ndarray] | None = None
                ) -> Iterator[tuple[list[int], list[np.ndarray]]]:
        """The lines' logits a width-sorted batch at a time, as (input indices, logits), as batches finish: they
        run on every core (ONNX Runtime and OpenCV let go of the GIL) while the caller decodes those done.
        `load`, when given, makes each item of `images` its line image on those cores too (cutting it out of
        its page)."""
        prepare = self.preprocess if load is None else lambda item: self.preprocess(load(item))
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            lines = list(pool.map(prepare, images))
            chunks = width_batches([line.shape[1] for line in lines], batch_size)

            def run(chunk: list[int]) -> list[np.ndarray]:
                batch, widths = pad_lines([lines[i] for i in chunk])
                logits, lengths = self.session.run(None, {"images": batch, "widths": widths})
                return [logits[k, : int(lengths[k])] for k in range(len(chunk))]

            # Widest first, so no core waits alone on the longest batch at the end.
            pending = {pool.submit(run, chunk): chunk for chunk in reversed(chunks)}
            for done in as_completed(pending):
                yield pending[done], done.result()

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """One line (grayscale or BGR uint8) as this model's input (`hotich.line_image.preprocess_line`)."""
        return preprocess_line(_as_gray(image), self.height, self.max_width, self.crop, self.stretch)

    def read(self, images: Sequence[np.ndarray], *, batch_size: int = 32, beam_width: int = 1,
             constraints: Sequence[Constraint | None] | None = None, alternatives: int = 0,
             prior: TextPrior | None = None) -> list[LineReading]:
        """Read each line; see `decode_lines` for the decoding options."""
        return decode_lines(self.logits(images, batch_size), self.codec, self.temperature, beam_width=beam_width,
                            constraints=constraints, alternatives=alternatives, prior=prior)
