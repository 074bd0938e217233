"""People on a registration: a name consistent with ethnicity, age and family, plus their papers and work."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import numpy as np

from .books import BookContext
from .dates import age_on, birth_for_age
from .ids import id_doc
from .names import MALE, sample_name
from .sampling import Weighted, in_years
from .tables import load

VIETNAM = "Việt Nam"


@dataclass(frozen=True)
class Person:
    name: str
    family: str  # the family name the person passes on ("" when the naming pattern has none)
    gender: str
    birth: date
    ethnicity: str
    nationality: str = VIETNAM


def make_person(
    rng: np.random.Generator,
    ctx: BookContext,
    ethnicity: str,
    gender: str,
    birth: date,
    *,
    family: str | None = None,
    mother_family: str | None = None,
    nationality: str = VIETNAM,
) -> Person:
    name = sample_name(rng, ethnicity, gender, birth.year, ctx.zone, family=family, mother_family=mother_family)
    return Person(name.full, name.family, gender, birth, ethnicity, nationality)


def relative(
    rng: np.random.Generator, ctx: BookContext, of: Person, gender: str, age_gap: int, on: date, *, kin: bool
) -> Person:
    """A relative of `of`, `age_gap` years older (negative: younger). A `kin` relative carries the family name
    of `of` (the caller decides which side of the family passes it down)."""
    birth = birth_for_age(rng, on, max(0, age_on(of.birth, on) + age_gap))
    return make_person(rng, ctx, of.ethnicity, gender, birth, family=(of.family or None) if kin else None)


@functools.cache
def _occupations(south: bool, gender: str, year: int, urban: bool) -> Weighted[str]:
    tables = load("vocab")["occupations"]  # keyed by the first year each applies: 1955 (RVN), 1961, 1990, 2006
    first_years = sorted(tables)
    table_year = first_years[0] if south else max(t for t in first_years[1:] if t <= max(year, first_years[1]))
    weights = in_years(tables[table_year]["male" if gender == MALE else "female"], year)
    if urban:  # few farmers in town wards
        farming = load("vocab")["farming"]
        weights = {k: w * 0.15 if k in farming else w for k, w in weights.items()}
    return Weighted(weights)


def occupation(rng: np.random.Generator, ctx: BookContext, gender: str) -> str:
    return _occupations(ctx.era == "south_pre1975", gender, ctx.year, ctx.urban).pick(rng)


def papers(rng: np.random.Generator, ctx: BookContext, person: Person, on: date) -> str | None:
    """The identity paper `person` shows on the registration date, as written; the number's province prefix
    is the book's (most people are registered where their papers were issued)."""
    return id_doc(
        rng,
        ctx.era,
        ctx.year,
        age=age_on(person.birth, on),
        cmnd_prefix=ctx.info.cmnd,
        province_code=ctx.unit.province_code,
        gender=person.gender,
        birth=person.birth,
    )
