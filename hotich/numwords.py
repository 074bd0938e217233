"""Vietnamese numbers and dates in words ("ghi bằng chữ"), both ways.

Registers write a birth date in digits and again in words; `date_to_words` gives the canonical wording
and `parse_date_words` reads any of the regional/personal variants back, so a validator can check that the
two renderings agree.

Canonical choices: "linh" (not "lẻ"), "nghìn" (not "ngàn"), "mốt" for a final 1 after "mươi", "tư" for a
final 4 after "mươi", "lăm" for a final 5 after "mười"/"mươi", month 4 = "tư", no "mồng" before days 1-10.
"""

from __future__ import annotations

import unicodedata
from datetime import date

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ")


def _group_words(n: int, has_higher: bool, linh: str, four_tu: bool, one_mot: bool) -> list[str]:
    """Words for 0 <= n < 1000; `has_higher` forces "không trăm"/"linh" as inside 2008 (…không trăm linh tám)."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or has_higher:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if hundreds or has_higher:
                words.append(linh)
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units == 1:
            words.append("mốt" if one_mot else "một")
        elif units == 4:
            words.append("tư" if four_tu else "bốn")
        elif units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGITS[units])
    return words


def number_to_words(
    n: int, *, linh: str = "linh", thousand: str = "nghìn", four_tu: bool = True, one_mot: bool = True
) -> str:
    """`n` (0 <= n < 10**12) in Vietnamese words, lower case: 2008 -> "hai nghìn không trăm linh tám"."""
    if not 0 <= n < 10**12:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return DIGITS[0]
    groups: list[int] = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            continue
        words += _group_words(g, bool(words), linh, four_tu, one_mot)
        if i:
            words.append(thousand if i == 1 else _SCALES[i])
    return " ".join(words)


def date_to_words(
    d: date,
    *,
    linh: str = "linh",
    thousand: str = "nghìn",
    four_tu: bool = True,
    one_mot: bool = True,
    mong: str | None = None,
) -> str:
    """A date in words, lower case: 27.08.2008 -> "ngày hai mươi bảy tháng tám năm hai nghìn không trăm linh tám".

    `mong` ("mồng"/"mùng") is put before days 1-10, as many writers do.
    """
    opts = {"linh": linh, "thousand": thousand, "four_tu": four_tu, "one_mot": one_mot}
    day = number_to_words(d.day, **opts)
    if mong and d.day <= 10:
        day = f"{mong} {day}"
    month = "tư" if d.month == 4 else number_to_words(d.month, **opts)
    return f"ngày {day} tháng {month} năm {number_to_words(d.year, **opts)}"


_UNIT_VALUES = {w: i for i, w in enumerate(DIGITS)} | {"mốt": 1, "tư": 4, "lăm": 5, "nhăm": 5, "lẻ": 0, "linh": 0}
_MULTIPLIERS = {"nghìn": 1000, "ngàn": 1000, "triệu": 10**6, "tỷ": 10**9, "tỉ": 10**9}


def words_to_number(text: str) -> int:
    """Inverse of `number_to_words`, tolerant of the usual variants (lẻ/linh, ngàn/nghìn, bốn/tư, một/mốt)."""
    total = group = last = 0
    tokens = _tokens(text)
    if not tokens:
        raise ValueError("no number words")
    for t in tokens:
        if t in ("linh", "lẻ"):
            continue
        if t in _UNIT_VALUES:
            last = _UNIT_VALUES[t]
        elif t == "mười":
            group += 10
            last = 0
        elif t == "mươi":
            group += last * 10
            last = 0
        elif t == "trăm":
            group += last * 100
            last = 0
        elif t in _MULTIPLIERS:
            total += (group + last) * _MULTIPLIERS[t]
            group = last = 0
        else:
            raise ValueError(f"not a number word: {t!r}")
    return total + group + last


_NAMED_MONTHS = {"giêng": 1, "chạp": 12}
"""The lunar calendar's names of months 1 and 12, written for the solar months too."""


def parse_date_words(text: str) -> date | None:
    """Read "Ngày Hai Mươi Bảy Tháng Tám Năm Hai Nghìn Không Trăm Linh Tám" (any case/variant) back to a date.

    Returns None when the text is not a well-formed date in words or names an impossible date.
    """
    tokens = _tokens(text)
    try:
        if tokens[0] != "ngày":
            return None
        i_month = tokens.index("tháng")
        day_tokens = [t for t in tokens[1:i_month] if t not in ("mồng", "mùng")]
        # the month is one word, or "mười"+word; the next "năm" is then the year marker (month 5 is "năm" too)
        j = i_month + 1
        month_tokens = [tokens[j]]
        if tokens[j] == "mười" and tokens[j + 1] in ("một", "hai"):
            month_tokens.append(tokens[j + 1])
        j += len(month_tokens)
        if tokens[j] != "năm":
            return None
        month = _NAMED_MONTHS.get(month_tokens[0]) or words_to_number(" ".join(month_tokens))
        return date(words_to_number(" ".join(tokens[j + 1 :])), month, words_to_number(" ".join(day_tokens)))
    except (ValueError, IndexError):
        return None


def _tokens(text: str) -> list[str]:
    return unicodedata.normalize("NFC", text).lower().replace(",", " ").split()
