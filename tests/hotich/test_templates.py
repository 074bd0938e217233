import itertools
from pathlib import Path

import pytest
import yaml

from hotich.templates import TemplateError, get_template, list_templates, load_template, template_dir

REQUIRED = {
    ("khai_sinh", "nd04cp_1961"), ("khai_sinh", "nd83_1998"), ("khai_sinh", "nd158_2005"), ("khai_sinh", "tt04_2020"),
    ("ket_hon", "nd04cp_1961"), ("ket_hon", "nd83_1998"), ("ket_hon", "nd158_2005"), ("ket_hon", "tt04_2020"),
    ("khai_tu", "nd04cp_1961"), ("khai_tu", "nd83_1998"), ("khai_tu", "nd158_2005"), ("khai_tu", "tt04_2020"),
}


def test_every_book_type_has_the_four_eras():
    have = {(t.book_type, t.era) for t in list_templates()}
    assert have >= REQUIRED


def test_both_layout_styles_are_shipped():
    assert {t.layout.style for t in list_templates()} == {"table", "form"}


@pytest.mark.parametrize("path", sorted(template_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_template_file_loads_and_is_named_by_its_id(path: Path):
    template = load_template(path)
    assert path.stem == template.id


@pytest.mark.parametrize("template", list_templates(), ids=lambda t: t.id)
def test_field_boxes_lie_inside_the_page_and_do_not_overlap(template):
    boxes = [(f.key, template.field_page_box(f, 0)) for f in template.fields]
    for key, (x0, y0, x1, y1) in boxes:
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, key
    for i, (ka, a) in enumerate(boxes):
        for kb, b in boxes[i + 1 :]:
            overlap_w = min(a[2], b[2]) - max(a[0], b[0])
            overlap_h = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_w <= 1e-9 or overlap_h <= 1e-9, f"{template.id}: {ka} overlaps {kb}"


@pytest.mark.parametrize("template", list_templates(), ids=lambda t: t.id)
def test_most_fields_map_to_a_ministry_column(template):
    mapped = [f for f in template.fields if f.moj]
    assert len(mapped) >= 0.6 * len(template.fields)


def test_record_blocks_tile_the_record_area():
    t = get_template("khai_sinh.nd158_2005")
    boxes = [t.record_box(i) for i in range(t.layout.records_per_page)]
    assert boxes[0][1] == pytest.approx(t.layout.record_area[1])
    assert boxes[-1][3] == pytest.approx(t.layout.record_area[3])
    for upper, lower in itertools.pairwise(boxes):
        assert upper[3] == pytest.approx(lower[1])


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load((template_dir() / "khai_sinh.nd158_2005.yaml").read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_error_names_the_file_and_the_field_key(tmp_path):
    def bad_type(raw):
        raw["fields"][2]["type"] = "colour"

    path = _write(tmp_path, bad_type)
    with pytest.raises(TemplateError) as err:
        load_template(path)
    assert str(path) in str(err.value)
    assert "fields[nks_ho_ten].type" in str(err.value)


def test_error_names_a_cell_outside_the_columns(tmp_path):
    def bad_column(raw):
        raw["fields"][0]["cell"]["column"] = 99

    with pytest.raises(TemplateError, match="column 99"):
        load_template(_write(tmp_path, bad_column))


def test_unknown_keys_are_rejected(tmp_path):
    def typo(raw):
        raw["layout"]["record_per_page"] = 3

    with pytest.raises(TemplateError, match=r"layout\.record_per_page"):
        load_template(_write(tmp_path, typo))


def test_not_yaml_is_a_clear_error(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_template(path)


def test_unknown_template_lists_the_known_ones():
    with pytest.raises(TemplateError, match=r"khai_sinh\.tt04_2020"):
        get_template("khai_sinh.nd999")
