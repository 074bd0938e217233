"""Dates as clerks write them: digits in any habit (05/03/1972, 5-3-72, 05.03.1972), a month and year, a
year alone, or the whole date in words; each normalised as the Ministry imports it (dd.mm.yyyy, mm.yyyy,
yyyy)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

import regex

from hotich.numwords import parse_date_words
from hotich.text import nfc

from .issues import Reading, issue

__all__ = [
    "DATE_CHARACTERS", "DATE_PATTERN", "DATE_WORDS_CHARACTERS", "DATE_WORDS_PATTERN", "YEAR_PATTERN", "as_date",
    "date_pattern_in", "day_number", "page_year", "read_date", "read_date_words", "read_year",
]

_SEP = r"\s*[./-]\s*"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR4 = r"(?:1[89]\d\d|20\d\d)"
DATE_PATTERN = rf"{_DAY}[./-]{_MONTH}[./-](?:{_YEAR4}|\d{{2}})|{_MONTH}[./-]{_YEAR4}|{_YEAR4}"
"""What a date field may hold, for constrained decoding: a full date, a month and year, or a year, with days
1-31, months 1-12 and years 1800-2099, so that a misread "21/15/2023" is searched again among dates."""
DATE_CHARACTERS = "0123456789./-"
"""Every character DATE_PATTERN (and YEAR_PATTERN) can match."""
# A date in words, any case, in the variants writers use: "mồng"/"mùng" before small days, "nghìn"/"ngàn",
# "linh"/"lẻ", "tư"/"bốn", "mốt"/"một", "lăm"/"năm"/"nhăm" after the tens, "giêng" and "chạp" for months 1 and 12.
_W_UNIT = "một|hai|ba|bốn|năm|sáu|bảy|tám|chín"
_W_AFTER_MUOI = f"mốt|tư|lăm|nhăm|{_W_UNIT}"  # after "hai mươi" ... "chín mươi"
_W_AFTER_MUOI1 = f"lăm|nhăm|{_W_UNIT}"  # after "mười"
_W_TENS = f"mười(?: (?:{_W_AFTER_MUOI1}))?|(?:hai|ba|bốn|năm|sáu|bảy|tám|chín) mươi(?: (?:{_W_AFTER_MUOI}))?"
_W_DAY = (f"(?:(?:mồng|mùng) )?(?:mười(?: (?:{_W_AFTER_MUOI1}))?|hai mươi(?: (?:{_W_AFTER_MUOI}))?"
          f"|ba mươi(?: (?:mốt|một))?|{_W_UNIT})")
_W_MONTH = "giêng|chạp|mười(?: một| hai)?|tư|" + _W_UNIT
_W_BELOW_HUNDRED = f"(?:linh|lẻ) (?:{_W_UNIT})|{_W_TENS}"
_W_YEAR = (f"một (?:nghìn|ngàn) (?:tám|chín) trăm(?: (?:{_W_BELOW_HUNDRED}))?"
           f"|hai (?:nghìn|ngàn)(?: không trăm(?: (?:{_W_BELOW_HUNDRED}))?)?")
DATE_WORDS_PATTERN = rf"(?i)ngày (?:{_W_DAY}),? tháng (?:{_W_MONTH}),? năm (?:{_W_YEAR})\.?"
"""What a date in words may hold, for constrained decoding: days 1-31, months 1-12 and years 1800-2099 in
words ("Ngày Mồng Bảy Tháng Chín Năm Một Ngàn Chín Trăm Năm Mươi Lăm")."""
_W_LETTERS = {c for c in DATE_WORDS_PATTERN if c.isalpha()}
DATE_WORDS_CHARACTERS = "".join(sorted(_W_LETTERS | {c.upper() for c in _W_LETTERS} | {" ", ",", "."}))
"""Every character DATE_WORDS_PATTERN can match."""
YEAR_PATTERN = r"\d{4}|\d{2}"
_FULL = regex.compile(rf"(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})")
_MONTH_YEAR = regex.compile(rf"(\d{{1,2}}){_SEP}(\d{{4}})")
_YEAR = regex.compile(r"(\d{4}|\d{2})")
_EARLIEST_YEAR = 1850
"""The oldest plausible year in a register (a grandparent's birth in a 1950s book)."""


_DATE_WORD = regex.compile(r"(?i)^(ngày|năm)\s+")


def _clean(text: str) -> str:
    # Clerks end a date with a full stop or write "ngày" before it; neither is part of the value.
    text = nfc(text).strip().rstrip(".,;")
    return _DATE_WORD.sub("", text).strip()


def _year(digits: str, latest: date | None, plausible: bool = True) -> tuple[int, list]:
    """The year and its issues; a two-digit year takes the latest century that keeps it before `latest`.
    With `plausible`, a year past `latest` or before 1850 is flagged."""
    issues = []
    if len(digits) == 2:
        yy, ceiling = int(digits), (latest.year if latest else 1999)
        year = ceiling - (ceiling - yy) % 100
        issues.append(issue("date_two_digit_year", f"{digits} read as {year}"))
    else:
        year = int(digits)
    if plausible and (year < _EARLIEST_YEAR or (latest is not None and year > latest.year)):
        issues.append(issue("date_implausible_year", str(year)))
    return year, issues


def read_date(text: str, *, latest: date | None = None, within: tuple[date, date] | None = None) -> Reading:
    """A date in digits as dd.mm.yyyy (or mm.yyyy, or yyyy when only those are written).

    `latest` is the last day the date can be (the book's last day: a birth cannot follow its registration
    book); `within` is the span a registration date must fall in (the template's years of use).
    """
    text = _clean(text)
    if not text:
        return Reading(None)
    latest = within[1] if within is not None and latest is None else latest
    if m := _FULL.fullmatch(text):
        day, month = int(m[1]), int(m[2])
        year, issues = _year(m[3], latest, plausible=within is None)  # else the era check says it
        value = f"{day:02d}.{month:02d}.{year:04d}"
        try:
            when = date(year, month, day)
        except ValueError:
            return Reading(value, (*issues, issue("date_impossible", value)))
        if within is not None and not within[0] <= when <= within[1]:
            issues.append(issue("date_outside_era", f"{value} not in {within[0]:%d.%m.%Y}-{within[1]:%d.%m.%Y}"))
        return Reading(value, tuple(issues))
    if m := _MONTH_YEAR.fullmatch(text):
        month = int(m[1])
        year, issues = _year(m[2], latest)
        value = f"{month:02d}.{year:04d}"
        if not 1 <= month <= 12:
            issues.append(issue("date_impossible", value))
        return Reading(value, tuple(issues))
    if _YEAR.fullmatch(text) and len(text) == 4:
        year, issues = _year(text, latest)
        return Reading(f"{year:04d}", tuple(issues))
    return Reading(None, (issue("date_unreadable", repr(text)),))


def read_year(text: str, *, latest: date | None = None) -> Reading:
    """A year (yyyy); a two-digit year takes its century from `latest`."""
    text = _clean(text)
    if not text:
        return Reading(None)
    if not _YEAR.fullmatch(text):
        return Reading(None, (issue("date_unreadable", repr(text)),))
    year, issues = _year(text, latest)
    return Reading(f"{year:04d}", tuple(issues))


def read_date_words(text: str) -> Reading:
    """A date written in words ("Ngày hai mươi bảy tháng tám năm hai nghìn không trăm linh tám") as dd.mm.yyyy."""
    text = nfc(text).strip().rstrip(".")
    if not text:
        return Reading(None)
    when = parse_date_words(text)
    if when is None:
        return Reading(None, (issue("date_words_unreadable", repr(text)),))
    return Reading(when.strftime("%d.%m.%Y"))


def page_year(values: Sequence[str | None]) -> int | None:
    """The year most of a page's registration dates (normalised values, in any order) were read in: a page
    of a register covers weeks, rarely more. None unless one year is read at least twice and more often than
    any other."""
    counts = Counter(v[-4:] for v in values if v is not None and v[-4:].isdigit())
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < 2 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return int(ranked[0][0])


def as_date(value: str | None) -> date | None:
    """A normalised whole date (dd.mm.yyyy) as a date; None for a partial, impossible or missing one."""
    if value is None or len(value) != 10:
        return None
    try:
        return date(int(value[6:]), int(value[3:5]), int(value[:2]))
    except ValueError:
        return None


def day_number(value: str | None) -> int | None:
    """`as_date` as a day number (`date.toordinal`), for ordering dates."""
    when = as_date(value)
    return when.toordinal() if when is not None else None


def date_pattern_in(years: Sequence[int]) -> str:
    """DATE_PATTERN's full dates, with the year (four or two digits) one of `years`."""
    written = "|".join(sorted({f"{y:04d}" for y in years} | {f"{y % 100:02d}" for y in years}, key=len, reverse=True))
    return rf"{_DAY}[./-]{_MONTH}[./-](?:{written})"
