"""`vigil notifier …`: silences, snoozes and acknowledgements through the notifier's HTTP API.

The notifier is found at ``--url``, else ``$VIGIL_NOTIFIER_URL``, else the running local
stack's notifier (as `vigil up` saved it; ``http://127.0.0.1:18083`` when none).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table

from vigil.cli.stack import LocalStack, state_dir

DEFAULT_URL = LocalStack(state_dir()).saved_env().get("VIGIL_NOTIFIER_URL",
                                                      "http://127.0.0.1:18083")
_DURATION = re.compile(r"^\d+(?:\.\d+)?(ms|s|m|h|d)$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

app = typer.Typer(help="The notifier: silences, snoozes, acknowledgements.",
                  no_args_is_help=True)
silence_app = typer.Typer(help="Silences: mute matching alerts for a while (never critical "
                          "ones).", no_args_is_help=True)
app.add_typer(silence_app, name="silence")
console = Console(width=160)

Url = Annotated[str, typer.Option("--url", envvar="VIGIL_NOTIFIER_URL",
                                  help="The notifier's HTTP API")]
By = Annotated[str, typer.Option("--by", help="Who (a handle, not a patient's name)")]


def _call(url: str, method: str, path: str, body: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    """One API call; an HTTP error or an unreachable notifier is one clear line, exit 1."""
    if not url.startswith(("http://", "https://")):
        raise typer.BadParameter(f"must start with http:// or https://, got {url!r}",
                                 param_hint="--url")
    data = None if body is None else json.dumps(body).encode()
    # The scheme was checked above: http(s) only, never file: or a custom one.
    request = urllib.request.Request(url.rstrip("/") + path, data=data,  # noqa: S310
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            reason = error.reason
        console.print(f"[red]notifier refused ({error.code}): {reason}", highlight=False)
    except (urllib.error.URLError, OSError) as error:
        why = getattr(error, "reason", error)
        console.print(f"[red]cannot reach the notifier at {url}: {why} (is it running? set "
                      "--url or VIGIL_NOTIFIER_URL)", highlight=False)
    raise typer.Exit(1)


def _duration(value: str, option: str) -> str:
    if not _DURATION.match(value.strip()):
        raise typer.BadParameter(f"invalid duration {value!r} (e.g. 30m, 2h, 1d)",
                                 param_hint=option)
    return value.strip()


def _time(value: str, option: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use ISO 8601, e.g. 2026-11-23T08:00:00+00:00",
                                 param_hint=option) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _short(iso: str) -> str:
    """``2026-11-23T08:00:00.123+00:00`` → ``2026-11-23 08:00 UTC``."""
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _matchers(given: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in given:
        name, eq, value = item.partition("=")
        if not eq or not _LABEL.match(name.strip()) or not value.strip():
            raise typer.BadParameter(f"expected LABEL=VALUE (e.g. patient_id=p1), got {item!r}",
                                     param_hint="--match")
        # `patient` is what people type; the label is patient_id.
        out["patient_id" if name.strip() == "patient" else name.strip()] = value.strip()
    if not out:
        raise typer.BadParameter("give at least one --match LABEL=VALUE", param_hint="--match")
    return out


@silence_app.command("add")
def silence_add(
    match: Annotated[list[str], typer.Option("--match", help="LABEL=VALUE, repeatable: "
                                             "severity, patient (patient_id), rule, care_team…")],
    by: By,
    comment: Annotated[str, typer.Option("--comment", help="Why")],
    for_: Annotated[str | None, typer.Option("--for", help="How long, e.g. 2h")] = None,
    until: Annotated[str | None, typer.Option("--until", help="End, ISO 8601")] = None,
    starts: Annotated[str | None, typer.Option("--starts", help="Start, ISO 8601 (now)")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Create a silence; critical alerts still break through (the safety floor)."""
    body: dict[str, Any] = {"matchers": _matchers(match), "created_by": by, "comment": comment}
    if (for_ is None) == (until is None):
        raise typer.BadParameter("give exactly one of --for or --until", param_hint="--for")
    if for_ is not None:
        body["duration"] = _duration(for_, "--for")
    if until is not None:
        body["ends_at"] = _time(until, "--until")
    if starts is not None:
        body["starts_at"] = _time(starts, "--starts")
    made = _call(url, "POST", "/api/v1/silences", body)
    console.print(f"silence {made['id']} {made['state']} until {made['ends_at']}",
                  highlight=False)


@silence_app.command("list")
def silence_list(
    state: Annotated[str | None, typer.Option("--state", help="active, pending or expired")]
    = None,
    url: Url = DEFAULT_URL,
) -> None:
    """List silences (ended ones are kept for a day)."""
    if state not in (None, "active", "pending", "expired"):
        raise typer.BadParameter("one of active, pending, expired", param_hint="--state")
    query = f"?state={state}" if state else ""
    silences = _call(url, "GET", f"/api/v1/silences{query}")["silences"]
    if not silences:
        console.print("no silences")
        return
    table = Table("state", "matchers", "starts", "ends", "by", "comment")
    table.add_column("id", no_wrap=True)
    for s in silences:
        matchers = ", ".join(f"{k}={v}" for k, v in s["matchers"].items())
        table.add_row(s["state"], matchers, _short(s["starts_at"]), _short(s["ends_at"]),
                      s["created_by"], s["comment"], s["id"])
    console.print(table)


@silence_app.command("expire")
def silence_expire(
    silence_id: Annotated[str, typer.Argument(help="The silence's id")],
    url: Url = DEFAULT_URL,
) -> None:
    """End a silence now."""
    done = _call(url, "DELETE", f"/api/v1/silences/{quote(silence_id, safe='')}")
    console.print(f"silence {done['id']} expired at {done['expired_at'] or done['ends_at']}",
                  highlight=False)


@app.command("ack")
def ack(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (shown in the message)")],
    by: By,
    comment: Annotated[str, typer.Option("--comment", help="A note")] = "",
    url: Url = DEFAULT_URL,
) -> None:
    """Acknowledge an alert: no more repeats or escalation."""
    done = _call(url, "POST", f"/api/v1/alerts/{quote(alert_id, safe='')}/ack",
                 {"by": by, "comment": comment})
    console.print(f"alert {done['alert_id']} acknowledged by {done['acked_by']} at "
                  f"{done['acked_at']}", highlight=False)


@app.command("snooze")
def snooze(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (or a patient's, --patient)")],
    for_: Annotated[str, typer.Option("--for", help="How long, e.g. 30m")],
    by: By,
    comment: Annotated[str, typer.Option("--comment", help="Why")] = "snoozed",
    patient: Annotated[bool, typer.Option("--patient", help="Snooze every alert of this "
                                          "patient")] = False,
    url: Url = DEFAULT_URL,
) -> None:
    """Snooze one alert (or one patient); critical alerts still break through."""
    kind = "patients" if patient else "alerts"
    made = _call(url, "POST", f"/api/v1/{kind}/{quote(alert_id, safe='')}/snooze",
                 {"duration": _duration(for_, "--for"), "by": by, "comment": comment})
    console.print(f"snoozed until {made['ends_at']} (silence {made['id']})", highlight=False)
    if "note" in made:
        console.print(f"[yellow]{made['note']}", highlight=False)


@app.command("fatigue")
def fatigue(
    since: Annotated[str | None, typer.Option(
        "--since", help="First day (ISO date, e.g. 2026-11-01); default: the last --days days,"
                        " today included")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=366,
                                      help="How many days")] = 7,
    patient: Annotated[str | None, typer.Option("--patient", help="One patient only")] = None,
) -> None:
    """Alarm-fatigue figures per patient and local day (the alarm_fatigue_daily view)."""
    from datetime import timedelta

    from vigil.cli import settings as cli_settings
    from vigil.notifier.fatigue import daily

    try:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = (datetime.fromisoformat(since) if since else  # default: the last N days
                 today - timedelta(days=days - 1))
    except ValueError:
        raise typer.BadParameter(f"expected an ISO date, got {since!r}",
                                 param_hint="--since") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)

    async def rows(conn: Any) -> list[dict[str, Any]]:
        # A patient's local day may start up to 14 h either side of UTC midnight.
        found = await daily(conn, start - timedelta(hours=14),
                            start + timedelta(days=days, hours=14))
        end = (start + timedelta(days=days)).date()
        return [r for r in found if start.date() <= r["day"] < end
                and (patient is None or r["patient_id"] == patient)]

    found = cli_settings.with_db(rows)
    if not found:
        console.print("no alerts in that period", highlight=False)
        return
    table = Table("day", "patient", "alerts", "critical", "messages", "ack p50 s", "ack p90 s",
                  "unacked", "snoozes", "silences",
                  title=f"alarm fatigue, {start.date()} + {days} day(s)")

    def secs(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    for r in found:
        table.add_row(str(r["day"]), r["patient_id"], str(r["alerts_fired"]), str(r["critical"]),
                      str(r["notifications_sent"]), secs(r["median_time_to_ack_s"]),
                      secs(r["p90_time_to_ack_s"]), str(r["unacked"]), str(r["snoozes"]),
                      str(r["silences"]))
    console.print(table)
