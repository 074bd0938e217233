"""Loại đăng ký: on time, late (quá hạn: after the legal deadline) or re-registration of a lost record."""

from __future__ import annotations

import numpy as np

from .sampling import Weighted

ON_TIME, LATE, AGAIN = "Đúng hạn", "Quá hạn", "Đăng ký lại"

# Shares by book type and era. Old books are mostly on time; the 2006-2015 campaigns registered many late
# births and re-registered lost ones; marriages have no deadline, so never "quá hạn".
_RATES = {
    "khai_sinh": {"south_pre1975": (93, 6, 1), "nd04cp_1961": (88, 10, 2), "nd83_1998": (85, 12, 3),
                  "nd158_2005": (80, 15, 5), "tt04_2020": (86, 11, 3)},
    "khai_tu": {"south_pre1975": (90, 9, 1), "nd04cp_1961": (85, 14, 1), "nd83_1998": (82, 16, 2),
                "nd158_2005": (80, 17, 3), "tt04_2020": (85, 13, 2)},
    "ket_hon": {"south_pre1975": (99, 0, 1), "nd04cp_1961": (99, 0, 1), "nd83_1998": (98, 0, 2),
                "nd158_2005": (96, 0, 4), "tt04_2020": (97, 0, 3)},
}  # fmt: skip
_DISTS = {
    (book_type, era): Weighted(dict(zip((ON_TIME, LATE, AGAIN), shares, strict=True)))
    for book_type, eras in _RATES.items()
    for era, shares in eras.items()
}


def sample_type(rng: np.random.Generator, book_type: str, era: str) -> str:
    return _DISTS[(book_type, era)].pick(rng)
