"""Synthetic pages: every template renders, truth is exact, files are reproducible."""

import json
import unicodedata

import numpy as np
import pytest

from hotich.datasets.synth.pages import SynthOptions, generate_page, write_page
from hotich.page import PageResult
from hotich.pagexml import to_page_xml, validate_page_xml
from hotich.templates import list_templates

TEMPLATES = [t.id for t in list_templates()]


@pytest.fixture(scope="module", params=TEMPLATES)
def clean_page(request):
    return generate_page(7, 0, SynthOptions(template=request.param, ageing="none"))


@pytest.fixture(scope="module", params=TEMPLATES)
def aged_page(request):
    return generate_page(11, 1, SynthOptions(template=request.param, ageing="strong", fonts="heldout"))


def _inside(polygon, w, h):
    return all(0 <= x <= w - 1 and 0 <= y <= h - 1 for x, y in polygon)


def test_written_fields_contain_ink_exactly_where_the_truth_says(clean_page):
    page = clean_page
    written = [f for r in page.truth.records for f in r.fields if f.text]
    assert written
    for field in written:
        for line in field.lines:
            xs = [p[0] for p in line.polygon]
            ys = [p[1] for p in line.polygon]
            region = page.ink[int(min(ys)) : int(max(ys)) + 1, int(min(xs)) : int(max(xs)) + 1]
            assert region.max() > 64, f"{page.truth.template_id} {field.key}: no ink in its line"


def test_empty_fields_have_no_lines_and_no_value(clean_page):
    for record in clean_page.truth.records:
        for field in record.fields:
            if not field.text:
                assert field.lines == [] and field.value is None


def test_aged_polygons_lie_inside_the_page(aged_page):
    truth = aged_page.truth
    h, w = aged_page.image.shape[:2]
    assert (truth.image.width, truth.image.height) == (w, h)
    for record in truth.records:
        assert _inside(record.polygon, w, h)
        for field in record.fields:
            assert _inside(field.polygon, w, h)
            assert all(_inside(line.polygon, w, h) for line in field.lines)


def test_aged_lines_are_darker_inside_than_paper(aged_page):
    """Ink survives ageing where the truth puts it: each line's core holds pixels far darker than its paper."""
    gray = aged_page.image.mean(axis=2)
    lines = [line for r in aged_page.truth.records for f in r.fields for line in f.lines]
    dark = 0
    for line in lines:
        pts = np.array(line.polygon)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        # The core of the band, away from the ruling at its edges.
        mx, my = (x1 - x0) * 0.04, (y1 - y0) * 0.2
        core = gray[int(y0 + my) : int(y1 - my), int(x0 + mx) : int(x1 - mx)]
        if core.size and np.percentile(core, 0.3) < np.median(core) - 18:
            dark += 1
    assert dark >= 0.95 * len(lines), f"{aged_page.truth.template_id}: {dark}/{len(lines)} lines show ink"


def test_page_xml_validates(aged_page):
    assert validate_page_xml(to_page_xml(aged_page.truth)) == []


def test_text_is_nfc_and_records_count_up(clean_page):
    truth = clean_page.truth
    numbers = []
    for record in truth.records:
        for field in record.fields:
            assert field.text == unicodedata.normalize("NFC", field.text)
            if field.key == "so":
                numbers.append(int(field.value))
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_truth_round_trips_through_json(clean_page):
    text = clean_page.truth.model_dump_json()
    again = PageResult.model_validate_json(text)
    assert again.records == clean_page.truth.records
    assert again.model_dump_json() == text


def test_same_seed_same_bytes(tmp_path):
    options = SynthOptions(ageing="mixed")
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        write_page(generate_page(3, 5, options), tmp_path / run)
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    other = generate_page(4, 5, options)
    assert json.loads((tmp_path / "a" / "synth-3-000005.json").read_text())["records"] != json.loads(
        other.truth.model_dump_json())["records"]


def test_a_tear_the_photo_crops_away_is_skipped():
    """Seed 300 page 40 is a phone photo whose torn corner falls outside the frame."""
    page = generate_page(300, 40, SynthOptions(ageing="strong", fonts="heldout"))
    assert page.image.shape == page.clean.shape
