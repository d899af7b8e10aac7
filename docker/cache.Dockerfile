# syntax=docker/dockerfile:1.7
# Cache service image. Build from the repository root:  docker build -f docker/cache.Dockerfile -t vigil-cache .
ARG UV_VERSION=0.13.9
FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# Build: resolve exactly uv.lock (--frozen), only this service's packages, no dev tools.
FROM python:3.11-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 UV_PROJECT_ENVIRONMENT=/app/venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package vigil-cache

# Run: distroless Python 3.11 (no shell, no package manager), non-root. The venv's interpreter
# links do not exist here, so its site-packages go on PYTHONPATH instead.
FROM gcr.io/distroless/python3-debian12:nonroot
COPY --from=build /app/venv/lib/python3.11/site-packages /app/site-packages
ENV PYTHONPATH=/app/site-packages PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
EXPOSE 8084
ENTRYPOINT ["python3", "-m", "vigil.cache"]
