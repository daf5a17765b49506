# Airlock as an air-gapped service image.
#   docker build -t airlock .
#   docker run --rm -p 127.0.0.1:8000:8000 -v airlock-data:/var/lib/airlock airlock
#   docker run --rm -v airlock-data:/var/lib/airlock airlock airlock keys create --role admin
# Everything the service needs at run time — the llama.cpp runtime, the default GGUF model, the spaCy
# pipeline and the MiniLM embedder — is in the image; nothing is downloaded when it runs.

# --- build: the same steps as `make setup` (scripts/setup.sh), with a portable llama.cpp ---------
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml constraints.txt Makefile README.md* ./
COPY scripts scripts
COPY privacy privacy
COPY synth synth
COPY audit audit
COPY api api
COPY data data
# AIRLOCK_ENGINE=portable: llama.cpp built with the plain AVX2 set (no -march=native, never AMX), so
# the image runs on any x86-64 server CPU with AVX2, not only the builder's; setup smoke-tests it here,
# and `airlock doctor` inside a container says whether the host has what the build uses.
# Everything comes from PyPI. PyPI's torch==2.13.0 for Linux is the CUDA build (several GB); a site
# with a local mirror of the CPU build can point pip at it: --build-arg PIP_EXTRA_INDEX_URL=<mirror>.
ARG PIP_EXTRA_INDEX_URL=""
ENV AIRLOCK_ENGINE=portable \
    PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} \
    PIP_NO_CACHE_DIR=1 \
    AIRLOCK_WHEEL_CACHE=/tmp/wheels \
    AIRLOCK_DATA_DIR=/var/lib/airlock
RUN scripts/setup.sh && rm -rf /tmp/wheels

# --- run: no compilers, a non-root user, the model and pipelines baked in ----------------------
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/airlock --shell /usr/sbin/nologin airlock
WORKDIR /app
COPY --from=build /app /app
COPY --from=build --chown=airlock:airlock /var/lib/airlock /var/lib/airlock
ENV PATH=/app/.venv/bin:$PATH \
    AIRLOCK_DATA_DIR=/var/lib/airlock \
    AIRLOCK_HOST=0.0.0.0 \
    AIRLOCK_PORT=8000 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1
USER airlock
VOLUME ["/var/lib/airlock"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
# Inside the container the service must listen on all interfaces; publish the port on 127.0.0.1
# (as above) or behind a TLS proxy — Airlock itself binds to 127.0.0.1 unless told otherwise.
CMD ["airlock", "serve"]
