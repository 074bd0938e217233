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
    again = tmp_path / "again"
    CliRunner().invoke(main, ["synth", "lines", "--n", "30", "--seed", "2", "--fonts", "heldout",
                              "--out", str(again), "--workers", "2"])
    assert (again / "labels.tsv").read_bytes() == (out / "labels.tsv").read_bytes()
    assert all((again / r.split("\t")[0]).read_bytes() == (out / r.split("\t")[0]).read_bytes() for r in rows)


def test_contact_sheet_of_generated_pages(tmp_path):
    runner = CliRunner()
    pages = tmp_path / "pages"
    runner.invoke(main, ["synth", "pages", "--n", "2", "--seed", "3", "--out", str(pages), "--workers", "1"])
    sheet = tmp_path / "sheet.jpg"
    result = runner.invoke(main, ["synth", "sheet", str(pages), "--out", str(sheet), "--n", "2", "--columns", "2"])
    assert result.exit_code == 0, result.output
    assert sheet.stat().st_size > 10_000


def test_interrupted_run_resumes_with_identical_pages(tmp_path):
    out = tmp_path / "pages"
    args = ["synth", "pages", "--n", "3", "--seed", "4", "--out", str(out), "--workers", "1",
            "--template", "khai_tu.tt04_2020"]
    runner = CliRunner()
    assert runner.invoke(main, args).exit_code == 0
    before = (out / "synth-4-000001.png").read_bytes()
    # A killed run leaves a page without its truth file: that page is redone, the others are kept.
    (out / "synth-4-000001.json").unlink()
    (out / "synth-4-000001.png").write_bytes(b"half-written")
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "2 pages were already complete" in result.output
    assert "1 pages in" in result.output
    assert (out / "synth-4-000001.png").read_bytes() == before


def test_same_seed_same_bytes_across_processes(tmp_path):
    """Separate processes with different hash seeds write identical files."""
    import os
    import subprocess
    import sys

    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "hotich.cli", "synth", "pages", "--n", "2", "--seed", "9",
                        "--out", str(out), "--workers", "2"], check=True, env=env, capture_output=True)
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert len(names) == 8
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
