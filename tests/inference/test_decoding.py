import itertools
import math

import numpy as np
import pytest

from hotich.inference.decoding import (
    Hypothesis,
    Pattern,
    Vocabulary,
    alignment_score,
    beam_search,
    forced_alignment,
    greedy,
    line_confidence,
    read_as,
    softmax,
)
from hotich.models.codec import Codec

NAME = "Nguyễn Văn An"


def frame(codec: Codec, peaks: dict[str, float]) -> np.ndarray:
    """One frame's probabilities: the given units ("" is the blank) at their probability, the rest spread evenly."""
    row = np.full(len(codec), (1 - sum(peaks.values())) / (len(codec) - len(peaks)))
    for unit, p in peaks.items():
        row[codec.alphabet.index(unit)] = p
    return row


def line(codec: Codec, text: str, p: float = 0.9, ambiguous: dict[int, dict[str, float]] | None = None) -> np.ndarray:
    """A clear line: each unit of `text` on 2 frames at `p`, a blank frame at `p` before, between and after.

    `ambiguous` replaces the peaks of the unit at a given index (in units) by several competing ones.
    """
    ambiguous = ambiguous or {}
    rows = [frame(codec, {"": p})]
    for k, i in enumerate(codec.encode(text)):
        peaks = ambiguous.get(k, {codec.alphabet[i]: p})
        rows += [frame(codec, peaks)] * 2 + [frame(codec, {"": p})]
    return np.array(rows, dtype=np.float32)


def test_softmax_sums_to_one_and_temperature_flattens():
    logits = np.array([[1000.0, 999.0, 990.0], [0.0, 2.0, -3.0]], dtype=np.float32)
    probs = softmax(logits)
    assert probs.dtype == np.float32
    assert probs.sum(axis=-1) == pytest.approx([1.0, 1.0])
    assert np.isfinite(probs).all()  # large logits do not overflow
    flat = softmax(logits, temperature=2.0)
    assert flat.sum(axis=-1) == pytest.approx([1.0, 1.0])
    assert (flat.max(axis=-1) < probs.max(axis=-1)).all()
    assert (flat.argmax(axis=-1) == probs.argmax(axis=-1)).all()


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan")])
def test_softmax_rejects_a_temperature_that_is_not_positive(temperature):
    with pytest.raises(ValueError, match="temperature"):
        softmax(np.zeros((2, 3)), temperature)


def test_line_confidence_is_the_product_or_the_weakest_blank_when_empty():
    probs = np.array([[0.9, 0.1], [0.7, 0.3]])
    assert line_confidence([0.9, 0.5], probs, blank=0) == pytest.approx(0.45)
    assert line_confidence([], probs, blank=0) == pytest.approx(0.7)
    assert line_confidence([], np.zeros((0, 2)), blank=0) == 1.0


@pytest.mark.parametrize("units", ["nfc", "nfd"])
def test_greedy_reads_a_clear_line_back(units):
    codec = Codec.for_units(units)
    hyp = greedy(line(codec, NAME), codec)
    assert isinstance(hyp, Hypothesis)
    assert hyp.text == NAME
    assert hyp.char_confidences == pytest.approx([0.9] * len(NAME))
    assert hyp.confidence == pytest.approx(0.9 ** len(NAME), rel=1e-5)


def test_greedy_on_blank_frames_reads_nothing_as_sure_as_the_weakest_blank():
    codec = Codec.for_units("nfc")
    probs = np.array([frame(codec, {"": p}) for p in (0.95, 0.8, 0.99)], dtype=np.float32)
    hyp = greedy(probs, codec)
    assert hyp.text == "" and hyp.char_confidences == ()
    assert hyp.confidence == pytest.approx(0.8)
    assert greedy(np.zeros((0, len(codec)), dtype=np.float32), codec) == Hypothesis("", 1.0, ())


def test_greedy_keeps_repeats_separated_by_a_blank_and_merges_a_run():
    codec = Codec.for_units("nfc")
    assert greedy(line(codec, "Trang 22"), codec).text == "Trang 22"
    two = frame(codec, {"2": 0.9})
    run = np.array([two, frame(codec, {"2": 0.95}), two], dtype=np.float32)
    hyp = greedy(run, codec)
    assert hyp.text == "2"
    assert hyp.char_confidences == pytest.approx([0.95])  # a run's confidence is its best frame


@pytest.mark.parametrize("units", ["nfc", "nfd"])
def test_beam_search_agrees_with_greedy_on_a_clear_line(units):
    codec = Codec.for_units(units)
    for text in (NAME, "Trang 22"):
        probs = line(codec, text)
        best = greedy(probs, codec)
        for width in (1, 10):
            hyps = beam_search(probs, codec, beam_width=width)
            assert hyps[0].text == best.text == text
            assert hyps[0].char_confidences == pytest.approx(best.char_confidences)
            assert hyps[0].confidence == pytest.approx(best.confidence)


def test_a_beam_wide_enough_finds_every_text_with_its_exact_probability():
    # Every CTC path of a short line over two letters, summed per text: with room for every prefix and no
    # label pruned, the prefix search is exact, and its shares of the final beam are those sums.
    codec = Codec.for_units("nfc")
    units = [codec.blank, codec.alphabet.index("a"), codec.alphabet.index("ă")]
    rng = np.random.default_rng(7)
    probs = np.zeros((5, len(codec)), dtype=np.float32)
    probs[:, units] = rng.dirichlet(np.ones(3), size=5)
    exact: dict[str, float] = {}
    for path in itertools.product(units, repeat=len(probs)):
        labels = [u for k, u in enumerate(path) if u != codec.blank and (k == 0 or u != path[k - 1])]
        text = codec.decode(labels).text
        exact[text] = exact.get(text, 0.0) + math.prod(float(probs[t, u]) for t, u in enumerate(path))
    hyps = beam_search(probs, codec, beam_width=64, top_k=len(exact), prune=1e-9)
    assert {h.text for h in hyps} == set(exact)
    total = sum(exact.values())
    for h in hyps:
        assert h.posterior == pytest.approx(exact[h.text] / total, rel=1e-4)
    assert hyps[0].text == max(exact, key=exact.__getitem__)


def test_beam_search_returns_distinct_texts_best_first():
    codec = Codec.for_units("nfc")
    probs = line(codec, "Lê Văn Bê", ambiguous={8: {"ê": 0.44, "ế": 0.54}})
    hyps = beam_search(probs, codec, top_k=4)
    texts = [h.text for h in hyps]
    # Frame-wise "ế" then "ê" (Bếê) outweighs "ê" twice, so the list's reading is not second.
    assert texts[0] == "Lê Văn Bế" and "Lê Văn Bê" in texts
    assert len(texts) == len(set(texts)) == 4
    assert len(beam_search(probs, codec, top_k=1)) == 1


def test_vocabulary_overrules_a_frame_that_prefers_a_letter_not_in_the_list():
    codec = Codec.for_units("nfc")
    probs = line(codec, "Lê Văn Bê", ambiguous={8: {"ê": 0.44, "ế": 0.54}})
    free = greedy(probs, codec)
    assert free.text == "Lê Văn Bế"
    vocabulary = Vocabulary(["Lê Văn Bê", "Lê Văn Bình", " Trần Thị Bé "])
    [best, *_] = beam_search(probs, codec, constraint=vocabulary)
    assert best.text == "Lê Văn Bê"
    assert best.char_confidences[-1] == pytest.approx(0.44)
    assert best.confidence < free.confidence
    assert vocabulary.accepts("Trần Thị Bé") and vocabulary.allows("Trần") and not vocabulary.allows("Lê Văn Bế")


def test_pattern_forces_digits_where_a_frame_prefers_a_letter():
    codec = Codec.for_units("nfc")
    probs = line(codec, "12/03/1987", ambiguous={3: {"O": 0.55, "0": 0.4}})
    assert greedy(probs, codec).text == "12/O3/1987"
    [best, *_] = beam_search(probs, codec, constraint=Pattern(r"\d{1,2}/\d{1,2}/\d{4}"))
    assert best.text == "12/03/1987"
    assert best.char_confidences[3] == pytest.approx(0.4)


def test_constraints_say_which_characters_may_follow():
    vocabulary = Vocabulary(["Kinh", "Khơ Mú", "Kinh"])
    assert vocabulary.next_characters("") == {"K"} and vocabulary.next_characters("K") == {"i", "h"}
    assert vocabulary.next_characters("Kinh") == frozenset() and vocabulary.next_characters("X") == frozenset()
    assert Pattern(r"\d{4}").next_characters("19") is None
    assert Pattern(r"\d{1,2}/\d{4}", "0123456789/").next_characters("1") == frozenset("0123456789/")


def test_a_pattern_given_its_characters_reads_as_one_that_is_not():
    codec = Codec.for_units("nfc")
    probs = line(codec, "12/03/1987", ambiguous={3: {"O": 0.55, "0": 0.4}, 7: {"9": 0.5, "g": 0.45}})
    date = r"\d{1,2}/\d{1,2}/\d{4}"
    slow = beam_search(probs, codec, constraint=Pattern(date), top_k=3)
    fast = beam_search(probs, codec, constraint=Pattern(date, "0123456789/"), top_k=3)
    assert [h.text for h in fast] == [h.text for h in slow] and fast[0].text == "12/03/1987"


def test_nothing_the_constraint_accepts_gives_no_hypothesis():
    codec = Codec.for_units("nfc")
    assert beam_search(line(codec, "Huế"), codec, constraint=Vocabulary(["Hà Nội"])) == []
    assert beam_search(line(codec, "abc"), codec, constraint=Pattern(r"\d{1,2}/\d{1,2}/\d{4}")) == []


def test_nfd_constraint_waits_for_a_letters_marks():
    codec = Codec.for_units("nfd")
    # Nguyễn in NFD units: N g u y e ◌̂ ◌̃ n; the tilde (unit 6) is less likely than an acute.
    probs = line(codec, "Nguyễn", ambiguous={6: {"\u0303": 0.4, "\u0301": 0.5}})
    assert greedy(probs, codec).text == "Nguyến"
    [best, *_] = beam_search(probs, codec, constraint=Vocabulary(["Nguyễn", "Nguyên"]))
    assert best.text == "Nguyễn"
    assert best.char_confidences == pytest.approx([0.9, 0.9, 0.9, 0.9, 0.4, 0.9])


def test_forced_alignment_scores_each_label_by_its_frames():
    codec = Codec.for_units("nfc")
    probs = line(codec, "Trang 22", ambiguous={6: {"2": 0.6, "7": 0.3}})
    ids = codec.encode("Trang 22")
    assert forced_alignment(probs, ids, codec.blank) == pytest.approx([0.9] * 6 + [0.6, 0.9])
    # Read against the frames, "7" is scored by what the frames give it.
    assert forced_alignment(probs, codec.encode("Trang 72"), codec.blank)[6] == pytest.approx(0.3)
    assert forced_alignment(probs, [], codec.blank) == []


def test_forced_alignment_gives_zero_when_the_labels_cannot_fit():
    codec = Codec.for_units("nfc")
    two = codec.encode("2")[0]
    probs = np.array([frame(codec, {"2": 0.9})] * 2, dtype=np.float32)
    assert forced_alignment(probs, [two, two], codec.blank) == [0.0, 0.0]  # a repeat needs a blank between
    assert forced_alignment(probs, codec.encode("abc"), codec.blank) == [0.0, 0.0, 0.0]
    assert forced_alignment(probs[:1].repeat(3, axis=0), [two, two], codec.blank) == pytest.approx([0.9, 0.9])


def _every_alignment_score(probs: np.ndarray, ids: list[int], blank: int) -> float:
    """The best CTC alignment's log-probability by trying every frame-to-label path (small cases only)."""
    best = -math.inf
    for path in itertools.product([blank, *set(ids)], repeat=len(probs)):
        collapsed = [label for label, _ in itertools.groupby(path) if label != blank]
        if collapsed == ids:
            best = max(best, float(sum(np.log(probs[t, label]) for t, label in enumerate(path))))
    return best


@pytest.mark.parametrize("text", ["ab", "aa", "aba", "a"])
@pytest.mark.parametrize("frames", [3, 4, 5, 6])
def test_alignment_score_is_the_best_of_every_alignment(text, frames):
    # Tight fits too (a repeat needs its blank), where only a few states of each frame can still finish.
    codec = Codec.for_units("nfc")
    probs = np.random.default_rng(len(text) * 10 + frames).dirichlet(np.ones(len(codec)), frames).astype(np.float32)
    expected = _every_alignment_score(probs, codec.encode(text), codec.blank)
    if math.isfinite(expected):
        assert alignment_score(probs, codec, text) == pytest.approx(expected, rel=1e-5)
    else:
        assert alignment_score(probs, codec, text) == -math.inf


def test_invalid_pattern_and_empty_vocabulary_are_rejected():
    with pytest.raises(ValueError, match="invalid field pattern"):
        Pattern(r"(\d{1,2}/")
    with pytest.raises(ValueError, match="at least one"):
        Vocabulary(["", "  "])


def test_beam_search_is_quick_enough_on_a_long_uncertain_line():
    codec = Codec.for_units("nfc")
    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(size=(250, len(codec))) * 3)
    hyps = beam_search(probs, codec)
    assert hyps and all(0.0 <= h.confidence <= 1.0 for h in hyps)
    assert all(len(h.char_confidences) == len(h.text) for h in hyps)
    assert not math.isnan(hyps[0].confidence)


def test_nfd_dead_ends_do_not_crowd_out_the_list_reading():
    codec = Codec.for_units("nfd")
    blank = frame(codec, {"": 0.9})
    rows = [frame(codec, {"B": 0.9}), blank, frame(codec, {"x": 0.4, "z": 0.3, "e": 0.25}), blank]
    rows += [frame(codec, {"\u0302": 0.9}), blank]  # circumflex: e becomes ê
    probs = np.array(rows, dtype=np.float32)
    # "Bx" and "Bz" can take no mark that makes them "Bê"; kept, they would fill a beam of two.
    [best] = beam_search(probs, codec, beam_width=2, constraint=Vocabulary(["Bê", "Bo"]))
    assert best.text == "Bê"
    assert best.char_confidences == pytest.approx([0.9, 0.25])


def test_a_texts_alignment_score_is_what_reading_the_frames_as_it_scores():
    codec = Codec.for_units("nfc")
    probs = line(codec, NAME)
    for text in (NAME, "Nguyễn Văn Anh", ""):
        assert alignment_score(probs, codec, text) == read_as(probs, codec, text)[0]
    assert alignment_score(probs, codec, NAME) > alignment_score(probs, codec, "Nguyễn Văn Anh")
    assert alignment_score(probs[:3], codec, NAME) == float("-inf")  # too few frames to fit it
