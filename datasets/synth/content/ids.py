"""Identity numbers: 9-digit CMND, 12-digit CCCD / personal id (số định danh cá nhân), RVN thẻ căn cước."""

from __future__ import annotations

from datetime import date

import numpy as np

from .names import MALE
from .sampling import chance, randint


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(randint(rng, 0, 9)) for _ in range(n))


def personal_id(rng: np.random.Generator, province_code: str, gender: str, birth: date) -> str:
    """12 digits: 3-digit province code, gender/century digit (0/1 = male/female born 1900s, 2/3 = 2000s),
    2-digit birth year, 6 serial digits (Nghị định 137/2015, Thông tư 07/2016/TT-BCA)."""
    century = max(0, birth.year // 100 - 19) * 2
    return f"0{province_code}{century + (0 if gender == MALE else 1)}{birth.year % 100:02d}{_digits(rng, 6)}"


def cmnd(rng: np.random.Generator, prefix: str) -> str:
    return prefix + _digits(rng, 7)


def id_doc(
    rng: np.random.Generator,
    era: str,
    year: int,
    *,
    age: int,
    cmnd_prefix: str,
    province_code: str,
    gender: str,
    birth: date,
) -> str | None:
    """The identity paper an adult shows at registration, as written ("CMND số 183456789"), or None.

    CMND cards (9 digits) from the late 1970s; the 12-digit CCCD from 2016, the chip card rolled out in 2021.
    RVN "thẻ căn cước" for the South before 1975. Children and most people in old books have none.
    """
    if age < 14:
        return None
    if era == "south_pre1975":
        return f"Thẻ căn cước số {_digits(rng, randint(rng, 7, 8))}" if chance(rng, 0.4) else None
    if era == "nd04cp_1961":
        if year < 1980 or not chance(rng, 0.2 if year < 1990 else 0.6):
            return None
        return f"CMND số {cmnd(rng, cmnd_prefix)}"
    if era in ("nd83_1998", "nd158_2005"):
        if not chance(rng, 0.85 if era == "nd83_1998" else 0.97):
            return None
        return f"CMND số {cmnd(rng, cmnd_prefix)}"
    cccd_share = {2020: 0.45, 2021: 0.75}.get(year, 0.95)
    if chance(rng, 0.03):
        return None
    if chance(rng, cccd_share):
        return f"CCCD số {personal_id(rng, province_code, gender, birth)}"
    return f"CMND số {cmnd(rng, cmnd_prefix)}"
