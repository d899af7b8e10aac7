"""Messages: short, phone-readable, with everything the carer needs and nothing more."""

from __future__ import annotations

from services.notifier.tests.notifier_testkit import NOON, make_alert
from vigil.notifier.acklink import AckLinks
from vigil.notifier.dispatch import Notification
from vigil.notifier.message import Formatter


def test_firing_message_has_patient_what_value_trend_since_link_and_ack() -> None:
    alert = make_alert("a1", patient="p 7", severity="critical", summary="SpO2 low",
                       value=84.0, trend_per_min=-1.5)
    note = Notification(NOON + 15 * 60, "nurse", "firing", "g", firing=(alert,))
    msg = Formatter(grafana_url="http://grafana:3000/").render(note)
    assert msg.title == "CRITICAL p 7: SpO2 low"
    assert msg.body == (
        "CRITICAL · patient p 7\n"
        "SpO2 low: spo2 84 %, falling 1.5 %/min\n"
        "since 12:00 UTC (15 min)\n"
        "http://grafana:3000/d/vigil-patient-vitals?var-patient=p%207\n"
        "Ack id: a1"
    )
    assert msg.notify_type == "failure"


def test_resolved_message_has_no_ack_hint_and_no_link_without_grafana() -> None:
    alerts = (make_alert("a1", severity="warning"), make_alert("a2", severity="high"))
    note = Notification(NOON + 3 * 3600, "nurse", "resolved", "g", resolved=alerts)
    msg = Formatter().render(note)
    assert msg.title == "RESOLVED p1: SpO2 low (+1 more)"
    assert "Ack" not in msg.body
    assert "http" not in msg.body
    assert "since 12:00 UTC (3 h 0 min)" in msg.body
    assert msg.notify_type == "success"


def test_escalation_and_repeat_are_marked() -> None:
    alert = make_alert("a1", severity="warning")
    f = Formatter()
    assert f.render(Notification(NOON, "c", "escalation", "g", firing=(alert,), level=1)
                    ).title == "ESCALATED WARNING p1: SpO2 low"
    assert f.render(Notification(NOON, "c", "repeat", "g", firing=(alert,))
                    ).title == "STILL FIRING WARNING p1: SpO2 low"


def test_ack_link_is_added_per_alert_and_receiver_when_links_are_on() -> None:
    links = AckLinks("s3cret-s3cret-s3cret", "https://vigil.example.org", ttl=3600)
    note = Notification(NOON, "nurse", "firing", "g", firing=(make_alert("a1"),))
    body = Formatter(links=links).render(note).body.splitlines()
    assert body[-2:] == ["Ack id: a1",
                         f"Ack: https://vigil.example.org/ack/{links.token('a1', 'nurse', NOON)}"]
    own = Formatter(ack_hint="Tap to ack: {ack_url}", links=links).render(note).body
    assert own.splitlines()[-1] == f"Tap to ack: {links.url('a1', 'nurse', NOON)}"
    assert "/ack/" not in Formatter().render(note).body


def test_a_long_description_goes_under_the_value() -> None:
    from services.notifier.tests.notifier_testkit import NOON, make_alert
    from vigil.notifier.dispatch import Notification
    from vigil.notifier.message import Formatter

    alert = make_alert("a9", severity="critical", metric="glucose", value=52.0, unit="mg/dL",
                       summary="Hypoglycaemia (level 1 below 70, level 2 below 54 mg/dL)")
    text = Formatter().render(Notification(NOON, "desk", "firing", "g", firing=(alert,))).body
    assert text.splitlines()[:3] == [
        "CRITICAL · patient p1", "glucose 52 mg/dL",
        "Hypoglycaemia (level 1 below 70, level 2 below 54 mg/dL)"]


def test_an_ack_announcement_says_who_took_it() -> None:
    from services.notifier.tests.notifier_testkit import NOON, make_alert
    from vigil.notifier.dispatch import Notification
    from vigil.notifier.message import Formatter

    alert = make_alert("a1", severity="critical", started_at=NOON - 600)
    message = Formatter().render(Notification(NOON, "nurse", "acked", "g", firing=(alert,),
                                              acked_by="charge-sam"))
    assert message.title == "ACKED by charge-sam p1: SpO2 low"
    assert message.body.splitlines() == ["ACKNOWLEDGED by charge-sam · patient p1",
                                         "critical: SpO2 low", "since 11:50 UTC (10 min)"]
    assert message.notify_type == "info"
