"""Grafana annotations against a local stand-in that speaks the Grafana HTTP API endpoints used
(GET/POST /api/annotations, PATCH /api/annotations/{id}, bearer-token auth), with Grafana's
semantics for them (a PATCH replaces the tags when present, time fields only when > 0)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from prometheus_client import CollectorRegistry

from vigil.notifier.annotations import Annotator
from vigil.notifier.model import Alert, Severity

TOKEN = "glsa_test-token"
T0 = 1_741_000_000.0  # alert start, seconds
TAGS = ["vigil", "alert", "spo2-low", "critical", "patient:p7"]
ALERT = Alert(alert_id="a1", patient_id="p7", rule="spo2-low", severity=Severity.CRITICAL,
              firing=True, summary="SpO2 low", started_at=T0, event_time=T0)
RESOLVED = dataclasses.replace(ALERT, firing=False, event_time=T0 + 900)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    auth: str | None
    body: Any


@dataclass
class FakeGrafana:
    """In-memory annotations store behind Grafana's API paths (under an optional prefix)."""

    prefix: str = ""
    requests: list[Request] = field(default_factory=list)
    annotations: dict[int, dict[str, Any]] = field(default_factory=dict)
    fail_with: list[int] = field(default_factory=list)  # statuses for the next requests
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, req: Request) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(req)
            if req.auth != f"Bearer {TOKEN}":
                return 401, {"message": "Unauthorized"}
            if self.fail_with:
                return self.fail_with.pop(0), {"message": "internal error"}
            path = req.path.removeprefix(self.prefix)
            if path == "/api/annotations" and req.method == "POST":
                return self._post(req.body)
            if path == "/api/annotations" and req.method == "GET":
                return 200, self._find(req.query)
            if path.startswith("/api/annotations/") and req.method == "PATCH":
                return self._patch(int(path.rsplit("/", 1)[1]), req.body)
            return 404, {"message": "Not found"}

    def _post(self, body: dict[str, Any]) -> tuple[int, Any]:
        if not body.get("text"):
            return 400, {"message": "Failed to save annotation"}
        new_id = len(self.annotations) + 1
        self.annotations[new_id] = {
            "id": new_id, "time": body["time"], "timeEnd": body.get("timeEnd") or body["time"],
            "tags": body.get("tags") or [], "text": body["text"],
            "dashboardUID": body.get("dashboardUID", "")}
        return 200, {"message": "Annotation added", "id": new_id}

    def _patch(self, ann_id: int, body: dict[str, Any]) -> tuple[int, Any]:
        a = self.annotations.get(ann_id)
        if a is None:
            return 404, {"message": "Could not find annotation to update"}
        if body.get("tags") is not None:
            a["tags"] = body["tags"]
        if body.get("text"):
            a["text"] = body["text"]
        for key in ("time", "timeEnd"):
            if (body.get(key) or 0) > 0:
                a[key] = body[key]
        return 200, {"message": "Annotation patched"}

    def _find(self, q: dict[str, list[str]]) -> list[dict[str, Any]]:
        lo, hi = int(q.get("from", ["0"])[0]), int(q.get("to", [str(2**62)])[0])
        want = set(q.get("tags", []))
        return [a for a in self.annotations.values()
                if want <= set(a["tags"]) and a["time"] <= hi and a["timeEnd"] >= lo
                and ("dashboardUID" not in q or a["dashboardUID"] == q["dashboardUID"][0])]


def _handler(fake: FakeGrafana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            time.sleep(fake.delay_s)
            status, payload = fake.handle(Request(self.command, url.path, parse_qs(url.query),
                                                  self.headers.get("Authorization"), body))
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        do_GET = do_POST = do_PATCH = _serve  # noqa: N815 - http.server's naming

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    fake = FakeGrafana()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def _no_sleep(_: float) -> None:
    pass


def _annotator(url: str | None, registry: CollectorRegistry, token: str = TOKEN,
               **kwargs: Any) -> Annotator:
    return Annotator(url, token, None, 2.0, registry=registry, sleep=_no_sleep, **kwargs)


def _count(registry: CollectorRegistry, op: str, outcome: str) -> float:
    value = registry.get_sample_value("vigil_notifier_annotations_total",
                                      {"op": op, "outcome": outcome})
    return value or 0.0


def _calls(fake: FakeGrafana) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests]


async def test_fired_posts_a_point_and_resolved_makes_it_a_region(
        grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    registry = CollectorRegistry()
    annotator = _annotator(url, registry)
    assert await annotator.fired(ALERT) == 1
    assert await annotator.fired(ALERT) == 1  # a republished episode posts nothing
    assert await annotator.resolved(RESOLVED) == 1

    assert _calls(fake) == [("GET", "/api/annotations"), ("POST", "/api/annotations"),
                            ("PATCH", "/api/annotations/1")]
    assert {r.auth for r in fake.requests} == {f"Bearer {TOKEN}"}
    find = fake.requests[0].query
    assert find["tags"] == ["vigil", "alert", "spo2-low", "patient:p7"]
    assert find["from"] == find["to"] == [str(int(T0 * 1000))]
    assert fake.requests[1].body == {"time": int(T0 * 1000), "tags": TAGS,
                                     "text": "CRITICAL p7: SpO2 low"}
    assert fake.requests[2].body == {
        "time": int(T0 * 1000), "timeEnd": int((T0 + 900) * 1000),
        "tags": [*TAGS, "resolved"], "text": "RESOLVED CRITICAL p7: SpO2 low"}
    assert fake.annotations[1] == {
        "id": 1, "time": int(T0 * 1000), "timeEnd": int((T0 + 900) * 1000),
        "tags": [*TAGS, "resolved"], "text": "RESOLVED CRITICAL p7: SpO2 low",
        "dashboardUID": ""}
    assert (_count(registry, "fired", "ok"), _count(registry, "resolved", "ok")) == (1, 1)


async def test_after_a_restart_the_annotation_is_found_by_tags_and_start(
        grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    await _annotator(url, CollectorRegistry()).fired(ALERT)
    other = dataclasses.replace(ALERT, alert_id="a0", started_at=T0 - 3600)
    await _annotator(url, CollectorRegistry()).fired(other)  # same tags, earlier episode
    fake.requests.clear()

    restarted = _annotator(url, CollectorRegistry())
    assert await restarted.fired(ALERT) == 1  # no duplicate
    assert await restarted.resolved(RESOLVED, at=T0 + 60) == 1
    assert _calls(fake) == [("GET", "/api/annotations"), ("PATCH", "/api/annotations/1")]
    assert fake.annotations[1]["timeEnd"] == int((T0 + 60) * 1000)
    assert fake.annotations[2]["timeEnd"] == fake.annotations[2]["time"]  # untouched


async def test_resolved_without_an_annotation_posts_the_region(
        grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    annotator = Annotator(url, TOKEN, "vigil-patient-vitals", registry=CollectorRegistry())
    assert await annotator.resolved(RESOLVED) == 1
    assert _calls(fake) == [("GET", "/api/annotations"), ("POST", "/api/annotations")]
    assert fake.requests[0].query["dashboardUID"] == ["vigil-patient-vitals"]
    assert fake.requests[1].body == {
        "time": int(T0 * 1000), "timeEnd": int((T0 + 900) * 1000),
        "tags": [*TAGS, "resolved"], "text": "RESOLVED CRITICAL p7: SpO2 low",
        "dashboardUID": "vigil-patient-vitals"}


async def test_an_annotation_deleted_in_grafana_is_posted_again(
        grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    annotator = _annotator(url, CollectorRegistry())
    await annotator.fired(ALERT)
    fake.annotations.clear()
    assert await annotator.resolved(RESOLVED) == 1
    assert _calls(fake)[2:] == [("PATCH", "/api/annotations/1"), ("POST", "/api/annotations")]


async def test_disabled_makes_no_request(grafana: tuple[FakeGrafana, str]) -> None:
    fake, _ = grafana
    registry = CollectorRegistry()
    for url in (None, ""):
        annotator = _annotator(url, registry if url is None else CollectorRegistry())
        assert not annotator.enabled
        assert await annotator.fired(ALERT) is None
        assert await annotator.resolved(RESOLVED) is None
        annotator.submit(ALERT)
        await annotator.drain()
    assert fake.requests == []
    assert registry.get_sample_value("vigil_notifier_annotations_total",
                                     {"op": "fired", "outcome": "ok"}) is None


async def test_server_errors_are_retried_with_backoff(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    registry = CollectorRegistry()
    annotator = Annotator(url, TOKEN, None, 2.0, registry=registry, sleep=sleep,
                          backoff_s=0.25)
    fake.fail_with = [500, 502]
    assert await annotator.fired(ALERT) == 1
    assert _calls(fake) == [("GET", "/api/annotations")] * 3 + [("POST", "/api/annotations")]
    assert waits == [0.25, 0.5]
    assert (_count(registry, "fired", "ok"), _count(registry, "fired", "failed")) == (1, 0)


async def test_grafana_down_never_raises_and_is_counted() -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry = CollectorRegistry()
    annotator = _annotator(f"http://127.0.0.1:{port}", registry)
    assert await annotator.fired(ALERT) is None
    assert await annotator.resolved(RESOLVED) is None
    assert (_count(registry, "fired", "failed"), _count(registry, "resolved", "failed")) == (1, 1)


async def test_client_errors_are_not_retried(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    registry = CollectorRegistry()
    assert await _annotator(url, registry, token="wrong").fired(ALERT) is None
    assert _calls(fake) == [("GET", "/api/annotations")]
    assert _count(registry, "fired", "failed") == 1


async def test_a_hanging_grafana_times_out(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    fake.delay_s = 2.0
    registry = CollectorRegistry()
    annotator = Annotator(url, TOKEN, None, 0.2, attempts=2, registry=registry,
                          sleep=_no_sleep)
    started = time.monotonic()
    assert await annotator.fired(ALERT) is None
    assert time.monotonic() - started < 1.5
    assert _count(registry, "fired", "failed") == 1


async def test_the_worker_annotates_in_order_under_a_path_prefix(
        grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    fake.prefix = "/grafana"
    annotator = _annotator(url + "/grafana/", CollectorRegistry())
    worker = asyncio.create_task(annotator.run())
    annotator.submit(ALERT)
    annotator.submit(RESOLVED)
    await asyncio.wait_for(annotator.drain(), 5)
    worker.cancel()
    assert _calls(fake) == [("GET", "/grafana/api/annotations"),
                            ("POST", "/grafana/api/annotations"),
                            ("PATCH", "/grafana/api/annotations/1")]


async def test_a_full_queue_drops_and_counts() -> None:
    registry = CollectorRegistry()
    annotator = _annotator("http://127.0.0.1:9", registry)
    for _ in range(1001):  # nothing consumes the queue
        annotator.submit(ALERT)
    assert _count(registry, "fired", "dropped") == 1
