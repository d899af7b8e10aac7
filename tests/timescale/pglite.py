"""A WASM TimescaleDB (pglite) served on a free local port by ``pglite_runner.mjs``."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

HERE = Path(__file__).parent
RUNNER = HERE / "pglite_runner.mjs"
# Loading the WASM module and running initdb takes ~5 s on an idle laptop; CI machines are busier.
START_TIMEOUT_S = 90.0


class PgliteError(RuntimeError):
    """pglite could not be started; the message says why and holds the runner's output."""


@dataclass(frozen=True, slots=True)
class Pglite:
    """A running pglite server: where it listens and what it runs."""

    host: str
    port: int
    postgres: str
    timescaledb: str | None

    async def connect(self) -> asyncpg.Connection:
        """A connection as the services make one, adapted to pglite.

        pglite is a single backend shared by whoever is attached, so prepared statements of one
        client would collide with another's: the statement cache must be off. It has no TLS.
        """
        conn: asyncpg.Connection = await asyncpg.connect(
            host=self.host, port=self.port, user="postgres", database="postgres",
            ssl=False, statement_cache_size=0,
        )
        return conn


def _wait_ready(proc: subprocess.Popen[bytes], out: Path, log: Path) -> Pglite:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = out.read_text()
        if text.endswith("\n"):
            ready = json.loads(text.splitlines()[0])
            return Pglite(ready["host"], int(ready["port"]), ready["postgres"],
                          ready["timescaledb"])
        if proc.poll() is not None:
            raise PgliteError(f"pglite runner exited with {proc.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    raise PgliteError(f"pglite runner not ready after {START_TIMEOUT_S} s:\n{log.read_text()}")


@contextmanager
def serve(workdir: Path) -> Iterator[Pglite]:
    """Start a fresh, in-memory pglite with TimescaleDB; stop it on exit.

    Its output goes to ``workdir``.
    """
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        raise PgliteError("the TimescaleDB lane needs Node, and tests/timescale/setup.sh run")
    out, log = workdir / "pglite.out", workdir / "pglite.log"
    with out.open("wb") as stdout, log.open("wb") as stderr:
        # Port 0: the runner binds a free port itself and reports it, so there is no race.
        # stdin stays open: if the test process dies, the runner sees EOF and exits on its own.
        proc = subprocess.Popen(
            [node, str(RUNNER), "--port", "0"],
            cwd=HERE, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
        )
    try:
        yield _wait_ready(proc, out, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
