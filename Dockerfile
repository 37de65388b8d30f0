# ragqa API image: CPU wheels only (torch from the CPU index), models come inside the pip packages.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 RAGQA_DATA_DIR=/data RAGQA_API_HOST=0.0.0.0 RAGQA_API_PORT=8080

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY ragqa ./ragqa
COPY ingest ./ingest
COPY retrieval ./retrieval
COPY generation ./generation
COPY api ./api
COPY eval ./eval
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install .

VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["ragqa", "serve"]
