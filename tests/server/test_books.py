"""Whole books: uploads unpacked safely (or refused with nothing kept), read in the background through the
real API, and a job killed mid-book (kill -9) resumed by the next start with no page lost or read twice."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile

import httpx
import openpyxl
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from hotich.cli import main
from hotich.inference.images import BadInput
from hotich.inference.pipeline import Pipeline
from hotich.page import PageResult
from hotich.server.app import create_app
from hotich.server.auth import create_key
from hotich.server.books import unpack_book
from hotich.server.settings import Settings
from hotich.server.storage import Job, JobPage, connect


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def page_files(light_pages_dir) -> list[tuple[str, bytes]]:
    truths = sorted(light_pages_dir.glob("*.json"))[:6]
    return [(f"trang {i + 1}.png", (light_pages_dir / f"{t.stem}.png").read_bytes()) for i, t in enumerate(truths)]


def test_a_zip_is_unpacked_in_natural_page_order(tmp_path, page_files):
    data = _zip({"book/page 10.png": page_files[1][1], "book/page 2.png": page_files[0][1], "__MACOSX/x": b"",
                 "book/.DS_Store": b"x"})
    pages = unpack_book([("book.zip", data)], tmp_path / "pages", max_pages=10, max_bytes=2**30)
    assert [p.path.read_bytes() for p in pages] == [page_files[0][1], page_files[1][1]]


@pytest.mark.parametrize(("files", "kind"), [
    ([("book.zip", _zip({"../../etc/evil.png": b"x"}))], "unsafe_path"),
    ([("book.zip", _zip({"/abs/evil.png": b"x"}))], "unsafe_path"),
    ([("book.zip", _zip({"bomb.png": bytes(50 * 2**20)}, zipfile.ZIP_DEFLATED))], "zip_bomb"),
    ([("book.zip", _zip({"notes.txt": b"hello"}))], "not_an_image"),
    ([("book.zip", b"PK\x03\x04 truncated")], "corrupt"),
    ([("a.png", b"x"), ("notes.docx", b"y")], "not_an_image"),
    ([("book.zip", _zip({f"p{i}.png": b"x" for i in range(12)}))], "too_many_pages"),
    ([], "empty"),
])  # fmt: skip
def test_refused_books_leave_nothing_behind(tmp_path, files, kind):
    with pytest.raises(BadInput) as refused:
        unpack_book(files, tmp_path / "pages", max_pages=10, max_bytes=2**30)
    assert refused.value.kind == kind
    assert not (tmp_path / "pages").exists()


def test_a_pdf_of_2000_pages_is_refused(tmp_path):
    buffer = io.BytesIO()
    pages = [Image.new("L", (8, 8), 255)] * 2000
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:])
    with pytest.raises(BadInput, match="2000 pages"):
        unpack_book([("book.pdf", buffer.getvalue())], tmp_path / "pages", max_pages=1000, max_bytes=2**30)
    assert not (tmp_path / "pages").exists()


def _wait_done(client, key: str, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": key}).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not done in {timeout} s: {status}")


def test_a_book_is_read_in_the_background_and_bad_books_are_refused(tmp_path, page_files):
    with TestClient(create_app(Settings(data_dir=tmp_path), pipeline=Pipeline(threads=1))) as client:
        with client.app.state.service.sessions() as session:
            operator = create_key(session, "operator")[1]
        headers = {"X-API-Key": operator}
        # A folder upload: the page images as repeated fields.
        response = client.post("/v1/books", headers=headers,
                               files=[("book", (name, data, "image/png")) for name, data in page_files[:2]])
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        status = _wait_done(client, operator, job_id)
        assert status["done_pages"] == status["total_pages"] == 2 and status["failed_pages"] == []
        sheet = client.get(f"/v1/jobs/{job_id}/export", headers=headers, params={"format": "xlsx"})
        assert sheet.status_code == 200 and "spreadsheetml" in sheet.headers["content-type"]
        rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content))["DL Import"].iter_rows(values_only=True))
        pages = client.get(f"/v1/jobs/{job_id}/export", headers=headers, params={"format": "json"}).json()
        assert len(rows) - 1 == sum(len(p["records"]) for p in pages) > 0
        with zipfile.ZipFile(io.BytesIO(client.get(f"/v1/jobs/{job_id}/export", headers=headers,
                                                   params={"format": "pdfzip"}).content)) as pdfs:
            assert len(pdfs.namelist()) == len(rows) - 1
        assert client.get(f"/v1/jobs/{job_id}/export", headers=headers, params={"format": "doc"}).status_code == 422
        for files, code in (([("book", ("b.zip", _zip({"../x.png": b"x"}), "application/zip"))], 422),
                            ([("book", ("b.txt", b"hello", "text/plain"))], 415),
                            ([("book", ("b.zip", _zip({"bomb.png": bytes(50 * 2**20)}, zipfile.ZIP_DEFLATED),
                                        "application/zip"))], 413)):
            refused = client.post("/v1/books", headers=headers, files=files)
            assert refused.status_code == code, refused.text
        assert client.get("/v1/jobs/nope", headers=headers).status_code == 404
        with client.app.state.service.sessions() as session:
            assert session.query(Job).count() == 1
        assert len(list((tmp_path / "jobs").iterdir())) == 1
        assert client.get("/health").status_code == 200


def _serve(data_dir, port: int) -> subprocess.Popen:
    env = os.environ | {"HOTICH_DATA_DIR": str(data_dir), "HOTICH_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "hotich.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"the service at {url} did not start")


def test_a_book_killed_mid_way_resumes_with_no_page_lost_or_read_twice(tmp_path, page_files):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path)
    server = _serve(tmp_path, port)
    try:
        _up(url)
        _, sessions = connect(settings.database)
        with sessions() as session:
            key = create_key(session, "operator")[1]
        book = _zip({name: data for name, data in page_files})
        job = httpx.post(f"{url}/v1/books", headers={"X-API-Key": key},
                         files={"book": ("book.zip", book, "application/zip")}).json()
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/v1/jobs/{job['id']}", headers={"X-API-Key": key}).json()["done_pages"] < 1:
            assert time.monotonic() < deadline, "no page was read in 120 s"
            time.sleep(0.1)
        server.send_signal(signal.SIGKILL)
        server.wait()
        with sessions() as session:
            done_before = session.query(JobPage).filter_by(job_id=job["id"], status="done").count()
        assert 1 <= done_before < len(page_files), "the kill came too late to interrupt the book"
        server = _serve(tmp_path, port)
        _up(url)
        with httpx.Client(base_url=url) as client:
            status = _wait_done(client, key, job["id"])
        assert status["status"] == "done" and status["done_pages"] == len(page_files)
        with sessions() as session:
            pages = session.scalars(select(JobPage).where(JobPage.job_id == job["id"]).order_by(JobPage.index)).all()
        assert [p.index for p in pages] == list(range(len(page_files)))
        assert all(p.status == "done" and p.result for p in pages)
        ids = [PageResult.model_validate(p.result).page_id for p in pages]
        assert len(set(ids)) == len(page_files)
    finally:
        server.kill()
        server.wait()


def test_a_book_read_offline_resumes_where_it_stopped(tmp_path, page_files):
    source = tmp_path / "so-ket-hon"
    source.mkdir()
    for name, data in page_files[:2]:
        (source / name).write_bytes(data)
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["book", str(source), "--out", str(out), "--threads", "1"])
    assert first.exit_code == 0, first.output
    assert {p.name for p in out.iterdir()} == {"pages", "so-ket-hon.xlsx", "so-ket-hon.pdf.zip", "so-ket-hon.json"}
    results = sorted((out / "pages").glob("*.json"))
    assert len(results) == 2
    # A run killed after its first page: the second run reads only the page that has no result.
    results[1].unlink()
    kept = results[0].stat().st_mtime_ns
    again = CliRunner().invoke(main, ["book", str(source), "--out", str(out), "--threads", "1", "--format", "csv"])
    assert again.exit_code == 0, again.output
    assert results[0].stat().st_mtime_ns == kept and results[1].is_file()
    assert (out / "so-ket-hon.csv").is_file()


def test_the_service_runs_on_postgresql_too(tmp_path, page_files, postgres_url):
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    with TestClient(create_app(settings, pipeline=Pipeline(threads=1))) as client:
        with client.app.state.service.sessions() as session:
            key = create_key(session, "operator", "postgres test")[1]
        job = client.post("/v1/books", headers={"X-API-Key": key},
                          files=[("book", (page_files[0][0], page_files[0][1], "image/png"))]).json()
        assert _wait_done(client, key, job["id"])["done_pages"] == 1
        pages = client.get(f"/v1/jobs/{job['id']}/export", headers={"X-API-Key": key}, params={"format": "json"})
        assert pages.status_code == 200 and len(pages.json()) == 1
