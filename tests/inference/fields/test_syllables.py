"""The syllable lexicon and the name constraint built on it."""

import numpy as np
import pytest

from hotich.inference.decoding import beam_search
from hotich.inference.fields.names import NameWords
from hotich.inference.fields.syllables import is_syllable, syllables
from hotich.models.codec import Codec

NAMES = ("Nguyễn Trần Lê Phạm Huỳnh Võ Vũ Đặng Bùi Đỗ Hồ Ngô Dương Trịnh Quách Nghiêm Khổng Giang Diệp Thị Văn Quỳnh "
         "Quý Quốc Quân Quyết Khuê Hoà Hòa Thuý Thúy Khuỷu Ngoài Trường Phượng Khuyến Yến Uyên Oanh Ánh Tuyết "
         "Ngọc Bích Hạnh Hương Xuân Giàng Thào Kỳ Lý Mỹ Vy Thy Gì Ghi Nghĩa Khánh Lộc Phúc Dũng Đức Tiến Việt")


def test_the_lexicon_holds_names_and_the_spelling_rules():
    assert 15_000 < len(syllables()) < 25_000
    for word in NAMES.split():
        assert is_syllable(word), word
    # c/k, g/gh, ng/ngh, qu and yê/iê spelled the wrong way round; stops with a grave, hook or tilde; no vowel
    for word in ("Nguyẽn", "Thj", "Hoàá", "Cim", "Kan", "Ghan", "Ngiêm", "Quu", "Qùa", "Iến", "Ciên", "Mảt", "Bbinh",
                 "Xyz", "Ngh"):
        assert not is_syllable(word), word


def test_the_name_constraint_grows_only_syllables():
    words = NameWords()
    assert words.allows("Nguyễn V") and words.allows("NGUYỄN VĂN") and words.allows("H'Lo")
    assert not words.allows("Nguyx") and not words.allows("Nguyễn  ") and not words.allows(" Lan")
    assert words.next_characters("NGUYỄN THANH") == frozenset(" -")
    assert {"h", "H"} <= words.next_characters("Ng") and "x" not in words.next_characters("Ng")
    assert words.accepts("Nguyễn-Văn-Ba.") and words.accepts("H'Loan Hmŏk") and not words.accepts("Nguyxn Ba")
    assert not words.accepts("")


def test_a_misread_name_is_searched_again_within_the_lexicon():
    # Frames that favour "Thj" (no Vietnamese syllable) with "Thị" close behind.
    codec = Codec.for_units("nfc")
    probs = np.full((6, len(codec.alphabet)), 1e-4, np.float32)
    for t, chars in enumerate([{"T": 0.9}, {"h": 0.9}, {"j": 0.55, "ị": 0.35}]):
        for ch, p in chars.items():
            probs[2 * t, codec.encode(ch)[0]] = p
        probs[2 * t + 1, codec.blank] = 0.9
    probs /= probs.sum(axis=1, keepdims=True)
    assert beam_search(probs, codec, beam_width=8)[0].text == "Thj"
    assert beam_search(probs, codec, beam_width=8, constraint=NameWords())[0].text == "Thị"


@pytest.mark.parametrize("word", ["Hrê", "Hmŏk", "Blô"])
def test_minority_name_words_are_accepted_not_grown(word):
    assert NameWords().accepts(word) and not is_syllable(word)
