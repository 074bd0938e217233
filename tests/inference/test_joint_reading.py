"""Lines that hold the same text read together: the officer's name on every record of a page; lines that
follow each other read together: registration numbers and dates down a page."""

import dataclasses

import numpy as np

from hotich.inference.decoding import Pattern
from hotich.inference.fields.dates import (
    DATE_CHARACTERS,
    DATE_PATTERN,
    DATE_WORDS_CHARACTERS,
    DATE_WORDS_PATTERN,
    date_pattern_in,
    day_number,
    read_date,
    read_date_words,
)
from hotich.inference.fields.names import NameWords
from hotich.inference.fields.places import is_a_unit, place_candidates, place_rivals
from hotich.inference.joint_reading import (
    SAME_NAME_MARGIN,
    SAME_PLACE_MARGIN,
    read_across_lines,
    read_as_one_date,
    read_as_one_of,
    read_as_one_value,
    read_before,
    read_in_order,
    read_in_sequence,
    read_jointly,
    read_within,
    reading_share,
)
from hotich.inference.recognizer import decode_lines
from hotich.models.codec import Codec

CODEC = Codec.for_units("nfc")


def _frames(text: str, doubt: dict[int, dict[str, float]]) -> np.ndarray:
    """Logits of a line writing `text`, one frame a character between blank frames; `doubt` gives the
    character at an index competing readings instead."""
    columns = [{"": 1.0}]
    for k, ch in enumerate(text):
        columns += [doubt.get(k, {ch: 1.0}), {"": 1.0}]
    probs = np.full((len(columns), len(CODEC)), 1e-4)
    for t, peaks in enumerate(columns):
        for ch, p in peaks.items():
            probs[t, CODEC.alphabet.index(ch)] = p
    return np.log(probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


NAME = "Trần Văn Tám"
MISREAD = [
    _frames(NAME, {10: {"â": 0.6, "á": 0.4}}),  # Tâm
    _frames(NAME, {11: {"n": 0.6, "m": 0.4}}),  # Tán
    _frames(NAME, {10: {"â": 0.55, "á": 0.45}, 11: {"n": 0.55, "m": 0.45}}),  # Tân
]


def test_each_line_misread_in_another_letter_is_read_right_together():
    name, logits = NAME, MISREAD
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == ["Trần Văn Tâm", "Trần Văn Tán", "Trần Văn Tân"]
    together = read_jointly(logits, alone, CODEC)
    assert [r.text for r in together] == [name] * 3
    assert all(0 < r.confidence < 1 for r in together)  # what each line's own frames say of it


def test_a_text_pieced_together_must_be_one_the_field_accepts():
    alone = decode_lines(MISREAD, CODEC)
    together = read_jointly(MISREAD, alone, CODEC, accepts=lambda text: text != NAME)
    assert {r.text for r in together} < {r.text for r in alone}  # one of what was read, the same on every line


def test_a_different_name_and_a_blank_line_are_read_alone():
    logits = [_frames("Trần Văn Tám", {}), _frames("Lê Thị Hoa", {}), _frames("", {})]
    alone = decode_lines(logits, CODEC)
    assert read_jointly(logits, alone, CODEC) == alone
    assert read_jointly([], [], CODEC) == []


def test_readings_and_logits_must_pair_up():
    try:
        read_jointly([_frames("An", {})], [], CODEC)
    except ValueError as e:
        assert "1 lines of logits for 0 readings" in str(e)
    else:
        raise AssertionError("expected a ValueError")


def test_registration_numbers_down_a_page_are_read_as_one_run():
    logits = [
        _frames("21", {}),
        _frames("22", {0: {"1": 0.6, "2": 0.4}}),  # 12
        _frames("023", {1: {"0": 0.5, "2": 0.3}}),  # 003, the book pads to three
        _frames("24", {}),
        _frames("25", {0: {"0": 0.7, "2": 0.3}}),  # 05
    ]
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == ["21", "12", "003", "24", "05"]
    assert [r.text for r in read_in_sequence(logits, alone, CODEC)] == ["21", "22", "023", "24", "25"]


def test_a_number_the_frames_are_sure_breaks_the_run_keeps_its_reading():
    logits = [_frames("21", {}), _frames("22", {}), _frames("40", {}), _frames("", {}), _frames("24", {})]
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in read_in_sequence(logits, alone, CODEC)] == ["21", "22", "40", "", "24"]
    assert read_in_sequence(logits[:1], alone[:1], CODEC) == alone[:1]  # one number is no run


def _day(text: str) -> int | None:
    return day_number(read_date(text).value)


WITHIN_2008 = Pattern(date_pattern_in([2008, 2009]), DATE_CHARACTERS)


def test_registration_dates_down_a_page_never_go_back():
    logits = [
        _frames("04/10/2008", {}),
        _frames("09/10/2008", {0: {"1": 0.6, "0": 0.4}}),  # 19/10, after the 11th below
        _frames("11/10/2008", {}),
        _frames("20/10/2008", {1: {"9": 0.6, "0": 0.4}}),  # 29/10, after the 22nd below
        _frames("22/10/2008", {}),
    ]
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == ["04/10/2008", "19/10/2008", "11/10/2008", "29/10/2008", "22/10/2008"]
    ordered = read_in_order(logits, alone, CODEC, 1.0, _day, WITHIN_2008)
    assert [r.text for r in ordered] == ["04/10/2008", "09/10/2008", "11/10/2008", "20/10/2008", "22/10/2008"]
    assert ordered[1].confidence < alone[1].confidence  # its frames preferred the 19th


def test_a_date_the_frames_are_sure_of_stays_out_of_order():
    logits = [_frames("04/10/2008", {}), _frames("28/12/2008", {}), _frames("11/10/2008", {}), _frames("", {})]
    alone = decode_lines(logits, CODEC)
    assert read_in_order(logits, alone, CODEC, 1.0, _day, WITHIN_2008) == alone  # a late entry, a blank line
    assert read_in_order([], [], CODEC, 1.0, _day, WITHIN_2008) == []


def test_a_birth_is_read_as_days_before_its_registration_unless_its_frames_are_sure():
    registered = _day("20/10/2008")
    doubtful = _frames("12/10/2008", {1: {"7": 0.6, "2": 0.4}})  # 17/10 against 12/10: both before the 20th
    after = _frames("12/10/2008", {0: {"2": 0.6, "1": 0.4}})  # 22/10, after its registration
    late = _frames("12/10/2005", {})  # registered three years late, and sure of it
    logits = [doubtful, after, late]
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == ["17/10/2008", "22/10/2008", "12/10/2005"]
    read = [read_before(x, r, CODEC, 1.0, _day, registered, WITHIN_2008) for x, r in zip(logits, alone, strict=True)]
    assert [r.text for r in read] == ["17/10/2008", "12/10/2008", "12/10/2005"]


IN_WORDS = "Ngày hai mươi ba tháng hai năm hai nghìn không trăm hai mươi tư"
GRAMMARS = [Pattern(DATE_PATTERN, DATE_CHARACTERS), Pattern(DATE_WORDS_PATTERN, DATE_WORDS_CHARACTERS)]
DAYS_OF = [_day, lambda text: day_number(read_date_words(text).value)]


def test_a_date_in_digits_and_in_words_is_read_as_one_date():
    logits = [_frames("23/02/2024", {1: {"2": 0.6, "3": 0.4}}), _frames(IN_WORDS, {})]  # 22/02 against the 23rd
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == ["22/02/2024", IN_WORDS]
    one = read_as_one_date(logits, alone, CODEC, 1.0, DAYS_OF, GRAMMARS)
    assert [r.text for r in one] == ["23/02/2024", IN_WORDS]


def test_dates_that_agree_or_that_both_frames_are_sure_of_are_left_as_read():
    agreeing = [_frames("23/02/2024", {}), _frames(IN_WORDS, {})]
    alone = decode_lines(agreeing, CODEC)
    assert read_as_one_date(agreeing, alone, CODEC, 1.0, DAYS_OF, GRAMMARS) == alone
    two_dates = [_frames("13/02/2024", {}), _frames(IN_WORDS, {})]  # the clerk's slip, for review
    alone = decode_lines(two_dates, CODEC)
    assert read_as_one_date(two_dates, alone, CODEC, 1.0, DAYS_OF, GRAMMARS) == alone


def test_a_date_in_words_over_two_lines_is_read_within_its_grammar_and_cut_where_the_lines_break():
    first, second = "Ngày hai mươi ba tháng hai năm", "hai nghìn không trăm hai mươi tư"
    logits = [_frames(first, {}), _frames(second, {2: {"y": 0.7, "i": 0.3}})]  # "hay nghìn"
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == [first, "hay nghìn không trăm hai mươi tư"]
    read = read_across_lines(logits, alone, CODEC, 1.0, GRAMMARS[1])
    assert [r.text for r in read] == [first, second]
    assert read_across_lines(logits, read, CODEC, 1.0, GRAMMARS[1]) == read  # what the grammar holds stays


def test_a_place_that_names_no_unit_is_read_as_the_unit_its_frames_find_likeliest_and_cut_where_lines_break():
    first, second = "xã Quỳnh Minh,", "huyện Quỳnh Phụ, tỉnh Thái Bình"
    logits = [_frames(first, {9: {"H": 0.6, "M": 0.4}, 10: {"ạ": 0.6, "i": 0.4}}), _frames(second, {})]  # Hạnh
    alone = decode_lines(logits, CODEC)
    assert [r.text for r in alone] == ["xã Quỳnh Hạnh,", second]
    texts = place_candidates(" ".join(r.text for r in alone))
    read = read_as_one_of(logits, alone, CODEC, 1.0, texts)
    assert [r.text for r in read] == [first, second]
    assert read_as_one_of(logits, read, CODEC, 1.0, []) == read
    sure = [_frames("xã Bạch Đằng,", {}), _frames(second, {})]  # no commune of Quỳnh Phụ within the margin
    alone = decode_lines(sure, CODEC)
    assert read_as_one_of(sure, alone, CODEC, 1.0, place_candidates(" ".join(r.text for r in alone))) == alone


def test_a_place_read_as_a_text_shorter_than_where_its_reading_broke_is_still_cut_into_its_lines():
    place = "xã Quỳnh Minh, huyện Quỳnh Phụ"  # 5 words; the reading broke after 8
    logits = [_frames(place, {}), _frames("", {})]
    long_reading = decode_lines(logits, CODEC)
    long_reading[0] = dataclasses.replace(long_reading[0], text="xã Quỳnh Minh thôn Ba Làng An Xá Đông,")
    read = read_as_one_of(logits, long_reading, CODEC, 1.0, [place])
    assert [r.text for r in read] == [place, ""]


def test_a_place_its_frames_fit_as_well_as_a_neighbouring_commune_keeps_half_its_confidence():
    place = "xã Phước Ninh, huyện Thuận Nam, tỉnh Ninh Thuận"
    rivals = place_rivals(place)
    assert "xã Phước Minh, huyện Thuận Nam, tỉnh Ninh Thuận" in rivals and place not in rivals
    sure = [_frames(place, {})]
    torn = [_frames(place, {9: {"N": 0.5, "M": 0.5}})]  # the N of Ninh as likely an M
    assert reading_share(sure, CODEC, 1.0, place, rivals) > 0.99
    assert 0.45 < reading_share(torn, CODEC, 1.0, place, rivals) < 0.55
    assert reading_share(torn, CODEC, 1.0, place, ()) == 1.0
    assert reading_share(sure, CODEC, 1.0, place * 3, rivals) == 0.0  # more letters than the frames hold


def test_a_pages_places_read_near_one_another_are_read_together():
    place = "xã Quỳnh Minh, huyện Quỳnh Phụ, tỉnh Thái Bình"
    right = [[_frames(place, {})], [_frames(place, {9: {"M": 0.7, "H": 0.3}})]]
    misread = [_frames(place, {9: {"H": 0.55, "M": 0.45}})]  # Quỳnh Hinh: not a commune of Quỳnh Phụ
    other = [_frames("xã Quỳnh Hải, huyện Quỳnh Phụ, tỉnh Thái Bình", {})]  # a neighbour, written plainly
    logits = [*right, misread, other]
    readings = [decode_lines(lines, CODEC) for lines in logits]
    assert [r[0].text for r in readings][2:] == ["xã Quỳnh Hinh, huyện Quỳnh Phụ, tỉnh Thái Bình",
                                                 "xã Quỳnh Hải, huyện Quỳnh Phụ, tỉnh Thái Bình"]
    together = read_as_one_value(logits, readings, CODEC, 1.0, is_a_unit, SAME_PLACE_MARGIN)
    assert [r[0].text for r in together] == [place, place, place, "xã Quỳnh Hải, huyện Quỳnh Phụ, tỉnh Thái Bình"]
    # Only a unit that is may be taken: with none among the readings, each keeps its own.
    assert read_as_one_value(logits, readings, CODEC, 1.0, lambda text: False, SAME_PLACE_MARGIN) == readings


def test_a_declarant_read_near_the_father_is_read_with_him_within_the_name_lexicon():
    name = "Phạm Văn Sơn"
    logits = [[_frames(name, {11: {"m": 0.55, "n": 0.45}})], [_frames(name, {})]]  # the declarant's n unsure
    readings = [decode_lines(lines, CODEC) for lines in logits]
    assert [r[0].text for r in readings] == ["Phạm Văn Sơm", name]
    together = read_as_one_value(logits, readings, CODEC, 1.0, NameWords().accepts, SAME_NAME_MARGIN)
    assert [r[0].text for r in together] == [name, name]


def test_a_spouse_read_as_born_too_long_ago_is_read_within_the_years_a_spouse_may_be_born():
    logits = _frames("12.05.1985", {8: {"0": 0.6, "8": 0.4}})
    reading = decode_lines([logits], CODEC)[0]
    assert reading.text == "12.05.1905"  # 115 at a wedding in 2020
    within = Pattern(date_pattern_in(range(1930, 2006)), DATE_CHARACTERS)
    assert read_within(logits, reading, CODEC, 1.0, lambda t: day_number(read_date(t).value), within).text == \
        "12.05.1985"
    nothing = Pattern(date_pattern_in([2011]), DATE_CHARACTERS)  # no year the frames allow: the reading stays
    assert read_within(logits, reading, CODEC, 1.0, lambda t: day_number(read_date(t).value), nothing) == reading


def test_a_paper_number_read_a_digit_long_is_read_again_within_its_lengths_unless_its_frames_find_that_too_unlikely():
    from hotich.inference.fields.papers import number_grammar

    written = "CMND số 2113553039"  # the second "1" is a blank the frames find slightly less likely
    logits = [_frames(written, {10: {"1": 0.6, "": 0.4}})]
    alone = decode_lines(logits, CODEC)
    assert alone[0].text == written
    grammar = number_grammar(written)
    assert [r.text for r in read_across_lines(logits, alone, CODEC, 1.0, grammar, margin=1.0)] == ["CMND số 213553039"]
    # log(0.6 / 0.4) = 0.41 nats less likely: over a margin of 0.1, the paper stays as read (and is flagged).
    assert read_across_lines(logits, alone, CODEC, 1.0, grammar, margin=0.1) == alone
