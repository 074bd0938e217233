"""Real administrative units from PyPI `vietnamadminunits`: the pre-07/2025 communes and their 2025 successors.

The package ships an SQLite table of the 10,040 communes of the 63-province structure (`admin_units_legacy`),
one of the 3,321 communes of the 34-province structure (`admin_units`) and the old->new mapping its
`convert_address` uses. We read the tables once and invert the mapping into a dict, which gives exactly what
`convert_address` returns for a commune without a street (its default successor) at dictionary speed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hotich.provinces import bare_unit_name


@dataclass(frozen=True, slots=True)
class Unit:
    """One commune of the pre-07/2025 structure. Names are stored without their unit word."""

    province_key: str  # vietnamadminunits key, e.g. "tinhlamdong"
    province_code: str  # 2-digit GSO code, e.g. "68"
    district_type: str  # "Huyện", "Quận", "Thị xã", "Thành phố"
    district: str  # "Đạ Huoai", "1"
    ward_type: str  # "Xã", "Phường", "Thị trấn"
    ward: str  # "An Nhơn", "3"
    current: str | None  # "xã Đạ Tẻh, tỉnh Lâm Đồng" in the 34-province structure


@functools.cache
def units() -> tuple[Unit, ...]:
    """All communes, in the package's table order (deterministic)."""
    from vietnamadminunits.converter import converter_2025  # imported lazily: loads ~4 MB of JSON once
    from vietnamadminunits.database import query

    old_to_new: dict[str, tuple[str, str | None]] = {}
    for new_province, wards in converter_2025.DICT_PROVINCE_WARD_NO_DIVIDED.items():
        for new_ward, olds in wards.items():
            for old in olds:
                old_to_new[old] = (new_province, new_ward)
    for new_province, olds in converter_2025.DICT_PROVINCE_WARD_DIVIDED.items():
        for old, candidates in olds.items():
            default = next((c["newWardKey"] for c in candidates if c["isDefaultNewWard"]), None)
            old_to_new[old] = (new_province, default)

    new_names = {
        (
            r["provinceKey"],
            r["wardKey"],
        ): f"{r['ward'][0].lower()}{r['ward'][1:]}, {r['province'][0].lower()}{r['province'][1:]}"
        for r in query("SELECT provinceKey, wardKey, ward, province FROM admin_units")
    }
    out = []
    for r in query(
        "SELECT provinceKey, provinceCode, districtKey, district, districtType, wardKey, ward, wardType "
        "FROM admin_units_legacy WHERE ward IS NOT NULL"
    ):
        new = old_to_new.get(f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}")
        out.append(
            Unit(
                province_key=r["provinceKey"],
                province_code=r["provinceCode"],
                district_type=r["districtType"],
                district=bare_unit_name(r["district"], r["districtType"]),
                ward_type=r["wardType"],
                ward=bare_unit_name(r["ward"], r["wardType"]),
                current=new_names.get(new) if new else None,
            )
        )
    return tuple(out)


@functools.cache
def by_province() -> dict[str, tuple[Unit, ...]]:
    groups: dict[str, list[Unit]] = {}
    for u in units():
        groups.setdefault(u.province_key, []).append(u)
    return {k: tuple(v) for k, v in groups.items()}


@functools.cache
def by_district() -> dict[tuple[str, str], tuple[Unit, ...]]:
    groups: dict[tuple[str, str], list[Unit]] = {}
    for u in units():
        groups.setdefault((u.province_key, u.district), []).append(u)
    return {k: tuple(v) for k, v in groups.items()}
