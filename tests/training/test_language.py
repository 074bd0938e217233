"""`hotich train language`: counts a model on training lines, picks its fusion on other lines, and the folder
it writes is one the beam search loads."""

import json

from click.testing import CliRunner

from hotich.cli import main
from hotich.datasets.synth.batch import write_lines
from hotich.datasets.synth.pages import SynthOptions
from hotich.inference.language_prior import CONFIDENCE_TERMS, LanguagePrior
from hotich.training.language import BONUSES, WEIGHTS


def test_train_language_writes_a_model_with_its_chosen_fusion(tmp_path, heldout_lines_dir):
    train = tmp_path / "train-lines"
    write_lines(40, 3, SynthOptions(fonts="train", ageing="light"), train, workers=1)
    out = tmp_path / "language"
    result = CliRunner().invoke(main, ["train", "language", "--lines", str(train), "--order", "4",
                                       "--tune-on", str(heldout_lines_dir), "--threads", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    fusion = card["fusion"]
    assert len(fusion["grid"]) == len(WEIGHTS) * len(BONUSES)
    assert fusion["cer"] == min(fusion["grid"].values())
    assert set(fusion["confidence"]) == set(CONFIDENCE_TERMS)
    assert card["corpus"] == {str(train): 40}
    prior = LanguagePrior.shipped(out)
    assert (prior.weight, prior.bonus) == (fusion["weight"], fusion["bonus"])


def test_validation_lines_cannot_be_counted(tmp_path):
    result = CliRunner().invoke(main, ["train", "language", "--lines", "kalapa-val-b", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "validation lines" in result.output
