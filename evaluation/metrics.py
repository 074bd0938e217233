"""Text and confidence metrics for recognised lines, all on NFC text.

Rates are pooled over the corpus (total edits / total reference units), not averaged per line, so long
lines weigh what they hold. A single string passed where a list of lines is expected counts as one line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from hotich.text import edit_distance, nfc


def _lines(texts: str | Sequence[str]) -> list[str]:
    # A bare string is one line; iterating it would silently score it character by character.
    return [nfc(texts)] if isinstance(texts, str) else [nfc(t) for t in texts]


def _pairs(refs: str | Sequence[str], hyps: str | Sequence[str]) -> list[tuple[str, str]]:
    refs, hyps = _lines(refs), _lines(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    return list(zip(refs, hyps, strict=True))


def _rate(pairs: list[tuple[Sequence[str], Sequence[str]]]) -> float:
    # No reference units at all: any hypothesis unit is an error, counted against a floor of one unit.
    edits = sum(edit_distance(r, h) for r, h in pairs)
    return edits / max(1, sum(len(r) for r, _ in pairs))


def cer(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """Character error rate: total edits / total reference characters, NFC (a wrong tone is one edit)."""
    return _rate(_pairs(refs, hyps))


def wer(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """Word error rate on whitespace-split words."""
    return _rate([(r.split(), h.split()) for r, h in _pairs(refs, hyps)])


def _strip_punctuation(text: str) -> str:
    kept = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return nfc(" ".join(kept.split()))


def cer_nopunct(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """CER after lower-casing, removing punctuation (Unicode category P*) and collapsing whitespace.

    For labels that drop punctuation the image shows (Kalapa) and for case a field does not care about.
    Punctuation is removed, not turned into a space: "Hà Nội, Việt Nam" matches "Hà Nội Việt Nam".
    """
    return _rate([(_strip_punctuation(r), _strip_punctuation(h)) for r, h in _pairs(refs, hyps)])


def line_accuracy(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """Share of lines recognised exactly (NFC); 0.0 for no lines."""
    pairs = _pairs(refs, hyps)
    return sum(r == h for r, h in pairs) / len(pairs) if pairs else 0.0


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 15) -> float:
    """ECE: over `bins` equal-width confidence bins on [0, 1], the count-weighted mean |accuracy - confidence|.

    A confidence of exactly 1.0 falls in the last bin. 0.0 for no predictions.
    """
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness flags")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, not {bins}")
    conf_sums = [0.0] * bins
    hit_sums = [0] * bins
    for c, ok in zip(confidences, correct, strict=True):
        if not 0.0 <= c <= 1.0:
            raise ValueError(f"confidences must lie in [0, 1], got {c}")
        b = min(int(c * bins), bins - 1)
        conf_sums[b] += c
        hit_sums[b] += bool(ok)
    # Weighting bin b by its share n_b / N: |acc_b - conf_b| * n_b / N = |hits_b - conf_sum_b| / N.
    total = len(confidences)
    return sum(abs(h - s) for h, s in zip(hit_sums, conf_sums, strict=True)) / total if total else 0.0


@dataclass(frozen=True)
class TextScores:
    cer: float
    wer: float
    cer_nopunct: float
    line_acc: float
    n: int
    """Number of lines scored."""


def score_lines(refs: str | Sequence[str], hyps: str | Sequence[str]) -> TextScores:
    """Every text metric at once for a set of (reference, hypothesis) lines."""
    n = len(_pairs(refs, hyps))
    return TextScores(
        cer=cer(refs, hyps),
        wer=wer(refs, hyps),
        cer_nopunct=cer_nopunct(refs, hyps),
        line_acc=line_accuracy(refs, hyps),
        n=n,
    )
