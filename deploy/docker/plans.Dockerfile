# syntax=docker/dockerfile:1
# The plans service: its API and, while it holds the lease relay-plans, the relay of its events to
# JetStream (stream PLANS).
#
# Build from the repository root (the uv workspace and its one lock file):
#   docker build -f deploy/docker/plans.Dockerfile -t izlek-plans .
# Run: `izlek serve plans` on port 8001; settings are IZLEK_* environment variables (see .env.example).

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
    uv sync --frozen --no-dev --no-install-workspace --package izlek-plans
COPY libs/common/ libs/common/
COPY services/plans/ services/plans/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package izlek-plans

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
    IZLEK_PLANS_HOST=0.0.0.0 \
    IZLEK_PLANS_PORT=8001
WORKDIR /opt/izlek
USER 10001:10001
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/izlek/healthcheck.py", "plans"]
ENTRYPOINT ["izlek"]
CMD ["serve", "plans"]
