"""The language prior in the beam search: it overrules frames that barely prefer a misspelling, leaves sure
frames alone, and gives fused readings a confidence in [0, 1]."""

import math

import numpy as np

from hotich.evaluation.metrics import cer
from hotich.inference.decoding import beam_search, softmax
from hotich.inference.language_prior import FusedConfidence, LanguagePrior
from hotich.inference.recognizer import read_gray
from hotich.models.codec import Codec
from hotich.models.language import CharLanguageModel


def _frames(codec: Codec, columns: list[dict[str, float]]) -> np.ndarray:
    """One frame per dict (label -> probability, the rest blank), a blank frame after each."""
    probs = []
    for column in columns:
        frame = np.full(len(codec), 1e-6)
        for char, p in column.items():
            frame[codec.encode(char)[0]] = p
        frame[codec.blank] = max(0.0, 1 - sum(column.values()))
        probs += [frame, np.eye(len(codec))[codec.blank]]
    return np.array(probs, dtype=np.float32)


def test_the_prior_turns_a_close_misreading_into_the_words_it_knows():
    codec = Codec.for_units("nfc")
    model = CharLanguageModel.fit(["xã Tân Phú"] * 20 + ["xã Tân Bình"] * 20, order=4)
    prior = LanguagePrior(model, weight=0.5, bonus=0.5)
    columns = [{c: 0.95} for c in "xã Tân Ph"] + [{"ủ": 0.55, "ú": 0.4}]
    probs = _frames(codec, columns)
    assert beam_search(probs, codec, 10, top_k=1)[0].text == "xã Tân Phủ"
    fused = beam_search(probs, codec, 10, top_k=1, prior=prior)[0]
    assert fused.text == "xã Tân Phú"
    assert 0.0 < fused.posterior <= 1.0
    # Frames sure of what they read keep it, even where the model has never seen it.
    sure = _frames(codec, [{c: 0.999} for c in "xã Tân Phủ"])
    assert beam_search(sure, codec, 10, top_k=1, prior=prior)[0].text == "xã Tân Phủ"


def test_fused_confidence_is_a_probability_that_rises_with_the_share_of_the_beam():
    calibration = FusedConfidence(posterior=0.5, frames=0.3, length=-0.3, posterior_length=-0.04, bias=0.5)
    shares = [calibration(share, 0.2, 12) for share in (1e-9, 0.2, 0.5, 0.9, 1.0)]
    assert all(0.0 <= c <= 1.0 for c in shares) and shares == sorted(shares)
    assert 0.0 <= calibration(None, 0.0, 0) <= 1.0
    # A longer line with the same share and frames is less likely right; extreme terms do not overflow.
    assert calibration(0.9, 0.2, 40) < calibration(0.9, 0.2, 10)
    assert FusedConfidence(posterior=1e4)(1e-9, 0.5, 10) == 0.0


def test_the_shipped_prior_reads_held_out_lines_no_worse_than_greedy(shipped_recognizer, heldout_lines):
    prior = LanguagePrior.shipped()
    refs = [s.text for s in heldout_lines]
    images = [read_gray(s.path) for s in heldout_lines]
    greedy = shipped_recognizer.read(images)
    fused = shipped_recognizer.read(images, prior=prior)
    # On 24 lines one line's change moves CER by about a point (on 3,000 held-out lines the prior reads 7.7%
    # CER against greedy's 9.2%: `hotich eval lines var/lines/heldout --language`).
    assert cer(refs, [r.text for r in fused]) <= cer(refs, [r.text for r in greedy]) + 0.02
    for reading in fused:
        assert 0.0 <= reading.confidence <= 1.0 and len(reading.char_confidences) == len(reading.text)
        # The calibrated confidence is the prior's map of the two figures the reading keeps.
        assert reading.confidence == prior.confidence(reading.beam_share, reading.frame_confidence,
                                                      len(reading.text))


def test_skipping_what_the_prior_cannot_bring_into_the_beam_changes_no_reading(shipped_recognizer, heldout_lines):
    # The search weighs only extensions that could still enter the beam at the prior's ceiling; with no
    # ceiling it weighs them all, and must find the same readings and shares.
    shipped, weighs_all = LanguagePrior.shipped(), LanguagePrior.shipped()
    weighs_all.ceiling = math.inf
    codec = shipped_recognizer.codec
    logits = shipped_recognizer.logits([read_gray(s.path) for s in heldout_lines])
    for line_logits in logits:
        probs = softmax(line_logits, shipped_recognizer.temperature)
        assert beam_search(probs, codec, 10, top_k=3, prior=shipped) == beam_search(probs, codec, 10, top_k=3,
                                                                                     prior=weighs_all)
