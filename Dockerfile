# CPU image: the hotich CLI (and, once it lands, the service) with the shipped templates, fonts and models.
# Training extras (PyTorch) are left out: inference runs on ONNX Runtime.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# FriBiDi: Pillow's bundled raqm loads it to shape Vietnamese text; glib/gomp: OpenCV and ONNX Runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfribidi0 libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY hotich ./hotich
COPY datasets ./datasets
COPY models ./models
COPY training ./training
COPY inference ./inference
COPY server ./server
COPY evaluation ./evaluation
RUN pip install . && useradd --create-home hotich
USER hotich
WORKDIR /home/hotich

ENTRYPOINT ["hotich"]
CMD ["--help"]
