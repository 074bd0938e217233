"""Numbers in a register: registration numbers (which rise by one down a book and restart each year), ages,
the book's volume number, the numbers of the papers a registration cites (a death notice's) and the time of
day of a death."""

from __future__ import annotations

import regex

from hotich.page import FieldIssue
from hotich.text import nfc

from .issues import Reading, issue

__all__ = [
    "AGE_CHARACTERS", "AGE_PATTERN", "DOCUMENT_CHARACTERS", "DOCUMENT_PATTERN", "NUMBER_CHARACTERS",
    "NUMBER_PATTERN", "TIME_CHARACTERS", "TIME_PATTERN", "VOLUME_CHARACTERS", "VOLUME_PATTERN", "YOUNGEST_AGE",
    "check_sequence", "read_age", "read_document_number", "read_number", "read_time", "read_volume",
]

NUMBER_PATTERN = r"\d{1,4}(?:/\d{2,4})?"
"""What a registration-number field may hold, for constrained decoding: "37", "037", "37/2005"."""
NUMBER_CHARACTERS = "0123456789/"
AGE_PATTERN = r"\d{1,3}(?: tuổi)?"
AGE_CHARACTERS = "0123456789 tuổi"
YOUNGEST_AGE = {"husband.age": (18, "age_below_marriage_age"), "wife.age": (15, "age_below_marriage_age"),
                "father.age": (13, "age_below_parent_age"), "mother.age": (13, "age_below_parent_age")}
"""The least age a field's person can have, and the issue raised below it: a spouse is at least the lowest
marriage age any era's law allowed (the Republic of Vietnam's 18 and 15; the 1959 law and its successors ask
20 and 18), a parent at least 13. A person read younger was misread, most often a digit dropped ("44" as "4":
on 400 validation pages, three of the seven most confident wrong numbers were mothers' and fathers' ages read
"0" and "2")."""
DOCUMENT_PATTERN = r"\d{1,5}(?:/(?:\d{1,4}|[A-ZĐ]{1,8}(?:-[A-ZĐ0-9]{1,8})*))*"
"""A paper's number as offices write it: digits, then "/"-separated years or capital codes ("37", "12/GBT",
"05/2019/GBT-BV"). A reading that is a word ("Nữ", read from a neighbouring cell) breaks it."""
DOCUMENT_CHARACTERS = "0123456789/-ABCDEFGHIJKLMNOPQRSTUVWXYZĐ"
VOLUME_PATTERN = r"(?:\d{1,3}|[IVX]{1,5})(?:/\d{4})?"
"""A book's volume number (quyển số): "01", "2", "II" (southern books), optionally with the book's year."""
VOLUME_CHARACTERS = "0123456789/IVX"
TIME_PATTERN = r"\d{1,2} giờ(?: \d{1,2} phút)?"
"""What a time-of-day field may hold, for constrained decoding: "14 giờ 30 phút", "5 giờ"."""
TIME_CHARACTERS = "0123456789 giờphút"
_NUMBER = regex.compile(r"(?i)(?:số\s*)?(\d{1,5})(?:\s*/\s*(\d{2,4}))?")
_DOCUMENT = regex.compile(rf"(?i:số\s*:?\s*)?({DOCUMENT_PATTERN})")
_VOLUME = regex.compile(rf"(?i:quyển\s*(?:số)?\s*:?\s*)?({VOLUME_PATTERN})")
_TIME = regex.compile(r"(?i)(?:lúc\s*)?(\d{1,2})\s*(?:giờ|g|h|:)\s*(?:(\d{1,2})\s*(?:phút|p|')?)?")
_AGE = regex.compile(r"(\d{1,3})(?:\s*tuổi)?", regex.IGNORECASE)


def _match(text: str, pattern: regex.Pattern, unreadable: str = "number_unreadable") -> regex.Match | Reading:
    """The number's match, or the reading to return at once: nothing written, or no number (`unreadable`)."""
    text = nfc(text).strip().rstrip(".,;")
    if not text:
        return Reading(None)
    m = pattern.fullmatch(text)
    return m if m is not None else Reading(None, (issue(unreadable, repr(text)),))


def read_number(text: str, *, book_year: int | None = None) -> Reading:
    """A registration number without padding or year ("037/2005" -> "37"); the year, when written, must be
    the book's."""
    m = _match(text, _NUMBER)
    if isinstance(m, Reading):
        return m
    issues = []
    if m[2] and book_year is not None and int(m[2]) not in (book_year, book_year % 100):
        issues.append(issue("number_year_mismatch", f"{m[2]} in a {book_year} book"))
    return Reading(str(int(m[1])), tuple(issues))


_SPACED_SLASH = regex.compile(r"\s*([/-])\s*")


def _without_spaced_slashes(text: str) -> str:
    return _SPACED_SLASH.sub(r"\1", text)


def read_document_number(text: str, *, registered_year: int | None = None) -> Reading:
    """A paper's number as written ("12 / GBT" -> "12/GBT"); a year in it after the registration's is an issue
    (a death notice is issued before the death is registered)."""
    m = _match(_without_spaced_slashes(text), _DOCUMENT, "document_unreadable")
    if isinstance(m, Reading):
        return m
    years = [int(part) for part in m[1].split("/")[1:] if len(part) == 4 and part.isdigit()]
    if registered_year is not None and any(year > registered_year for year in years):
        return Reading(m[1], (issue("document_after_registration", f"{m[1]} in a {registered_year} registration"),))
    return Reading(m[1])


def read_volume(text: str, *, registered_year: int | None = None) -> Reading:
    """A book's volume number as written ("01/2021"); the year written with it must be the registration's."""
    m = _match(_without_spaced_slashes(text), _VOLUME, "volume_unreadable")
    if isinstance(m, Reading):
        return m
    year = m[1].partition("/")[2]
    if year and registered_year is not None and int(year) != registered_year:
        return Reading(m[1], (issue("volume_year_mismatch", f"{year} on a {registered_year} registration"),))
    return Reading(m[1])


def read_time(text: str) -> Reading:
    """A time of day in any habit ("14 giờ 30 phút", "14h30", "14:30", "5 giờ") as "14 giờ 30 phút" or "5 giờ"."""
    m = _match(text, _TIME, "time_unreadable")
    if isinstance(m, Reading):
        return m
    hour, minute = int(m[1]), int(m[2]) if m[2] else None
    value = f"{hour} giờ" if minute is None else f"{hour} giờ {minute:02d} phút"
    if hour > 23 or (minute is not None and minute > 59):
        return Reading(value, (issue("time_impossible", value),))
    return Reading(value)


def read_age(text: str, *, youngest: tuple[int, str] | None = None) -> Reading:
    """An age in years ("45" or "45 tuổi" -> "45"); `youngest`: the least the field's person can be, and the
    issue code raised below it (`YOUNGEST_AGE`)."""
    m = _match(text, _AGE)
    if isinstance(m, Reading):
        return m
    age = int(m[1])
    if age > 120:
        return Reading(str(age), (issue("age_implausible", str(age)),))
    if youngest is not None and age < youngest[0]:
        return Reading(str(age), (issue(youngest[1], f"{age}, at least {youngest[0]}"),))
    return Reading(str(age))


def check_sequence(numbers: list[str | None], previous: int | None = None) -> list[list[FieldIssue]]:
    """Issues of each registration number read down a page (or a book), in order: each should be the one
    before it plus one, or 1 where a new year starts. `previous` is the number before the first (the last of
    the previous page); without it the first number is checked against the one after it instead. Unread
    numbers (None) are skipped and break no chain."""
    read = [int(t) if t is not None and t.isdigit() else None for t in numbers]
    out: list[list[FieldIssue]] = [[] for _ in numbers]
    seen: set[int] = set()
    for k, n in enumerate(read):
        if n is None:
            continue
        if n == 1:
            seen.clear()  # a new year: numbers start again
        if n in seen:
            out[k].append(issue("number_duplicate", str(n)))
        elif previous is not None and n not in (previous + 1, 1):
            out[k].append(issue("number_out_of_sequence", f"{n} after {previous}"))
        elif previous is None:
            after = next((m for m in read[k + 1:] if m is not None), None)
            if after is not None and after not in (n + 1, 1):
                out[k].append(issue("number_out_of_sequence", f"{n} before {after}"))
        seen.add(n)
        previous = n
    return out
