"""One writer's habits: how a given clerk writes dates, numbers, places and names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dates import ERAS
from .sampling import Weighted, chance


@dataclass(frozen=True)
class WritingHabits:
    date_sep: str  # "/", "-" or "." between day, month and year
    date_pad: bool  # "05/03/1972" rather than "5/3/1972"
    short_year: bool  # "5/3/72": older books, rare
    words_case: str  # date in words: "title" (Ngày Hai Mươi...), "sentence" (Ngày hai mươi...), "lower"
    linh: str  # "linh" or "lẻ" (2008: ...không trăm linh/lẻ tám)
    thousand: str  # "nghìn" or "ngàn" (the South says ngàn)
    four_tu: bool  # 24 = "hai mươi tư" rather than "hai mươi bốn"
    one_mot: bool  # 21 = "hai mươi mốt" rather than "hai mươi một"
    mong: str | None  # "mồng"/"mùng" before days 1-10, or nothing
    age_suffix: bool  # "45 tuổi" rather than "45"
    place_abbrev: bool  # "X. An Nhơn, H. Đạ Tẻh, T. Lâm Đồng" (forbidden by the rules, seen anyway)
    place_drop_province: bool  # stop after the district when writing a place
    place_unit_title: bool  # "Xã An Nhơn" rather than "xã An Nhơn"
    number_style: str  # registration number: "plain" (37), "zero3" (037), "with_year" (37/2005)
    name_hyphens: bool  # "Nguyễn-Văn-Ba": RVN-era habit
    lower_middle: bool  # "Trần thị Lan": middle Văn/Thị in lower case


def _w(d: dict[object, float]) -> Weighted:
    return Weighted(d)


_OLD = ("south_pre1975", "nd04cp_1961")


def sample_habits(era: str, rng: np.random.Generator) -> WritingHabits:
    """The habits of one clerk writing in a book of `era`."""
    if era not in ERAS:
        raise ValueError(f"unknown era {era!r}")
    south = era == "south_pre1975"
    old = era in _OLD
    sep = {
        "south_pre1975": {"-": 45, "/": 45, ".": 10},
        "nd04cp_1961": {"/": 50, "-": 35, ".": 15},
        "tt04_2020": {"/": 90, ".": 5, "-": 5},
    }.get(era, {"/": 80, "-": 10, ".": 10})
    return WritingHabits(
        date_sep=_w(sep).pick(rng),
        date_pad=chance(rng, {"nd83_1998": 0.6, "nd158_2005": 0.7, "tt04_2020": 0.9}.get(era, 0.4)),
        short_year=chance(rng, 0.08 if old else 0.02 if era != "tt04_2020" else 0.0),
        words_case=_w({"title": 25, "sentence": 50, "lower": 25}).pick(rng),
        linh="lẻ" if chance(rng, 0.7 if south else 0.25) else "linh",
        thousand="ngàn" if chance(rng, 0.95 if south else 0.3) else "nghìn",
        four_tu=chance(rng, 0.7),
        one_mot=chance(rng, 0.9),
        mong=_w({"": 60, "mồng": 25, "mùng": 15}).pick(rng) or None,
        age_suffix=chance(rng, 0.3),
        place_abbrev=chance(rng, 0.04),
        place_drop_province=chance(rng, 0.15),
        place_unit_title=chance(rng, 0.5 if south else 0.25),
        number_style=_w({"plain": 70, "zero3": 20, "with_year": 10 if old else 25}).pick(rng),
        name_hyphens=south and chance(rng, 0.35),
        lower_middle=chance(rng, {"south_pre1975": 0.3, "nd04cp_1961": 0.1}.get(era, 0.02)),
    )
