"""Run simulated devices against a broker: backfill at once, then live at ``speed``.

Each device gets its own MQTT connection and thread (a device is its own client in the field,
with its own last will). Every device first publishes its backfill, ``[now - backfill, now)``,
as fast as the broker acknowledges it, so a fresh stack has data of every kind within seconds;
it then publishes each message when the simulated clock reaches its time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from vigil.core import logging as vlog
from vigil.core import topics
from vigil.core.config import CommonSettings, MqttUrl
from vigil.core.mqtt import Client, Publish
from vigil.sim.clock import SimClock
from vigil.sim.devices import SimDevice, SimOptions, events, make_oximeter, oximeter_events

log = vlog.get(__name__)
ACK_TIMEOUT_S = 30.0


class SimError(RuntimeError):
    """One or more simulated devices failed (the message names them)."""


def _prune(pending: list[Publish]) -> list[Publish]:
    return [p for p in pending if not p.done]


def run_device(url: MqttUrl, device: SimDevice, clock: SimClock, backfill: timedelta,
               options: SimOptions | None = None) -> int:
    """Simulate one device until ``options.count``/``options.duration`` or ``clock.stop``.

    Returns the number of data messages published (status messages not included); every one
    has been acknowledged by the broker when it returns.
    """
    options = options or SimOptions()
    now = clock.now()
    start = now - backfill
    end = now + options.duration if options.duration is not None else None
    status_topic = topics.device(device.device_id, "status")
    oximeter = None
    will = None
    if device.kind == "oximeter":
        oximeter = make_oximeter(device, options)
        will = (status_topic, oximeter.status(False, now).SerializeToString(), True)
    client = Client(url, f"vigil-sim-{device.device_id}", clean_start=False, will=will)
    client.connect(options.connect_timeout_s)
    log.info("sim.device_started", device_id=device.device_id, kind=device.kind,
             profile=device.profile, boot_id=oximeter.boot_id if oximeter else None)
    stream = (oximeter_events(device, options, start, now, oximeter) if oximeter
              else events(device, options, start, now))
    sent, pending = 0, []
    try:
        if oximeter:
            client.publish(status_topic, oximeter.status(True, now).SerializeToString(),
                           retain=True).wait(ACK_TIMEOUT_S)
        for event in stream:
            if options.count is not None and sent >= options.count:
                break
            if end is not None and event.time > end:
                break
            if event.time > now and not clock.sleep_until(event.time):
                break
            pending.append(client.publish(event.topic, event.payload))
            sent += 1
            if len(pending) >= 500:
                pending[0].wait(ACK_TIMEOUT_S)
                pending = _prune(pending)
        for p in pending:
            p.wait(ACK_TIMEOUT_S)
        if oximeter:
            client.publish(status_topic, oximeter.status(False, clock.now()).SerializeToString(),
                           retain=True).wait(ACK_TIMEOUT_S)
    finally:
        client.close()
    log.info("sim.device_stopped", device_id=device.device_id, messages=sent)
    return sent


def run_all(settings: CommonSettings, devices: Sequence[SimDevice], speed: float = 60.0,
            backfill: timedelta = timedelta(hours=1), stop: threading.Event | None = None,
            *, options: SimOptions | None = None,
            start: datetime | None = None) -> dict[str, int]:
    """Simulate ``devices`` in parallel on one simulated clock; block until all finish.

    ``speed`` is simulated seconds per real second, ``backfill`` how much past to publish at
    start, ``stop`` ends the run when set, ``start`` the simulated "now" (default: wall clock).
    Returns the data messages published per device id; raises :class:`SimError` if any failed.
    """
    stop = stop or threading.Event()
    clock = SimClock(start or datetime.now(UTC), speed, stop)
    url = settings.mqtt
    counts: dict[str, int] = {}
    errors: dict[str, BaseException] = {}

    def work(device: SimDevice) -> None:
        try:
            counts[device.device_id] = run_device(url, device, clock, backfill, options)
        except Exception as exc:  # reported below, after the other devices finish
            log.error("sim.device_failed", device_id=device.device_id, error=str(exc))
            errors[device.device_id] = exc

    threads = [threading.Thread(target=work, args=(d,), name=f"sim-{d.device_id}", daemon=True)
               for d in devices]
    log.info("sim.started", devices=len(threads), speed=speed,
             backfill_s=backfill.total_seconds())
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join(ACK_TIMEOUT_S)
        raise
    if errors:
        detail = "; ".join(f"{d}: {e}" for d, e in errors.items())
        raise SimError(f"{len(errors)} simulated device(s) failed: {detail}")
    return counts
