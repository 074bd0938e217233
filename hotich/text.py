"""Vietnamese text rules: NFC at every boundary, the letter inventory, and the units a recogniser emits.

Vietnamese writes a vowel's shape (ă â ê ô ơ ư) and its tone (five marks, or none) on one letter. NFC
keeps each toned vowel as one code point (134 of them with đ/Đ); NFD splits it into a base letter and up
to two combining marks. Which of the two a CTC recogniser should emit is a modelling choice to measure;
both are available here, and both come back to NFC.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Units = Literal["nfc", "nfd"]

TONES = {"": "", "grave": "\u0300", "acute": "\u0301", "hook": "\u0309", "tilde": "\u0303", "dot": "\u0323"}
"""Tone name -> combining mark (ngang, huyền, sắc, hỏi, ngã, nặng)."""
_TONE_MARKS = frozenset(mark for mark in TONES.values() if mark)
_VOWELS = "aăâeêioôơuưy"
_CONSONANTS = "bcdđghklmnpqrstvx" + "fjwz"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _toned(vowel: str) -> list[str]:
    return [nfc(vowel + mark) for mark in TONES.values()]


VOWELS_LOWER = "".join(t for v in _VOWELS for t in _toned(v))
"""The 72 lower-case vowels with every tone, NFC."""
MINORITY_LETTERS = "ŏĕŭ"
"""Breves used in the official romanisation of some ethnic-minority names (Ê Đê: "Y Siu Hmŏk")."""
LETTERS_LOWER = VOWELS_LOWER + _CONSONANTS + MINORITY_LETTERS
LETTERS = LETTERS_LOWER + LETTERS_LOWER.upper()
DIGITS = "0123456789"
PUNCTUATION = " ,.;:/-()'\"!?&+%#*_"
CHARSET = LETTERS + DIGITS + PUNCTUATION
"""Every character a register field may hold, NFC, in a fixed order (model codecs depend on it)."""


def to_units(text: str, units: Units) -> list[str]:
    """The sequence a recogniser emits for `text`: NFC characters, or NFD bases and combining marks."""
    text = nfc(text)
    if units == "nfc":
        return list(text)
    if units == "nfd":
        return list(unicodedata.normalize("NFD", text))
    raise ValueError(f"units must be 'nfc' or 'nfd', not {units!r}")


def from_units(units: list[str]) -> str:
    """Join emitted units back into NFC text (a stray leading mark is dropped, not glued to a space)."""
    text = nfc("".join(units))
    while text and unicodedata.combining(text[0]):
        text = text[1:]
    return text


def unit_inventory(units: Units) -> list[str]:
    """Every unit the charset needs under `units`, in a stable order."""
    seen: dict[str, None] = {}
    for ch in CHARSET:
        for u in to_units(ch, units):
            seen.setdefault(u, None)
    return list(seen)


def strip_tone(ch: str) -> tuple[str, str]:
    """Split one NFC letter into its toneless letter (shape kept: ơ stays ơ) and its tone name."""
    parts = unicodedata.normalize("NFD", ch)
    tone = next((name for name, mark in TONES.items() if mark and mark in parts), "")
    return nfc("".join(c for c in parts if c not in _TONE_MARKS)), tone
