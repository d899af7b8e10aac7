"""Grafana annotations for alerts: a point when an alert fires, a region once it resolves.

Posted through the Grafana HTTP API (grafana-client), off the event loop, one call at a time
from a bounded queue, each with a timeout and a few retries. Grafana being slow, down or
misconfigured never delays or stops paging: a failure is logged and counted, then dropped.

An annotation is found again by what identifies the episode, not by memory alone: the tags
``vigil``, ``alert``, ``<rule>``, ``patient:<id>`` at exactly the alert's start time (one firing
alert per rule and patient at a time). So after a restart a repeated firing event does not
post a duplicate, and the resolution still turns the original point into a region.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError
from prometheus_client import CollectorRegistry, Counter

from vigil.core import logging as vlog
from vigil.notifier.model import Alert

log = vlog.get(__name__)

_QUEUE_SIZE = 1000
P = ParamSpec("P")
T = TypeVar("T")


class AnnotationError(Exception):
    """A Grafana call that failed for good (after retries, or a client error)."""


def api_for(url: str, token: str | None, timeout: float) -> GrafanaApi:
    """A client for Grafana at ``url`` (``http://host:3000`` or ``https://host/grafana``)."""
    parts = urlsplit(url)
    # grafana-client glues its prefix straight onto "api": "/grafana" must become "grafana/".
    path = parts.path.strip("/")
    base = urlunsplit((parts.scheme, parts.netloc, f"/{path}/" if path else "", parts.query, ""))
    api: GrafanaApi = GrafanaApi.from_url(base, credential=token or None, timeout=timeout)
    return api


def tags(alert: Alert) -> list[str]:
    """The tags that place an alert on dashboards (and find its annotation again)."""
    return ["vigil", "alert", alert.rule, alert.severity.name.lower(),
            f"patient:{alert.patient_id}"]


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _text(alert: Alert) -> str:
    what = alert.summary or alert.rule
    return f"{alert.severity.name} {alert.patient_id}: {what}"


class Annotator:
    """Annotates alerts on Grafana; a no-op when no Grafana API URL is configured."""

    def __init__(self, grafana_api_url: str | None, token: str | None,
                 dashboard_uid: str | None = None, timeout: float = 5.0, *,
                 attempts: int = 3, backoff_s: float = 0.5,
                 registry: CollectorRegistry | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.enabled = bool(grafana_api_url)
        self._api = api_for(grafana_api_url, token, timeout) if grafana_api_url else None
        self._dashboard_uid = dashboard_uid or None
        self._timeout = timeout
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._clock = clock
        # alert_id → annotation id, for the alerts annotated since start (bounded by the queue
        # of firing alerts: an entry leaves when its alert resolves).
        self._ids: dict[str, int] = {}
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(_QUEUE_SIZE)
        self.calls = Counter("vigil_notifier_annotations_total",
                             "Grafana annotation updates by outcome (ok, failed, dropped)",
                             ["op", "outcome"], registry=registry or CollectorRegistry())
        if not self.enabled:
            log.info("grafana_annotations_disabled",
                     reason="no VIGIL_NOTIFIER_GRAFANA_API_URL")

    # --- for the service: never blocks, never raises ---------------------------------------

    def submit(self, alert: Alert) -> None:
        """Queue an alert event for :meth:`run`; drops (and counts) when the queue is full."""
        if not self.enabled:
            return
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            op = "fired" if alert.firing else "resolved"
            self.calls.labels(op, "dropped").inc()
            log.warning("grafana_annotation_dropped", alert_id=alert.alert_id, op=op)

    async def run(self) -> None:
        """Annotate queued events one at a time, until cancelled."""
        while True:
            alert = await self._queue.get()
            try:
                await (self.fired(alert) if alert.firing else self.resolved(alert))
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued event has been handled (tests, shutdown)."""
        await self._queue.join()

    # --- one event: never raises ------------------------------------------------------------

    async def fired(self, alert: Alert) -> int | None:
        """Post a point annotation at the alert's start; repeats of an episode post nothing.

        Returns the annotation id, or None when disabled or Grafana failed.
        """
        if self._api is None:
            return None
        known = self._ids.get(alert.alert_id)
        if known is not None:
            return known
        try:
            found = await self._call(self._find, alert)
            if found is None:
                found = await self._call(self._post, alert, None)
        except AnnotationError as error:
            self._failed("fired", alert, error)
            return None
        self._ids[alert.alert_id] = found
        self.calls.labels("fired", "ok").inc()
        return found

    async def resolved(self, alert: Alert, at: float | None = None) -> int | None:
        """Turn the alert's annotation into a region ending at ``at`` (default: the event's
        time); when there is none (deleted, or never posted) post the region instead."""
        if self._api is None:
            return None
        end = at or alert.event_time or self._clock()
        try:
            found = self._ids.get(alert.alert_id)
            if found is None:
                found = await self._call(self._find, alert)
            if found is not None and not await self._call(self._patch, found, alert, end):
                found = None  # deleted in Grafana meanwhile
            if found is None:
                found = await self._call(self._post, alert, end)
        except AnnotationError as error:
            self._failed("resolved", alert, error)
            return None
        self._ids.pop(alert.alert_id, None)
        self.calls.labels("resolved", "ok").inc()
        return found

    def _failed(self, op: str, alert: Alert, error: AnnotationError) -> None:
        self.calls.labels(op, "failed").inc()
        log.warning("grafana_annotation_failed", op=op, alert_id=alert.alert_id,
                    error=str(error))

    # --- Grafana calls (blocking, in a worker thread) ---------------------------------------

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` in a thread with a timeout; server errors and timeouts are retried."""
        for attempt in range(1, self._attempts + 1):
            try:
                work = asyncio.to_thread(fn, *args, **kwargs)
                return await asyncio.wait_for(work, self._timeout + 1)
            except GrafanaClientError as exc:  # 4xx: asking again will not help
                raise AnnotationError(f"HTTP {exc.status_code}") from None
            # 5xx, timeouts, refused connections (niquests raises its own ConnectionError,
            # not wrapped by grafana-client), hence the broad catch: never crash the pager.
            except Exception as exc:
                if attempt == self._attempts:
                    raise AnnotationError(f"{type(exc).__name__} after {attempt} tries") from None
                log.info("grafana_annotation_retry", attempt=attempt, error=type(exc).__name__)
                await self._sleep(self._backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _find(self, alert: Alert) -> int | None:
        assert self._api is not None
        start = _ms(alert.started_at)
        params: list[tuple[str, str]] = [("from", str(start)), ("to", str(start)),
                                         ("type", "annotation"), ("limit", "10")]
        params += [("tags", t) for t in ["vigil", "alert", alert.rule,
                                          f"patient:{alert.patient_id}"]]
        if self._dashboard_uid:
            params.append(("dashboardUID", self._dashboard_uid))
        # client.GET encodes params (find_annotations does not: a tag with "&" would break).
        found = self._api.client.GET("/annotations", params=params) or []
        return next((int(a["id"]) for a in found if a.get("time") == start), None)

    def _post(self, alert: Alert, end: float | None) -> int:
        assert self._api is not None
        # The client's own helpers send null fields and cannot encode tags: raw calls instead.
        body: dict[str, Any] = {"time": _ms(alert.started_at), "tags": tags(alert),
                                "text": _text(alert)}
        if end is not None:
            body.update(timeEnd=_ms(end), tags=[*tags(alert), "resolved"],
                        text=f"RESOLVED {_text(alert)}")
        if self._dashboard_uid:
            body["dashboardUID"] = self._dashboard_uid
        result: dict[str, Any] = self._api.client.POST("/annotations", json=body)
        return int(result["id"])

    def _patch(self, annotation_id: int, alert: Alert, end: float) -> bool:
        """Make it a region; False when the annotation no longer exists."""
        assert self._api is not None
        # Grafana's PATCH replaces the tags whenever the list is present: send all of them.
        body = {"time": _ms(alert.started_at), "timeEnd": _ms(end),
                "tags": [*tags(alert), "resolved"], "text": f"RESOLVED {_text(alert)}"}
        try:
            self._api.client.PATCH(f"/annotations/{annotation_id}", json=body)
        except GrafanaClientError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

async def stop(annotator: Annotator, task: asyncio.Task[None], grace_s: float = 2.0) -> None:
    """Give queued annotations ``grace_s`` to go out, then cancel the worker."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(annotator.drain(), grace_s)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
