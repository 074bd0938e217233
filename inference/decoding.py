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
import heapq
import math
import unicodedata
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np
import regex

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
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return (z / z.sum(axis=-1, keepdims=True)).astype(np.float32)


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
    ext = np.full(2 * n + 1, blank, dtype=np.int64)
    ext[1::2] = ids
    states = len(ext)
    logp = np.log(np.maximum(probs[:, ext].astype(np.float64), _TINY))
    # A label may be reached by skipping the blank before it, unless it repeats the label before that.
    skip_open = np.full(states, -np.inf)
    skip_open[2:] = np.where((ext[2:] != blank) & (ext[2:] != ext[:-2]), 0.0, -np.inf)
    back = np.zeros((len(probs), states), dtype=np.int8)  # 0 stay, 1 from the previous state, 2 skip a blank
    score = np.full(states, -np.inf)
    score[:2] = logp[0, :2]
    # Preallocated rows and in-place maxima: the loop runs once per frame, so its numpy calls are its cost.
    previous, skipped, best_so_far = np.full(states, -np.inf), np.full(states, -np.inf), np.empty(states)
    for t in range(1, len(probs)):
        previous[1:] = score[:-1]
        skipped[2:] = score[:-2]
        skipped += skip_open
        np.maximum(score, previous, out=best_so_far)
        np.greater(previous, score, out=back[t], casting="unsafe")  # ties stay
        back[t][skipped > best_so_far] = 2
        np.maximum(best_so_far, skipped, out=best_so_far)
        score = best_so_far + logp[t]
    state = states - 1 if score[-1] >= score[-2] else states - 2
    best = float(score[state])
    path = np.empty(len(probs), dtype=np.int64)
    for t in range(len(probs) - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])
    frames = np.flatnonzero(path % 2 == 1)
    labels = (path[frames] - 1) // 2
    confidences = np.zeros(n)
    np.maximum.at(confidences, labels, probs[frames, ext[path[frames]]])
    return best, confidences.tolist()


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


def _best_allowed(grown: dict[tuple[int, ...], list[float]], width: int,
                  allowed: Callable[[tuple[int, ...]], bool] | None, beam: Collection[tuple[int, ...]]
                  ) -> list[tuple[tuple[int, ...], list[float]]]:
    """The `width` likeliest prefixes of a frame (ties in the order they grew) that are in the previous `beam`
    or that `allowed` lets through."""
    if allowed is None:
        return heapq.nlargest(width, grown.items(), key=lambda kv: kv[1][0] + kv[1][1])
    best = []
    for item in sorted(grown.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True):
        if item[0] in beam or allowed(item[0]):
            best.append(item)
            if len(best) == width:
                break
    return best


def _weigh_offers(grown: dict[tuple[int, ...], list[float]], offers: list[tuple[tuple[int, ...], float]],
                  beam: Collection[tuple[int, ...]], width: int, weight: Callable[[tuple[int, ...]], float],
                  ceiling: float) -> None:
    """Add each offered extension's probability (the frames', `gain`, times the prior's `weight`) to `grown`,
    most likely first, and drop those that cannot enter the next beam unweighed.

    No weight exceeds `ceiling`: an extension whose gain times it is below the `width`-th best probability
    found so far cannot make the beam, nor can any offered after it. Extensions of a prefix already in the
    beam add to it and are always weighed. On 8 test pages the prior took 39% of the steps it took when every
    extension was weighed.
    """
    # The `width` best probabilities of distinct prefixes so far: the beam's own, which their extensions only
    # raise, then each weighed extension's.
    floor = heapq.nlargest(width, (sum(grown[prefix]) for prefix in beam))
    heapq.heapify(floor)
    for extended, gain in sorted(offers, key=lambda offer: offer[1], reverse=True):
        merged = extended in beam
        if not merged and len(floor) == width and gain * ceiling < floor[0]:
            del grown[extended]
            continue
        there = grown[extended]
        there[1] += gain * weight(extended)
        if not merged:
            if len(floor) == width:
                heapq.heappushpop(floor, there[1])
            else:
                heapq.heappush(floor, there[1])


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
    blank = codec.blank
    allowed: dict[tuple[int, ...], bool] = {}
    texts: dict[tuple[int, ...], str] = {(): ""}

    def text_of(prefix: tuple[int, ...]) -> str:
        if codec.units != "nfc":
            return codec.decode(list(prefix)).text
        # NFC labels are whole characters: a prefix's text is its parent's (always seen first) plus one.
        if prefix not in texts:
            texts[prefix] = texts[prefix[:-1]] + codec.alphabet[prefix[-1]]
        return texts[prefix]

    # allows, weight and next_labels are called only when there is a constraint or a prior (the loop below).
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

    following: dict[tuple[int, ...], frozenset[int] | None] = {}
    labels_of: dict[frozenset[str], frozenset[int]] = {}  # prefixes share the sets of characters that may follow
    # Per prefix: the prior's state after it, and the weight its last character added.
    prior_states: dict[tuple[int, ...], Hashable] = {(): prior.initial if prior is not None else None}
    prior_weights: dict[tuple[int, ...], float] = {}

    def weight(extended: tuple[int, ...]) -> float:
        known = prior_weights.get(extended)
        if known is None:
            state, log_weight = prior.step(prior_states[extended[:-1]], codec.alphabet[extended[-1]])
            prior_states[extended], prior_weights[extended] = state, known = state, math.exp(log_weight)
        return known

    def ending(prefix: tuple[int, ...]) -> float:
        return math.exp(prior.end(prior_states[prefix])) if prior is not None else 1.0

    def next_labels(prefix: tuple[int, ...]) -> frozenset[int] | None:
        """The labels the constraint lets follow `prefix` (NFC labels are characters); None: it cannot say."""
        if prefix not in following:
            chars = constraint.next_characters(text_of(prefix))
            if chars is None or codec.units != "nfc":
                following[prefix] = None
            else:
                if chars not in labels_of:
                    labels_of[chars] = codec.ids_of(chars)
                following[prefix] = labels_of[chars]
        return following[prefix]

    # Per prefix: probability of the frames so far ending in a blank, and ending in its last label; in plain
    # probabilities (additions, not log-sum-exps: the loop is scalar Python), rescaled every frame so that
    # the best prefix has 1 and long lines do not underflow.
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}
    # Python floats (numpy scalars are slow at scalar arithmetic), and each frame's labels to try, found for
    # all frames at once: per-frame numpy calls cost more than the search on short lines.
    rows = np.maximum(probs.astype(np.float64), _TINY_PROB).tolist()
    tried_labels = probs >= prune
    tried_labels[:, blank] = False
    only_blanks = (~tried_labels.any(axis=1) & (constraint is None or probs[:, blank] >= BLANK_FRAME)).tolist()
    if constraint is not None and len(probs):
        # A field's value may be one the frames find unlikely (a misread digit): each frame's best few labels
        # are tried too, whatever their probability; the constraint prunes them.
        best_few = np.argpartition(probs, -CONSTRAINED_LABELS, axis=1)[:, -CONSTRAINED_LABELS:]
        tried_labels[np.arange(len(probs))[:, None], best_few] = True
        tried_labels[:, blank] = False
    frames, labels = np.nonzero(tried_labels)
    starts = np.searchsorted(frames, np.arange(len(probs) + 1)).tolist()
    labels = labels.tolist()
    for t, row in enumerate(rows):
        if only_blanks[t]:
            # Only blanks and repeats: the same prefixes, rescored.
            beams = {prefix: ((p_blank + p_label) * row[blank], p_label * row[prefix[-1]] if prefix else 0.0)
                     for prefix, (p_blank, p_label) in beams.items()}
            continue
        candidates = labels[starts[t] : starts[t + 1]]
        tried: dict[frozenset[int] | None, list[int]] = {}
        grown: dict[tuple[int, ...], list[float]] = {}
        offers: list[tuple[tuple[int, ...], float]] = []
        for prefix, (p_blank, p_label) in beams.items():
            total = p_blank + p_label
            here = grown.get(prefix)
            if here is None:
                grown[prefix] = here = [0.0, 0.0]
            here[0] += total * row[blank]
            last = prefix[-1] if prefix else None
            if last is not None:
                here[1] += p_label * row[last]
            # This loop is the search's cost: the prior and the constraint are asked only about the prefixes that
            # may enter the beam (below).
            follow = next_labels(prefix) if constraint is not None else None
            if follow not in tried:
                tried[follow] = candidates if follow is None else [label for label in candidates if label in follow]
            for label in tried[follow]:
                extended = (*prefix, label)
                # The same label again is a new character only after a blank; without one it merges (above).
                gain = (p_blank if label == last else total) * row[label]
                there = grown.get(extended)
                if prior is not None:
                    # Weighed below, where it may still enter the beam; its place in `grown` is kept (ties).
                    offers.append((extended, gain))
                    gain = 0.0
                if there is None:
                    grown[extended] = [0.0, gain]
                else:
                    there[1] += gain
        if prior is not None:
            _weigh_offers(grown, offers, beams, beam_width, weight, math.exp(prior.ceiling))
        best = _best_allowed(grown, beam_width, None if constraint is None else allows, beams)
        top = best[0][1][0] + best[0][1][1]
        beams = {prefix: (p_blank / top, p_label / top) for prefix, (p_blank, p_label) in best}

    scores = {prefix: (p_blank + p_label) * ending(prefix) for prefix, (p_blank, p_label) in beams.items()}
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
