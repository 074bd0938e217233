"""Field knowledge on real synthetic records: what clerks wrote reads back to the ground-truth values, and
what disagrees inside a record is flagged on the fields concerned."""

from pathlib import Path

import pytest

from hotich.datasets.lines import read_line_folder
from hotich.inference.decoding import Pattern, Vocabulary
from hotich.inference.fields.enums import LISTS
from hotich.inference.fields.knowledge import field_constraint, read_field, read_record
from hotich.inference.fields.names import NameWords
from hotich.page import PageResult
from hotich.templates.loader import get_template, list_templates


def _pages(folder: Path) -> list[PageResult]:
    return [PageResult.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _codes(reading) -> set[str]:
    return {i.code for i in reading.issues}


def test_written_text_of_every_template_reads_back_to_the_truth(light_pages_dir):
    checked = 0
    for page in _pages(light_pages_dir):
        template = get_template(page.template_id)
        specs = {s.key: s for s in template.fields}
        for record in page.records:
            readings = read_record(template, {f.key: f.text for f in record.fields})
            for field in record.fields:
                got = readings[field.key].value
                if specs[field.key].type == "place" and got != field.value:
                    # A clerk who leaves out the province writes less than the truth holds.
                    assert field.value.startswith(got), (field.text, field.value, got)
                else:
                    assert got == field.value, (page.template_id, field.key, field.text, field.value, got)
                checked += 1
    assert checked > 500


def test_a_date_in_words_agrees_with_the_digits_or_both_are_flagged():
    template = get_template("khai_sinh.tt04_2020")
    texts = {"ngay_dang_ky": "12/03/2021", "nks_ngay_sinh": "27/08/2020",
             "nks_ngay_sinh_bang_chu": "Ngày hai mươi bảy tháng tám năm hai nghìn không trăm hai mươi"}
    readings = read_record(template, texts)
    assert not any("fields_disagree" in _codes(r) for r in readings.values())
    assert readings["nks_ngay_sinh"].agrees_with == ("nks_ngay_sinh_bang_chu",)
    assert readings["nks_ngay_sinh_bang_chu"].agrees_with == ("nks_ngay_sinh",)
    assert readings["ngay_dang_ky"].agrees_with == ()
    texts["nks_ngay_sinh"] = "21/08/2020"
    readings = read_record(template, texts)
    assert readings["nks_ngay_sinh"].agrees_with == ()
    assert "fields_disagree" in _codes(readings["nks_ngay_sinh"])
    assert "fields_disagree" in _codes(readings["nks_ngay_sinh_bang_chu"])


def test_events_dated_after_their_registration_are_flagged():
    template = get_template("khai_sinh.nd158_2005")
    texts = {"ngay_dang_ky": "12/03/2009", "nks_ngay_sinh": "05/02/2009"}
    assert "date_after_registration" not in _codes(read_record(template, texts)["nks_ngay_sinh"])
    texts["nks_ngay_sinh"] = "05/06/2009"
    assert "date_after_registration" in _codes(read_record(template, texts)["nks_ngay_sinh"])


def test_a_spouse_younger_than_any_law_allowed_was_misread():
    template = get_template("ket_hon.nd04cp_1961")
    readings = read_record(template, {"chong_tuoi": "4", "vo_tuoi": "19"})
    assert "age_below_marriage_age" in _codes(readings["chong_tuoi"])
    assert "age_below_marriage_age" not in _codes(readings["vo_tuoi"])
    assert "age_below_marriage_age" not in _codes(read_record(get_template("khai_tu.nd04cp_1961"),
                                                              {"nkt_tuoi": "4"})["nkt_tuoi"])


def test_a_parent_read_as_a_child_dropped_a_digit():
    readings = read_record(get_template("khai_sinh.nd04cp_1961"), {"me_tuoi": "2", "cha_tuoi": "31"})
    assert _codes(readings["me_tuoi"]) == {"age_below_parent_age"} and not _codes(readings["cha_tuoi"])


def test_required_fields_left_empty_are_flagged_and_optional_ones_are_not():
    template = get_template("khai_sinh.nd158_2005")
    readings = read_record(template, {})
    for spec in template.fields:
        assert ("empty" in _codes(readings[spec.key])) == (not spec.optional), spec.key
    with pytest.raises(KeyError, match="no fields"):
        read_record(template, {"not_a_field": "x"})


def test_registration_dates_outside_the_templates_years_are_flagged():
    template = get_template("khai_sinh.nd83_1998")
    spec = next(s for s in template.fields if s.source == "reg.date")
    assert read_field(spec, template, "14/02/2003").issues == ()
    assert _codes(read_field(spec, template, "14/02/2012")) == {"date_outside_era"}


def test_every_template_field_with_a_grammar_or_list_accepts_what_clerks_write(light_pages_dir):
    for page in _pages(light_pages_dir):
        template = get_template(page.template_id)
        specs = {s.key: s for s in template.fields}
        for record in page.records:
            for field in record.fields:
                constraint = field_constraint(specs[field.key])
                if constraint is not None and field.text:
                    assert constraint.accepts(field.text), (field.key, field.text)


def test_constraints_follow_the_field_kind():
    kinds = {}
    for template in list_templates():
        for spec in template.fields:
            kinds[(spec.type, spec.format, spec.lexicon)] = field_constraint(spec)
    assert isinstance(kinds[("date", "date", "date")], Pattern)
    assert isinstance(kinds[("enum", "plain", "ethnicity")], Vocabulary)
    assert isinstance(kinds[("name", "title", "person_name")], NameWords)
    for grammar in ("time", "document", "volume", "date_words"):
        assert isinstance(kinds[("text", grammar, None if grammar != "date_words" else grammar)], Pattern)
    assert kinds[("text", "plain", None)] is None


def test_the_shipped_model_reads_list_fields_into_their_list_under_the_constraint(heldout_lines_dir,
                                                                                 shipped_recognizer):
    from hotich.inference.recognizer import read_gray

    lines = [s for s in read_line_folder(heldout_lines_dir) if s.text in LISTS["ethnicity"] + LISTS["nationality"]]
    assert lines, "the held-out lines hold no ethnicity or nationality"
    vocabulary = Vocabulary([*LISTS["ethnicity"], *LISTS["nationality"]])
    readings = shipped_recognizer.read([read_gray(s.path) for s in lines], beam_width=8,
                                       constraints=[vocabulary] * len(lines))
    assert all(r.text in vocabulary.entries for r in readings)


def test_free_text_drops_the_commas_writers_trail():
    template = get_template("khai_tu.nd158_2005")
    spec = next(s for s in template.fields if s.key == "gbt_co_quan_cap")
    assert read_field(spec, template, " Trạm y tế xã An Phú, ").value == "Trạm y tế xã An Phú"
    assert read_field(spec, template, "UBND TP.").value == "UBND TP."
