"""Vietnamese text rules: NFC at every boundary, the letter inventory, and the units a recogniser emits.

Vietnamese writes a vowel's shape (ă â ê ô ơ ư) and its tone (five marks, or none) on one letter. NFC
keeps each toned vowel as one code point (134 of them with đ/Đ); NFD splits it into a base letter and up
to two combining marks. Which of the two a CTC recogniser should emit is a modelling choice to measure;
both are available here, and both come back to NFC.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Sequence
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


def fold(text: str) -> str:
    """`text` in lower case without any mark (tones, vowel shapes, đ as d): how text compares when its marks
    may be misread or missing."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance (unit-cost insert, delete, substitute) between two sequences.

    Bit-parallel (Myers 1999, in Hyyrö's form for global distance): Python integers serve as bit vectors as
    long as `a`, so one pass over `b` costs a few big-integer operations per item: about 10x faster than the
    textbook dynamic programme on line-length strings (10,000 lines of 40 characters in about 0.3 s).
    """
    if len(a) > len(b):
        a, b = b, a
    m = len(a)
    if m == 0:
        return len(b)
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    match: dict[Hashable, int] = {}
    for i, item in enumerate(a):
        match[item] = match.get(item, 0) | (1 << i)
    pv, mv, score = mask, 0, m  # vertical +1 / -1 deltas of the current DP column; score is its last cell
    for item in b:
        eq = match.get(item, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask  # the DP's top row grows by one per item of b
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score
