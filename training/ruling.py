"""Train the ruling detector on synthetic pages whose ruling masks are exact (`hotich.datasets.ruling`).

The sets the config names are made once into `data_root` (work-size grey pages and masks; a set already
there is reused) and held in memory. A batch is random crops of random training pages, flipped at
random; the loss is binary cross-entropy plus a soft Dice term per class, since ruling is a few percent of
the pixels. Batches are pure functions of (seed, step), so `resume` continues exactly where `last.pt`
stopped. Each epoch ends with a validation on whole pages of held-out fonts (per-class IoU and F1 of the
masks at p > 0.5); the best epoch by mean IoU is `best.pt`, for `hotich export ruling`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from hotich.datasets.fonts import FontSplit
from hotich.datasets.ruling import RULING_CLASSES, RulingSample, read_ruling_set, write_ruling_set
from hotich.datasets.synth.pages import Ageing, SynthOptions, page_id
from hotich.inference.layout.ruling import normalise_page
from hotich.models.ruling import RulingNet, load_checkpoint, load_model_config, save_checkpoint
from hotich.training.optimise import optimisation_step

__all__ = ["DEFAULT_CONFIG", "PageSet", "RulingTrainConfig", "RulingTrainResult", "evaluate", "load_train_config",
           "make_sets", "train_ruling"]

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "ruling.yaml"


class PageSet(BaseModel):
    """Pages 0..n-1 of the synthetic run `seed` (`hotich synth pages --seed ... --fonts ... --ageing ...`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int
    n: int = Field(ge=1)
    fonts: FontSplit = "train"
    ageing: Ageing = "strong"

    @property
    def folder_name(self) -> str:
        return f"seed{self.seed}-{self.fonts}-{self.ageing}"


class RulingTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "ruling"
    """A config name under models/configs/ or a YAML path."""
    data_root: Path = Path("var/ruling/data")
    train: tuple[PageSet, ...]
    val: tuple[PageSet, ...]
    crop: int = Field(256, ge=16)
    crops_per_page: int = Field(4, ge=1)
    """An epoch draws this many crops per training page."""
    batch_size: int = Field(8, ge=1)
    epochs: int = Field(10, ge=1)
    lr: float = 3e-3
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    checkpoint_dir: Path = Path("var/ruling/run")
    seed: int = 0
    threads: int = 2


def load_train_config(path: Path = DEFAULT_CONFIG) -> RulingTrainConfig:
    if not Path(path).is_file():
        raise FileNotFoundError(f"no training config {path}; start from {DEFAULT_CONFIG}")
    return RulingTrainConfig.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def make_sets(root: Path, sets: Sequence[PageSet], progress: bool = True) -> list[RulingSample]:
    """The samples of `sets`, writing into `root` whatever is not there yet."""
    samples: list[RulingSample] = []
    for spec in sets:
        folder = root / spec.folder_name
        options = SynthOptions(fonts=spec.fonts, ageing=spec.ageing)
        todo = [i for i in range(spec.n) if not (folder / f"{page_id(spec.seed, i)}.npz").is_file()]
        for i in tqdm(todo, desc=f"pages {spec.folder_name}", unit="page", mininterval=5.0, disable=not progress):
            write_ruling_set(folder, spec.seed, [i], options)
        samples += read_ruling_set(folder)[: spec.n]
    return samples


def _batch(samples: Sequence[RulingSample], size: int, crop: int, seed: int, step: int
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` random crops (flipped at random) of random pages: normalised images and float masks."""
    rng = np.random.default_rng([seed, step])
    images, masks = [], []
    for _ in range(size):
        s = samples[int(rng.integers(len(samples)))]
        h, w = s.gray.shape
        y, x = int(rng.integers(max(1, h - crop + 1))), int(rng.integers(max(1, w - crop + 1)))
        g, m = s.gray[y : y + crop, x : x + crop], s.masks[:, y : y + crop, x : x + crop]
        if rng.random() < 0.5:
            g, m = g[:, ::-1], m[:, :, ::-1]
        if rng.random() < 0.5:
            g, m = g[::-1], m[:, ::-1]
        # A crop off a small page is padded with paper, and no ruling.
        page = np.full((crop, crop), 255, np.uint8)
        page[: g.shape[0], : g.shape[1]] = g
        truth = np.zeros((len(RULING_CLASSES), crop, crop), np.float32)
        truth[:, : g.shape[0], : g.shape[1]] = m
        images.append(normalise_page(page, 1)[0])
        masks.append(truth)
    return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(masks))


def ruling_loss(logits: torch.Tensor, truth: torch.Tensor, dice_weight: float) -> torch.Tensor:
    """BCE plus (1 - soft Dice) per class over the batch; a class absent from the batch adds no Dice."""
    bce = F.binary_cross_entropy_with_logits(logits, truth)
    p = torch.sigmoid(logits)
    inter = (p * truth).sum(dim=(0, 2, 3))
    total = p.sum(dim=(0, 2, 3)) + truth.sum(dim=(0, 2, 3))
    present = truth.sum(dim=(0, 2, 3)) > 0
    dice = 1 - (2 * inter + 1) / (total + 1)
    return bce + dice_weight * (dice[present].mean() if present.any() else logits.sum() * 0)


def evaluate(model: RulingNet, samples: Sequence[RulingSample]) -> dict[str, Any]:
    """Per-class IoU and F1 of the masks (p > 0.5) over whole pages, and their means."""
    model.eval()
    counts = np.zeros((len(RULING_CLASSES), 3))  # true positives, false positives, false negatives
    with torch.no_grad():
        for s in samples:
            h, w = s.gray.shape
            pred = (model(torch.from_numpy(normalise_page(s.gray, model.config.stride)))[0, :, :h, :w] > 0).numpy()
            counts += np.stack([(pred & s.masks).sum((1, 2)), (pred & ~s.masks).sum((1, 2)),
                                (~pred & s.masks).sum((1, 2))], axis=1)
    tp, fp, fn = counts.T
    iou, f1 = tp / np.maximum(tp + fp + fn, 1), 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    present = counts[:, 0] + counts[:, 2] > 0
    return {"pages": len(samples), "iou": dict(zip(RULING_CLASSES, np.round(iou, 4).tolist(), strict=True)),
            "f1": dict(zip(RULING_CLASSES, np.round(f1, 4).tolist(), strict=True)),
            "mean_iou": round(float(iou[present].mean()), 4), "mean_f1": round(float(f1[present].mean()), 4)}


@dataclass(frozen=True)
class RulingTrainResult:
    step: int
    epoch: int
    best_iou: float | None
    checkpoint_dir: Path


def train_ruling(config: RulingTrainConfig, *, resume: bool = False, max_steps: int | None = None,
                 progress: bool = True) -> RulingTrainResult:
    """Train a ruling detector; checkpoints and history.jsonl go to `config.checkpoint_dir`."""
    torch.set_num_threads(config.threads)
    out = config.checkpoint_dir
    last_path, best_path, history_path = out / "last.pt", out / "best.pt", out / "history.jsonl"
    if resume and not last_path.is_file():
        raise FileNotFoundError(f"nothing to resume: no {last_path}; start without --resume")
    if not resume and last_path.is_file():
        raise FileExistsError(f"{last_path} exists: pass --resume to continue it, or choose another checkpoint_dir")
    train = make_sets(config.data_root, config.train, progress)
    val_set = make_sets(config.data_root, config.val, progress)
    torch.manual_seed(config.seed)
    model = RulingNet(load_model_config(config.model))
    steps_per_epoch = max(1, len(train) * config.crops_per_page // config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total, pct_start=0.1)
    step, best = 0, None
    if resume:
        checkpoint = load_checkpoint(last_path)
        model.load_state_dict(checkpoint.model.state_dict())
        state = checkpoint.train_state or {}
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, best = state["step"], state["best_iou"]
    else:
        out.mkdir(parents=True, exist_ok=True)
        history_path.write_text("", encoding="utf-8")
    data = {"train": [s.model_dump() for s in config.train], "val": [s.model_dump() for s in config.val],
            "generator": "hotich.datasets.ruling (hotich synth pages with ruling masks), work size 1000 px"}

    def checkpoint(path: Path, val: dict[str, Any] | None) -> None:
        state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step,
                 "best_iou": best, "config": config.model_dump(mode="json"), "data": data,
                 "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
        save_checkpoint(path, model, state, {"epoch": step // steps_per_epoch, "step": step, "val": val})

    stop = min(total, max_steps) if max_steps is not None else total
    bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True, mininterval=5.0, disable=not progress)
    losses: list[float] = []
    tick = time.perf_counter()
    while step < stop:
        model.train()
        images, truth = _batch(train, config.batch_size, config.crop, config.seed, step)
        loss = optimisation_step(ruling_loss(model(images), truth, config.dice_weight), model, optimizer, scheduler)
        step += 1
        losses.append(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", refresh=False)
        if step % steps_per_epoch == 0 or step == stop:
            val = evaluate(model, val_set) if step % steps_per_epoch == 0 else None
            if val is not None and (best is None or val["mean_iou"] > best):
                best = val["mean_iou"]
                checkpoint(best_path, val)
            checkpoint(last_path, val)
            with history_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"epoch": step / steps_per_epoch, "step": step, "loss": round(np.mean(losses), 5),
                                    "lr": scheduler.get_last_lr()[0], "seconds": round(time.perf_counter() - tick, 1),
                                    "val": val}) + "\n")
            losses = []
    bar.close()
    return RulingTrainResult(step, step // steps_per_epoch, best, out)
