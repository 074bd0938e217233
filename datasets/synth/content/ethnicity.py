"""Who marries whom across the 54 ethnic groups (`hotich.lexicons.ETHNIC_GROUPS`), and which group a child takes."""

from __future__ import annotations

import numpy as np

from .sampling import Weighted, chance

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
