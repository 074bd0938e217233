"""Closed lists (gender, the 54 ethnic groups, nationalities, relationships): a reading becomes the list's
own spelling, or the nearest entry when a letter or two were misread."""

from __future__ import annotations

import functools

import regex

from hotich.lexicons import ETHNIC_GROUPS, GENDERS, NATIONALITIES, RELATIONS
from hotich.text import edit_distance, fold, nfc

from .issues import Reading, issue

__all__ = ["LISTS", "read_enum", "spellings"]

LISTS: dict[str, tuple[str, ...]] = {
    "gender": tuple(GENDERS),
    "ethnicity": ETHNIC_GROUPS,
    "nationality": NATIONALITIES,
    "relation": RELATIONS,
}
"""Template lexicon name -> the entries a field with that lexicon may hold."""

_ALIASES: dict[str, dict[str, str]] = {
    "ethnicity": {"Hmông": "Mông", "H'Mông": "Mông", "Mèo": "Mông", "Khơ-me": "Khmer", "Ê-đê": "Ê Đê",
                  "Ba-na": "Ba Na", "Gia-rai": "Gia Rai", "Tày Nùng": "Tày"},
    "nationality": {"VN": "Việt Nam", "Việt-Nam": "Việt Nam", "Cam-pu-chia": "Campuchia", "Mỹ": "Hoa Kỳ"},
}  # fmt: skip
"""Other spellings registers use for an entry."""


_SEPARATORS = regex.compile(r"[-'’.]")


def _key(text: str) -> str:
    """Case, hyphens, apostrophes and spacing do not tell entries apart."""
    return " ".join(_SEPARATORS.sub(" ", nfc(text).casefold()).split())


@functools.cache
def _canonical(lexicon: str) -> dict[str, str]:
    """`_key` of every entry and alias -> the entry (built once: a page reads its lists ~500 times)."""
    return {_key(e): e for e in LISTS[lexicon]} | {_key(a): e for a, e in _ALIASES.get(lexicon, {}).items()}


@functools.cache
def _folded(lexicon: str) -> dict[str, str]:
    return {fold(k): e for k, e in _canonical(lexicon).items()}


def spellings(lexicon: str) -> list[str]:
    """Every written form of the list's entries a decoder should accept: as listed, in capitals, aliases."""
    entries = [*LISTS[lexicon], *_ALIASES.get(lexicon, {})]
    return sorted({form for e in entries for form in (e, e.upper(), e.lower())})


def read_enum(text: str, lexicon: str) -> Reading:
    """The list entry `text` names; else the nearest one (with `enum_corrected`): the same letters under
    other marks, or at most a quarter of its letters different; else the text as read (`enum_unknown`)."""
    if lexicon not in LISTS:
        raise KeyError(f"unknown lexicon {lexicon!r}; known: {', '.join(LISTS)}")
    text = nfc(text).strip().rstrip(".,;")
    if not text:
        return Reading(None)
    key = _key(text)
    canon = _canonical(lexicon)
    if key in canon:
        return Reading(canon[key])
    # A misread mark is the commonest slip: the spelling without marks decides first, then the letters.
    folded = _folded(lexicon)
    if fold(key) in folded:
        entry = folded[fold(key)]
        return Reading(entry, (issue("enum_corrected", f"{text!r} read as {entry!r}"),))
    distance, entry = min((edit_distance(fold(key), f), e) for f, e in folded.items())
    if distance <= max(1, len(key) // 4):
        return Reading(entry, (issue("enum_corrected", f"{text!r} read as {entry!r}"),))
    return Reading(text, (issue("enum_unknown", repr(text)),))
