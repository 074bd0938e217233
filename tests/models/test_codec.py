"""The codec: every Vietnamese letter survives encoding, unknown characters are counted, NFD marks merge."""

import pytest

from hotich.models.codec import Codec
from hotich.text import CHARSET, LETTERS, nfc


@pytest.mark.parametrize("units", ["nfc", "nfd"])
def test_codec_round_trips_every_vietnamese_letter(units):
    codec = Codec.for_units(units)
    assert codec.blank == 0 and codec.alphabet[0] == ""
    for text in (LETTERS, CHARSET, "Nguyễn Thị Hường, sinh ngày 12/03/1987 tại Quảng Ngãi"):
        ids = codec.encode(text)
        assert codec.blank not in ids
        decoded = codec.decode(ids)
        assert decoded.text == nfc(text)
        assert len(decoded.confidences) == len(decoded.text)
    assert not codec.unknown


def test_codec_leaves_out_unknown_characters_and_counts_them():
    codec = Codec.for_units("nfc")
    assert codec.decode(codec.encode("a€b€")).text == "ab"
    assert codec.unknown == {"€": 2}


def test_nfd_character_is_as_sure_as_its_least_sure_unit():
    codec = Codec.for_units("nfd")
    ids = codec.encode("ệa")  # e, dot below, circumflex, a
    decoded = codec.decode(ids, [0.9, 0.5, 0.8, 0.7])
    assert decoded.text == "ệa"
    assert decoded.confidences == (0.5, 0.7)


def test_the_labels_of_a_set_of_characters_are_those_encoding_gives_them():
    codec = Codec.for_units("nfc")
    assert codec.ids_of(frozenset("ễ0/")) == frozenset(codec.encode("ễ0/"))
    assert codec.ids_of(frozenset("€")) == frozenset() and not codec.unknown
