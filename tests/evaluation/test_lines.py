"""Line evaluation: every engine is scored with the same keys on the same real lines."""

import json
import shutil

import pytest
from click.testing import CliRunner

from hotich.cli import main
from hotich.evaluation.lines import HotichEngine, TesseractEngine, evaluate_lines
from hotich.models.card import load_card, write_card_file

KEYS = {"cer", "wer", "cer_nopunct", "line_acc", "ece", "lines_per_s", "n"}


def test_shipped_model_scores_with_every_key(shipped_recognizer, heldout_lines):
    evaluation, results = evaluate_lines(HotichEngine(shipped_recognizer), heldout_lines, progress=False)
    assert set(evaluation.model_dump()) >= KEYS
    assert evaluation.n == len(heldout_lines) == len(results)
    # the shipped v0.2 model: ~13% CER on these lines (see tests/inference/test_recognizer.py)
    assert 0.0 <= evaluation.cer < 0.2 and 0.0 <= evaluation.ece <= 1.0 and evaluation.lines_per_s > 0
    assert evaluation.line_acc == sum(r.text == r.reference for r in results) / len(results)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed (apt-get install "
                    "tesseract-ocr tesseract-ocr-vie)")
def test_tesseract_baseline_reads_the_same_lines(heldout_lines):
    evaluation, results = evaluate_lines(TesseractEngine(), heldout_lines[:4], progress=False)
    assert evaluation.n == 4 and all(0.0 <= r.confidence <= 1.0 for r in results)


def test_cli_prints_json_with_the_documented_keys(heldout_lines_dir, tmp_path):
    errors = tmp_path / "errors.tsv"
    result = CliRunner().invoke(main, ["eval", "lines", str(heldout_lines_dir), "--json", "--limit", "8",
                                       "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures.keys() >= KEYS and figures["n"] == 8
    assert errors.is_file()


def test_cli_records_figures_and_calibration_in_a_copy_of_the_card(heldout_lines_dir, shipped_recognizer, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(shipped_recognizer.model_dir, model)
    stale = load_card(model)
    stale["calibration"]["note"] = "what an earlier fit said"
    write_card_file(model, stale)
    result = CliRunner().invoke(main, ["calibrate", "recognizer", "--model", str(model), "--on",
                                       str(heldout_lines_dir)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["eval", "lines", str(heldout_lines_dir), "--model", str(model), "--record"])
    assert result.exit_code == 0, result.output
    card = load_card(model)
    assert card["calibration"]["fitted_on"] == str(heldout_lines_dir)
    assert "note" not in card["calibration"]  # a refit replaces the section whole
    assert card["metrics"][str(heldout_lines_dir)].keys() >= KEYS


def test_cli_writes_the_stretch_chosen_into_a_copy_of_the_card(heldout_lines_dir, shipped_recognizer, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(shipped_recognizer.model_dir, model)
    result = CliRunner().invoke(main, ["calibrate", "stretch", "--model", str(model), "--on", str(heldout_lines_dir)])
    assert result.exit_code == 0, result.output
    card = load_card(model)
    assert card["input"]["stretch"] == card["stretch"]["chosen"]
    assert card["stretch"]["fitted_on"] == [str(heldout_lines_dir)] and "calibrate recognizer" in result.output


def test_cli_names_a_missing_dataset():
    result = CliRunner().invoke(main, ["eval", "lines", "no/such/folder"])
    assert result.exit_code == 2 and "labels.tsv" in result.output
