"""Places as registers write them ("X. An Nhơn, H. Đạ Tẻh, T. Lâm Đồng"): abbreviated unit words written
out and unit words in lower case, as the import's free-text place columns hold them; and the unit the place
lies in today, which the import wants in a column of its own.

Units have been merged, split and renamed for decades (most recently 07/2025: 63 provinces became 34, the
districts went). `vietnamadminunits` maps the 63-province names (and many older ones) to today's; a place
is looked up only when it names its province, because a bare district or commune name is ambiguous across
the country ("huyện Thạnh Hóa" is not "tỉnh Thanh Hóa")."""

from __future__ import annotations

import regex
from vietnamadminunits import ParseMode, convert_address, parse_address

from hotich.text import nfc

from .issues import Reading, issue

__all__ = ["UNIT_WORDS", "current_unit", "read_place"]

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
    unit = current_unit(value) if names_province else None
    if names_province and unit is None:
        issues.append(issue("place_not_found", value))
    return Reading(value, tuple(issues), unit)


def current_unit(place: str) -> str | None:
    """The commune and province `place` lies in today ("xã Đồng Thái, tỉnh Ninh Bình"; the province alone
    when its commune is not found), unit words in lower case; None when no province is found."""
    # Only the unit names are looked up. Given anything else (a hospital, a hamlet, a misread name it keeps
    # as a street), the converter asks an online geocoder where a split commune went: never from here.
    units = ", ".join(p for p in (part.strip() for part in place.split(",")) if p.lower().startswith(UNIT_WORDS))
    try:
        if not units or parse_address(units, mode=ParseMode.LEGACY, keep_street=True, level=3).street:
            return None
        found = convert_address(units)
    except (ValueError, KeyError, IndexError):  # the lists' parser gives up on some texts
        return None
    if not found.province:
        return None
    return ", ".join(_part(name)[0] for name in (found.ward, found.province) if name)
