"""Many pages or lines at once, on every core, in a deterministic order, with a progress bar."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
from tqdm import tqdm

from hotich.datasets.synth.lines import LABELS_FILE, encode_png, line_crops
from hotich.datasets.synth.pages import SynthOptions, generate_page, is_written, write_page


@dataclass(frozen=True)
class RunSummary:
    items: int
    pages: int
    """Pages generated in this run (pages found complete on disk are not counted)."""
    seconds: float
    skipped: int = 0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else float("inf")


def _init_worker() -> None:
    # One OpenCV thread per process: the processes already fill the cores.
    cv2.setNumThreads(1)


def _page_job(args: tuple[int, int, SynthOptions, Path]) -> str:
    seed, index, options, out = args
    page = generate_page(seed, index, options)
    write_page(page, out)
    return page.truth.page_id


def _lines_job(args: tuple[int, int, SynthOptions, float]) -> list[tuple[str, bytes, str]]:
    seed, index, options, blank = args
    page = generate_page(seed, index, options)
    return [(stem, encode_png(crop), text) for stem, crop, text in line_crops(page, blank)]


def _pool(workers: int | None) -> mp.pool.Pool:
    # forkserver: forking a process that runs threads (test runners, servers) can deadlock its children.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["hotich.datasets.synth.pages"])
    return ctx.Pool(workers or os.cpu_count() or 1, initializer=_init_worker)


def write_pages(n: int, seed: int, options: SynthOptions, out: Path, workers: int | None = None) -> RunSummary:
    """Generate pages 0..n-1 of run `seed` into `out`.

    Pages already complete in `out` with the same options are kept, so an interrupted run resumes.
    """
    out.mkdir(parents=True, exist_ok=True)
    todo = [i for i in range(n) if not is_written(out, seed, i, options)]
    start = time.perf_counter()
    if todo:
        jobs = ((seed, i, options, out) for i in todo)
        with _pool(workers) as pool:
            for _ in tqdm(pool.imap(_page_job, jobs), total=len(todo), unit="page", desc="pages"):
                pass
    return RunSummary(items=n, pages=len(todo), seconds=time.perf_counter() - start, skipped=n - len(todo))


def write_lines(n: int, seed: int, options: SynthOptions, out: Path, workers: int | None = None,
                blank: float = 0.0) -> RunSummary:
    """Cut `n` lines from pages 0, 1, ... of run `seed` into `out` with their `labels.tsv`; `blank`: the share
    of unwritten cell bands cut too, with an empty text (`line_crops`)."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows: list[str] = []
    pages = 0
    n_workers = workers or os.cpu_count() or 1
    with _pool(n_workers) as pool, tqdm(total=n, unit="line", desc="lines") as bar:
        # Pages go out in small blocks: how many are needed is known only once their lines are counted.
        for first in itertools.count(0, 4 * n_workers):
            block = ((seed, i, options, blank) for i in range(first, first + 4 * n_workers))
            for crops in pool.imap(_lines_job, block):
                pages += 1
                for stem, png, text in crops[: n - len(rows)]:
                    (out / f"{stem}.png").write_bytes(png)
                    rows.append(f"{stem}.png\t{text}\n")
                    bar.update(1)
                if len(rows) >= n:
                    break
            if len(rows) >= n:
                break
        pool.terminate()
    # Labels last, in one go: a folder whose labels.tsv exists is complete.
    tmp = out / f"{LABELS_FILE}.tmp"
    tmp.write_text("".join(rows), encoding="utf-8")
    tmp.replace(out / LABELS_FILE)
    return RunSummary(items=len(rows), pages=pages, seconds=time.perf_counter() - start)
