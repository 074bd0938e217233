"""Calibration: an overconfident model is cooled, an honest one is left about as it is; the stretch read best
is chosen over every set given."""

import numpy as np
import pytest

from hotich.models.codec import Codec
from hotich.training.calibration import fit_stretch, fit_temperature

CODEC = Codec.for_units("nfc")


def _line_logits(char: str, strength: float) -> np.ndarray:
    """Three frames (blank, char, blank): the char's frame gives it logit `strength`, every other class 0."""
    logits = np.zeros((3, len(CODEC)), np.float32)
    logits[[0, 2], CODEC.blank] = 12.0
    logits[1, CODEC.encode(char)[0]] = strength
    return logits


def test_overconfident_readings_get_a_temperature_above_one():
    rng = np.random.default_rng(0)
    logits = [_line_logits("a", 11.0) for _ in range(200)]  # ~0.99 sure of every line
    texts = ["a" if rng.random() < 0.7 else "b" for _ in range(200)]  # but right on 70%
    result = fit_temperature(logits, CODEC, texts)
    assert result.temperature > 1.0
    assert result.ece_after < result.ece_before
    assert result.ece_after < 0.05
    assert result.line_acc == pytest.approx(texts.count("a") / 200)


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="one text per line"):
        fit_temperature([_line_logits("a", 5.0)], CODEC, [])


def test_the_stretch_chosen_reads_the_sets_best_and_the_recognizer_is_left_as_it_was(shipped_recognizer,
                                                                                      heldout_lines):
    before = shipped_recognizer.stretch
    sets = {"first": heldout_lines[:12], "second": heldout_lines[12:]}
    fit = fit_stretch(shipped_recognizer, sets, stretches=(1.0, 1.15, 1.6), progress=False)
    assert shipped_recognizer.stretch == before
    assert set(fit.cer_nopunct) == {1.0, 1.15, 1.6} and all(set(v) == set(sets) for v in fit.cer_nopunct.values())
    means = {s: np.mean(list(v.values())) for s, v in fit.cer_nopunct.items()}
    assert means[fit.stretch] == min(means.values())
    with pytest.raises(ValueError, match="non-empty line set"):
        fit_stretch(shipped_recognizer, {"empty": []})
