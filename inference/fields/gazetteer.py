"""The administrative units a read place is matched against: every commune of the 63-province structure
(PyPI `vietnamadminunits`), each with the names its district and province bore since 1955
(`hotich/data/provinces.yaml`).

A handwritten place is misread a letter or two at a time ("phường Bảo Sơn, thành phố Long Nhành"), but a
commune, its district and its province spell one another out: among the 10,035 communes only one pair of
names within a few letters fits ("phường Bàu Sen, thành phố Long Khánh"). The whole chain is matched, so a
commune name found in many provinces is told apart by the district written after it.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from hotich.provinces import bare_unit_name, load_provinces, province_name_in, split_unit_word
from hotich.text import nfc

__all__ = ["MAX_EDITS", "MAX_EDITS_IN_DISTRICT", "PROVINCE_YEARS", "Match", "edit_rate", "match_units", "units_near"]

MAX_EDITS = 0.3
"""At most this many edits per character read (marks apart) in each part matched: above it the reading and
the unit disagree too much to trust the match (chosen on validation pages, `hotich eval pages var/pages/val`)."""
MAX_EDITS_IN_DISTRICT = 0.5
"""A commune may be read further from its name when its district is read (almost) right: a district holds
some twenty communes, not ten thousand."""
PROVINCE_YEARS = 10
"""A province added to a place that left it out is named by the registration's year, itself read: where the
province bore another name within this many years (Sông Bé until 1996, Bình Phước after), a misread year
would name it wrongly, so the place goes to review."""
_CANDIDATES = 64
"""Communes whose own name is nearest the one read that are scored with their district and province."""


@dataclass(frozen=True)
class _Commune:
    commune: str
    """With its unit word in lower case: "xã An Nhơn"."""
    districts: tuple[str, ...]
    """The names its district was written by: today's ("huyện Đạ Huoai"), older ones, the RVN's "quận"."""
    province_key: str
    district: str
    """The district's name without its unit word, as the province table keys its history."""
    provinces: tuple[str, ...]
    """The names its province was written by since 1955, for this district."""


@dataclass(frozen=True)
class Match:
    parts: tuple[str, ...]
    """Commune, district and province as the matched unit writes them; the province added when the place
    did not write it (its name in the page's year)."""
    edits: int
    """Edits between the parts read and the parts matched."""
    province_uncertain: bool = False
    """The province was added, and bore another name within `PROVINCE_YEARS` of `year` (or the year is not
    known): a misread year would name it wrongly."""


def _lower_unit(name: str, unit_type: str) -> str:
    """"Phường Phúc Xá" -> "phường Phúc Xá": import columns write unit words in lower case."""
    bare = bare_unit_name(name, unit_type)
    return f"{unit_type.lower()} {bare}" if bare != name else name


def _variants(names: Sequence[str], south: bool) -> tuple[str, ...]:
    if south:  # the RVN called every district a "quận" (Cai Lậy, a thị xã since 2013)
        names = [*names, *("quận " + split_unit_word(n)[1] for n in names)]
    return tuple(dict.fromkeys(names))


@functools.cache
def _communes() -> tuple[tuple[str, ...], dict[str, tuple[_Commune, ...]]]:
    """The communes' names as searched (`_key`), and each name's communes."""
    from vietnamadminunits.database import query  # imported lazily: the first place read pays for it

    table = load_provinces()
    by_name: dict[str, list[_Commune]] = {}
    for r in query("SELECT provinceKey, district, districtType, ward, wardType FROM admin_units_legacy "
                   "WHERE ward IS NOT NULL"):
        entry = table[r["provinceKey"]]
        district = _lower_unit(r["district"], r["districtType"])
        bare = split_unit_word(district)[1]
        renamed = [name for k, periods in (entry.get("district_names") or {}).items() if str(k) == bare
                   for _, _, name in periods]
        groups = [g["names"] for g in entry.get("districts") or [] if bare in map(str, g["in"])]
        provinces = tuple(dict.fromkeys(name for _, _, name in (groups[0] if groups else entry["names"])))
        commune = nfc(_lower_unit(r["ward"], r["wardType"]))
        by_name.setdefault(_key(commune), []).append(_Commune(
            commune=commune, districts=_variants([nfc(district), *map(nfc, renamed)], entry["side"] == "south"),
            province_key=r["provinceKey"], district=bare, provinces=tuple(map(nfc, provinces))))
    return tuple(by_name), {name: tuple(found) for name, found in by_name.items()}


@functools.lru_cache(maxsize=1 << 16)  # districts' and provinces' names are keyed again for every commune near
def _key(text: str) -> str:
    """Lower case, marks apart (NFD): a wrong tone costs one edit and a wrong letter two or three, so
    "Hón" is nearer "Hòa" than "Hải"."""
    return unicodedata.normalize("NFD", text.lower())


def edit_rate(read: str, name: str) -> float:
    """Edits from `read` to `name` per character of `read`, case and marks as `_key` counts them."""
    return Levenshtein.distance(_key(read), _key(name)) / max(1, len(_key(read)))


@functools.lru_cache(maxsize=1 << 14)  # a district's communes share its names and their province's
def _nearest(read: str, names: tuple[str, ...]) -> tuple[int, str]:
    best = min(names, key=lambda n: Levenshtein.distance(read, _key(n)))
    return Levenshtein.distance(read, _key(best)), best


def _province_in(commune: _Commune, year: int | None) -> str:
    try:
        return province_name_in(commune.province_key, commune.district, year)
    except ValueError:  # a year the table does not cover (a misread date): the 63-province name
        return province_name_in(commune.province_key, commune.district, None)


def match_units(parts: Sequence[str], *, year: int | None = None) -> Match | None:
    """The unit whose commune, district and (when written) province are nearest `parts` as read, commune
    first, unit words written out; None when a part is nowhere near enough (`MAX_EDITS`) or two units are
    equally near.
    """
    return _match_units(tuple(parts), year)


@functools.lru_cache(maxsize=4096)  # a book's places repeat: 233 different ones in 376 on 24 test pages
def _match_units(parts: tuple[str, ...], year: int | None) -> Match | None:
    scored, uncertain = _scored(parts, year, _commune_neighbours(_key(parts[0])) if len(parts) in (2, 3) else ())
    ranked = sorted(scored.items(), key=lambda kv: kv[1])
    if not ranked or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return Match(ranked[0][0], ranked[0][1], ranked[0][0] in uncertain)


def units_near(parts: Sequence[str], *, year: int | None = None, whole_districts: bool = True
               ) -> list[tuple[str, ...]]:
    """Every unit a place read as `parts` (commune, district and perhaps province, unit words written out) may
    be, nearest first: those `match_units` weighs, and, when `whole_districts`, every commune of the districts
    read within `MAX_EDITS` (in the province read), however far its own name was misread ("xã Quỳnh Hạnh, huyện
    Quỳnh Phụ" may be any of Quỳnh Phụ's 38 communes). For a page's frames to choose among
    (`joint_reading.read_as_one_of`), or to be weighed against (`places.place_rivals`)."""
    if len(parts) not in (2, 3):
        return []
    read = tuple(parts)
    in_districts: tuple[_Commune, ...] = ()
    if whole_districts:
        district_limit = int(MAX_EDITS * len(_key(read[1])))
        districts = _districts()
        found = process.extract(_key(read[1]), list(districts), scorer=Levenshtein.distance, limit=None,
                                score_cutoff=district_limit)
        in_districts = tuple(dict.fromkeys(c for name, _, _ in found for c in districts[name]))
    scored, _ = _scored(read, year, (*_commune_neighbours(_key(read[0])), *in_districts), relaxed=True)
    return [key for key, _ in sorted(scored.items(), key=lambda kv: kv[1])]


@functools.lru_cache(maxsize=4096)  # `match_units` and `units_near` look up the same communes
def _commune_neighbours(read: str) -> tuple[_Commune, ...]:
    """The communes of the `_CANDIDATES` names nearest the commune read."""
    names, communes = _communes()
    found = process.extract(read, names, scorer=Levenshtein.distance, limit=_CANDIDATES,
                            score_cutoff=int(MAX_EDITS_IN_DISTRICT * len(read)))
    return tuple(c for name, _, _ in found for c in communes[name])


@functools.cache
def _districts() -> dict[str, tuple[_Commune, ...]]:
    """Every name a district was written by (`_key`), and the communes it holds."""
    by_district: dict[str, list[_Commune]] = {}
    for found in _communes()[1].values():
        for commune in found:
            for name in commune.districts:
                by_district.setdefault(_key(name), []).append(commune)
    return {name: tuple(found) for name, found in by_district.items()}


def _scored(read: tuple[str, ...], year: int | None, candidates: Sequence[_Commune], relaxed: bool = False
            ) -> tuple[dict[tuple[str, ...], int], set[tuple[str, ...]]]:
    """Edits from `read` to each unit of `candidates` near enough it (the commune, when `relaxed`, however
    far), and the units whose added province a misread year may name wrongly."""
    keys = [_key(p) for p in read]
    limits = [int(MAX_EDITS * len(r)) for r in keys]
    scored: dict[tuple[str, ...], int] = {}
    uncertain: set[tuple[str, ...]] = set()
    for commune in candidates:
        commune_edits = Levenshtein.distance(keys[0], _key(commune.commune))
        district_edits, district = _nearest(keys[1], commune.districts)
        if district_edits > limits[1] or (not relaxed and commune_edits > limits[0]
                                          and district_edits > len(keys[1]) // 10):
            continue
        if len(keys) == 3:
            province_edits, province = _nearest(keys[2], commune.provinces)
            if province_edits > limits[2]:
                continue
        else:
            province_edits, province = 0, _province_in(commune, year)
        key = (commune.commune, district, province)
        if len(keys) == 2 and (year is None or len({_province_in(commune, y) for y in range(
                year - PROVINCE_YEARS, year + PROVINCE_YEARS + 1)}) > 1):
            uncertain.add(key)
        scored[key] = min(commune_edits + district_edits + province_edits, scored.get(key, 1 << 30))
    return scored, uncertain
