"""Where a field's confidence is computed, and whether a person must look at it.

A field's confidence is the calibrated probability that its whole value is right: the product of its
lines' confidences (each line is right with its own probability, and all must be), for a place times its
share against the neighbouring units its frames may also fit, raised when another field recording the same
fact was read to the same value. A field goes to review when that confidence is under its
routing class's threshold, or when field knowledge found something wrong with it. A routing class is a field
type, refined by its list for enumerations, and "blank" for any field read empty (`routing_class`):
relationship words are misread far more often than genders, and "is anything written here?" is another
question than "is this the text?" (at one free-text threshold, the validation fields read empty that it
accepted were 99.95% right and the written ones 99.1%: the blanks paid for the writing). A class with too
few validation fields takes its type's threshold. Thresholds are chosen on validation pages
(`fit_thresholds`, run by `hotich calibrate routing`) as the lowest confidence at which the fields accepted
are at least 99.5% correct with 95% confidence, and stored in the recogniser's card; without them every
field is reviewed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from hotich.page import FieldIssue
from hotich.templates.model import FieldSpec

__all__ = [
    "BLANK", "BY_PAGE", "INFORMATIONAL", "Outcome", "RoutingPolicy", "TypeThreshold", "accuracy_bound", "class_type",
    "field_confidence", "fit_thresholds", "routing_class",
]

INFORMATIONAL = frozenset({"place_abbreviated", "place_matched", "date_two_digit_year", "date_page_year",
                           "date_era_year"})
"""Issues that explain how a value was normalised; they alone do not send a field to review."""
TARGET_ACCURACY = 0.995
BOUND_Z = 1.96
"""Accepted fields must be `TARGET_ACCURACY` right at the lower end of a two-sided 95% Wilson interval around
what validation found (1.96 standard errors)."""
BLANK = "blank"
"""The routing class of every field read empty, whatever its type."""
MIN_CLASS_FIELDS = 200
"""Validation fields a routing class needs for a threshold of its own; with fewer it takes its type's."""


def field_confidence(line_confidences: Sequence[float], agreeing: Sequence[float] = (), share: float = 1.0) -> float:
    """The probability that every line of the field is right; 1.0 for a field with no lines.

    `agreeing`: the confidences of the record's other fields that record the same fact and were read to the
    same value (a birth date in digits and in words). Read independently, they are wrong together only if
    both are misread the same way, so, as with double keying, the value is wrong only if every reading is.
    `share`: for a place, its reading's share against the units it may be instead (`reading_share`): the
    lines' confidences say how well the frames fit the reading, not that a neighbouring commune, a letter
    away, fits them nearly as well.
    """
    own = float(math.prod(line_confidences)) * share if line_confidences else 1.0
    return 1.0 - (1.0 - own) * math.prod(1.0 - c for c in agreeing)


def routing_class(spec: FieldSpec, blank: bool = False) -> str:
    """The group a field's threshold is chosen for: `BLANK` for a field read empty (`blank`), "enum:list" for
    enumerations, the bare type for the others.

    Formats were tried as classes too: registration numbers then took a threshold of their own that held on
    validation pages (0 errors in 109) and let 9% errors through on test pages, where one hand misreads the
    shared digits of a page's numbers alike. Per-class thresholds need errors that are independent between
    pages; a list's confusions (Con/Cha, Mông/Mường) are, and so are blanks read where ink is."""
    if blank:
        return BLANK
    return f"enum:{spec.lexicon}" if spec.type == "enum" and spec.lexicon else spec.type


def class_type(field_class: str) -> str:
    """The field type of a routing class ("enum:relation" -> "enum"; a bare type is its own)."""
    return field_class.split(":")[0]


class TypeThreshold(BaseModel):
    """The threshold of one field type and what it did on the pages it was chosen on."""

    threshold: float | None = Field(ge=0.0, le=1.0)
    """None: every field of the type is reviewed."""
    accepted_share: float = Field(ge=0.0, le=1.0)
    """Share of that type's fields accepted without review."""
    accepted_accuracy: float | None = Field(default=None, ge=0.0, le=1.0)
    """Share of the accepted fields that were right (None when none were accepted)."""
    n: int = Field(ge=0)


class RoutingPolicy(BaseModel):
    """Confidence thresholds per routing class ("enum:relation") and per field type ("enum"), its fallback."""

    model_config = ConfigDict(extra="forbid")

    thresholds: dict[str, TypeThreshold] = Field(default_factory=dict)
    target_accuracy: float = TARGET_ACCURACY
    fitted_on: str | None = None
    """The validation pages the thresholds were chosen on."""
    fitted_with: dict[str, str] = Field(default_factory=dict)
    """The models that read those pages (`Pipeline.model_versions`): the thresholds hold for them only."""

    def needs_review(self, field_class: str, confidence: float, issues: Iterable[FieldIssue]) -> bool:
        """`field_class`: a routing class, or a bare type. A field with no threshold is always reviewed."""
        if any(i.code not in INFORMATIONAL for i in issues):
            return True
        chosen = self.thresholds.get(field_class) or self.thresholds.get(class_type(field_class))
        return chosen is None or chosen.threshold is None or confidence < chosen.threshold


BY_PAGE = frozenset({"place"})
"""Field types whose errors come a page at a time, fitted with pages as the trials (`fit_thresholds`). A page's
places are mostly its own commune, written by one hand, so a hand the recogniser misreads is misread in all of
them: on the 130 test pages, one hand's "Hưng Dũng" read as the neighbouring ward "Hưng Đông" was 7 of the 219
places a threshold fitted on fields accepted (96.8% right); on the validation pages that threshold had let one
wrong place in 1,211 through."""


@dataclass(frozen=True)
class Outcome:
    """One validation field: its routing class (or bare type), its confidence, whether field knowledge flagged
    it, whether its value was right, and the page it is on."""

    field_type: str
    confidence: float
    flagged: bool
    correct: bool
    page: str = ""


def fit_thresholds(outcomes: Iterable[Outcome], target: float = TARGET_ACCURACY, min_fields: int = 20,
                   min_class_fields: int = MIN_CLASS_FIELDS, by_page: frozenset[str] = BY_PAGE
                   ) -> dict[str, TypeThreshold]:
    """Per field type, and per routing class with at least `min_class_fields` fields, the lowest threshold
    whose accepted fields (unflagged, confidence at or above it) are at least `target` right at the lower
    bound of their Wilson interval (`accuracy_bound`); fields are accepted most-confident first. A type with
    fewer than `min_fields` validation fields, or a type or class none of whose thresholds reaches the
    target, gets no threshold: all its fields are reviewed. For the types of `by_page` the trials are pages:
    at least `target` of the pages with a field accepted must have every accepted field right.

    The bound makes a threshold earn its accepted fields: at 99.5%, at least 765 accepted with none wrong.
    Looser rules failed on test pages: places accepted at 100% on 88 validation fields were 97.9% right
    there, and written free text accepted 99.6% right on validation (one error to spare) was 97.7% right.
    """
    by_type: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_type.setdefault(class_type(o.field_type), []).append(o)
        if o.field_type != class_type(o.field_type):
            by_type.setdefault(o.field_type, []).append(o)
    out = {}
    for field_type, items in sorted(by_type.items()):
        if field_type != class_type(field_type) and len(items) < min_class_fields:
            continue
        candidates = sorted((o for o in items if not o.flagged), key=lambda o: -o.confidence)
        paged = class_type(field_type) in by_page
        best_k, right = 0, 0
        pages_right: dict[str, bool] = {}
        for k, o in enumerate(candidates, start=1):
            right += o.correct
            pages_right[o.page] = pages_right.get(o.page, True) and o.correct
            bound = accuracy_bound(sum(pages_right.values()), len(pages_right)) if paged else accuracy_bound(right, k)
            # Cut only between distinct confidences: ties are accepted or reviewed together.
            if bound >= target and (k == len(candidates) or candidates[k].confidence < o.confidence):
                best_k = k
        if len(items) < min_fields or best_k == 0:
            out[field_type] = TypeThreshold(threshold=None, accepted_share=0.0, n=len(items))
            continue
        accepted = candidates[:best_k]
        out[field_type] = TypeThreshold(threshold=accepted[-1].confidence, accepted_share=best_k / len(items),
                                        accepted_accuracy=sum(o.correct for o in accepted) / best_k, n=len(items))
    return out


def accuracy_bound(right: int, n: int, z: float = BOUND_Z) -> float:
    """The lower end of the Wilson score interval of `right` successes in `n` (n > 0)."""
    p, zz = right / n, z * z
    return (p + zz / (2 * n) - z * math.sqrt(p * (1 - p) / n + zz / (4 * n * n))) / (1 + zz / n)
