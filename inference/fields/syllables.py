"""The Vietnamese syllable lexicon: every syllable the national script writes, as onset + rhyme + tone under
its spelling rules (c/k/q, g/gh, ng/ngh, gi, y and iê/yê) and tone rules (a rhyme ending in c, ch, p or t
takes only the acute or the dot below).

Built from the phonology rather than from a word list, so that a rare given name is in it as surely as
"Nguyễn"; it holds no word that Vietnamese spelling cannot produce ("Nguyẽn", "Thj", "Hoàá"). A tone on
oa, oe and uy without a final is written both ways books write it: on the first vowel (hòa, thúy, the
older style) and on the second (hoà, thuý).
"""

from __future__ import annotations

from functools import lru_cache

from hotich.text import TONES, nfc

__all__ = ["ONSETS", "RHYMES", "is_syllable", "syllable_prefixes", "syllables"]

ONSETS = ("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh", "p",
          "ph", "qu", "r", "s", "t", "th", "tr", "v", "x")
"""Written onsets; "qu" and "gi" carry their glide, so their rhymes start after it (quý = qu + y)."""

_RHYME_TABLE = """
a ai ao au ay ac ach am an ang anh ap at
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e eo ec em en eng ep et
ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt
oc oe oem oen oeo oet oi om on ong ooc oong op ot
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uân uâng uât uây uc uê uêch uênh uêt ui um un ung uơ uôc uôi uôm uôn uông uôt up ut
uy uya uych uyên uyêt uynh uyt uyu
ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêng yêt yêu
"""
RHYMES = tuple(_RHYME_TABLE.split())
"""Written rhymes (vowels and final), toneless, one table row per first vowel."""

_VOWELS = frozenset("aăâeêioôơuưy")
_SHAPED = "ăâêôơư"
_STOPS = ("c", "ch", "p", "t")
_FRONT = "ieêy"
_AFTER_QU = frozenset({r[1:] for r in RHYMES if r[:2] in ("oa", "oă", "oe", "uâ", "uê", "uy", "uơ")}
                      | {"i", "ôc"})
"""qu writes the glide of oa, uê, uy...: quả = qu + (o)a, quỳnh = qu + (u)ynh; and quốc, qui."""
_BY_Y = frozenset({"", "d", "h", "k", "l", "m", "n", "qu", "s", "t", "th", "v"})
"""Onsets written before a lone y (Kỳ, Lý, Mỹ, Vy, Thy, Quý); elsewhere i is written."""


def _spelled(onset: str, rhyme: str) -> bool:
    """Does Vietnamese spelling write this onset before this rhyme?"""
    first = rhyme[0]
    if rhyme in _AFTER_QU and rhyme not in RHYMES:
        return onset == "qu"
    if rhyme == "y":
        return onset in _BY_Y
    if first == "y":  # yê- stands where no consonant precedes: yên, quyết
        return onset in ("", "qu")
    if rhyme.startswith("iê") and onset in ("", "qu", "gi"):
        return False
    if onset in ("c", "g", "ng"):
        # c, g, ng give way to k, gh, ngh before front vowels; g before i is the gi of gì, gìn, giết
        return first not in "eê" and (onset == "g" or first != "i")
    if onset in ("k", "gh", "ngh"):
        return first in _FRONT
    if onset == "qu":
        return rhyme in _AFTER_QU
    if onset == "gi":
        return first not in "iy"
    return True


def _tone_positions(rhyme: str) -> tuple[int, ...]:
    """Which letter of the rhyme takes the tone mark (two for oa, oe, uy without a final: both styles)."""
    vowels = [i for i, c in enumerate(rhyme) if c in _VOWELS]
    shaped = [i for i in vowels if rhyme[i] in _SHAPED]
    if shaped:
        return (shaped[-1],)
    if vowels[-1] < len(rhyme) - 1 or len(vowels) == 1:  # a final consonant, or one vowel
        return (vowels[-1],)
    if len(vowels) == 3:
        return (vowels[1],)
    if rhyme in ("oa", "oe", "uy"):
        return tuple(vowels)
    return (vowels[0],)


def _toned(rhyme: str) -> set[str]:
    marks = [m for m in TONES.values() if not m or not rhyme.endswith(_STOPS) or m in ("\u0301", "\u0323")]
    return {nfc(rhyme[:i + 1] + mark + rhyme[i + 1:]) for mark in marks for i in _tone_positions(rhyme)}


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every written syllable, lower case, NFC."""
    return frozenset(onset + toned for rhyme in {*RHYMES, *_AFTER_QU} for toned in _toned(rhyme)
                     for onset in ONSETS if _spelled(onset, rhyme))


def is_syllable(word: str) -> bool:
    """Is `word` (any case) one Vietnamese syllable?"""
    return nfc(word).lower() in syllables()


@lru_cache(maxsize=1)
def syllable_prefixes() -> dict[str, frozenset[str]]:
    """Every proper prefix of a syllable, the empty one too (lower case) -> the letters that may follow it."""
    following: dict[str, set[str]] = {}
    for word in syllables():
        for i in range(len(word)):
            following.setdefault(word[:i], set()).add(word[i])
    return {prefix: frozenset(letters) for prefix, letters in following.items()}
