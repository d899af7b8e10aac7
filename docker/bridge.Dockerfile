# syntax=docker/dockerfile:1.7
# Azure IoT Hub bridge. Its own environment and lock (services/bridge/uv.lock): azure-iot-device
# pins paho-mqtt<2, which the workspace cannot share.
# Build from the repository root:  docker build -f docker/bridge.Dockerfile -t vigil-bridge .
ARG UV_VERSION=0.13.9
FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

FROM python:3.11-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 UV_PROJECT_ENVIRONMENT=/app/venv
WORKDIR /src/services/bridge
COPY services/bridge/ ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM gcr.io/distroless/python3-debian12:nonroot
COPY --from=build /app/venv/lib/python3.11/site-packages /app/site-packages
ENV PYTHONPATH=/app/site-packages PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
EXPOSE 8085
ENTRYPOINT ["python3", "-m", "vigil.bridge"]
