"""Train the template-and-era identifier on folders of synthetic pages (`hotich synth pages`), whose truth
JSON names each page's template.

Pages are shrunk once into a thumbnail cache (PNG, long side `cache_scale` x the input size, so crops
and warps still have pixels to spare) and held in memory: an epoch then costs augmentation and the
network only (`datasets/page_thumbnails.py`). Every batch also holds `unknown` pages, drawn fresh each
time by `datasets/synth/unknown_pages.py`.

The batch order and every augmentation are pure functions of (seed, step, slot), so `resume` continues
exactly where `last.pt` stopped. Each epoch ends with a validation (accuracy overall, per era, per ageing
strength, per template, and how many drawn pages are called `unknown`); the best epoch is `best.pt`. When
the run is complete, a temperature and a confidence threshold are fitted with `best.pt` on the validation
set (each page also once augmented: real books are harder than clean synthetic pages) and written into it,
for `hotich.models.layout.export_layout` to put on the card.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import albumentations as A
import cv2
import numpy as np
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from hotich.datasets.lines import KALAPA_DIR
from hotich.datasets.page_thumbnails import VIEWS, PageThumb, load_pages
from hotich.datasets.synth.pages import ageing_bin
from hotich.datasets.synth.unknown_pages import DistractorMaker, kalapa_lines
from hotich.evaluation.identifier import identification_scores
from hotich.evaluation.metrics import expected_calibration_error
from hotich.inference.decoding import softmax
from hotich.inference.layout.identify import (
    UNKNOWN,
    fit_long_side,
    normalise_thumbnails,
    pad_square,
    page_thumbnail,
)
from hotich.models.layout import (
    LayoutClassifier,
    build_classifier,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
    template_classes,
)
from hotich.training.calibration import TEMPERATURES
from hotich.training.optimise import optimisation_step

__all__ = [
    "DEFAULT_CONFIG",
    "LayoutBatches",
    "LayoutCalibration",
    "PageAugment",
    "TrainConfig",
    "TrainResult",
    "ValSet",
    "evaluate",
    "fit_temperature",
    "load_train_config",
    "train_layout",
]

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "layout.yaml"


class TrainConfig(BaseModel):
    """A training run. Relative paths are taken from the working directory (the repository root)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "layout_classifier"
    """A config name under models/configs/ or a path to a model YAML (ignored with --resume)."""
    train: list[Path] = Field(default_factory=lambda: [Path("var/layout/pages/train")])
    """Folders of synthetic pages (made by `hotich synth pages`) to train on."""
    val: list[Path] = Field(default_factory=lambda: [Path("var/layout/pages/val")])
    """Folders of synthetic pages to validate (and calibrate) on; best in fonts held out of training."""
    cache_dir: Path = Path("var/layout/cache")
    """Where page thumbnails are kept between runs (one sub-folder per page folder and size)."""
    cache_scale: float = Field(1.5, ge=1.0, le=4.0)
    """Cached thumbnails' long side, as a multiple of the model's input size."""
    unknown_share: float = Field(0.125, ge=0.0, lt=1.0)
    """Share of every batch made of drawn `unknown` pages."""
    val_unknown: int = Field(60, ge=0)
    """Drawn `unknown` pages in the validation set (the same ones at every evaluation)."""
    kalapa: bool = True
    """Tile Kalapa handwritten lines (<shared data>/kalapa2023, read-only) onto some `unknown` pages."""
    preprocessed_share: float = Field(0.5, ge=0.0, le=1.0)
    """Share of training pages (and drawn ones) shown as the layout stage's preprocessing hands them to the
    identifier (cropped to the paper, upright, flattened, contrast-normalised); the rest as imaged. Above
    0, every page's preprocessed thumbnail is cached too and validation scores both views."""
    augment: float = Field(1.0, ge=0.0, le=2.0)
    """Strength of the augmentation of every training page; 0 turns it off."""
    batch_size: int = Field(32, ge=2)
    lr: float = Field(2e-3, gt=0.0)
    """Peak learning rate of the one-cycle schedule."""
    weight_decay: float = Field(0.05, ge=0.0)
    warmup: float = Field(0.1, gt=0.0, lt=1.0)
    grad_clip: float = Field(5.0, gt=0.0)
    epochs: int = Field(20, ge=1)
    """Passes over the training pages; validation after each."""
    checkpoint_dir: Path = Path("var/runs/layout")
    seed: int = 0
    num_workers: int = Field(1, ge=0)
    """Data-loading processes (they draw the `unknown` pages); on 2 cores one is enough."""
    threads: int = Field(2, ge=1)


def load_train_config(path: Path = DEFAULT_CONFIG) -> TrainConfig:
    return TrainConfig.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


# --- augmentation ---------------------------------------------------------------------------------------


class PageAugment:
    """Label-preserving distortions of a cached page, then the model's thumbnail.

    Geometry at the cache size (small rotations and shear, perspective, crops and zoom that keep most of
    the page), then the shrink to the input size, then tone, blur, noise and JPEG, and last the white
    padding, which inference always adds untouched. `strength` scales every magnitude and probability.
    """

    def __init__(self, size: int, strength: float = 1.0) -> None:
        self.size = size
        s = strength

        def p(base: float) -> float:
            return min(1.0, base * s)

        edge = cv2.BORDER_REPLICATE
        self._geometry = A.Compose([
            A.Affine(rotate=(-3 * s, 3 * s), shear=(-2 * s, 2 * s), scale=(1 - 0.04 * s, 1 + 0.04 * s),
                     translate_percent=(-0.02 * s, 0.02 * s), border_mode=edge, p=p(0.7)),
            A.Perspective(scale=(0.01, 0.01 + 0.04 * s), border_mode=edge, p=p(0.4)),
            A.CropAndPad(percent=(-0.05 * s, 0.02 * s), keep_size=False, border_mode=edge, p=p(0.5)),
        ])
        self._tone = A.Compose([
            A.RandomBrightnessContrast(brightness_limit=0.15 * s, contrast_limit=0.25 * s, p=p(0.6)),
            A.RandomGamma(gamma_limit=(100 - 20 * s, 100 + 25 * s), p=p(0.3)),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(0.2, 0.2 + 0.6 * s)),
                     A.MotionBlur(blur_limit=(3, 3))], p=p(0.25)),
            A.GaussNoise(std_range=(0.005, 0.005 + 0.025 * s), p=p(0.2)),
            A.ImageCompression(quality_range=(max(20, round(95 - 60 * s)), 95), p=p(0.3)),
        ])

    def __call__(self, gray: np.ndarray, seed: int) -> np.ndarray:
        """A cached page (gray uint8) -> an augmented (size, size) thumbnail; the same seed, the same output."""
        for k, pipeline in enumerate((self._geometry, self._tone)):
            pipeline.set_random_state(np.random.default_rng([seed, k]), random.Random(seed * 2 + k))
        gray = self._geometry(image=gray)["image"]
        gray = self._tone(image=fit_long_side(gray, self.size))["image"]
        return pad_square(gray, self.size)


# --- training data --------------------------------------------------------------------------------------


class LayoutTrainSet(Dataset):
    """Keys (index, seed) -> (normalised thumbnail (1, S, S), class): a page for index >= 0, a drawn
    `unknown` page for index -1."""

    def __init__(self, pages: Sequence[PageThumb], size: int, unknown: int, distractors: DistractorMaker,
                 augment: PageAugment | None, preprocessed_share: float = 0.0) -> None:
        self.pages, self.size, self.unknown = pages, size, unknown
        self.distractors, self.augment, self.preprocessed_share = distractors, augment, preprocessed_share

    def __len__(self) -> int:
        return len(self.pages)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, int]:
        index, seed = key
        rng = np.random.default_rng([seed, 1])
        pre = bool(rng.random() < self.preprocessed_share)
        if index >= 0:
            gray, label = self.pages[index].view(pre), self.pages[index].label
        else:
            gray, label = self.distractors(rng, pre), self.unknown
        thumb = self.augment(gray, seed) if self.augment is not None else page_thumbnail(gray, self.size)
        return torch.from_numpy(normalise_thumbnails([thumb])[0]), label


class LayoutBatches:
    """Batches of (index, seed) keys, forever, from any step: each epoch a fresh shuffle of the pages, each
    batch `pages_per_batch` of them plus `unknown` drawn pages; all of it a pure function of (seed, step)."""

    def __init__(self, n_pages: int, batch_size: int, unknown: int, seed: int, start_step: int = 0) -> None:
        if unknown >= batch_size:
            raise ValueError(f"{unknown} unknown pages leave no room for pages in a batch of {batch_size}")
        self.n_pages, self.unknown, self.seed, self.start_step = n_pages, unknown, seed, start_step
        self.pages_per_batch = batch_size - unknown
        self.steps_per_epoch = math.ceil(n_pages / self.pages_per_batch)

    def batch(self, step: int) -> list[tuple[int, int]]:
        epoch, b = divmod(step, self.steps_per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(self.n_pages)
        indices = [*perm[b * self.pages_per_batch : (b + 1) * self.pages_per_batch].tolist(), *[-1] * self.unknown]
        seeds = np.random.SeedSequence([self.seed, step]).generate_state(len(indices), np.uint32)
        return [(int(i), int(s)) for i, s in zip(indices, seeds, strict=True)]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1


def _init_worker(worker_id: int) -> None:
    cv2.setNumThreads(1)  # the loader processes share the cores with the model: no extra OpenCV threads


# --- validation -----------------------------------------------------------------------------------------


@dataclass
class ValSet:
    """Validation thumbnails, made once: every page unaugmented in each view the run uses, a fixed set of
    drawn `unknown` pages, and (for calibration only) one augmented copy of each page, the harder pages a
    real book brings."""

    thumbs: np.ndarray
    """(N, S, S) uint8: the pages (in each view), then the drawn pages."""
    labels: np.ndarray
    groups: list[dict[str, str]]
    """Per thumbnail: view, era, ageing bin, template (drawn pages: their view only)."""
    augmented: np.ndarray
    """(pages, S, S) uint8: each page once more, augmented, in one of its views."""
    augmented_labels: np.ndarray

    @classmethod
    def build(cls, pages: Sequence[PageThumb], size: int, unknown_label: int, distractors: DistractorMaker,
              n_unknown: int, seed: int) -> ValSet:
        views = [False, True] if pages and pages[0].corrected is not None else [False]
        thumbs, groups, labels = [], [], []
        for pre in views:
            for p in pages:
                thumbs.append(page_thumbnail(p.view(pre), size))
                groups.append({"view": VIEWS[pre], "era": p.era, "ageing": ageing_bin(p.strength),
                               "template": p.template_id})
                labels.append(p.label)
        for k in range(n_unknown):
            pre = views[k % len(views)]
            thumbs.append(page_thumbnail(distractors(np.random.default_rng([seed, 7, k]), pre), size))
            groups.append({"view": VIEWS[pre]})
            labels.append(unknown_label)
        augment = PageAugment(size)
        seeds = np.random.SeedSequence([seed, 8]).generate_state(len(pages))
        augmented = [augment(p.view(views[k % len(views)]), int(seeds[k])) for k, p in enumerate(pages)]
        return cls(np.stack(thumbs), np.asarray(labels), groups,
                   np.stack(augmented) if augmented else np.zeros((0, size, size), np.uint8),
                   np.asarray([p.label for p in pages], dtype=np.int64))

    def calibration_set(self) -> tuple[np.ndarray, np.ndarray]:
        """Thumbnails and labels to fit the temperature and threshold on: all of the above."""
        return np.concatenate([self.thumbs, self.augmented]), np.concatenate([self.labels, self.augmented_labels])


@torch.no_grad()
def _logits(model: LayoutClassifier, thumbs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    was_training = model.training
    model.eval()
    out = [model(torch.from_numpy(normalise_thumbnails(thumbs[i : i + batch_size]))).numpy()
           for i in range(0, len(thumbs), batch_size)]
    model.train(was_training)
    return np.concatenate(out)


def _summary(scores: dict[str, Any]) -> str:
    unknown = f", unknown recall {scores['unknown_recall']:.2%}" if scores.get("unknown_recall") is not None else ""
    eras = ", ".join(f"{k} {v:.0%}" for k, v in scores.get("per_era", {}).items())
    return (f"val acc {scores['acc']:.2%} (pages {scores['page_acc']:.2%}{unknown}), val loss {scores['loss']:.3f}; "
            f"per era {eras}")


def evaluate(model: LayoutClassifier, val: ValSet, classes: Sequence[str]) -> tuple[dict[str, Any], np.ndarray]:
    """Validation scores of `model` (at temperature 1) and its logits."""
    logits = _logits(model, val.thumbs)
    return identification_scores(softmax(logits), val.labels, val.groups, classes), logits


# --- calibration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutCalibration:
    temperature: float
    threshold: float
    """Naming a template needs at least this calibrated confidence."""
    ece_before: float
    """ECE of the top class's probability at T = 1."""
    ece_after: float
    log_loss_before: float
    log_loss_after: float
    accepted: float
    """Share of the validation pages (not drawn ones) named at the threshold."""
    accepted_acc: float | None
    """Accuracy among everything named at the threshold (drawn pages named count as wrong)."""
    n: int


def _nll(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, unknown: int, precision: float = 0.995,
                    min_errors: int = 5) -> LayoutCalibration:
    """The temperature (from the recogniser's grid, `training.calibration.TEMPERATURES`) that minimises the
    log-loss of the true class; then the lowest threshold (>= 0.5) at which what is named is right at least
    `precision` of the time, or, when none is, the one that comes closest.

    With fewer than `min_errors` mistakes among `logits`, the log-loss always prefers a sharper softmax and
    cannot tell over-confidence from skill, so the temperature is then never taken below 1.
    """
    if len(logits) == 0 or len(logits) != len(labels):
        raise ValueError(f"need one label per page and at least one page, got {len(logits)} and {len(labels)}")
    errors = int(np.sum(np.asarray(logits).argmax(1) != labels))
    grid = [float(t) for t in TEMPERATURES if errors >= min_errors or t >= 1.0]
    losses = {t: _nll(softmax(logits, t), labels) for t in grid}
    best = min(losses, key=losses.__getitem__)
    probs = softmax(logits, best)
    pred, conf = probs.argmax(1), probs.max(1)
    right = pred == labels
    named = pred != unknown
    choice: tuple[float, float] | None = None  # (threshold, precision there)
    for t in np.round(np.arange(0.5, 1.0, 0.01), 2):
        accepted = named & (conf >= t)
        p = float(right[accepted].mean()) if accepted.any() else 0.0
        if p >= precision:
            choice = (float(t), p)
            break
        if choice is None or p > choice[1]:
            choice = (float(t), p)
    assert choice is not None
    threshold = choice[0]
    accepted = named & (conf >= threshold)
    before = softmax(logits)
    return LayoutCalibration(
        temperature=best, threshold=threshold,
        ece_before=expected_calibration_error(before.max(1).tolist(), (before.argmax(1) == labels).tolist()),
        ece_after=expected_calibration_error(conf.tolist(), right.tolist()),
        log_loss_before=_nll(before, labels), log_loss_after=losses[best],
        accepted=float(accepted[labels != unknown].mean()) if (labels != unknown).any() else 0.0,
        accepted_acc=float(right[accepted].mean()) if accepted.any() else None, n=len(labels),
    )


# --- the training loop ----------------------------------------------------------------------------------


@dataclass
class TrainResult:
    step: int
    epoch: float
    checkpoint_dir: Path
    best_acc: float | None
    pages_per_s: float
    """Training throughput of this run (validation excluded)."""
    losses: list[float] = field(default_factory=list)
    """Cross-entropy of every step this run made."""
    calibration: LayoutCalibration | None = None
    """Fitted when the run completed its last epoch."""


def train_layout(config: TrainConfig, *, resume: bool = False, max_steps: int | None = None,
                 progress: bool = True) -> TrainResult:
    """Train a template identifier; checkpoints and history.jsonl go to `config.checkpoint_dir`.

    `max_steps` stops this run once that many steps are done in all (the schedule still spans
    `config.epochs`), saving `last.pt` so that `resume=True` carries on.
    """
    torch.set_num_threads(config.threads)
    out = config.checkpoint_dir
    last_path, best_path, history_path = out / "last.pt", out / "best.pt", out / "history.jsonl"
    state: dict[str, Any] = {}
    if resume:
        if not last_path.is_file():
            raise FileNotFoundError(f"nothing to resume: no {last_path}")
        ckpt = load_checkpoint(last_path)
        model, classes, templates, state = ckpt.model, ckpt.classes, ckpt.templates, ckpt.train_state or {}
    else:
        if last_path.exists():
            raise FileExistsError(f"{last_path} exists: pass --resume, or choose another checkpoint_dir")
        torch.manual_seed(config.seed)
        classes, templates = template_classes()
        model = build_classifier(load_model_config(config.model), classes)
        out.mkdir(parents=True, exist_ok=True)
        history_path.write_text("", encoding="utf-8")
    size = model.config.size
    unknown = classes.index(UNKNOWN)
    cache_side = round(size * config.cache_scale)

    say = tqdm.write
    views = {"preprocessed_view": config.preprocessed_share > 0, "workers": config.threads, "progress": progress}
    pages = load_pages(config.train, classes, config.cache_dir, cache_side, **views)
    val_pages = load_pages(config.val, classes, config.cache_dir, cache_side, **views)
    kalapa = kalapa_lines(config.seed) if config.kalapa else []
    if config.kalapa and not kalapa:
        say(f"no {KALAPA_DIR} under the shared data folder: drawn `unknown` pages without real handwriting")
    distractors = DistractorMaker(cache_side, pages, kalapa)
    val = ValSet.build(val_pages, size, unknown, DistractorMaker(cache_side, val_pages, kalapa),
                       config.val_unknown, config.seed)
    n_unknown = round(config.batch_size * config.unknown_share)
    if config.unknown_share > 0:
        n_unknown = max(1, n_unknown)
    sampler = LayoutBatches(len(pages), config.batch_size, n_unknown, config.seed, start_step=state.get("step", 0))
    total = config.epochs * sampler.steps_per_epoch
    train_set = LayoutTrainSet(pages, size, unknown, distractors,
                               PageAugment(size, config.augment) if config.augment > 0 else None,
                               config.preprocessed_share)

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total,
                                                    pct_start=min(0.5, max(config.warmup, 2 / total)))
    step = state.get("step", 0)
    best: list[float] | None = state.get("best")  # (accuracy, -loss) of best.pt
    if state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])  # dropout
    stop = min(total, max_steps) if max_steps is not None else total
    data = {"train": [str(f) for f in config.train], "val": [str(f) for f in config.val], "pages": len(pages),
            "val_pages": len(val_pages), "val_unknown": config.val_unknown, "unknown_per_batch": n_unknown,
            "kalapa_lines": len(kalapa), "thumbnail_cache": str(config.cache_dir)}
    command = state.get("command") or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    # forkserver, not fork: the cache and validation set above ran OpenCV's thread pool, and a forked child
    # hangs in the first OpenCV call that touches that pool (the threads it waits for were not copied).
    loader = DataLoader(train_set, batch_sampler=sampler, num_workers=config.num_workers, worker_init_fn=_init_worker,
                        multiprocessing_context="forkserver" if config.num_workers else None)
    loss_fn = torch.nn.CrossEntropyLoss()

    def checkpoint(path: Path, extra: dict[str, Any]) -> None:
        train_state = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                       "torch_rng": torch.get_rng_state(), "best": best, "data": data, "command": command,
                       "config": config.model_dump(mode="json")}
        save_checkpoint(path, model, classes, templates, train_state,
                        extra_meta={"step": step, "epoch": step / sampler.steps_per_epoch, **extra})

    say(f"training {model.config.name} ({sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{size} px) from step {step} to {stop} of {total} ({config.epochs} epochs of {sampler.steps_per_epoch} "
        f"steps); {len(pages)} pages + {n_unknown} drawn unknown per batch of {config.batch_size}; validation "
        f"{len(val_pages)} pages + {config.val_unknown} drawn")
    model.train()
    losses: list[float] = []
    window: list[float] = []
    seconds, samples = 0.0, 0
    bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True, disable=not progress)
    batches = iter(loader)
    while step < stop:
        tick = time.perf_counter()
        images, labels = next(batches)
        loss = optimisation_step(loss_fn(model(images), labels), model, optimizer, scheduler, config.grad_clip)
        step += 1
        seconds += time.perf_counter() - tick
        samples += len(labels)
        losses.append(loss)
        window.append(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(window[-50:]):.3f}", pages_s=f"{samples / seconds:.1f}")

        if step % sampler.steps_per_epoch == 0 or step == total:
            scores, _ = evaluate(model, val, classes)
            improved = best is None or [scores["acc"], -scores["loss"]] > best
            if improved:
                best = [scores["acc"], -scores["loss"]]
            checkpoint(last_path, {"val": scores})
            if improved:
                checkpoint(best_path, {"val": scores})
            record = {"step": step, "epoch": round(step / sampler.steps_per_epoch, 3), "lr": scheduler.get_last_lr()[0],
                      "train_loss": float(np.mean(window)), "pages_per_s": samples / seconds, "best": improved,
                      "val": scores}
            with history_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            say(f"epoch {record['epoch']:g} (step {step}): loss {record['train_loss']:.3f}; {_summary(scores)}"
                + (" *best*" if improved else ""))
            window = []
    bar.close()
    calibration = None
    if step == total:
        calibration = _calibrate(best_path, val, classes)
        with history_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, "calibration": asdict(calibration)}) + "\n")
        named = (f"{calibration.accepted_acc:.2%} of them right" if calibration.accepted_acc is not None
                 else "none named")
        say(f"calibration on validation ({calibration.n}): temperature {calibration.temperature:g}, ECE "
            f"{calibration.ece_before:.2%} -> {calibration.ece_after:.2%}; threshold {calibration.threshold:g} names "
            f"{calibration.accepted:.1%} of pages, {named}")
    elif step % sampler.steps_per_epoch:
        checkpoint(last_path, {})  # stopped by max_steps within an epoch: keep the state for --resume
    return TrainResult(step=step, epoch=step / sampler.steps_per_epoch, checkpoint_dir=out,
                       best_acc=best[0] if best else None, pages_per_s=samples / seconds if seconds else 0.0,
                       losses=losses, calibration=calibration)


def _calibrate(best_path: Path, val: ValSet, classes: Sequence[str]) -> LayoutCalibration:
    """Fit the temperature and threshold of best.pt on the validation set and write them into it."""
    ckpt = load_checkpoint(best_path)
    thumbs, labels = val.calibration_set()
    calibration = fit_temperature(_logits(ckpt.model, thumbs), labels, classes.index(UNKNOWN))
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "config", "classes", "templates", "input",
                                                            "parameters")}
    meta["calibration"] = {**asdict(calibration), "fitted_on": "validation pages, each also once augmented, and "
                                                               "drawn unknown pages"}
    save_checkpoint(best_path, ckpt.model, ckpt.classes, ckpt.templates, ckpt.train_state, extra_meta=meta)
    return calibration


