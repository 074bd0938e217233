"""Which knowledge reads which field, and the checks across a record's fields.

Nothing here names a template: a field's reader and decoding constraint follow from its type, format and
lexicon; cross-field checks from its `source` (two fields with one source record one fact, and every
dated event precedes `reg.date`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date
from itertools import pairwise

from hotich.inference.decoding import Constraint, Pattern, Vocabulary
from hotich.page import FieldIssue
from hotich.templates.model import FieldSpec, Template

from .dates import (
    DATE_CHARACTERS,
    DATE_PATTERN,
    DATE_WORDS_CHARACTERS,
    DATE_WORDS_PATTERN,
    YEAR_PATTERN,
    as_date,
    read_date,
    read_date_words,
    read_year,
)
from .enums import LISTS, read_enum, spellings
from .issues import Reading, issue, read_text
from .names import NameWords, read_name
from .numbers import (
    AGE_CHARACTERS,
    AGE_PATTERN,
    DOCUMENT_CHARACTERS,
    DOCUMENT_PATTERN,
    NUMBER_CHARACTERS,
    NUMBER_PATTERN,
    TIME_CHARACTERS,
    TIME_PATTERN,
    VOLUME_CHARACTERS,
    VOLUME_PATTERN,
    YOUNGEST_AGE,
    read_age,
    read_document_number,
    read_number,
    read_time,
    read_volume,
)
from .papers import ID_PAPER, read_id_paper
from .places import read_place

__all__ = [
    "AGES_AT_REGISTRATION",
    "DECLARANT_NAME",
    "DECLARANT_PARENTS",
    "ISSUED_WHERE",
    "PAGE_REPEATED",
    "REGISTERED_EVENT",
    "REGISTRATION_DATE",
    "REGISTRATION_NUMBER",
    "field_constraint",
    "read_field",
    "read_record",
]

REGISTRATION_DATE = "reg.date"
"""The source of the day a registration was made: every other date of the record precedes it."""
REGISTRATION_NUMBER = "reg.number"
REGISTERED_EVENT = ("child.birth_date", "death.date")
"""The sources of the day of the event a record registers: it came shortly before its registration (by law
births within weeks, deaths within days), or long before when registered late."""
PAGE_REPEATED = ("reg.officer", "reg.signer")
"""Fields every record of a page fills the same: the officer who registered and the one who signed."""
ISSUED_WHERE = {"death_notice.issuer": "death.place"}
"""A paper's issuer, by source, and the place (source) whose unit it names when it names one: a death notice
comes from the health station, hospital, People's Committee or police of where the death happened."""
AGES_AT_REGISTRATION = {"husband.birth_date": (15, 90), "wife.birth_date": (15, 90),
                        "father.birth_date": (13, 95), "mother.birth_date": (13, 95)}
"""Birth dates (or years) by source, and the ages their person may have on the day the record is registered:
a spouse (the RVN's law let women marry at 15), a parent (births are registered late, decades late at times).
On 800 validation pages, 146 of 1,356 spouses' birth dates were read outside, all of them wrong; 129 of 1,380
parents' birth years, 111 of them wrong."""
DECLARANT_NAME = "declarant.name"
DECLARANT_PARENTS = ("father.name", "mother.name")
"""Who most often declares a birth: on 800 validation pages the declarant was the father or the mother in 729
of 1,890 records naming one."""


def _reader(spec: FieldSpec, template: Template, registered: date | None) -> Callable[[str], Reading]:
    era = (template.valid.start, template.valid.end)
    latest = registered or template.valid.end
    if spec.format == "date_words":
        return read_date_words
    if spec.type == "date" or spec.format == "date":
        if spec.source == REGISTRATION_DATE:
            return lambda text: read_date(text, within=era)
        return lambda text: read_date(text, latest=latest)
    if spec.format == "year":
        return lambda text: read_year(text, latest=latest)
    if spec.format == "age":
        youngest = YOUNGEST_AGE.get(spec.source)
        return lambda text: read_age(text, youngest=youngest)
    year = registered.year if registered else None
    if spec.format == "number":
        return lambda text: read_number(text, book_year=year)
    if spec.format == "document":
        return lambda text: read_document_number(text, registered_year=year)
    if spec.format == "volume":
        return lambda text: read_volume(text, registered_year=year)
    if spec.format == "time":
        return read_time
    if spec.format == ID_PAPER:
        return read_id_paper
    if spec.type == "enum" and spec.lexicon in LISTS:
        lexicon = spec.lexicon
        return lambda text: read_enum(text, lexicon)
    if spec.type == "name":
        upper = spec.format == "upper"
        return lambda text: read_name(text, upper=upper)
    if spec.type == "place":
        year, short = registered.year if registered else None, spec.format == "place_short"
        return lambda text: read_place(text, year=year, short=short)
    return read_text


def read_field(spec: FieldSpec, template: Template, text: str, *, registered: date | None = None) -> Reading:
    """One field's value and issues, alone (`read_record` adds what the other fields of its record say).
    `registered` is the record's registration date when known: other dates cannot follow it."""
    return _reader(spec, template, registered)(text)


def field_constraint(spec: FieldSpec) -> Constraint | None:
    """What a beam search may read in this field: the grammar of dates and numbers, the closed list of an
    enumeration, the syllables of a name; None for free text (places, notes)."""
    return _constraint(spec.type, spec.format, spec.lexicon)


_GRAMMARS = {
    "date": (DATE_PATTERN, DATE_CHARACTERS), "year": (YEAR_PATTERN, DATE_CHARACTERS),
    "age": (AGE_PATTERN, AGE_CHARACTERS), "number": (NUMBER_PATTERN, NUMBER_CHARACTERS),
    "document": (DOCUMENT_PATTERN, DOCUMENT_CHARACTERS), "volume": (VOLUME_PATTERN, VOLUME_CHARACTERS),
    "time": (TIME_PATTERN, TIME_CHARACTERS), "date_words": (DATE_WORDS_PATTERN, DATE_WORDS_CHARACTERS),
}  # fmt: skip
"""Format -> the grammar its fields are read within, and every character it can hold."""


@functools.cache
def _constraint(kind: str, fmt: str, lexicon: str | None) -> Constraint | None:
    """One constraint per kind of field, built once: a list's prefix table costs more than reading its field."""
    if kind == "date" and fmt != "date_words":
        fmt = "date"
    if fmt in _GRAMMARS:
        return Pattern(*_GRAMMARS[fmt])
    if kind == "enum" and lexicon in LISTS:
        return Vocabulary(spellings(lexicon))
    if kind == "name":
        return NameWords()
    return None


def _same(a: str, b: str) -> bool:
    """Do two values of one fact agree? A year agrees with a full date of that year; case does not count."""
    if len(a) != len(b) and {len(a), len(b)} == {4, 10}:
        return a[-4:] == b[-4:]
    return a.casefold() == b.casefold()


def read_record(template: Template, texts: Mapping[str, str]) -> dict[str, Reading]:
    """Every field of one record (key -> recognised text; missing keys are empty), with the issues the record's
    fields raise against each other. Keys follow the template's field order."""
    specs = {spec.key: spec for spec in template.fields}
    unknown = sorted(set(texts) - set(specs))
    if unknown:
        raise KeyError(f"template {template.id} has no fields {unknown}")
    reg_spec = next((s for s in template.fields if s.source == REGISTRATION_DATE), None)
    registered = None
    if reg_spec is not None:
        registered = as_date(read_field(reg_spec, template, texts.get(reg_spec.key, "")).value)
    readings = {key: read_field(spec, template, texts.get(key, ""), registered=registered)
                for key, spec in specs.items()}
    extra: dict[str, list[FieldIssue]] = defaultdict(list)
    agree: dict[str, list[str]] = defaultdict(list)

    by_source: dict[str, list[str]] = defaultdict(list)
    for key, spec in specs.items():
        if readings[key].value is not None:
            by_source[spec.source].append(key)
    for keys in by_source.values():
        for a, b in pairwise(keys):
            if not _same(readings[a].value, readings[b].value):
                detail = f"{a} {readings[a].value!r} but {b} {readings[b].value!r}"
                extra[a].append(issue("fields_disagree", detail))
                extra[b].append(issue("fields_disagree", detail))
            elif readings[a].value.casefold() == readings[b].value.casefold():
                agree[a].append(b)
                agree[b].append(a)
    if registered is not None:
        for key, spec in specs.items():
            when = as_date(readings[key].value) if spec.type == "date" else None
            if spec.source != REGISTRATION_DATE and when is not None and when > registered:
                extra[key].append(issue("date_after_registration", f"{when:%d.%m.%Y} after {registered:%d.%m.%Y}"))
    for key, spec in specs.items():
        if readings[key].value is None and not spec.optional and not readings[key].issues:
            extra[key].append(issue("empty"))
    return {key: Reading(r.value, (*r.issues, *extra[key]), r.unit, tuple(agree[key]))
            if extra[key] or agree[key] else r for key, r in readings.items()}
