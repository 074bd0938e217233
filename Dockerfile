# CPU image: the service (and the hotich CLI) with the shipped templates, fonts and models, on its embedded
# defaults: SQLite under /home/hotich/var, ONNX Runtime on the CPU. Training extras (PyTorch) are left out.
#   docker build -t hotich-ocr .
#   docker run -p 8000:8000 -v hotich-data:/home/hotich/var hotich-ocr      # prints an admin key on first start
# PostgreSQL: add -e HOTICH_DATABASE_URL=postgresql+psycopg://user:password@host/db (and pip install psycopg[binary]).
#
# GPU variant: build FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 with Python 3.11, replace onnxruntime
# by onnxruntime-gpu (`pip uninstall -y onnxruntime && pip install onnxruntime-gpu`), run with `--gpus all`
# and -e HOTICH_PROVIDERS=CUDAExecutionProvider,CPUExecutionProvider: the recogniser then runs on the GPU,
# the layout stage stays on the CPU.
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
# gcc only while installing: it compiles the CTC decoder's loops (inference/_ctc.pyx) and the ink band (hotich/_ink_band.pyx).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home hotich
USER hotich
WORKDIR /home/hotich
ENV HOTICH_DATA_DIR=/home/hotich/var
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"

ENTRYPOINT ["hotich"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
