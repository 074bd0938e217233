"""Places as registers write them ("X. An Nhơn, H. Đạ Tẻh, T. Lâm Đồng"): abbreviated unit words written
out and unit words in lower case, as the import's free-text place columns hold them; and the unit the place
lies in today, which the import wants in a column of its own.

Units have been merged, split and renamed for decades (most recently 07/2025: 63 provinces became 34, the
districts went). `vietnamadminunits` maps the 63-province names to today's; older province names (the
RVN's, the merged provinces of 1976–1991) come from our own table (`hotich.provinces`), which names the
63-era provinces they may mean. A place is looked up only when it names its province, because a bare
district or commune name is ambiguous across the country ("huyện Thạnh Hóa" is not "tỉnh Thanh Hóa")."""

from __future__ import annotations

import functools

import regex
from vietnamadminunits import ParseMode, convert_address, parse_address

from hotich.provinces import name_before_2025, provinces_named
from hotich.text import nfc

from .issues import Reading, issue

__all__ = ["UNIT_WORDS", "current_unit", "current_units", "read_place"]

UNIT_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "khu vực", "phường", "huyện", "quận", "tỉnh", "khu", "xã")
"""Words that open an administrative unit's name, longest first so "thị xã" wins over "xã"."""
_ABBREVIATIONS = {"tp": "thành phố", "tt": "thị trấn", "tx": "thị xã", "p": "phường", "h": "huyện", "q": "quận",
                  "t": "tỉnh", "x": "xã"}  # fmt: skip
_ABBREVIATED = regex.compile(r"(?i)(tp|tt|tx|p|h|q|t|x)\s*\.\s*(\S.*)")


def _part(part: str) -> tuple[str, bool]:
    """One comma-separated part with its unit word written out in lower case; whether it was abbreviated."""
    if m := _ABBREVIATED.fullmatch(part):
        return f"{_ABBREVIATIONS[m[1].lower()]} {m[2]}", True
    lower = part.lower()
    for word in UNIT_WORDS:
        if lower.startswith(word + " "):
            return word + part[len(word) :], False
    return part, False


def read_place(text: str) -> Reading:
    """The place with its parts separated by ", ", unit words written out and in lower case."""
    parts = [p.strip() for p in nfc(text).strip().rstrip(".,;").split(",")]
    parts = [" ".join(p.split()) for p in parts if p.strip()]
    if not parts:
        return Reading(None)
    read = [_part(p) for p in parts]
    value = ", ".join(p for p, _ in read)
    issues = [issue("place_abbreviated", value)] if any(a for _, a in read) else []
    names_province = read[-1][0].startswith(("tỉnh ", "thành phố "))
    units = current_units(value) if names_province else []
    if names_province and not units:
        issues.append(issue("place_not_found", value))
    if len(units) > 1:
        issues.append(issue("place_ambiguous", " or ".join(units)))
    return Reading(value, tuple(issues), units[0] if len(units) == 1 else None)


def current_unit(place: str) -> str | None:
    """The commune and province `place` lies in today ("xã Đồng Thái, tỉnh Ninh Bình"; the province alone
    when its commune is not found), unit words in lower case; None when none is found, or several may be."""
    units = current_units(place)
    return units[0] if len(units) == 1 else None


def current_units(place: str) -> list[str]:
    """Every unit of today `place` may lie in: one when it is known, none when it is not found, several when
    an old province name alone ("tỉnh Nghệ Tĩnh", 1976–1991) spans provinces of today and no commune says which.

    A province named as a page of its year named it ("tỉnh Hà Nam Ninh" in 1985, "tỉnh Định Tường" in 1968)
    is looked up as each province that bore the name; the one where the commune is found wins."""
    # Only the unit names are looked up. Given anything else (a hospital, a hamlet, a misread name it keeps
    # as a street), the converter asks an online geocoder where a split commune went: never from here.
    units = [p for p in (part.strip() for part in place.split(",")) if p.lower().startswith(UNIT_WORDS)]
    if not units:
        return []
    district = next((_unit_name(p) for p in units[:-1] if _unit_name(p) != p and not _is_commune(p)), None)
    bearers = provinces_named(units[-1], district)
    if not bearers:
        found = _lookup(", ".join(units))
        return [found] if found else []
    found = [f for f in dict.fromkeys(_lookup(", ".join([*units[:-1], name_before_2025(key)])) for key in bearers) if f]
    with_commune = [f for f in found if ", " in f]
    return with_commune or list(dict.fromkeys(f.rsplit(", ", 1)[-1] for f in found))


def _unit_name(part: str) -> str:
    """A unit's name without its unit word ("huyện Lý Nhân" -> "Lý Nhân")."""
    lower = part.lower()
    word = next((w for w in UNIT_WORDS if lower.startswith(w + " ")), None)
    return part[len(word) + 1 :].strip() if word else part


def _is_commune(part: str) -> bool:
    return part.lower().startswith(("xã ", "phường ", "thị trấn ", "đặc khu "))


@functools.lru_cache(maxsize=4096)
def _lookup(units: str) -> str | None:
    try:
        if parse_address(units, mode=ParseMode.LEGACY, keep_street=True, level=3).street:
            return None
        found = convert_address(units)
    except (ValueError, KeyError, IndexError):  # the lists' parser gives up on some texts
        return None
    if not found.province:
        return None
    return ", ".join(_part(name)[0] for name in (found.ward, found.province) if name)
