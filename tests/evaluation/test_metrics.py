"""Text and confidence metrics against values worked out by hand."""

import unicodedata

import pytest

from hotich.evaluation.metrics import (
    TextScores,
    cer,
    cer_nopunct,
    expected_calibration_error,
    line_accuracy,
    score_lines,
    wer,
)


def test_cer_known_values():
    assert cer("abc", "abd") == pytest.approx(1 / 3)
    assert cer(["abc", "de"], ["abd", "de"]) == pytest.approx(1 / 5)
    assert cer(["abc"], [""]) == 1.0
    assert cer(["abc"], ["abcxyz"]) == 1.0


def test_cer_of_nothing_is_zero_and_insertions_into_nothing_count():
    assert cer([], []) == 0.0
    assert cer([""], [""]) == 0.0
    assert cer([""], ["ab"]) == 2.0


def test_a_wrong_tone_is_one_character_edit_whatever_the_normal_form():
    assert cer("Nguyễn", "Nguyên") == pytest.approx(1 / 6)
    assert cer("Nguyễn", unicodedata.normalize("NFD", "Nguyễn")) == 0.0
    assert cer(unicodedata.normalize("NFD", "Đặng"), "Đăng") == pytest.approx(1 / 4)


def test_a_bare_string_is_one_line_not_a_list_of_characters():
    assert wer("Hà Nội", "Hà Nôi") == pytest.approx(1 / 2)
    assert line_accuracy("Hà Nội", "Hà Nội") == 1.0


def test_wer_on_whitespace_split_words():
    assert wer(["Phú  Thọ Việt Nam"], ["Phú Thọ Viet Nam"]) == pytest.approx(1 / 4)
    assert wer(["a b", "c"], ["a b", ""]) == pytest.approx(1 / 3)


def test_cer_nopunct_ignores_case_punctuation_and_spacing():
    assert cer_nopunct(["Hà Nội, Việt Nam."], ["hà nội  việt nam"]) == 0.0
    assert cer_nopunct(["Tp. Hồ Chí Minh"], ["tp hồ chí minh"]) == 0.0
    assert cer_nopunct(["Hà Nội"], ["Hà Nọi"]) == pytest.approx(1 / 6)
    assert cer(["Hà Nội, Việt Nam"], ["Hà Nội Việt Nam"]) > 0


def test_line_accuracy():
    assert line_accuracy(["a", "b", "c", "d"], ["a", "b", "x", ""]) == 0.5
    assert line_accuracy([], []) == 0.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        cer(["a", "b"], ["a"])
    with pytest.raises(ValueError):
        expected_calibration_error([0.5], [True, False])


def test_ece_of_perfectly_calibrated_bins_is_zero():
    confidences = [0.8] * 10 + [0.3] * 10 + [1.0] * 5
    correct = [True] * 8 + [False] * 2 + [True] * 3 + [False] * 7 + [True] * 5
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.0)


def test_ece_known_values():
    assert expected_calibration_error([0.9] * 4, [False] * 4) == pytest.approx(0.9)
    # Two bins of 2: |0.5 - 0.95| and |1.0 - 0.25|, weighted equally.
    confidences, correct = [0.95, 0.95, 0.25, 0.25], [True, False, True, True]
    assert expected_calibration_error(confidences, correct) == pytest.approx((0.45 + 0.75) / 2)
    # One bin over everything: only the mean confidence and mean accuracy matter.
    assert expected_calibration_error(confidences, correct, bins=1) == pytest.approx(abs(0.75 - 0.6))
    assert expected_calibration_error([], []) == 0.0


def test_ece_refuses_confidences_outside_zero_one():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error([1.2], [True])


def test_score_lines_gathers_every_metric():
    refs, hyps = ["Cẩm Khê, Phú Thọ", "Hà Nội"], ["cẩm Khê Phú Thọ", "Hà Nội"]
    scores = score_lines(refs, hyps)
    assert scores == TextScores(cer=cer(refs, hyps), wer=wer(refs, hyps), cer_nopunct=0.0, line_acc=0.5, n=2)
    assert scores.cer == pytest.approx(2 / 22)
