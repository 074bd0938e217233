"""Marriage registrations (sổ đăng ký kết hôn)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .books import BookContext
from .dates import age_on, birth_for_age
from .ethnicity import spouse_ethnicity
from .names import FEMALE, MALE
from .people import VIETNAM, make_person, occupation, papers
from .registration_types import AGAIN, sample_type
from .sampling import chance, clipped_normal, randint

KEYS = (
    "husband.name", "husband.birth_date", "husband.age", "husband.ethnicity", "husband.nationality",
    "husband.residence", "husband.id_doc", "husband.occupation",
    "wife.name", "wife.birth_date", "wife.age", "wife.ethnicity", "wife.nationality",
    "wife.residence", "wife.id_doc", "wife.occupation",
    "marriage.established_date",
)  # fmt: skip

# Border communes may marry residents of the neighbouring country (cư dân biên giới), registered at the commune.
_CHINA, _LAOS, _CAMBODIA = ("Trung Quốc", "Hoa"), ("Lào", "Lào"), ("Campuchia", "Khmer")
_BORDER = {
    "tinhlaocai": _CHINA, "tinhhagiang": _CHINA, "tinhcaobang": _CHINA, "tinhlangson": _CHINA,
    "tinhquangninh": _CHINA, "tinhlaichau": _CHINA,
    "tinhdienbien": _LAOS, "tinhsonla": _LAOS, "tinhnghean": _LAOS,
    "tinhangiang": _CAMBODIA, "tinhtayninh": _CAMBODIA, "tinhkiengiang": _CAMBODIA, "tinhdongthap": _CAMBODIA,
    "tinhlongan": _CAMBODIA,
}  # fmt: skip


def legal_minimum(era: str) -> tuple[int, int]:
    """Minimum marriage age (husband, wife): RVN family law 18/15 (we keep brides >= 16); DRV 1959 law and
    its successors (1986, 2000, 2014) 20/18."""
    return (18, 16) if era == "south_pre1975" else (20, 18)


def sample(rng: np.random.Generator, ctx: BookContext, reg_date: date) -> tuple[str, dict[str, object]]:
    """(registration type, values of KEYS) for one marriage registered on `reg_date`."""
    era = ctx.era
    reg_type = sample_type(rng, "ket_hon", era)
    married = reg_date
    if reg_type == AGAIN:  # re-registration of a marriage whose record was lost
        married = reg_date - timedelta(days=randint(rng, 365, 30 * 365))
    min_h, min_w = legal_minimum(era)
    if chance(rng, 0.92):  # first marriage
        mean = 23 if married.year < 1976 else 24.5 if married.year < 1990 else 26 if married.year < 2006 else 27.5
        h_age = int(clipped_normal(rng, mean + (1 if ctx.urban else 0), 3.5, min_h, 45))
        w_age = int(clipped_normal(rng, h_age - 3, 3, min_w, h_age + 6))
    else:  # remarriage
        h_age = randint(rng, 30, 65)
        w_age = int(clipped_normal(rng, h_age - 5, 5, max(min_w, 25), h_age + 6))
    h_eth = ctx.info.ethnic.pick(rng)
    w_eth = spouse_ethnicity(rng, h_eth, ctx.info.ethnic)
    w_nat = VIETNAM
    if ctx.info.key in _BORDER and era != "south_pre1975" and ctx.year >= 1990 and chance(rng, 0.01):
        w_nat, w_eth = _BORDER[ctx.info.key]
    husband = make_person(rng, ctx, h_eth, MALE, birth_for_age(rng, married, h_age))
    wife = make_person(rng, ctx, w_eth, FEMALE, birth_for_age(rng, married, w_age), nationality=w_nat)

    # registered where either spouse lives: both local, or one of them from elsewhere
    r = rng.random()
    h_home = ctx.unit if r < 0.75 else ctx.unit_near(rng, local=0.0)
    w_home = ctx.unit if r < 0.55 or r >= 0.75 else ctx.unit_near(rng, local=0.0)
    values: dict[str, object] = {}
    for role, person, home in (("husband", husband, h_home), ("wife", wife, w_home)):
        foreign = person.nationality != VIETNAM
        values |= {
            f"{role}.name": person.name,
            f"{role}.birth_date": person.birth,
            f"{role}.age": age_on(person.birth, reg_date),
            f"{role}.ethnicity": person.ethnicity,
            f"{role}.nationality": person.nationality,
            f"{role}.residence": ctx.place(home),
            f"{role}.id_doc": f"Giấy thông hành số {randint(rng, 100000, 9999999)}"
            if foreign
            else papers(rng, ctx, person, reg_date),
            f"{role}.occupation": occupation(rng, ctx, person.gender),
        }
    values["marriage.established_date"] = married if reg_type == AGAIN else None
    return reg_type, values
