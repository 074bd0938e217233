"""Calendar rules: legal-era windows, registration deadlines, ages, and dates down a page of the book."""

from __future__ import annotations

import math
import zlib
from datetime import date, timedelta

import numpy as np

from .sampling import randint

ERAS: dict[str, tuple[date, date]] = {
    # first and last day a book of the era can carry (README §3); tt04 books run to the end of 2025
    "south_pre1975": (date(1955, 1, 1), date(1975, 4, 30)),
    "nd04cp_1961": (date(1961, 4, 1), date(1998, 12, 31)),
    "nd83_1998": (date(1999, 1, 1), date(2006, 3, 31)),
    "nd158_2005": (date(2006, 4, 1), date(2015, 12, 31)),
    "tt04_2020": (date(2020, 7, 1), date(2025, 12, 31)),
}

# Days allowed to register a birth "đúng hạn": 30 under the 1961 decree and in the RVN civil code, 60 from
# NĐ 83/1998 on. Deaths: 15 days throughout.
BIRTH_DEADLINE = {"south_pre1975": 30, "nd04cp_1961": 30, "nd83_1998": 60, "nd158_2005": 60, "tt04_2020": 60}
DEATH_DEADLINE = 15


def year_window(era: str, year: int) -> tuple[date, date]:
    """The days of `year` a book of `era` can carry; ValueError when the year is outside the era."""
    if era not in ERAS:
        raise ValueError(f"unknown era {era!r}; known: {', '.join(ERAS)}")
    start, end = ERAS[era]
    first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
    if first > last:
        raise ValueError(f"year {year} is outside era {era} ({start.year}-{end.year})")
    return first, last


def shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a non-leap year
        return d.replace(year=d.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    """Age in whole years on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def birth_for_age(rng: np.random.Generator, on: date, age: int) -> date:
    """A birth date that makes the person exactly `age` on `on`."""
    latest = shift_years(on, -age)
    earliest = shift_years(on, -(age + 1)) + timedelta(days=1)
    return earliest + timedelta(days=randint(rng, 0, (latest - earliest).days))


def annual_total(book_type: str, year: int, office_name: str) -> int:
    """How many registrations this commune's book of that year holds, stable per book.

    Used only to map registration numbers to dates; crc32 (not hash()) so that it is the same in every process.
    """
    base = {
        "khai_sinh": 150 if year < 1976 else 120 if year < 1990 else 90 if year < 2000 else 70,
        "khai_tu": 35 if year < 1990 else 45,
        "ket_hon": 45 if year < 2000 else 40,
    }[book_type]
    u = zlib.crc32(f"{book_type}|{year}|{office_name}".encode()) / 2**32
    return max(12, round(base * (0.5 + 1.5 * u)))


def registration_dates(
    rng: np.random.Generator, era: str, year: int, first_number: int, count: int, total: int
) -> list[date]:
    """Dates of registrations numbered first_number.. as they follow each other in the book.

    Number n sits near fraction n/total of the year; past 80 % of the expected total the fraction
    approaches the year's end smoothly, so long books never run out of year. No registrations on Sundays.
    """
    first, last = year_window(era, year)
    span = (last - first).days + 1
    out = []
    for i in range(count):
        n = first_number - 1 + i + rng.random()
        x = n / total
        frac = x if x <= 0.8 else 0.8 + 0.2 * (1 - math.exp(-(x - 0.8) / 0.2))
        d = first + timedelta(days=min(span - 1, int(frac * span)))
        if d.weekday() == 6:
            d = d + timedelta(days=1) if d < last else d - timedelta(days=1)
        out.append(d)
    return sorted(out)
