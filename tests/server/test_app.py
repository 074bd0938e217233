"""The service through its real HTTP API with the shipped models: keys and roles, reading pages (image and
PDF), templates, health, readiness, metrics, a full queue, and bad uploads that get a clear 4xx while the
service goes on serving."""

import io
import threading

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hotich.inference.pipeline import Pipeline
from hotich.page import PageResult
from hotich.server.app import create_app
from hotich.server.auth import create_key
from hotich.server.settings import Settings


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(threads=1)


def _client(tmp_path, pipeline, **settings) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, **settings), pipeline=pipeline))


def _keys(client: TestClient) -> dict[str, str]:
    with client.app.state.service.sessions() as session:
        return {role: create_key(session, role)[1] for role in ("reader", "operator", "admin")}


@pytest.fixture(scope="module")
def service(tmp_path_factory, pipeline):
    with _client(tmp_path_factory.mktemp("service"), pipeline) as client:
        yield client, _keys(client)


@pytest.fixture(scope="module")
def page(light_pages_dir):
    truth_path = sorted(light_pages_dir.glob("*.json"))[0]
    truth = PageResult.model_validate_json(truth_path.read_text(encoding="utf-8"))
    return truth, (light_pages_dir / truth.image.filename).read_bytes()


def _post(client, key, data: bytes, name="page.png", content_type="image/png", **form):
    return client.post("/v1/pages", headers={"X-API-Key": key}, files={"page": (name, data, content_type)}, data=form)


def test_health_needs_no_key_and_everything_else_does(service):
    client, keys = service
    assert client.get("/health").json() == {"status": "ok"}
    for method, route in (("get", "/ready"), ("get", "/metrics"), ("get", "/v1/templates"), ("post", "/v1/pages"),
                          ("get", "/docs"), ("get", "/openapi.json"), ("post", "/v1/books"), ("get", "/v1/jobs/x")):
        response = getattr(client, method)(route)
        assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]
        assert getattr(client, method)(route, headers={"X-API-Key": "htk_wrong"}).status_code == 401
    assert client.get("/ready", headers={"Authorization": f"Bearer {keys['reader']}"}).status_code == 200


def test_a_reader_may_not_submit_pages(service, page):
    client, keys = service
    response = _post(client, keys["reader"], page[1])
    assert response.status_code == 403 and "operator" in response.json()["detail"]


def test_templates_and_readiness(service):
    client, keys = service
    templates = client.get("/v1/templates", headers={"X-API-Key": keys["reader"]}).json()
    assert len(templates) == 13 and {"id", "book_type", "era", "fields"} <= templates[0].keys()
    ready = client.get("/ready", headers={"X-API-Key": keys["reader"]}).json()
    assert ready["status"] == "ready" and set(ready["models"]) == {"recognizer", "identifier", "ruling", "language"}


def test_a_page_image_is_read(service, page):
    client, keys = service
    truth, data = page
    response = _post(client, keys["operator"], data)
    assert response.status_code == 200, response.text
    result = PageResult.model_validate(response.json())
    assert result.template_id == truth.template_id and len(result.records) == len(truth.records)
    assert result.image.filename == "page.png"


def test_a_pdf_page_is_read(service, page):
    client, keys = service
    truth, data = page
    image = Image.open(io.BytesIO(data)).convert("RGB")
    pdf = io.BytesIO()
    image.save(pdf, format="PDF", resolution=200, save_all=True, append_images=[image])
    response = _post(client, keys["operator"], pdf.getvalue(), "book.pdf", "application/pdf", page_number="2")
    assert response.status_code == 200, response.text
    assert response.json()["template_id"] == truth.template_id
    response = _post(client, keys["operator"], pdf.getvalue(), "book.pdf", "application/pdf", page_number="3")
    assert response.status_code == 422 and "pages 1-2" in response.json()["detail"]


def _huge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000), 1).save(buffer, format="PNG")  # 100 MP, a few kB on the wire
    return buffer.getvalue()


def _many_page_pdf(n: int) -> bytes:
    buffer = io.BytesIO()
    pages = [Image.new("L", (8, 8), 255)] * n
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:])
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "content_type", "status", "says"), [
    (b"", "image/png", 400, "empty"),
    (b"name,date\nAn,1990\n", "text/csv", 415, "content type"),
    (b"this is no image at all", "image/png", 415, "not an image"),
    ("truncated", "image/png", 422, "damaged"),
    ("huge", "image/png", 413, "MP"),
    ("pdf2000", "application/pdf", 413, "2000 pages"),
    (b"%PDF-1.4 broken", "application/pdf", 422, "PDF"),
])  # fmt: skip
def test_bad_uploads_get_a_clear_4xx_and_the_service_goes_on(service, page, data, content_type, status, says):
    client, keys = service
    data = {"truncated": page[1][: len(page[1]) // 3], "huge": "huge", "pdf2000": "pdf2000"}.get(data, data)
    data = _huge_png() if data == "huge" else _many_page_pdf(2000) if data == "pdf2000" else data
    response = _post(client, keys["operator"], data, content_type=content_type)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    assert client.get("/health").status_code == 200


def test_a_full_queue_answers_429(tmp_path, pipeline, page):
    with _client(tmp_path, pipeline, max_concurrent_pages=1, queue_size=0) as client:
        key = _keys(client)["operator"]
        start = threading.Barrier(3)
        statuses = []

        def post() -> None:
            start.wait()
            statuses.append(_post(client, key, page[1]).status_code)

        threads = [threading.Thread(target=post) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert 200 in statuses and 429 in statuses and set(statuses) <= {200, 429}


def test_a_full_queue_refuses_an_upload_before_decoding_it(tmp_path, pipeline, page):
    with _client(tmp_path, pipeline, max_concurrent_pages=1, queue_size=0) as client:
        keys = _keys(client)
        first = threading.Thread(target=_post, args=(client, keys["operator"], page[1]))
        first.start()
        while "hotich_pages_in_flight 1.0" not in client.get("/metrics", headers={"X-API-Key": keys["reader"]}).text:
            assert first.is_alive(), "the first page was read before the queue could be seen full"
        # Bytes that are no image: answered 429 (come back later), not 415, as nothing was decoded.
        refused = _post(client, keys["operator"], b"not an image at all")
        first.join()
        assert refused.status_code == 429 and "retry" in refused.json()["detail"]
        assert _post(client, keys["operator"], b"not an image at all").status_code == 415


def test_metrics_count_pages_and_requests(service, page):
    client, keys = service
    _post(client, keys["operator"], page[1])
    text = client.get("/metrics", headers={"X-API-Key": keys["reader"]}).text
    assert "hotich_pages_read_total" in text and "hotich_http_requests_total" in text
    assert 'route="/v1/pages"' in text and "hotich_page_seconds_bucket" in text


def test_an_upload_over_the_size_limit_is_refused(tmp_path, pipeline, page):
    with _client(tmp_path, pipeline, max_upload_mb=0.01) as client:
        response = _post(client, _keys(client)["operator"], page[1])
        assert response.status_code == 413 and "MB" in response.json()["detail"]


def test_a_grayscale_jpeg_is_read_too(service, page):
    client, keys = service
    gray = cv2.imdecode(np.frombuffer(page[1], np.uint8), cv2.IMREAD_GRAYSCALE)
    _, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 85])
    response = _post(client, keys["operator"], jpeg.tobytes(), "page.jpg", "image/jpeg")
    assert response.status_code == 200 and response.json()["template_id"] == page[0].template_id


def test_the_openapi_docs_take_a_key_in_the_query_for_browsers(service):
    client, keys = service
    page = client.get("/docs", params={"api_key": keys["reader"]})
    assert page.status_code == 200 and "swagger" in page.text.lower() and "/openapi.json?api_key=" in page.text
    schema = client.get("/openapi.json", params={"api_key": keys["reader"]}).json()
    assert {"/v1/pages", "/v1/books", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/export", "/v1/templates"} <= set(
        schema["paths"])
    assert client.get("/v1/templates", params={"api_key": keys["reader"]}).status_code == 401  # docs only
