"""Train the CTC line recogniser on synthetic lines mixed with real handwriting, or fine-tune it on a
folder of corrected lines.

Every batch comes from one source (synthetic, Kalapa, corrected lines) in a fixed interleave that gives
each source its configured share of batches. Mixing inside a batch would pad every short synthetic line
to the width of the long Kalapa addresses (~100 vs ~480 px at 32 px height) and double the compute.
Within a source, batches hold lines of similar width for the same reason (measured from the image
headers once per run: text length predicts width too poorly, and batches padded by it were 2.5x wider).
The whole batch order is a pure function of (seed, step), so `--resume` continues exactly where `last.pt`
left off.

With `processes: N` the run is data-parallel (torch DistributedDataParallel over gloo): every process
takes its own batch of each step's source and the gradients are averaged, so a step sees N batches. Small
convolutions and the LSTM hardly use a second thread: on 2 cores, two one-thread processes train about
twice the lines per second of one two-thread process. Process 0 evaluates, logs and writes checkpoints.
"""

from __future__ import annotations

import datetime
import json
import math
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import yaml
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import ConcatDataset, DataLoader
from tqdm import tqdm

from hotich.datasets.augment import Augment
from hotich.datasets.line_dataset import LineDataset, collate_lines
from hotich.datasets.lines import (
    KALAPA_DIR,
    LineSample,
    kalapa_split,
    read_line_folder,
    shared_data_dir,
)
from hotich.evaluation.metrics import TextScores, score_lines
from hotich.inference.decoding import greedy
from hotich.line_image import LineCrop, ink_band, read_gray, resized_width
from hotich.models.recognizer import (
    CRNN,
    Codec,
    build_recognizer,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
)
from hotich.training.optimise import optimisation_step

__all__ = ["DEFAULT_CONFIG", "MixedBatchSampler", "TrainConfig", "TrainResult", "evaluate", "load_train_config",
           "train_recognizer"]

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "recognizer.yaml"
BEST_OF = ("data_val", "kalapa_val", "synth_val")
"""Which validation set picks best.pt: the first of these that the run has."""


class TrainConfig(BaseModel):
    """A training run. Relative paths are taken from the working directory (the repository root)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "crnn_mobilenet_small"
    """A config name under models/configs/ or a path to a model YAML (ignored with --init and --resume)."""
    synth_train: list[Path] = Field(default_factory=lambda: [Path("var/lines/train")])
    """Folders of synthetic lines (made by `hotich synth lines`) to train on."""
    synth_val: list[Path] = Field(default_factory=lambda: [Path("var/lines/heldout")])
    """Synthetic lines in fonts held out of training, for validation."""
    kalapa: bool = True
    """Use the real handwriting in <shared data>/kalapa2023 when present (train writers and val writers)."""
    kalapa_ratio: float = Field(0.25, ge=0.0, lt=1.0)
    """Share of training batches drawn from Kalapa's train writers (the rest: synthetic)."""
    kalapa_val_writers: int = Field(20, ge=1)
    finetune_ratio: float = Field(0.75, gt=0.0, le=1.0)
    """With --data: share of batches from the corrected lines (the rest: synthetic, against forgetting)."""
    augment_real: float = Field(1.0, ge=0.0)
    """Augment strength for real handwriting (Kalapa, corrected lines); 0 turns it off."""
    augment_synth: float = Field(0.0, ge=0.0)
    """Synthetic lines are already aged by the generator; 0 leaves them as they are."""
    augment_width: float = Field(0.0, ge=0.0, lt=1.0)
    """How much wider or narrower augmented lines may be drawn (0.25: 0.8 to 1.25 times), on half of them."""
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0.0)
    """Peak learning rate of the one-cycle schedule."""
    weight_decay: float = Field(0.01, ge=0.0)
    warmup: float = Field(0.05, gt=0.0, lt=1.0)
    """Share of the steps spent warming up to the peak learning rate."""
    grad_clip: float = Field(5.0, gt=0.0)
    steps: int = Field(30000, ge=1)
    eval_every: int = Field(1000, ge=1)
    max_val_lines: int = Field(2000, ge=1)
    """Validation sets larger than this are subsampled (the same lines at every evaluation)."""
    max_width: int = Field(1024, ge=32)
    crop: LineCrop | None = None
    """Change which rows of a line the model sees (`hotich.line_image.LineCrop`); None: the model's own."""
    checkpoint_dir: Path = Path("var/runs/recognizer")
    keep_evaluated: bool = False
    """Also keep each evaluated step as step-N.pt, for `hotich train average` over a run's last steps."""
    seed: int = 0
    num_workers: int = Field(1, ge=0)
    """Data-loading processes per training process; one is enough to keep a model busy."""
    threads: int = Field(2, ge=1)
    """Torch threads per training process."""
    processes: int = Field(1, ge=1)
    """Data-parallel CPU training processes; each step then sees `processes` batches of `batch_size` lines."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto: the GPU when torch sees one (then one process), else the CPU."""

    @model_validator(mode="after")
    def _one_process_per_gpu(self) -> TrainConfig:
        if self.device == "cuda" and self.processes > 1:
            raise ValueError("processes > 1 is data parallelism over CPU cores: train on one GPU with processes: 1")
        return self


def load_train_config(path: Path = DEFAULT_CONFIG) -> TrainConfig:
    return TrainConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


@dataclass(frozen=True)
class _Source:
    name: str
    samples: list[LineSample]
    weight: float
    augment: float


@dataclass
class TrainResult:
    step: int
    checkpoint_dir: Path
    best_set: str | None
    best_cer: float | None
    lines_per_s: float
    """Training throughput of this run (evaluation time excluded)."""
    losses: list[float] = field(default_factory=list)
    """CTC loss of every step this run made."""


class MixedBatchSampler:
    """Index batches over the concatenation of several sources, forever, starting at any step.

    Sources take turns in a fixed pattern of `period` steps holding each one's share (by weight). Each
    source walks through its own shuffled epochs; an epoch is cut into chunks of 50 batches, each chunk
    sorted by line width so a batch pads little. Data-parallel processes share the pattern (every process
    of a step draws from one source, so none waits on another's long lines) and differ by `rank` in the
    shuffle.
    """

    def __init__(self, widths: list[list[int]], weights: list[float], batch_size: int, seed: int,
                 start_step: int = 0, period: int = 100, rank: int = 0) -> None:
        self.widths = [np.asarray(w) for w in widths]
        self.offsets = np.cumsum([0] + [len(x) for x in self.widths[:-1]])
        self.batch_size, self.seed, self.start_step, self.rank = batch_size, seed, start_step, rank
        counts = _apportion(weights, period)
        slots = sorted(((k + 0.5) / n, s) for s, n in enumerate(counts) for k in range(n))
        self.pattern = [s for _, s in slots]
        self.before = [self.pattern[:i].count(s) for i, s in enumerate(self.pattern)]
        self.counts = counts
        chunk = 50 * batch_size
        self.per_epoch = [sum(math.ceil(min(chunk, len(x) - a) / batch_size) for a in range(0, len(x), chunk))
                          for x in self.widths]
        self._cache: dict[int, tuple[int, list[np.ndarray]]] = {}

    def source_position(self, step: int) -> tuple[int, int]:
        """(source, how many batches that source gave before `step`)."""
        slot = step % len(self.pattern)
        s = self.pattern[slot]
        return s, (step // len(self.pattern)) * self.counts[s] + self.before[slot]

    def epochs(self, step: int) -> list[float]:
        """Epochs each source has completed after `step` steps."""
        full, rest = divmod(step, len(self.pattern))
        return [(full * self.counts[s] + self.pattern[:rest].count(s)) / self.per_epoch[s]
                for s in range(len(self.widths))]

    def batch(self, step: int) -> list[int]:
        s, j = self.source_position(step)
        epoch, b = divmod(j, self.per_epoch[s])
        if self._cache.get(s, (-1, []))[0] != epoch:
            self._cache[s] = (epoch, self._epoch_batches(s, epoch))
        return (self._cache[s][1][b] + self.offsets[s]).tolist()

    def _epoch_batches(self, s: int, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, s, epoch, self.rank])
        widths, chunk = self.widths[s], 50 * self.batch_size
        perm = rng.permutation(len(widths))
        batches = []
        for a in range(0, len(perm), chunk):
            part = perm[a : a + chunk]
            part = part[np.argsort(widths[part], kind="stable")]
            batches += [part[i : i + self.batch_size] for i in range(0, len(part), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1


def _apportion(weights: list[float], total: int) -> list[int]:
    """Integer shares of `total` proportional to `weights` (largest remainder), at least 1 each."""
    raw = [w / sum(weights) * total for w in weights]
    counts = [max(1, math.floor(r)) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    for i in by_remainder[: max(0, total - sum(counts))]:
        counts[i] += 1
    return counts


def _read_folders(folders: list[Path]) -> list[LineSample]:
    samples = []
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"no line folder {folder}: make one with `hotich synth lines --out {folder}`")
        samples += read_line_folder(folder)
    return samples


def _subsample(samples: list[LineSample], n: int, seed: int) -> list[LineSample]:
    if len(samples) <= n:
        return samples
    keep = np.random.default_rng(seed).choice(len(samples), n, replace=False)
    return [samples[i] for i in sorted(keep)]


def _widths(samples: list[LineSample], height: int, max_width: int, crop: LineCrop, progress: bool = True
            ) -> list[int]:
    """Each line's width once resized to `height` (as LineDataset will): from the image header alone, or for
    `crop="ink"` from the ink band's height (which needs the pixels)."""
    widths = []
    for sample in tqdm(samples, desc="line widths", unit="line", leave=False, mininterval=2.0, disable=not progress):
        if crop == "ink":
            gray = read_gray(sample.path)
            top, bottom = ink_band(gray)
            h, w = bottom - top, gray.shape[1]
        else:
            with Image.open(sample.path) as im:
                w, h = im.size
        widths.append(resized_width(h, w, height, max_width))
    return widths


def _held_out(sample: LineSample) -> bool:
    """One corrected line in ten validates fine-tuning, chosen by file name so it never changes."""
    return zlib.crc32(sample.path.name.encode()) % 10 == 0


def _data_plan(config: TrainConfig, data: Path | None) -> tuple[list[_Source], dict[str, list[LineSample]]]:
    """Training sources and validation sets of this run."""
    synth = _read_folders(config.synth_train)
    val = {"synth_val": _subsample(_read_folders(config.synth_val), config.max_val_lines, config.seed)}
    real: _Source | None = None
    root = shared_data_dir()
    if config.kalapa and root is not None and (root / KALAPA_DIR).is_dir():
        k_train, k_val = kalapa_split(root / KALAPA_DIR, config.kalapa_val_writers)
        val["kalapa_val"] = k_val
        real = _Source("kalapa", k_train, config.kalapa_ratio, config.augment_real)
    elif config.kalapa:
        tqdm.write(f"no {KALAPA_DIR} under the shared data folder: training and validating on synthetic lines only")
    if data is not None:
        lines = read_line_folder(data)
        val["data_val"] = [s for s in lines if _held_out(s)]
        real = _Source("data", [s for s in lines if not _held_out(s)], config.finetune_ratio, config.augment_real)
    sources = [_Source("synth", synth, 1.0 - (real.weight if real else 0.0), config.augment_synth)]
    if real is not None:
        sources.append(real)
    sources = [s for s in sources if s.samples and s.weight > 0]
    if not sources:
        raise ValueError("no training lines: list synth_train folders, use Kalapa, or fine-tune with --data")
    val = {name: samples for name, samples in val.items() if samples}
    if not val:
        raise ValueError("no validation lines: list synth_val folders or use Kalapa")
    return sources, val


def _init_worker(worker_id: int) -> None:
    cv2.setNumThreads(1)  # the loader processes share the cores with the model: no extra OpenCV threads


@torch.no_grad()
def evaluate(model: CRNN, codec: Codec, samples: list[LineSample], batch_size: int = 64,
             max_width: int = 1024, num_workers: int = 0) -> TextScores:
    """Greedy-decode every line and score it against its label."""
    config = model.config
    by_width = np.argsort(_widths(samples, config.height, max_width, config.crop, progress=False), kind="stable")
    ordered = [samples[i] for i in by_width]  # similar widths together: less padding
    loader = DataLoader(LineDataset(ordered, config.height, max_width, crop=config.crop), batch_size=batch_size,
                        collate_fn=collate_lines, num_workers=num_workers)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    hyps = []
    for images, widths, _ in loader:
        log_probs, lengths = model(images.to(device), widths.to(device))
        probs = log_probs.exp().transpose(0, 1).cpu().numpy()
        hyps += [greedy(p[:n], codec).text for p, n in zip(probs, lengths.cpu().tolist(), strict=True)]
    model.train(was_training)
    return score_lines([s.text for s in ordered], hyps)


def _scores_dict(scores: TextScores) -> dict[str, float]:
    return {"cer": scores.cer, "cer_nopunct": scores.cer_nopunct, "wer": scores.wer, "line_acc": scores.line_acc,
            "n": scores.n}


def train_recognizer(config: TrainConfig, *, resume: bool = False, init: Path | None = None,
                     data: Path | None = None, max_steps: int | None = None, progress: bool = True) -> TrainResult:
    """Train (or with `init` and `data`, fine-tune) a recogniser; checkpoints go to `config.checkpoint_dir`.

    `max_steps` stops this run once that many steps are done in all (the schedule still spans
    `config.steps`), saving `last.pt` so that `resume=True` carries on.
    """
    if config.processes == 1:
        return _train(config, resume, init, data, max_steps, progress)
    address = f"tcp://127.0.0.1:{_free_port()}"
    spawn = mp.get_context("spawn")
    helpers = [spawn.Process(target=_train_helper, args=(address, rank, config, resume, init, data, max_steps))
               for rank in range(1, config.processes)]
    for helper in helpers:
        helper.start()
    try:
        result = _train(config, resume, init, data, max_steps, progress, address=address)
    except BaseException:
        for helper in helpers:
            helper.terminate()
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    for helper in helpers:
        helper.join()
        if helper.exitcode:
            raise RuntimeError(f"training process {helpers.index(helper) + 1} failed (exit code {helper.exitcode})")
    return result


def _device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda, but torch sees no GPU; use device: auto or cpu")
    return torch.device("cuda" if choice != "cpu" and torch.cuda.is_available() else "cpu")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train_helper(address: str, rank: int, config: TrainConfig, resume: bool, init: Path | None,
                  data: Path | None, max_steps: int | None) -> None:
    try:
        _train(config, resume, init, data, max_steps, progress=False, address=address, rank=rank)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(config: TrainConfig, resume: bool, init: Path | None, data: Path | None, max_steps: int | None,
           progress: bool, address: str | None = None, rank: int = 0) -> TrainResult:
    """One training process: the whole run when alone, else its share (process 0 evaluates and writes)."""
    torch.set_num_threads(config.threads)
    # The ink crop runs OpenCV here before the data loader forks its workers, and a forked OpenCV thread pool
    # deadlocks them: OpenCV stays on this thread.
    cv2.setNumThreads(0)
    lead = rank == 0
    out = config.checkpoint_dir
    last_path, best_path, history_path = out / "last.pt", out / "best.pt", out / "history.jsonl"
    state: dict[str, Any] = {}
    if resume:
        if not last_path.is_file():
            raise FileNotFoundError(f"nothing to resume: no {last_path}")
        ckpt = load_checkpoint(last_path)
        model, codec, state = ckpt.model, ckpt.codec, ckpt.train_state or {}
        data = data or (Path(state["data"]) if state.get("data") else None)
    else:
        if lead and last_path.exists():
            raise FileExistsError(f"{last_path} exists: pass --resume, or choose another checkpoint_dir")
        torch.manual_seed(config.seed)
        if init is not None:
            ckpt = load_checkpoint(init)
            model, codec = ckpt.model, ckpt.codec
        else:
            model, codec = build_recognizer(load_model_config(config.model))
        if config.crop is not None:
            model.config = model.config.model_copy(update={"crop": config.crop})
        if lead:
            out.mkdir(parents=True, exist_ok=True)
            history_path.write_text("", encoding="utf-8")

    device = _device(config.device) if config.processes == 1 else torch.device("cpu")
    model.to(device)
    sources, val_sets = _data_plan(config, data)
    best_set = next(name for name in BEST_OF if name in val_sets)
    height = model.config.height
    train_set = ConcatDataset([
        LineDataset(s.samples, height, config.max_width,
                    augment=Augment(s.augment, seed=config.seed + n + 1000 * rank, width=config.augment_width)
                    if s.augment > 0 else None,
                    crop=model.config.crop)
        for n, s in enumerate(sources)
    ])

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.steps,
                                                    # at least 2 warm-up steps: fewer divide by zero
                                                    pct_start=min(0.5, max(config.warmup, 2 / config.steps)))
    step = state.get("step", 0)
    best: float | None = state.get("best")
    if state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])  # dropout and the data loader's worker seeds
    if rank:
        torch.manual_seed(torch.initial_seed() + rank)  # its own dropout and worker seeds
    stop = min(config.steps, max_steps) if max_steps is not None else config.steps

    sampler = MixedBatchSampler([_widths(src.samples, height, config.max_width, model.config.crop, progress)
                                 for src in sources],
                                [s.weight for s in sources], config.batch_size, config.seed, start_step=step,
                                rank=rank)
    loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate_lines, num_workers=config.num_workers,
                        worker_init_fn=_init_worker)
    ctc = torch.nn.CTCLoss(blank=codec.blank, zero_infinity=True)
    net: torch.nn.Module = model
    if address is not None:
        # A process that dies leaves the others waiting on its gradients: give up after the timeout.
        dist.init_process_group("gloo", init_method=address, rank=rank, world_size=config.processes,
                                timeout=datetime.timedelta(minutes=15))
        net = DistributedDataParallel(model)  # starts every process from process 0's weights
    model.train()
    say = tqdm.write

    def checkpoint(path: Path) -> None:
        train_state = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                       "torch_rng": torch.get_rng_state(), "best": best,
                       "best_set": best_set, "data": str(data) if data else None,
                       "config": config.model_dump(mode="json")}
        save_checkpoint(path, model, codec, train_state,
                        extra_meta={"step": step, "best_set": best_set, "best_cer": best})

    if lead:
        say(f"training {model.config.name} ({sum(p.numel() for p in model.parameters()):,} parameters) from step "
            f"{step} to {stop} of {config.steps} in {config.processes} process(es); batches: "
            + ", ".join(f"{s.name} {len(s.samples)} lines x{s.weight:.2f}" for s in sources)
            + "; validation: " + ", ".join(f"{k} {len(v)}" for k, v in val_sets.items()))
    losses: list[float] = []
    window: list[float] = []
    train_seconds, lines_done, reported_unknown = 0.0, 0, 0
    bar = tqdm(total=config.steps, initial=step, unit="step", dynamic_ncols=True, disable=not (progress and lead))
    batches = iter(loader)
    while step < stop:
        tick = time.perf_counter()
        images, widths, texts = next(batches)
        targets = [codec.encode(t) for t in texts]
        log_probs, lengths = net(images.to(device), widths.to(device))
        labels = torch.tensor([i for t in targets for i in t], dtype=torch.long, device=device)
        label_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long, device=device)
        loss = optimisation_step(ctc(log_probs, labels, lengths, label_lengths), model, optimizer, scheduler,
                                 config.grad_clip)
        step += 1
        train_seconds += time.perf_counter() - tick
        lines_done += len(texts) * config.processes
        losses.append(loss)
        window.append(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(window[-50:]):.3f}", lines_s=f"{lines_done / train_seconds:.1f}")

        if lead and (step % config.eval_every == 0 or step == config.steps):
            scores = {name: evaluate(model, codec, samples, max_width=config.max_width,
                                     num_workers=config.num_workers) for name, samples in val_sets.items()}
            improved = best is None or scores[best_set].cer < best
            if improved:
                best = scores[best_set].cer
            checkpoint(last_path)
            if improved:
                checkpoint(best_path)
            if config.keep_evaluated:
                checkpoint(out / f"step-{step}.pt")
            record = {"step": step, "epochs": dict(zip([s.name for s in sources], sampler.epochs(step), strict=True)),
                      "lr": scheduler.get_last_lr()[0], "train_loss": float(np.mean(window)),
                      "lines_per_s": lines_done / train_seconds, "best": improved,
                      "val": {name: _scores_dict(s) for name, s in scores.items()}}
            with history_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            say(f"step {step}: loss {record['train_loss']:.3f}; "
                + "; ".join(f"{name} CER {s.cer:.2%} (no punct. {s.cer_nopunct:.2%})" for name, s in scores.items())
                + (" *best*" if improved else ""))
            window = []
            unknown = sum(codec.unknown.values())
            if unknown > reported_unknown:
                say(f"codec: {unknown} label characters outside the charset were left out: "
                    f"{dict(codec.unknown.most_common(10))}")
                reported_unknown = unknown
    bar.close()
    if lead and step % config.eval_every and step < config.steps:
        checkpoint(last_path)  # stopped by max_steps between evaluations: keep the state for --resume
    return TrainResult(step=step, checkpoint_dir=out, best_set=best_set, best_cer=best,
                       lines_per_s=lines_done / train_seconds if train_seconds else 0.0, losses=losses)
