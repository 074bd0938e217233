"""Recogniser output units <-> label ids, and label ids back to text with per-character confidences.

Torch-free: the ONNX inference path uses it as the training code does.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hotich.text import Units, nfc, to_units, unit_inventory

__all__ = ["Codec", "Decoded"]


class Codec:
    """Recogniser units <-> label ids, with the CTC blank at a stated index (0).

    Units are NFC characters or NFD bases and marks (`hotich.text.to_units`). Text holding a unit the
    charset lacks still encodes: the unit is left out and counted in `unknown`, so one odd label never
    stops a training run, and the count says how much was lost.
    """

    def __init__(self, units: Units, alphabet: list[str], blank: int = 0) -> None:
        if alphabet[blank] != "":
            raise ValueError("the blank's entry in the alphabet must be the empty string")
        self.units: Units = units
        self.alphabet = list(alphabet)
        self.blank = blank
        self._ids = {u: i for i, u in enumerate(self.alphabet) if i != blank}
        self.unknown: Counter[str] = Counter()

    @classmethod
    def for_units(cls, units: Units) -> Codec:
        """The codec of the whole project charset, blank first."""
        return cls(units, ["", *unit_inventory(units)], blank=0)

    def __len__(self) -> int:
        return len(self.alphabet)

    def encode(self, text: str) -> list[int]:
        ids = []
        for u in to_units(text, self.units):
            if u in self._ids:
                ids.append(self._ids[u])
            else:
                self.unknown[u] += 1
        return ids

    def ids_of(self, characters: frozenset[str]) -> frozenset[int]:
        """The labels of those of `characters` that are units of this codec (NFC: whole characters)."""
        return frozenset(self._ids[c] for c in characters if c in self._ids)

    def decode(self, ids: list[int], confidences: list[float] | None = None) -> Decoded:
        """Label ids (already collapsed, blanks allowed) -> NFC text with one confidence per character.

        A character's confidence is its weakest unit's: in NFD "ệ" is only as sure as its least sure mark.
        """
        probs = confidences if confidences is not None else [1.0] * len(ids)
        groups: list[tuple[list[str], float]] = []
        for i, p in zip(ids, probs, strict=True):
            if i == self.blank:
                continue
            unit = self.alphabet[i]
            if unicodedata.combining(unit):
                if groups:  # a mark with no letter before it is dropped, as `from_units` does
                    groups[-1][0].append(unit)
                    groups[-1] = (groups[-1][0], min(groups[-1][1], p))
            else:
                groups.append(([unit], p))
        text, char_probs = "", []
        for units, p in groups:
            chars = nfc("".join(units))
            text += chars
            char_probs += [p] * len(chars)
        return Decoded(text, tuple(char_probs))

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units, "blank": self.blank, "alphabet": self.alphabet}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Codec:
        return cls(d["units"], d["alphabet"], d["blank"])


@dataclass(frozen=True)
class Decoded:
    text: str
    confidences: tuple[float, ...]
    """One per character of `text`: the highest frame probability of its least certain unit."""
