"""CTC decoding of one line's per-frame probabilities into text, with confidences a reviewer can act on.

Greedy (best path) is the fast default. Prefix beam search keeps several readings alive, and with a field's
constraint (a closed list, or a grammar such as a date) it only keeps readings the field can hold: a list's
entry the frames make slightly less likely than an impossible reading still wins, and its confidence says
how far the frames had to be overruled. Confidences are always read off the frames (a forced alignment of
the chosen text), never off the search's path scores, so greedy and beam results are comparable. A reading
a language prior weighed also carries its share of the final beam (`Hypothesis.posterior`), from which
`recognizer.decode_lines` gives it the prior's calibrated confidence (`TextPrior.confidence`).

Torch-free: it runs after ONNX Runtime on the serving CPUs.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np
import regex

from hotich.inference._ctc import best_alignment, prefix_beam
from hotich.models.codec import Codec
from hotich.text import CHARSET, nfc

__all__ = [
    "Constraint",
    "Hypothesis",
    "Pattern",
    "TextPrior",
    "Vocabulary",
    "beam_search",
    "forced_alignment",
    "greedy",
    "line_confidence",
    "read_as",
    "softmax",
]

PRUNE = 1e-3
"""The beam search tries no label a frame finds less likely than this (unless a constraint asks for it)."""
CONSTRAINED_LABELS = 32
"""Under a constraint, how many of each frame's most likely labels are tried whatever their probability."""
BLANK_FRAME = 0.99
"""Under a constraint, a frame at least this sure that nothing is written there grows no prefix (on 40
validation pages 0.99 read every field as 1.0 did, in less time)."""
_TINY = np.finfo(np.float64).tiny
"""Floor for probabilities before the log: every label stays reachable with a finite (very bad) score."""
_TINY_PROB = 1e-30
"""The beam search's floor for a frame's probabilities: every label stays reachable, and a frame's best
prefix keeps a score the per-frame rescaling can divide by."""
CACHED_PREFIXES = 200_000
"""Prefixes a constraint keeps its answers for (least recently asked ones go first)."""


def _grows_into() -> dict[str, tuple[str, ...]]:
    """Each charset character -> the charset characters it becomes if more combining marks follow (itself too)."""
    split = {ch: unicodedata.normalize("NFD", ch) for ch in CHARSET}
    return {
        ch: tuple(g for g, more in split.items() if more[0] == units[0] and set(units[1:]) <= set(more[1:]))
        for ch, units in split.items()
    }


_GROWS_INTO = _grows_into()


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities over the last axis of `logits / temperature` (the card's calibration temperature)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, not {temperature}")
    # float32 throughout, as the probabilities are returned: float64 doubled the time of the ~180 a page takes.
    z = np.asarray(logits, dtype=np.float32) / np.float32(temperature)
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


@dataclass(frozen=True)
class Hypothesis:
    text: str
    """NFC."""
    confidence: float
    """The line's confidence (`line_confidence`)."""
    char_confidences: tuple[float, ...]
    """One per character of `text`."""
    posterior: float | None = None
    """From a beam search: the reading's share of its final beam's probability (the frames', times the
    prior's when one weighs the search); None from the greedy path."""


def line_confidence(char_confidences: Sequence[float], probs: np.ndarray, blank: int) -> float:
    """How sure the line is: every character must be right, so the product of their confidences.

    An empty reading has no characters to multiply; its confidence is how sure the model is that nothing is
    written, the weakest blank probability over the frames.
    """
    if len(char_confidences):
        return math.prod(char_confidences)
    if len(probs) == 0:
        return 1.0
    return float(np.min(probs[:, blank]))


def _hypothesis(codec: Codec, ids: list[int], unit_confidences: list[float], probs: np.ndarray) -> Hypothesis:
    decoded = codec.decode(ids, unit_confidences)
    return Hypothesis(decoded.text, line_confidence(decoded.confidences, probs, codec.blank), decoded.confidences)


def greedy(probs: np.ndarray, codec: Codec) -> Hypothesis:
    """Best path of one line's (T, C) probabilities: each frame's likeliest label, repeats merged, blanks dropped.

    A unit's confidence is the highest probability among the frames of its run.
    """
    if len(probs) == 0:
        return _hypothesis(codec, [], [], probs)
    labels = probs.argmax(axis=1)
    best = probs[np.arange(len(labels)), labels]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(labels)) + 1))
    run_best = np.maximum.reduceat(best, starts)
    ids, confidences = [], []
    for label, p in zip(labels[starts].tolist(), run_best.tolist(), strict=True):
        if label != codec.blank:
            ids.append(label)
            confidences.append(p)
    return _hypothesis(codec, ids, confidences, probs)


def forced_alignment(probs: np.ndarray, ids: Sequence[int], blank: int) -> list[float]:
    """Each label's confidence in the best CTC alignment of `ids` (no blanks) to the frames of `probs`.

    A label's confidence is its highest probability over the frames the alignment gives it, so a text the
    search chose against the frames' preference is scored by what the frames say of it. Labels that cannot
    fit in the frames (CTC needs a blank between repeats) get 0.0.
    """
    return _best_alignment(probs, ids, blank)[1]


def alignment_score(probs: np.ndarray, codec: Codec, text: str) -> float:
    """The log-probability of the best CTC alignment of `text` to the frames of one line (-inf when it cannot
    fit): `read_as`'s score, without the reading, for ranking many texts."""
    return _best_alignment(probs, codec.encode(text), codec.blank)[0]


def read_as(probs: np.ndarray, codec: Codec, text: str) -> tuple[float, Hypothesis]:
    """The frames of one line read as `text`: the log-probability of its best CTC alignment (-inf when it
    cannot fit), and the reading with the confidences that alignment gives."""
    ids = codec.encode(text)
    score, confidences = _best_alignment(probs, ids, codec.blank)
    return score, _hypothesis(codec, ids, confidences, probs)


def _best_alignment(probs: np.ndarray, ids: Sequence[int], blank: int) -> tuple[float, list[float]]:
    n = len(ids)
    repeats = sum(a == b for a, b in pairwise(ids))
    if n + repeats > len(probs):
        return -math.inf, [0.0] * n
    if n == 0:
        return float(np.log(np.maximum(probs[:, blank].astype(np.float64), _TINY)).sum()), []
    return best_alignment(np.ascontiguousarray(probs, dtype=np.float32), np.asarray(ids, dtype=np.int64), blank,
                          float(_TINY))


class Constraint(Protocol):
    """What a field may hold, asked of NFC text while a beam search grows it."""

    def allows(self, prefix: str) -> bool:
        """Can `prefix` still be extended to an accepted text?"""
        ...

    def accepts(self, text: str) -> bool:
        """Is the complete `text` accepted?"""
        ...

    def next_characters(self, prefix: str) -> frozenset[str] | None:
        """The characters that may follow `prefix` (a superset is fine); None when any may."""
        ...


class TextPrior(Protocol):
    """A belief about which texts are likely, fed one NFC character at a time (`language_prior.LanguagePrior`)."""

    initial: Hashable
    """The state before the first character."""
    ceiling: float
    """The largest log-weight `step` can give a character: the search skips extensions that even it cannot
    bring into the beam."""

    def step(self, state: Hashable, char: str) -> tuple[Hashable, float]:
        """The state after `char`, and the log-weight (nats) the character adds."""
        ...

    def end(self, state: Hashable) -> float:
        """The log-weight of the text ending in `state`."""
        ...

    def confidence(self, posterior: float | None, frames: float, length: int) -> float:
        """How sure a reading this prior weighed is, from its share of the search's final beam, the
        confidence its frames alone give it (`line_confidence`: the frames alone miss what the prior knows)
        and its length in characters."""
        ...


class Vocabulary:
    """A field's closed list (enumerations, place names): the text must be one entry."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = frozenset(e for e in (nfc(e).strip() for e in entries) if e)
        if not self.entries:
            raise ValueError("a vocabulary needs at least one non-empty entry")
        following: dict[str, set[str]] = {}
        for entry in self.entries:
            for i in range(len(entry) + 1):
                following.setdefault(entry[:i], set()).update(entry[i : i + 1])
        self._next = {prefix: frozenset(chars) for prefix, chars in following.items()}

    def allows(self, prefix: str) -> bool:
        return prefix in self._next

    def accepts(self, text: str) -> bool:
        return text in self.entries

    def next_characters(self, prefix: str) -> frozenset[str] | None:
        return self._next.get(prefix, frozenset())


class Pattern:
    """A field's grammar as a regular expression (dates: r"\\d{1,2}/\\d{1,2}/\\d{4}"), matched whole.

    Uses the `regex` module for its partial matches, which say whether a prefix can still become a match.
    The pattern is NFC-normalised so literal Vietnamese letters in it match the NFC text. `characters`, when
    given, are all the characters a match can hold: the beam search then tries only those.
    """

    def __init__(self, pattern: str, characters: str | None = None) -> None:
        try:
            self._regex = regex.compile(nfc(pattern))
        except regex.error as e:
            raise ValueError(f"invalid field pattern {pattern!r}: {e}") from e
        self._characters = frozenset(nfc(characters)) if characters is not None else None
        # Answers kept per prefix: a page's dates share most of theirs.
        self.allows = functools.lru_cache(maxsize=CACHED_PREFIXES)(self._allows)

    def _allows(self, prefix: str) -> bool:
        return self._regex.fullmatch(prefix, partial=True) is not None

    def accepts(self, text: str) -> bool:
        return self._regex.fullmatch(text) is not None

    def next_characters(self, prefix: str) -> frozenset[str] | None:
        return self._characters


def beam_search(
    probs: np.ndarray,
    codec: Codec,
    beam_width: int = 10,
    constraint: Constraint | None = None,
    top_k: int = 5,
    prune: float = PRUNE,
    prior: TextPrior | None = None,
) -> list[Hypothesis]:
    """CTC prefix beam search over one line's (T, C) probabilities; the `top_k` best distinct texts, best first.

    With a `constraint`, readings it cannot accept are dropped as they grow, so its best allowed reading is
    found even when the frames prefer a forbidden one. An empty list means no reading is accepted: the value
    is not one the field can hold, and a person must look. Labels below `prune` in a frame are not tried.
    A `prior` (NFC codecs only) weighs each reading's text against its frames: a prefix's probability is
    multiplied by the prior's weight of every character it adds, and a finished reading's by the weight of
    ending there.
    """
    if beam_width < 1 or top_k < 1:
        raise ValueError("beam_width and top_k must be at least 1")
    if prior is not None and codec.units != "nfc":
        raise ValueError("a text prior reads whole characters: it needs a codec of NFC units")
    blank, n_labels = codec.blank, probs.shape[1]
    allowed: dict[tuple[int, ...], bool] = {}
    texts: dict[tuple[int, ...], str] = {(): ""}

    def text_of(prefix: tuple[int, ...]) -> str:
        if codec.units != "nfc":
            return codec.decode(list(prefix)).text
        # NFC labels are whole characters: a prefix's text is its parent's (always seen first) plus one.
        if prefix not in texts:
            texts[prefix] = texts[prefix[:-1]] + codec.alphabet[prefix[-1]]
        return texts[prefix]

    # The search asks allows and next_labels only when there is a constraint.
    def allows(prefix: tuple[int, ...]) -> bool:
        if prefix not in allowed:
            text = text_of(prefix)
            if codec.units == "nfd" and text:
                # Marks may still follow the last letter ("e" may become "ễ"): allowed if any letter it can still
                # become is. Checking only the settled letters would keep dead ends ("Bx" for "Bê") that fill the beam.
                allowed[prefix] = any(constraint.allows(text[:-1] + c) for c in _GROWS_INTO.get(text[-1], (text[-1],)))
            else:
                allowed[prefix] = constraint.allows(text)
        return allowed[prefix]

    following: dict[tuple[int, ...], np.ndarray | None] = {}
    masks_of: dict[frozenset[str], np.ndarray] = {}  # prefixes share the sets of characters that may follow

    def next_labels(prefix: tuple[int, ...]) -> np.ndarray | None:
        """Which labels (a uint8 mask) the constraint lets follow `prefix` (NFC labels are characters); None:
        it cannot say."""
        if prefix not in following:
            chars = constraint.next_characters(text_of(prefix))
            if chars is None or codec.units != "nfc":
                following[prefix] = None
            else:
                if chars not in masks_of:
                    mask = np.zeros(n_labels, dtype=np.uint8)
                    mask[list(codec.ids_of(chars))] = 1
                    masks_of[chars] = mask
                following[prefix] = masks_of[chars]
        return following[prefix]

    # Plain probabilities (the search rescales them every frame so that the best prefix has 1), floored so that
    # every label stays reachable; a last column of 0 for the empty prefix's "last label".
    rows = np.zeros((len(probs), n_labels + 1))
    rows[:, :n_labels] = np.maximum(probs, _TINY_PROB)
    # Each frame's labels to try, found for all frames at once.
    tried_labels = probs >= prune
    tried_labels[:, blank] = False
    only_blanks = ~tried_labels.any(axis=1) & (constraint is None or probs[:, blank] >= BLANK_FRAME)
    if constraint is not None and len(probs):
        # A field's value may be one the frames find unlikely (a misread digit): each frame's best few labels
        # are tried too, whatever their probability; the constraint prunes them.
        best_few = np.argpartition(probs, -CONSTRAINED_LABELS, axis=1)[:, -CONSTRAINED_LABELS:]
        tried_labels[np.arange(len(probs))[:, None], best_few] = True
        tried_labels[:, blank] = False
    frames, labels = np.nonzero(tried_labels)
    starts = np.searchsorted(frames, np.arange(len(probs) + 1))
    prefixes, p_blank, p_label, states = prefix_beam(
        rows, np.ascontiguousarray(labels), starts, only_blanks.view(np.uint8), blank, beam_width,
        prior.step if prior is not None else None, prior.initial if prior is not None else None,
        math.exp(prior.ceiling) if prior is not None else 0.0, codec.alphabet,
        allows if constraint is not None else None, next_labels if constraint is not None else None)
    # A finished reading's weight: its frames', times the prior's of ending there.
    scores = {prefix: (pb + pl) * (math.exp(prior.end(state)) if prior is not None else 1.0)
              for prefix, pb, pl, state in zip(prefixes, p_blank, p_label, states, strict=True)}
    total = sum(scores.values())
    chosen: dict[str, tuple[list[int], float]] = {}
    for prefix in sorted(scores, key=scores.__getitem__, reverse=True):
        text = codec.decode(list(prefix)).text
        if text in chosen or (constraint is not None and not constraint.accepts(text)):
            continue
        chosen[text] = list(prefix), scores[prefix] / total if total > 0 else 0.0
        if len(chosen) == top_k:
            break
    return [dataclasses.replace(_hypothesis(codec, ids, forced_alignment(probs, ids, blank), probs), posterior=share)
            for ids, share in chosen.values()]
