"""Death registrations (sổ đăng ký khai tử)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np

from .books import BookContext
from .dates import DEATH_DEADLINE, age_on, birth_for_age
from .ethnicity import spouse_ethnicity
from .names import FEMALE, MALE, is_matrilineal
from .people import Person, make_person, papers, relative
from .places import Place, facility_place
from .registration_types import LATE, ON_TIME, sample_type
from .sampling import Weighted, chance, clipped_normal, in_years, randint
from .tables import load

KEYS = (
    "deceased.name", "deceased.gender", "deceased.birth_date", "deceased.age", "deceased.ethnicity",
    "deceased.nationality", "deceased.residence", "deceased.id_doc",
    "death.time", "death.date", "death.place", "death.cause",
    "death_notice.number", "death_notice.issuer", "death_notice.date",
    "declarant.name", "declarant.relation", "declarant.id_doc",
)  # fmt: skip

# Age bands at death (infant < 1, child 1-15, adult 16-59, old 60+): mortality moved to old age over the decades.
_AGE_BANDS = {
    era: Weighted(bands)
    for era, bands in {
        "south_pre1975": {"infant": 10, "child": 6, "adult": 27, "old": 57},
        "nd04cp_1961": {"infant": 7, "child": 5, "adult": 24, "old": 64},
        "nd83_1998": {"infant": 3, "child": 2.5, "adult": 20, "old": 74.5},
        "nd158_2005": {"infant": 2, "child": 2, "adult": 18, "old": 78},
        "tt04_2020": {"infant": 1.5, "child": 1.5, "adult": 17, "old": 80},
    }.items()
}
# How often each optional cell is filled, by era: time of death, cause, death notice (giấy báo tử).
_FILLED = {
    "south_pre1975": (0.5, 0.2, 0.0),
    "nd04cp_1961": (0.3, 0.3, 0.08),
    "nd83_1998": (0.45, 0.5, 0.35),
    "nd158_2005": (0.6, 0.6, 0.6),
    "tt04_2020": (0.8, 0.7, 0.85),
}
_FACILITY_LEVELS = Weighted({"commune": 20, "district": 40, "province": 40})
_FACILITY_DEATH = {"south_pre1975": 0.1, "nd04cp_1961": 0.15, "nd83_1998": 0.25, "nd158_2005": 0.3, "tt04_2020": 0.35}


def _delay_days(rng: np.random.Generator, reg_type: str) -> int:
    if reg_type == ON_TIME:
        return min(DEATH_DEADLINE, int(rng.gamma(1.5, 2.5)))
    if reg_type == LATE:
        r = rng.random()
        if r < 0.6:
            return randint(rng, DEATH_DEADLINE + 1, 365)
        return randint(rng, 366, (5 if r < 0.9 else 30) * 365)
    return randint(rng, 365, 40 * 365)


def _age(rng: np.random.Generator, band: str, year: int) -> int:
    if band == "infant":
        return 0
    if band == "child":
        return randint(rng, 1, 15)
    if band == "adult":
        return randint(rng, 16, 59)
    mean = 72 if year < 1990 else 76 if year < 2010 else 78
    return int(clipped_normal(rng, mean, 9, 60, 104))


def _time(rng: np.random.Generator) -> str:
    hour = randint(rng, 0, 23)
    minute = 5 * randint(rng, 0, 11) if chance(rng, 0.7) else randint(rng, 0, 59)
    if minute == 0 and chance(rng, 0.5):
        return f"{hour} giờ"
    return f"{hour} giờ {minute:02d} phút"


@functools.cache
def _causes(band: str, year: int) -> Weighted[str]:
    return Weighted(in_years(load("vocab")["causes"][band], year))


_ISSUERS = Weighted({"Trạm y tế": 55, "UBND": 25, "Công an": 20})  # who certifies a death at home


def _notice_issuer(rng: np.random.Generator, place: Place, home: Place) -> str:
    if place.facility:
        return place.facility
    return f"{_ISSUERS.pick(rng)} {home.commune}"


def _spouse(rng: np.random.Generator, ctx: BookContext, deceased: Person, on: date) -> Person:
    male = deceased.gender == MALE
    age = age_on(deceased.birth, on) + (randint(rng, -10, 2) if male else randint(rng, -2, 10))
    ethnicity = spouse_ethnicity(rng, deceased.ethnicity, ctx.info.ethnic)
    return make_person(rng, ctx, ethnicity, FEMALE if male else MALE, birth_for_age(rng, on, max(18, age)))


@functools.cache
def _declarant_relations(band: str) -> Weighted[str]:
    return Weighted(load("vocab")["relations"]["death_declarant"][band])


def _declarant(
    rng: np.random.Generator, ctx: BookContext, deceased: Person, age: int, reg_date: date
) -> tuple[Person, str]:
    """Who declared the death, with a name consistent with the family: a son of a man carries his family
    name (a daughter's child of a matrilineal group likewise), a wife or son-in-law does not."""
    band = "child" if age < 16 else "young" if age < 60 else "old"
    relation = _declarant_relations(band).pick(rng)
    male = deceased.gender == MALE
    passes_name = male != is_matrilineal(deceased.ethnicity)  # the deceased's children inherit its family name
    for _ in range(3):
        if relation in ("Vợ", "Chồng"):
            if (relation == "Vợ") != male:
                relation = "Con"
                continue
            return _spouse(rng, ctx, deceased, reg_date), relation
        if relation in ("Con", "Cháu", "Con dâu", "Con rể"):
            gap = -randint(rng, 40, 60) if relation == "Cháu" else -randint(rng, 20, 38)
            gender = MALE if relation == "Con rể" or (relation != "Con dâu" and chance(rng, 0.6)) else FEMALE
            kin = passes_name if relation == "Con" else relation == "Cháu" and chance(rng, 0.5)
            person = relative(rng, ctx, deceased, gender, gap, reg_date, kin=kin)
            if age_on(person.birth, reg_date) >= 16:
                return person, relation
            relation = "Vợ" if male else "Chồng"  # no grown child yet: the spouse declares
            continue
        if relation in ("Anh", "Em", "Chị"):
            gender = MALE if relation == "Anh" or (relation == "Em" and chance(rng, 0.5)) else FEMALE
            gap = -randint(rng, 1, 12) if relation == "Em" else randint(rng, 1, 12)
            return relative(rng, ctx, deceased, gender, gap, reg_date, kin=True), relation
        # parents and grandparents of a young person; the one of the name-giving line shares the family name
        gender = MALE if relation in ("Cha", "Ông nội", "Ông ngoại") else FEMALE
        gap = randint(rng, 18, 40) if relation in ("Cha", "Mẹ") else randint(rng, 40, 65)
        if age + gap > 95:
            relation = "Con"
            continue
        name_givers = ("Mẹ", "Bà ngoại") if is_matrilineal(deceased.ethnicity) else ("Cha", "Ông nội")
        kin = relation in name_givers
        return relative(rng, ctx, deceased, gender, gap, reg_date, kin=kin), relation
    return relative(rng, ctx, deceased, MALE, randint(rng, 1, 12), reg_date, kin=True), "Anh"


def sample(rng: np.random.Generator, ctx: BookContext, reg_date: date) -> tuple[str, dict[str, object]]:
    """(registration type, values of KEYS) for one death registered on `reg_date`."""
    era = ctx.era
    reg_type = sample_type(rng, "khai_tu", era)
    death = reg_date - timedelta(days=_delay_days(rng, reg_type))
    band = _AGE_BANDS[era].pick(rng)
    age = _age(rng, band, death.year)
    gender = MALE if chance(rng, 0.6 if band == "adult" else 0.45 if band == "old" else 0.52) else FEMALE
    birth = birth_for_age(rng, death, age)
    if birth.year < 1950 and chance(rng, 0.25):  # only the year of birth known: written as 01/01
        birth = date(birth.year, 1, 1)
    if band == "infant":  # infant deaths are mostly in the first weeks
        birth = max(birth, death - timedelta(days=randint(rng, 0, 120)))
    deceased = make_person(rng, ctx, ctx.info.ethnic.pick(rng), gender, birth)
    age = age_on(birth, death)

    home_unit = ctx.unit_near(rng, local=0.95)
    home = ctx.place(home_unit)
    if chance(rng, _FACILITY_DEATH[era] * (2 if band == "infant" else 1)):
        place = facility_place(rng, _FACILITY_LEVELS.pick(rng), home_unit, era, ctx.year, "death")
    else:
        place = home
    filled_time, filled_cause, filled_notice = _FILLED[era]
    has_notice = chance(rng, filled_notice if ctx.year >= 1976 or era != "nd04cp_1961" else 0.03)
    notice_date = min(reg_date, death + timedelta(days=randint(rng, 0, 2)))
    declarant, relation = _declarant(rng, ctx, deceased, age, reg_date)
    values: dict[str, object] = {
        "deceased.name": deceased.name,
        "deceased.gender": gender,
        "deceased.birth_date": birth,
        "deceased.age": age,
        "deceased.ethnicity": deceased.ethnicity,
        "deceased.nationality": deceased.nationality,
        "deceased.residence": home,
        "deceased.id_doc": papers(rng, ctx, deceased, death),
        "death.time": _time(rng) if chance(rng, filled_time) else None,
        "death.date": death,
        "death.place": place,
        "death.cause": _causes("infant" if age == 0 else band, death.year).pick(rng)
        if chance(rng, filled_cause)
        else None,
        "death_notice.number": _notice_number(rng, notice_date.year, bool(place.facility)) if has_notice else None,
        "death_notice.issuer": _notice_issuer(rng, place, home) if has_notice else None,
        "death_notice.date": notice_date if has_notice else None,
        "declarant.name": declarant.name,
        "declarant.relation": relation,
        "declarant.id_doc": papers(rng, ctx, declarant, reg_date),
    }
    return reg_type, values


_NOTICE_NUMBERS = Weighted({"{n}": 30, "{n}/GBT": 35, "{n:02d}/{year}/GBT": 20, "{n}/{year}": 15})


def _notice_number(rng: np.random.Generator, year: int, hospital: bool) -> str:
    return _NOTICE_NUMBERS.pick(rng).format(n=randint(rng, 1, 2500 if hospital else 120), year=year)
