"""The 63 provinces of 1992–07/2025 and the names each of them, or a group of its districts, bore since 1955
(`data/provinces.yaml`). The page generator writes a place as its year wrote it; field knowledge reads an
old name ("tỉnh Hà Nam Ninh", 1976–1991) back to the provinces it may mean."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

import yaml

from hotich.text import nfc

__all__ = ["UNIT_WORDS", "bare_unit_name", "load_provinces", "name_before_2025", "name_in_force", "province_name_in",
           "provinces_named", "split_unit_word"]

UNIT_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "khu vực", "phường", "huyện", "quận", "tỉnh", "khu", "xã")
"""Words that open an administrative unit's name, longest first so "thị xã" wins over "xã"."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader parses ~10x faster when available


def bare_unit_name(name: str, unit_type: str) -> str:
    """A unit's name without the unit word of its type, whatever that word's case ("Việt Yên" from "Thị Xã Việt
    Yên" of type "Thị xã": vietnamadminunits title-cases a few); the name itself when it does not open with it."""
    return name[len(unit_type) + 1 :] if name.casefold().startswith(unit_type.casefold() + " ") else name


def split_unit_word(name: str) -> tuple[str, str]:
    """("thị xã", "Bảo Lộc") from "thị xã Bảo Lộc"; ("", name) when it opens with no (lower-case) unit word."""
    for word in UNIT_WORDS:
        if name.startswith(word + " "):
            return word, name[len(word) + 1 :]
    return "", name


@functools.cache
def load_provinces() -> dict[str, dict[str, Any]]:
    """The table, keyed by vietnamadminunits' `provinceKey` (the file's header says what each entry holds)."""
    text = resources.files("hotich").joinpath("data", "provinces.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_Loader)


def _key(name: str) -> str:
    return " ".join(nfc(name).lower().split())


@functools.cache
def _bearers() -> dict[str, list[tuple[str, frozenset[str] | None]]]:
    """A name as written -> the provinces that bore it, each with the districts that did (None: all of it)."""
    out: dict[str, list[tuple[str, frozenset[str] | None]]] = {}
    for key, entry in load_provinces().items():
        for _, _, name in entry["names"]:
            out.setdefault(_key(name), []).append((key, None))
        for group in entry.get("districts") or []:
            districts = frozenset(_key(d) for d in group["in"])
            for _, _, name in group["names"]:
                out.setdefault(_key(name), []).append((key, districts))
    return out


def provinces_named(name: str, district: str | None = None) -> list[str]:
    """The provinces (keys) a page's province `name` ("tỉnh Nam Hà") may mean, in the table's order; a
    `district` (its name without the unit word) rules out provinces where only other districts bore it."""
    found = []
    for key, districts in _bearers().get(_key(name), []):
        if key not in found and (districts is None or district is None or _key(district) in districts):
            found.append(key)
    return found


def name_before_2025(key: str) -> str:
    """The province's name in the 63-province structure, which the administrative-unit lists know."""
    return next(name for _, last, name in reversed(load_provinces()[key]["names"]) if last >= 2024)


def name_in_force(periods: Iterable[Sequence[Any]], year: int) -> str | None:
    """The name of `periods` ([first year, last year, name] rows, as the table holds them) in force in `year`."""
    return next((str(name) for first, last, name in periods if first <= year <= last), None)


def province_name_in(key: str, district: str, year: int | None) -> str:
    """The name a page of `year` gives the province of `district` (a district of province `key`, without its
    unit word): the name of its group of districts where those had their own history; the 63-province name
    when the year is not known."""
    if year is None:
        return name_before_2025(key)
    entry = load_provinces()[key]
    periods = next((g["names"] for g in entry.get("districts") or [] if district in map(str, g["in"])),
                   entry["names"])
    name = name_in_force(periods, year)
    if name is None:
        raise ValueError(f"the province table names {key}/{district} for no page of {year}")
    return name
