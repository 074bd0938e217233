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
import itertools
from collections.abc import Sequence

import regex
from vietnamadminunits import ParseMode, convert_address, parse_address

from hotich.provinces import UNIT_WORDS, name_before_2025, provinces_named, split_unit_word
from hotich.text import nfc

from .gazetteer import MAX_EDITS, Match, edit_rate, match_units, units_near
from .issues import Reading, issue

__all__ = ["FACILITY_KINDS", "PLACE_CANDIDATES", "PLACE_RIVALS", "current_unit", "current_units", "is_a_unit",
           "named_for_place", "place_candidates", "place_rivals", "read_place"]

_ABBREVIATIONS = {"tp": "thành phố", "tt": "thị trấn", "tx": "thị xã", "p": "phường", "h": "huyện", "q": "quận",
                  "t": "tỉnh", "x": "xã"}  # fmt: skip
FACILITY_KINDS = ("Trạm y tế", "Trạm xá", "Nhà hộ sinh", "Nhà bảo sanh", "Bảo sanh viện", "Bệnh xá", "Bệnh viện",
                  "Bệnh viện Đa khoa", "Trung tâm Y tế", "Bệnh viện Phụ sản", "Bệnh viện Sản Nhi")
"""Kinds of health facility a place of birth or death names before the unit it stands in."""
PLACE_CANDIDATES = 16
"""Units a place that names none as read is read again as, the nearest (by the edits `gazetteer.units_near`
counts): each costs an alignment of the place's frames (~0.1 ms on 12 test pages, profiled). On 60 validation
pages 16 read 79.3% of the places right, every one of the district's communes 79.5%, 8 78.7%."""
PLACE_RIVALS = 4
"""Units nearest a place as read that its frames are weighed against for its confidence (`place_rivals`): on 800
validation pages 2, 4 and 8 ranked the places alike, 1 missed the nearest confusions ("Phước Ninh" for
"Phước Minh")."""
_UNIT_WORD_EDITS = 0.5
"""A word this near a unit word (edits a character, `gazetteer.edit_rate`) may be one misread ("Vinh", "Linh"
for "tỉnh")."""
_ABBREVIATED = regex.compile(r"(?i)(tp|tt|tx|p|h|q|t|x)\s*\.\s*(\S.*)")
_NAMED_UNITS = "thành phố|thị trấn|thị xã|phường|huyện|quận|tỉnh|xã"
"""The unit words that open the commune, district and province parts a place is matched by."""
_COMMUNE_WORD = regex.compile(r"(?i)(?<!\w)(?:thị trấn|phường|xã)(?!\w)")
_NUMBERED_UNIT = regex.compile(r"(?i)(?<!\w)(?:phường|quận|khu vực)\s+\d+")
_RUN_ON = regex.compile(rf"(?i)(?<!\bthị)\s+(?=(?:{_NAMED_UNITS}) )")
_LEVELS = {"xã": 0, "phường": 0, "thị trấn": 0, "đặc khu": 0, "huyện": 1, "quận": 1, "thị xã": 1, "tỉnh": 2}
"""Commune, district and province, by unit word; "thành phố" is a province when it comes last, else a district.
"khu" and "khu vực" name units of several levels over the decades and are not placed."""
_FACILITY_OF_A_UNIT = regex.compile(rf"(?i)(.+?)\s+({_NAMED_UNITS})\s+(\S.*)")
"""A facility's kind, and the unit word and name of the unit it is named for ("Trạm y tế | xã | Cư Bao")."""
_ABBREVIATION_LEFT = regex.compile(r"(?i)(?<!\w)(?:tp|tt|tx|p|h|q|t|x)\s*\.")


def _part(part: str) -> tuple[str, bool]:
    """One comma-separated part with its unit word written out in lower case; whether it was abbreviated."""
    if m := _ABBREVIATED.fullmatch(part):
        return f"{_ABBREVIATIONS[m[1].lower()]} {m[2]}", True
    word, _ = split_unit_word(part.lower())
    return word + part[len(word) :], False


def _split(text: str) -> list[str]:
    """The comma-separated parts, and a part that opens with a unit word cut again before each unit word it
    runs on into (a comma not written, or lost at a line break: "xã Nghĩa An huyện Nghĩa Đàn")."""
    parts = []
    for part in nfc(text).strip().rstrip(".,;").split(","):
        part = " ".join(part.split())
        if _part(part)[0].lower().startswith(UNIT_WORDS):
            parts += [p for p in _RUN_ON.split(part) if p]
        elif part:
            parts.append(part)
    return parts


def _matched(parts: list[str], year: int | None, short: bool) -> tuple[list[str], Match] | None:
    """`parts` with their last two or three (commune, district, province) replaced by the administrative
    unit nearest them (`gazetteer.match_units`), and the match; None when none is near enough."""
    found = [(k, m) for k in (3, 2) if len(parts) >= k and (m := match_units(parts[-k:], year=year))]
    if not found:
        return None
    k, match = min(found, key=lambda km: km[1].edits / sum(map(len, parts[-km[0]:])))
    return [*(_facility(p, match.parts) for p in parts[:-k]), *match.parts[:k if short else 3]], match


def _facility(part: str, units: tuple[str, ...]) -> str:
    """A health facility named for the unit it stands in ("Trạm y tế phường Tương Giang", "Bảo sanh viện
    Thanh Tuyền"): its kind and its unit each taken as the nearest known one when near enough. A facility of a
    known kind named with a unit word ("Trạm y tế xã ...", "Bệnh viện Đa khoa huyện ...") is the one of the
    place's unit of that word, however far its name was misread: a commune's health station stands in that
    commune, a district's hospital in that district. On 800 validation pages that made 34 more places right
    and none wrong."""
    if (named := _unit_named(part, units)) is not None:
        kind = min(FACILITY_KINDS, key=lambda k: edit_rate(named[0], k))
        if edit_rate(named[0], kind) <= MAX_EDITS:
            return f"{kind} {named[1]}"
    words = part.split()
    tails = [(tail, n) for unit in units for tail in (unit, unit.split(" ", 1)[1] if " " in unit else unit)
             if 0 < (n := len(tail.split())) < len(words)]
    near = [(edit_rate(" ".join(words[-n:]), tail), tail, n) for tail, n in tails]
    rate, tail, n = min(near, key=lambda r: (r[0], -r[2]), default=(1.0, "", 0))  # ties: the unit word too
    if rate > MAX_EDITS:
        return part
    head = " ".join(words[:-n])
    kind = min(FACILITY_KINDS, key=lambda k: edit_rate(head, k))
    return f"{kind if edit_rate(head, kind) <= MAX_EDITS else head} {tail}"


def _unit_named(text: str, units: Sequence[str]) -> tuple[str, str] | None:
    """What precedes the unit word in `text` (an office or facility named for a unit: "Trạm y tế xã Cao Bình",
    "UBND phường 3"), and the one of `units` of that word (of several, a "thành phố" district in a "thành phố"
    province, the one nearest as read); None when `text` names no unit of a word of theirs."""
    if (named := _FACILITY_OF_A_UNIT.fullmatch(text)) is None:
        return None
    same_word = [u for u in units if split_unit_word(u.lower())[0] == named[2].lower()]
    if not same_word:
        return None
    return named[1], min(same_word, key=lambda u: edit_rate(f"{named[2]} {named[3]}", u))


def named_for_place(text: str, place: str) -> str | None:
    """`text`, an office or facility named for a unit ("Trạm y tế xã Mỹ Linh", "UBND phường Hội Nga"), naming
    instead the unit of that word that `place` names (read as `read_place` reads it); None when it names no unit
    of a word `place` names, or already names that one."""
    value, text = read_place(place).value or "", " ".join(nfc(text).split())
    named = _unit_named(text, [p for p in value.split(", ") if split_unit_word(p)[0]])
    renamed = f"{named[0]} {named[1]}" if named is not None else None
    return renamed if renamed != text else None


def read_place(text: str, *, year: int | None = None, short: bool = False) -> Reading:
    """The place with its parts separated by ", ", unit words written out and in lower case; a commune,
    district and province matched to the administrative unit they are nearest, the province added when the
    book did not write it (its name in `year`, the page's) unless the column holds commune and district
    only (`short`)."""
    parts = _split(text)
    if not parts:
        return Reading(None)
    read = [_part(p) for p in parts]
    value = ", ".join(p for p, _ in read)
    issues = [issue("place_abbreviated", value)] if any(a for _, a in read) else []
    matched = _matched([p for p, _ in read], year, short)
    if matched is not None and ", ".join(matched[0]) != value:
        issues.append(issue("place_matched", value))
        value = ", ".join(matched[0])
        read = [_part(p) for p in matched[0]]
    if matched is not None and matched[1].province_uncertain and not short:
        issues.append(issue("place_province_year", matched[1].parts[2]))
    names_province = read[-1][0].startswith(("tỉnh ", "thành phố "))
    units = current_units(value) if names_province else []
    # A place that names units none of which could be found or matched, a commune that was not, or no unit at
    # all is not one a clerk may skip: on 400 validation pages, the 23 places read with no unit word and matched
    # to none ("1", "Kim La M": a misread cell) were all wrong, one of them at confidence 0.95. Nor is one that
    # names no commune but has words in its place that are no health facility ("4 Lộc Lập, huyện Phú Lộc").
    names_commune = _COMMUNE_WORD.search(value)
    unverified = not units or (names_commune and all(", " not in u for u in units))
    if matched is None and (unverified or (not names_commune and _unplaced_words(read))):
        issues.append(issue("place_not_found", value))
    if malformed := _malformed([p for p, _ in read]):
        issues.append(issue("place_malformed", malformed))
    if numbered := _NUMBERED_UNIT.search(value):
        issues.append(issue("place_numbered", numbered[0]))
    if len(units) > 1:
        issues.append(issue("place_ambiguous", " or ".join(units)))
    return Reading(value, tuple(issues), units[0] if len(units) == 1 else None)


@functools.lru_cache(maxsize=4096)
def is_a_unit(text: str) -> bool:
    """Is a place as read one whose commune and district (and province) are a unit that is, and nothing is out
    of place in it (`place_malformed`)?"""
    parts = [_part(p)[0] for p in _split(text)]
    return bool(parts) and _matched(parts, None, False) is not None and _malformed(parts) is None


def _unplaced_words(read: list[tuple[str, bool]]) -> bool:
    """Does the place hold a part that is neither a unit nor a health facility?"""
    return any(not (split_unit_word(p.lower())[0] or p.startswith(FACILITY_KINDS)) for p, _ in read)


def _malformed(parts: list[str]) -> str | None:
    """What keeps `parts` (unit words written out) from being what a place is: words (a facility, a hamlet),
    then at most one commune, district and province, in that order; None when nothing does. A unit word alone,
    a unit after another of its level or a higher one, words after a unit and an abbreviation left inside a
    part are what a misread unit word or a comma lost at a line break leave ("phường Tĩnh Biên, thị xã, tỉnh
    Biên", "xã Xuân Dương H. Thanh Chương"); on 800 validation pages, 214 places and no right one."""
    placed: list[int] = []
    for i, part in enumerate(parts):
        if part.lower() in UNIT_WORDS:
            return f"a unit word with no name: {part!r}"
        word, _ = split_unit_word(part.lower())
        if not word:
            if placed:
                return f"words after a unit: {part!r}"
            continue
        level = (2 if i == len(parts) - 1 else 1) if word == "thành phố" else _LEVELS.get(word)
        if level is None:
            continue
        if placed and level <= placed[-1]:
            return f"a unit out of order: {part!r}"
        placed.append(level)
    if found := _ABBREVIATION_LEFT.search(", ".join(parts)):
        return f"an abbreviation left: {found[0]!r}"
    return None


def place_candidates(text: str) -> list[str]:
    """`text` (a place as read) with the commune, district and province it names replaced by those of each
    unit it may be (`gazetteer.units_near`, the `PLACE_CANDIDATES` nearest), written as it was written (unit
    words, case, commas as read); none when it names a unit as read. When it names no commune and district
    to look up, a word read near a unit word ("huyện Châu Thành Vinh Tây Ninh": tỉnh, its comma lost at a
    line break) is taken as that unit word."""
    found = _candidates(text, PLACE_CANDIDATES)
    if found is None:
        return []  # read as a unit that is: the frames chose it
    for restored in [] if found else _unit_word_restored(text):
        found += _candidates(restored, PLACE_CANDIDATES) or []
    return list(itertools.islice(dict.fromkeys(found), PLACE_CANDIDATES))


def _candidates(text: str, limit: int, named_too: bool = False) -> list[str] | None:
    """The `limit` nearest units of `text` as it splits, written as it was written, itself left out; None when it
    names a unit as read, unless `named_too` (then only units whose commune's name is near are looked at)."""
    read = [_part(p)[0] for p in _split(text)]
    for k in (3, 2):
        if len(read) < k or not all(split_unit_word(p)[0] for p in read[-k:]):
            continue
        if not named_too and (exact := match_units(read[-k:])) is not None and exact.edits == 0:
            return None
        names = [_unit_name(p) for p in read[-k:]]
        found: list[str] = []
        # Nearest first: the first `limit` texts are enough.
        for unit in units_near(read[-k:], whole_districts=not named_too):
            renamed = _renamed(text, names, [_unit_name(n) for n in unit[:k]])
            if renamed and renamed != text and renamed not in found:
                found.append(renamed)
                if len(found) == limit:
                    break
        return found
    return []


@functools.lru_cache(maxsize=4096)  # a page's and a book's places repeat
def place_rivals(text: str, n: int = PLACE_RIVALS) -> tuple[str, ...]:
    """The `n` units nearest a place as read, other than the one it names, written as it was written: what
    the frames that read it might say instead ("xã Phước Minh" for "xã Phước Ninh", in the same district)."""
    return tuple(_candidates(text, n, named_too=True) or ())


_ONE_WORD_UNITS = ("tỉnh", "huyện", "quận", "phường", "xã")


def _unit_word_restored(text: str) -> list[str]:
    """`text` with one word after its first that is within `_UNIT_WORD_EDITS` of a one-word unit word written
    as that unit word (in the case it was read in), once for each such word."""
    words = text.split(" ")
    restored = []
    for i, word in enumerate(words[1:], start=1):
        bare = word.rstrip(",")
        if bare.lower() in _ONE_WORD_UNITS:
            continue
        for unit in _ONE_WORD_UNITS:
            if edit_rate(bare, unit) <= _UNIT_WORD_EDITS:
                written = unit.capitalize() if bare[:1].isupper() else unit
                restored.append(" ".join([*words[:i], written + word[len(bare):], *words[i + 1:]]))
    return restored


def _renamed(text: str, names: list[str], renamed: list[str]) -> str | None:
    """`text` with its last `names`, in order, replaced by `renamed`."""
    end = len(text)
    for old, new in reversed(list(zip(names, renamed, strict=True))):
        at = text.rfind(old, 0, end)
        if at < 0:
            return None
        text, end = text[:at] + new + text[at + len(old):], at
    return text


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
    word, _ = split_unit_word(part.lower())
    return part[len(word) + 1 :].strip() if word else part


def _is_commune(part: str) -> bool:
    return part.lower().startswith(("xã ", "phường ", "thị trấn ", "đặc khu "))


@functools.lru_cache(maxsize=4096)
def _lookup(units: str) -> str | None:
    try:
        parsed = parse_address(units, mode=ParseMode.LEGACY, keep_street=True, level=3)
        # The parser finds a commune's name anywhere in its part: "xã Ngọc Thanh Hành phố Phúc Yên" (a comma lost,
        # "thành phố" misread) is not xã Ngọc Thanh.
        commune = next((_unit_name(p) for p in units.split(", ") if _is_commune(p)), None)
        if parsed.street or (commune and parsed.short_ward and commune.casefold() != parsed.short_ward.casefold()):
            return None
        found = convert_address(units)
    except (ValueError, KeyError, IndexError):  # the lists' parser gives up on some texts
        return None
    if not found.province:
        return None
    return ", ".join(_part(name)[0] for name in (found.ward, found.province) if name)
