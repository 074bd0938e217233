"""Places as a page of a given year writes them: real communes, historical province names, health facilities."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from hotich.provinces import load_provinces, name_in_force, province_name_in, split_unit_word

from . import admin
from .admin import Unit
from .sampling import Weighted, chance, choose


@dataclass(frozen=True)
class Place:
    commune: str | None  # with its unit word, e.g. "xã An Nhơn", "phường 3", "thị trấn Đạ Tẻh"
    district: str | None  # "huyện Đạ Tẻh", "quận 1", "thành phố Bảo Lộc" (pre-1975 South: "quận ...")
    province: str  # as named in the page's year: "tỉnh Nghệ Tĩnh" in 1985, "tỉnh Phong Dinh" in 1968
    facility: str | None = None  # "Bệnh viện Đa khoa tỉnh Lâm Đồng", "Trạm y tế xã An Nhơn"
    current: str | None = None  # the same commune in the 34-province structure: "xã Đạ Tẻh, tỉnh Lâm Đồng"

    def text(self, *, short: bool = False) -> str:
        """The canonical written form: facility first, then commune, district, province ("short": commune
        and district only)."""
        parts = [self.commune, self.district] if short else [self.facility, self.commune, self.district, self.province]
        return ", ".join(p for p in parts if p) or self.province


@dataclass(frozen=True)
class ProvinceInfo:
    key: str
    region: str
    zone: str  # naming zone for Kinh family names: north / central / south
    side: str  # territory before 1976: north / south
    north_districts: tuple[str, ...]
    pop: float
    cmnd: str
    ethnic: Weighted[str]
    names: tuple[tuple[int, int, str], ...]
    district_groups: dict[str, tuple[tuple[int, int, str], ...]]
    district_names: dict[str, tuple[tuple[int, int, str], ...]]

    def side_of(self, unit: Unit) -> str:
        return "north" if unit.district in self.north_districts else self.side


def _periods(rows: list) -> tuple[tuple[int, int, str], ...]:
    return tuple((int(a), int(b), str(name)) for a, b, name in rows)


@functools.cache
def provinces() -> dict[str, ProvinceInfo]:
    out = {}
    for key, d in load_provinces().items():
        groups = {}
        for group in d.get("districts", []):
            for district in group["in"]:
                groups[str(district)] = _periods(group["names"])
        out[key] = ProvinceInfo(
            key=key,
            region=d["region"],
            zone=d["zone"],
            side=d["side"],
            north_districts=tuple(str(x) for x in d.get("north_districts", [])),
            pop=float(d["pop"]),
            cmnd=str(d["cmnd"]),
            ethnic=Weighted(d["ethnic"]),
            names=_periods(d["names"]),
            district_groups=groups,
            district_names={str(k): _periods(v) for k, v in d.get("district_names", {}).items()},
        )
    return out


@functools.lru_cache(maxsize=8192)
def province_name(province_key: str, district: str, year: int) -> str:
    return province_name_in(province_key, district, year)


@functools.lru_cache(maxsize=8192)
def district_name(province_key: str, district: str, district_type: str, year: int, south_pre1975: bool) -> str:
    renamed = name_in_force(provinces()[province_key].district_names.get(district, ()), year)
    name = renamed or f"{district_type.lower()} {district}"
    if south_pre1975:  # RVN called every district a "quận"
        name = "quận " + split_unit_word(name)[1]
    return name


def commune_name(unit: Unit) -> str:
    return f"{unit.ward_type.lower()} {unit.ward}"


def make_place(unit: Unit, year: int, era: str, facility: str | None = None) -> Place:
    return Place(
        commune=commune_name(unit),
        district=district_name(unit.province_key, unit.district, unit.district_type, year, era == "south_pre1975"),
        province=province_name(unit.province_key, unit.district, year),
        facility=facility,
        current=unit.current,
    )


# ---- which communes a page of a given era/year can name ---------------------------------------------------


def territory(era: str, year: int) -> str:
    if era == "south_pre1975":
        return "south"
    return "north" if year < 1976 else "all"


def allowed_ward_types(era: str, year: int) -> tuple[str, ...]:
    # RVN registers were kept by rural villages (xã); urban wards (phường) only appear from 1981 in the North.
    if era == "south_pre1975":
        return ("Xã",)
    return ("Xã", "Thị trấn") if year < 1981 else ("Xã", "Thị trấn", "Phường")


@dataclass(frozen=True)
class UnitPool:
    """The communes a page may name, grouped for the sampling patterns registrations need."""

    by_province: dict[str, tuple[Unit, ...]]
    by_district: dict[tuple[str, str], tuple[Unit, ...]]
    provinces: Weighted[str]  # population-weighted

    def any_unit(self, rng: np.random.Generator) -> Unit:
        return choose(rng, self.by_province[self.provinces.pick(rng)])


@functools.lru_cache(maxsize=16)
def unit_pool(terr: str, ward_types: tuple[str, ...]) -> UnitPool:
    infos = provinces()
    by_province: dict[str, list[Unit]] = {}
    for u in admin.units():
        if u.ward_type in ward_types and (terr == "all" or infos[u.province_key].side_of(u) == terr):
            by_province.setdefault(u.province_key, []).append(u)
    by_district: dict[tuple[str, str], list[Unit]] = {}
    for us in by_province.values():
        for u in us:
            by_district.setdefault((u.province_key, u.district), []).append(u)
    weights = {}
    for k, us in by_province.items():
        total = len(admin.by_province()[k])
        weights[k] = infos[k].pop * len(us) / total  # a half-eligible province keeps half its weight
    return UnitPool(
        by_province={k: tuple(v) for k, v in by_province.items()},
        by_district={k: tuple(v) for k, v in by_district.items()},
        provinces=Weighted(weights),
    )


# ---- health facilities -----------------------------------------------------------------------------------

_BIG_CITY_FACILITIES = {
    ("thanhphohanoi", "birth"): ("Bệnh viện Phụ sản Hà Nội", "Bệnh viện Phụ sản Trung ương"),
    ("thanhphohanoi", "death"): ("Bệnh viện Bạch Mai", "Bệnh viện Việt Đức", "Bệnh viện Thanh Nhàn"),
    ("thanhphohochiminh", "birth"): ("Bệnh viện Từ Dũ", "Bệnh viện Hùng Vương"),
    ("thanhphohochiminh", "death"): ("Bệnh viện Chợ Rẫy", "Bệnh viện Nhân dân 115", "Bệnh viện Nhân dân Gia Định"),
}


def facility_name(
    rng: np.random.Generator, level: str, place: Place, unit: Unit, era: str, year: int, purpose: str
) -> str:
    """A plausible facility at `level` ("commune", "district", "province") for a birth or a death."""
    if level == "commune":
        if era == "south_pre1975":
            return f"Nhà bảo sanh {place.commune}" if chance(rng, 0.5) else f"Bảo sanh viện {unit.ward}"
        if year < 1990:
            return f"Trạm xá {place.commune}" if chance(rng, 0.6) else f"Nhà hộ sinh {place.commune}"
        return f"Trạm y tế {place.commune}"
    if level == "district":
        if era == "south_pre1975":
            return f"Bệnh xá {place.district}"
        if year < 1995:
            return f"Bệnh viện {place.district}"
        ttyt = {"nd83_1998": 0.3, "nd158_2005": 0.5, "tt04_2020": 0.7}.get(era, 0.2)
        return f"Trung tâm Y tế {place.district}" if chance(rng, ttyt) else f"Bệnh viện Đa khoa {place.district}"
    big = _BIG_CITY_FACILITIES.get((unit.province_key, purpose))
    if big and year >= 1995 and chance(rng, 0.6):  # the names these hospitals have had since the 1990s
        return choose(rng, big)
    word, base = split_unit_word(place.province)
    if era == "south_pre1975":
        return f"Bệnh viện {base}"
    if year < 1990:
        return f"Bệnh viện {place.province}"
    if purpose == "birth" and year >= 2006 and chance(rng, 0.5):
        return f"Bệnh viện {'Sản Nhi' if chance(rng, 0.5) else 'Phụ sản'} {word} {base}"
    return f"Bệnh viện Đa khoa {place.province}"


@functools.lru_cache(maxsize=128)
def _province_seat_units(province_key: str, ward_types: tuple[str, ...]) -> tuple[Unit, ...]:
    """Town communes of the province's cities, where its hospitals stand: wards of a provincial city (or of the
    urban districts of a centrally-run one), else of a town, else its townships."""
    units = [u for u in admin.by_province()[province_key] if u.ward_type in ward_types]
    for district_types, ward_type in ((("Thành phố", "Quận"), "Phường"), (("Thị xã",), "Phường"), (None, "Thị trấn")):
        found = [
            u for u in units if u.ward_type == ward_type and (not district_types or u.district_type in district_types)
        ]
        if found:
            return tuple(found)
    return tuple(units)


@functools.lru_cache(maxsize=2048)
def _district_seat_units(province_key: str, district: str, ward_types: tuple[str, ...]) -> tuple[Unit, ...]:
    units = [u for u in admin.by_district()[(province_key, district)] if u.ward_type in ward_types]
    seat = [u for u in units if u.ward_type in ("Thị trấn", "Phường")]
    return tuple(seat or units)


def facility_place(rng: np.random.Generator, level: str, home: Unit, era: str, year: int, purpose: str) -> Place:
    """A facility near `home` at the given level, written with its own commune/district/province."""
    ward_types = allowed_ward_types(era, year)
    if level == "commune":
        unit = home
    elif level == "district":
        unit = choose(rng, _district_seat_units(home.province_key, home.district, ward_types) or (home,))
    else:
        unit = choose(rng, _province_seat_units(home.province_key, ward_types) or (home,))
    place = make_place(unit, year, era)
    name = facility_name(rng, level, place, unit, era, year, purpose)
    return Place(place.commune, place.district, place.province, name, place.current)
