"""Whole pages through the pipeline against their truth: are the fields' values right, and is what the
routing accepts right?

A field is right when its normalised value equals the truth's (both empty counts). Every truth field of
every filled record is scored; a field the pipeline did not read is wrong and not accepted; a field it read
on a record the truth does not have is wrong when it holds a value. The same run gives the outcomes
`hotich calibrate routing` chooses its thresholds from.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from hotich.evaluation.layout import read_page, truth_files
from hotich.inference.pipeline import Pipeline
from hotich.inference.routing import INFORMATIONAL, Outcome, class_type, routing_class
from hotich.page import PageResult
from hotich.templates import get_template

__all__ = ["FieldFigures", "PageEvaluation", "evaluate_pages", "score_page"]


class FieldFigures(BaseModel):
    n: int
    exact: float
    """Share of fields whose value is right."""
    accepted_share: float
    """Share of fields accepted without review."""
    accepted_accuracy: float | None
    """Share of the accepted fields that are right; None when none were accepted."""


class PageEvaluation(FieldFigures):
    pages: int
    template_acc: float
    pages_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    by_type: dict[str, FieldFigures]


def _figures(outcomes: list[tuple[Outcome, bool]]) -> FieldFigures:
    accepted = [o for o, ok in outcomes if ok]
    return FieldFigures(n=len(outcomes), exact=float(np.mean([o.correct for o, _ in outcomes])) if outcomes else 0.0,
                        accepted_share=len(accepted) / len(outcomes) if outcomes else 0.0,
                        accepted_accuracy=float(np.mean([o.correct for o in accepted])) if accepted else None)


def score_page(result: PageResult, truth: PageResult) -> list[tuple[Outcome, bool]]:
    """(outcome, accepted) of every field of the page, truth fields first; each outcome in the routing class
    of what was read (`routing_class`: fields read empty are "blank")."""
    specs = {spec.key: spec for spec in get_template(truth.template_id).fields}
    read = {(r.index, f.key): f for r in result.records for f in r.fields} if result.template_id == truth.template_id \
        else {}
    scored = []
    for record in truth.records:
        for field in record.fields:
            got = read.pop((record.index, field.key), None)
            if got is None:
                scored.append((Outcome(routing_class(specs[field.key]), 0.0, True, False, truth.page_id), False))
            else:
                flagged = any(i.code not in INFORMATIONAL for i in got.issues)
                scored.append((Outcome(routing_class(specs[field.key], not got.text), got.confidence, flagged,
                                       got.value == field.value, truth.page_id), not got.needs_review))
    for got in read.values():
        if got.value is not None:
            scored.append((Outcome(routing_class(specs[got.key]) if got.key in specs else "text", got.confidence,
                                   False, False, truth.page_id), not got.needs_review))
    return scored


def evaluate_pages(pipeline: Pipeline, pages_dir: Path, limit: int | None = None, progress: bool = True
                   ) -> tuple[PageEvaluation, list[Outcome]]:
    """Read every page of a folder of synthetic pages (`hotich synth pages`) and score it; also the field
    outcomes for choosing routing thresholds."""
    scored: list[tuple[Outcome, bool]] = []
    seconds, template_ok = [], 0
    paths = truth_files(pages_dir, limit)
    for path in tqdm(paths, unit="page", desc="pages", disable=not progress):
        truth_json, image = read_page(path)
        truth = PageResult.model_validate(truth_json)
        tick = time.perf_counter()
        result = pipeline.read_page(image, page_id=truth.page_id, filename=truth.image.filename)
        seconds.append(time.perf_counter() - tick)
        template_ok += result.template_id == truth.template_id
        scored += score_page(result, truth)
    by_type: dict[str, list[tuple[Outcome, bool]]] = defaultdict(list)
    for item in scored:
        by_type[class_type(item[0].field_type)].append(item)
    overall = _figures(scored)
    evaluation = PageEvaluation(**overall.model_dump(), pages=len(paths), template_acc=template_ok / len(paths),
                                pages_per_s=len(paths) / sum(seconds), latency_p50_s=float(np.percentile(seconds, 50)),
                                latency_p95_s=float(np.percentile(seconds, 95)),
                                by_type={t: _figures(items) for t, items in sorted(by_type.items())})
    return evaluation, [o for o, _ in scored]
