"""The HTTP API (FastAPI): read pages, list templates, health, readiness and Prometheus metrics, every route
but /health behind an API key. `create_app()` builds it on the embedded defaults (`Settings.from_env`);
`hotich serve` runs it under uvicorn. The OpenAPI docs are at /docs?api_key=KEY."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Query, Request, Security, UploadFile
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import sessionmaker

from hotich.inference.images import BadInput, decode_image, is_pdf, pdf_pages
from hotich.inference.pipeline import Pipeline
from hotich.page import PageResult
from hotich.server.auth import find_key, has_role
from hotich.server.exports import FORMATS, export_book
from hotich.server.jobs import BookJobs
from hotich.server.reading import Busy, PageReader
from hotich.server.settings import Settings
from hotich.server.storage import ApiKey, Job, JobPage, connect, migrate
from hotich.templates import list_templates

__all__ = ["create_app"]

_STATUS = {"empty": 400, "not_an_image": 415, "pdf": 415, "too_large": 413, "too_many_pages": 413, "zip_bomb": 413}
"""HTTP status of each kind of unreadable upload; the rest are 422."""
_ACCEPTED_TYPES = ("image/", "application/pdf", "application/octet-stream")
_MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "csv": "text/csv; charset=utf-8", "json": "application/json", "pagexml": "application/zip",
                "pdfzip": "application/zip"}


@dataclass
class _Service:
    settings: Settings
    sessions: sessionmaker
    reader: PageReader
    jobs: BookJobs
    registry: CollectorRegistry
    requests: Counter


class JobStatus(BaseModel):
    id: str
    status: str
    """queued, running, done (every page read; some may have failed) or failed (no page could be read)."""
    filename: str
    total_pages: int
    done_pages: int
    failed_pages: list[str]
    """Why each page that could not be read was not."""
    progress: float
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplateField(BaseModel):
    key: str
    label: str
    type: str
    moj: str | None


class TemplateInfo(BaseModel):
    id: str
    book_type: str
    era: str
    title: str
    valid_from: str
    valid_to: str
    records_per_page: int
    fields: list[TemplateField]


def _service(request: Request) -> _Service:
    return request.app.state.service


_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


def _admit(request: Request, key: str | None, role: str) -> ApiKey:
    if not key:
        raise HTTPException(401, "missing API key: send it in the X-API-Key header (an admin creates one with "
                                 "`hotich keys create --role reader`)", headers={"WWW-Authenticate": "API-Key"})
    with _service(request).sessions() as session:
        record = find_key(session, key)
    if record is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "API-Key"})
    if not has_role(record, role):
        raise HTTPException(403, f"this key's role is {record.role}; this needs {role} or above")
    return record


def require(role: str) -> Callable[..., ApiKey]:
    """A dependency admitting keys of `role` or above, sent as X-API-Key or `Authorization: Bearer`."""

    def check(request: Request, key: Annotated[str | None, Security(_api_key)] = None,
              authorization: Annotated[str | None, Header()] = None) -> ApiKey:
        if key is None and authorization and authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        return _admit(request, key, role)

    return check


def _docs_reader(request: Request, key: Annotated[str | None, Security(_api_key)] = None,
                 api_key: Annotated[str | None, Query(description="A key, for browsers that cannot send headers")]
                 = None) -> str:
    """The docs take the key from the query string too: a browser opening /docs?api_key=... sends no header."""
    key = key or api_key
    _admit(request, key, "reader")
    return key


def _upload_bytes(upload: UploadFile, limit_mb: float) -> bytes:
    limit = int(limit_mb * 2**20)
    if upload.size is not None and upload.size > limit:
        raise HTTPException(413, f"the upload is {upload.size / 2**20:.0f} MB; up to {limit_mb:.0f} MB is accepted")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the upload is over {limit_mb:.0f} MB, the most accepted")
    return data


def _check_type(upload: UploadFile, extra: tuple[str, ...] = ()) -> None:
    content_type = (upload.content_type or "application/octet-stream").lower()
    if not content_type.startswith(_ACCEPTED_TYPES + extra):
        accepted = "an image (image/png, image/jpeg, image/tiff ...) or application/pdf" + (" or a zip" * bool(extra))
        raise HTTPException(415, f"content type {content_type} is not accepted here: send {accepted}")


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """The service on `settings` (default: from the environment), reading with `pipeline` (default: the
    shipped models, loaded at startup)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.database)
        engine, sessions = connect(settings.database)
        registry = CollectorRegistry()
        # Every page may use every core: a page read alone is not held to its share (8 test pages on 2 cores:
        # 0.45-0.46 s p50 against 0.55 s with a thread each), and two read at once share the cores as fast as
        # with a core each (16 test pages, 2 at a time: 2.3-2.7 pages/s either way).
        reader_pipeline = pipeline or Pipeline(threads=settings.threads, providers=settings.providers or None)
        reader = PageReader(reader_pipeline, settings.max_concurrent_pages, settings.queue_size, registry)
        jobs = BookJobs(settings, sessions, reader)
        requests = Counter("hotich_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry)
        app.state.service = _Service(settings, sessions, reader, jobs, registry, requests)
        jobs.start()  # also resumes books a previous process left half-read
        yield
        jobs.stop()
        engine.dispose()

    app = FastAPI(title="hotich-ocr", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None,
                  description="Reads handwritten Vietnamese civil-registry pages into field values with calibrated "
                              "confidence and review flags. Every route but /health needs an API key (X-API-Key).")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(key: Annotated[str, Depends(_docs_reader)]) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(key: Annotated[str, Depends(_docs_reader)]) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"/openapi.json?{urlencode({'api_key': key})}", title="hotich-ocr API")

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Callable) -> Any:
        response = await call_next(request)
        service: _Service | None = getattr(request.app.state, "service", None)
        if service is not None:  # counted by route template, not by path: a job id is not a label
            route = getattr(request.scope.get("route"), "path", "other")
            service.requests.labels(request.method, route, str(response.status_code)).inc()
        return response

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "kind": exc.kind}, status_code=_STATUS.get(exc.kind, 422))

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "5"})

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """The process is up (no key needed)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["service"], dependencies=[Depends(require("reader"))])
    def ready(request: Request) -> JSONResponse:
        """The models are loaded and the database answers."""
        service = _service(request)
        try:
            with service.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # the database is down: not ready, say why
            return JSONResponse({"status": "not ready", "detail": f"database: {exc}"}, status_code=503)
        return JSONResponse({"status": "ready", "models": service.reader.pipeline.model_versions})

    @app.get("/metrics", tags=["service"], dependencies=[Depends(require("reader"))])
    def metrics(request: Request) -> PlainTextResponse:
        """Prometheus metrics: requests, pages, fields accepted and sent to review, reading time."""
        return PlainTextResponse(generate_latest(_service(request).registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/templates", tags=["books"], dependencies=[Depends(require("reader"))])
    def templates() -> list[TemplateInfo]:
        """The book templates pages are identified against."""
        return [TemplateInfo(id=t.id, book_type=t.book_type, era=t.era, title=t.title,
                             valid_from=t.valid.start.isoformat(), valid_to=t.valid.end.isoformat(),
                             records_per_page=t.layout.records_per_page,
                             fields=[TemplateField(key=f.key, label=f.label, type=f.type, moj=f.moj) for f in t.fields])
                for t in list_templates()]

    @app.post("/v1/pages", tags=["pages"], dependencies=[Depends(require("operator"))])
    def read_page(request: Request, page: Annotated[UploadFile, File(description="The page: an image or a PDF")],
                  page_number: Annotated[int, Form(ge=1, description="Which page of a PDF (from 1)")] = 1
                  ) -> PageResult:
        """Read one page: every field of every registration on it, with confidence and review flags."""
        service = _service(request)
        _check_type(page)
        data = _upload_bytes(page, service.settings.max_upload_mb)
        with service.reader.admitted():
            tick = time.perf_counter()
            if is_pdf(data):
                image = next(pdf_pages(data, service.settings.max_book_pages, service.settings.max_megapixels,
                                       first=page_number - 1, last=page_number - 1))
            else:
                image = decode_image(data, service.settings.max_megapixels)
            decoded = time.perf_counter()
            result = service.reader.read(image, page_id=f"upload-{int(time.time() * 1000)}",
                                         filename=page.filename or "")
        result.timings_ms["decode"] = (decoded - tick) * 1000
        # Time spent waiting for a reading slot behind other pages (`HOTICH_MAX_CONCURRENT_PAGES`).
        waited = (time.perf_counter() - decoded) * 1000 - result.timings_ms.get("total", 0.0)
        result.timings_ms["queued"] = max(0.0, waited)
        return result

    @app.post("/v1/books", tags=["books"], status_code=202)
    def submit_book(request: Request, key: Annotated[ApiKey, Depends(require("operator"))],
                    book: Annotated[list[UploadFile], File(description="One PDF, one zip of page images, or the "
                                                                       "page images (repeat the field)")]) -> JobStatus:
        """Read a whole book in the background; poll GET /v1/jobs/{id}, then fetch its exports."""
        service = _service(request)
        files = []
        for upload in book:
            _check_type(upload, extra=("application/zip", "application/x-zip-compressed"))
            name = upload.filename or f"page{len(files) + 1}"
            files.append((name, _upload_bytes(upload, service.settings.max_upload_mb)))
        job = service.jobs.submit(files, book[0].filename or "", key.id)
        return _job_status(service, job.id)

    @app.get("/v1/jobs/{job_id}", tags=["books"], dependencies=[Depends(require("reader"))])
    def job_status(request: Request, job_id: str) -> JobStatus:
        """A book job's progress."""
        return _job_status(_service(request), job_id)

    @app.get("/v1/jobs/{job_id}/export", tags=["books"], dependencies=[Depends(require("reader"))])
    def job_export(request: Request, job_id: str,
                   fmt: Annotated[Literal["xlsx", "csv", "json", "pagexml", "pdfzip"], Query(alias="format")] = "xlsx"
                   ) -> FileResponse:
        """A finished book as the registry imports it: xlsx (the Ministry's sheet), pdfzip (one PDF per
        registration), csv, json (the page results) or pagexml (a zip of PAGE XML)."""
        service = _service(request)
        status = _job_status(service, job_id)
        if status.status not in ("done", "failed"):
            raise HTTPException(409, f"job {job_id} is {status.status} ({status.done_pages} of {status.total_pages} "
                                     "pages read): export it when it is done")
        with service.sessions() as session:
            pages = session.scalars(select(JobPage).where(JobPage.job_id == job_id, JobPage.status == "done")
                                    .order_by(JobPage.index)).all()
        if not pages:
            raise HTTPException(422, f"job {job_id} has no page that could be read: nothing to export")
        out = service.settings.data_dir / "jobs" / job_id / "exports"
        out.mkdir(exist_ok=True)
        results = [PageResult.model_validate(p.result) for p in pages]
        try:
            path = export_book(results, [Path(p.image_path) for p in pages], out, [fmt])[fmt]
        except ValueError as exc:
            raise HTTPException(422, f"job {job_id} cannot be exported as {fmt}: {exc}") from None
        stem = Path(status.filename).stem or job_id
        return FileResponse(path, media_type=_MEDIA_TYPES[fmt], filename=f"{stem}{FORMATS[fmt]}")

    return app


def _job_status(service: _Service, job_id: str) -> JobStatus:
    with service.sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        failed = session.scalars(select(JobPage.error).where(JobPage.job_id == job_id, JobPage.status == "failed")
                                 .order_by(JobPage.index)).all()
        return JobStatus(id=job.id, status=job.status, filename=job.filename, total_pages=job.total_pages,
                         done_pages=job.done_pages, failed_pages=[e or "" for e in failed],
                         progress=job.done_pages / job.total_pages if job.total_pages else 0.0,
                         created_at=job.created_at, updated_at=job.updated_at)
