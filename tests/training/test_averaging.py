"""Averaging recogniser checkpoints weight by weight."""

import pytest
import torch
from click.testing import CliRunner

from hotich.cli import main
from hotich.models.recognizer import build_recognizer, load_checkpoint, load_model_config, save_checkpoint
from hotich.training.averaging import average_checkpoints


def _checkpoint(path, seed, name="crnn_tiny"):
    torch.manual_seed(seed)
    model, codec = build_recognizer(load_model_config(name))
    save_checkpoint(path, model, codec, extra_meta={"step": seed})
    return model.state_dict()


def test_the_average_holds_the_weighted_mean_of_every_weight(tmp_path):
    a, b = _checkpoint(tmp_path / "a.pt", 1), _checkpoint(tmp_path / "b.pt", 2)
    average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "avg.pt", weights=[3, 1])
    avg = load_checkpoint(tmp_path / "avg.pt")
    for name, tensor in avg.model.state_dict().items():
        if tensor.is_floating_point():
            torch.testing.assert_close(tensor, 0.75 * a[name] + 0.25 * b[name])
    assert [s["weight"] for s in avg.meta["averaged_from"]] == [0.75, 0.25] and avg.meta["step"] == 1
    assert avg.train_state is None


def test_checkpoints_of_other_architectures_are_refused_by_the_cli(tmp_path):
    _checkpoint(tmp_path / "a.pt", 1)
    _checkpoint(tmp_path / "b.pt", 2, name="crnn_mobilenet_small")
    result = CliRunner().invoke(main, ["train", "average", str(tmp_path / "a.pt"), str(tmp_path / "b.pt"),
                                       "--out", str(tmp_path / "avg.pt")])
    assert result.exit_code != 0 and "cannot be averaged" in result.output
    with pytest.raises(ValueError, match="at least two"):
        average_checkpoints([tmp_path / "a.pt"], tmp_path / "avg.pt")
