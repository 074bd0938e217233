import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner

from hotich.cli import main
from hotich.datasets.synth.batch import write_lines
from hotich.datasets.synth.pages import SynthOptions
from hotich.models.recognizer import load_checkpoint
from hotich.training.recognizer import MixedBatchSampler, TrainConfig, load_train_config, train_recognizer


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lines")
    write_lines(64, 1, SynthOptions(), out)
    return out


def _config(lines: Path, out: Path, **changes) -> TrainConfig:
    base = {"model": "crnn_tiny", "synth_train": [lines], "synth_val": [lines], "kalapa": False, "batch_size": 8,
            "lr": 3e-3, "warmup": 0.1, "steps": 20, "eval_every": 10, "checkpoint_dir": out, "num_workers": 0}
    return TrainConfig(**(base | changes))


def test_training_lowers_the_loss_and_writes_checkpoints(lines, tmp_path):
    eight = tmp_path / "eight"  # one batch of 8 lines, seen again every step: the loss is comparable
    eight.mkdir()
    rows = (lines / "labels.tsv").read_text(encoding="utf-8").splitlines()[:8]
    for row in rows:
        shutil.copy(lines / row.split("\t")[0], eight)
    (eight / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = _config(eight, tmp_path / "run", steps=30, keep_evaluated=True)
    result = train_recognizer(config, progress=False)
    assert result.step == 30 and len(result.losses) == 30
    assert np.mean(result.losses[-5:]) < 0.5 * np.mean(result.losses[:5])
    for name in ("best.pt", "last.pt", "history.jsonl", "step-10.pt", "step-20.pt", "step-30.pt"):
        assert (config.checkpoint_dir / name).is_file()
    history = [json.loads(x) for x in (config.checkpoint_dir / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [10, 20, 30]
    assert {"cer", "cer_nopunct"} <= history[-1]["val"]["synth_val"].keys()
    best = load_checkpoint(config.checkpoint_dir / "best.pt")
    assert best.meta["best_set"] == "synth_val" and best.codec.blank == 0
    # A finished run is not silently overwritten.
    with pytest.raises(FileExistsError):
        train_recognizer(config, progress=False)


def test_resume_continues_exactly_where_it_stopped(lines, tmp_path):
    straight = _config(lines, tmp_path / "straight")
    train_recognizer(straight, progress=False)
    stopped = _config(lines, tmp_path / "stopped")
    assert train_recognizer(stopped, max_steps=15, progress=False).step == 15
    assert load_checkpoint(stopped.checkpoint_dir / "last.pt").train_state["step"] == 15
    resumed = train_recognizer(stopped, resume=True, progress=False)
    assert resumed.step == 20 and len(resumed.losses) == 5
    a = load_checkpoint(straight.checkpoint_dir / "last.pt").model.state_dict()
    b = load_checkpoint(stopped.checkpoint_dir / "last.pt").model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    steps = [json.loads(x)["step"] for x in (stopped.checkpoint_dir / "history.jsonl").read_text().splitlines()]
    assert steps == [10, 20]


def test_finetune_starts_from_a_checkpoint_and_validates_on_held_out_lines(lines, tmp_path):
    base = _config(lines, tmp_path / "base", steps=10)
    train_recognizer(base, progress=False)
    tune = _config(lines, tmp_path / "tune", steps=10, synth_train=[], lr=1e-3)
    result = train_recognizer(tune, init=base.checkpoint_dir / "best.pt", data=lines, progress=False)
    assert result.best_set == "data_val"
    history = json.loads((tune.checkpoint_dir / "history.jsonl").read_text().splitlines()[-1])
    assert 0 < history["val"]["data_val"]["n"] < 64
    assert history["epochs"].keys() == {"data"}


def test_a_finetune_can_change_which_rows_the_model_sees(lines, tmp_path):
    base = _config(lines, tmp_path / "base", steps=5)
    train_recognizer(base, progress=False)
    assert load_checkpoint(base.checkpoint_dir / "last.pt").config.crop == "cell"
    tune = _config(lines, tmp_path / "tune", steps=5, crop="ink")
    train_recognizer(tune, init=base.checkpoint_dir / "last.pt", progress=False)
    tuned = load_checkpoint(tune.checkpoint_dir / "last.pt")
    assert tuned.config.crop == "ink" and tuned.meta["input"]["crop"] == "ink"


def test_mixed_batches_follow_the_shares_and_restart_anywhere():
    lengths = [[i % 17 for i in range(300)], [i % 5 for i in range(40)]]
    sampler = MixedBatchSampler(lengths, [0.75, 0.25], batch_size=8, seed=3)
    batches = [sampler.batch(step) for step in range(200)]
    from_synth = [b for b in batches if b[0] < 300]
    assert len(from_synth) == 150
    # The first epoch of a source holds each of its lines exactly once.
    first_epoch = [i for b in from_synth[: sampler.per_epoch[0]] for i in b]
    assert sorted(first_epoch) == list(range(300))
    restarted = MixedBatchSampler(lengths, [0.75, 0.25], batch_size=8, seed=3, start_step=123)
    assert next(iter(restarted)) == batches[123]


def test_shipped_config_loads():
    config = load_train_config()
    assert config.model == "crnn_mobilenet_small" and config.kalapa


def test_cli_trains_and_checks_its_flags(lines, tmp_path):
    config = _config(lines, tmp_path / "cli", steps=4, eval_every=2)
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    result = CliRunner().invoke(main, ["train", "recognizer", "--config", str(path), "--max-steps", "3"])
    assert result.exit_code == 0, result.output
    assert "lines/min" in result.output
    result = CliRunner().invoke(main, ["train", "recognizer", "--config", str(path), "--resume"])
    assert result.exit_code == 0, result.output
    assert "step 4" in result.output
    result = CliRunner().invoke(main, ["train", "recognizer", "--config", str(path), "--data", str(lines)])
    assert result.exit_code == 2 and "--init" in result.output


def test_two_processes_train_one_model_and_resume(lines, tmp_path):
    config = _config(lines, tmp_path / "ddp", processes=2, threads=1)
    stopped = train_recognizer(config, max_steps=12, progress=False)
    assert stopped.step == 12
    resumed = train_recognizer(config, resume=True, progress=False)
    assert resumed.step == 20 and len(resumed.losses) == 8
    history = [json.loads(x) for x in (config.checkpoint_dir / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [10, 20]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert load_checkpoint(config.checkpoint_dir / "last.pt").train_state["step"] == 20
