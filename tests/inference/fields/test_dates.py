"""Dates in every clerk's habit read to the Ministry's dd.mm.yyyy, and slips are flagged."""

from datetime import date

import pytest
import regex

from hotich.inference.decoding import Pattern
from hotich.inference.fields.dates import (
    DATE_PATTERN,
    DATE_WORDS_CHARACTERS,
    DATE_WORDS_PATTERN,
    date_pattern_in,
    day_number,
    page_year,
    read_date,
    read_date_words,
    read_year,
)
from hotich.numwords import date_to_words


def _codes(reading) -> set[str]:
    return {i.code for i in reading.issues}


@pytest.mark.parametrize(("text", "value"), [
    ("05/03/1972", "05.03.1972"), ("5-3-1972", "05.03.1972"), ("05.03.1972.", "05.03.1972"),
    ("5 / 3 / 1972", "05.03.1972"), ("ngày 5/3/1972", "05.03.1972"), ("03/1972", "03.1972"), ("1972", "1972"),
])  # fmt: skip
def test_habits_read_to_one_form(text, value):
    reading = read_date(text, latest=date(1990, 1, 1))
    assert (reading.value, reading.issues) == (value, ())


def test_two_digit_years_take_the_century_that_keeps_them_before_the_book():
    assert read_date("5/3/72", latest=date(1985, 6, 1)).value == "05.03.1972"
    assert read_date("5/3/05", latest=date(2008, 6, 1)).value == "05.03.2005"
    assert read_date("5/3/95", latest=date(2008, 6, 1)).value == "05.03.1995"
    assert _codes(read_date("5/3/95", latest=date(2008, 6, 1))) == {"date_two_digit_year"}


@pytest.mark.parametrize(("text", "code"), [
    ("31/02/1990", "date_impossible"), ("12/13/1990", "date_impossible"), ("13/1990", "date_impossible"),
    ("12/12/5005", "date_implausible_year"), ("1/1/1066", "date_implausible_year"), ("hai ba", "date_unreadable"),
])  # fmt: skip
def test_slips_are_flagged(text, code):
    assert code in _codes(read_date(text, latest=date(2010, 1, 1)))


def test_registration_dates_must_fall_in_the_era():
    era = (date(1999, 1, 1), date(2006, 3, 31))
    assert read_date("14/02/2003", within=era).issues == ()
    assert _codes(read_date("14/02/2012", within=era)) == {"date_outside_era"}


def test_empty_is_no_value_and_no_issue():
    assert read_date("  ").value is None and read_date(" ").issues == ()
    assert read_year("").value is None and read_date_words("").value is None


def test_years_and_dates_in_words():
    assert read_year("1968").value == "1968"
    assert read_year("68", latest=date(1990, 1, 1)).value == "1968"
    assert read_date_words(date_to_words(date(2008, 8, 27), thousand="ngàn", linh="lẻ")).value == "27.08.2008"
    assert read_date_words("Ngày Mồng Năm Tháng Tư Năm Một Nghìn Chín Trăm Chín Mươi").value == "05.04.1990"
    assert _codes(read_date_words("ngày hai tháng")) == {"date_words_unreadable"}
    assert read_date_words("Ngày mùng ba tháng chạp năm một ngàn chín trăm năm mươi").value == "03.12.1950"


WORDS = Pattern(DATE_WORDS_PATTERN, DATE_WORDS_CHARACTERS)


@pytest.mark.parametrize("when", [date(1850, 1, 1), date(1905, 4, 5), date(1968, 11, 21), date(2008, 8, 27),
                                  date(2024, 12, 31), date(2000, 10, 1)])
@pytest.mark.parametrize("style", [{}, {"thousand": "ngàn", "linh": "lẻ", "four_tu": False, "one_mot": False},
                                   {"mong": "mồng"}, {"mong": "mùng"}])
def test_the_words_grammar_holds_every_date_in_every_writers_wording_and_case(when, style):
    text = date_to_words(when, **style)
    for written in (text, text.title(), text[0].upper() + text[1:]):
        assert WORDS.accepts(written) and set(written) <= set(DATE_WORDS_CHARACTERS)
        assert read_date_words(written).value == when.strftime("%d.%m.%Y")  # what it holds reads back


@pytest.mark.parametrize("text", ["Ngày Hai Mai Tư Tháng Tư Năm Hai Ngàn", "ngày ba mươi chín tháng hai năm hai nghìn",
                                  "ngày hai tháng mười ba năm hai nghìn", "ngày hai tháng hai năm ba nghìn", "ngày 2"])
def test_the_words_grammar_refuses_what_no_date_is(text):
    assert not WORDS.accepts(text)


def test_a_whole_date_has_a_day_number_and_a_partial_one_none():
    assert day_number("21.11.1969") - day_number("19.11.1969") == 2
    assert day_number("11.1969") is None and day_number("31.02.2000") is None and day_number(None) is None


@pytest.mark.parametrize(("text", "allowed"), [
    ("05/03/1972", True), ("5-3-72", True), ("03.1972", True), ("1972", True),
    ("21/15/2023", False), ("0/10/2005", False), ("35/11/2005", False), ("12.18/1017", False), ("13.2005", False),
])  # fmt: skip
def test_the_date_grammar_holds_only_days_months_and_years_that_exist(text, allowed):
    assert (regex.fullmatch(DATE_PATTERN, text) is not None) == allowed


def test_a_page_year_is_the_one_most_of_its_registration_dates_were_read_in():
    assert page_year(["12.11.1969", "19.11.1969", "21.11.1963", None, "1969"]) == 1969
    assert page_year(["12.11.1969", "21.11.1963"]) is None  # no year read twice
    assert page_year(["12.11.1969", "19.11.1969", "21.11.1963", "22.11.1963"]) is None  # a tie
    within = regex.compile(date_pattern_in([1969, 1970]))
    assert within.fullmatch("21/11/1969") and within.fullmatch("2-1-70") and not within.fullmatch("21/11/1963")

