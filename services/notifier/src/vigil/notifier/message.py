"""Short, phone-readable messages: patient, what, value, trend, severity, since when, link, ack."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from vigil.notifier.acklink import AckLinks
from vigil.notifier.dispatch import Notification
from vigil.notifier.model import Alert, Severity

# The Grafana dashboard that shows one patient's vitals (infra/grafana/dashboards).
DASHBOARD_PATH = "/d/vigil-patient-vitals?var-patient="
_SHORT = 32  # characters of a summary kept on the value's line
_PREFIX = {"firing": "", "repeat": "STILL FIRING ", "escalation": "ESCALATED ",
           "resolved": "", "acked": ""}


@dataclass(frozen=True)
class Message:
    """What a channel sends; ``notify_type`` is Apprise's: info, success, warning, failure."""

    title: str
    body: str
    notify_type: str


@dataclass(frozen=True)
class Formatter:
    """Renders notifications; ``grafana_url`` adds a dashboard link when set, ``links`` a
    signed ack link per alert (``{ack_url}`` in ``ack_hint``, else a line of its own)."""

    grafana_url: str = ""
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    ack_hint: str = "Ack id: {alert_id}"
    links: AckLinks | None = None

    def render(self, note: Notification) -> Message:
        """One message for one notification, worst alert first."""
        if note.kind == "acked":
            return self._acked(note)
        alerts = sorted(note.firing or note.resolved, key=lambda a: -a.severity)
        worst = alerts[0]
        resolved = note.kind == "resolved"
        head = "RESOLVED" if resolved else worst.severity.name
        more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
        title = f"{_PREFIX[note.kind]}{head} {worst.patient_id}: {worst.summary or worst.rule}"
        blocks = [self._block(a, note.at, resolved, note.receiver) for a in alerts]
        return Message(title=title + more, body="\n\n".join(blocks),
                       notify_type=self._type(worst.severity, resolved))

    def _acked(self, note: Notification) -> Message:
        """Someone took it: the others who were paged need not act."""
        alert = note.firing[0]
        what = alert.summary or alert.rule
        lines = [f"ACKNOWLEDGED by {note.acked_by} · patient {alert.patient_id}",
                 f"{alert.severity.name.lower()}: {what}",
                 f"since {self._since(alert.started_at, note.at)}"]
        return Message(title=f"ACKED by {note.acked_by} {alert.patient_id}: {what}",
                       body="\n".join(lines), notify_type="info")

    def _block(self, alert: Alert, now: float, resolved: bool, receiver: str) -> str:
        reading = f"{alert.metric} {alert.value:g} {alert.unit}".rstrip()
        if alert.trend_per_min:
            way = "rising" if alert.trend_per_min > 0 else "falling"
            reading += f", {way} {abs(alert.trend_per_min):g} {alert.unit}/min".rstrip()
        state = "resolved" if resolved else alert.severity.name.lower()
        what = alert.summary or alert.rule
        # A short name reads well before the value ("SpO2 low: spo2 84 %"); a rule's longer
        # description goes on its own line under the value.
        head = [f"{what}: {reading}"] if len(what) <= _SHORT else [reading, what]
        lines = [f"{state.upper()} · patient {alert.patient_id}", *head,
                 f"since {self._since(alert.started_at, now)}"]
        if self.grafana_url:
            link = self.grafana_url.rstrip("/") + DASHBOARD_PATH + quote(alert.patient_id)
            lines.append(link)
        if not resolved:
            url = self.links.url(alert.alert_id, receiver, now) if self.links else ""
            lines.append(self.ack_hint.format(alert_id=alert.alert_id, ack_url=url))
            if url and "{ack_url}" not in self.ack_hint:
                lines.append(f"Ack: {url}")
        return "\n".join(lines)

    def _since(self, started: float, now: float) -> str:
        local = datetime.fromtimestamp(started, UTC).astimezone(self.timezone)
        minutes = max(0, int((now - started) // 60))
        age = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"
        return f"{local:%H:%M} {local.tzname()} ({age})"

    @staticmethod
    def _type(severity: Severity, resolved: bool) -> str:
        if resolved:
            return "success"
        if severity >= Severity.HIGH:
            return "failure"
        return "warning" if severity == Severity.WARNING else "info"
