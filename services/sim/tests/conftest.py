"""Fixtures for the simulator tests: a real Mosquitto on a free port, and a subscriber."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """Start Mosquitto in ``tmp_path`` on a free port; yield its URL; stop it."""
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    log = (tmp_path / "mosquitto.log").open("w")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"mosquitto did not start: {(tmp_path / 'mosquitto.log').read_text()}")
            time.sleep(0.05)
    yield f"mqtt://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
    log.close()


class Recorder:
    """Subscribes to every device topic and keeps what arrives."""

    def __init__(self, url: str, topic_filter: str = "vigil/v1/devices/#") -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.client = Client(MqttUrl.parse(url), f"recorder-{time.monotonic_ns()}",
                             clean_start=True, on_message=self._on)
        self.client.subscribe(topic_filter, qos=1)
        self.client.connect()
        time.sleep(0.2)  # let the SUBACK land before devices publish

    def _on(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Message]:
        """Wait until at least ``n`` messages arrived (then a little longer for extras)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        """Disconnect."""
        self.client.close()


@pytest.fixture
def recorder(broker: str) -> Iterator[Recorder]:
    """A subscriber on every device topic of ``broker``."""
    rec = Recorder(broker)
    yield rec
    rec.close()


@pytest.fixture
def subscribe(broker: str) -> Iterator[Callable[[str], Recorder]]:
    """A factory of extra subscribers on ``broker`` (closed at teardown)."""
    made: list[Recorder] = []

    def make(topic_filter: str) -> Recorder:
        rec = Recorder(broker, topic_filter)
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.close()
