"""Registrations as they follow each other down a page of a book."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from . import births, deaths, marriages
from .books import Book, BookContext, context
from .dates import registration_dates
from .notes import sample_correction, sample_note
from .sampling import chance, choose

COMMON_KEYS = (
    "reg.number", "reg.volume", "reg.date", "reg.type", "reg.office", "reg.officer", "reg.signer",
    "reg.signer_title", "reg.note", "reg.page",
)  # fmt: skip

SOURCE_KEYS: dict[str, tuple[str, ...]] = {
    "khai_sinh": COMMON_KEYS + births.KEYS,
    "ket_hon": COMMON_KEYS + marriages.KEYS,
    "khai_tu": COMMON_KEYS + deaths.KEYS,
}

_SAMPLERS: dict[str, Callable[[np.random.Generator, BookContext, date], tuple[str, dict[str, object]]]] = {
    "khai_sinh": births.sample,
    "ket_hon": marriages.sample,
    "khai_tu": deaths.sample,
}


@dataclass(frozen=True)
class Registration:
    values: dict[str, object]  # every key of SOURCE_KEYS[book.book_type]: str | int | date | Place | None
    corrections: dict[str, str]  # source key -> the wrong text first written and struck through


def sample_registrations(
    book: Book, first_number: int, first_page: int, count: int, rng: np.random.Generator
) -> list[Registration]:
    """`count` consecutive registrations of `book`, numbered from `first_number`, all on page `first_page`,
    dated in order within the book's year."""
    ctx = context(book)
    sampler = _SAMPLERS[book.book_type]
    keys = SOURCE_KEYS[book.book_type]
    chair, vice = book.signers[0], book.signers[-1]
    out = []
    for i, reg_date in enumerate(registration_dates(rng, book.era, book.year, first_number, count, ctx.total)):
        reg_type, specific = sampler(rng, ctx, reg_date)
        # the vice-chair signs much of the routine work, more so in recent books
        signer, title = vice if chance(rng, 0.25 if book.year < 2000 else 0.45) else chair
        values: dict[str, object] = {
            "reg.number": first_number + i,
            "reg.volume": book.volume,
            "reg.date": reg_date,
            "reg.type": reg_type,
            "reg.office": book.office_name,
            "reg.officer": book.officers[0]
            if len(book.officers) == 1 or chance(rng, 0.7)
            else choose(rng, book.officers),
            "reg.signer": signer,
            "reg.signer_title": title,
            "reg.page": first_page,
        } | specific
        note = sample_note(rng, ctx, values, reg_type)
        corrections: dict[str, str] = {}
        fix = sample_correction(rng, ctx, values)
        if fix:
            corrections, fix_note = fix
            note = f"{note}; {fix_note}" if note else fix_note
        values["reg.note"] = note
        out.append(Registration({k: values[k] for k in keys}, corrections))
    return out
