"""What a writer puts in a cell (format_value) and the ground-truth form of the same value (normalise_value).

Formats (`fmt`, chosen by the page template):
  plain       str(value); a date as digits, a Place as its full text
  upper       a name in capitals (tt04_2020 books)          title  a name as is
  date        digits in the writer's habit: 05/03/1972, 5-3-1972, 05.03.1972
  date_words  the date in words: "Ngày hai mươi bảy tháng tám năm hai nghìn không trăm linh tám"
  year        yyyy                                          age    "45" or "45 tuổi"
  place       facility, commune, district, province         place_short  commune and district
  number      the registration number: "37", "037", "37/2005" (the year needs value=(37, 2005))
  time        as given ("14 giờ 30 phút")
  document    a paper's number as given ("12/GBT")          volume a book's volume number as given ("01/2021")
  id_paper    an identity paper as given ("CMND số 021663713")
Ground truth: dates "dd.mm.yyyy", years "yyyy", ages "45", names as written in that fmt (capitals for
`upper`), places the full text without abbreviations, numbers and ints as str.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import numpy as np

from hotich.numwords import date_to_words
from hotich.provinces import split_unit_word

from .habits import WritingHabits
from .places import Place
from .sampling import chance

FORMATS = ("plain", "upper", "title", "date", "date_words", "year", "age", "place", "place_short", "number", "time",
           "document", "volume", "id_paper")

_ABBREV = {"thành phố": "TP.", "thị trấn": "TT.", "thị xã": "TX.", "phường": "P.", "huyện": "H.", "quận": "Q.",
           "tỉnh": "T.", "xã": "X."}  # fmt: skip
_LAPSE = 0.03  # how often a writer slips out of a habit (padding, province) on one cell


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def _date_digits(d: date, habits: WritingHabits, rng: np.random.Generator) -> str:
    pad = habits.date_pad != chance(rng, _LAPSE)
    day, month = (f"{d.day:02d}", f"{d.month:02d}") if pad else (str(d.day), str(d.month))
    year = f"{d.year % 100:02d}" if habits.short_year else str(d.year)
    return habits.date_sep.join((day, month, year))


def _date_words(d: date, habits: WritingHabits) -> str:
    text = date_to_words(
        d, linh=habits.linh, thousand=habits.thousand, four_tu=habits.four_tu, one_mot=habits.one_mot, mong=habits.mong
    )
    if habits.words_case == "title":
        return " ".join(w[0].upper() + w[1:] for w in text.split())
    if habits.words_case == "sentence":
        return text[0].upper() + text[1:]
    return text


def _admin_part(part: str, habits: WritingHabits) -> str:
    word, base = split_unit_word(part)
    if not word:
        return part
    if habits.place_abbrev:
        return f"{_ABBREV.get(word, word)} {base}"
    if habits.place_unit_title:
        return f"{word[0].upper()}{word[1:]} {base}"
    return part


def _place(p: Place, habits: WritingHabits, rng: np.random.Generator, short: bool) -> str:
    admin = [p.commune, p.district] if short else [p.commune, p.district, p.province]
    admin = [a for a in admin if a]
    if not short and len(admin) > 1 and habits.place_drop_province != chance(rng, _LAPSE):
        admin = admin[:-1]
    parts = [_admin_part(a, habits) for a in admin] or [p.province]
    if p.facility and not short:
        parts.insert(0, p.facility)
    return ", ".join(parts)


def _name(name: str, habits: WritingHabits, upper: bool) -> str:
    words = name.split()
    if habits.lower_middle and not upper:
        words = [w.lower() if 0 < i < len(words) - 1 and w in ("Văn", "Thị") else w for i, w in enumerate(words)]
    text = ("-" if habits.name_hyphens else " ").join(words)
    return text.upper() if upper else text


def format_value(value: object, fmt: str, habits: WritingHabits, rng: np.random.Generator) -> str:
    """The text a writer with `habits` puts in a cell of format `fmt`; "" for None."""
    if value is None:
        return ""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt in ("upper", "title"):
        return _nfc(_name(str(value), habits, upper=fmt == "upper"))
    if fmt == "date" or (fmt == "plain" and isinstance(value, date)):
        return _date_digits(_as_date(value), habits, rng)
    if fmt == "date_words":
        return _nfc(_date_words(_as_date(value), habits))
    if fmt == "year":
        return str(value.year if isinstance(value, date) else value)
    if fmt == "age":
        return f"{value} tuổi" if habits.age_suffix else str(value)
    if fmt in ("place", "place_short") and isinstance(value, Place):
        return _nfc(_place(value, habits, rng, short=fmt == "place_short"))
    if fmt == "number":
        number, year = value if isinstance(value, tuple) else (value, None)
        text = f"{number:03d}" if habits.number_style == "zero3" else str(number)
        return f"{text}/{year}" if habits.number_style == "with_year" and year else text
    if isinstance(value, Place):
        return _nfc(value.text())
    return _nfc(str(value))


def normalise_value(value: object, fmt: str) -> str | None:
    """The canonical ground-truth text of `value` in a cell of format `fmt`; None for None."""
    if value is None:
        return None
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if isinstance(value, date) and fmt != "year":
        return _as_date(value).strftime("%d.%m.%Y")
    if fmt == "year":
        return str(value.year if isinstance(value, date) else value)
    if isinstance(value, Place):
        return _nfc(value.text(short=fmt == "place_short"))
    if fmt == "number" and isinstance(value, tuple):
        return str(value[0])
    if fmt == "upper":
        return _nfc(str(value).upper())
    return _nfc(str(value))
