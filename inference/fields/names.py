"""Person names: one spelling per name (hyphens and lower-case middle names written out, capitals where the
book writes them) and a check that every word is a Vietnamese syllable."""

from __future__ import annotations

import unicodedata

import regex

from hotich.text import nfc

from .issues import Reading, issue

__all__ = ["is_vietnamese_syllable", "read_name"]

_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]|h[mnlr]|[bkp][lr])?"  # hm-, kr-: minority names
_RHYME = r"[aăâeêioôơuưyŏĕŭ]{1,3}(?:ch|nh|ng|[cmnpt])?"  # breves: minority names (Hmŏk)
_SYLLABLE = regex.compile(_ONSET + _RHYME)
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def is_vietnamese_syllable(word: str) -> bool:
    """Does `word` have a Vietnamese syllable's shape: an onset, one to three vowels, a final consonant, and
    at most one tone mark? Loose on purpose: it is there to catch misreadings, not to teach spelling."""
    parts = unicodedata.normalize("NFD", nfc(word).lower())
    if sum(c in _TONES for c in parts) > 1:
        return False
    return _SYLLABLE.fullmatch(nfc("".join(c for c in parts if c not in _TONES))) is not None


def _capitalised(word: str) -> str:
    """Capital first letter, and after an apostrophe (H'Loan); the rest in lower case."""
    return regex.sub(r"(^|['’])(\w)", lambda m: m[1] + m[2].upper(), word.lower())


def read_name(text: str, *, upper: bool = False) -> Reading:
    """The name as the register's import wants it: words separated by single spaces, each capitalised (all
    in capitals when the book writes names in capitals, `upper`)."""
    words = nfc(text).replace("-", " ").strip().rstrip(".,;").split()
    if not words:
        return Reading(None)
    value = " ".join(w.upper() if upper else _capitalised(w) for w in words)
    # Ê Đê and Cơ Ho names join a prefix with an apostrophe (H'Loan, K'Điệp): each side is a syllable.
    odd = [w for w in words if not all(is_vietnamese_syllable(s) for s in regex.split(r"['’]", w) if s)]
    return Reading(value, (issue("name_not_vietnamese", ", ".join(odd)),) if odd else ())
