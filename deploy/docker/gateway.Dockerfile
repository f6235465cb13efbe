# syntax=docker/dockerfile:1
# The gateway: GraphQL and the web pages over the read models. The same image runs the projector with
# `izlek gateway project` (IZLEK_GATEWAY_PROJECTOR_PORT for its health routes).
#
# Build from the repository root (the uv workspace and its one lock file):
#   docker build -f deploy/docker/gateway.Dockerfile -t izlek-gateway .
# Run: `izlek serve gateway` on port 8000; settings are IZLEK_* environment variables (see .env.example).

# uv at the version the Makefile installs; the build and runtime stages on the same Python image, so the
# virtualenv's interpreter path holds in both.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# --- build: the service's locked dependencies, then the workspace packages it needs, into one virtualenv ---
FROM python:3.11-slim-trixie AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/izlek/venv
WORKDIR /src
# Every member's pyproject.toml: uv reads the whole workspace to resolve from uv.lock.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/plans/pyproject.toml services/plans/
COPY services/partners/pyproject.toml services/partners/
COPY services/notifications/pyproject.toml services/notifications/
COPY gateway/pyproject.toml gateway/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package izlek-gateway
COPY libs/common/ libs/common/
COPY gateway/ gateway/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package izlek-gateway

# --- runtime: the virtualenv alone, run by an unprivileged user ------------------------------------------
FROM python:3.11-slim-trixie AS runtime
RUN groupadd --system --gid 10001 izlek \
    && useradd --system --uid 10001 --gid izlek --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin izlek
COPY --from=build /opt/izlek/venv /opt/izlek/venv
COPY deploy/docker/healthcheck.py /opt/izlek/healthcheck.py
ENV PATH=/opt/izlek/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IZLEK_VAR_DIR=/tmp/izlek \
    IZLEK_LOG_JSON=true \
    IZLEK_GATEWAY_HOST=0.0.0.0 \
    IZLEK_GATEWAY_PORT=8000
WORKDIR /opt/izlek
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/izlek/healthcheck.py", "gateway"]
ENTRYPOINT ["izlek"]
CMD ["serve", "gateway"]
