"""Person names: one spelling per name (hyphens and lower-case middle names written out, capitals where the
book writes them), every word checked against the Vietnamese syllable lexicon, and the decoding constraint
a misread name is searched again within."""

from __future__ import annotations

import functools
import unicodedata

import regex

from hotich.inference.decoding import CACHED_PREFIXES
from hotich.lexicons import FAMILY_NAMES
from hotich.text import nfc

from .issues import Reading, issue
from .syllables import is_syllable, syllable_prefixes, syllables

__all__ = ["FamilyNameFirst", "NameWords", "is_vietnamese_syllable", "read_name"]

# Romanised ethnic-minority names (Ê Đê, Gia Rai, Mnông...) have syllables Vietnamese spelling has not: a
# cluster onset (Hrê, Blô, Kpă) or a breve (Hmŏk). Such a word keeps the loose shape check.
_MINORITY_MARK = regex.compile(r"^(?:h[mnlr]|[bkp][lr])|[ŏĕŭ]")
_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]|h[mnlr]|[bkp][lr])?"
_RHYME = r"[aăâeêioôơuưyŏĕŭ]{1,3}(?:ch|nh|ng|[cmnptkhlr])?"  # Hmŏk, Knul, Puih
_MINORITY_SHAPE = regex.compile(_ONSET + _RHYME)
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_APOSTROPHES = "'’"
_SEPARATORS = " -"


def _minority_syllable(word: str) -> bool:
    parts = unicodedata.normalize("NFD", word)
    return (sum(c in _TONES for c in parts) <= 1 and _MINORITY_MARK.search(word) is not None
            and _MINORITY_SHAPE.fullmatch(nfc("".join(c for c in parts if c not in _TONES))) is not None)


def is_vietnamese_syllable(word: str) -> bool:
    """Is `word` a syllable of the Vietnamese lexicon (`syllables`), or shaped like a syllable of a romanised
    ethnic-minority name (Hrê, Hmŏk)? Catches misreadings such as "Nguyẽn" or "Thj"."""
    return is_syllable(word) or _minority_syllable(nfc(word).lower())


def _stem(word: str) -> str:
    """A name word without the prefix Ê Đê and Cơ Ho names join with an apostrophe (H'Loan -> Loan)."""
    return word[2:] if len(word) >= 2 and word[1] in _APOSTROPHES else word


def _words(text: str) -> list[str]:
    return nfc(text).replace("-", " ").strip().rstrip(".,;").split()


_WORD_STARTS = regex.compile(r"(^|['’])(\w)")
_HEAD_ENDS = regex.compile(r"[ \-'’]")


def _capitalised(word: str) -> str:
    """Capital first letter, and after an apostrophe (H'Loan); the rest in lower case."""
    return _WORD_STARTS.sub(lambda m: m[1] + m[2].upper(), word.lower())


def read_name(text: str, *, upper: bool = False) -> Reading:
    """The name as the register's import wants it: words separated by single spaces, each capitalised (all
    in capitals when the book writes names in capitals, `upper`)."""
    words = _words(text)
    if not words:
        return Reading(None)
    value = " ".join(w.upper() if upper else _capitalised(w) for w in words)
    odd = [w for w in words if not is_vietnamese_syllable(_stem(w))]
    return Reading(value, (issue("name_not_vietnamese", ", ".join(odd)),) if odd else ())


class NameWords:
    """A name as a beam search may read it: lexicon syllables in any case, an apostrophe prefix allowed
    (H'Loan), separated by single spaces or hyphens. A `hotich.inference.decoding.Constraint`.

    `accepts` also takes minority-name words, which the search does not grow: a reading the frames give with
    such a word is kept (the pipeline searches only readings the constraint does not accept), while a misread
    Vietnamese name is searched again among the names Vietnamese spelling can write.
    """

    def __init__(self) -> None:
        self._words = syllables()
        self._next = {prefix: letters | {c.upper() for c in letters} for prefix, letters in syllable_prefixes().items()}
        # Answers kept per prefix: a page's beam searches grow the same names ("Nguyễn V...") again and again.
        self.allows = functools.lru_cache(maxsize=CACHED_PREFIXES)(self._allows)

    def _allows(self, prefix: str) -> bool:
        *done, last = prefix.lower().replace("-", " ").split(" ")
        last = _stem(last)
        return (last in self._next or last in self._words) and all(_stem(w) in self._words for w in done)

    def accepts(self, text: str) -> bool:
        words = _words(text)
        return bool(words) and all(is_vietnamese_syllable(_stem(w)) for w in words)

    def next_characters(self, prefix: str) -> frozenset[str] | None:
        last = _stem(prefix.lower().replace("-", " ").rsplit(" ", 1)[-1])
        chars = set(self._next.get(last, ()))
        if last in self._words:
            chars.update(_SEPARATORS)
        if len(last) == 1 and prefix[-1] not in _APOSTROPHES and last in "bcdđghklmnprstvxy":
            chars.update(_APOSTROPHES)
        return frozenset(chars)


def _head(text: str) -> str:
    """The first word, lower case, up to an apostrophe (H'Hen -> h)."""
    return _HEAD_ENDS.split(text.lower(), maxsplit=1)[0]


class FamilyNameFirst:
    """A name as `NameWords` reads it whose first word is one of `hotich.lexicons.FAMILY_NAMES`: what a name
    read with another first word is searched again within (`Pipeline._family_names`)."""

    def __init__(self) -> None:
        self._words = NameWords()
        self._names = frozenset(nfc(n).lower() for n in FAMILY_NAMES)
        self._starts = frozenset(n[:i] for n in self._names for i in range(len(n) + 1))

    def allows(self, prefix: str) -> bool:
        head = _head(prefix)
        whole = len(head) < len(prefix)
        return (head in self._names if whole else head in self._starts) and self._words.allows(prefix)

    def accepts(self, text: str) -> bool:
        return _head(text) in self._names and self._words.accepts(text)

    def next_characters(self, prefix: str) -> frozenset[str] | None:
        return self._words.next_characters(prefix)

    def has_family_name(self, text: str) -> bool:
        return _head(text) in self._names
