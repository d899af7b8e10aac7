"""A tiny asyncio HTTP endpoint for /metrics (Prometheus), /healthz and /readyz."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

Health = Callable[[], tuple[bool, dict[str, Any]]]


def _response(status: int, body: bytes, ctype: str) -> bytes:
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def serve(host: str, port: int, registry: CollectorRegistry, health: Health,
                ) -> asyncio.Server:
    """Serve metrics and health on ``host:port``; returns the started server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            parts = line.decode("latin-1").split()
            method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("", "")
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            if method != "GET":
                writer.write(_response(405, b"GET only\n", "text/plain"))
            elif path == "/metrics":
                writer.write(_response(200, generate_latest(registry), "text/plain; version=0.0.4"))
            elif path in ("/healthz", "/readyz"):
                ok, detail = health()
                body = json.dumps({"status": "ok" if ok else "unavailable", **detail}).encode()
                writer.write(_response(200 if ok else 503, body, "application/json"))
            else:
                writer.write(_response(404, b"not found\n", "text/plain"))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
