"""Identity papers as registers write them ("CMND số 021663713 cấp ngày 12/3/2005 tại CA Hà Nội"): which kind
of paper it is, and how many digits its number may have.

A handwritten number is read a digit short or long as often as a digit wrong (on 800 validation pages, 796 of
the 1,779 misread papers had a number no paper of their kind has), and a CMND has 9 digits, a CCCD 12: a
number of another length is read again within the lengths its kind allows, and flagged when it stays so. On
those pages that read 319 of the 2,043 papers written right instead of 264.
"""

from __future__ import annotations

import regex

from hotich.inference.decoding import Pattern
from hotich.inference.fields.issues import Reading, issue, read_text
from hotich.text import fold

__all__ = ["ID_PAPER", "NUMBER_DIGITS", "number_grammar", "paper_kind", "read_id_paper"]

ID_PAPER = "id_paper"
"""The template format of a field that writes an identity paper."""

_KINDS: tuple[tuple[regex.Pattern, int], ...] = tuple((regex.compile(pattern), code) for pattern, code in (
    (r"\bcccd\b|can cuoc cong dan", 4),
    (r"chung minh si quan|\bcmsq\b", 6),
    (r"chung minh quan doi|\bcmqd\b", 5),
    (r"chung minh cong an|\bcmca\b", 7),
    (r"\bcmt?nd\b|chung minh", 1),
    (r"ho chieu|passport", 2),
    (r"thuong tru", 3),
))  # fmt: skip
"""Kinds of identity paper as registers write them (folded: no marks, lower case) -> the Ministry's code
(1 CMND, 2 hộ chiếu, 3 thẻ thường trú, 4 CCCD, 5-7 quân đội / sĩ quan / công an). Order matters: "chứng minh
sĩ quan quân đội" is not a plain "chứng minh"."""
NUMBER_DIGITS: dict[int, tuple[int, ...]] = {1: (9, 12), 4: (12,)}
"""Digits in the number of a paper of each kind: the CMND 9 (12 for those issued 2012-2016), the CCCD 12.
Passports and the armed forces' papers vary, and "thẻ căn cước" is the RVN's 7 or 8 digits as well as the CCCD's
new name since 2024: none of them is counted."""
_NUMBER = regex.compile(r"\d{6,}")
"""A paper's number as read: the first run of at least 6 digits (a date's parts are shorter)."""


def paper_kind(text: str) -> int | None:
    """The Ministry's code of the kind of paper `text` names, None when it names none of `_KINDS`."""
    folded = fold(text)
    return next((code for pattern, code in _KINDS if pattern.search(folded)), None)


def _number_of_wrong_length(text: str) -> tuple[regex.Match, tuple[int, ...]] | None:
    """The number in `text`, and the lengths its paper's number may have, when its kind says how many digits it
    has and it has another count."""
    lengths = NUMBER_DIGITS.get(paper_kind(text) or 0)
    number = _NUMBER.search(text)
    return (number, lengths) if lengths and number and len(number[0]) not in lengths else None


def read_id_paper(text: str) -> Reading:
    """The paper as written (`read_text`); `id_number_length` when its number has a length no paper of its kind
    has."""
    value = read_text(text).value
    if value is None or _number_of_wrong_length(value) is None:
        return Reading(value)
    return Reading(value, (issue("id_number_length"),))


def number_grammar(text: str) -> Pattern | None:
    """What a paper read as `text` may be when its number has a length no paper of its kind has: the same text
    with a number of each length the kind allows in its place; None when its number's length is right (or
    cannot be told)."""
    found = _number_of_wrong_length(text)
    if found is None:
        return None
    number, lengths = found
    allowed = "|".join(rf"\d{{{n}}}" for n in lengths)
    before, after = text[: number.start()], text[number.end() :]
    return Pattern(f"{regex.escape(before)}(?:{allowed}){regex.escape(after)}", before + after + "0123456789")
