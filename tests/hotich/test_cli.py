import json
import unicodedata

from click.testing import CliRunner

from hotich.cli import main
from hotich.templates import list_templates


def test_templates_list_json_names_every_template():
    result = CliRunner().invoke(main, ["templates", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["id"] for r in rows} == {t.id for t in list_templates()}
    assert all({"id", "book_type", "era"} <= r.keys() for r in rows)


def test_synth_pages_writes_the_four_files_and_reports_speed(tmp_path):
    out = tmp_path / "pages"
    result = CliRunner().invoke(main, ["synth", "pages", "--n", "2", "--seed", "1", "--out", str(out),
                                       "--workers", "1", "--template", "khai_sinh.tt04_2020"])
    assert result.exit_code == 0, result.output
    assert "pages/s" in result.output
    for stem in ("synth-1-000000", "synth-1-000001"):
        for suffix in (".png", ".clean.png", ".json", ".xml"):
            assert (out / f"{stem}{suffix}").stat().st_size > 0


def test_unknown_template_is_a_usage_error_that_lists_templates(tmp_path):
    result = CliRunner().invoke(main, ["synth", "pages", "--n", "1", "--out", str(tmp_path), "--template", "nope.x"])
    assert result.exit_code == 2
    assert "khai_sinh.nd158_2005" in result.output


def test_synth_lines_writes_images_and_labels(tmp_path):
    out = tmp_path / "lines"
    result = CliRunner().invoke(main, ["synth", "lines", "--n", "30", "--seed", "2", "--fonts", "heldout",
                                       "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = (out / "labels.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 30
    for row in rows:
        name, text = row.split("\t")
        assert (out / name).is_file()
        assert text and text == unicodedata.normalize("NFC", text)


def test_contact_sheet_of_generated_pages(tmp_path):
    runner = CliRunner()
    pages = tmp_path / "pages"
    runner.invoke(main, ["synth", "pages", "--n", "2", "--seed", "3", "--out", str(pages), "--workers", "1"])
    sheet = tmp_path / "sheet.jpg"
    result = runner.invoke(main, ["synth", "sheet", str(pages), "--out", str(sheet), "--n", "2", "--columns", "2"])
    assert result.exit_code == 0, result.output
    assert sheet.stat().st_size > 10_000
