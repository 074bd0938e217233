"""Reading pages for the service: a bounded queue in front of the pipeline. A few pages are read at once
(the cores are few); a few more requests may wait; beyond that the caller is told to come back later
rather than every request slowing down together."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hotich.inference.pipeline import Pipeline
from hotich.page import PageResult

__all__ = ["Busy", "PageReader"]


class Busy(RuntimeError):
    """Every reading slot is taken and the queue is full."""


class PageReader:
    def __init__(self, pipeline: Pipeline, concurrent: int, queue_size: int, registry: CollectorRegistry) -> None:
        self.pipeline = pipeline
        self._slots = threading.Semaphore(concurrent)
        self._admitted = threading.BoundedSemaphore(concurrent + queue_size)
        self.pages = Counter("hotich_pages_read", "Pages read", ["outcome"], registry=registry)
        self.fields = Counter("hotich_fields_read", "Fields read", ["routing"], registry=registry)
        self.seconds = Histogram("hotich_page_seconds", "Time to read one page (queue wait excluded)",
                                 buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16), registry=registry)
        self.waiting = Gauge("hotich_pages_in_flight", "Pages being read or waiting", registry=registry)

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """A place in the request queue for what the block does, or Busy at once when the queue is full. Taken
        before an upload is decoded, so a full service refuses it before spending time or memory on its pixels
        (a 60 MP page is 180 MB decoded)."""
        if not self._admitted.acquire(blocking=False):
            raise Busy("the service is reading as many pages as it can hold; retry in a few seconds")
        try:
            yield
        finally:
            self._admitted.release()

    def read(self, image: np.ndarray, page_id: str, filename: str) -> PageResult:
        """The page's result, once a reading slot is free: requests read it within `admitted`; the book worker
        waits for a slot without taking a place in the request queue."""
        self.waiting.inc()
        try:
            with self._slots:
                tick = time.perf_counter()
                result = self.pipeline.read_page(image, page_id=page_id, filename=filename)
                self.seconds.observe(time.perf_counter() - tick)
        except Exception:
            self.pages.labels("failed").inc()
            raise
        finally:
            self.waiting.dec()
        self.pages.labels("known" if result.records else "unknown").inc()
        for record in result.records:
            for field in record.fields:
                self.fields.labels("review" if field.needs_review else "accepted").inc()
        return result
