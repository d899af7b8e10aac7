"""The local stack: servers, migrations, demo registry, services and simulators on one machine."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from vigil.cli.processes import ServiceProcess
from vigil.cli.servers import Mosquitto, Postgres, Redis, Server, free_port

# Preferred local ports: off the well-known ones so a system broker or database keeps its own.
PREFERRED = {"mqtt": 18830, "postgres": 15432, "redis": 16379, "ingest": 18081,
             "rules": 18082, "notifier": 18083, "cache": 18084, "pager": 18085}
# Services started when their package is installed; (module, health-port key).
SERVICES = [("ingest", "vigil.ingest"), ("rules", "vigil.rules"),
            ("notifier", "vigil.notifier"), ("cache", "vigil.cache")]


def state_dir() -> Path:
    """``$VIGIL_STATE_DIR``, else a folder the `postgres` user can reach when we are root."""
    env = os.environ.get("VIGIL_STATE_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/vigil")
    return Path.home() / ".local" / "state" / "vigil"


@dataclass
class LocalStack:
    """Everything under one state folder; ``stack.json`` remembers the ports."""

    home: Path

    @property
    def _file(self) -> Path:
        return self.home / "stack.json"

    def ports(self) -> dict[str, int]:
        """Ports in use (remembered), choosing free ones the first time."""
        saved: dict[str, int] = {}
        if self._file.exists():
            saved = json.loads(self._file.read_text()).get("ports", {})
        return {k: saved.get(k) or free_port(v) for k, v in PREFERRED.items()}

    def save(self, ports: dict[str, int]) -> None:
        """Remember ports and URLs for `vigil env` and `vigil status`."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._file.write_text(json.dumps({"ports": ports, "env": self.env(ports)}, indent=2))

    def saved_env(self) -> dict[str, str]:
        """The connection settings of the stack as last started ({} when none)."""
        if not self._file.exists():
            return {}
        env: dict[str, str] = json.loads(self._file.read_text()).get("env", {})
        return env

    @staticmethod
    def env(ports: dict[str, int]) -> dict[str, str]:
        """The configuration contract's variables pointing at this stack."""
        env = {
            "VIGIL_MQTT_URL": f"mqtt://127.0.0.1:{ports['mqtt']}",
            "VIGIL_DATABASE_URL": f"postgresql://vigil:vigil@127.0.0.1:{ports['postgres']}/vigil",
            "VIGIL_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        }
        if "notifier" in ports:  # for `vigil notifier …` (the CLI reads VIGIL_NOTIFIER_URL)
            env["VIGIL_NOTIFIER_URL"] = f"http://127.0.0.1:{ports['notifier']}"
        return env

    def servers(self, ports: dict[str, int]) -> list[Server]:
        """Broker, database and cache server."""
        return [Mosquitto(self.home / "mosquitto", ports["mqtt"]),
                Postgres(self.home / "postgres", ports["postgres"]),
                Redis(self.home / "redis", ports["redis"])]

    def services(self, ports: dict[str, int]) -> list[ServiceProcess]:
        """The Vigil services whose packages are installed."""
        out = []
        for name, module in SERVICES:
            # A service exists once its package has an entry point.
            try:
                if importlib.util.find_spec(f"{module}.__main__") is None:
                    continue
            except ModuleNotFoundError:
                continue
            env = {**self.env(ports), f"VIGIL_{name.upper()}_HTTP_PORT": str(ports[name]),
                   f"VIGIL_{name.upper()}_CLIENT_ID": f"{name}-local-0",
                   # One replica of each: plain subscriptions survive a broker restart.
                   "VIGIL_INGEST_SHARED_SUBSCRIPTION": "false"}
            if name == "notifier":
                env.update(self.notifier_env(ports))
            out.append(ServiceProcess(name, self.home / "services", module, env, ports[name]))
        return out

    @property
    def pages_file(self) -> Path:
        """Where the local pager inbox keeps the pages (`vigil pages` reads it)."""
        return self.home / "pages.jsonl"

    def pager(self, ports: dict[str, int]) -> ServiceProcess:
        """The local pager inbox the demo routing pages (vigil.cli.pager)."""
        return ServiceProcess("pager", self.home / "services", "vigil.cli.pager", {},
                              ports["pager"], args=("--port", str(ports["pager"]),
                                                    "--out", str(self.pages_file)))

    def write_notifier_files(self, ports: dict[str, int]) -> None:
        """For `vigil up`: the demo routing file (paging the pager inbox) and, once, the
        secret that signs ack links."""
        from vigil.cli.pager import routing

        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "notifier-routing.yaml").write_text(routing(ports["pager"]))
        key = self.home / "notifier-ack-secret"
        if not key.exists():
            key.write_text(secrets.token_hex(32))
            key.chmod(0o600)

    def notifier_env(self, ports: dict[str, int]) -> dict[str, str]:
        """The notifier's demo on-call settings (see :meth:`write_notifier_files`)."""
        env = {"VIGIL_NOTIFIER_ROUTING_FILE": str(self.home / "notifier-routing.yaml"),
               "VIGIL_NOTIFIER_PUBLIC_URL": f"http://127.0.0.1:{ports['notifier']}"}
        key = self.home / "notifier-ack-secret"
        if key.exists():
            env["VIGIL_NOTIFIER_ACK_SECRET"] = key.read_text().strip()
        return env

    def simulators(self, ports: dict[str, int], speed: float, backfill: str) -> ServiceProcess:
        """The simulator process (every demo device)."""
        return ServiceProcess(
            "simulators", self.home / "services", "vigil.cli.main", self.env(ports),
            args=("sim", "all", "--speed", str(speed), "--backfill", backfill,
                  "--devices", str(self.home / "demo-devices.json")))

    def all_processes(self) -> list[Server]:
        """Every process the stack may have started, in start order."""
        ports = self.ports()
        return [*self.servers(ports), self.pager(ports), *self.services(ports),
                self.simulators(ports, 1.0, "0s")]
