"""Personal names: Kinh names by region and generation, and the naming patterns of the minority groups."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .sampling import Weighted, chance, choose
from .tables import load

MALE, FEMALE = "Nam", "Nữ"


def generation(birth_year: int) -> str:
    """Naming fashions changed fast after 1980 (Văn/Thị receded, new given names): four cohorts."""
    if birth_year < 1955:
        return "old"
    if birth_year < 1980:
        return "mid"
    return "recent" if birth_year < 2000 else "modern"


@dataclass(frozen=True)
class Name:
    full: str
    family: str  # "" for patterns without an inherited family name (A Thút, Y Bông, K'Brèo)


@dataclass(frozen=True)
class _Kinh:
    family: dict[str, Weighted[str]]  # by zone
    middle: dict[tuple[str, str], Weighted[str]]  # (gender, generation)
    given: dict[tuple[str, str], tuple[str, ...]]
    south_old_share: float
    south_old: dict[str, tuple[str, ...]]
    double_family: dict[str, float]
    double_middle: dict[str, float]


@dataclass(frozen=True)
class _Style:
    templates: dict[str, Weighted[str]]  # by gender
    given: dict[str, tuple[str, ...]]  # own given names by gender (empty: Kinh given names)
    hoa_middle: dict[str, Weighted[str]]
    vn_given: float
    vn_given_modern: float
    matrilineal: bool


_GENDER_KEY = {MALE: "male", FEMALE: "female"}


@functools.cache
def _kinh() -> _Kinh:
    d = load("names")["kinh"]
    base = d["family"]
    gens = ("old", "mid", "recent", "modern")
    return _Kinh(
        family={zone: Weighted(base | extra) for zone, extra in d["zone_family"].items()},
        middle={(g, gen): Weighted(d["middle"][_GENDER_KEY[g]][gen]) for g in (MALE, FEMALE) for gen in gens},
        given={(g, gen): tuple(d["given"][_GENDER_KEY[g]][gen]) for g in (MALE, FEMALE) for gen in gens},
        south_old_share=float(d["south_old_given"]["share"]),
        south_old={g: tuple(d["south_old_given"][_GENDER_KEY[g]]) for g in (MALE, FEMALE)},
        double_family=d["double_family_share"],
        double_middle=d["double_middle_share"],
    )


@functools.cache
def _styles() -> dict[str, _Style]:
    out = {}
    for name, s in load("names")["styles"].items():
        out[name] = _Style(
            templates={g: Weighted([(t, w) for t, w in s[_GENDER_KEY[g]]]) for g in (MALE, FEMALE)},
            given={g: tuple(s.get(f"given_{_GENDER_KEY[g]}", ())) for g in (MALE, FEMALE)},
            hoa_middle={g: Weighted(s["hoa_middle"][_GENDER_KEY[g]]) for g in (MALE, FEMALE)}
            if "hoa_middle" in s
            else {},
            vn_given=float(s.get("vn_given", 0.0)),
            vn_given_modern=float(s.get("vn_given_modern", s.get("vn_given", 0.0))),
            matrilineal=bool(s.get("matrilineal", False)),
        )
    return out


@functools.cache
def _groups() -> dict[str, tuple[str, Weighted[str] | None]]:
    return {
        group: (spec["style"], Weighted(spec["family"]) if "family" in spec else None)
        for group, spec in load("names")["ethnic"].items()
    }


def is_matrilineal(ethnicity: str) -> bool:
    style = _groups()[ethnicity][0]
    return style != "kinh" and _styles()[style].matrilineal


def _kinh_given(rng: np.random.Generator, gender: str, gen: str, zone: str) -> str:
    k = _kinh()
    if zone == "south" and gen in ("old", "mid") and chance(rng, k.south_old_share):
        return choose(rng, k.south_old[gender])
    return choose(rng, k.given[(gender, gen)])


def _kinh_middle(rng: np.random.Generator, gender: str, gen: str) -> str:
    k = _kinh()
    first = k.middle[(gender, gen)].pick(rng)
    if chance(rng, k.double_middle.get(gen, 0.0)):
        second = k.middle[(gender, gen)].pick(rng)
        if second not in (first, "Văn", "Thị"):
            return f"{first} {second}"
    return first


def sample_name(
    rng: np.random.Generator,
    ethnicity: str,
    gender: str,
    birth_year: int,
    zone: str,
    *,
    family: str | None = None,
    mother_family: str | None = None,
) -> Name:
    """A full name for a person of `ethnicity`, `gender` ("Nam"/"Nữ") born in `birth_year`.

    `family` imposes the inherited family name (children take the father's, or the mother's when there is
    no father or the group is matrilineal); `mother_family` lets modern Kinh parents add it as in
    "Nguyễn Trần Minh Khang".
    """
    for _ in range(4):  # redraw the rare "Hoàng Hoàng Hoàng" (family = middle = given)
        name = _draw(rng, ethnicity, gender, birth_year, zone, family, mother_family)
        words = name.full.split()
        if all(a != b for a, b in pairwise(words)):
            break
    return name


def _draw(
    rng: np.random.Generator,
    ethnicity: str,
    gender: str,
    birth_year: int,
    zone: str,
    family: str | None,
    mother_family: str | None,
) -> Name:
    gen = generation(birth_year)
    style_name, families = _groups()[ethnicity]
    if style_name == "kinh":
        fam = family or _kinh().family[zone].pick(rng)
        middle = _kinh_middle(rng, gender, gen)
        given = _kinh_given(rng, gender, gen, zone)
        if mother_family and mother_family != fam and chance(rng, _kinh().double_family.get(gen, 0.0)):
            middle = f"{mother_family} {middle}"
        return Name(_nfc(f"{fam} {middle} {given}"), fam)

    style = _styles()[style_name]
    template = style.templates[gender].pick(rng)
    fam = ""
    if "{F}" in template:
        fam = family or families.pick(rng)  # type: ignore[union-attr]
    own = style.given[gender]
    vn_share = style.vn_given_modern if birth_year >= 1990 else style.vn_given
    given = choose(rng, own) if own and not chance(rng, vn_share) else _kinh_given(rng, gender, gen, zone)
    text = template.replace("{F}", fam).replace("{G}", given)
    if "{M}" in text:
        text = text.replace("{M}", _kinh_middle(rng, gender, gen))
    if "{HM}" in text:
        text = text.replace("{HM}", style.hoa_middle[gender].pick(rng))
    return Name(_nfc(" ".join(text.split())), fam)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
