"""A register (one commune, one book type, one year) and everything a page of it needs to know."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import admin
from .admin import Unit
from .dates import annual_total, year_window
from .names import FEMALE, MALE, sample_name
from .places import (
    Place,
    ProvinceInfo,
    UnitPool,
    allowed_ward_types,
    make_place,
    provinces,
    territory,
    unit_pool,
)
from .sampling import Weighted, chance, choose, randint

BOOK_TYPES = ("khai_sinh", "ket_hon", "khai_tu")


@dataclass(frozen=True)
class Book:
    book_type: str
    era: str
    year: int
    office: Place  # the registering commune
    office_name: str  # as written: "UBND xã An Nhơn", "UBHC xã ..." (North 1961-75), "Xã ..." (RVN)
    volume: str  # quyển số as written: "01", "02/2005"
    officers: tuple[str, ...]  # the registrar(s) keeping the book
    signers: tuple[tuple[str, str], ...]  # (name, title)
    region: str  # north_mountains, red_river_delta, central_coast, central_highlands, southeast, mekong


def _office_name(rng: np.random.Generator, era: str, year: int, commune: str) -> str:
    if era == "south_pre1975":
        return f"{commune[0].upper()}{commune[1:]}" if chance(rng, 0.6) else f"Hộ tịch {commune}"
    if year < 1976:
        return f"UBHC {commune}" if chance(rng, 0.8) else f"Ủy ban Hành chính {commune}"
    return f"UBND {commune}" if chance(rng, 0.8) else f"Ủy ban nhân dân {commune}"


def _volume(rng: np.random.Generator, era: str, year: int) -> str:
    n = Weighted({1: 85, 2: 12, 3: 3}).pick(rng)
    if era == "south_pre1975":
        return Weighted({str(n): 5, f"{n:02d}": 2, "I" * n: 3}).pick(rng)
    with_year = {"nd04cp_1961": 0.1, "nd83_1998": 0.3, "nd158_2005": 0.45, "tt04_2020": 0.8}[era]
    text = f"{n:02d}" if chance(rng, 0.8) else str(n)
    return f"{text}/{year}" if chance(rng, with_year) else text


def _signer_titles(era: str, year: int, ward_type: str) -> tuple[str, str]:
    unit = ward_type.lower()
    if era == "south_pre1975":
        return "Xã trưởng", "Ủy viên Hộ tịch"
    body = "UBHC" if year < 1976 else "UBND"
    return f"Chủ tịch {body} {unit}", f"Phó Chủ tịch {body} {unit}"


def _official_name(rng: np.random.Generator, info: ProvinceInfo, gender: str, year: int, age: tuple[int, int]) -> str:
    birth_year = year - randint(rng, *age)
    return sample_name(rng, info.ethnic.pick(rng), gender, birth_year, info.zone).full


def sample_book(book_type: str, era: str, year: int, rng: np.random.Generator) -> Book:
    """A register of a real commune of the era's territory, picked with population weights."""
    if book_type not in BOOK_TYPES:
        raise ValueError(f"unknown book type {book_type!r}; known: {', '.join(BOOK_TYPES)}")
    year_window(era, year)  # raises when the year is outside the era
    pool = unit_pool(territory(era, year), allowed_ward_types(era, year))
    unit = pool.any_unit(rng)
    info = provinces()[unit.province_key]
    office = make_place(unit, year, era)
    # registrars were mostly men in old books; today most are women
    male_officer = 0.9 if era == "south_pre1975" else 0.75 if year < 1976 else 0.55 if year < 2000 else 0.4
    officers = tuple(
        _official_name(rng, info, MALE if chance(rng, male_officer) else FEMALE, year, (24, 50))
        for _ in range(1 if chance(rng, 0.7) else 2)
    )
    chair_title, vice_title = _signer_titles(era, year, unit.ward_type)
    chair = _official_name(rng, info, MALE if chance(rng, 0.97 if year < 1976 else 0.9) else FEMALE, year, (35, 58))
    # RVN books were signed by the village's civil-status member, who is also the officer keeping the book
    vice = (
        officers[0]
        if era == "south_pre1975"
        else _official_name(rng, info, MALE if chance(rng, 0.75) else FEMALE, year, (30, 55))
    )
    return Book(
        book_type=book_type,
        era=era,
        year=year,
        office=office,
        office_name=_office_name(rng, era, year, office.commune or ""),
        volume=_volume(rng, era, year),
        officers=officers,
        signers=((chair, chair_title), (vice, vice_title)),
        region=info.region,
    )


# ---- per-book context shared by the registration samplers -----------------------------------------------


@dataclass(frozen=True)
class BookContext:
    book: Book
    unit: Unit  # the office's commune
    info: ProvinceInfo
    pool: UnitPool  # communes a page of this era/year may name
    total: int  # expected registrations in the year (maps numbers to dates)

    @property
    def era(self) -> str:
        return self.book.era

    @property
    def year(self) -> int:
        return self.book.year

    @property
    def zone(self) -> str:
        return self.info.zone

    @property
    def urban(self) -> bool:
        return self.unit.ward_type == "Phường"

    def place(self, unit: Unit, facility: str | None = None) -> Place:
        return make_place(unit, self.book.year, self.book.era, facility)

    def unit_near(self, rng: np.random.Generator, local: float = 0.88) -> Unit:
        """Where a person involved lives or comes from: mostly the office's commune, else nearby or farther."""
        if chance(rng, local):
            return self.unit
        r = rng.random()
        if r < 0.6:
            return choose(rng, self.pool.by_district.get((self.unit.province_key, self.unit.district), (self.unit,)))
        if r < 0.85:
            return choose(rng, self.pool.by_province[self.unit.province_key])
        return self.pool.any_unit(rng)


@functools.cache
def _units_by_commune() -> dict[str, tuple[Unit, ...]]:
    groups: dict[str, list[Unit]] = {}
    for u in admin.units():
        groups.setdefault(f"{u.ward_type.lower()} {u.ward}", []).append(u)
    return {k: tuple(v) for k, v in groups.items()}


@functools.lru_cache(maxsize=256)
def context(book: Book) -> BookContext:
    """Recover the book's commune from its office Place (works for any Book made by sample_book)."""
    for unit in _units_by_commune().get(book.office.commune or "", ()):
        p = make_place(unit, book.year, book.era)
        if (p.district, p.province, p.current) == (book.office.district, book.office.province, book.office.current):
            return BookContext(
                book=book,
                unit=unit,
                info=provinces()[unit.province_key],
                pool=unit_pool(territory(book.era, book.year), allowed_ward_types(book.era, book.year)),
                total=annual_total(book.book_type, book.year, book.office_name),
            )
    raise ValueError(f"the book's office is not a known commune of {book.era}/{book.year}: {book.office}")


def expected_registrations(book: Book) -> int:
    """How many registrations the book holds by year end: what page numbers and numbering can reach."""
    return annual_total(book.book_type, book.year, book.office_name)
