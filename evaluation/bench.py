"""Service throughput and latency: `POST /v1/pages` under 1, 4, 16 ... concurrent clients, against a running
service or one started here on the embedded defaults."""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import cv2
import httpx
import numpy as np
import uvicorn
from pydantic import BaseModel, Field

from hotich.server.app import create_app
from hotich.server.auth import create_key
from hotich.server.settings import Settings

__all__ = ["JPEG_QUALITY", "BenchRow", "bench", "local_service", "uploads"]


class BenchRow(BaseModel):
    clients: int
    requests: int
    ok: int
    busy: int
    """Requests answered 429 (queue full)."""
    pages_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    stages_p50_ms: dict[str, float] = Field(default_factory=dict)
    """The service's own time for each stage of a page (its result's `timings_ms`: decode, queued behind other
    pages, preprocess, identify, register, recognise, fields, total), median over the pages read; what the
    latency is spent on."""


@contextmanager
def local_service(settings: Settings | None = None) -> Iterator[tuple[str, str]]:
    """A service on a free local port (a temporary data folder unless `settings` say otherwise); yields its
    URL and an operator key."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings or Settings(data_dir=Path(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.1)
        with app.state.service.sessions() as session:
            key = create_key(session, "operator", "bench")[1]
        try:
            yield url, key
        finally:
            server.should_exit = True
            thread.join(timeout=30)


JPEG_QUALITY = 90
"""Pages sent as JPEG are re-encoded at this quality (what scanners and phone cameras commonly write)."""


def uploads(pages: Sequence[Path], encoding: Literal["png", "jpeg"] = "png") -> list[tuple[str, bytes, str]]:
    """(file name, bytes, content type) of each page as a client sends it: the PNG files as they are, or each
    re-encoded as a JPEG (`JPEG_QUALITY`), which decodes in a fraction of a large PNG's time."""
    if encoding == "png":
        return [(p.name, p.read_bytes(), "image/png") for p in pages]
    bodies = []
    for p in pages:
        ok, data = cv2.imencode(".jpg", cv2.imread(str(p), cv2.IMREAD_COLOR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError(f"could not encode {p} as JPEG")
        bodies.append((p.with_suffix(".jpg").name, data.tobytes(), "image/jpeg"))
    return bodies


def bench(url: str, key: str, bodies: Sequence[tuple[str, bytes, str]], clients: Sequence[int], requests: int
          ) -> list[BenchRow]:
    """For each number of clients, `requests` page posts (cycling through `bodies`, see `uploads`) shared among
    them."""
    with httpx.Client(base_url=url, timeout=300) as client:  # warm-up: first reads load caches
        client.post("/v1/pages", headers={"X-API-Key": key}, files={"page": bodies[0]})
    rows = []
    for n_clients in clients:
        latencies: list[float] = []
        statuses: list[int] = []
        stages: list[dict[str, float]] = []
        todo = iter(range(requests))  # shared by the clients: next() on a range iterator is thread-safe in CPython
        started = time.perf_counter()
        threads = [threading.Thread(target=_client, args=(url, key, bodies, todo, statuses, latencies, stages))
                   for _ in range(n_clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        ok = statuses.count(200)
        rows.append(BenchRow(clients=n_clients, requests=len(statuses), ok=ok, busy=statuses.count(429),
                             pages_per_s=ok / elapsed,
                             latency_p50_s=statistics.median(latencies) if latencies else float("nan"),
                             latency_p95_s=float(np.percentile(latencies, 95)) if latencies else float("nan"),
                             stages_p50_ms=_stage_medians(stages)))
    return rows


def _stage_medians(stages: Sequence[dict[str, float]]) -> dict[str, float]:
    # In the order a page goes through them: the upload's decoding and the wait for a reading slot first, the
    # pipeline's total last.
    first = {"decode": 0, "queued": 1}
    names = sorted(dict.fromkeys(name for timings in stages for name in timings),
                   key=lambda name: (first.get(name, 2), name == "total"))
    return {name: statistics.median(t[name] for t in stages if name in t) for name in names}


def _client(url: str, key: str, bodies: Sequence[tuple[str, bytes, str]], todo: Iterator[int], statuses: list[int],
            latencies: list[float], stages: list[dict[str, float]]) -> None:
    """One client posting pages until the shared `todo` runs out (list.append is atomic: no lock needed)."""
    with httpx.Client(base_url=url, timeout=300) as client:
        for i in todo:
            tick = time.perf_counter()
            response = client.post("/v1/pages", headers={"X-API-Key": key}, files={"page": bodies[i % len(bodies)]})
            statuses.append(response.status_code)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - tick)
                stages.append(response.json()["timings_ms"])
