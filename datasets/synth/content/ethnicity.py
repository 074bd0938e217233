"""The 54 ethnic groups (GSO list and spelling, as in fields.yaml `code_lists.dan_toc_gso`) and family mixing."""

from __future__ import annotations

import numpy as np

from .sampling import Weighted, chance

ETHNIC_GROUPS: tuple[str, ...] = (
    "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai", "Ê Đê", "Ba Na", "Sán Chay",
    "Chăm", "Cơ Ho", "Xơ Đăng", "Sán Dìu", "Hrê", "Ra Glai", "Mnông", "Thổ", "Xtiêng", "Khơ Mú", "Bru Vân Kiều",
    "Cơ Tu", "Giáy", "Tà Ôi", "Mạ", "Giẻ Triêng", "Co", "Chơ Ro", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "La Chí",
    "Kháng", "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn", "Lự", "Ngái", "Chứt", "Lô Lô", "Mảng", "Cơ Lao", "Bố Y", "Cống",
    "Si La", "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",
)  # fmt: skip

# Most marriages are within one group; mixed couples are mostly a minority spouse with a Kinh one.
SAME_GROUP_MARRIAGE = 0.88
# A child of a mixed couple takes the father's group unless the parents agree otherwise (Civil Code art. 29).
CHILD_TAKES_FATHERS = 0.7


def spouse_ethnicity(rng: np.random.Generator, partner: str, local_mix: Weighted[str]) -> str:
    return partner if chance(rng, SAME_GROUP_MARRIAGE) else local_mix.pick(rng)


def child_ethnicity(rng: np.random.Generator, father: str | None, mother: str | None) -> str:
    if father is None or mother is None or father == mother:
        return father or mother or "Kinh"
    return father if chance(rng, CHILD_TAKES_FATHERS) else mother
