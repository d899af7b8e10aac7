"""Grouping, repeats, acknowledgements, escalation and resolution: pure and clock-injected.

Alertmanager semantics per aggregation group (one per route and ``group_by`` values): the
first notification goes out ``group_wait`` after the group is created; after that the group
is looked at every ``group_interval`` and notifies only when it gained a firing alert (or an
alert resolved); while an alert stays firing and unacknowledged the group repeats every
``repeat_interval``. Escalation runs on its own clock: when the group is still unacknowledged
``after`` seconds from its first page, the next level's receiver is paged at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from vigil.core import logging
from vigil.notifier.config import Config, Route
from vigil.notifier.model import Alert
from vigil.notifier.routing import route as route_alert
from vigil.notifier.silence import Silences

log = logging.get(__name__)


class UnknownAlertError(LookupError):
    """An alert the notifier does not know (not firing, or never received)."""


@dataclass(frozen=True)
class Notification:
    """One message to one receiver; ``kind`` is firing, repeat, escalation, resolved, or
    acked (someone took it: told to the others who were paged; ``acked_by`` says who).

    ``level`` and ``escalation_start`` are the group's escalation state once this notification
    is decided; they are logged with it so that a restart carries on where it stopped."""

    at: float
    receiver: str
    kind: str
    group: str
    firing: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()
    level: int = 0
    escalation_start: float | None = None
    acked_by: str = ""


@dataclass(frozen=True)
class GroupTiming:
    """A group's timing as the notification log last saw it (times are the dispatcher's)."""

    last_page: float | None = None  # latest firing or repeat
    last_flush: float | None = None  # latest firing, repeat or resolved: a group_interval tick
    level: int = 0
    escalation_start: float | None = None

    @classmethod
    def from_log(cls, rows: Iterable[tuple[str, float, int, float | None]]) -> GroupTiming:
        """From a group's decided notifications ``(kind, due_at, level, escalation_start)``
        in the order they were decided: the last one holds the escalation state."""
        timing = cls()
        for kind, due_at, level, escalation_start in rows:
            if kind == "acked":  # an announcement, not a look of the group
                continue
            page = due_at if kind in ("firing", "repeat") else timing.last_page
            flush = due_at if kind != "escalation" else timing.last_flush
            timing = cls(page, flush, level, escalation_start)
        return timing


@dataclass
class _Entry:
    alert: Alert
    acked_by: str | None = None
    paged: set[str] = field(default_factory=set)


@dataclass
class _Group:
    key: str
    route: Route
    next_flush: float
    entries: dict[str, _Entry] = field(default_factory=dict)
    # alert_id → severity as last shown: a new alert or a higher severity pages again.
    last_sent: dict[str, int] = field(default_factory=dict)
    last_notified: float | None = None
    escalation_start: float | None = None
    level: int = 0

    def targets(self) -> list[str]:
        """The base receiver plus every escalation level reached so far."""
        reached = [step.receiver for step in self.route.escalation[: self.level]]
        return list(dict.fromkeys([self.route.receiver, *reached]))


class Dispatcher:
    """Turns alerts, acks and the passing of time into notifications."""

    def __init__(self, config: Config, silences: Silences, clock: Callable[[], float]) -> None:
        self._config = config
        self._silences = silences
        self._clock = clock
        self._groups: dict[str, _Group] = {}
        self._announcements: list[Notification] = []

    def receive(self, alert: Alert) -> None:
        """Take a firing or resolved alert event; repeats of a known episode only update it.

        A known alert whose severity rises is routed again: routes it now matches and did not
        before (e.g. ``severity: critical``) get it as a new entry, un-acknowledged, so an
        urgent escalation reaches the critical route's receivers at that route's pace. Groups
        that already hold it and page the same receiver do not page the rise a second time.
        """
        known = [g for g in self._groups.values() if alert.alert_id in g.entries]
        rose = False
        for group in known:
            entry = group.entries[alert.alert_id]
            rose = rose or alert.severity > entry.alert.severity
            entry.alert = alert
        if not alert.firing or self._config.route is None or (known and not rose):
            return
        now = self._clock()
        held = {g.key for g in known}
        added: list[_Group] = []
        for matched in route_alert(self._config.route, alert, now, self._config.timezone):
            values = ",".join(f"{name}={alert.label(name)}" for name in matched.group_by)
            key = f"{matched.path}{{{values}}}"
            if key in held:
                continue
            if key not in self._groups:
                self._groups[key] = _Group(key, matched, now + matched.group_wait)
            self._groups[key].entries[alert.alert_id] = _Entry(alert)
            added.append(self._groups[key])
        if known and added:
            receivers = {g.route.receiver for g in added}
            for group in known:
                if group.route.receiver in receivers:
                    group.last_sent[alert.alert_id] = alert.severity
            log.info("alert_rerouted", alert_id=alert.alert_id, severity=alert.severity.name,
                     routes=[g.route.path for g in added])

    def restore(self, alert: Alert, acked_by: str | None, paged: Mapping[str, float]) -> None:
        """Rebuild one firing alert after a restart. ``paged`` maps each receiver already
        paged for it (from the notification log) to when it was first paged: those are not
        paged again, and repeats and escalation carry on from the log's times."""
        if not alert.firing:
            return
        self.receive(alert)
        for group in self._groups.values():
            entry = group.entries.get(alert.alert_id)
            if entry is None:
                continue
            entry.acked_by = acked_by
            entry.paged = set(paged)
            first = paged.get(group.route.receiver)
            if first is None:
                continue  # never paged on this route: it goes out at the group's first look
            group.last_sent[alert.alert_id] = alert.severity
            group.last_notified = max(group.last_notified or 0.0, *paged.values())
            if acked_by is None:
                group.escalation_start = min(group.escalation_start or first, first)
                reached = 0
                for step in group.route.escalation:
                    if step.receiver not in paged:
                        break
                    reached += 1
                group.level = max(group.level, reached)

    def restore_timing(self, key: str, timing: GroupTiming) -> None:
        """After :meth:`restore`: put a group back on the clock it had before the restart, so
        its next look, repeat and escalation step fall when they would have anyway."""
        group = self._groups.get(key)
        if group is None:
            return
        if timing.last_flush is not None:
            # Looks happen every group_interval from the first one: keep that phase.
            interval = group.route.group_interval
            steps = max(0, math.ceil((self._clock() - timing.last_flush) / interval))
            group.next_flush = timing.last_flush + steps * interval
        if timing.last_page is not None:
            group.last_notified = timing.last_page
        group.escalation_start = timing.escalation_start
        group.level = timing.level if timing.escalation_start is not None else 0

    def group_keys(self) -> list[str]:
        """Keys of the current aggregation groups."""
        return list(self._groups)

    def find(self, alert_id: str) -> Alert | None:
        """The latest state of a known alert, or None."""
        for group in self._groups.values():
            if alert_id in group.entries:
                return group.entries[alert_id].alert
        return None

    def acked_by(self, alert_id: str) -> str | None:
        """Who acknowledged a known alert, or None."""
        for group in self._groups.values():
            entry = group.entries.get(alert_id)
            if entry is not None and entry.acked_by is not None:
                return entry.acked_by
        return None

    def ack(self, alert_id: str, by: str, announce_to_self: str = "") -> bool:
        """Acknowledge an alert: no more repeats or escalation for it. False if unknown.

        The first ack is announced at the next tick to every receiver already paged for the
        alert (so the others know someone took it), except ``announce_to_self``: the receiver
        that acknowledged through its own link.
        """
        now = self._clock()
        told: set[str] = {announce_to_self} if announce_to_self else set()
        found = False
        for group in self._groups.values():
            entry = group.entries.get(alert_id)
            if entry is None:
                continue
            found = True
            if entry.acked_by is not None:
                continue
            entry.acked_by = by
            for receiver in sorted(entry.paged - told):
                told.add(receiver)
                self._announcements.append(Notification(
                    now, receiver, "acked", group.key, firing=(entry.alert,), level=group.level,
                    escalation_start=group.escalation_start, acked_by=by))
        if found:
            log.info("alert_acked", alert_id=alert_id, by=by)
        return found

    def tick(self) -> list[Notification]:
        """Everything due at the clock's now, in order."""
        now = self._clock()
        out, self._announcements = self._announcements, []
        for key, group in list(self._groups.items()):
            if now >= group.next_flush:
                out.extend(self._flush(group, now))
            out.extend(self._escalate(group, now))
            if not group.entries:
                del self._groups[key]
        return out

    def next_due(self) -> float | None:
        """When ``tick`` next has something to do, for the service's sleep."""
        times = [g.next_flush for g in self._groups.values()]
        times += [n.at for n in self._announcements]
        for g in self._groups.values():
            if g.escalation_start is not None and g.level < len(g.route.escalation):
                times.append(g.escalation_start + g.route.escalation[g.level].after)
        return min(times, default=None)

    def _visible(self, group: _Group, now: float) -> list[_Entry]:
        return [e for e in group.entries.values()
                if e.alert.firing and self._silences.muting(e.alert, now) is None]

    def _flush(self, group: _Group, now: float) -> list[Notification]:
        out: list[Notification] = []
        visible = self._visible(group, now)
        unacked = [e for e in visible if e.acked_by is None]
        shown = {e.alert.alert_id: int(e.alert.severity) for e in visible}
        repeat_due = (group.last_notified is not None
                      and now - group.last_notified >= group.route.repeat_interval)
        if any(sev > group.last_sent.get(alert_id, 0) for alert_id, sev in shown.items()):
            out += self._page(group, now, "firing", visible)
        elif unacked and repeat_due:
            out += self._page(group, now, "repeat", unacked)
        group.last_sent = shown
        out += self._resolve(group, now)
        if unacked and group.escalation_start is None and out:
            group.escalation_start = now
        group.next_flush = now + group.route.group_interval
        return [replace(n, level=group.level, escalation_start=group.escalation_start)
                for n in out]

    def _page(self, group: _Group, now: float, kind: str, entries: list[_Entry]
              ) -> list[Notification]:
        group.last_notified = now
        alerts = tuple(e.alert for e in entries)
        out = []
        for receiver in group.targets():
            for entry in entries:
                entry.paged.add(receiver)
            out.append(Notification(now, receiver, kind, group.key, firing=alerts))
        return out

    def _resolve(self, group: _Group, now: float) -> list[Notification]:
        by_receiver: dict[str, list[Alert]] = {}
        for alert_id, entry in list(group.entries.items()):
            if entry.alert.firing:
                continue
            for receiver in sorted(entry.paged):
                by_receiver.setdefault(receiver, []).append(entry.alert)
            del group.entries[alert_id]
            # An alert held by several groups (re-routed on a rise) tells each person once.
            for other in self._groups.values():
                if alert_id in other.entries:
                    other.entries[alert_id].paged -= entry.paged
        return [Notification(now, receiver, "resolved", group.key, resolved=tuple(alerts))
                for receiver, alerts in by_receiver.items()]

    def _escalate(self, group: _Group, now: float) -> list[Notification]:
        if group.escalation_start is None:
            return []
        unacked = [e for e in self._visible(group, now) if e.acked_by is None]
        if not unacked:
            # Acknowledged (or resolved/muted): the chain stops and starts over next time.
            group.escalation_start, group.level = None, 0
            return []
        out = []
        levels = group.route.escalation
        start = group.escalation_start
        while group.level < len(levels) and now >= start + levels[group.level].after:
            step = levels[group.level]
            group.level += 1
            for entry in unacked:
                entry.paged.add(step.receiver)
            log.info("escalated", group=group.key, level=group.level, receiver=step.receiver,
                     alert_ids=[e.alert.alert_id for e in unacked])
            out.append(Notification(now, step.receiver, "escalation", group.key,
                                    firing=tuple(e.alert for e in unacked), level=group.level,
                                    escalation_start=start))
        return out
