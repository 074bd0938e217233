"""Places as registers write them ("X. An Nhơn, H. Đạ Tẻh, T. Lâm Đồng"): abbreviated unit words written
out and unit words in lower case, as the import's free-text place columns hold them."""

from __future__ import annotations

import regex

from hotich.text import nfc

from .issues import Reading, issue

__all__ = ["UNIT_WORDS", "read_place"]

UNIT_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "khu vực", "phường", "huyện", "quận", "tỉnh", "khu", "xã")
"""Words that open an administrative unit's name, longest first so "thị xã" wins over "xã"."""
_ABBREVIATIONS = {"tp": "thành phố", "tt": "thị trấn", "tx": "thị xã", "p": "phường", "h": "huyện", "q": "quận",
                  "t": "tỉnh", "x": "xã"}  # fmt: skip
_ABBREVIATED = regex.compile(r"(?i)(tp|tt|tx|p|h|q|t|x)\s*\.\s*(\S.*)")


def _part(part: str) -> tuple[str, bool]:
    """One comma-separated part with its unit word written out in lower case; whether it was abbreviated."""
    if m := _ABBREVIATED.fullmatch(part):
        return f"{_ABBREVIATIONS[m[1].lower()]} {m[2]}", True
    lower = part.lower()
    for word in UNIT_WORDS:
        if lower.startswith(word + " "):
            return word + part[len(word) :], False
    return part, False


def read_place(text: str) -> Reading:
    """The place with its parts separated by ", ", unit words written out and in lower case."""
    parts = [p.strip() for p in nfc(text).strip().rstrip(".,;").split(",")]
    parts = [" ".join(p.split()) for p in parts if p.strip()]
    if not parts:
        return Reading(None)
    read = [_part(p) for p in parts]
    value = ", ".join(p for p, _ in read)
    return Reading(value, (issue("place_abbreviated", value),) if any(a for _, a in read) else ())
