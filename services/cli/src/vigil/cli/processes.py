"""Vigil's own services run as local processes (the stack and the tests start them alike)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from vigil.cli.servers import Server, ServerError


class ServiceProcess(Server):
    """A Python service (``python -m vigil.<name>``) with its environment and health port."""

    def __init__(self, name: str, home: Path, module: str, env: dict[str, str],
                 http_port: int = 0, args: tuple[str, ...] = ()) -> None:
        super().__init__(name, home, http_port)
        self.module, self.env, self.args = module, env, args

    def argv(self) -> list[str]:
        """The interpreter running this environment, so the same packages are used."""
        return [sys.executable, "-m", self.module, *self.args]

    def start(self, timeout: float = 30.0) -> None:
        """Start detached; when the service has a health port, wait until it is ready."""
        if self.running():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=env,
            )
        self.pidfile.write_text(str(self.proc.pid))
        if self.port:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> dict[str, object]:
        """Poll /readyz until it answers 200."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode}; "
                                  f"see {self.logfile}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                    body: dict[str, object] = json.loads(r.read())
                    return body
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise ServerError(f"{self.name} not ready after {timeout}s ({last}); see {self.logfile}")

    def kill(self) -> None:
        """kill -9: a crash at an arbitrary instant."""
        self.stop(signal.SIGKILL, timeout=10)
