"""The layout stage as one call: preprocess the page, identify its template, register it, place every field.

Identification runs on the corrected page (upright, flattened), registration on the same image; the
field polygons are then mapped back through the preprocessing onto the image the caller sent, because
that is the page the clerk sees and the page result's boxes refer to.

When the classifier is not sure, the printed ruling decides: the page is registered to each template the
classifier still finds plausible, and the template whose rules the page's ruling matches best is kept.
Templates of one book type in neighbouring eras differ in a few columns, which a thumbnail shows faintly
and registration measures exactly.

Registration finds the ruling by morphology first, which is fast and enough for most pages; where the
template then fits poorly (faded, broken or stained ruling), the learned ruling detector's maps are tried
too and the better fit is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from threadpoolctl import ThreadpoolController

from hotich.inference.layout.identify import UNKNOWN, Identification, TemplateIdentifier
from hotich.inference.layout.preprocess import PreprocessedPage, preprocess_page
from hotich.inference.layout.register import FieldRegion, Registration, register_page
from hotich.inference.layout.ruling import RulingDetector
from hotich.templates import get_template

__all__ = ["LayoutDetector", "PageLayout", "ruling_fit"]

SURE = 0.995
"""Classifier confidence from which its template is taken without checking the ruling."""
NOT_A_LEDGER = 0.9
"""Classifier confidence in `unknown` from which no template is tried at all."""
CANDIDATE_FLOOR = 0.005
"""Templates less probable than this are not worth registering."""
CLASSICAL_ENOUGH = 0.95
"""`ruling_fit` from which the morphology's ruling is kept without asking the learned detector. Measured on
390 held-out, strongly aged pages: fields at IoU >= 0.7 98.90% classical alone, 98.66% learned alone,
98.99% with this fallback (16 pages tried both ways)."""
MIN_MATCH = 0.8
"""Share of the template's rules the page must show for the ruling to name a template the classifier
doubted; a page of another kind matches far fewer."""
IdentifiedBy = Literal["classifier", "ruling", "none"]


def ruling_fit(registration: Registration) -> float:
    """How well a page's ruling fits a template: the share of its rules found, less a little for every
    pixel of residual (a sibling template's rules are found too, but further off)."""
    return float(registration.details["match_share"]) - 0.005 * registration.residual_px


@dataclass(frozen=True)
class PageLayout:
    identification: Identification
    """The classifier's answer, as calibrated."""
    template_id: str | None
    """The template the page was cut by: the classifier's, or the ruling's choice among its candidates."""
    identified_by: IdentifiedBy
    page: PreprocessedPage
    registration: Registration | None
    """None when no known template was identified: nothing is cut rather than cutting the wrong cells."""
    fields: tuple[FieldRegion, ...]
    """Every field of every filled record, its polygon on the input image."""
    timings_ms: dict[str, float]


class LayoutDetector:
    """Preprocessing, the template identifier (ONNX) and registration, with the learned ruling detector
    (ONNX) where the morphology is not enough, in that order; `learned_ruling=False`: the morphology alone."""

    def __init__(self, identifier_dir: Path | None = None, ruling_dir: Path | None = None,
                 threads: int | None = None, learned_ruling: bool = True) -> None:
        self.identifier = TemplateIdentifier(identifier_dir, threads=threads)
        self.ruling = RulingDetector(ruling_dir, threads=threads) if learned_ruling else None
        self._blas = ThreadpoolController()

    def analyse(self, image: np.ndarray) -> PageLayout:
        # The page's least-squares fits are small (hundreds of unknowns), and OpenBLAS's threads, which OpenCV
        # and numpy call for them, stall on a machine busy with other work: a 194-unknown Cholesky took 40 ms
        # instead of 0.1 ms while training ran beside it.
        with self._blas.limit(limits=1, user_api="blas"):
            return self._analyse(image)

    def _analyse(self, image: np.ndarray) -> PageLayout:
        timings: dict[str, float] = {}
        tick = time.perf_counter()
        page = preprocess_page(image)
        timings["preprocess"] = (time.perf_counter() - tick) * 1000
        tick = time.perf_counter()
        identification = self.identifier.identify(page.image)
        timings["identify"] = (time.perf_counter() - tick) * 1000
        tick = time.perf_counter()
        registration, identified_by = self._register(page.image, identification)
        timings["register"] = (time.perf_counter() - tick) * 1000
        if registration is None:
            return PageLayout(identification, None, "none", page, None, (), timings)
        fields = tuple(FieldRegion(f.record, f.key, page.to_input(f.polygon).astype(np.float32))
                       for f in registration.fields)
        return PageLayout(identification, registration.template_id, identified_by, page, registration, fields,
                          timings)

    def _register_to(self, image: np.ndarray, template_id: str) -> Registration:
        template = get_template(template_id)
        registration = register_page(image, template)
        if self.ruling is None or ruling_fit(registration) >= CLASSICAL_ENOUGH:
            return registration
        return max(registration, register_page(image, template, self.ruling), key=ruling_fit)

    def _register(self, image: np.ndarray, identification: Identification
                  ) -> tuple[Registration | None, IdentifiedBy]:
        if identification.template_id is not None and identification.confidence >= SURE:
            return self._register_to(image, identification.template_id), "classifier"
        best, p_best = identification.top3[0]
        if best == UNKNOWN and p_best >= NOT_A_LEDGER:
            return None, "none"
        candidates = [t for t, p in identification.top3 if t != UNKNOWN and p >= CANDIDATE_FLOOR]
        registrations = [self._register_to(image, t) for t in candidates]
        if not registrations:
            return None, "none"
        chosen = max(registrations, key=ruling_fit)
        if chosen.template_id == identification.template_id:
            return chosen, "classifier"
        if float(chosen.details["match_share"]) >= MIN_MATCH:
            return chosen, "ruling"
        # The ruling is too poor to overrule anyone: keep the classifier's template, if it named one.
        named = [r for r in registrations if r.template_id == identification.template_id]
        return (named[0], "classifier") if named else (None, "none")
