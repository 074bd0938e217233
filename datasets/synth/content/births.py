"""Birth registrations (sổ đăng ký khai sinh)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np

from .books import BookContext
from .dates import BIRTH_DEADLINE, age_on, birth_for_age
from .ethnicity import child_ethnicity, spouse_ethnicity
from .ids import personal_id
from .names import FEMALE, MALE, is_matrilineal
from .people import Person, make_person, occupation, papers, relative
from .places import Place, facility_place
from .registration_types import LATE, ON_TIME, sample_type
from .sampling import Weighted, chance, clipped_normal, randint
from .tables import load

KEYS = (
    "child.name", "child.gender", "child.birth_date", "child.birth_place", "child.ethnicity", "child.nationality",
    "child.hometown", "child.id_number",
    "mother.name", "mother.birth_date", "mother.age", "mother.ethnicity", "mother.nationality", "mother.residence",
    "mother.occupation",
    "father.name", "father.birth_date", "father.age", "father.ethnicity", "father.nationality", "father.residence",
    "father.occupation",
    "declarant.name", "declarant.relation", "declarant.id_doc", "witness.text",
)  # fmt: skip

# No father on the register is legitimate (unmarried mother, unknown father); old books show it less.
NO_FATHER = {"south_pre1975": 0.05, "nd04cp_1961": 0.05, "nd83_1998": 0.07, "nd158_2005": 0.08, "tt04_2020": 0.08}
ABANDONED = 0.004  # "Trẻ bị bỏ rơi": neither parent known


def _delay_days(rng: np.random.Generator, era: str, reg_type: str) -> int:
    """Days between birth and registration."""
    deadline = BIRTH_DEADLINE[era]
    if reg_type == ON_TIME:
        return min(deadline, 1 + int(rng.gamma(2.0, 7.0)))
    if reg_type == LATE:
        r = rng.random()
        if r < 0.6:
            return randint(rng, deadline + 1, 365)
        if r < 0.85:
            return randint(rng, 366, 5 * 365)
        # adults registering a birth never registered (many in 2006-2015 campaigns)
        return randint(rng, 5 * 365, (60 if era == "nd158_2005" else 30) * 365)
    return randint(rng, 365, 55 * 365)  # re-registration of a lost record


# Births in a health facility by year of birth (born before, share): home births were the rule until the 1980s.
_FACILITY_BIRTHS = ((1960, 0.2), (1976, 0.3), (1990, 0.45), (1999, 0.65), (2006, 0.8), (2016, 0.92), (10**4, 0.98))
# ... and at which level: commune health stations first, district and provincial hospitals later.
_FACILITY_LEVELS = (
    (1999, Weighted({"commune": 70, "district": 25, "province": 5})),
    (2010, Weighted({"commune": 45, "district": 35, "province": 20})),
    (10**4, Weighted({"commune": 15, "district": 45, "province": 40})),
)


def _facility_share(birth_year: int, urban: bool) -> float:
    share = next(s for before, s in _FACILITY_BIRTHS if birth_year < before)
    return min(0.99, share + (0.2 if urban else 0.0))


def _facility_level(rng: np.random.Generator, birth_year: int) -> str:
    return next(levels for before, levels in _FACILITY_LEVELS if birth_year < before).pick(rng)


def _witnesses(rng: np.random.Generator, ctx: BookContext, on: date) -> str:
    """RVN birth acts name one or two witnesses: "Trần Văn Ba, 45 tuổi, làm ruộng, ngụ xã An Nhơn"."""
    texts = []
    for _ in range(1 if chance(rng, 0.4) else 2):
        gender = MALE if chance(rng, 0.85) else FEMALE
        age = randint(rng, 22, 60)
        person = make_person(rng, ctx, ctx.info.ethnic.pick(rng), gender, birth_for_age(rng, on, age))
        job = occupation(rng, ctx, gender)
        home = ctx.place(ctx.unit_near(rng, local=0.9)).commune
        texts.append(f"{person.name}, {age} tuổi, {job[0].lower()}{job[1:]}, ngụ {home}")
    return "; ".join(texts)


@functools.cache
def _declarant_relations(with_father: bool) -> Weighted[str]:
    return Weighted(load("vocab")["relations"]["birth_declarant"]["with_father" if with_father else "without_father"])


def _declarant(
    rng: np.random.Generator,
    ctx: BookContext,
    reg_date: date,
    child: Person,
    father: Person | None,
    mother: Person | None,
) -> tuple[Person, str]:
    if age_on(child.birth, reg_date) >= 18:
        return child, "Bản thân"
    if mother is None:  # abandoned child: declared by whoever took the child in
        gender = FEMALE if chance(rng, 0.6) else MALE
        carer = make_person(
            rng, ctx, ctx.info.ethnic.pick(rng), gender, birth_for_age(rng, reg_date, randint(rng, 25, 60))
        )
        return carer, "Người nuôi dưỡng"
    relation = _declarant_relations(father is not None).pick(rng)
    if relation == "Cha" and father:
        return father, relation
    if relation == "Mẹ":
        return mother, relation
    side = father if relation.endswith("nội") and father else mother
    gender = MALE if relation in ("Ông nội", "Ông ngoại", "Cậu") else FEMALE
    if relation in ("Dì", "Cậu"):  # the mother's siblings carry her family name
        return relative(rng, ctx, side, gender, randint(rng, -12, 12), reg_date, kin=True), relation
    # the grandparent who passed `side` its family name: grandfather (patrilineal), grandmother (matrilineal)
    kin = (gender == MALE) != is_matrilineal(side.ethnicity)
    return relative(rng, ctx, side, gender, randint(rng, 20, 34), reg_date, kin=kin), relation


def sample(rng: np.random.Generator, ctx: BookContext, reg_date: date) -> tuple[str, dict[str, object]]:
    """(registration type, values of KEYS) for one birth registered on `reg_date`."""
    era = ctx.era
    reg_type = sample_type(rng, "khai_sinh", era)
    birth = reg_date - timedelta(days=_delay_days(rng, era, reg_type))
    gender = MALE if chance(rng, 0.53 if birth.year >= 2000 else 0.51) else FEMALE  # sex ratio at birth

    abandoned = chance(rng, ABANDONED)
    has_father = not abandoned and not chance(rng, NO_FATHER[era])
    mother_eth = ctx.info.ethnic.pick(rng)
    father_eth = spouse_ethnicity(rng, mother_eth, ctx.info.ethnic)
    child_eth = mother_eth if abandoned else child_ethnicity(rng, father_eth if has_father else None, mother_eth)

    mother_age = int(clipped_normal(rng, 26.5 if birth.year >= 1990 else 27.5, 5.5, 16, 48))
    father_age = int(clipped_normal(rng, mother_age + 4, 3.5, max(18, mother_age - 4), 50))
    mother = make_person(rng, ctx, mother_eth, FEMALE, birth_for_age(rng, birth, mother_age))
    father = make_person(rng, ctx, father_eth, MALE, birth_for_age(rng, birth, father_age)) if has_father else None

    family = None
    if not abandoned:
        line = mother if father is None or is_matrilineal(child_eth) else father
        family = line.family or None
    child = make_person(
        rng, ctx, child_eth, gender, birth, family=family, mother_family=mother.family if father else None
    )

    mother_home = ctx.unit_near(rng)
    father_home = mother_home if chance(rng, 0.93) else ctx.unit_near(rng)
    if chance(rng, _facility_share(birth.year, ctx.urban)):
        birth_place = facility_place(rng, _facility_level(rng, birth.year), mother_home, era, ctx.year, "birth")
    else:
        birth_place = ctx.place(mother_home)
    hometown: Place | None = None
    if not abandoned and not chance(rng, 0.1 if father else 0.3):
        origin = father_home if father else mother_home
        hometown = ctx.place(origin if chance(rng, 0.55) else ctx.unit_near(rng, local=0.0))

    declarant, relation = _declarant(rng, ctx, reg_date, child, father, None if abandoned else mother)
    values: dict[str, object] = {
        "child.name": child.name,
        "child.gender": gender,
        "child.birth_date": birth,
        "child.birth_place": birth_place,
        "child.ethnicity": child_eth,
        "child.nationality": child.nationality,
        "child.hometown": hometown,
        "child.id_number": personal_id(rng, ctx.unit.province_code, gender, birth) if era == "tt04_2020" else None,
    }
    for role, person, home in (("mother", None if abandoned else mother, mother_home), ("father", father, father_home)):
        values |= {
            f"{role}.name": person and person.name,
            f"{role}.birth_date": person and person.birth,
            f"{role}.age": person and age_on(person.birth, reg_date),
            f"{role}.ethnicity": person and person.ethnicity,
            f"{role}.nationality": person and person.nationality,
            f"{role}.residence": person and ctx.place(home),
            f"{role}.occupation": person and occupation(rng, ctx, person.gender),
        }
    values |= {
        "declarant.name": declarant.name,
        "declarant.relation": relation,
        "declarant.id_doc": papers(rng, ctx, declarant, reg_date),
        "witness.text": _witnesses(rng, ctx, reg_date) if era == "south_pre1975" else None,
    }
    return reg_type, values
