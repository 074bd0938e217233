import random
import unicodedata

import pytest

from hotich.text import (
    CHARSET,
    LETTERS,
    VOWELS_LOWER,
    edit_distance,
    from_units,
    nfc,
    strip_tone,
    to_units,
    unit_inventory,
)


def test_inventory_has_every_toned_vowel_and_d_bar():
    assert len(VOWELS_LOWER) == 72
    assert len(set(LETTERS)) == len(LETTERS) == 2 * (72 + 21 + 3)
    assert "đ" in LETTERS and "Đ" in LETTERS
    assert all(ch == nfc(ch) and len(ch) == 1 for ch in CHARSET)


@pytest.mark.parametrize("units", ["nfc", "nfd"])
def test_every_letter_round_trips_through_units(units):
    for ch in LETTERS:
        assert from_units(to_units(ch, units)) == ch
    text = "Nguyễn Thị Hằng, sinh ngày 27/08/2008 tại xã Đạ Tẻh"
    assert from_units(to_units(text, units)) == text


def test_nfd_units_are_few_and_nfc_units_are_the_charset():
    assert sorted(unit_inventory("nfc")) == sorted(CHARSET)
    nfd = unit_inventory("nfd")
    assert len(nfd) < len(CHARSET) / 2
    assert all(len(u) == 1 for u in nfd)


def test_decomposed_input_is_read_as_nfc():
    decomposed = unicodedata.normalize("NFD", "Hương")
    assert to_units(decomposed, "nfc") == list("Hương")


def test_a_stray_mark_does_not_survive_joining():
    assert from_units(["\u0301", "a"]) == "a"


def test_strip_tone_keeps_the_vowel_shape():
    assert strip_tone("ợ") == ("ơ", "dot")
    assert strip_tone("Ằ") == ("Ă", "grave")
    assert strip_tone("đ") == ("đ", "")
    assert strip_tone("â") == ("â", "")


def _reference_distance(a, b):
    # The textbook dynamic programme, to check the bit-parallel one against.
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3), ("abc", "abc", 0), ("ab", "ba", 2)],
)
def test_edit_distance_known_values(a, b, d):
    assert edit_distance(a, b) == d


def test_edit_distance_matches_the_dynamic_programme():
    rng = random.Random(0)
    alphabet = "aăâđêô ơư"
    for _ in range(2000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        assert edit_distance(a, b) == _reference_distance(a, b), (a, b)


def test_edit_distance_works_on_word_lists():
    assert edit_distance(["Nguyễn", "Văn", "An"], ["Nguyễn", "Van", "An"]) == 1
