"""Training the template identifier: a smoke run on real synthetic pages, exact resume, the drawn `unknown`
pages, augmentation and calibration."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hotich.datasets.page_thumbnails import load_pages
from hotich.models.layout import load_checkpoint, template_classes
from hotich.training.layout import (
    LayoutBatches,
    PageAugment,
    TrainConfig,
    fit_temperature,
    load_train_config,
    train_layout,
)


def _config(pages: Path, model: Path, out: Path, **changes) -> TrainConfig:
    base = {"model": str(model), "train": [pages], "val": [pages], "cache_dir": out.parent / "cache",
            "checkpoint_dir": out, "batch_size": 8, "unknown_share": 0.25, "val_unknown": 4, "kalapa": False,
            "augment": 0.0, "preprocessed_share": 0.5, "lr": 1e-2, "warmup": 0.2, "epochs": 8, "num_workers": 0,
            "threads": 1}
    return TrainConfig(**(base | changes))


def test_training_lowers_the_loss_and_writes_checkpoints(light_pages_dir, tiny_layout_config, tmp_path):
    # Every page seen as the preprocessing hands it over (one look per page: a loss 24 steps can lower);
    # validation still scores both views.
    config = _config(light_pages_dir, tiny_layout_config, tmp_path / "run", preprocessed_share=1.0)
    result = train_layout(config, progress=False)
    # 13 pages, 6 per batch (+2 drawn unknown): 3 steps an epoch
    assert result.step == 24 and result.epoch == 8 and len(result.losses) == 24
    assert np.mean(result.losses[-3:]) < 0.7 * np.mean(result.losses[:3])
    for name in ("best.pt", "last.pt", "history.jsonl"):
        assert (config.checkpoint_dir / name).is_file()
    history = [json.loads(x) for x in (config.checkpoint_dir / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history[:-1]] == [1, 2, 3, 4, 5, 6, 7, 8]
    val = history[-2]["val"]
    # 13 pages as imaged and as preprocessed, 4 drawn unknown pages
    assert val["n"] == 30 and {"acc", "page_acc", "unknown_recall", "per_era", "per_ageing", "per_template",
                               "per_view"} <= set(val)
    assert set(val["per_era"]) == {"nd04cp_1961", "nd83_1998", "nd158_2005", "tt04_2020", "south_pre1975"}
    assert set(val["per_ageing"]) <= {"none", "light", "medium", "strong"}
    assert set(val["per_view"]) == {"raw", "preprocessed"}
    assert history[-1]["calibration"]["n"] == 30 + 13  # validation, plus each page once augmented
    best = load_checkpoint(config.checkpoint_dir / "best.pt")
    assert best.meta["calibration"]["temperature"] > 0 and best.meta["val"]["acc"] == max(h["val"]["acc"]
                                                                                         for h in history[:-1])
    assert best.train_state["data"]["pages"] == 13 and best.classes == template_classes()[0]
    # The thumbnails were cached once (as imaged and as preprocessed), for the next run.
    assert len(list((tmp_path / "cache").glob("*/*.pre.png"))) == 13
    assert len(list((tmp_path / "cache").glob("*/*.png"))) == 26
    with pytest.raises(FileExistsError):
        train_layout(config, progress=False)


def test_resume_continues_exactly_where_it_stopped(light_pages_dir, tiny_layout_config, tmp_path):
    changes = {"epochs": 2, "augment": 1.0}
    straight = _config(light_pages_dir, tiny_layout_config, tmp_path / "straight", **changes)
    train_layout(straight, progress=False)
    stopped = _config(light_pages_dir, tiny_layout_config, tmp_path / "stopped", **changes)
    assert train_layout(stopped, max_steps=4, progress=False).step == 4
    assert load_checkpoint(stopped.checkpoint_dir / "last.pt").train_state["step"] == 4
    resumed = train_layout(stopped, resume=True, progress=False)
    assert resumed.step == 6 and len(resumed.losses) == 2 and resumed.calibration is not None
    a = load_checkpoint(straight.checkpoint_dir / "last.pt").model.state_dict()
    b = load_checkpoint(stopped.checkpoint_dir / "last.pt").model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    epochs = [json.loads(x).get("epoch") for x in (stopped.checkpoint_dir / "history.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, None]  # two epochs, then the calibration


def test_batches_cover_each_epoch_and_restart_anywhere():
    batches = LayoutBatches(20, batch_size=8, unknown=2, seed=4)
    assert batches.steps_per_epoch == 4
    first = [batches.batch(step) for step in range(4)]
    assert sorted(i for b in first for i, _ in b if i >= 0) == list(range(20))
    assert all(sum(i == -1 for i, _ in b) == 2 for b in first)
    assert len({s for b in first for _, s in b}) == sum(len(b) for b in first)  # every sample its own seed
    assert next(iter(LayoutBatches(20, 8, 2, seed=4, start_step=6))) == batches.batch(6)
    with pytest.raises(ValueError, match="no room"):
        LayoutBatches(20, batch_size=4, unknown=4, seed=0)


def test_augmentation_is_reproducible_and_keeps_the_thumbnail_shape(light_pages_dir, tmp_path):
    classes, _ = template_classes()
    page = load_pages([light_pages_dir], classes, tmp_path, 96, progress=False)[0]
    augment = PageAugment(64, strength=1.0)
    a, b, c = augment(page.image, 5), augment(page.image, 5), augment(page.image, 6)
    assert a.shape == (64, 64) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_temperature_fits_overconfident_logits_and_sets_a_threshold():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 14, 400)
    logits = rng.normal(0, 1, (400, 14))
    right = rng.random(400) < 0.7  # 70% right, but with huge margins: overconfident
    pred = np.where(right, labels, (labels + 1) % 14)
    logits[np.arange(400), pred] += 12
    cal = fit_temperature(logits, labels, unknown=13)
    assert cal.temperature > 2 and cal.ece_after < cal.ece_before and cal.log_loss_after < cal.log_loss_before
    assert 0.5 <= cal.threshold < 1 and cal.n == 400
    # Without mistakes to learn from, the fit does not sharpen the softmax.
    assert fit_temperature(logits[right], labels[right], unknown=13).temperature >= 1.0
    with pytest.raises(ValueError):
        fit_temperature(logits[:0], labels[:0], unknown=13)


def test_shipped_config_loads():
    config = load_train_config()
    assert config.model == "layout_classifier" and config.kalapa and config.epochs >= 1
