"""The dev PKI script, and the production broker config (mTLS + ACL) on a real Mosquitto."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

pytestmark = pytest.mark.helm

ROOT = Path(__file__).resolve().parents[2]
MAKE_CERTS = ROOT / "infra" / "pki" / "make-certs.sh"
BROKER_CONF = ROOT / "infra" / "mosquitto" / "mosquitto.conf"
ACL = ROOT / "infra" / "mosquitto" / "acl"
NOT_AUTHORIZED = 0x87


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    subprocess.run([str(MAKE_CERTS), str(out), "dev-001", "dev-002"], check=True)
    return out


def test_device_certificates_chain_to_the_ca(pki: Path) -> None:
    for cert in ("devices/dev-001.crt", "devices/dev-002.crt", "server.crt"):
        assert openssl("verify", "-CAfile", str(pki / "ca.crt"), str(pki / cert)).strip().endswith(
            ": OK"
        )
    subject = openssl("x509", "-in", str(pki / "devices/dev-001.crt"), "-noout", "-subject")
    assert "CN = dev-001" in subject
    usage = openssl("x509", "-in", str(pki / "devices/dev-001.crt"), "-noout", "-ext",
                    "extendedKeyUsage")
    assert "Client Authentication" in usage


def test_rerun_keeps_the_ca_and_refuses_unsafe_ids(pki: Path) -> None:
    before = (pki / "ca.crt").read_bytes()
    subprocess.run([str(MAKE_CERTS), str(pki), "dev-003"], check=True)
    assert (pki / "ca.crt").read_bytes() == before
    assert (pki / "devices/dev-003.crt").exists()
    bad = subprocess.run([str(MAKE_CERTS), str(pki), "a+b"], capture_output=True, check=False)
    assert bad.returncode != 0
    assert not (pki / "devices/a+b.crt").exists()


@pytest.fixture(scope="module")
def broker(pki: Path, tmp_path_factory: pytest.TempPathFactory,
           mosquitto: Callable[..., Any]) -> tuple[int, int]:
    """Mosquitto running infra/mosquitto/mosquitto.conf as is, paths and ports made local."""
    tmp = tmp_path_factory.mktemp("broker")
    passwd = tmp / "passwd"
    for i, user in enumerate(("vigil-ingest", "vigil-ops")):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(passwd), user,
                        "pw"], check=True)
    b = mosquitto(BROKER_CONF.read_text(), tmp, acl=ACL, pki=pki, passwd=passwd)
    assert b.tls
    return b.plain, b.tls


class Client:
    """A blocking MQTT 5 client: every call waits for the broker's answer and returns its code."""

    def __init__(self, port: int, *, username: str | None = None, password: str | None = None,
                 tls: tuple[Path, Path | None, Path | None] | None = None) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._acks: dict[int, int] = {}
        self._cond = threading.Condition()
        self.c = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        if username:
            self.c.username_pw_set(username, password)
        if tls:
            ca, cert, key = tls
            self.c.tls_set(str(ca), str(cert) if cert else None, str(key) if key else None,
                           cert_reqs=ssl.CERT_REQUIRED)
        self.c.on_connect = lambda _c, _u, _f, rc, _p: self._ack(-1, rc.value)
        self.c.on_publish = lambda _c, _u, mid, rc, _p: self._ack(mid, rc.value)
        self.c.on_subscribe = lambda _c, _u, mid, rcs, _p: self._ack(mid, rcs[0].value)
        self.c.on_message = lambda _c, _u, m: self._got(m.topic, bytes(m.payload))
        # A dropped connection before CONNACK (TLS 1.3 rejects client certificates after the
        # handshake) answers the pending connect as refused.
        self.c.on_disconnect = lambda _c, _u, _f, _rc, _p: self._ack(-1, 255)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self._wait(-1) == 0, "connection refused"

    def _ack(self, mid: int, code: int) -> None:
        with self._cond:
            self._acks[mid] = code
            self._cond.notify_all()

    def _got(self, topic: str, payload: bytes) -> None:
        with self._cond:
            self.messages.append((topic, payload))
            self._cond.notify_all()

    def _wait(self, mid: int) -> int:
        with self._cond:
            assert self._cond.wait_for(lambda: mid in self._acks, 5), f"no answer for {mid}"
            return self._acks.pop(mid)

    def publish(self, topic: str, payload: bytes) -> int:
        return self._wait(self.c.publish(topic, payload, qos=1).mid)

    def subscribe(self, topic: str) -> int:
        _, mid = self.c.subscribe(topic, qos=1)
        assert mid is not None
        return self._wait(mid)

    def wait_messages(self, n: int) -> list[tuple[str, bytes]]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= n, 5)
            return list(self.messages)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def device(pki: Path, port: int, device_id: str) -> Client:
    d = pki / "devices"
    return Client(port, tls=(pki / "ca.crt", d / f"{device_id}.crt", d / f"{device_id}.key"))


def test_device_publishes_only_under_its_own_id(pki: Path, broker: tuple[int, int]) -> None:
    plain, tls = broker
    ingest = Client(plain, username="vigil-ingest", password="pw")
    dev = device(pki, tls, "dev-001")
    try:
        assert ingest.subscribe("$share/ingest/vigil/v1/devices/+/telemetry") == 1  # granted QoS 1
        assert dev.publish("vigil/v1/devices/dev-001/telemetry", b"own") == 0
        assert dev.publish("vigil/v1/devices/dev-002/telemetry", b"forged") == NOT_AUTHORIZED
        assert dev.publish("vigil/v1/readings/0/p1", b"forged") == NOT_AUTHORIZED
        time.sleep(0.3)  # give a wrongly forwarded message time to arrive
        assert ingest.wait_messages(1) == [("vigil/v1/devices/dev-001/telemetry", b"own")]
        # Services cannot impersonate devices either.
        assert ingest.publish("vigil/v1/devices/dev-001/telemetry", b"x") == NOT_AUTHORIZED
    finally:
        dev.close()
        ingest.close()


def test_device_reads_only_its_own_commands(pki: Path, broker: tuple[int, int]) -> None:
    plain, tls = broker
    ops = Client(plain, username="vigil-ops", password="pw")
    dev = device(pki, tls, "dev-001")
    try:
        # Mosquitto 2.0 grants the subscription and enforces "read" on each delivery.
        assert dev.subscribe("vigil/v1/devices/+/commands") == 1
        assert ops.publish("vigil/v1/devices/dev-002/commands", b"theirs") == 0
        assert ops.publish("vigil/v1/devices/dev-001/commands", b"mine") == 0
        time.sleep(0.3)
        assert dev.wait_messages(1) == [("vigil/v1/devices/dev-001/commands", b"mine")]
    finally:
        dev.close()
        ops.close()


def test_broker_refuses_clients_without_a_valid_certificate(
    pki: Path, broker: tuple[int, int], tmp_path: Path
) -> None:
    _, tls = broker
    rogue = tmp_path / "rogue"  # same device id, certificate from another CA
    subprocess.run([str(MAKE_CERTS), str(rogue), "dev-001"], check=True, capture_output=True)
    for cert, key in ((None, None), (rogue / "devices/dev-001.crt", rogue / "devices/dev-001.key")):
        with pytest.raises((ssl.SSLError, OSError, AssertionError)):
            Client(tls, tls=(pki / "ca.crt", cert, key)).close()
    device(pki, tls, "dev-001").close()  # and the genuine one still gets in


def test_services_need_a_password(broker: tuple[int, int]) -> None:
    plain, _ = broker
    with pytest.raises(AssertionError, match="connection refused"):
        Client(plain, username="vigil-ingest", password="wrong")


def test_azure_bridge_example_is_valid_mosquitto_config(
    tmp_path: Path, mosquitto: Callable[..., Any]
) -> None:
    example = (ROOT / "infra/mosquitto/bridge-azure.conf.example").read_text()
    for placeholder, value in {"<hub>": "example-hub", "<device>": "dev-001",
                               "<signature>": "sig", "<expiry>": "1900000000"}.items():
        example = example.replace(placeholder, value)
    assert not [ln for ln in example.splitlines() if "<" in ln and not ln.startswith("#")]
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "bridge.conf").write_text(example)
    conf = f"listener 1883\nallow_anonymous true\ninclude_dir {tmp_path}/conf.d\n"
    broker = mosquitto(conf, tmp_path, acl=ACL, pki=None, passwd=None)
    broker.proc.terminate()
    assert broker.proc.wait(10) == 0
    log = broker.log.read_text()
    assert "Connecting bridge (step 1) azure-iot-hub (example-hub.azure-devices.net:8883)" in log
    assert "Error: " not in log, log
