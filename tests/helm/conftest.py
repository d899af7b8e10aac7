"""A real Mosquitto running a production-style config (paths and ports made local)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker(NamedTuple):
    plain: int
    tls: int | None
    log: Path  # complete once the broker stops: it buffers stdout
    proc: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Callable[..., Broker]]:
    """Start Mosquitto on `conf`, whose paths follow the chart's mounts under /mosquitto/."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(conf: str, workdir: Path, *, acl: Path, pki: Path | None, passwd: Path | None,
              plain_port: int = 1883, tls_port: int = 8883) -> Broker:
        if not Path(MOSQUITTO).exists():
            pytest.fail("mosquitto is not installed (scripts/bootstrap.sh installs it)")
        conf = "".join(line for line in conf.splitlines(keepends=True)
                       if not line.lstrip().startswith("#"))
        plain = free_port()
        tls = free_port() if f"listener {tls_port}" in conf else None
        paths = {"/mosquitto/data/": f"{workdir}/", "/mosquitto/config/acl": str(acl),
                 f"listener {plain_port}\n": f"listener {plain} 127.0.0.1\n"}
        if passwd:
            paths["/mosquitto/auth/passwd"] = str(passwd)
        if tls and pki:
            paths |= {"/mosquitto/tls/ca.crt": str(pki / "ca.crt"),
                      "/mosquitto/tls/tls.crt": str(pki / "server.crt"),
                      "/mosquitto/tls/tls.key": str(pki / "server.key"),
                      f"listener {tls_port}\n": f"listener {tls} 127.0.0.1\n"}
        for old, new in paths.items():
            conf = conf.replace(old, new)
        assert not re.search(r"\s/mosquitto/", conf), conf  # every path made local
        if os.getuid() == 0:  # else mosquitto drops to user "mosquitto" and cannot read the keys
            conf = "user root\n" + conf
        (workdir / "mosquitto.conf").write_text(conf)
        log = workdir / "mosquitto.log"
        with log.open("w") as out:
            proc = subprocess.Popen([MOSQUITTO, "-c", str(workdir / "mosquitto.conf")],
                                    stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        deadline = time.monotonic() + 10
        for port in (p for p in (plain, tls) if p):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("mosquitto did not start:\n" + log.read_text())
                    time.sleep(0.05)
        return Broker(plain, tls, log, proc)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
