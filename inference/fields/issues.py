"""The issue codes field reading can raise, and what each one means to the clerk who reviews it."""

from __future__ import annotations

from dataclasses import dataclass

from hotich.page import FieldIssue
from hotich.text import nfc

__all__ = ["ISSUES", "FieldIssue", "Reading", "issue", "read_text"]

ISSUES: dict[str, str] = {
    "empty": "nothing was read in a field the book requires",
    "date_unreadable": "the text is not a date in digits (dd/mm/yyyy, mm/yyyy or yyyy)",
    "date_impossible": "no such day (31.02, month 13)",
    "date_two_digit_year": "the year is written with two digits; the century was taken from the book's era",
    "date_implausible_year": "a year after the book's era or before 1850 (a slip such as 5005 for 2005)",
    "date_outside_era": "a registration date outside the years the book's template was in use",
    "date_era_year": "read within the years the book's template was in use; the frames alone read a year outside them",
    "date_page_year": "read within the year the page's other registration dates were read in (a page covers weeks)",
    "date_not_page_year": "a registration date in another year than the page's other registration dates",
    "date_words_unreadable": "the text is not a date written in words",
    "enum_corrected": "the text is not on the field's list; the nearest entry was taken",
    "enum_unknown": "the text is not on the field's list and no entry is near it",
    "name_not_vietnamese": "a word of the name is not a Vietnamese syllable (a misreading, or a minority name)",
    "number_unreadable": "the text is not a number",
    "number_year_mismatch": "the year written with the registration number is not the book's year",
    "number_out_of_sequence": "the registration number does not follow the one before it",
    "number_duplicate": "the same registration number appears twice",
    "document_unreadable": "the text is not a paper's number (digits, then /year or /CODE parts)",
    "document_after_registration": "the paper's number carries a year after the registration",
    "volume_unreadable": "the text is not a volume number (01, 2, II, optionally /year)",
    "volume_year_mismatch": "the year written with the volume number is not the registration's year",
    "time_unreadable": "the text is not a time of day (14 giờ 30 phút, 14 giờ, 14h30)",
    "time_impossible": "no such time of day (an hour over 23 or a minute over 59)",
    "id_number_length": "the identity paper's number has more or fewer digits than a paper of its kind has (CMND 9 "
                        "or 12, CCCD 12): a digit lost or read twice",
    "age_implausible": "an age outside 0-120",
    "age_below_marriage_age": "a spouse younger than any era's law allowed to marry",
    "age_below_parent_age": "a parent younger than 13 (most often a digit dropped)",
    "place_abbreviated": "unit words were abbreviated (X., H., TP.) and have been written out",
    "place_matched": "the place was taken as the administrative unit nearest the reading (the detail)",
    "place_province_year": "the province added (not written) was renamed within a year of the registration",
    "place_numbered": "a ward or district named by a number: every number is a unit, so a misread digit is not caught",
    "place_not_found": "no administrative unit of that name was found, or the place names none (a misreading, or a "
                       "name older than the lists)",
    "place_malformed": "the place is not a commune, district and province in that order (a unit word alone, twice, "
                       "out of order or abbreviated inside a part): a misread unit word or a comma lost",
    "place_ambiguous": "the old province name spans several of today's provinces and the place does not say which",
    "fields_disagree": "two fields that record the same fact (a date in digits and in words) differ",
    "date_after_registration": "an event dated after the day it was registered",
}
"""Code -> meaning; every FieldIssue's code is one of these."""


@dataclass(frozen=True)
class Reading:
    """A field's normalised value (None when empty or unreadable) and what is wrong with it."""

    value: str | None
    issues: tuple[FieldIssue, ...] = ()
    unit: str | None = None
    """For places: the administrative unit today (`places.current_unit`)."""
    agrees_with: tuple[str, ...] = ()
    """Keys of the record's other fields that record the same fact and were read to the same value."""


def issue(code: str, detail: str = "") -> FieldIssue:
    """The issue `code` (one of ISSUES), its message followed by `detail` when given."""
    if code not in ISSUES:
        raise KeyError(f"unknown issue code {code!r}")
    return FieldIssue(code=code, message=f"{ISSUES[code]}: {detail}" if detail else ISSUES[code])


def read_text(text: str) -> Reading:
    """A free-text value as written: NFC, spaces tidied; no issue."""
    # A comma or colon after the last word separates it from nothing: writers trail them, values do not.
    text = " ".join(nfc(text).split()).rstrip(",;:").rstrip()
    return Reading(text or None)
