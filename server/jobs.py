"""Book jobs: a whole book read in the background, one page at a time, by one worker thread.

Each page's result is committed with its `done` status and the job's progress in one transaction. A job
whose process was killed mid-book (kill -9, a power cut) is still `running` in the database; the worker
of the next start picks it up at its first page not done, so no page is lost and none is read twice."""

from __future__ import annotations

import shutil
import threading
import traceback
import uuid
from pathlib import Path

import cv2
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from hotich.inference.fields.numbers import check_sequence
from hotich.inference.images import BadInput, decode_image, pdf_pages
from hotich.inference.pipeline import UNKNOWN_TEMPLATE
from hotich.page import FieldResult, PageResult
from hotich.server.books import unpack_book
from hotich.server.reading import Busy, PageReader
from hotich.server.settings import Settings
from hotich.server.storage import Job, JobPage
from hotich.templates import get_template

__all__ = ["BookJobs"]

MAX_QUEUED_JOBS = 20
"""Books that may wait for the worker; beyond that a new book is refused with 429."""


class BookJobs:
    def __init__(self, settings: Settings, sessions: sessionmaker, reader: PageReader) -> None:
        self.settings, self.sessions, self.reader = settings, sessions, reader
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, files: list[tuple[str, bytes]], filename: str, key_id: int | None) -> Job:
        """Unpack and record a book; its pages are read in the background. BadInput or Busy when refused,
        with nothing kept."""
        with self.sessions() as session:
            waiting = session.scalar(select(func.count()).select_from(Job).where(Job.status == "queued"))
        if waiting >= MAX_QUEUED_JOBS:
            raise Busy(f"{waiting} books are waiting to be read; submit this one when some are done")
        job_id = uuid.uuid4().hex
        folder = self.settings.data_dir / "jobs" / job_id
        try:
            pages = unpack_book(files, folder / "pages", self.settings.max_book_pages,
                                int(self.settings.max_upload_mb * 2**20) * 4)
            job = Job(id=job_id, status="queued", filename=filename, total_pages=len(pages), done_pages=0,
                      key_id=key_id)
            with self.sessions() as session:
                session.add(job)
                session.flush()  # the job row first: PostgreSQL checks the pages' foreign key at once
                session.add_all([JobPage(job_id=job_id, index=p.index, status="pending",
                                         image_path=str(p.path) + (f"#{p.pdf_page}" if p.pdf_page is not None else ""))
                                 for p in pages])
                session.commit()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._wake.set()
        return job

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="book-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _next_job(self) -> str | None:
        with self.sessions() as session:
            return session.scalar(select(Job.id).where(Job.status.in_(("running", "queued")))
                                  .order_by(Job.status.desc(), Job.created_at).limit(1))  # running ones first

    def _run(self) -> None:
        while not self._stop.is_set():
            job_id = self._next_job()
            if job_id is None:
                self._wake.wait(timeout=2.0)
                self._wake.clear()
                continue
            self._process(job_id)

    def _process(self, job_id: str) -> None:
        with self.sessions() as session:
            job = session.get(Job, job_id)
            job.status = "running"
            session.commit()
            pending = session.scalars(select(JobPage).where(JobPage.job_id == job_id, JobPage.status == "pending")
                                      .order_by(JobPage.index)).all()
        for page in pending:
            if self._stop.is_set():
                return
            self._read_page(job_id, page)
        with self.sessions() as session:
            job = session.get(Job, job_id)
            failed = session.scalar(select(func.count()).select_from(JobPage)
                                    .where(JobPage.job_id == job_id, JobPage.status == "failed"))
            job.status = "failed" if failed == job.total_pages else "done"
            job.error = f"{failed} of {job.total_pages} pages could not be read" if failed else None
            session.commit()

    def _read_page(self, job_id: str, page: JobPage) -> None:
        path, _, pdf_page = page.image_path.partition("#")
        image_path, result, error = page.image_path, None, None
        try:
            if pdf_page:
                image = next(pdf_pages(Path(path).read_bytes(), self.settings.max_book_pages,
                                       self.settings.max_megapixels, first=int(pdf_page), last=int(pdf_page)))
                image_path = str(self.settings.data_dir / "jobs" / job_id / "pages" / f"{page.index:05d}.png")
                cv2.imwrite(image_path, image)
            else:
                image = decode_image(Path(path).read_bytes(), self.settings.max_megapixels)
            result = self.reader.read(image, page_id=f"{job_id}-p{page.index + 1:04d}",
                                      filename=f"page {page.index + 1}")
        except BadInput as exc:
            error = f"page {page.index + 1}: {exc}"
        except Exception:  # one unreadable page must not stop the book; keep the reason on the page
            error = f"page {page.index + 1}: {traceback.format_exc(limit=3)}"
        with self.sessions() as session:
            if result is not None and page.index > 0:
                previous = session.scalar(select(JobPage.result).where(JobPage.job_id == job_id,
                                                                       JobPage.index == page.index - 1))
                _continue_numbers(result, PageResult.model_validate(previous) if previous else None)
            row = session.get(JobPage, page.id)
            row.image_path = image_path
            row.status, row.error = ("done", None) if result is not None else ("failed", error)
            row.result = result.model_dump(mode="json") if result is not None else None
            job = session.get(Job, job_id)
            job.done_pages += 1
            session.commit()


def _numbers(page: PageResult) -> list[FieldResult]:
    """The registration-number fields of a page's records, top to bottom."""
    if page.template_id == UNKNOWN_TEMPLATE:
        return []
    key = next((f.key for f in get_template(page.template_id).fields if f.source == "reg.number"), None)
    return [f for r in page.records for f in r.fields if f.key == key]


def _continue_numbers(page: PageResult, previous: PageResult | None) -> None:
    """The first registration of a page follows the last of the page before it (or starts a new year)."""
    before, here = _numbers(previous) if previous else [], _numbers(page)
    last = next((f.value for f in reversed(before) if f.value and f.value.isdigit()), None)
    if last is None or not here:
        return
    found = check_sequence([here[0].value], previous=int(last))[0]
    if found:
        here[0].issues.extend(found)
        here[0].needs_review = True
