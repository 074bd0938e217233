"""Lines a page ties together, read together: the registering officer signs every record of a page with
the same name, and one hand's misreadings differ from record to record ("Trần Văn Tân", "Trần Văn Tin",
"Trần Văn Tám"), so the frames of all of them together say which it is; registration numbers rise by one
down the page (21, 11, 23, 24, 05 is 21 to 25); registration dates never go back down the page, and lie days
apart (04.10, 19.11, 11.10, 29.10, 22.10 is 04.10, 09.10, 11.10, 20.10, 22.10 when the frames allow it); the
birth or death a record registers came before its registration, most often days before; a date written in
digits and again in words is one date; a date in words written over two lines of its cell is one text.

Torch-free: it runs after ONNX Runtime on the serving CPUs.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from hotich.inference.decoding import Constraint, alignment_score, beam_search, read_as, softmax
from hotich.inference.recognizer import CONSTRAINED_BEAM, LineReading
from hotich.models.codec import Codec
from hotich.text import edit_distance

__all__ = ["CUT_SLACK", "DAY_COST", "ONE_DATE_MARGIN", "ORDER_CANDIDATES", "ORDER_MARGIN", "PAPER_MARGIN",
           "PLACE_MARGIN", "PLAUSIBLE_MARGIN", "SAME_NAME_MARGIN", "SAME_PLACE_MARGIN", "SAME_TEXT", "SEQUENCE_MARGIN",
           "read_across_lines", "read_as_one_date", "read_as_one_of", "read_as_one_value", "read_before",
           "read_in_order", "read_in_sequence", "read_jointly", "read_within", "reading_share"]

SAME_TEXT = 0.34
"""Two readings at most this many edits a character apart may be one text misread (Tám / Tân); further
apart they are two texts (the officer changed), read apart."""


SEQUENCE_MARGIN = 6.0
"""How much less likely (in nats: e^6, about 400 times) a line's frames may find its number in the page's run
than what they read there, and still take it."""


ORDER_MARGIN = 3.0
"""What a date kept out of order costs (nats): a line takes a date in order when its frames find it at most
this much less likely than what they read (a late entry, a birth registered late, keeps its own date)."""
DAY_COST = 0.02
"""What each day between dates in order costs (nats): registrations follow each other days apart, and most
births and deaths are registered days after them, so of two readings in order the nearer wins (a month costs
0.6, a year 7.3)."""
ORDER_CANDIDATES = 8
"""Dates each line's frames are searched for, within the years given, besides what it was read as."""
# On 199 validation pages (707 registration dates) margins of 2, 3, 4 and 6 read 62.8%, 63.8%, 63.5% and 63.5%
# of them right (54.6% alone); a day cost of 0, 0.02, 0.05 and 0.1 read 60.3%, 63.8%, 63.8% and 63.6%; 8, 12 and
# 16 candidates the same. Their 251 birth and 213 death dates, read before their registration at a margin of 3
# and a day cost of 0.02: 51.8% and 56.3% right (49.0% and 46.9% alone); at 0.01, 51.0% and 55.4%; at 0.05,
# 50.2% and 56.8%.
ONE_DATE_MARGIN = 6.0
"""How much less likely (nats) the frames of a date's lines in digits and in words may find one date for both
than what they read apart, and still take it (115 such pairs on the validation pages' 2020 books, digits and
words right: 52.2% and 55.7% apart; 66.1% and 65.2% at a margin of 3, 67.8% and 68.7% at 6 and at 10)."""


PLACE_MARGIN = 20.0
"""How much less likely (nats) the frames of a place's lines may find the likeliest unit it may be than what
they read, and still take it: a place is one of the units its district holds far more often than a new one.
On the first 60 validation pages, places read right: 68.9% as read; at margins of 3, 6, 10,
20 and 40: 70.3%, 73.7%, 77.1%, 79.5% and 79.7%."""


def _as_read(probs: np.ndarray, codec: Codec, reading: LineReading, text: str) -> LineReading:
    """The line read as `text`, with the confidence its frames give that."""
    if text == reading.text:
        return reading
    hypothesis = read_as(probs, codec, text)[1]
    return LineReading(hypothesis.text, hypothesis.confidence, hypothesis.char_confidences)


def _near(a: str, b: str) -> bool:
    return edit_distance(a, b) <= SAME_TEXT * max(len(a), len(b))


def _groups(texts: Sequence[str]) -> list[list[int]]:
    """Lines whose readings chain together by `_near`, the lines read empty left out."""
    groups: list[list[int]] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        joined = [g for g in groups if any(_near(text, texts[j]) for j in g)]
        merged = [i] + [j for g in joined for j in g]
        groups = [g for g in groups if g not in joined] + [sorted(merged)]
    return groups


def _joint_text(probs: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                accepts: Callable[[str], bool] | None) -> str:
    """The text the frames of all these lines make likeliest, among their readings, their alternatives and
    those improved a letter, then a word, at a time."""
    texts = {r.text for r in readings} | {h.text for r in readings for h in r.alternatives}
    texts.discard("")
    cache: dict[str, float] = {}

    def score(text: str) -> float:
        if text not in cache:
            made_up = accepts is not None and text not in texts and not accepts(text)
            cache[text] = -math.inf if made_up else sum(alignment_score(p, codec, text) for p in probs)
        return cache[text]

    best = max(texts, key=lambda t: (score(t), t))
    for sep in ("", " "):  # a letter at a time among readings as long, then a word at a time
        pieces = list(best) if not sep else best.split(sep)
        same = [list(t) if not sep else t.split(sep) for t in texts]
        same = [t for t in same if len(t) == len(pieces)]
        for k in range(len(pieces)):
            tried = {pieces[k], *(t[k] for t in same)}
            trials = {piece: sep.join([*pieces[:k], piece, *pieces[k + 1:]]) for piece in tried}
            pieces[k] = max(trials, key=lambda piece: (score(trials[piece]), piece))
        best = sep.join(pieces)
    return best


def read_jointly(logits: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                 temperature: float = 1.0, accepts: Callable[[str], bool] | None = None) -> list[LineReading]:
    """Each line's reading, replaced by the text the frames of its group make likeliest together.

    A group is the lines whose readings are near one another. Its candidates are what they were read as and
    the alternatives their searches kept; the best of them by the sum of its best alignments over the group
    is then improved a letter at a time, each letter tried as any reading as long has it in its place
    (the vowel right on one line, the final on another), then a word at a time alike. Each line takes the
    winner with the confidence its own frames give it. Texts pieced together must be ones `accepts` (the
    field's constraint) takes: a name of Vietnamese syllables, not "Ding" from "Dũng" and "Dinh".
    """
    if len(logits) != len(readings):
        raise ValueError(f"{len(logits)} lines of logits for {len(readings)} readings")
    out = list(readings)
    probs = [softmax(x, temperature) for x in logits]
    for group in _groups([r.text for r in readings]):
        if len(group) < 2:
            continue
        best = _joint_text([probs[i] for i in group], [readings[i] for i in group], codec, accepts)
        for i in group:
            out[i] = _as_read(probs[i], codec, readings[i], best)
    return out


def _written_like(number: int, reading: str) -> list[str]:
    """`number` as the book may write it on this line: plain, zero-padded to three, and with the "/year" the
    line was read with."""
    suffix = reading[reading.index("/"):] if "/" in reading else ""
    return list(dict.fromkeys(f"{n}{s}" for n in (str(number), f"{number:03d}") for s in (suffix, "")))


def read_in_sequence(logits: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                     temperature: float = 1.0) -> list[LineReading]:
    """Registration numbers down a page, one line a record in order, read together: they rise by one.

    The first number is the one whose run (first, first + 1, ...) the frames of all the lines make
    likeliest, among those the readings imply; each line takes its number of the run unless its own frames
    say otherwise by more than `SEQUENCE_MARGIN` (a number skipped, or another series), and then keeps its
    reading for `check_sequence` to flag.
    """
    if len(logits) != len(readings):
        raise ValueError(f"{len(logits)} lines of logits for {len(readings)} readings")
    probs = [softmax(x, temperature) for x in logits]
    read = [(k, int(r.text.split("/")[0])) for k, r in enumerate(readings) if r.text.split("/")[0].isdigit()]
    if len(read) < 2:
        return list(readings)
    own = {k: alignment_score(probs[k], codec, readings[k].text) for k, _ in read}

    @functools.cache  # the run chosen is scored again line by line
    def fit(k: int, number: int) -> tuple[float, str]:
        return max((alignment_score(probs[k], codec, text), text) for text in _written_like(number, readings[k].text))

    def total(first: int) -> float:
        return sum(max(fit(k, first + k)[0], own[k] - SEQUENCE_MARGIN) for k, _ in read)

    first = max({number - k for k, number in read if number - k >= 1}, key=lambda f: (total(f), -f), default=None)
    if first is None:
        return list(readings)
    out = list(readings)
    for k, _ in read:
        score, text = fit(k, first + k)
        if score >= own[k] - SEQUENCE_MARGIN:
            out[k] = _as_read(probs[k], codec, readings[k], text)
    return out


def _dates(probs: np.ndarray, reading: LineReading, codec: Codec, day_of: Callable[[str], int | None],
           within: Constraint) -> list[tuple[float, int, str]]:
    """(alignment score, day, text) of a line's candidate dates: its reading, its alternatives and the
    `ORDER_CANDIDATES` best its frames allow `within`, those whole dates `within` accepts."""
    found = beam_search(probs, codec, CONSTRAINED_BEAM, within, top_k=ORDER_CANDIDATES)
    texts = {reading.text, *(h.text for h in reading.alternatives), *(h.text for h in found)}
    return [(alignment_score(probs, codec, t), day, t) for t in sorted(texts)
            if within.accepts(t) and (day := day_of(t)) is not None]


def read_in_order(logits: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                  temperature: float, day_of: Callable[[str], int | None], within: Constraint) -> list[LineReading]:
    """Registration dates down a page, one line a record in order, read together: they never go back.

    Each line's candidates are its reading, its alternatives and the `ORDER_CANDIDATES` best dates its frames
    allow `within` (the page's years); `day_of` gives a text's date as a day number (None: not a whole date).
    The page takes the candidates that keep the dates in order with the highest sum of their best alignments,
    less `DAY_COST` a day between the first and the last; a line may stay out of the order at `ORDER_MARGIN`,
    and then keeps its reading. Each line takes its date with the confidence its own frames give it.
    """
    if len(logits) != len(readings):
        raise ValueError(f"{len(logits)} lines of logits for {len(readings)} readings")
    probs = [softmax(x, temperature) for x in logits]
    # Best choice so far for each day the last line in order is on (-1: none yet): (score, texts chosen).
    best: dict[int, tuple[float, list[str]]] = {-1: (0.0, [])}
    for p, reading in zip(probs, readings, strict=True):
        candidates = _dates(p, reading, codec, day_of, within)
        own = alignment_score(p, codec, reading.text) - ORDER_MARGIN
        following: dict[int, tuple[float, list[str]]] = {}
        for last, (score, chosen) in best.items():
            options = [(last, score + own, reading.text)]
            options += [(day, score + s - (DAY_COST * (day - last) if last >= 0 else 0.0), t)
                        for s, day, t in candidates if day >= last]
            for day, total, text in options:
                if day not in following or total > following[day][0]:
                    following[day] = (total, [*chosen, text])
        best = following
    chosen = max(best.values(), key=lambda option: option[0])[1] if readings else []
    return [_as_read(p, codec, r, t) for p, r, t in zip(probs, readings, chosen, strict=True)]


def read_before(logits: np.ndarray, reading: LineReading, codec: Codec, temperature: float,
                day_of: Callable[[str], int | None], registered: int, within: Constraint) -> LineReading:
    """The date of the event a record registers (a birth, a death), read as on or before its registration
    day `registered`: of its candidate dates (as `read_in_order`'s, `within` the registration's year and the
    one before) the one whose best alignment, less `DAY_COST` a day before `registered`, is highest, unless
    its reading, at `ORDER_MARGIN`, is higher still (an event registered late)."""
    probs = softmax(logits, temperature)
    best = (alignment_score(probs, codec, reading.text) - ORDER_MARGIN, reading.text)
    for score, day, text in _dates(probs, reading, codec, day_of, within):
        if day <= registered and score - DAY_COST * (registered - day) > best[0]:
            best = (score - DAY_COST * (registered - day), text)
    return _as_read(probs, codec, reading, best[1])


PAPER_MARGIN = 20.0
"""An identity paper's number read again within the lengths its kind allows is taken unless its frames find it
over this many nats less likely than what they read."""
PLAUSIBLE_MARGIN = 20.0
"""How much less likely (nats) than an implausible reading a date may be and still be taken for it
(`read_within`): the reading is wrong, but a date its frames hardly allow is no better a guess to show."""


def read_within(logits: np.ndarray, reading: LineReading, codec: Codec, temperature: float,
                day_of: Callable[[str], int | None], within: Constraint, margin: float = PLAUSIBLE_MARGIN
                ) -> LineReading:
    """A date its record's other dates show cannot be what was read (a spouse born the year of the wedding),
    read as the candidate date `within` accepts (as `read_in_order`'s) that its frames find likeliest, unless
    they find it over `margin` less likely than the reading."""
    probs = softmax(logits, temperature)
    candidates = _dates(probs, reading, codec, day_of, within)
    if not candidates:
        return reading
    score, _, text = max(candidates)
    return _as_read(probs, codec, reading, text) if score >= alignment_score(probs, codec, reading.text) - margin \
        else reading


def read_as_one_date(logits: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                     temperature: float, days_of: Sequence[Callable[[str], int | None]],
                     grammars: Sequence[Constraint]) -> list[LineReading]:
    """Lines that write one date (in digits and in words), read together when their readings disagree: of the
    dates that are candidates of every line (as `read_in_order`'s, each within its own grammar, `days_of`
    reading its texts), the one whose best alignments sum highest, unless the lines' own readings sum over
    `ONE_DATE_MARGIN` higher (the clerk wrote two dates: `fields_disagree` flags them)."""
    if not len(logits) == len(readings) == len(days_of) == len(grammars):
        raise ValueError("one date's lines need as many logits, readings, day readers and grammars")
    probs = [softmax(x, temperature) for x in logits]
    read = [day_of(r.text) for day_of, r in zip(days_of, readings, strict=True)]
    if None not in read and len(set(read)) == 1:
        return list(readings)  # they agree already
    best_of: list[dict[int, tuple[float, str]]] = []
    for p, reading, day_of, grammar in zip(probs, readings, days_of, grammars, strict=True):
        texts: dict[int, tuple[float, str]] = {}
        for score, day, text in _dates(p, reading, codec, day_of, grammar):
            if day not in texts or score > texts[day][0]:
                texts[day] = (score, text)
        best_of.append(texts)
    common = set.intersection(*(set(texts) for texts in best_of)) if best_of else set()
    if not common:
        return list(readings)
    day = max(common, key=lambda d: (sum(texts[d][0] for texts in best_of), d))
    apart = sum(alignment_score(p, codec, r.text) for p, r in zip(probs, readings, strict=True))
    if sum(texts[day][0] for texts in best_of) < apart - ONE_DATE_MARGIN:
        return list(readings)
    return [_as_read(p, codec, r, texts[day][1]) for p, r, texts in zip(probs, readings, best_of, strict=True)]


def read_across_lines(logits: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                      temperature: float, grammar: Constraint, margin: float = math.inf) -> list[LineReading]:
    """The lines of one value (a date in words over its cell's two lines, an identity paper), read as one text
    within its `grammar` when their readings joined break it, as a one-line value is read within its grammar:
    the frames of the lines one after the other, a space or nothing between them, are searched within the
    grammar, and the text found is cut between the lines at the word boundaries their frames find likeliest.
    When nothing the grammar holds fits the frames, or what does is over `margin` less likely than what they
    read, the lines stay as read (and the value goes to review)."""
    if len(logits) != len(readings):
        raise ValueError(f"{len(logits)} lines of logits for {len(readings)} readings")
    read = " ".join(r.text for r in readings if r.text)
    if not readings or grammar.accepts(read):
        return list(readings)
    probs = [softmax(x, temperature) for x in logits]
    joined = _one_after_another(probs, codec)
    found = beam_search(joined, codec, CONSTRAINED_BEAM, grammar, top_k=1)
    if not found or (margin < math.inf
                     and alignment_score(joined, codec, found[0].text) < alignment_score(joined, codec, read) - margin):
        return list(readings)
    cut = _cut(probs, codec, found[0].text.split(" "), None)
    return [_as_read(p, codec, r, t) for p, r, t in zip(probs, readings, cut, strict=True)]


def read_as_one_of(logits: Sequence[np.ndarray], readings: Sequence[LineReading], codec: Codec,
                   temperature: float, texts: Sequence[str]) -> list[LineReading]:
    """The lines of one value (a place) read as the one of `texts` (what the value may be, written as it was)
    their frames one after the other find likeliest, unless what they read is over `PLACE_MARGIN` likelier;
    the text taken is cut between the lines at the word boundaries their frames find likeliest, each within
    `CUT_SLACK` words of where the reading broke."""
    if len(logits) != len(readings):
        raise ValueError(f"{len(logits)} lines of logits for {len(readings)} readings")
    if not texts:
        return list(readings)
    probs = [softmax(x, temperature) for x in logits]
    joined = _one_after_another(probs, codec)
    read = " ".join(r.text for r in readings if r.text)
    score, best = max((alignment_score(joined, codec, t), t) for t in texts)
    if score < alignment_score(joined, codec, read) - PLACE_MARGIN:
        return list(readings)
    return _lines_as(probs, codec, readings, best)


def reading_share(logits: Sequence[np.ndarray], codec: Codec, temperature: float, text: str,
                  rivals: Sequence[str]) -> float:
    """The share of `text` in what the frames of a value's lines, one after the other, give it and its `rivals`
    (what else the value may be): 1.0 with no rivals, about 0.5 when one fits the frames as well."""
    if not rivals or not text:
        return 1.0
    joined = _one_after_another([softmax(x, temperature) for x in logits], codec)
    scores = np.array([alignment_score(joined, codec, t) for t in (text, *rivals)])
    fits = np.isfinite(scores)
    if not fits[0]:
        return 0.0 if fits.any() else 1.0
    weights = np.exp(scores[fits] - scores[fits].max())
    return float(weights[0] / weights.sum())


CUT_SLACK = 2
"""Words a line of a value read again may gain or lose to its neighbours (`read_as_one_of`)."""


SAME_PLACE_MARGIN = 20.0
"""`read_as_one_value`'s margin for a page's places. On the first 200 validation pages, places read right: 80.0%
apart; at margins of 3, 6, 10, 15, 20 and 30: 81.9%, 82.2%, 82.8%, 83.7%, 84.4% and 84.8%. 20 is
`PLACE_MARGIN`'s: two communes of a page a letter or two apart ("xã Thụy Văn", "xã Thụy Việt") stay apart when
written plainly."""
SAME_NAME_MARGIN = 6.0
"""`read_as_one_value`'s margin for the names of a record that may be one person's. On the first 200 validation
pages, names read right: 59.84% apart; at margins of 3, 6, 10 and 20: 60.01%, 60.05%, 60.05% and 60.08% (few
records write one person twice on one-line fields: 26 on 40 pages)."""


def read_as_one_value(logits: Sequence[Sequence[np.ndarray]], readings: Sequence[Sequence[LineReading]],
                      codec: Codec, temperature: float, accepts: Callable[[str], bool], margin: float
                      ) -> list[list[LineReading]]:
    """Values (the lines of each) that are often one text, misread differently (a page's places, most of them
    its own commune in one hand; a declarant who is the child's father), each read as the text the frames of
    the values read near it find likeliest together. Among what the group's values were read as that `accepts`
    takes (a unit that is, a name of Vietnamese syllables), the text whose alignments to each value's frames,
    one line after another, sum highest (each value's deficit against its own reading counted up to `margin`,
    so one of another text near in writing does not sway the rest) is taken by every value whose own frames
    find it at most `margin` (nats) less likely than their reading, cut back between its lines where they
    find it likeliest."""
    if len(logits) != len(readings):
        raise ValueError(f"{len(logits)} values of logits for {len(readings)} of readings")
    out = [list(r) for r in readings]
    texts = [" ".join(r.text for r in value if r.text) for value in readings]
    groups = [g for g in _groups(texts) if len({texts[i] for i in g}) > 1]
    if not groups:
        return out
    probs = {i: [softmax(x, temperature) for x in logits[i]] for g in groups for i in g}
    joined = {i: _one_after_another(p, codec) for i, p in probs.items()}
    for group in groups:
        candidates = sorted(t for t in {texts[i] for i in group} if accepts(t))
        if not candidates:
            continue
        own = {i: alignment_score(joined[i], codec, texts[i]) for i in group}
        scores = {t: {i: own[i] if t == texts[i] else alignment_score(joined[i], codec, t) for i in group}
                  for t in candidates}
        best = max(candidates, key=lambda t: sum(max(scores[t][i] - own[i], -margin) for i in group))
        for i in group:
            if texts[i] != best and scores[best][i] >= own[i] - margin:
                out[i] = _lines_as(probs[i], codec, readings[i], best)
    return out


def _one_after_another(probs: Sequence[np.ndarray], codec: Codec) -> np.ndarray:
    """The frames of lines one after the other, each pair with a frame between that is a space or nothing."""
    between = np.full((1, len(codec)), 1e-6, dtype=np.float32)
    between[0, codec.blank] = between[0, codec.alphabet.index(" ")] = 0.5
    return np.concatenate([part for p in probs for part in (between, p)][1:])


def _lines_as(probs: Sequence[np.ndarray], codec: Codec, readings: Sequence[LineReading], text: str
              ) -> list[LineReading]:
    """The lines of one value read as `text`, cut between them where their frames find it likeliest (`_cut`,
    near where the readings broke)."""
    cut = _cut(probs, codec, text.split(" "), [len(r.text.split()) for r in readings])
    return [_as_read(p, codec, r, t) for p, r, t in zip(probs, readings, cut, strict=True)]


def _cut(probs: Sequence[np.ndarray], codec: Codec, words: list[str], counts: list[int] | None) -> list[str]:
    """`words` cut into one text a line where the lines' frames find the cuts likeliest: anywhere when `counts`
    is None, else each cut within `CUT_SLACK` words of where lines holding `counts` words each break."""
    if counts is None:
        allowed = [range(len(words) + 1)] * (len(probs) - 1)
    else:
        ends = list(itertools.accumulate(counts))[:-1]
        # Clamped to the words there are: a text shorter than where the reading broke still gets cut.
        allowed = [range(min(max(0, end - CUT_SLACK), len(words)), min(len(words), end + CUT_SLACK) + 1)
                   for end in ends]
    # Best cut so far for each number of words the lines so far hold: (score, their texts).
    best: dict[int, tuple[float, list[str]]] = {0: (0.0, [])}
    for p, stops in zip(probs, [*allowed, [len(words)]], strict=True):
        following: dict[int, tuple[float, list[str]]] = {}
        for start, (score, texts) in best.items():
            for stop in stops:
                if stop >= start:
                    piece = " ".join(words[start:stop])
                    total = score + alignment_score(p, codec, piece)
                    if stop not in following or total > following[stop][0]:
                        following[stop] = (total, [*texts, piece])
        best = following
    return best[len(words)][1]
