"""Training the ruling detector: a smoke run on real synthetic pages lowers the loss, validates, resumes."""

import json

import numpy as np
import pytest
import torch

from hotich.datasets.synth.render import RULING_CLASSES
from hotich.models.ruling import load_checkpoint
from hotich.training.ruling import (
    PageSet,
    RulingTrainConfig,
    _batch,
    load_train_config,
    make_sets,
    ruling_loss,
    train_ruling,
)

PAGES = PageSet(seed=907, n=2, fonts="train", ageing="strong")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ruling-data")
    make_sets(root, [PAGES], progress=False)
    return root


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "ruling_tiny.yaml"
    path.write_text("name: ruling_tiny\nunshuffle: 4\nchannels: [8, 8]\ncontext_dilations: [2]\n", encoding="utf-8")
    return path


def _config(data_root, model, out, **changes) -> RulingTrainConfig:
    base = {"model": str(model), "data_root": data_root, "train": [PAGES], "val": [PAGES], "crop": 96,
            "crops_per_page": 8, "batch_size": 4, "epochs": 4, "lr": 0.03, "checkpoint_dir": out, "threads": 1}
    return RulingTrainConfig(**(base | changes))


def test_shipped_config_loads():
    config = load_train_config()
    assert config.model == "ruling" and config.val[0].fonts == "heldout"
    assert {s.seed for s in config.train + config.val}.isdisjoint({101, 102, 103, 203})


def test_training_lowers_the_loss_and_validates(data_root, tiny_model, tmp_path):
    torch.manual_seed(0)
    result = train_ruling(_config(data_root, tiny_model, tmp_path / "run"), progress=False)
    assert result.step == 16 and result.epoch == 4
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 4
    assert history[-1]["loss"] < 0.85 * history[0]["loss"]
    val = history[-1]["val"]
    assert set(val["iou"]) == set(RULING_CLASSES) and 0 <= val["mean_iou"] <= 1
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    assert best.meta["val"]["mean_iou"] == result.best_iou


def test_resume_continues_where_it_stopped(data_root, tiny_model, tmp_path):
    config = _config(data_root, tiny_model, tmp_path / "run", epochs=2)
    assert train_ruling(config, max_steps=3, progress=False).step == 3
    with pytest.raises(FileExistsError, match="--resume"):
        train_ruling(config, progress=False)
    assert train_ruling(config, resume=True, progress=False).step == 8


def test_batches_are_reproducible_and_masks_match_crops(data_root):
    samples = make_sets(data_root, [PAGES], progress=False)
    a, ma = _batch(samples, 3, 64, seed=1, step=5)
    b, mb = _batch(samples, 3, 64, seed=1, step=5)
    assert torch.equal(a, b) and torch.equal(ma, mb)
    assert a.shape == (3, 1, 64, 64) and ma.shape == (3, len(RULING_CLASSES), 64, 64)
    assert set(np.unique(ma.numpy())) <= {0.0, 1.0}


def test_loss_is_low_for_the_truth_and_high_for_its_opposite():
    truth = torch.zeros(2, 3, 32, 32)
    truth[:, 0, 10] = 1
    good, bad = 20 * (2 * truth - 1), -20 * (2 * truth - 1)
    assert ruling_loss(good, truth, 1.0) < 0.01 < 1.0 < ruling_loss(bad, truth, 1.0)
