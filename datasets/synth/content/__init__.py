"""Plausible, internally consistent content for synthetic ledger pages of birth, marriage and death books.

    book = sample_book("khai_sinh", "nd83_1998", 2003, rng)
    regs = sample_registrations(book, first_number=37, first_page=12, count=8, rng=rng)
    habits = sample_habits(book.era, rng)
    text = format_value(regs[0].values["child.birth_date"], "date_words", habits, rng)
    truth = normalise_value(regs[0].values["child.birth_date"], "date_words")   # "27.08.2008"

Every random choice goes through the numpy Generator passed in: same seed, same content.
"""

from .books import Book, expected_registrations, sample_book
from .formatting import format_value, normalise_value
from .habits import WritingHabits, sample_habits
from .places import Place
from .registrations import SOURCE_KEYS, Registration, sample_registrations

__all__ = [
    "SOURCE_KEYS",
    "Book",
    "Place",
    "Registration",
    "WritingHabits",
    "expected_registrations",
    "format_value",
    "normalise_value",
    "sample_book",
    "sample_habits",
    "sample_registrations",
]
