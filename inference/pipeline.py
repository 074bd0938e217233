"""The page pipeline: one call turns a page image into its page result.

layout (preprocess, identify, register) -> each field's cell cut into the lines its template gives it ->
recognition of all the page's lines in width-sorted micro-batches on ONNX Runtime (CUDA when asked and
present) -> decoding, within the field's grammar or list where it has one -> field knowledge (normalised
values, issues, the record's fields against each other, registration numbers and dates down the page) ->
routing.
The CLI, the API, batch jobs and evaluation all read pages through `Pipeline.read_page`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from hotich.inference.decoding import Constraint, Pattern, alignment_score, beam_search, softmax
from hotich.inference.fields.dates import DATE_CHARACTERS, date_pattern_in, day_number, page_year
from hotich.inference.fields.issues import FieldIssue, issue
from hotich.inference.fields.knowledge import (
    AGES_AT_REGISTRATION,
    DECLARANT_NAME,
    DECLARANT_PARENTS,
    ISSUED_WHERE,
    PAGE_REPEATED,
    REGISTERED_EVENT,
    REGISTRATION_DATE,
    REGISTRATION_NUMBER,
    field_constraint,
    read_field,
    read_record,
)
from hotich.inference.fields.names import FamilyNameFirst
from hotich.inference.fields.numbers import check_sequence
from hotich.inference.fields.papers import ID_PAPER, number_grammar
from hotich.inference.fields.places import is_a_unit, named_for_place, place_candidates, place_rivals
from hotich.inference.joint_reading import (
    PAPER_MARGIN,
    SAME_NAME_MARGIN,
    SAME_PLACE_MARGIN,
    read_across_lines,
    read_as_one_date,
    read_as_one_of,
    read_as_one_value,
    read_before,
    read_in_order,
    read_in_sequence,
    read_jointly,
    read_within,
    reading_share,
)
from hotich.inference.language_prior import LanguagePrior
from hotich.inference.layout.pipeline import LayoutDetector, PageLayout
from hotich.inference.layout.register import FieldRegion, crop_field
from hotich.inference.recognizer import LineReading, LineRecognizer, decode_lines
from hotich.inference.routing import RoutingPolicy, field_confidence, routing_class
from hotich.page import Alternative, BBox, FieldResult, ImageInfo, PageResult, RecordResult, TextLineResult
from hotich.templates import get_template
from hotich.templates.model import FieldSpec, Template
from hotich.text import edit_distance

__all__ = ["UNKNOWN_TEMPLATE", "Pipeline", "line_quads"]

log = logging.getLogger(__name__)

UNKNOWN_TEMPLATE = "unknown"
"""template_id, book_type and era of a page no known template fits: nothing is read from it."""
FAMILY_NAME_MARGIN = 6.0
"""How much less likely (nats) the frames may find a name with a family name first than what they read, and
the name still take it (of 427 names on 30 validation pages, 3 nats read 194 right, 6 and 10 nats 199)."""
UNSURE_BELOW = 0.5
"""A one-line field with a grammar or list whose greedy reading keeps to it but is less sure than this is
searched again within it (one that breaks it always is). 0.9 and 0.7 read the same share of fields right on
50 test pages (72.02%), 0.7 and 0.5 on all 130 (71.84%); they searched 22, 18 and 14 lines a page."""
WEIGH_BELOW = 0.9
"""Lines of a field without one the greedy reading is less sure of than this are searched again, weighed by
the language model (and for the alternatives a reviewer is shown when they are the field's only line)."""


def line_quads(polygon: np.ndarray, n: int) -> list[np.ndarray]:
    """A cell's quad (TL, TR, BR, BL) cut into `n` equal bands, top to bottom, one per line of writing."""
    tl, tr, br, bl = np.asarray(polygon, np.float32)
    left = [tl + (bl - tl) * k / n for k in range(n + 1)]
    right = [tr + (br - tr) * k / n for k in range(n + 1)]
    return [np.stack([left[k], right[k], right[k + 1], left[k + 1]]) for k in range(n)]


@dataclass(frozen=True)
class _Line:
    region: FieldRegion
    quad: np.ndarray
    constraint: Constraint | None
    whole: bool
    """The field's only line: its alternatives are the field's."""
    page_dated: bool = False
    """A registration date in digits on one line: its year is read against the page's (`_within_page_year`),
    its date against its neighbours' (`_dates_in_order`)."""
    page_repeated: bool = False
    """A line of a field every record of a page fills the same (the officer's name): read together
    (`_read_repeated`)."""
    page_numbered: bool = False
    """A registration number on one line: the page's numbers are read as one run (`_read_numbers`)."""
    named: bool = False
    """The first line of a person's name: read with a family name first when the frames allow
    (`_family_names`)."""
    event_dated: bool = False
    """The date of the birth or death a record registers, in digits on one line: read as before its
    registration (`_events_before_registration`)."""
    spread: bool = False
    """A line of a date in words its cell holds on two lines: they are read as one text within the date
    grammar (`_dates_across_lines`)."""
    written_twice: bool = False
    """A one-line date its record also writes on one line in the other way (digits, words): the two are read
    as one date (`_dates_written_twice`)."""
    placed: bool = False
    """A line of a place: when the place does not name a unit as read, its lines are read as the unit their
    frames find likeliest among those it may be (`_places_in_units`)."""
    born: bool = False
    """A spouse's or a parent's birth date (or year) in digits on one line: read as giving them an age they may
    have (`_ages_that_can_be`)."""
    papered: bool = False
    """A line of an identity paper: when its number has a length no paper of its kind has, the paper's lines
    are read again within the lengths it may have (`_papers_of_their_length`)."""
    issued: bool = False
    """A line of a paper's issuer that names the unit of a place of its record (`ISSUED_WHERE`): read as naming
    that place's unit when its frames allow (`_issuers_where_it_happened`)."""

    @property
    def read_again(self) -> bool:
        """Does the page read this line again after its first reading (its logits are kept)?"""
        return (self.page_dated or self.page_repeated or self.page_numbered or self.named or self.event_dated
                or self.written_twice or self.spread or self.placed or self.born or self.papered
                or self.issued)


class Pipeline:
    """The shipped models (or those in the given folders) loaded once; `read_page` per page.

    `threads` caps ONNX Runtime's threads per model; `providers` (e.g. ["CUDAExecutionProvider",
    "CPUExecutionProvider"]) picks where the recogniser runs. `beam_width` searches constrained fields;
    `alternatives` is how many other readings a single-line field reports. `language` (on by default; routing
    is fitted with it) weighs the readings of unsure lines without a grammar or list by the shipped character
    language model.

    Constructing one sets OpenCV to one thread per call, for the whole process: a page's lines are prepared
    side by side by the recogniser's threads, and OpenCV splitting each small line image across the cores
    again cost CPU time for nothing (24 test pages on 2 cores, interleaved: 0.45 s p50 and 654 ms of CPU a
    page against 0.50 s and 749 ms; the layout stage, on whole pages, lost 17 ms of it).
    """

    def __init__(self, recognizer_dir: Path | None = None, identifier_dir: Path | None = None,
                 ruling_dir: Path | None = None, *, threads: int | None = None,
                 providers: Sequence[str] | None = None, beam_width: int = 8, alternatives: int = 2,
                 batch_size: int = 8, language: bool = True) -> None:
        cv2.setNumThreads(1)
        self.layout = LayoutDetector(identifier_dir, ruling_dir, threads=threads)
        self.recognizer = LineRecognizer(recognizer_dir, threads=threads, providers=providers)
        self.language = LanguagePrior.shipped() if language else None
        self.routing = RoutingPolicy.model_validate(self.recognizer.card.get("routing", {}))
        self.beam_width, self.alternatives, self.batch_size = beam_width, alternatives, batch_size
        self.family_first = FamilyNameFirst()
        if self.routing.fitted_with and self.routing.fitted_with != self.model_versions:
            log.warning("the review thresholds were chosen with %s, but this pipeline runs %s: the share of "
                        "accepted fields that are right may fall short; run `hotich calibrate routing` on "
                        "validation pages", self.routing.fitted_with, self.model_versions)

    @property
    def model_versions(self) -> dict[str, str]:
        versions = {"recognizer": self.recognizer.version, "identifier": self.layout.identifier.version}
        if self.layout.ruling is not None:
            versions["ruling"] = self.layout.ruling.version
        if self.language is not None:
            versions["language"] = self.language.version
        return versions

    def read_page(self, image: np.ndarray, *, page_id: str = "page", filename: str = "") -> PageResult:
        """Every field of every filled record on the page (a BGR or grayscale uint8 image)."""
        started = time.perf_counter()
        layout = self.layout.analyse(image)
        timings = dict(layout.timings_ms)
        h, w = image.shape[:2]
        base = {"page_id": page_id, "image": ImageInfo(filename=filename, width=w, height=h),
                "model_versions": self.model_versions}
        if layout.template_id is None:
            timings["total"] = (time.perf_counter() - started) * 1000
            return PageResult(template_id=UNKNOWN_TEMPLATE, template_confidence=layout.identification.confidence,
                              book_type=UNKNOWN_TEMPLATE, era=UNKNOWN_TEMPLATE, records=[], timings_ms=timings,
                              provenance={"identified_by": layout.identified_by}, **base)
        template = get_template(layout.template_id)
        tick = time.perf_counter()
        lines = self._lines(layout, template)
        readings, kept = self._recognise(image, lines)
        timings["recognise"] = (time.perf_counter() - tick) * 1000
        tick = time.perf_counter()
        found = self._within_page_year(template, lines, readings, kept)
        self._dates_in_order(template, lines, readings, kept)
        registered = _registered_days(template, lines, readings)
        self._events_before_registration(template, lines, readings, kept, registered)
        self._ages_that_can_be(template, lines, readings, kept, registered)
        self._dates_across_lines(template, lines, readings, kept)
        self._dates_written_twice(template, lines, readings, kept)
        self._papers_of_their_length(lines, readings, kept)
        place_shares = self._places_in_units(lines, readings, kept)
        self._issuers_where_it_happened(template, lines, readings, kept)
        self._family_names(lines, readings, kept)
        self._names_of_one_person(template, lines, readings, kept)
        self._read_repeated(template, lines, readings, kept)
        self._read_numbers(lines, readings, kept)
        records = self._records(template, lines, readings, found, place_shares)
        timings["fields"] = (time.perf_counter() - tick) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        confidence = dict(layout.identification.top3).get(layout.template_id, 0.0)
        return PageResult(template_id=template.id, template_confidence=confidence, book_type=template.book_type,
                          era=template.era, records=records, timings_ms=timings,
                          provenance={"identified_by": layout.identified_by}, **base)

    def _lines(self, layout: PageLayout, template: Template) -> list[_Line]:
        specs = {spec.key: spec for spec in template.fields}
        twice = _written_twice(template)
        lines = []
        for region in layout.fields:
            spec = specs[region.key]
            n = template.field_lines(spec)
            # A grammar or list constrains a whole value: it applies when the value is on one line.
            constraint = field_constraint(spec) if n == 1 else None
            dated = n == 1 and spec.source == REGISTRATION_DATE and spec.format == "date"
            repeated = spec.source in PAGE_REPEATED
            numbered = n == 1 and spec.source == REGISTRATION_NUMBER
            named = spec.type == "name"
            event = n == 1 and spec.source in REGISTERED_EVENT and spec.format == "date"
            spread = n > 1 and spec.format == "date_words"
            placed = spec.type == "place"
            born = n == 1 and spec.source in AGES_AT_REGISTRATION and spec.format in ("date", "year")
            papered = spec.format == ID_PAPER
            issued = spec.source in ISSUED_WHERE
            lines += [_Line(region, quad, constraint, n == 1, dated, repeated, numbered, named and k == 0, event,
                            spread, spec.key in twice, placed, born, papered, issued)
                      for k, quad in enumerate(line_quads(region.polygon, n))]
        return lines

    def _recognise(self, image: np.ndarray, lines: list[_Line]) -> tuple[list[LineReading], dict[int, np.ndarray]]:
        """Every line's reading, and the logits of the lines the page reads again (`_Line.read_again`):
        registration dates and numbers, names, and fields every record repeats."""
        codec, temperature = self.recognizer.codec, self.recognizer.temperature
        readings: list[LineReading] = [LineReading("", 0.0, ())] * len(lines)
        kept: dict[int, np.ndarray] = {}
        quads = [line.quad for line in lines]
        for indices, logits in self.recognizer.batches(quads, self.batch_size, functools.partial(crop_field, image)):
            kept |= {i: line_logits for i, line_logits in zip(indices, logits, strict=True) if lines[i].read_again}
            greedy = decode_lines(logits, codec, temperature)
            # A beam search (ten times the cost of the greedy path) where it pays: within a field's grammar, list
            # or lexicon when the greedy reading breaks it or is unsure; weighed by the language model on the
            # other lines the model is unsure of.
            constrained = [k for k, i in enumerate(indices) if lines[i].constraint is not None
                           and (_breaks(lines[i].constraint, greedy[k])
                                or (lines[i].whole and greedy[k].confidence < UNSURE_BELOW))]
            free = [k for k, i in enumerate(indices) if lines[i].constraint is None
                    and greedy[k].confidence < WEIGH_BELOW and (self.language is not None or lines[i].whole)]
            # A field's alternatives are its only line's: a line of a longer field is searched for its best
            # reading alone, which spares the forced alignments of the others.
            free_whole = [k for k in free if lines[indices[k]].whole]
            free_part = [k for k in free if not lines[indices[k]].whole]
            beams = decode_lines([logits[k] for k in constrained], codec, temperature, beam_width=self.beam_width,
                                 constraints=[lines[indices[k]].constraint for k in constrained],
                                 alternatives=self.alternatives)
            beams += decode_lines([logits[k] for k in free_whole], codec, temperature, beam_width=self.beam_width,
                                  alternatives=self.alternatives, prior=self.language)
            beams += decode_lines([logits[k] for k in free_part], codec, temperature, beam_width=self.beam_width,
                                  prior=self.language)
            for k, r in zip(constrained + free_whole + free_part, beams, strict=True):
                # Nothing the grammar or list allows fits the frames: keep what the frames say; field knowledge
                # flags it.
                if not (lines[indices[k]].constraint is not None and not r.text and r.confidence == 0.0):
                    greedy[k] = r
            for i, r in zip(indices, greedy, strict=True):
                readings[i] = r
        return readings, kept

    def _read_repeated(self, template: Template, lines: list[_Line], readings: list[LineReading],
                       kept: dict[int, np.ndarray]) -> None:
        """Each field every record of the page fills the same, read over all its records (`read_jointly`),
        within the field's lexicon."""
        specs = {spec.key: spec for spec in template.fields}
        for key, indices in _grouped(lines, lambda line: line.region.key if line.page_repeated else None).items():
            constraint = field_constraint(specs[key])
            joint = read_jointly([kept[i] for i in indices], [readings[i] for i in indices], self.recognizer.codec,
                                 self.recognizer.temperature, constraint.accepts if constraint else None)
            for i, reading in zip(indices, joint, strict=True):
                readings[i] = reading

    def _read_numbers(self, lines: list[_Line], readings: list[LineReading], kept: dict[int, np.ndarray]) -> None:
        """The page's registration numbers, record by record, read as one run (`read_in_sequence`)."""
        numbered = [i for i, line in enumerate(lines) if line.page_numbered]
        indices = sorted(numbered, key=lambda i: lines[i].region.record)
        joint = read_in_sequence([kept[i] for i in indices], [readings[i] for i in indices], self.recognizer.codec,
                                 self.recognizer.temperature)
        for i, reading in zip(indices, joint, strict=True):
            readings[i] = reading

    def _family_names(self, lines: list[_Line], readings: list[LineReading], kept: dict[int, np.ndarray]) -> None:
        """A name read with a first word no family name has ("Phong Minh Bắc") is searched again with one first
        (`FamilyNameFirst`), and takes what the search finds unless its own frames find that over
        `FAMILY_NAME_MARGIN` less likely than what they read (a family name the list lacks)."""
        codec, temperature = self.recognizer.codec, self.recognizer.temperature
        for i, line in enumerate(lines):
            text = readings[i].text
            if not line.named or " " not in text.strip() or self.family_first.has_family_name(text):
                continue
            probs = softmax(kept[i], temperature)
            found = beam_search(probs, codec, self.beam_width, self.family_first, top_k=1)
            if found and (alignment_score(probs, codec, found[0].text)
                          >= alignment_score(probs, codec, text) - FAMILY_NAME_MARGIN):
                readings[i] = LineReading(found[0].text, found[0].confidence, found[0].char_confidences)

    def _names_of_one_person(self, template: Template, lines: list[_Line], readings: list[LineReading],
                             kept: dict[int, np.ndarray]) -> None:
        """A record's one-line names that may be one person's, read together within the name lexicon
        (`read_as_one_value`): a name and the name under its signature, and the declarant's with the father's
        or the mother's, whichever was read nearer (a birth is most often declared by a parent)."""
        specs = {spec.key: spec for spec in template.fields}
        by_record = _grouped(lines, lambda line: line.region.record if line.named and line.whole else None)
        for indices in by_record.values():
            by_source: dict[str, list[int]] = {}
            for i in indices:
                by_source.setdefault(specs[lines[i].region.key].source, []).append(i)
            declared = by_source.pop(DECLARANT_NAME, [])
            parents = [i for source in DECLARANT_PARENTS for i in by_source.pop(source, [])]
            if declared and parents:
                nearest = min(parents, key=lambda i: edit_distance(readings[i].text, readings[declared[0]].text))
                declared.append(nearest)
            for group in [declared, *by_source.values()]:
                if len(group) < 2:
                    continue
                lexicon = field_constraint(specs[lines[group[0]].region.key])  # built once, shared
                read = read_as_one_value([[kept[i]] for i in group], [[readings[i]] for i in group],
                                         self.recognizer.codec, self.recognizer.temperature,
                                         lexicon.accepts if lexicon else lambda text: True, SAME_NAME_MARGIN)
                for i, (reading,) in zip(group, read, strict=True):
                    readings[i] = reading

    def _within_page_year(self, template: Template, lines: list[_Line], readings: list[LineReading],
                          kept: dict[int, np.ndarray]) -> dict[int, FieldIssue]:
        """Registration dates fall within the years the book's template was in use, and down a page within weeks
        of each other. A date read in a year outside the template's is searched again within its years; then a
        date read in another year than most of the page's is searched again within that year (or the next, for
        a page that spans New Year). Its reading is replaced when the frames allow one there, and the date
        flagged for review when they do not. Returns the issue of each line it touched."""
        specs = {spec.key: spec for spec in template.fields}
        dated = {i: line_logits for i, line_logits in kept.items() if lines[i].page_dated}

        def value_of(i: int) -> str | None:
            return read_field(specs[lines[i].region.key], template, readings[i].text).value

        values = {i: value_of(i) for i in dated}
        found: dict[int, FieldIssue] = {}
        era = range(template.valid.start.year, template.valid.end.year + 1)
        outside = [i for i, value in values.items()
                   if value is not None and value[-4:].isdigit() and int(value[-4:]) not in era]
        if outside:
            constraint = Pattern(date_pattern_in(era), DATE_CHARACTERS)
            for i, again in zip(outside, self._search_again([dated[i] for i in outside], constraint), strict=True):
                if again.text:
                    found[i] = issue("date_era_year", f"{era.start}-{era.stop - 1}; the frames alone read "
                                                      f"{readings[i].text!r}")
                    readings[i] = again
                    values[i] = value_of(i)
        year = page_year(list(values.values()))
        if year is None:
            return found
        constraint = Pattern(date_pattern_in([year, year + 1]), DATE_CHARACTERS)
        others = [i for i, value in values.items()
                  if value is not None and value[-4:] not in (str(year), str(year + 1))]
        for i, again in zip(others, self._search_again([dated[i] for i in others], constraint), strict=True):
            if again.text:
                found[i] = issue("date_page_year", f"{year}; the frames alone read {readings[i].text!r}")
                readings[i] = again
            else:
                found[i] = issue("date_not_page_year", f"{values[i]} on a page of {year}")
        return found

    def _dates_in_order(self, template: Template, lines: list[_Line], readings: list[LineReading],
                        kept: dict[int, np.ndarray]) -> None:
        """The page's registration dates, record by record, read as never going back (`read_in_order`), within
        the page's year and the next (or the template's years when the page has no year yet)."""
        dated = sorted((i for i in kept if lines[i].page_dated), key=lambda i: lines[i].region.record)
        if len(dated) < 2:
            return
        spec = next(s for s in template.fields if s.key == lines[dated[0]].region.key)
        day_of = _day_reader(spec, template)
        year = page_year([read_field(spec, template, readings[i].text).value for i in dated])
        years = [year, year + 1] if year is not None else range(template.valid.start.year, template.valid.end.year + 1)
        within = Pattern(date_pattern_in(years), DATE_CHARACTERS)
        ordered = read_in_order([kept[i] for i in dated], [readings[i] for i in dated], self.recognizer.codec,
                                self.recognizer.temperature, day_of, within)
        for i, reading in zip(dated, ordered, strict=True):
            readings[i] = reading

    def _events_before_registration(self, template: Template, lines: list[_Line], readings: list[LineReading],
                                    kept: dict[int, np.ndarray], registered: dict[int, int]) -> None:
        """Each record's birth or death date read as on or shortly before its registration date (`read_before`),
        when that was read as a whole date."""
        specs = {spec.key: spec for spec in template.fields}
        for i, line in enumerate(lines):
            if not line.event_dated or line.region.record not in registered:
                continue
            spec, day = specs[line.region.key], registered[line.region.record]
            year = date.fromordinal(day).year
            within = Pattern(date_pattern_in([year - 1, year]), DATE_CHARACTERS)
            readings[i] = read_before(kept[i], readings[i], self.recognizer.codec, self.recognizer.temperature,
                                      _day_reader(spec, template), day, within)

    def _ages_that_can_be(self, template: Template, lines: list[_Line], readings: list[LineReading],
                          kept: dict[int, np.ndarray], registered: dict[int, int]) -> None:
        """Each spouse's or parent's birth date (or year) read as making them younger or older than they may be on
        the day the record was registered (`AGES_AT_REGISTRATION`), when that was read as a whole date, read
        again within the years that allow (`read_within`)."""
        specs = {spec.key: spec for spec in template.fields}
        for i, line in enumerate(lines):
            if not line.born or line.region.record not in registered:
                continue
            spec, year = specs[line.region.key], date.fromordinal(registered[line.region.record]).year
            youngest, oldest = AGES_AT_REGISTRATION[spec.source]
            years = range(year - oldest, year - youngest + 1)
            year_of = _year_reader(spec, template)
            if (born := year_of(readings[i].text)) is None or born in years:
                continue
            pattern = date_pattern_in(years) if spec.format == "date" else "|".join(map(str, years))
            readings[i] = read_within(kept[i], readings[i], self.recognizer.codec, self.recognizer.temperature,
                                      year_of, Pattern(pattern, DATE_CHARACTERS))

    def _dates_across_lines(self, template: Template, lines: list[_Line], readings: list[LineReading],
                            kept: dict[int, np.ndarray]) -> None:
        """Each date in words written over two lines of its cell, read as one text (`read_across_lines`)."""
        specs = {spec.key: spec for spec in template.fields}
        cells = _grouped(lines, lambda line: (line.region.record, line.region.key) if line.spread else None)
        for (_, key), indices in cells.items():
            grammar = field_constraint(specs[key])
            if grammar is None:
                continue
            read = read_across_lines([kept[i] for i in indices], [readings[i] for i in indices], self.recognizer.codec,
                                     self.recognizer.temperature, grammar)
            for i, reading in zip(indices, read, strict=True):
                readings[i] = reading

    def _dates_written_twice(self, template: Template, lines: list[_Line], readings: list[LineReading],
                             kept: dict[int, np.ndarray]) -> None:
        """Each record's date written in digits and again in words, read as one date (`read_as_one_date`)."""
        specs = {spec.key: spec for spec in template.fields}
        pairs = _grouped(lines, lambda line: (line.region.record, specs[line.region.key].source)
                         if line.written_twice else None)
        for indices in pairs.values():
            if len(indices) < 2:
                continue
            chosen = [specs[lines[i].region.key] for i in indices]
            one = read_as_one_date([kept[i] for i in indices], [readings[i] for i in indices], self.recognizer.codec,
                                   self.recognizer.temperature,
                                   [_day_reader(spec, template) for spec in chosen],
                                   [field_constraint(spec) for spec in chosen])
            for i, reading in zip(indices, one, strict=True):
                readings[i] = reading

    def _papers_of_their_length(self, lines: list[_Line], readings: list[LineReading], kept: dict[int, np.ndarray]
                                ) -> None:
        """Each identity paper whose number was read with a length no paper of its kind has (a CMND of 8 or 10
        digits), read again within the lengths it may have (`number_grammar`, `read_across_lines`)."""
        cells = _grouped(lines, lambda line: (line.region.record, line.region.key) if line.papered else None)
        for indices in cells.values():
            grammar = number_grammar(" ".join(readings[i].text for i in indices if readings[i].text))
            if grammar is None:
                continue
            read = read_across_lines([kept[i] for i in indices], [readings[i] for i in indices], self.recognizer.codec,
                                     self.recognizer.temperature, grammar, PAPER_MARGIN)
            for i, reading in zip(indices, read, strict=True):
                readings[i] = reading

    def _places_in_units(self, lines: list[_Line], readings: list[LineReading], kept: dict[int, np.ndarray]
                         ) -> dict[Hashable, float]:
        """Each place that does not name a unit as read, read as the unit its frames find likeliest among those
        its district and province as read hold, or its commune's name is near (`read_as_one_of`); then the
        page's places read near one another, together (`read_as_one_value`). Returns each place's share
        against its nearest rival units (`reading_share`) by (record, field key)."""
        codec, temperature = self.recognizer.codec, self.recognizer.temperature
        cells = _grouped(lines, lambda line: (line.region.record, line.region.key) if line.placed else None)
        for indices in cells.values():
            texts = place_candidates(" ".join(readings[i].text for i in indices if readings[i].text))
            read = read_as_one_of([kept[i] for i in indices], [readings[i] for i in indices], codec, temperature,
                                  texts)
            for i, reading in zip(indices, read, strict=True):
                readings[i] = reading
        together = read_as_one_value([[kept[i] for i in indices] for indices in cells.values()],
                                     [[readings[i] for i in indices] for indices in cells.values()], codec,
                                     temperature, is_a_unit, SAME_PLACE_MARGIN)
        shares = {}
        for (cell, indices), read in zip(cells.items(), together, strict=True):
            for i, reading in zip(indices, read, strict=True):
                readings[i] = reading
            place = " ".join(r.text for r in read if r.text)
            shares[cell] = reading_share([kept[i] for i in indices], codec, temperature, place, place_rivals(place))
        return shares

    def _issuers_where_it_happened(self, template: Template, lines: list[_Line], readings: list[LineReading],
                                   kept: dict[int, np.ndarray]) -> None:
        """Each paper's issuer named for a unit (`ISSUED_WHERE`: "Trạm y tế xã Mỹ Linh") read as naming its record's
        place's unit of that word instead ("xã Mê Linh"), unless its frames find that over `PLACE_MARGIN` less
        likely than what they read (`named_for_place`, `read_as_one_of`)."""
        source_of = {spec.key: spec.source for spec in template.fields}
        key_of = {spec.source: spec.key for spec in template.fields}
        cells = _grouped(lines, lambda line: (line.region.record, line.region.key))
        for (record, key), indices in cells.items():
            where = ISSUED_WHERE.get(source_of[key])
            place = cells.get((record, key_of.get(where, ""))) if where else None
            if place is None:
                continue
            renamed = named_for_place(" ".join(readings[i].text for i in indices if readings[i].text),
                                      " ".join(readings[i].text for i in place if readings[i].text))
            if renamed is None:
                continue
            read = read_as_one_of([kept[i] for i in indices], [readings[i] for i in indices], self.recognizer.codec,
                                  self.recognizer.temperature, [renamed])
            for i, reading in zip(indices, read, strict=True):
                readings[i] = reading

    def _search_again(self, logits: list[np.ndarray], constraint: Constraint) -> list[LineReading]:
        return decode_lines(logits, self.recognizer.codec, self.recognizer.temperature, beam_width=self.beam_width,
                            constraints=[constraint] * len(logits), alternatives=self.alternatives)

    def _records(self, template: Template, lines: list[_Line], readings: list[LineReading],
                 line_issues: dict[int, FieldIssue], place_shares: Mapping[Hashable, float]) -> list[RecordResult]:
        specs = {spec.key: spec for spec in template.fields}
        by_field: dict[tuple[int, str], list[tuple[_Line, LineReading]]] = {}
        noted: dict[tuple[int, str], list[FieldIssue]] = {}
        for k, (line, reading) in enumerate(zip(lines, readings, strict=True)):
            by_field.setdefault((line.region.record, line.region.key), []).append((line, reading))
            if k in line_issues:
                noted.setdefault((line.region.record, line.region.key), []).append(line_issues[k])
        records = []
        for index in sorted({record for record, _ in by_field}):
            keys = [spec.key for spec in template.fields if (index, spec.key) in by_field]
            texts = {key: " ".join(r.text for _, r in by_field[(index, key)] if r.text) for key in keys}
            values = read_record(template, texts)
            lines_right = {key: [r.confidence for _, r in by_field[(index, key)]] for key in keys}
            fields = []
            for key in keys:
                parts = by_field[(index, key)]
                region = parts[0][0].region
                value = values[key]
                issues = [*value.issues, *noted.get((index, key), [])]
                confidence = field_confidence(lines_right[key], [field_confidence(lines_right[k])
                                                                 for k in value.agrees_with],
                                              place_shares.get((index, key), 1.0))
                alternatives = [Alternative(text=h.text, confidence=h.confidence) for h in parts[0][1].alternatives
                                ] if len(parts) == 1 else []
                polygon = [(float(x), float(y)) for x, y in region.polygon]
                fields.append(FieldResult(
                    key=key, text=texts[key], value=value.value, unit=value.unit, confidence=confidence,
                    needs_review=self.routing.needs_review(routing_class(specs[key], not texts[key]), confidence,
                                                           issues),
                    polygon=polygon, bbox=BBox.around(polygon), alternatives=alternatives, issues=issues,
                    lines=[TextLineResult(polygon=[(float(x), float(y)) for x, y in line.quad], text=r.text)
                           for line, r in parts]))
            points = [p for f in fields for p in f.polygon]
            records.append(RecordResult(index=index, polygon=_box_polygon(points), bbox=BBox.around(points),
                                        fields=fields))
        self._check_numbers(template, records)
        return records

    def _check_numbers(self, template: Template, records: list[RecordResult]) -> None:
        """Registration numbers rise by one down the page: a break is an issue on the number that breaks it.

        Neighbours that do follow each other do not raise each other's confidence: one hand wrote them, and
        its shared digits are misread alike (85, 86, 87 read as 05, 06, 07 still rise by one).
        """
        spec = next((s for s in template.fields if s.source == REGISTRATION_NUMBER), None)
        if spec is None:
            return
        numbers = [next((f for f in r.fields if f.key == spec.key), None) for r in records]
        for field, found in zip(numbers, check_sequence([f.value if f else None for f in numbers]), strict=True):
            if field is not None and found:
                field.issues.extend(found)
                field.needs_review = True


def _registered_days(template: Template, lines: list[_Line], readings: list[LineReading]) -> dict[int, int]:
    """Each record's registration day (a day number), where it was read as a whole date."""
    spec = next((s for s in template.fields if s.source == REGISTRATION_DATE), None)
    days = {}
    for line, reading in zip(lines, readings, strict=True):
        if line.page_dated and spec is not None and (day := _day_reader(spec, template)(reading.text)) is not None:
            days[line.region.record] = day
    return days


def _year_reader(spec: FieldSpec, template: Template) -> Callable[[str], int | None]:
    """The year a text read in a date or year field holds; None unless it holds one of four digits."""
    def year_of(text: str) -> int | None:
        value = read_field(spec, template, text).value
        return int(value[-4:]) if value and value[-4:].isdigit() and len(value) in (4, 7, 10) else None
    return year_of


def _day_reader(spec: FieldSpec, template: Template) -> Callable[[str], int | None]:
    """What a text read in a date field holds, as a day number (`day_number`); None unless a whole date."""
    return lambda text: day_number(read_field(spec, template, text).value)


def _grouped(lines: list[_Line], key_of: Callable[[_Line], Hashable | None]) -> dict[Hashable, list[int]]:
    """The indices of the lines `key_of` gives a key, by key, in page order."""
    groups: dict[Hashable, list[int]] = {}
    for i, line in enumerate(lines):
        if (key := key_of(line)) is not None:
            groups.setdefault(key, []).append(i)
    return groups


def _written_twice(template: Template) -> set[str]:
    """The keys of the one-line dates whose record also writes them on one line the other way (digits, words)."""
    one_line = [s for s in template.fields if s.format in ("date", "date_words") and template.field_lines(s) == 1]
    formats: dict[str, set[str]] = {}
    for spec in one_line:
        formats.setdefault(spec.source, set()).add(spec.format)
    return {spec.key for spec in one_line if len(formats[spec.source]) == 2}


def _breaks(constraint: Constraint | None, reading: LineReading) -> bool:
    """Does the greedy reading break its field's constraint? A blank line (read empty) breaks none."""
    return constraint is not None and bool(reading.text) and not constraint.accepts(reading.text)


def _box_polygon(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    box = BBox.around(points)
    return [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
