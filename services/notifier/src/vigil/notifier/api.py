"""The notifier's HTTP API (aiohttp): silences, snoozes, acks, signed ack links, and the
/metrics, /healthz, /readyz every service serves.

Bad input is a 400 with ``{"error": "<field>: <what is wrong>", "field": "<field>"}``; the
service keeps running whatever it is sent.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from prometheus_client import generate_latest
from pydantic import BaseModel, ValidationError

from vigil.core import logging as vlog
from vigil.notifier import store
from vigil.notifier.acklink import LinkError
from vigil.notifier.api_models import AckIn, SilenceIn, SnoozeIn
from vigil.notifier.dispatch import UnknownAlertError
from vigil.notifier.silence import SAFETY_FLOOR, Silence, SilenceError

if TYPE_CHECKING:
    from vigil.notifier.app import NotifierService

log = vlog.get(__name__)
M = TypeVar("M", bound=BaseModel)
# What generate_latest() writes (the text format 0.0.4), as vigil.core.http says.
_METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SERVICE: web.AppKey[NotifierService] = web.AppKey("service")
_NO_LINKS = ("ack links are off: VIGIL_NOTIFIER_ACK_SECRET is not set on this notifier; "
             "acknowledge with POST /api/v1/alerts/{alert_id}/ack or `vigil notifier ack`")


def iso(seconds: float | None) -> str | None:
    """Unix seconds → ISO 8601 UTC."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def silence_json(s: Silence, now: float) -> dict[str, Any]:
    """A silence as the API shows it."""
    return {"id": s.id, "matchers": dict(s.matchers), "starts_at": iso(s.starts_at),
            "ends_at": iso(s.ends_at), "created_by": s.created_by, "comment": s.comment,
            "created_at": iso(s.created_at), "expired_at": iso(s.expired_at),
            "state": s.state(now)}


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


async def _body(request: web.Request, model: type[M]) -> M | web.Response:
    """The JSON body validated as ``model``, or the 400 response naming the field."""
    try:
        raw = await request.json() if request.can_read_body else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "body: not valid JSON", "body")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        message = first["msg"].removeprefix("Value error, ")
        return _error(400, f"{field}: {message}", field)


def _service(request: web.Request) -> NotifierService:
    return request.app[SERVICE]


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition."""
    return web.Response(body=generate_latest(_service(request).registry),
                        headers={"Content-Type": _METRICS_TYPE})


async def health(request: web.Request) -> web.Response:
    """/healthz and /readyz: 200 when connected to the broker and the database, else 503."""
    ok, detail = _service(request).health()
    return web.json_response({"status": "ok" if ok else "unavailable", **detail},
                             status=200 if ok else 503)


async def list_silences(request: web.Request) -> web.Response:
    """Every silence known (ended ones for a day), ``?state=active|pending|expired`` filters."""
    service = _service(request)
    now = service.clock()
    wanted = request.query.get("state")
    if wanted not in (None, "active", "pending", "expired"):
        return _error(400, "state: one of active, pending, expired", "state")
    found = [silence_json(s, now) for s in service.silences.all(now)]
    return web.json_response({"silences": [s for s in found
                                            if wanted is None or s["state"] == wanted]})


async def create_silence(request: web.Request) -> web.Response:
    """POST a silence: matchers, starts_at (default now), ends_at or duration, created_by,
    comment."""
    given = await _body(request, SilenceIn)
    if isinstance(given, web.Response):
        return given
    service = _service(request)
    now = service.clock()
    starts = given.starts_at.timestamp() if given.starts_at else now
    ends = given.ends_at.timestamp() if given.ends_at else starts + (given.duration_s or 0)
    if ends <= now:
        return _error(400, "ends_at: the silence would already be over", "ends_at")
    return await _create(service, given.matchers, starts, ends, given.created_by,
                         given.comment, now)


async def _create(service: NotifierService, matchers: dict[str, str], starts: float,
                  ends: float, by: str, comment: str, now: float) -> web.Response:
    try:
        silence = service.silences.build(matchers, starts, ends, by, comment, created_at=now)
    except SilenceError as exc:
        return _error(400, str(exc), "matchers" if "matcher" in str(exc) else "ends_at")
    try:
        await service.add_silence(silence)
    except store.DB_ERRORS as exc:  # not stored, so not applied
        return _unavailable("silence not created", exc)
    return web.json_response(silence_json(silence, now), status=201)


def _unavailable(what: str, exc: BaseException) -> web.Response:
    log.warning("api_database_unavailable", what=what, error=type(exc).__name__)
    return _error(503, f"database unavailable: {what}; try again")


async def expire_silence(request: web.Request) -> web.Response:
    """DELETE a silence: it ends now (kept, listed as expired)."""
    service = _service(request)
    silence_id = request.match_info["silence_id"]
    if service.silences.get(silence_id) is None:
        return _error(404, f"no silence {silence_id!r}", "id")
    try:
        silence = await service.expire_silence(silence_id)
    except store.DB_ERRORS as exc:
        return _unavailable("silence not expired", exc)
    return web.json_response(silence_json(silence, service.clock()))


async def snooze(request: web.Request) -> web.Response:
    """POST /api/v1/alerts/{alert_id}/snooze or /patients/{patient_id}/snooze: a silence on
    that one alert or patient for ``duration``. Critical alerts still break through."""
    given = await _body(request, SnoozeIn)
    if isinstance(given, web.Response):
        return given
    service = _service(request)
    label = "alert_id" if "alert_id" in request.match_info else "patient_id"
    value = request.match_info[label]
    now = service.clock()
    response = await _create(service, {label: value}, now, now + given.duration_s,
                             given.by, given.comment, now)
    alert = service.dispatcher.find(value) if label == "alert_id" else None
    if response.status == 201 and alert is not None and alert.severity >= SAFETY_FLOOR:
        body = json.loads(response.text or "{}")
        body["note"] = "critical alerts are never muted (safety floor): this one still pages"
        return web.json_response(body, status=201)
    return response


async def ack(request: web.Request) -> web.Response:
    """POST /api/v1/alerts/{alert_id}/ack with ``{"by": …, "comment": …}``."""
    given = await _body(request, AckIn)
    if isinstance(given, web.Response):
        return given
    return await _ack(request, request.match_info["alert_id"], given.by, "http", given.comment)


async def _ack(request: web.Request, alert_id: str, by: str, channel: str,
               comment: str = "") -> web.Response:
    try:
        done = await _service(request).acknowledge(alert_id, by, channel, comment)
    except UnknownAlertError:
        return _error(404, f"no firing alert {alert_id!r}", "alert_id")
    except store.DB_ERRORS as exc:
        return _unavailable("alert not acknowledged", exc)
    return web.json_response({"alert_id": done.alert_id, "acked_by": done.by,
                              "acked_at": iso(done.at), "channel": done.channel,
                              "published": done.published})


def _page(title: str, text: str, status: int = 200, form: bool = False) -> web.Response:
    button = ('<form method="post"><button type="submit" style="font-size:1.5em">'
              "Acknowledge</button></form>") if form else ""
    body = (f"<!doctype html><meta name=viewport content='width=device-width'>"
            f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(text)}</p>{button}")
    return web.Response(text=body, status=status, content_type="text/html")


async def ack_link(request: web.Request) -> web.Response:
    """GET shows what the link acknowledges and a button; POST acknowledges. (A GET must not
    act: chat apps fetch links to preview them, and that must not stop an escalation.)"""
    service = _service(request)
    if service.links is None:
        return _page("Ack links are off", _NO_LINKS, 404)
    try:
        claim = service.links.verify(request.match_info["token"], service.clock())
    except LinkError as exc:
        log.info("ack_link_refused", reason=str(exc).split(" (")[0])
        return _page("Not acknowledged", str(exc), 403)
    if request.method == "GET":
        return _page(f"Acknowledge alert {claim.alert_id}?",
                     f"As {claim.receiver}: this stops repeats and escalation.", form=True)
    response = await _ack(request, claim.alert_id, claim.receiver, "link")
    if response.status != 200:
        return _page("Not acknowledged", json.loads(response.text or "{}")["error"],
                     response.status)
    return _page("Acknowledged", f"Alert {claim.alert_id} acknowledged by {claim.receiver}.")


def build(service: NotifierService) -> web.Application:
    """The application with every route."""
    app = web.Application()
    app[SERVICE] = service
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", health)
    app.router.add_get("/readyz", health)
    app.router.add_get("/api/v1/silences", list_silences)
    app.router.add_post("/api/v1/silences", create_silence)
    app.router.add_delete("/api/v1/silences/{silence_id}", expire_silence)
    app.router.add_post("/api/v1/alerts/{alert_id}/ack", ack)
    app.router.add_post("/api/v1/alerts/{alert_id}/snooze", snooze)
    app.router.add_post("/api/v1/patients/{patient_id}/snooze", snooze)
    app.router.add_get("/ack/{token}", ack_link)
    app.router.add_post("/ack/{token}", ack_link)
    return app


async def serve(service: NotifierService, host: str, port: int) -> web.AppRunner:
    """Start serving on ``host:port``; ``runner.cleanup()`` stops."""
    runner = web.AppRunner(build(service), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
